"""grep: modes, pagination, context, pages, multiline, errors that teach, timeouts, the registry path, real filings."""

from __future__ import annotations

import os
import re
import time

import pytest

from corpus.ingest import ingest_paths
from corpus.text import PagedText
from corpus.text_store import TextStore
from tests.tools.conftest import WIDGET_LINES
from tools import REGISTRY
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.grep import MAX_LINE_CHARS, GrepResult, grep
from tools.settings import ToolSettings


def run(context: ToolContext, pattern: str, **kwargs) -> GrepResult:
    with use_context(context):
        return grep(pattern, **kwargs)


def error(context: ToolContext, pattern: str, **kwargs) -> str:
    with use_context(context), pytest.raises(ToolError) as caught:
        grep(pattern, **kwargs)
    return str(caught.value)


def shown_lines(text: str) -> list[tuple[int, int, str, str]]:
    """(page, line, marker, text) of every hit line in a rendering."""
    return [(int(p), int(n), m, t) for p, n, m, t in re.findall(r"^p\.(\d+) l\.(\d+)([:-]) ?(.*)$", text, re.M)]


# --- content mode, pages, citations ---


def test_content_mode_groups_hits_by_document_with_page_and_line(tool_context):
    result = run(tool_context, "Capital expenditures were")
    assert result.total == 3 and list(result.counts) == ["ACME_2021_10K", "ACME_2022_10K", "GLOBEX_2022_10K"]
    text = result.render()
    assert text.startswith("3 matches for 'Capital expenditures were' in 3 documents (searched all 4 documents)")
    assert "offset=" not in text  # everything is shown
    assert "## ACME_2022_10K (1 match)\np.4 l.13: Capital expenditures were $577 million." in text
    for hit in result.hits:
        paged = tool_context.text(hit.doc_id)
        assert hit.page == 4 == paged.page_of_line(hit.line)
        assert "Capital expenditures were" in paged.lines[hit.line - 1]
    assert [str(c) for c in result.citations()] == [
        "ACME_2021_10K p.4 l.13",
        "ACME_2022_10K p.4 l.13",
        "GLOBEX_2022_10K p.4 l.13",
    ]


def test_page_numbers_match_the_line_to_page_map_on_every_page(tool_context):
    result = run(tool_context, r"\S", max_results=300)  # every non-empty line of every document
    assert len(result.hits) == result.total == 3 * 32 + 75 and {h.page for h in result.hits} == {1, 2, 3, 4, 5, 6}
    for hit in result.hits:
        assert hit.page == tool_context.text(hit.doc_id).page_of_line(hit.line), hit
    bigco = {h.line: h.page for h in run(tool_context, ".", doc_ids=["BIGCO_2023_10K"], max_results=300).hits}
    assert (bigco[1], bigco[5], bigco[6], bigco[66], bigco[67], bigco[70], bigco[71], bigco[75]) == (1, 1, 2, 2, 3, 3, 4, 4)


def test_pages_come_from_the_page_map_not_the_full_texts(tool_context, monkeypatch):
    def no_full_reads(self, doc_id):
        raise AssertionError("grep must not load full texts")

    monkeypatch.setattr(TextStore, "read", no_full_reads)
    result = run(tool_context, "closing line")
    assert [(h.doc_id, h.page, h.line) for h in result.hits] == [("BIGCO_2023_10K", 4, 75)]


def test_pagination_with_offset_covers_every_match_once(tool_context):
    first = run(tool_context, "Widget sales line", max_results=25)
    assert first.total == WIDGET_LINES
    assert f"{WIDGET_LINES} matches for 'Widget sales line' in 1 document" in first.render()
    assert "showing matches 1-25; call again with offset=25 for more" in first.render()
    second = run(tool_context, "Widget sales line", max_results=25, offset=25)
    assert "showing matches 26-50; call again with offset=50 for more" in second.render()
    last = run(tool_context, "Widget sales line", max_results=25, offset=50)
    assert "showing matches 51-60" in last.render() and "call again" not in last.render()
    lines = [h.line for r in (first, second, last) for h in r.hits]
    assert lines == list(range(7, 7 + WIDGET_LINES))
    assert "offset=60 is past the end: there are 60 matches; use offset 0..59" in error(
        tool_context, "Widget sales line", offset=60
    )


