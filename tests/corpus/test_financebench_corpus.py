"""The whole FinanceBench set ingested once: every filing searchable by rg, every evidence on its page."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.rg_binary import rg_binary
from corpus.settings import CorpusSettings

pytestmark = [pytest.mark.financebench, pytest.mark.slow]
_TOKEN = re.compile(r"[a-z0-9]+")


@pytest.fixture(scope="session")
def financebench_corpus(financebench_dir: Path, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("financebench-data")
    corpus = Corpus.open(CorpusSettings(data_dir=data_dir))
    report = ingest_paths(corpus, [financebench_dir / "pdfs"])
    yield corpus, report
    corpus.close()


def test_every_filing_ingests(financebench_corpus, financebench_dir):
    corpus, report = financebench_corpus
    failed = [(r.path, r.reason) for r in report.results if r.status != "added"]
    assert not failed
    assert corpus.count() == len(list((financebench_dir / "pdfs").glob("*.pdf")))


def test_ripgrep_searches_every_ingested_filing(financebench_corpus):
    corpus, _ = financebench_corpus
    # rg silently skips files it takes for binary; every stored file must be listed as matching.
    out = subprocess.run(
        [rg_binary(), "--files-with-matches", "--no-messages", "[A-Za-z]", str(corpus.store.text_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    searched = {Path(line).stem for line in out.stdout.splitlines()}
    assert searched == corpus.store.doc_ids()
    assert not any(b"\x00" in p.read_bytes() for p in corpus.store.text_dir.glob("*.txt"))


def test_evidence_text_is_on_its_page(financebench_corpus, financebench_dir):
    """For every dev-question evidence item, >= 80% of its words and numbers are on page (index + 1) of our store."""
    corpus, _ = financebench_corpus
    checked, misses = 0, []
    for line in (financebench_dir / "questions_dev.jsonl").read_text().splitlines():
        for evidence in json.loads(line)["evidence"]:
            text = corpus.store.read(evidence["doc_name"])
            wanted = Counter(_TOKEN.findall(evidence["evidence_text"].lower()))
            have = Counter(_TOKEN.findall(text.page_text(evidence["page"] + 1).lower()))
            share = sum(min(n, have[t]) for t, n in wanted.items()) / max(1, sum(wanted.values()))
            checked += 1
            if share < 0.8:
                misses.append((evidence["doc_name"], evidence["page"] + 1, round(share, 2)))
    assert checked >= 40
    assert not misses, misses
