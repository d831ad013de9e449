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

from agent.answer import Answer
from tools.tokens import count_tokens

SUMMARY_CHARS = 240  # a summarized turn keeps this much of its answer
BRIEF_CHARS = 80  # a brief one this much
MAX_CITATIONS = 8  # citations listed in full per turn
MAX_READS = 8  # pages and figures listed per turn
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
    renders = [[_render(n, turn, level) for level in (FULL, SUMMARY, BRIEF)] for n, turn in enumerate(turns, 1)]
    sizes = [[count_tokens(text) + 1 for text in levels] for levels in renders]
    levels = [FULL] * len(turns)
    total = count_tokens(HEADER) + 20 + sum(size[FULL] for size in sizes)  # the header and the omitted-turns line

    def shorten(i: int, level: int) -> int:
        before = sizes[i][levels[i]] if levels[i] != OMITTED else 0
        levels[i] = max(levels[i], level)
        return (sizes[i][levels[i]] if levels[i] != OMITTED else 0) - before

    last = len(turns) - 1
    for target in (SUMMARY, BRIEF, OMITTED):  # each pass shortens the oldest turns first; the last turn is kept longest
        for i in range(last):
            if total <= budget_tokens:
                break
            total += shorten(i, target)
    for target in (SUMMARY, BRIEF):
        if total > budget_tokens:
            total += shorten(last, target)
    omitted = sum(1 for lvl in levels if lvl == OMITTED)
    parts = [HEADER]
    if omitted:
        parts.append(f"({omitted} oldest turn{'s' if omitted > 1 else ''} left out to fit the memory budget.)")
    parts += [renders[i][lvl] for i, lvl in enumerate(levels) if lvl != OMITTED]
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
    if level == BRIEF:
        return f"{head}\nA: {_cut(text, BRIEF_CHARS)}"
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


def _read(answer: Answer) -> list[str]:
    """Figures the turn read: its chart's points, then what its facts, series and read calls found."""
    out = [
        f"{p.label}: {p.value:g} {answer.chart.unit} ({p.doc_id} p.{p.page})"
        for p in (answer.chart.points if answer.chart else [])
    ]
    for step in answer.steps:
        if step.ok and step.name in {"facts", "series", "read"}:
            args = ", ".join(f"{k}={v!r}" for k, v in step.arguments.items() if v not in (None, "", []))
            out.append(f"{step.name}({_cut(args, 100)}) -> {_cut(step.summary, 120)}")
    return out[:MAX_READS]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
