"""`sleuth ingest`, `docs`, `rm`, `outline`: the catalog and the text store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import app, open_corpus, print_tool
from corpus.errors import CorpusError, validation_problems


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively): PDF, HTML/HTM, TXT, MD.")],
    company: Annotated[str | None, typer.Option(help="Override the company name.")] = None,
    form: Annotated[
        str | None, typer.Option(help="Override the form type: 10-K, 10-Q, 8-K, earnings release, annual report, other.")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Override the fiscal year.")] = None,
    period: Annotated[str | None, typer.Option(help="Override the fiscal period: FY, Q1-Q4.")] = None,
    ticker: Annotated[str | None, typer.Option(help="Override the ticker.")] = None,
    cik: Annotated[str | None, typer.Option(help="Override the CIK.")] = None,
    doc_id: Annotated[str | None, typer.Option("--doc-id", help="Catalog id for a single file (default: its name).")] = None,
    workers: Annotated[int | None, typer.Option(help="Extraction processes (default: one per core).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Do not update the search index (BM25) afterwards.")] = False,
) -> None:
    """Ingest filings into the text store and the catalog; unchanged files are skipped; BM25 is updated."""
    from pydantic import ValidationError

    from corpus.ingest import MetadataOverride, ingest_paths

    try:
        override = MetadataOverride(
            doc_id=doc_id, company=company, form_type=form, fiscal_year=year, fiscal_period=period, ticker=ticker, cik=cik
        )
    except ValidationError as exc:
        typer.echo(f"error: {validation_problems(exc.errors())}", err=True)
        raise typer.Exit(2) from exc
    corpus = open_corpus()
    try:
        report = ingest_paths(corpus, paths, override, workers=workers, progress=not quiet and sys.stderr.isatty())
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        corpus.close()
    for result in report.results:
        if result.status in {"failed", "skipped"}:
            typer.echo(f"{result.status}: {result.path}: {result.reason}", err=True)
        elif result.reason:
            typer.echo(f"note: {result.path}: {result.reason}", err=True)
    if report.interrupted:
        typer.echo(f"interrupted: {report.summary()}; finished documents are kept, run the same command to continue", err=True)
        raise typer.Exit(130)
    typer.echo(report.summary())
    if any(r.status in {"added", "updated"} for r in report.results) and not no_index:
        from api.cli.search import sync_index_command

        if not quiet:
            typer.echo(
                "index: updating chunks and BM25 for the changed filings (the whole FinanceBench set: about 1.5 min)...", err=True
            )
        sync_index_command(embed=False, quiet=quiet)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def docs(
    company: Annotated[str | None, typer.Option(help="Company name, ticker or doc_id contains this (case-insensitive).")] = None,
    form: Annotated[str | None, typer.Option(help="Form type, e.g. 10-K.")] = None,
    year: Annotated[int | None, typer.Option(help="Fiscal year.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List the catalog, newest period first."""
    corpus = open_corpus()
    try:
        rows = corpus.list(company=company, form=form, year=year)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        corpus.close()
    if as_json:
        for d in rows:
            record = {
                "doc_id": d.id,
                "company": d.company,
                "ticker": d.ticker,
                "cik": d.cik,
                "form_type": d.form_type,
                "fiscal_year": d.fiscal_year,
                "fiscal_period": d.fiscal_period,
                "period_end_date": d.period_end_date.isoformat() if d.period_end_date else None,
                "filing_date": d.filing_date.isoformat() if d.filing_date else None,
                "pages": d.page_count,
                "tokens": d.token_estimate,
                "file_name": d.file_name,
            }
            typer.echo(json.dumps(record))
        return
    if not rows:
        typer.echo(
            "no documents match; ingest filings with `sleuth ingest PATH`"
            if not (company or form or year)
            else "no documents match these filters"
        )
        return
    header = ("DOC_ID", "COMPANY", "FORM", "PERIOD", "PAGES", "TOKENS")
    table = [header] + [
        (d.id, (d.company or "?")[:32], d.form_type or "?", _period(d), str(d.page_count), f"{d.token_estimate:,}") for d in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    typer.echo(f"{len(rows)} documents")
    line = _dense_line()
    if line:
        typer.echo(line)


def _dense_line() -> str | None:
    """'dense: 64 of 181 filings, ~6 min left' for the local index (None for Milvus or before the first index)."""
    from corpus.settings import CorpusSettings
    from retrieval.background import coverage
    from retrieval.searcher import index_dir
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings()
    if settings.index_url:
        return None
    found = coverage(index_dir(CorpusSettings(), settings), enabled=settings.embedding_background)
    return found.line() if found else None


def _period(doc) -> str:
    if doc.fiscal_year is None:
        return doc.period_end_date.isoformat() if doc.period_end_date else "?"
    return f"FY{doc.fiscal_year}" + (f" {doc.fiscal_period}" if doc.fiscal_period and doc.fiscal_period != "FY" else "")


@app.command()
def rm(doc_ids: Annotated[list[str], typer.Argument(help="doc_ids to remove (see `sleuth docs`).")]) -> None:
    """Remove documents from the catalog and the text store."""
    corpus = open_corpus()
    failed = False
    try:
        for doc_id in doc_ids:
            try:
                corpus.remove(doc_id)
                typer.echo(f"removed {doc_id}")
            except CorpusError as exc:
                typer.echo(f"error: {exc}", err=True)
                failed = True
    finally:
        corpus.close()
    from api.cli.search import sync_index_command

    sync_index_command(embed=False, quiet=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def outline(doc_id: Annotated[str, typer.Argument(help="Document id (see `sleuth docs`).")]) -> None:
    """Print a document's section tree with pages, lines and token sizes (what the agent's outline tool shows)."""
    print_tool("outline", {"doc_id": doc_id})
