"""`sleuth facts DOC_ID QUERY [--period P]`: the facts tool from the command line, printing the same text."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import app, print_tool


@app.command("facts")
def facts_command(
    doc_id: Annotated[str, typer.Argument(help="The filing's doc_id (see `sleuth docs`), or a company name with --company.")],
    query: Annotated[str, typer.Argument(help="The line item, e.g. 'capital expenditure', 'total revenue', 'inventory'.")],
    period: Annotated[str | None, typer.Option(help="Fiscal period: FY2018, 2018, Q2 2025.")] = None,
    statement: Annotated[
        str | None, typer.Option(help="Only this statement or note: 'Cash Flows', 'Balance Sheet', 'Note 12'.")
    ] = None,
    company: Annotated[
        bool, typer.Option("--company", help="DOC_ID names a company: search all its filings, periods lined up.")
    ] = False,
) -> None:
    """Statement line items and XBRL facts matching QUERY, with every period's value and the page it is printed on."""
    arguments = {"query": query, "period": period, "statement": statement}
    arguments |= {"company": doc_id} if company else {"doc_id": doc_id}
    print_tool("facts", {k: v for k, v in arguments.items() if v is not None})
