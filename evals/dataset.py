"""FinanceBench-format question files: one JSON object per line (question, answer, evidence[{doc_name, page}], doc_name?)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class DatasetError(ValueError):
    """The question file cannot be read; the message names the line."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answer: str
    evidence: tuple[tuple[str, int], ...]  # (doc_id, 1-based page); FinanceBench pages are 0-based indexes
    doc_name: str | None = None


def load_questions(path: Path, limit: int | None = None) -> list[EvalQuestion]:
    if not path.is_file():
        raise DatasetError(f"no question file at {path}")
    out: list[EvalQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            evidence = tuple(
                (e["doc_name"], int(e["page"]) + 1) for e in row.get("evidence") or [] if isinstance(e, dict) and "page" in e
            )
            qid = str(row.get("financebench_id") or row.get("id") or f"line-{number}")
            out.append(EvalQuestion(qid, row["question"].strip(), str(row["answer"]).strip(), evidence, row.get("doc_name")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"{path}:{number}: not a FinanceBench-format question ({type(exc).__name__}: {exc}); "
                "each line needs question, answer and evidence[{doc_name, page}]"
            ) from exc
        if limit and len(out) >= limit:
            break
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        raise DatasetError(f"{path}: question ids repeat; give each line a unique financebench_id or id")
    return out
