"""What every `sleuth` command shares: the Typer app, opening the corpus and the run store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from api.settings import get_settings
from corpus.catalog import Corpus
from corpus.errors import CorpusError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from agent.events import Event
    from api.run_store import RunStore

app = typer.Typer(help="Sleuth: agentic research over long SEC filings, with page-level citations.", no_args_is_help=True)


@app.callback()
def _fresh_settings() -> None:
    """Each command reads the settings as the environment and .env say when it starts (one process may run several, as tests do)."""
    get_settings.cache_clear()


def open_corpus() -> Corpus:
    try:
        return Corpus.open(get_settings().corpus)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def run_store() -> tuple[Corpus, RunStore]:
    from api.models import migrate
    from api.run_store import RunStore

    corpus = open_corpus()
    try:
        migrate(corpus.engine)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return corpus, RunStore(corpus.sessions)


def print_tool(name: str, arguments: dict[str, Any]) -> None:
    """Run one of the agent's tools and print exactly what the model would see; a tool error exits 1 on stderr."""
    from tools import REGISTRY, ToolContext

    corpus = open_corpus()
    try:
        call = REGISTRY.call(name, arguments, ToolContext(corpus))
    finally:
        corpus.close()
    if not call.ok:
        typer.echo(call.text.removeprefix("Error: "), err=True)
        raise typer.Exit(1)
    typer.echo(call.text)


def trace_emitter(quiet: bool) -> Callable[[Event], Awaitable[None]]:
    """The `emit` of a command that prints a run's live trace on stderr (nothing with --quiet)."""
    from api.console import TracePrinter

    printer = TracePrinter(lambda line: typer.echo(line, err=True))

    async def emit(event: Event) -> None:
        if not quiet:
            printer(event)

    return emit
