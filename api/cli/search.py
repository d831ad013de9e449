"""`sleuth index` and `sleuth search`: the search index."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer

from api.cli.common import app, open_corpus
from corpus.errors import CorpusError, validation_problems


@app.command()
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-chunk and re-index every document.")] = False,
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Only chunks and BM25; embed later.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Build or update the search index: chunks and BM25 first, then embeddings (resumable; Ctrl-C keeps what is done)."""
    sync_index_command(embed=not no_embed, quiet=quiet, rebuild=rebuild)


def sync_index_command(*, embed: bool, quiet: bool, rebuild: bool = False) -> None:
    from api.settings import get_settings
    from retrieval.embed import Embedder
    from retrieval.searcher import sync_index

    settings = get_settings().retrieval
    corpus = open_corpus()
    embedder = Embedder.from_settings(settings)
    try:
        idx, report = sync_index(corpus, settings, rebuild=rebuild, embedder=embedder)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        corpus.close()
    if report.changed or not quiet:
        typer.echo(
            f"index: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed; "
            f"{report.chunks:,} chunks, BM25 ready ({report.seconds:.1f} s)"
        )
    pending = idx.pending()
    if not embed:
        if pending and not quiet:
            typer.echo(
                f"index: {len(pending)} documents wait for embeddings: `sleuth serve` embeds them in the background, "
                "or run `sleuth index` (BM25 and grep work meanwhile)"
            )
        return
    if not pending:
        return
    total = sum(idx.doc(d).chunks for d in pending)
    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, unit="chunk", desc="embed", dynamic_ncols=True)
    started = time.perf_counter()

    def on_doc(doc_id: str, n: int, of: int) -> None:
        if bar is not None:
            bar.update(idx.doc(doc_id).chunks)
            bar.set_postfix_str(f"{n}/{of} docs")

    try:
        done = idx.embed(embedder.encode, embedder.dim, on_doc=on_doc)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: {len(idx.pending())} documents still to embed; run `sleuth index` to continue", err=True)
        raise typer.Exit(130) from None
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    rate = f" ({done / seconds:,.1f} chunks/s)" if done and seconds else ""
    typer.echo(f"index: embedded {len(pending)} documents, {done:,} new chunk vectors in {seconds:.1f} s{rate}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='What to look for, e.g. "3M FY2018 capital expenditure".')],
    k: Annotated[int, typer.Option("-k", help="Passages to show.")] = 5,
    company: Annotated[str | None, typer.Option(help="Only this company (name, ticker or doc_id prefix).")] = None,
    form: Annotated[str | None, typer.Option(help="Only this form type.")] = None,
    year: Annotated[int | None, typer.Option(help="Only this fiscal year.")] = None,
    doc_id: Annotated[list[str] | None, typer.Option("--doc-id", help="Only these documents (repeatable).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
    no_infer: Annotated[bool, typer.Option("--no-infer", help="Ignore companies/years named in the query.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Hybrid search (BM25 + embeddings, RRF, filters from the question) printing passages with citations."""
    from dataclasses import asdict

    from pydantic import ValidationError

    from retrieval.filters import Filters
    from retrieval.searcher import HybridSearcher

    retrievers = {"hybrid": ("bm25", "dense"), "bm25": ("bm25",), "dense": ("dense",)}.get(mode)
    if retrievers is None:
        typer.echo("error: --mode must be hybrid, bm25 or dense", err=True)
        raise typer.Exit(2)
    try:
        filters = Filters(company=company, form=form, year=year, doc_ids=doc_id or None)
    except ValidationError as exc:
        typer.echo(f"error: {validation_problems(exc.errors())}", err=True)
        raise typer.Exit(2) from exc
    try:
        searcher = HybridSearcher.open(lazy=True)  # one search: read only the files it touches
        result = searcher.search(query, k, filters, infer_filters=not no_infer, retrievers=retrievers)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "query": query,
                    "intent": result.intent.describe(),
                    "timings_ms": result.timings_ms,
                    "notes": result.notes,
                    "passages": [asdict(p) for p in result.passages],
                },
                indent=2,
            )
        )
        return
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for rank, p in enumerate(result.passages, 1):
        typer.echo(f"[{rank}] {p.doc_id} p.{p.pages} (lines {p.start_line}-{p.end_line}) {p.section_path}  score {p.score:.4f}")
        body = " ".join(p.text.split())
        typer.echo(f"    {body[:400]}{'...' if len(body) > 400 else ''}")
    if not result.passages:
        typer.echo("no passages found; try other words, fewer filters, or `sleuth docs` to see what is indexed")
    typer.echo(f"({result.timings_ms['total']:.0f} ms; intent {result.intent.describe()})", err=True)