def test_default_page_size_comes_from_settings(shared_corpus):
    context = ToolContext(shared_corpus, settings=ToolSettings(grep_default_results=7))
    result = run(context, "Widget sales line")
    assert len(result.hits) == 7 and "call again with offset=7" in result.render()


def test_context_lines_mark_matches_and_context_across_a_page_break(tool_context):
    text = run(tool_context, "End of table", context_lines=1).render()
    assert "(':' after the line number marks a matching line, '-' a context line)" in text
    rows = shown_lines(text)
    assert [(p, n, m) for p, n, m, _ in rows] == [(3, 69, "-"), (3, 70, ":"), (4, 71, "-")]
    assert rows[2][3] == "Other matters"
    text = run(tool_context, r"Widget sales line (10|20)$", context_lines=2).render()
    rows = shown_lines(text)
    assert [n for _, n, _, _ in rows] == [14, 15, 16, 17, 18, 24, 25, 26, 27, 28]
    assert text.count("\n--\n") == 1  # the two groups are separated


def test_context_of_the_first_hit_on_a_later_page_of_results(tool_context):
    result = run(tool_context, "Widget sales line", max_results=1, offset=10, context_lines=2)
    rows = shown_lines(result.render())
    assert [(n, m) for _, n, m, _ in rows] == [(15, ":"), (16, ":"), (17, ":"), (18, ":"), (19, ":")]
    assert [(h.line, h.page) for h in result.hits] == [(17, 2)]  # only the window's match is cited


def test_files_with_matches_and_count_modes(tool_context):
    files = run(tool_context, "Capital expenditures|Widget", output_mode="files_with_matches")
    text = files.render()
    assert text.splitlines()[0] == "63 matches for 'Capital expenditures|Widget' in 4 documents (searched all 4 documents)"
    assert "ACME_2021_10K (1 match)\nACME_2022_10K (1 match)\nBIGCO_2023_10K (60 matches)\nGLOBEX_2022_10K (1 match)" in text
    assert files.citations() == []
    count = run(tool_context, "Capital expenditures|Widget", output_mode="count", max_results=2, offset=1)
    lines = count.render().splitlines()
    assert lines[0].startswith("63 matches") and "showing documents 2-3; call again with offset=3 for more" in lines[0]
    assert lines[1:] == ["ACME_2022_10K: 1", "BIGCO_2023_10K: 60"]


def test_count_mode_counts_what_content_mode_shows(tool_context):
    for kwargs in ({}, {"case_insensitive": True}, {"multiline": True}):
        content = run(tool_context, r"widget|net\s+revenues", max_results=300, **kwargs)
        count = run(tool_context, r"widget|net\s+revenues", output_mode="count", **kwargs)
        assert count.counts == content.counts and len(content.hits) == content.total


def test_case_insensitive(tool_context):
    message = error(tool_context, "capital expenditures were")
    assert "case_insensitive=true" in message
    result = run(tool_context, "capital expenditures were", case_insensitive=True)
    assert result.total == 3 and "(case-insensitive)" in result.render()


def test_multiline_matches_span_lines(tool_context):
    message = error(tool_context, r"Total net\s+revenues")
    assert "multiline=true" in message
    result = run(tool_context, r"Total net\s+revenues", multiline=True)
    hit = result.hits[0]
    assert (hit.doc_id, hit.line, hit.end_line, hit.page) == ("BIGCO_2023_10K", 72, 73, 4)
    assert [(n, m, t) for _, n, m, t in shown_lines(result.render())] == [
        (72, ":", "Total net"),
        (73, ":", "revenues were 9,876 in 2023."),
    ]


def test_multiline_counts_each_match_even_when_rg_merges_adjacent_ones(tool_context):
    result = run(tool_context, r"line 1\d\n", multiline=True, doc_ids=["BIGCO_2023_10K"], max_results=4, offset=3)
    assert result.total == 10
    assert [h.line for h in result.hits] == [19, 20, 21, 22]


