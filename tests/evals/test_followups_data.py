"""The follow-up development set (evals/data/followups.jsonl): its shape, and every gold's quote on its PDF page."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from evals.dataset import EvalThread, load_items
from evals.scoring import numeric_verdict

DATA = Path(__file__).resolve().parents[2] / "evals" / "data" / "followups.jsonl"
# Turns whose gold figure is computed from the quoted figures (free cash flow, a turnover ratio) rather than printed.
COMPUTED = {"general-mills-free-cash-flow#2", "general-mills-free-cash-flow#3", "activision-fixed-asset-turnover#4"}


def rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_has_chains_of_two_to_four_turns_covering_every_kind_of_reference():
    threads = load_items(DATA)
    assert all(isinstance(t, EvalThread) for t in threads) and len(threads) >= 20
    assert all(2 <= len(t.turns) <= 4 for t in threads)
    kinds = {q.refers_to for t in threads for q in t.turns[1:]}
    assert {"year", "company", "figure", "note"} <= kinds
    assert all(q.refers_to is None for t in threads for q in t.turns[:1])
    assert all(q.evidence for t in threads for q in t.turns)
    capex = next(t for t in threads if t.id == "3m-capex-depreciation")
    assert [q.question for q in capex.turns][1] == "And in 2017?" and "depreciation" in capex.turns[2].question
    assert [q.answer for q in capex.turns][:2] == ["$1,577 million", "$1,373 million"]


@lru_cache(maxsize=64)
def _page(pdf: Path, page: int) -> str:
    import pymupdf

    with pymupdf.open(pdf) as doc:
        return re.sub(r"\s+", " ", doc[page - 1].get_text())


@pytest.mark.financebench
def test_every_gold_is_quoted_from_its_page(financebench_dir):
    checked = 0
    for row in rows():
        for n, turn in enumerate(row["thread"], 1):
            quotes = []
            for e in turn["evidence"]:
                quote = re.sub(r"\s+", " ", e["quote"]).strip()
                text = _page(financebench_dir / "pdfs" / f"{e['doc_id']}.pdf", e["page"])
                assert quote in text, f"{row['id']} turn {n}: {quote!r} is not on {e['doc_id']} p.{e['page']}"
                quotes.append(quote)
                checked += 1
            if f"{row['id']}#{n}" not in COMPUTED:
                verdict = numeric_verdict(turn["answer"], re.sub(r"[()]", " ", " ".join(quotes)))  # (1,577) is an outflow
                assert verdict.correct, f"{row['id']} turn {n}: the gold's figure {verdict.gold} is not in its quotes"
    assert checked >= 72
