"""compare_sections: paragraphs of a section aligned across two filings (added, removed, changed, moved) with both pages,
furniture and page breaks normalized, bounded and paged output, and every bad input answered with what would work."""

from __future__ import annotations

import pytest

from corpus.catalog import Corpus
from corpus.text import PagedText
from tests.tools.redline_samples import NEW, OLD, OTHER, WAR, WAR_HEAD, ingest_filings
from tools import REGISTRY
from tools.alignment import align, marked, word_diff
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.paragraphs import comparison_key, furniture_lines, paragraphs
from tools.redline import Redline, redline


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    settings = ingest_filings(tmp_path_factory.mktemp("redline"))
    corpus = Corpus.open(settings)
    yield corpus
    corpus.close()


@pytest.fixture
def context(corpus) -> ToolContext:
    return ToolContext(corpus, guess_doc_ids=False)


def run(context: ToolContext, doc_a: str, doc_b: str, section: str, **kw) -> Redline:
    with use_context(context):
        return redline(doc_a, doc_b, section, **kw)


def error(context: ToolContext, *args: str) -> str:
    with use_context(context), pytest.raises(ToolError) as caught:
        redline(*args)
    return str(caught.value)


def texts(result: Redline, kind: str) -> list[str]:
    return [(c.b or c.a).text for c in result.changes if c.kind == kind]


def test_risk_factors_added_removed_changed_and_moved_with_both_pages(context):
    r = run(context, OLD, NEW, "Risk Factors")
    assert (r.a.key, r.b.key, r.a.paragraphs, r.b.paragraphs) == ("Item 1A", "Item 1A", 9, 9)
    assert r.counts == {"added": 2, "removed": 2, "changed": 1}
    assert texts(r, "added") == [WAR_HEAD, WAR]
    assert [c.b.page for c in r.changes if c.kind == "added"] == [3, 3]
    removed = texts(r, "removed")
    assert removed[0] == "The COVID-19 pandemic may continue to affect demand." and removed[1].startswith("The pandemic closed")
    (changed,) = [c for c in r.changes if c.kind == "changed"]
    assert (changed.a.page, changed.b.page) == (3, 3) and 0.9 < changed.similarity < 1
    assert "[-three-] {+four+}" in marked(word_diff(changed.a.text, changed.b.text))
    # the personnel risk is split by a page break at different words each year, and competition moved after it: unchanged
    assert r.unchanged == 6 and r.moved == 2
    # in B's reading order, each removal after what preceded it in A
    assert [c.kind for c in r.changes] == ["changed", "added", "added", "removed", "removed"]


def test_the_model_sees_counts_pages_and_marked_words(context):
    outcome = REGISTRY.call("compare_sections", {"doc_a": OLD, "doc_b": NEW, "section": "Item 1A"}, context)
    assert outcome.ok, outcome.text
    text = outcome.text
    assert text.startswith(f"Redline of Item 1A Risk Factors: A = {OLD} (Acme Widgets, Inc., 10-K, FY2021")
    assert "Paragraphs: 9 in A, 9 in B; 6 unchanged (2 moved); 2 added, 2 removed, 1 changed." in text
    assert f"[2] ADDED B p.3 l.16: {WAR_HEAD}" in text
    assert "[1] CHANGED (94% similar) A p.3 l.14 -> B p.3 l.14: ... a small number of suppliers in [-three-] {+four+}" in text
    assert "Acme Widgets Annual Report" not in text  # the running head is furniture
    cited = {(c.doc_id, c.page) for c in outcome.citations}
    assert cited == {(OLD, 3), (NEW, 3)}


def test_output_is_bounded_and_pages_with_offset(context):
    first = run(context, OLD, NEW, "Item 1A", limit=2)
    assert len(first.changes) == 2 and first.total == 5
    assert f"[3 more changes: compare_sections(doc_a='{OLD}', doc_b='{NEW}', section='Item 1A', offset=2)]" in first.render()
    rest = run(context, OLD, NEW, "Item 1A", offset=2, limit=10)
    assert [c.kind for c in rest.changes] == ["added", "removed", "removed"] and "more changes" not in rest.render()
    only = run(context, OLD, NEW, "Item 1A", show="removed")
    assert only.total == 2 and {c.kind for c in only.changes} == {"removed"} and "(removed)" in only.render()
    past = run(context, OLD, NEW, "Item 1A", offset=9)
    assert "offset=9 is past the last of 5 changes" in past.render()
    bad = REGISTRY.call("compare_sections", {"doc_a": OLD, "doc_b": NEW, "section": "Item 1A", "limit": 500}, context)
    assert not bad.ok and "limit" in bad.text


def test_a_renumbered_note_is_followed_by_its_title(context):
    by_number = run(context, OLD, NEW, "Note 2")
    assert (by_number.a.key, by_number.b.key) == ("Note 2", "Note 3")
    assert "compared Note 2 of A with Note 3 of B, same title" in by_number.notes[0]
    by_title = run(context, OLD, NEW, "revenue recognition")
    assert (by_title.a.key, by_title.b.key) == ("Note 2", "Note 3") and not by_title.notes
    assert "generally [-30-] {+45+} days." in by_title.render()


