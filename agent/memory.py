"""Research memory of a thread: what earlier turns asked, answered, cited, identified and read, sized to a token budget.

A follow-up turn starts from this memory rather than from a transcript. Each earlier turn is written at one of four
levels: whole (question, answer, checked citations with quotes, filings, figures read), summarized (question, the
answer's start, the pages cited), brief (question and the answer's first words) or left out; the oldest turns are
shortened first until the memory fits the budget. Building it is string work only (no model call, no I/O).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from agent.answer import Answer, FactRead
from tools.tokens import count_tokens

SUMMARY_CHARS = 240  # a summarized turn keeps this much of its answer
BRIEF_CHARS = 80  # a brief one this much
MAX_CITATIONS = 8  # citations listed in full per turn
MAX_READS = 8  # pages and figures listed per turn
MAX_FACTS = 6  # figures kept of one facts or series call
QUOTE_CHARS = 200
HEADER = "Research memory of this thread (earlier turns, oldest first):"
FULL, SUMMARY, BRIEF, OMITTED = range(4)


class Turn(BaseModel):
    """One earlier turn of a thread: its question, its answer (None: it ended without one) and filings changed since."""

    question: str
    answer: Answer | None = None
    status: str | None = None  # the run's status when there is no answer (cancelled, interrupted)
    # doc_id -> what happened to a filing this turn cited since it was asked ("deleted from the corpus", "replaced on ...").
    changed: dict[str, str] = Field(default_factory=dict)


class ThreadMemory(BaseModel):
    """The memory a follow-up starts with: its text, its size in tokens, turns it covers, turns shortened or left out."""

    text: str
    tokens: int
    turns: int
    summarized: int = 0  # turns written shorter than whole (left-out ones included)
    omitted: int = 0  # oldest turns left out entirely (the budget could not hold even their question)

    def metrics(self) -> dict[str, int]:
        return {"memory_tokens": self.tokens, "memory_turns": self.turns, "memory_summarized": self.summarized}


def thread_memory(turns: Sequence[Turn], budget_tokens: int) -> ThreadMemory:
    """The earlier `turns` (oldest first) as a memory of at most `budget_tokens`, oldest turns shortened first."""
    if not turns:
        return ThreadMemory(text="", tokens=0, turns=0)
    cache: dict[tuple[int, int], str] = {}

    def render(i: int, level: int) -> str:
        if (i, level) not in cache:
            cache[i, level] = _render(i + 1, turns[i], level)
        return cache[i, level]

    def size(i: int, level: int) -> int:
        return 0 if level == OMITTED else count_tokens(render(i, level)) + 1

    last = len(turns) - 1
    # Whole turns are a suffix of the thread: the newest turns are kept whole while they fit, older ones summarized.
    # Scanning from the newest renders a turn whole only when it may stay whole (the whole form is the costly one).
    levels = [SUMMARY] * last + [FULL]
    total = count_tokens(HEADER) + 20 + sum(size(i, SUMMARY) for i in range(last)) + size(last, FULL)  # + header, omitted line
    if total <= budget_tokens:
        for i in range(last - 1, -1, -1):
            grown = total - size(i, SUMMARY) + size(i, FULL)
            if grown > budget_tokens:
                break
            levels[i], total = FULL, grown
    for target in (BRIEF, OMITTED):  # then the oldest turns are made brief, then left out, until the memory fits
        for i in range(last):
            if total <= budget_tokens:
                break
            before = size(i, levels[i])
            levels[i] = max(levels[i], target)
            total += size(i, levels[i]) - before
    for target in (SUMMARY, BRIEF):  # the newest turn last of all
        if total > budget_tokens:
            before = size(last, levels[last])
            levels[last] = max(levels[last], target)
            total += size(last, levels[last]) - before
    omitted = sum(1 for lvl in levels if lvl == OMITTED)
    parts = [HEADER]
    if omitted:
        parts.append(f"({omitted} oldest turn{'s' if omitted > 1 else ''} left out to fit the memory budget.)")
    parts += [render(i, lvl) for i, lvl in enumerate(levels) if lvl != OMITTED]
    text = "\n\n".join(parts)
    if count_tokens(text) > budget_tokens:  # a budget smaller than one brief turn: cut the text itself
        text = text[: max(0, budget_tokens * 4 - 1)] + "…"
    return ThreadMemory(
        text=text,
        tokens=count_tokens(text),
        turns=len(turns),
        summarized=sum(1 for lvl in levels if lvl != FULL),
        omitted=omitted,
    )


def _render(n: int, turn: Turn, level: int) -> str:
    answer = turn.answer
    status = answer.status if answer else (turn.status or "no answer")
    head = f"Turn {n} [{status}] Q: {_flat(turn.question)}"
    if answer is None:
        return f"{head}\nA: (this turn ended without an answer)"
    text = _flat(answer.text) if answer.status != "failed" else f"(failed: {_flat(answer.error or answer.text)})"
    if level == BRIEF:  # even a brief turn says which of its filings changed
        gone = "".join(f" [{doc} {why.split(' (')[0]}]" for doc, why in turn.changed.items())
        return f"{head}\nA: {_cut(text, BRIEF_CHARS)}{gone}"
    changed = [f"Note: {doc} cited here was {why}; find the filing again before using it." for doc, why in turn.changed.items()]
    if level == SUMMARY:
        pages = sorted({c.label() for c in answer.citations})[:MAX_CITATIONS]
        lines = [head, f"A: {_cut(text, SUMMARY_CHARS)}"] + ([f"Cited: {'; '.join(pages)}"] if pages else [])
        return "\n".join(lines + changed)
    lines = [head, f"A: {text}"]
    if answer.condensed_question:
        lines.insert(1, f"(read as: {_flat(answer.condensed_question)})")
    for c in answer.citations[:MAX_CITATIONS]:
        check = {True: "checked", False: f"NOT verified: {c.problem}", None: "not checkable"}[c.verified]
        lines.append(f'- cites {c.label()} ({check}): "{_cut(_flat(c.quote), QUOTE_CHARS)}"')
    if len(answer.citations) > MAX_CITATIONS:
        lines.append(f"- and {len(answer.citations) - MAX_CITATIONS} more citations")
    if filings := filings_of(answer):
        lines.append(f"Filings identified: {', '.join(filings)}")
    if read := _read(answer):
        lines.append(f"Read: {'; '.join(read)}")
    return "\n".join(lines + changed)


def filings_of(answer: Answer) -> list[str]:
    """The filings a turn identified: those it cited, then those its tool calls named, in first-seen order."""
    seen: dict[str, None] = {c.doc_id: None for c in answer.citations}
    for step in answer.steps:
        for value in _doc_ids(step.arguments):
            seen.setdefault(value, None)
    return list(seen)[:12]


def _doc_ids(arguments: dict[str, Any]) -> list[str]:
    found = []
    if isinstance(arguments.get("doc_id"), str):
        found.append(arguments["doc_id"])
    if isinstance(arguments.get("doc_ids"), list):
        found += [d for d in arguments["doc_ids"] if isinstance(d, str)]
    return found


def facts_read(result: Any) -> list[FactRead]:
    """The first figures a facts or series call returned (line item, period, value, page); [] for any other result."""
    from corpus.series import spelled
    from tools.facts import FactsResult
    from tools.series_table import SeriesTable

    if isinstance(result, FactsResult):
        shown = [(item.series, item.points, result.basis) for item in result.items[:3]]
    elif isinstance(result, SeriesTable):
        shown = [(result.series, result.points, result.basis)]
    else:
        return []
    out = []
    for series, points, basis in shown:
        for point in points[:3]:
            r = point.chosen(basis)
            value = spelled(r.value, series.unit, series.scale)
            out.append(FactRead(line_item=series.label, period=str(point.period), value=value, doc_id=r.doc_id, page=r.page))
    return out[:MAX_FACTS]


def _read(answer: Answer) -> list[str]:
    """Figures the turn read: what its facts and series calls returned, its chart's points, then its other reads."""
    facts = {
        f"{f.line_item} {f.period}: {f.value} ({f.doc_id}" + (f" p.{f.page})" if f.page else ", XBRL)"): None
        for step in answer.steps
        for f in step.facts
    }
    out = list(facts) + [
        f"{p.label}: {p.value:g} {answer.chart.unit} ({p.doc_id} p.{p.page})"
        for p in (answer.chart.points if answer.chart else [])
    ]
    for step in answer.steps:
        if step.ok and (step.name == "read" or (step.name in {"facts", "series"} and not step.facts)):
            args = ", ".join(f"{k}={v!r}" for k, v in step.arguments.items() if v not in (None, "", []))
            out.append(f"{step.name}({_cut(args, 100)}) -> {_cut(step.summary, 120)}")
    return out[:MAX_READS]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