def test_glob_and_doc_ids_restrict_the_documents(tool_context):
    assert list(run(tool_context, "Capital", glob="ACME_*").counts) == ["ACME_2021_10K", "ACME_2022_10K"]
    assert list(run(tool_context, "Capital", glob="**/globex_*").counts) == ["GLOBEX_2022_10K"]
    assert list(run(tool_context, "Capital", glob="*2022*10K*").counts) == ["ACME_2022_10K", "GLOBEX_2022_10K"]
    result = run(tool_context, "Capital", doc_ids=["GLOBEX_2022_10K", "ACME_2021_10K"])
    assert list(result.counts) == ["ACME_2021_10K", "GLOBEX_2022_10K"]
    assert "(searched GLOBEX_2022_10K, ACME_2021_10K)" in result.render()
    both = run(tool_context, "Capital", glob="*2022*", doc_ids=["ACME_2021_10K", "ACME_2022_10K"])
    assert list(both.counts) == ["ACME_2022_10K"]
    assert "no document matches glob 'INITECH_*'" in error(tool_context, "Capital", glob="INITECH_*")
    assert "drop one of the two filters" in error(tool_context, "Capital", glob="GLOBEX_*", doc_ids=["ACME_2021_10K"])


def test_long_lines_show_a_window_around_the_match(tool_context):
    result = run(tool_context, "NEEDLE-IN-TABLE")
    [row] = shown_lines(result.render())
    assert row[:2] == (3, 69)
    assert "NEEDLE-IN-TABLE 4,242" in row[3]
    assert row[3].startswith("[...]") and row[3].endswith("[...]")
    assert len(row[3]) <= MAX_LINE_CHARS + 10
    start = run(tool_context, "^filler filler").render()
    assert "p.3 l.69: filler filler" in start and "NEEDLE" not in start  # window at the line start


def test_output_is_trimmed_to_whole_matches_within_the_budget(shared_corpus):
    context = ToolContext(shared_corpus, settings=ToolSettings(max_output_tokens=200))
    result = run(context, "Widget sales line", max_results=60, context_lines=1)
    text = result.render()
    shown = len(result.hits)
    assert 1 <= shown < 60 and len(text) <= 200 * 4
    assert f"showing matches 1-{shown} (output budget reached); call again with offset={shown} for more" in text
    assert len(result.citations()) == shown


def test_a_filing_is_greppable_as_soon_as_it_is_ingested_without_any_index(own_corpus, tmp_path):
    def no_index():
        raise AssertionError("grep must not need the search index")

    context = ToolContext(own_corpus, searcher_factory=no_index)
    assert "No match" in error(context, "Initech")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "INITECH_2024_10K.txt").write_text("FORM 10-K\fInitech reported TPS revenue of 1,234.\n")
    assert ingest_paths(own_corpus, [tmp_path / "new"], workers=1).ok
    hit = run(context, "Initech reported").hits[0]
    assert (hit.doc_id, hit.page, hit.line) == ("INITECH_2024_10K", 2, 2)


# --- errors that teach ---


def test_errors_teach_what_would_work(tool_context):
    assert "empty pattern" in error(tool_context, "")
    message = error(tool_context, "(foo")
    assert message.startswith("invalid regex '(foo': unclosed group") and "escape special characters like ( ) [ ] $" in message
    assert "look-around" in error(tool_context, "foo(?=bar)")
    assert error(tool_context, r"(a)\1").count("not supported") == 1
    assert "ripgrep rejected '\\\\w{5000}': compiled regex exceeds size limit" in error(tool_context, r"\w{5000}")
    message = error(tool_context, "x", doc_ids=["ACME_2022_10Q"])
    assert message.startswith("unknown doc_ids: ACME_2022_10Q (closest: ACME_2022_10K") and "glob()" in message
    assert "not a doc_id" in error(tool_context, "x", doc_ids=["../data/sleuth.db"])
    assert "max_results=0 is out of range; use 1..300" in error(tool_context, "x", max_results=0)
    assert "max_results=301 is out of range; use 1..300" in error(tool_context, "x", max_results=301)
    assert "context_lines=11 is out of range; use 0..10" in error(tool_context, "x", context_lines=11)
    assert "context_lines=-1 is out of range" in error(tool_context, "x", context_lines=-1)
    assert "offset=-1 is out of range" in error(tool_context, "x", offset=-1)
    assert "NUL" in error(tool_context, "a\x00b")