def test_a_section_missing_from_either_filing_lists_what_each_has(context):
    text = error(context, OLD, NEW, "Leases")
    assert f"section='Leases' is not in both filings ({OLD}: none)" in text
    assert f"{OLD} has: Item 1 Business, Item 1A Risk Factors" in text and f"{NEW} has: " in text and "Note 2 Leases" in text


def test_same_filing_twice_unknown_doc_id_and_different_companies(context):
    assert "doc_a and doc_b are the same filing" in error(context, OLD, OLD, "Item 1A")
    assert f"No document with doc_id 'ACME_2020_10K'. Closest doc_ids: {NEW}, {OLD}" in error(
        context, "ACME_2020_10K", NEW, "Item 1A"
    )
    other = run(context, OLD, OTHER, "Item 1A")
    assert "different companies: A is Acme Widgets, Inc., B is Globex Corporation" in other.notes[0]
    assert other.total == 0 and "No differences." in other.render()
    backwards = run(context, NEW, OLD, "Item 1A")
    assert any("A is the later filing" in n for n in backwards.notes)
    assert texts(backwards, "removed") == [WAR_HEAD, WAR]


def test_furniture_and_page_breaks_are_normalized():
    pages = [
        "Acme Annual Report\nItem 1A. Risk Factors\n"
        + "A risk that runs long " * 5
        + "\nand wraps to a second line that ends here\n1",
        "Acme Annual Report\nbecause the page broke in the middle of this sentence.\nTable of Contents\n2",
        "Acme Annual Report\nNew heading.\nBody.\n3",
    ]
    text = PagedText.from_pages(pages)
    furniture = furniture_lines(text)
    assert {text.lines[n - 1] for n in furniture} == {"Acme Annual Report", "1", "2", "3", "Table of Contents"}
    found = paragraphs(text, 1, text.line_count, furniture)
    assert [p.text for p in found][0] == "Item 1A. Risk Factors"
    joined = found[1]
    assert joined.text.endswith("ends here because the page broke in the middle of this sentence.")
    assert (joined.page, joined.end_page) == (1, 2)
    assert comparison_key("Coca-Cola’s  sales") == comparison_key("CocaCola's sales") == "cocacola s sales"


def test_alignment_is_deterministic_and_pairs_reworded_paragraphs():
    def paras(*items: str):
        text = PagedText.from_pages(["\n\n".join(items)])
        return paragraphs(text, 1, text.line_count)

    a = paras("Alpha stays the same.", "Beta was written one way last year.", "Gamma goes away.", "Delta moves.")
    b = paras("Delta moves.", "Alpha stays the same.", "Beta was written another way this year.", "Epsilon is new.")
    first, second = align(a, b), align(a, b)
    assert first == second
    assert (first.unchanged, first.moved) == (2, 1)
    assert [(c.kind, (c.a or c.b).text) for c in first.changes] == [
        ("changed", "Beta was written one way last year."),
        ("removed", "Gamma goes away."),  # where it stood: after Beta, before what B adds at its end
        ("added", "Epsilon is new."),
    ]


def test_the_tool_is_offered_to_the_model_with_its_prompt():
    schema = REGISTRY.get("compare_sections").schema()["function"]
    assert schema["description"].startswith("Redline one section of two filings")
    assert schema["parameters"]["required"] == ["doc_a", "doc_b", "section"]
    assert schema["parameters"]["properties"]["show"]["enum"] == ["all", "added", "removed", "changed"]


@pytest.fixture(scope="module")
def pepsi(financebench_dir, tmp_path_factory):
    from corpus.ingest import ingest_paths
    from corpus.settings import CorpusSettings

    settings = CorpusSettings(data_dir=tmp_path_factory.mktemp("pepsi"), ingest_workers=1)
    corpus = Corpus.open(settings)
    names = ("PEPSICO_2021_10K", "PEPSICO_2022_10K")
    report = ingest_paths(corpus, [financebench_dir / "pdfs" / f"{n}.pdf" for n in names], workers=1)
    assert report.ok, report.summary()
    yield corpus
    corpus.close()


def test_pepsico_fy2022_risk_factors_add_ukraine_and_drop_covid(pepsi):
    r = run(ToolContext(pepsi), "PEPSICO_2021_10K", "PEPSICO_2022_10K", "Risk Factors", limit=50)
    added = [c.b for c in r.changes if c.kind == "added"]
    removed = [c.a for c in r.changes if c.kind == "removed"]
    # PepsiCo's FY2022 10-K replaced its COVID-19 risk factor with one on the conflict in Ukraine; the rest carried over
    assert [(p.text[:60], p.page) for p in added] == [
        ("Business Risks Risks associated with the deadly conflict in ", 14),
        ("The deadly conflict in Ukraine has continued to result in wo", 14),
    ]
    assert [p.page for p in removed] == [13, 13, 14, 14] and all("COVID-19" in p.text for p in removed)
    assert (
        removed[0].text == "Business Risks The impact of COVID-19 continues to create considerable uncertainty for our business."
    )
    # headings that stand after a full line are paragraphs of their own in both years, so none is "added" or "removed"
    assert r.unchanged >= 30 and r.counts["changed"] >= 20
    strikes = "Strikes or work stoppages can cause our business to suffer."
    assert not any(strikes in (c.b or c.a).text for c in r.changes)
