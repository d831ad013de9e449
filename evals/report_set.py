"""The report development set (evals/data/reports.jsonl): memo requests with the figures a good memo must state, each as
printed on a filing's page; a memo's score is how many it states and cites correctly (the cited page holds the figure)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agent.answer import Answer
from agent.citations import TextOf, figures
from agent.corpus_access import text_of
from agent.memo import MARKER
from agent.scope import Filters
from agent.session import Researcher
from corpus.errors import validation_problems
from evals.dataset import DatasetError

DEV_SET = Path(__file__).parent / "data" / "reports.jsonl"
_SOURCES = re.compile(r"^## Sources\s*$", re.M)


class RequiredFigure(BaseModel):
    """A figure a good memo states: what it is, its value as printed, and a page that prints it."""

    label: str
    value: str
    doc_id: str
    page: int = Field(ge=1)


class ReportRequest(BaseModel):
    id: str
    request: str = Field(max_length=4000)
    filters: Filters | None = None
    figures: list[RequiredFigure] = Field(min_length=1)


def load_requests(path: Path = DEV_SET, limit: int | None = None) -> list[ReportRequest]:
    """The requests of a report set file (one JSON object a line); DatasetError names the line that is wrong."""
    if not path.is_file():
        raise DatasetError(f"no report set at {path}")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(ReportRequest.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            why = validation_problems(exc.errors()) if isinstance(exc, ValidationError) else str(exc)
            raise DatasetError(f"{path}:{number}: not a report request ({why}); see docs/evaluation.md") from exc
    if len({r.id for r in out}) != len(out):
        raise DatasetError(f"{path}: request ids repeat")
    return out[:limit] if limit else out


def _value(text: str) -> str:
    return figures(text)[0] if figures(text) else text.replace(",", "")


def cited_figures(answer: Answer) -> list[tuple[str, list[int]]]:
    """(figure, the [n] markers that follow it) for each figure of the memo's body, line by line; a figure after a line's
    last marker has none."""
    body = _SOURCES.split(answer.text)[0]
    out: list[tuple[str, list[int]]] = []
    for line in body.split("\n"):
        start = 0
        for m in MARKER.finditer(line):
            numbers = [int(n) for n in m.group(1).split(",")]
            out += [(f, numbers) for f in figures(line[start : m.start()], telling=True)]
            start = m.end()
        out += [(f, []) for f in figures(MARKER.sub("", line[start:]), telling=True)]
    return out


def score_report(answer: Answer, request: ReportRequest, text_of: TextOf) -> dict[str, Any]:
    """How many required figures the memo states, and how many it cites correctly: a marker after the figure names a
    citation whose page prints it (any such page, not only the set's)."""
    stated = cited_figures(answer)
    page_figures: dict[tuple[str, int], set[str]] = {}

    def on_page(doc_id: str, page: int) -> set[str]:
        if (doc_id, page) not in page_figures:
            text = text_of(doc_id)
            ok = text is not None and 1 <= page <= text.page_count
            page_figures[(doc_id, page)] = set(figures(text.page_text(page))) if ok else set()
        return page_figures[(doc_id, page)]

    rows = []
    for fig in request.figures:
        want = _value(fig.value)
        markers = [numbers for value, numbers in stated if value == want]
        cites = [answer.citations[n - 1] for numbers in markers for n in numbers if 1 <= n <= len(answer.citations)]
        correct = any(want in on_page(c.doc_id, c.page) for c in cites)
        rows.append({"label": fig.label, "value": fig.value, "stated": bool(markers), "cited": correct})
    n = len(rows)
    return {
        "id": request.id,
        "status": answer.status,
        "required": n,
        "stated": sum(r["stated"] for r in rows),
        "cited": sum(r["cited"] for r in rows),
        "score": round(sum(r["cited"] for r in rows) / n, 4),
        "figures": rows,
        "sections": len(answer.report.sections) if answer.report else 0,
        "failed_sections": sum(s.status == "failed" for s in answer.report.sections) if answer.report else 0,
        "latency_s": answer.metrics.latency_s,
        "llm_calls": answer.metrics.llm_calls,
        "tool_calls": answer.metrics.tool_calls,
    }


async def run_report_set(
    requests: list[ReportRequest],
    researcher: Researcher,
    out: Path,
    *,
    concurrency: int = 1,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Each request as an approved report run (the plan is not shown), scored; results.jsonl (with each memo) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    slots = asyncio.Semaphore(concurrency)
    results: list[dict[str, Any]] = []

    async def one(request: ReportRequest) -> None:
        async with slots:
            started = time.monotonic()
            try:
                answer = await researcher.report(request.request, filters=request.filters, approve=True)
            except Exception as exc:  # noqa: BLE001 - one broken request is recorded, the set goes on
                answer = Answer(mode="report", question=request.request, text=f"The run failed: {exc}", status="failed")
            answer.metrics.latency_s = answer.metrics.latency_s or round(time.monotonic() - started, 3)
            record = await asyncio.to_thread(score_report, answer, request, lambda d: text_of(researcher.tools, d))
            record |= {"model": researcher.llm.settings.model, "memo": answer.text}
            results.append(record)
            with (out / "results.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            if on_done:
                on_done(record)

    await asyncio.gather(*(one(r) for r in requests))
    return sorted(results, key=lambda r: [q.id for q in requests].index(r["id"]))


def summary_table(results: list[dict[str, Any]]) -> str:
    """The scores as a Markdown table, with the totals."""
    rows = ["| request | status | stated | cited correctly | score | sections failed | s |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(
            f"| {r['id']} | {r['status']} | {r['stated']}/{r['required']} | {r['cited']}/{r['required']} | {r['score']:.2f} "
            f"| {r['failed_sections']}/{r['sections']} | {r['latency_s']:.0f} |"
        )
    required = sum(r["required"] for r in results) or 1
    cited = sum(r["cited"] for r in results)
    rows.append(
        f"| **all** | | {sum(r['stated'] for r in results)}/{required} | {cited}/{required} | {cited / required:.2f} | | |"
    )
    return "\n".join(rows)
