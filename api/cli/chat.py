"""`sleuth chat`: an interactive research thread in the terminal (plain lines in and out, so it works over SSH)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import Annotated

import typer

from api.cli.common import app, run_store
from corpus.errors import CorpusError

MODES = ("agentic", "rag", "compare")
HELP = """Type a question; each next one is a follow-up in the same thread. Commands:
  /new             start a new thread with the next question
  /threads         list recent threads
  /open ID         continue thread ID (or the number /threads shows)
  /mode MODE       agentic, rag or compare for the next questions
  /quit            leave (Ctrl-D too); Ctrl-C stops the question that is running"""


@app.command()
def chat(
    thread: Annotated[str | None, typer.Option("--thread", help="Continue this thread (default: start a new one).")] = None,
    mode: Annotated[str, typer.Option(help="agentic, rag or compare (change it with /mode).")] = "agentic",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live trace, answers only.")] = False,
) -> None:
    """Research in a thread interactively: follow-ups build on the earlier answers; the live trace as `ask` prints it."""
    from agent.llm import LLMError
    from api.settings import get_settings
    from embedded.endpoint import EMBEDDED_NOTICE, open_endpoint

    if mode not in MODES:
        typer.echo(f"error: --mode must be agentic, rag or compare, not {mode!r}", err=True)
        raise typer.Exit(2)

    async def go() -> None:
        corpus, store = run_store()
        try:
            async with open_endpoint(get_settings().llm, data_dir=str(corpus.settings.data_dir)) as endpoint:
                if endpoint.embedded:
                    typer.echo(f"note: {EMBEDDED_NOTICE}", err=True)
                await Chat(corpus, store, endpoint.client, thread, mode, quiet).loop()
        finally:
            corpus.close()

    try:
        asyncio.run(go())
    except (CorpusError, LLMError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


class Chat:
    """The loop: read a line, run it as the thread's next turn (or a command), print the trace and the answer."""

    def __init__(self, corpus, store, llm, thread_id: str | None, mode: str, quiet: bool) -> None:  # noqa: ANN001
        from agent.session import Researcher
        from api.console import TracePrinter

        self.researcher = Researcher(corpus, llm)
        self.store = store
        self.thread_id = thread_id
        self.mode = mode
        self.quiet = quiet
        self.listed: list[str] = []
        self.printer = TracePrinter(lambda line: typer.echo(line, err=True))
        self.running: asyncio.Task | None = None

    async def loop(self) -> None:
        from api.thread_store import ThreadStore

        if self.thread_id and await asyncio.to_thread(ThreadStore(self.store.sessions).get, self.thread_id) is None:
            typer.echo(f"error: thread {self.thread_id} not found; starting a new thread", err=True)
            self.thread_id = None
        typer.echo(HELP if self.thread_id is None else f"{HELP}\ncontinuing thread {self.thread_id}")
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, self._interrupt)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
        try:
            while True:
                line = await asyncio.to_thread(_read, self._prompt())
                if line is None:
                    typer.echo("")
                    return
                line = line.strip()
                if not line:
                    continue
                if line.startswith("/"):
                    if not await self.command(line):
                        return
                    continue
                await self.ask(line)
        finally:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def _prompt(self) -> str:
        where = f"thread {self.thread_id[:8]}" if self.thread_id else "new thread"
        return f"sleuth [{where} · {self.mode}]> "

    def _on_turn(self, thread_id: str, turn: int) -> None:
        self.thread_id = thread_id

    def _interrupt(self) -> None:
        if self.running is not None and not self.running.done():
            self.running.cancel()
        else:
            typer.echo("\n(/quit or Ctrl-D leaves)", err=True)

    async def ask(self, question: str) -> None:
        from agent.events import Event
        from api.console import result_text
        from api.local_turns import ask_in_thread
        from api.run_store import ThreadNotFound

        async def emit(event: Event) -> None:
            if not self.quiet:
                self.printer(event)

        self.printer.started = time.monotonic()  # trace times count from this question
        self.running = asyncio.create_task(
            ask_in_thread(
                self.researcher,
                self.store,
                question,
                self.mode,  # type: ignore[arg-type]
                thread_id=self.thread_id,
                emit=emit,
                on_turn=self._on_turn,
            )
        )
        try:
            done = await self.running
        except asyncio.CancelledError:
            typer.echo("stopped; the turn is kept as cancelled", err=True)
            return
        except ThreadNotFound as exc:
            typer.echo(f"error: {exc} (deleted meanwhile?); /new starts another", err=True)
            return
        finally:
            self.running = None
        self.thread_id = done.thread_id
        typer.echo(result_text(done.result))
        typer.echo(f"(thread {done.thread_id} · turn {done.turn})")

    async def command(self, line: str) -> bool:
        """Run a /command; False when the chat should end."""
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        if name in {"/quit", "/exit", "/q"}:
            return False
        if name == "/new":
            self.thread_id = None
            typer.echo("the next question starts a new thread")
        elif name == "/threads":
            await self.list_threads()
        elif name == "/open" and arg:
            await self.open(arg)
        elif name == "/mode" and arg in MODES:
            self.mode = arg
            typer.echo(f"mode: {arg}")
        elif name == "/help":
            typer.echo(HELP)
        else:
            typer.echo(f"unknown command {line[:40]!r}\n{HELP}")
        return True

    async def list_threads(self) -> None:
        from api.local_turns import recent_threads

        rows = await asyncio.to_thread(recent_threads, self.store)
        if not rows:
            typer.echo("no threads yet")
        self.listed = [thread.id for thread, _, _ in rows]
        for n, (thread, turns, status) in enumerate(rows, 1):
            mark = "*" if thread.id == self.thread_id else " "
            typer.echo(
                f"{mark}{n:>2}. {thread.id}  {turns} turn{'s' if turns != 1 else ''}, {status or '-':<9} {thread.title[:70]}"
            )

    async def open(self, arg: str) -> None:
        from api.thread_store import ThreadStore

        thread_id = self.listed[int(arg) - 1] if arg.isdigit() and 0 < int(arg) <= len(self.listed) else arg
        if await asyncio.to_thread(ThreadStore(self.store.sessions).get, thread_id) is None:
            typer.echo(f"thread {thread_id} not found; /threads lists them")
            return
        self.thread_id = thread_id
        typer.echo(f"continuing thread {thread_id}")


def _read(prompt: str) -> str | None:
    """One line from the user (None at end of input); readline editing where stdin is a terminal."""
    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
    try:
        return input(prompt)
    except EOFError:
        return None