def test_no_match_names_the_scope_and_the_next_steps(tool_context):
    message = error(tool_context, "EBITDA", doc_ids=["ACME_2022_10K"])
    assert message == "No match for 'EBITDA' in ACME_2022_10K; try a shorter pattern, case_insensitive=true, or search()"
    message = error(tool_context, "Revenue was $1,577", case_insensitive=True)
    assert message.startswith(
        "No match for 'Revenue was $1,577' in all 4 documents; try a shorter pattern, write \\$ for a dollar sign"
    )
    assert "case_insensitive=true" not in message and "multiline=true" in message
    assert run(tool_context, r"Revenue was \$1,577").total == 1
    assert "thousands are written with commas" in error(tool_context, "1577 million")
    assert "thousands" not in error(tool_context, "x{1000}")


def test_pattern_starting_with_a_dash_is_a_pattern_not_a_flag(tool_context):
    assert "No match for '--files'" in error(tool_context, "--files")


# --- timeouts: rg is killed ---


@pytest.mark.serial
def test_rg_past_the_deadline_is_killed(shared_corpus, tmp_path, monkeypatch):
    pid_file = tmp_path / "rg.pid"
    script = tmp_path / "slow-rg"
    script.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    script.chmod(0o755)
    monkeypatch.setattr("tools.ripgrep.rg_binary", lambda: str(script))
    context = ToolContext(shared_corpus, settings=ToolSettings(timeout_s=0.5))
    started = time.monotonic()
    message = error(context, "anything")
    assert time.monotonic() - started < 5
    assert message == "grep timed out after 0.5 s; narrow with glob/doc_ids or a more specific pattern"
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


@pytest.mark.serial
def test_real_rg_over_a_big_text_times_out(own_corpus):
    lines = [f"line {i} of a long synthetic filing with revenue and income figures {i * 7}" for i in range(250_000)]
    own_corpus.store.write(
        "HUGE_2023_10K", PagedText.from_pages(["\n".join(lines[i : i + 50]) for i in range(0, len(lines), 50)]), "x"
    )
    context = ToolContext(own_corpus, settings=ToolSettings(timeout_s=0.02))
    started = time.monotonic()
    assert "grep timed out after 0.02 s" in error(context, "revenue", context_lines=2)
    assert time.monotonic() - started < 5
    ok = ToolContext(own_corpus)
    assert run(ok, "figures 7000$", doc_ids=["HUGE_2023_10K"]).hits[0].page == 21  # line 1001 is on page 21


def test_the_call_deadline_bounds_rg(shared_corpus):
    context = ToolContext(shared_corpus)
    context.deadline = time.monotonic() - 1  # the agent's time for this call is already spent
    assert "grep timed out" in error(context, "Capital")


# --- the registry path: schema, arguments, errors as observations ---


def test_schema_has_every_parameter_described():
    schema = REGISTRY.get("grep").schema()["function"]
    props = schema["parameters"]["properties"]
    assert set(props) == {
        "pattern",
        "glob",
        "doc_ids",
        "company",
        "form",
        "year",
        "case_insensitive",
        "context_lines",
        "output_mode",
        "max_results",
        "offset",
        "multiline",
    }
    assert schema["parameters"]["required"] == ["pattern"]
    assert all(p.get("description") for p in props.values())
    assert props["output_mode"]["enum"] == ["content", "files_with_matches", "count"]
    assert "doc_id, page and line" in schema["description"]


