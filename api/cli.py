"""The `sleuth` command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from corpus.catalog import Corpus
from corpus.errors import CorpusError
from corpus.settings import CorpusSettings

if TYPE_CHECKING:
    from api.store import RunStore

app = typer.Typer(help="Sleuth: agentic research over long SEC filings, with page-level citations.", no_args_is_help=True)


def _open_corpus() -> Corpus:
    try:
        return Corpus.open(CorpusSettings())
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively): PDF, HTML/HTM, TXT, MD.")],
    company: Annotated[str | None, typer.Option(help="Override the company name.")] = None,
    form: Annotated[str | None, typer.Option(help="Override the form type: 10-K, 10-Q, 8-K, earnings release, annual report, other.")] = None,
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
        typer.echo(f"error: {'; '.join(e['msg'] for e in exc.errors())}", err=True)
        raise typer.Exit(2) from exc
    corpus = _open_corpus()
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
        _sync_index(embed=False, quiet=quiet)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def docs(
    company: Annotated[str | None, typer.Option(help="Company name, ticker or doc_id contains this (case-insensitive).")] = None,
    form: Annotated[str | None, typer.Option(help="Form type, e.g. 10-K.")] = None,
    year: Annotated[int | None, typer.Option(help="Fiscal year.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List the catalog, newest period first."""
    corpus = _open_corpus()
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
                "doc_id": d.id, "company": d.company, "ticker": d.ticker, "cik": d.cik, "form_type": d.form_type,
                "fiscal_year": d.fiscal_year, "fiscal_period": d.fiscal_period,
                "period_end_date": d.period_end_date.isoformat() if d.period_end_date else None,
                "filing_date": d.filing_date.isoformat() if d.filing_date else None,
                "pages": d.page_count, "tokens": d.token_estimate, "file_name": d.file_name,
            }  # fmt: skip
            typer.echo(json.dumps(record))
        return
    if not rows:
        typer.echo("no documents match; ingest filings with `sleuth ingest PATH`" if not (company or form or year) else "no documents match these filters")
        return
    header = ("DOC_ID", "COMPANY", "FORM", "PERIOD", "PAGES", "TOKENS")
    table = [header] + [
        (d.id, (d.company or "?")[:32], d.form_type or "?", _period(d), str(d.page_count), f"{d.token_estimate:,}") for d in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    typer.echo(f"{len(rows)} documents")


def _period(doc) -> str:
    if doc.fiscal_year is None:
        return doc.period_end_date.isoformat() if doc.period_end_date else "?"
    return f"FY{doc.fiscal_year}" + (f" {doc.fiscal_period}" if doc.fiscal_period and doc.fiscal_period != "FY" else "")


@app.command()
def rm(doc_ids: Annotated[list[str], typer.Argument(help="doc_ids to remove (see `sleuth docs`).")]) -> None:
    """Remove documents from the catalog and the text store."""
    corpus = _open_corpus()
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
    _sync_index(embed=False, quiet=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def outline(doc_id: Annotated[str, typer.Argument(help="Document id (see `sleuth docs`).")]) -> None:
    """Print a document's section tree with pages, lines and token sizes (what the agent's outline tool shows)."""
    from tools import REGISTRY, ToolContext

    corpus = _open_corpus()
    try:
        call = REGISTRY.call("outline", {"doc_id": doc_id}, ToolContext(corpus))
    finally:
        corpus.close()
    if not call.ok:
        typer.echo(call.text.removeprefix("Error: "), err=True)
        raise typer.Exit(1)
    typer.echo(call.text)


@app.command()
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-chunk and re-index every document.")] = False,
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Only chunks and BM25; embed later.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Build or update the search index: chunks and BM25 first, then embeddings (resumable; Ctrl-C keeps what is done)."""
    _sync_index(embed=not no_embed, quiet=quiet, rebuild=rebuild)


def _sync_index(*, embed: bool, quiet: bool, rebuild: bool = False) -> None:
    from retrieval.embed import Embedder
    from retrieval.searcher import sync_index
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings()
    corpus = _open_corpus()
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
            typer.echo(f"index: {len(pending)} documents wait for embeddings; run `sleuth index` (BM25 and grep work meanwhile)")
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
    query: Annotated[str, typer.Argument(help="What to look for, e.g. \"3M FY2018 capital expenditure\".")],
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

    from retrieval.searcher import HybridSearcher, SearchFilters

    retrievers = {"hybrid": ("bm25", "dense"), "bm25": ("bm25",), "dense": ("dense",)}.get(mode)
    if retrievers is None:
        typer.echo("error: --mode must be hybrid, bm25 or dense", err=True)
        raise typer.Exit(2)
    try:
        searcher = HybridSearcher.open()
        result = searcher.search(
            query, k, SearchFilters(company, form, year, doc_id or None), infer_filters=not no_infer, retrievers=retrievers
        )
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps({"query": query, "intent": result.intent.describe(), "timings_ms": result.timings_ms,
                               "notes": result.notes, "passages": [asdict(p) for p in result.passages]}, indent=2))  # fmt: skip
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


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, e.g. \"What was 3M's FY2018 capital expenditure?\"")],
    mode: Annotated[str, typer.Option(help="agentic (the research agent), rag (retrieve then answer) or compare (both at once).")] = "agentic",
    company: Annotated[str | None, typer.Option(help="Only this company (name or ticker).")] = None,
    form: Annotated[str | None, typer.Option(help="Only this form type, e.g. 10-K.")] = None,
    year: Annotated[int | None, typer.Option(help="Only this fiscal year.")] = None,
    doc_id: Annotated[list[str] | None, typer.Option("--doc-id", help="Only these documents (repeatable).")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Most model turns (default SLEUTH_AGENT_MAX_STEPS).")] = None,
    time_budget: Annotated[float | None, typer.Option(help="Wall-clock budget in seconds (default SLEUTH_AGENT_TIME_BUDGET_S).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON (the trace still goes to stderr).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live trace.")] = False,
) -> None:
    """Answer a question with citations, printing each step live; exit 1 when the run failed."""
    import asyncio

    from pydantic import ValidationError

    from agent.answer import Comparison
    from agent.events import Event
    from agent.llm import LLMError
    from agent.scope import Filters
    from agent.session import EMBEDDED_NOTICE, Researcher, open_endpoint
    from agent.settings import AgentSettings
    from api.console import TracePrinter, result_text

    if mode not in {"agentic", "rag", "compare"}:
        typer.echo(f"error: --mode must be agentic, rag or compare, not {mode!r}", err=True)
        raise typer.Exit(2)
    if not question.strip():
        typer.echo("error: the question is empty", err=True)
        raise typer.Exit(2)
    try:
        filters = Filters(company=company, form=form, year=year, doc_ids=doc_id or None)
        overrides = {k: v for k, v in {"max_steps": max_steps, "time_budget_s": time_budget}.items() if v is not None}
        settings = AgentSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from exc
    printer = TracePrinter(lambda line: typer.echo(line, err=True))

    async def emit(event: Event) -> None:
        if not quiet:
            printer(event)

    async def go():
        corpus = _open_corpus()
        try:
            async with open_endpoint(data_dir=str(corpus.settings.data_dir)) as endpoint:
                if endpoint.embedded:
                    typer.echo(f"note: {EMBEDDED_NOTICE}", err=True)
                researcher = Researcher(corpus, endpoint.client, settings)
                return await researcher.ask(question, mode, filters=filters, emit=emit)  # type: ignore[arg-type]
        finally:
            corpus.close()

    try:
        result = asyncio.run(go())
    except (CorpusError, LLMError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    typer.echo(result.model_dump_json(indent=2) if as_json else result_text(result))
    answers = [result.agentic, result.rag] if isinstance(result, Comparison) else [result]
    raise typer.Exit(1 if any(a.status == "failed" for a in answers) else 0)


@app.command("eval")
def evaluate(
    questions: Annotated[Path, typer.Argument(help="FinanceBench-format JSONL: question, answer, evidence[{doc_name, page}].")],
    modes: Annotated[str, typer.Option(help="Comma-separated: agentic, rag, oracle (evidence pages given), closed_book (no documents).")] = "agentic,rag",
    models: Annotated[str | None, typer.Option(help="Comma-separated model names at the endpoint (default: SLEUTH_LLM_MODEL).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.jsonl, report.md and report.json.")] = Path("evals/out"),
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Questions running at once (keep a GPU busy).")] = 4,
    tolerance: Annotated[float, typer.Option(min=0, max=0.5, help="Relative tolerance of the numeric verifier.")] = 0.01,
    judge: Annotated[bool, typer.Option("--judge", help="Also grade with an LLM judge (prompt: evals/prompts/judge.md).")] = False,
    judge_model: Annotated[str | None, typer.Option(help="Model for the judge (default: the endpoint's).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Keep finished results in OUT and run only what is missing.")] = False,
) -> None:
    """Evaluate modes and models on a question file: accuracy, refusals, evidence pages, citations, latency, tokens."""
    import asyncio

    from tqdm import tqdm

    from agent.llm import LLMError
    from agent.session import EMBEDDED_NOTICE, open_endpoint
    from evals.dataset import DatasetError, load_questions
    from evals.harness import MODES, EvalConfig, read_results, run_eval
    from evals.report import write_report

    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        typer.echo(f"error: unknown mode(s) {unknown}; use {', '.join(MODES)}", err=True)
        raise typer.Exit(2)
    try:
        items = load_questions(questions, limit)
    except DatasetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    config = EvalConfig(modes=chosen, models=tuple(m.strip() for m in models.split(",")) if models else (None,), concurrency=concurrency,
                        tolerance=tolerance, use_judge=judge, judge_model=judge_model)  # fmt: skip
    results = out / "results.jsonl"

    async def go() -> None:
        corpus = _open_corpus()
        try:
            async with open_endpoint(data_dir=str(corpus.settings.data_dir)) as endpoint:
                if endpoint.embedded:
                    typer.echo(f"note: {EMBEDDED_NOTICE}", err=True)
                with tqdm(desc="eval", unit="run", disable=not sys.stderr.isatty()) as bar:
                    await run_eval(items, config, corpus=corpus, llm=endpoint.client, results=results, resume=resume,
                                   progress=lambda r: bar.update(1), planned=lambda n: bar.reset(total=n))  # fmt: skip
        finally:
            corpus.close()

    try:
        asyncio.run(go())
    except (CorpusError, LLMError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished results are in {results}; run again with --resume to continue", err=True)
        raise typer.Exit(130) from None
    records = read_results(results)
    md, js = write_report(records, out, f"Sleuth evaluation: {questions.name}")
    typer.echo(md.read_text())
    typer.echo(f"report: {md} and {js}; per-question results: {results}", err=True)


def _run_store() -> tuple[Corpus, RunStore]:
    from api.db import migrate
    from api.store import RunStore

    corpus = _open_corpus()
    try:
        migrate(corpus.engine)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return corpus, RunStore(corpus.sessions)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default SLEUTH_API_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SLEUTH_API_PORT, 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes (default SLEUTH_API_WORKERS, 1).")] = None,
) -> None:
    """Run the research API and the web UI; with no LLM endpoint set, the embedded model starts too."""
    import os

    import uvicorn

    from api.auth import is_loopback
    from api.settings import ApiSettings

    settings = ApiSettings()
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    corpus, store = _run_store()
    try:
        keys = store.active_key_count()
    finally:
        corpus.close()
    if not is_loopback(host) and keys == 0:
        typer.echo(f"error: refusing to serve on {host} with no API key: anyone who can reach it could use it. Create a key with "
                   "`sleuth keys create NAME` (then send 'Authorization: Bearer <key>'), or bind to 127.0.0.1.", err=True)  # fmt: skip
        raise typer.Exit(2)
    os.environ["SLEUTH_API_HOST"], os.environ["SLEUTH_API_PORT"] = host, str(port)
    typer.echo(f"Sleuth on http://{host}:{port}/ (API under /v1, docs at /docs); {'API keys required' if keys else 'open: loopback only'}", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info", access_log=settings.access_log)


keys_app = typer.Typer(help="API keys: `Authorization: Bearer <key>`; once any key exists, every request needs one.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Who or what the key is for, e.g. 'reporting-service'.")]) -> None:
    """Create a key; it is printed once (only its hash is stored)."""
    if not 1 <= len(name.strip()) <= 100:
        typer.echo("error: give the key a name of 1-100 characters", err=True)
        raise typer.Exit(2)
    corpus, store = _run_store()
    try:
        key, secret = store.create_key(name.strip())
    finally:
        corpus.close()
    typer.echo(secret)
    typer.echo(f"key {key.id} ({key.name}, {key.prefix}...) created; store it now: it cannot be shown again", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """Keys with their id, prefix and state (never the key itself)."""
    corpus, store = _run_store()
    try:
        keys = store.keys()
    finally:
        corpus.close()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        typer.echo(f"{k.id}\t{k.prefix}...\t{k.name}\t{state}\t{used}")
    if not keys:
        typer.echo("no keys: the API is open (loopback only); create one with `sleuth keys create NAME`", err=True)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or prefix (see `sleuth keys list`).")]) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    corpus, store = _run_store()
    try:
        revoked = store.revoke(key)
    finally:
        corpus.close()
    if revoked is None:
        typer.echo(f"error: no active key {key!r}; see `sleuth keys list`", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked key {revoked.id} ({revoked.name})")


if __name__ == "__main__":
    app()
