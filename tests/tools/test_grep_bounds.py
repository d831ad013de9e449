"""grep stays bounded on patterns that match whole documents: bytes per match and lines shown are capped, and it says so."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from corpus.catalog import Corpus
from corpus.settings import CorpusSettings
from corpus.text import PagedText
from tools.context import ToolContext, use_context
from tools.grep import grep
from tools.settings import ToolSettings

LINES = 120_000  # ~7 MB of text in one document
LINE = "Revenue line {n:06d} of the consolidated statement of operations, in millions: 1,577"


@pytest.fixture(scope="module")
def big_context(tmp_path_factory):
    root = tmp_path_factory.mktemp("bigdoc")
    corpus = Corpus.open(CorpusSettings(data_dir=root / "data", ingest_workers=1))
    pages = ["\n".join(LINE.format(n=n) for n in range(p * 1000, (p + 1) * 1000)) for p in range(LINES // 1000)]
    corpus.store.write("BIG_2023_10K", PagedText.from_pages(pages), "h")
    corpus.store.write("SMALL_2023_10K", PagedText.from_pages(["FORM 10-K\nTotal revenues were 9,876."]), "s")
    yield ToolContext(corpus, settings=ToolSettings(timeout_s=120))
    corpus.close()


def _peak_mb(fn):  # noqa: ANN001, ANN202
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_a_match_spanning_a_whole_document_is_cut_and_says_where_it_ends(big_context):
    with use_context(big_context):
        result, peak = _peak_mb(lambda: grep("(?s).+", doc_ids=["BIG_2023_10K"], multiline=True))
    assert result.total == 1
    hit = result.hits[0]
    assert (hit.line, hit.end_line) == (1, LINES)  # the span is exact although the text was cut
    shown = [line for line in hit.lines if not line.text.startswith("[...")]
    assert len(shown) <= big_context.settings.grep_max_match_lines
    text = result.render()
    assert f"goes on for {LINES - len(shown):,} more lines, to l.{LINES} (p.{LINES // 1000})" in text
    assert f"read(doc_id='BIG_2023_10K', lines='{len(shown) + 1}-{LINES}')" in text
    assert "1 match longer than 20 lines shown in part" in text
    assert len(text) < 10_000
    # before: the whole document twice over as one JSON event, decoded and split (+150 MB on 21 MB)
    assert peak < 8, f"grep held {peak:.1f} MB for a {LINES:,}-line match"


def test_every_long_match_is_capped_not_only_huge_ones(big_context):
    with use_context(big_context):
        result = grep(r"line 000100(?s:.){0,4000}line 000140", doc_ids=["BIG_2023_10K"], multiline=True)
    hit = result.hits[0]
    assert hit.end_line - hit.line == 40
    assert len(hit.lines) == 21 and hit.lines[-1].text.startswith("[... this match goes on for 21 more lines")


def test_ordinary_matches_are_unchanged(big_context):
    with use_context(big_context):
        result = grep(r"Total\s+revenues", multiline=True)
    assert result.total == 1 and result.long_matches == 0
    assert "shown in part" not in result.render()
    with use_context(big_context):
        result = grep("line 000042 ", doc_ids=["BIG_2023_10K"])
    assert [(h.line, h.page) for h in result.hits] == [(43, 1)]


def test_the_total_output_cap_stops_rg_and_says_counts_are_partial(big_context):
    tight = ToolContext(big_context.corpus, settings=ToolSettings(grep_max_output_mb=1, timeout_s=120))
    with use_context(tight):
        result = grep("Revenue line", doc_ids=["BIG_2023_10K"])
    assert 0 < result.total < LINES
    assert re.search(r"stopped after 1 MB of ripgrep output: counts are partial", result.render())
