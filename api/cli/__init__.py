"""The `sleuth` command line: one module per group of commands, all on one Typer app."""

from api.cli import (  # noqa: F401  (registers the commands)
    chat,
    documents,
    facts,
    fetch,
    mcp,
    reading,
    reference,
    research,
    search,
    series,
    server,
    tool,
)
from api.cli.common import app

__all__ = ["app"]
