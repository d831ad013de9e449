"""read and outline on the FinanceBench dev filings: every evidence page reads back, and most sit in a named section."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest

from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.settings import CorpusSettings
from tools import REGISTRY
from tools.context import ToolContext, use_context
from tools.outline import outline

pytestmark = [pytest.mark.financebench, pytest.mark.slow]
_TOKEN = re.compile(r"[a-z0-9]+")

# Evidence pages (1-based) that no detected section covers, measured on the 48 dev evidence items (42/48 covered):
# the JPMorgan 10-Qs print MD&A without "Part I, Item 2" headings the detector recognizes, the Ulta release's
# narrative precedes its statements, and 8-Ks have no Items, statements or Notes at all.
KNOWN_OUTSIDE = {
    ("JPMORGAN_2021Q1_10Q", 19),
    ("JPMORGAN_2022Q2_10Q", 21),
    ("JPMORGAN_2023Q2_10Q", 85),
    ("ULTABEAUTY_2023Q4_EARNINGS", 2),
    ("FOOTLOCKER_2022_8K_dated_2022-08-19", 2),
    ("PEPSICO_2023_8K_dated-2023-05-05", 4),
}
MEASURED_COVERED_SHARE = 42 / 48


def _evidence(financebench_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (financebench_dir / "questions_dev.jsonl").read_text().splitlines()]
    return [e for row in rows for e in row["evidence"]]


@pytest.fixture(scope="module")
def dev_context(financebench_dir: Path, tmp_path_factory):
    names = sorted({e["doc_name"] for e in _evidence(financebench_dir)})
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path_factory.mktemp("financebench-dev-tools")))
    report = ingest_paths(corpus, [financebench_dir / "pdfs" / f"{name}.pdf" for name in names])
    assert report.ok, report.summary()
    yield ToolContext(corpus)
    corpus.close()


def _read_all(context: ToolContext, arguments: dict) -> tuple[list[str], int]:
    """Text lines (numbers stripped) of a read, following its continuation instructions; and how many calls it took."""
    lines: list[str] = []
    for calls in range(1, 21):
        call = REGISTRY.call("read", arguments, context)
        assert call.ok, call.text
        lines += re.findall(r"^\d+\| (.*)$", call.text, re.MULTILINE)
        m = re.search(r"continue with read\((.*)\)\]", call.text)
        if m is None:
            return lines, calls
        arguments = eval(f"dict({m.group(1)})")  # noqa: S307 - the exact arguments the model is told to send
    raise AssertionError(f"read did not finish in 20 calls: {arguments}")


def _share(evidence_text: str, page_lines: list[str]) -> float:
    wanted = Counter(_TOKEN.findall(evidence_text.lower()))
    have = Counter(_TOKEN.findall("\n".join(page_lines).lower()))
    return sum(min(n, have[t]) for t, n in wanted.items()) / max(1, sum(wanted.values()))


def test_read_returns_every_evidence_page(dev_context, financebench_dir):
    """read(doc, pages=page + 1) shows >= 80% of each evidence item's words and numbers (line numbers stripped)."""
    evidence = _evidence(financebench_dir)
    misses = []
    for item in evidence:
        lines, _calls = _read_all(dev_context, {"doc_id": item["doc_name"], "pages": str(item["page"] + 1)})
        share = _share(item["evidence_text"], lines)
        if share < 0.8:
            misses.append((item["doc_name"], item["page"] + 1, round(share, 2)))
    assert len(evidence) >= 40
    assert not misses, misses


def test_outline_places_evidence_pages_in_sections(dev_context, financebench_dir):
    evidence = _evidence(financebench_dir)
    outside, placed = [], []
    with use_context(dev_context):
        for item in evidence:
            page = item["page"] + 1
            result = outline(item["doc_name"])
            section = result.section_at_page(page)
            if section is None:
                outside.append((item["doc_name"], page))
            else:
                placed.append((item["doc_name"], page, section.key))
                assert f"{section.key}: " in result.render()
    share = len(placed) / len(evidence)
    print(f"\n{len(placed)}/{len(evidence)} evidence pages inside a detected section; outside: {sorted(outside)}")
    assert set(outside) <= KNOWN_OUTSIDE, sorted(set(outside) - KNOWN_OUTSIDE)
    assert share >= MEASURED_COVERED_SHARE


@pytest.mark.serial
def test_outline_and_section_reads_are_fast(dev_context):
    """Warm calls (text cached by the context) on the largest filings, PepsiCo's 503 pages included, stay interactive.

    ~5-15 ms each on an idle 2-core machine (printed); the bound only catches a call that rescans or re-parses whole
    filings (100x slower), so a loaded machine does not fail it. bench/ measures latency; tests do not.
    """
    timings: dict[str, list[float]] = {}
    calls = [
        ("outline", {"doc_id": "PEPSICO_2022_10K"}),
        ("read", {"doc_id": "PEPSICO_2022_10K", "section": "Note 8"}),
        ("read", {"doc_id": "PEPSICO_2022_10K", "section": "Consolidated Statement of Cash Flows"}),
        ("outline", {"doc_id": "AMERICANEXPRESS_2022_10K"}),
        ("read", {"doc_id": "AMERICANEXPRESS_2022_10K", "section": "Item 7", "max_tokens": 3000}),
        ("read", {"doc_id": "JPMORGAN_2021Q1_10Q", "pages": "18-19"}),
    ]
    for name, arguments in calls:
        assert REGISTRY.call(name, arguments, dev_context).ok
        key = f"{name} {arguments}"
        for _ in range(15):
            started = time.perf_counter()
            REGISTRY.call(name, arguments, dev_context)
            timings.setdefault(key, []).append(time.perf_counter() - started)
    medians = {key: statistics.median(values) * 1000 for key, values in timings.items()}
    print("\n" + "\n".join(f"{ms:6.1f} ms  {key}" for key, ms in medians.items()))
    assert all(ms < 500 for ms in medians.values()), medians


FACT_CASES = [
    ("3M_2018_10K", "capital expenditure", "FY2018"),
    ("MGMRESORTS_2018_10K", "accounts payable", "FY2018"),
    ("MICROSOFT_2016_10K", "cost of revenue", "FY2016"),
    ("GENERALMILLS_2020_10K", "operating activities", "FY2020"),
    ("PEPSICO_2022_10K", "operating profit", "FY2022"),
    ("NIKE_2021_10K", "inventories", "FY2021"),
    ("ACTIVISIONBLIZZARD_2019_10K", "property and equipment", "FY2019"),
]


def test_the_facts_tools_cite_lines_verify_on_real_filings(dev_context):
    """A small model copies the facts tool's `cite:` line into its answer: every one must pass the citation check."""
    from agent.answer import AnswerCitation
    from agent.citations import check_citation

    cite = re.compile(r'^  cite: doc_id="([^"]+)", page=(\d+), quote="(.*)"$', re.MULTILINE)
    checked = 0
    for doc_id, query, period in FACT_CASES:
        result = REGISTRY.call("facts", {"query": query, "doc_id": doc_id, "period": period}, dev_context)
        assert result.ok, result.text
        assert cite.findall(result.text), (
            result.text
        )  # the period asked is cited (filler rows are cut, so fewer cites than before)
        for d, page, quote in cite.findall(result.text):
            verdict = check_citation(AnswerCitation(doc_id=d, page=int(page), quote=quote), dev_context.corpus.store.read)
            assert verdict.verified, (doc_id, quote, verdict.problem)
            checked += 1
    assert checked >= len(FACT_CASES) + 4
