"""`sleuth tool NAME 'JSON'`: one of the agent's tool calls, exactly as the model makes it and sees its result."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import app, open_corpus

LOG_ENV = "SLEUTH_TOOL_LOG"


@app.command()
def tool(
    name: Annotated[str | None, typer.Argument(help="Tool name (see --list).")] = None,
    arguments: Annotated[str, typer.Argument(help="The call's arguments as one JSON object, as the model writes them.")] = "{}",
    list_: Annotated[
        bool, typer.Option("--list", help="Print every tool's JSON schema (what the model is offered) and exit.")
    ] = False,
    log: Annotated[
        Path | None,
        typer.Option("--log", envvar=LOG_ENV, help="Append one JSON line per call (name, arguments, seconds, ok, chars)."),
    ] = None,
) -> None:
    """Run one agent tool call and print exactly what the model would see; errors print as the model sees them, exit 1."""
    from tools import REGISTRY

    if list_:
        typer.echo(json.dumps(REGISTRY.schemas(), indent=2))
        return
    if not name:
        typer.echo(f"error: name a tool ({', '.join(REGISTRY.names())}) or use --list", err=True)
        raise typer.Exit(2)
    call = _run(name, arguments)
    if log is not None:
        _append(log, call)
    typer.echo(call.text)
    if not call.ok:
        raise typer.Exit(1)


def _run(name: str, arguments: str) -> Any:
    """The registry's own call path (validation, teaching errors, output cap); the search index opens only for search."""
    from tools import REGISTRY, ToolContext

    corpus = open_corpus()
    try:
        return REGISTRY.call(name, arguments, ToolContext(corpus))
    finally:
        corpus.close()


def _append(path: Path, call: Any) -> None:
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "pid": os.getpid(),
        "name": call.name,
        "arguments": call.arguments,
        "seconds": round(call.seconds, 4),
        "ok": call.ok,
        "chars": len(call.text),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
