"""`sleuth report`: a planned, sectioned research memo from the terminal (the plan shown for approval first)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import app, open_corpus, trace_emitter
from corpus.errors import CorpusError, validation_problems


@app.command()
def report(
    question: Annotated[str, typer.Argument(help='What the memo is about, e.g. "3M\'s capital allocation, FY2016-FY2018".')],
    company: Annotated[str | None, typer.Option(help="Only this company (name or ticker).")] = None,
    form: Annotated[str | None, typer.Option(help="Only this form type, e.g. 10-K.")] = None,
    year: Annotated[int | None, typer.Option(help="Only this fiscal year.")] = None,
    doc_id: Annotated[list[str] | None, typer.Option("--doc-id", help="Only these documents (repeatable).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Research the plan without asking for approval.")] = False,
    plan_file: Annotated[
        Path | None,
        typer.Option("--plan", help="Research this plan (JSON, as --plan-out writes it, edited) instead of a new one."),
    ] = None,
    plan_out: Annotated[
        Path | None, typer.Option(help="Write the plan as JSON to this file and stop (edit it, then pass it to --plan).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the memo as Markdown to this file.")] = None,
    time_budget: Annotated[
        float | None, typer.Option(help="Wall-clock budget in seconds (default SLEUTH_AGENT_TIME_BUDGET_S).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (the trace still goes to stderr).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live trace.")] = False,
) -> None:
    """Plan a memo, show the plan for approval (--yes skips it), research its sections in parallel and write the memo with
    checked citations; exit 1 when the report failed."""
    import asyncio

    from pydantic import ValidationError

    from agent.llm import LLMError
    from agent.report import ReportPlan
    from agent.report_plan import plan_problems
    from agent.scope import Filters, resolve
    from agent.session import Researcher
    from api.console import answer_text, plan_text
    from api.settings import get_settings, with_overrides
    from embedded.endpoint import EMBEDDED_NOTICE, open_endpoint

    if not question.strip():
        typer.echo("error: the question is empty", err=True)
        raise typer.Exit(2)
    try:
        filters = Filters(company=company, form=form, year=year, doc_ids=doc_id or None)
        settings = with_overrides(get_settings().agent, **({"time_budget_s": time_budget} if time_budget else {}))
        given = ReportPlan.model_validate_json(plan_file.read_text(encoding="utf-8")) if plan_file else None
    except ValidationError as exc:
        typer.echo(f"error: {validation_problems(exc.errors())}" + (f" (in {plan_file})" if plan_file else ""), err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.echo(f"error: cannot read the plan {plan_file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    emit = trace_emitter(quiet)

    def approved(plan: ReportPlan) -> bool:
        typer.echo(plan_text(plan), err=True)
        if plan_out is not None:
            plan_out.write_text(plan.model_dump_json(indent=2), encoding="utf-8")
            typer.echo(f"plan written to {plan_out}; edit it and run again with --plan {plan_out}", err=True)
            return False
        if yes or typer.confirm("Research this plan?", default=True, err=True):
            return True
        typer.echo("not approved: nothing was researched (--plan-out FILE writes the plan for editing)", err=True)
        return False

    async def go():
        corpus = open_corpus()
        try:
            say = None if quiet else (lambda message: typer.echo(f"sleuth: {message}", err=True))
            async with open_endpoint(get_settings().llm, data_dir=str(corpus.settings.data_dir), say=say) as endpoint:
                if endpoint.embedded:
                    typer.echo(f"note: {EMBEDDED_NOTICE}", err=True)
                researcher = Researcher(corpus, endpoint.client, settings)
                plan = given
                if plan is not None and (problems := plan_problems(plan, corpus, resolve(corpus, filters), settings)):
                    raise CorpusError(f"the plan in {plan_file} cannot be researched: " + "; ".join(problems))
                if plan is None:
                    plan = await researcher.report(question, filters=filters, emit=emit, approve=yes and plan_out is None)
                    if not isinstance(plan, ReportPlan):
                        return plan  # approved at once (--yes), or planning failed
                if not approved(plan):
                    return None
                return await researcher.report(question, filters=filters, emit=emit, plan=plan, approve=True)
        finally:
            corpus.close()

    try:
        result = asyncio.run(go())
    except (CorpusError, LLMError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    if result is None:
        raise typer.Exit(0)
    if out is not None:
        out.write_text(result.text, encoding="utf-8")
    typer.echo(result.model_dump_json(indent=2) if as_json else answer_text(result))
    raise typer.Exit(1 if result.status == "failed" else 0)


@app.command("eval-reports")
def eval_reports(
    requests: Annotated[
        Path | None,
        typer.Argument(
            help="A report set (JSONL: id, request, filters, figures[{label, value, doc_id, page}]); default: the dev set, "
            "evals/data/reports.jsonl."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.jsonl (each memo and its score) and report.md.")] = Path(
        "evals/out/reports"
    ),
    model: Annotated[str | None, typer.Option(help="A model name at the endpoint (default: SLEUTH_LLM_MODEL).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Reports running at once.")] = 1,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N requests.")] = None,
) -> None:
    """Score report mode on a report set: how many required figures each memo states and cites correctly."""
    import asyncio

    from agent.llm import LLMError
    from agent.session import Researcher
    from api.settings import get_settings
    from embedded.endpoint import open_endpoint
    from evals.dataset import DatasetError
    from evals.report_set import DEV_SET, load_requests, run_report_set, summary_table

    try:
        chosen = load_requests(requests or DEV_SET, limit)
    except DatasetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    def done(record: dict) -> None:
        typer.echo(
            f"{record['id']}: {record['status']}, {record['cited']}/{record['required']} figures cited correctly", err=True
        )

    async def go() -> list[dict]:
        corpus = open_corpus()
        try:
            async with open_endpoint(get_settings().llm, data_dir=str(corpus.settings.data_dir)) as endpoint:
                researcher = Researcher(corpus, endpoint.client, get_settings().agent)
                if model:
                    researcher = researcher.with_model(model)
                return await run_report_set(chosen, researcher, out, concurrency=concurrency, on_done=done)
        finally:
            corpus.close()

    try:
        results = asyncio.run(go())
    except (CorpusError, LLMError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    table = summary_table(results)
    (out / "report.md").write_text(table + "\n", encoding="utf-8")
    typer.echo(table)
