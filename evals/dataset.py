"""Question files, one JSON object per line: a FinanceBench-format question (question, answer, evidence[{doc_name, page}],
doc_name?) or a follow-up thread ({"id", "thread": [{"question", "answer", "evidence": [{"doc_id", "page", "quote"}],
"refers_to"?}, ...]}), both kinds in one file if need be."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_TURNS = 20  # a thread file's chains are short; a longer one is a mistake in the file


class DatasetError(ValueError):
    """The question file cannot be read; the message names the line."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answer: str
    evidence: tuple[tuple[str, int], ...]  # (doc_id, 1-based page); FinanceBench pages are 0-based indexes
    doc_name: str | None = None
    thread: str | None = None  # the thread's id, for a turn of a follow-up thread
    turn: int | None = None  # 1-based position in the thread
    refers_to: str | None = None  # what a follow-up asks the memory to resolve: year, company, figure, note, ...


@dataclass(frozen=True)
class EvalThread:
    """A chain of follow-up questions, asked in order in one thread; each turn is scored like a question."""

    id: str
    turns: tuple[EvalQuestion, ...]


def load_items(path: Path, limit: int | None = None) -> list[EvalQuestion | EvalThread]:
    """Every question and thread in the file, in order; `limit` counts lines (a thread is one)."""
    if not path.is_file():
        raise DatasetError(f"no question file at {path}")
    out: list[EvalQuestion | EvalThread] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise TypeError("a line must be a JSON object")
            out.append(_thread(row, number) if "thread" in row else _question(row, f"line-{number}"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"{path}:{number}: not a FinanceBench-format question or a follow-up thread ({type(exc).__name__}: {exc}); each line needs question, answer "
                "and evidence[{doc_name, page}], or a thread: [{question, answer, evidence[{doc_id, page, quote}]}, ...]"
            ) from exc
        if limit and len(out) >= limit:
            break
    ids = [q.id for item in out for q in (item.turns if isinstance(item, EvalThread) else (item,))]
    ids += [item.id for item in out if isinstance(item, EvalThread)]
    if len(set(ids)) != len(ids):
        raise DatasetError(f"{path}: question or thread ids repeat; give each line a unique financebench_id or id")
    return out


def load_questions(path: Path, limit: int | None = None) -> list[EvalQuestion]:
    """The single questions of the file (FinanceBench format); a file of threads is refused here."""
    items = load_items(path, limit)
    if any(isinstance(item, EvalThread) for item in items):
        raise DatasetError(f"{path}: holds follow-up threads; read it with load_items")
    return items  # type: ignore[return-value]


def _question(row: dict[str, Any], default_id: str) -> EvalQuestion:
    evidence = tuple(
        (e["doc_name"], int(e["page"]) + 1) for e in row.get("evidence") or [] if isinstance(e, dict) and "page" in e
    )
    qid = str(row.get("financebench_id") or row.get("id") or default_id)
    return EvalQuestion(qid, _text(row, "question"), str(row["answer"]).strip(), evidence, row.get("doc_name"))


def _thread(row: dict[str, Any], number: int) -> EvalThread:
    turns = row["thread"]
    if not isinstance(turns, list) or not 1 <= len(turns) <= MAX_TURNS:
        raise ValueError(f"thread must be a list of 1 to {MAX_TURNS} turns")
    thread_id = str(row.get("id") or f"thread-{number}")
    out = []
    for n, turn in enumerate(turns, 1):
        if not isinstance(turn, dict):
            raise TypeError(f"turn {n} must be an object")
        evidence = tuple((str(e["doc_id"]), int(e["page"])) for e in turn.get("evidence") or [])  # 1-based PDF pages
        if any(page < 1 for _, page in evidence):
            raise ValueError(f"turn {n}: evidence pages are 1-based")
        out.append(
            EvalQuestion(
                f"{thread_id}#{n}",
                _text(turn, "question"),
                str(turn["answer"]).strip(),
                evidence,
                thread=thread_id,
                turn=n,
                refers_to=turn.get("refers_to"),
            )
        )
    return EvalThread(thread_id, tuple(out))


def _text(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    return value.strip()