def test_calls_through_the_registry(tool_context):
    call = REGISTRY.call("grep", {"pattern": "Capital expenditures were", "glob": "ACME_*", "context_lines": 1}, tool_context)
    assert call.ok and call.text.startswith("2 matches for 'Capital expenditures were' in 2 documents")
    assert [str(c) for c in call.citations] == ["ACME_2021_10K p.4 l.13", "ACME_2022_10K p.4 l.13"]
    call = REGISTRY.call("grep", '{"pattern": "Widget", "output_mode": "count"}', tool_context)
    assert call.ok and call.text.splitlines()[1] == "BIGCO_2023_10K: 60"
    call = REGISTRY.call("grep", {"pattern": "EBITDA", "doc_ids": ["ACME_2022_10K"]}, tool_context)
    assert not call.ok and call.text.startswith("Error: No match for 'EBITDA' in ACME_2022_10K")
    call = REGISTRY.call("grep", {"pattern": "x", "output_mode": "lines"}, tool_context)
    assert not call.ok and "invalid arguments for grep: output_mode" in call.text
    call = REGISTRY.call("grep", {"glob": "*"}, tool_context)
    assert not call.ok and "pattern" in call.text
    call = REGISTRY.call("grep", {"pattern": "x", "max_results": 1000}, tool_context)
    assert not call.ok and call.text == "Error: max_results=1000 is out of range; use 1..300 and offset to page"


# --- real filings ---


@pytest.mark.financebench
def test_grep_finds_3m_2018_capex_on_the_cash_flow_page(financebench_dir, tmp_path):
    """3M FY2018 capex: 'Purchases of property, plant and equipment (PP&E)' (1,577) on PDF page 60 (FinanceBench evidence page 59, 0-based)."""
    import pymupdf

    from corpus.catalog import Corpus
    from corpus.settings import CorpusSettings

    pdfs = financebench_dir / "pdfs"
    names = ["3M_2018_10K", "COSTCO_2023_8K_dated-2023-01-19", "ULTABEAUTY_2023Q4_EARNINGS"]
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1))
    try:
        assert ingest_paths(corpus, [pdfs / f"{n}.pdf" for n in names], workers=1).ok
        context = ToolContext(corpus)
        result = run(context, r"Purchases of property, plant and equipment \(PP&E\)", context_lines=2)
        assert set(result.counts) == {"3M_2018_10K"} and result.total == 3
        assert [h.page for h in result.hits] == [46, 49, 60]
        cash_flow = result.hits[2]
        with pymupdf.open(pdfs / "3M_2018_10K.pdf") as pdf:
            page_text = pdf[cash_flow.page - 1].get_text()
        assert "Cash Flows from Investing Activities" in page_text and "(1,577)" in page_text
        rows = shown_lines(result.render())
        # the row as printed: its label and the three years' figures on the matching line itself
        assert (
            60,
            cash_flow.line,
            ":",
            "Purchases of property, plant and equipment (PP&E) | (1,577) | (1,373) | (1,420)",
        ) in rows
        count = run(context, "1,577", output_mode="count")
        assert count.counts.get("3M_2018_10K", 0) >= 3
    finally:
        corpus.close()


def test_a_grep_over_too_much_text_asks_for_a_scope_and_the_catalog_narrows_it(shared_corpus):
    sizes = {d: (shared_corpus.store.text_dir / f"{d}.txt").stat().st_size for d in shared_corpus.store.doc_ids()}
    limit_mb = (sum(sizes.values()) - 1) / 1e6  # the whole store is just over the limit, any one filing under it
    context = ToolContext(shared_corpus, settings=ToolSettings(grep_max_scan_mb=limit_mb))
    message = error(context, "Capital expenditures")
    assert "would scan more than" in message and "company=" in message and "year=" in message and "list_documents" in message
    result = run(context, "Capital expenditures", company="acme")  # narrowed by the catalog
    assert result.hits and {h.doc_id for h in result.hits} <= {d for d in sizes if d.startswith("ACME")}
    assert "of acme" in result.scope
    year = run(context, "Capital expenditures", year=2022, form="10-K")
    assert year.hits and all("2022" in h.doc_id for h in year.hits)
    assert "no filing matches" in error(context, "Capital expenditures", company="hooli")
    assert run(ToolContext(shared_corpus), "Capital expenditures").hits  # under the default limit nothing changes
