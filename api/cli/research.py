"""`sleuth ask` and `sleuth eval`: research runs from the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import app, open_corpus, run_store, trace_emitter
from corpus.errors import CorpusError, validation_problems


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help='The question, e.g. "What was 3M\'s FY2018 capital expenditure?"')],
    mode: Annotated[
        str, typer.Option(help="agentic (the research agent), rag (retrieve then answer) or compare (both at once).")
    ] = "agentic",
    company: Annotated[str | None, typer.Option(help="Only this company (name or ticker).")] = None,
    form: Annotated[str | None, typer.Option(help="Only this form type, e.g. 10-K.")] = None,
    year: Annotated[int | None, typer.Option(help="Only this fiscal year.")] = None,
    doc_id: Annotated[list[str] | None, typer.Option("--doc-id", help="Only these documents (repeatable).")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Most model turns (default SLEUTH_AGENT_MAX_STEPS).")] = None,
    time_budget: Annotated[
        float | None, typer.Option(help="Wall-clock budget in seconds (default SLEUTH_AGENT_TIME_BUDGET_S).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON (the trace still goes to stderr).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live trace (and no thread line).")] = False,
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread", help="Continue this thread: a follow-up that starts from the research memory of its earlier turns."
        ),
    ] = None,
) -> None:
    """Answer a question with citations, printing each step live; exit 1 when the run failed.

    The run is stored as a turn of a thread (a new one unless --thread), shown with its id on stderr; the web UI, the
    API and `sleuth chat` continue the same thread."""
    import asyncio

    from pydantic import ValidationError

    from agent.answer import Comparison
    from agent.llm import LLMError
    from agent.scope import Filters
    from agent.session import Researcher
    from api.console import result_text
    from api.local_turns import ask_in_thread
    from api.run_store import ThreadNotFound
    from api.settings import get_settings, with_overrides
    from embedded.endpoint import EMBEDDED_NOTICE, open_endpoint

    if mode not in {"agentic", "rag", "compare"}:
        typer.echo(f"error: --mode must be agentic, rag or compare, not {mode!r}", err=True)
        raise typer.Exit(2)
    if not question.strip():
        typer.echo("error: the question is empty", err=True)
        raise typer.Exit(2)
    try:
        filters = Filters(company=company, form=form, year=year, doc_ids=doc_id or None)
        overrides = {k: v for k, v in {"max_steps": max_steps, "time_budget_s": time_budget}.items() if v is not None}
        settings = with_overrides(get_settings().agent, **overrides)
    except ValidationError as exc:
        typer.echo(f"error: {validation_problems(exc.errors())}", err=True)
        raise typer.Exit(2) from exc
    emit = trace_emitter(quiet)

    async def go():
        corpus, store = run_store()
        try:
            say = None if quiet else (lambda message: typer.echo(f"sleuth: {message}", err=True))
            async with open_endpoint(get_settings().llm, data_dir=str(corpus.settings.data_dir), say=say) as endpoint:
                if endpoint.embedded:
                    typer.echo(f"note: {EMBEDDED_NOTICE}", err=True)
                researcher = Researcher(corpus, endpoint.client, settings)
                done = await ask_in_thread(
                    researcher,
                    store,
                    question,
                    mode,  # type: ignore[arg-type]
                    thread_id=thread,
                    filters=filters,
                    settings=researcher.settings,
                    emit=emit,
                )
                if not quiet:
                    typer.echo(
                        f'thread {done.thread_id} · turn {done.turn}; follow up with: sleuth ask "..." --thread {done.thread_id}',
                        err=True,
                    )
                return done.result
        finally:
            corpus.close()

    try:
        result = asyncio.run(go())
    except ThreadNotFound as exc:
        typer.echo(f"error: {exc}; `sleuth chat` lists threads with /threads", err=True)
        raise typer.Exit(2) from exc
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
    questions: Annotated[
        Path,
        typer.Argument(
            help="JSONL: FinanceBench-format questions (question, answer, evidence[{doc_name, page}]) and/or follow-up threads "
            '({"id", "thread": [{question, answer, evidence[{doc_id, page, quote}]}, ...]}).'
        ),
    ],
    modes: Annotated[
        str, typer.Option(help="Comma-separated: agentic, rag, oracle (evidence pages given), closed_book (no documents).")
    ] = "agentic,rag",
    models: Annotated[
        str | None, typer.Option(help="Comma-separated model names at the endpoint (default: SLEUTH_LLM_MODEL).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.jsonl, report.md and report.json.")] = Path("evals/out"),
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Questions running at once (keep a GPU busy).")] = 4,
    tolerance: Annotated[float, typer.Option(min=0, max=0.5, help="Relative tolerance of the numeric verifier.")] = 0.01,
    judge: Annotated[
        bool, typer.Option("--judge", help="Also grade with an LLM judge (prompt: evals/prompts/judge.md).")
    ] = False,
    judge_model: Annotated[str | None, typer.Option(help="Model for the judge (default: the endpoint's).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N lines (questions or threads).")] = None,
    memory: Annotated[
        bool,
        typer.Option(
            "--memory/--no-memory",
            help="Later turns of a thread carry the memory of the earlier turns (--no-memory: each turn alone, a baseline).",
        ),
    ] = True,
    resume: Annotated[bool, typer.Option("--resume", help="Keep finished results in OUT and run only what is missing.")] = False,
) -> None:
    """Evaluate modes and models on a question file: accuracy (per turn for follow-up threads), refusals, evidence pages,
    citations, latency, tokens."""
    import asyncio

    from tqdm import tqdm

    from agent.llm import LLMError
    from api.settings import get_settings
    from embedded.endpoint import EMBEDDED_NOTICE, open_endpoint
    from evals.dataset import DatasetError, EvalThread, load_items
    from evals.harness import MODES, THREAD_MODES, EvalConfig, read_results, run_eval
    from evals.report import write_report

    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        typer.echo(f"error: unknown mode(s) {unknown}; use {', '.join(MODES)}", err=True)
        raise typer.Exit(2)
    try:
        items = load_items(questions, limit)
    except DatasetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    single_only = [m for m in chosen if m not in THREAD_MODES]
    if single_only and (threads := sum(isinstance(i, EvalThread) for i in items)):
        typer.echo(
            f"note: {', '.join(single_only)} score single questions only; the {threads} thread(s) run in the other modes",
            err=True,
        )
    config = EvalConfig(
        modes=chosen,
        models=tuple(m.strip() for m in models.split(",")) if models else (None,),
        concurrency=concurrency,
        tolerance=tolerance,
        use_judge=judge,
        judge_model=judge_model,
        memory=memory,
    )
    results = out / "results.jsonl"

    async def go() -> None:
        corpus = open_corpus()
        try:
            async with open_endpoint(get_settings().llm, data_dir=str(corpus.settings.data_dir)) as endpoint:
                if endpoint.embedded:
                    typer.echo(f"note: {EMBEDDED_NOTICE}", err=True)
                with tqdm(desc="eval", unit="run", disable=not sys.stderr.isatty()) as bar:
                    await run_eval(
                        items,
                        config,
                        corpus=corpus,
                        llm=endpoint.client,
                        results=results,
                        resume=resume,
                        progress=lambda r: bar.update(1),
                        planned=lambda n: bar.reset(total=n),
                    )
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
