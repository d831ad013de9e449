"""`sleuth fetch`: filings straight from SEC EDGAR by ticker or CIK, form and year, then ingested and indexed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.common import app, open_corpus


@app.command()
def fetch(
    company: Annotated[str, typer.Argument(help="Ticker (AMZN) or CIK (1018724).")],
    forms: Annotated[
        str, typer.Option(help="Forms, comma-separated: 10-K, 10-Q, 8-K (8-K earnings releases bring their EX-99.1).")
    ] = "10-K,10-Q",
    years: Annotated[
        str | None, typer.Option(help="Years of the period of report: 2023 or 2021-2024 (default: the last three).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Do not update the search index (BM25) afterwards.")] = False,
) -> None:
    """Download filings from EDGAR (SLEUTH_EDGAR_USER_AGENT names you to the SEC) and ingest them; resumable, skips what is in the catalog."""
    from api.settings import get_settings
    from corpus.edgar import EdgarError, EdgarSetupError, fetch_filings, parse_forms, parse_years
    from corpus.edgar.client import check_user_agent

    settings = get_settings().edgar
    try:
        check_user_agent(settings.user_agent)
        wanted, span = parse_forms(forms), parse_years(years)
    except EdgarSetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    def say(kind: str, data: dict[str, Any]) -> None:
        if quiet:
            return
        if kind == "company":
            typer.echo(f"{data['name']} (CIK {data['cik']}{', ' + data['ticker'] if data['ticker'] else ''})", err=True)
        elif kind == "plan":
            typer.echo(
                f"{data['selected']} filings on EDGAR, {data['skipped']} already in the catalog, {data['todo']} to fetch",
                err=True,
            )
            for note in data["notes"]:
                typer.echo(f"note: {note}", err=True)
        elif kind == "ingest_progress":
            what = data["doc_id"] or data["file"]
            extra = f": {data['reason']}" if data["reason"] else (f" ({data['pages']} pages)" if data["pages"] else "")
            typer.echo(f"[{data['done']}/{data['total']}] {data['status']} {what}{extra}", err=True)

    corpus = open_corpus()
    try:
        report = fetch_filings(corpus, company, wanted, span, settings, on_event=say)
    except EdgarError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        typer.echo("interrupted: finished filings are kept; run the same command to continue", err=True)
        raise typer.Exit(130) from None
    finally:
        corpus.close()
    if report.error:
        typer.echo(f"error: {report.error}", err=True)
    typer.echo(report.summary())
    if report.changed and not no_index:
        from api.cli.search import sync_index_command

        sync_index_command(embed=False, quiet=quiet)
    raise typer.Exit(0 if report.ok else 1)
