"""`sleuth read` and `sleuth redline`: a filing's text, and what changed in a section between two filings, as the agent's tools show them."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import app, print_tool


@app.command()
def read(
    doc_id: Annotated[str, typer.Argument(help="Document id (see `sleuth docs`).")],
    pages: Annotated[str | None, typer.Option("--pages", "-p", help="1-based page or range: '58' or '58-60'.")] = None,
    section: Annotated[
        str | None,
        typer.Option("--section", "-s", help="Section key or title from `sleuth outline`: 'Item 7', 'Note 12', 'Cash Flows'."),
    ] = None,
    lines: Annotated[str | None, typer.Option("--lines", "-l", help="1-based line range: '6121-6890'.")] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Token budget of the call (default: the tool's).")
    ] = None,
) -> None:
    """Print what the agent's read tool shows the model: page markers, numbered lines, truncation note, cross-references."""
    given = {"pages": pages, "section": section, "lines": lines}
    chosen = [f"--{name}" for name, value in given.items() if value is not None]
    if len(chosen) > 1:
        typer.echo(f"error: give only one of --pages, --section, --lines (got {' and '.join(chosen)})", err=True)
        raise typer.Exit(2)
    arguments: dict[str, object] = {"doc_id": doc_id, **{k: v for k, v in given.items() if v is not None}}
    if max_tokens is not None:
        arguments["max_tokens"] = max_tokens
    print_tool("read", arguments)


@app.command()
def redline(
    doc_a: Annotated[str, typer.Argument(help="The earlier filing's doc_id, e.g. PEPSICO_2021_10K.")],
    doc_b: Annotated[str, typer.Argument(help="The later filing's doc_id, e.g. PEPSICO_2022_10K.")],
    section: Annotated[
        str, typer.Option("--section", "-s", help="Section key or title in both: 'Item 1A', 'Risk Factors', 'Note 2', 'Leases'.")
    ],
    show: Annotated[str, typer.Option(help="Only this kind of change: all, added, removed, changed.")] = "all",
    offset: Annotated[int, typer.Option(help="Skip this many changes (page through a long redline).")] = 0,
    limit: Annotated[int | None, typer.Option(help="Most changes listed (default: the tool's, 20; at most 50).")] = None,
) -> None:
    """Print what the agent's compare_sections tool shows the model: paragraphs added, removed and changed, with pages."""
    arguments: dict[str, object] = {"doc_a": doc_a, "doc_b": doc_b, "section": section, "show": show, "offset": offset}
    if limit is not None:
        arguments["limit"] = limit
    print_tool("compare_sections", arguments)
