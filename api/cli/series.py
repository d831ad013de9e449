"""`sleuth series COMPANY ITEM [--period P] [--csv FILE | --xlsx FILE]`: a line item through time, every point cited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import app, open_corpus


@app.command("series")
def series_command(
    company: Annotated[str, typer.Argument(help="Company name, former name, ticker or CIK, e.g. 3M, ADBE.")],
    item: Annotated[str, typer.Argument(help="The line item in plain words, e.g. 'capital expenditure', 'total revenue'.")],
    period: Annotated[str | None, typer.Option(help="FY2018, 'Q2 2025', a range FY2014-FY2022, or all (default).")] = None,
    basis: Annotated[str, typer.Option(help="Restated periods: latest (default) or first (as first reported).")] = "latest",
    statement: Annotated[
        str | None, typer.Option(help="Only this statement: 'Cash Flows', 'Balance Sheet', 'Income Statement'.")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the points with their sources to this CSV file.")
    ] = None,
    xlsx_file: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the points with their sources to this XLSX file.")
    ] = None,
) -> None:
    """A company's line item across all its filings: one value per fiscal period, its page, restatements marked."""
    from api.series_export import csv_lines, write_xlsx
    from tools.company_series import SeriesError
    from tools.series_table import lookup

    corpus = open_corpus()
    try:
        table = lookup(corpus, company, item, period, basis, statement)
    except SeriesError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        corpus.close()
    typer.echo(table.render())
    try:
        if csv_file is not None:
            with csv_file.open("w", encoding="utf-8", newline="") as out:
                out.writelines(csv_lines(table))
            typer.echo(f"wrote {len(table.points)} rows to {csv_file}")
        if xlsx_file is not None:
            write_xlsx(table, xlsx_file)
            typer.echo(f"wrote {len(table.points)} rows to {xlsx_file}")
    except OSError as exc:
        typer.echo(f"error: cannot write the export: {exc}", err=True)
        raise typer.Exit(2) from None
