"""read: every mode, the token budget and its continuation, cross-references, and every error."""

from __future__ import annotations

import re

import pytest

from corpus.catalog import Corpus
from tests.corpus.samples import ingest_folder, write_pdf
from tools import REGISTRY
from tools.base import Citation
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.read import ReadResult, read, resolve_section
from tools.settings import ToolSettings
from tools.tokens import count_tokens

TEN_K = "ACME_2022_10K"
TEN_Q = "ACME_2023Q1_10Q"
RELEASE = "ACME_2023Q1_EARNINGS"
LONG = "LONGLINE_2023_10K"

RISKS = "\n".join(
    f"Risk {n}: demand for widgets may fall in region {n}, and supply costs may rise by {n}% in that case." for n in range(1, 41)
)
# Lines (1-based) as the store holds them; the tests below name them.
TEN_K_PAGES = [
    "UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nFORM 10-K\nANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d)\n"
    "For the fiscal year ended December 31, 2022\nACME WIDGETS, INC.\n(Exact name of registrant as specified in its charter)\n"
    "Trading Symbol(s) ACME",  # page 1, lines 1-8
    "PART I\nItem 1. Business\nAcme makes widgets. See Note 2 for revenue.\nWe sell in 12 countries.",  # page 2, lines 9-12
    "Item 1A. Risk Factors\n" + RISKS,  # page 3, lines 13-53 (Item 1A runs to line 54, "PART II")
    "PART II\nItem 7. Management's Discussion and Analysis\nRevenue was $1,577 million. Refer to Note 3.\n"
    "Our pension plan is described in Note 5 of the 2021 Form 10-K.\nWarranty reserves are discussed in Note 14.",  # page 4, 54-58
    "Item 8. Financial Statements and Supplementary Data\nCONSOLIDATED BALANCE SHEETS\n(in millions)\n2022\n2021\n"
    "Cash and cash equivalents\n1,200\n1,100\nTotal assets\n9,000\n8,500\nTotal liabilities\n4,000\n3,900",  # page 5, 59-72
    "CONSOLIDATED STATEMENTS OF CASH FLOWS\n(in millions)\n2022\n2021\nNet income\n1,900\n1,700\nDepreciation\n445\n400\n"
    "Net cash provided by operating activities\n2,345\n2,100\nPurchases of property, plant and equipment\n(1,577)\n(1,373)\n"
    "Net cash used in investing activities\n(1,600)\n(1,400)\nDividends paid\n(300)\n(280)\n"
    "Net cash used in financing activities\n(350)\n(310)\nNet change in cash\n395\n390",  # page 6, 73-100
    "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS\nNote 1. Summary of Significant Accounting Policies\nPolicies are described here.\n"
    "Note 2. Revenue\nRevenue by segment was 1,577 in total. See Note 3 for leases, and Item 8.",  # page 7, 101-105
    "Note 3. Leases\nOperating leases 120.\nItem 9. Changes in and Disagreements with Accountants\nNone.",  # page 8, 106-109
    "",  # page 9: blank (one empty line, 110)
]
TEN_Q_PAGES = [
    "UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nFORM 10-Q\nQUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d)\n"
    "For the quarterly period ended March 31, 2023\nACME WIDGETS, INC.\n(Exact name of registrant as specified in its charter)",
    "PART I. FINANCIAL INFORMATION\nItem 1. Financial Statements\nCondensed statements are on the next pages.",
    "Item 2. Management's Discussion and Analysis of Financial Condition and Results of Operations\nQuarterly revenue was $420 million.",
    "Item 3. Quantitative and Qualitative Disclosures About Market Risk\nNone.\nItem 4. Controls and Procedures\nEffective.",
    "PART II. OTHER INFORMATION\nItem 1. Legal Proceedings\nNone.\nItem 1A. Risk Factors\nNo changes.\n"
    "Item 2. Unregistered Sales of Equity Securities and Use of Proceeds\nWe bought back 1,000 shares.",
    "Item 6. Exhibits\n31.1 Certification",
]
RELEASE_PAGES = [
    "ACME WIDGETS REPORTS FIRST QUARTER 2023 RESULTS\nNet sales rose 7% to $420 million.\nDiluted earnings per share were $1.10.",
    "Outlook\nAcme expects full-year net sales growth of 5% to 6%.",
]
LONG_LINE = "segment table " * 300 + "END-OF-LONG-LINE"  # ~4,200 characters on line 3


def build_filings(root) -> Corpus:
    """Three PDFs (10-K, 10-Q, earnings release) and a text filing with one very long line, ingested."""
    folder = root / "filings"
    folder.mkdir(parents=True)
    write_pdf(folder / f"{TEN_K}.pdf", TEN_K_PAGES)
    write_pdf(folder / f"{TEN_Q}.pdf", TEN_Q_PAGES)
    write_pdf(folder / f"{RELEASE}.pdf", RELEASE_PAGES)
    (folder / f"{LONG}.txt").write_text(
        "LONGCO 10-K\nIntro line.\n" + LONG_LINE + "\nAfter the long line.\fSecond page.", encoding="utf-8"
    )
    corpus = ingest_folder(folder, root / "data")
    return corpus


@pytest.fixture(scope="module")
def filings(tmp_path_factory):
    corpus = build_filings(tmp_path_factory.mktemp("read_filings"))
    yield corpus
    corpus.close()


@pytest.fixture
def context(filings) -> ToolContext:
    return ToolContext(filings)


def run(context: ToolContext, **arguments) -> ReadResult:
    with use_context(context):
        return read(**arguments)


def error(context: ToolContext, **arguments) -> str:
    with use_context(context), pytest.raises(ToolError) as caught:
        read(**arguments)
    return str(caught.value)


def numbered(result: ReadResult) -> list[int]:
    """Line numbers printed in the rendered text, in order."""
    return [int(m.group(1)) for m in re.finditer(r"^(\d+)\| ", result.render(), re.M)]


def test_the_corpus_is_as_the_tests_assume(filings):
    text = filings.store.read(TEN_K)
    assert text.page_starts == (1, 9, 13, 54, 59, 73, 101, 106, 110)
    assert text.lines[55] == "Revenue was $1,577 million. Refer to Note 3."
    keys = [s.key for s in filings.sections(TEN_K)]
    assert keys == [
        "Item 1",
        "Item 1A",
        "Item 7",
        "Item 8",
        "Balance Sheet",
        "Cash Flows",
        "Note 1",
        "Note 2",
        "Note 3",
        "Item 9",
    ]
    assert [s.key for s in filings.sections(RELEASE)] == []


def test_whole_document_reads_from_line_1_with_page_markers_and_numbers(context):
    result = run(context, doc_id=TEN_K)
    text = result.render()
    assert text.startswith("ACME_2022_10K: Acme Widgets, Inc., 10-K, FY2022 (ended 2022-12-31); 9 pages, 110 lines")
    assert "Reading whole document from line 1" in text
    assert "=== ACME_2022_10K page 1 ===\n1| UNITED STATES\n2| SECURITIES AND EXCHANGE COMMISSION" in text
    assert "=== ACME_2022_10K page 8 ===\n106| Note 3. Leases" in text
    assert "page 9 ===" not in text  # the blank page prints nothing
    assert numbered(result) == list(range(1, 110))  # line 110 is empty: skipped
    assert not result.truncated and "[truncated" not in text
    for line in result.body.splitlines():
        assert re.fullmatch(r"=== ACME_2022_10K page \d+ ===|\d+\| \S.*", line), line


def test_section_by_key(context):
    result = run(context, doc_id=TEN_K, section="Note 3")
    assert "Reading Item 8 > Note 3 Leases, page 8, lines 106-107" in result.header
    assert numbered(result) == [106, 107]
    assert result.citations() == [Citation(TEN_K, 8, 106)]


@pytest.mark.parametrize(
    ("query", "key_line"),
    [
        ("Note 3", "Note 3 Leases"),
        ("note 3.", "Note 3 Leases"),
        ("NOTE 3", "Note 3 Leases"),
        ("Note 3 Leases", "Note 3 Leases"),
        ("Note 3. Leases", "Note 3 Leases"),
        ("leases", "Note 3 Leases"),
        ("Revenue", "Note 2 Revenue"),
        ("Item 7", "Item 7 Management's Discussion and Analysis"),
        ("ITEM 7.", "Item 7 Management's Discussion and Analysis"),
        ("Part II Item 7", "Item 7 Management's Discussion and Analysis"),
        ("Part II, Item 7", "Item 7 Management's Discussion and Analysis"),
        ("MD&A", "Item 7 Management's Discussion and Analysis"),
        ("Management's discussion and analysis", "Item 7 Management's Discussion and Analysis"),
        ("Item 1A", "Item 1A Risk Factors"),
        ("risk factors", "Item 1A Risk Factors"),
        ("Cash Flows", "Cash Flows (CONSOLIDATED STATEMENTS OF CASH FLOWS)"),
        ("cash flow", "Cash Flows (CONSOLIDATED STATEMENTS OF CASH FLOWS)"),
        ("Consolidated Statements of Cash Flows", "Cash Flows (CONSOLIDATED STATEMENTS OF CASH FLOWS)"),
        ("statement of cash flows", "Cash Flows (CONSOLIDATED STATEMENTS OF CASH FLOWS)"),
        ("Balance Sheet", "Balance Sheet (CONSOLIDATED BALANCE SHEETS)"),
        ("consolidated balance sheets", "Balance Sheet (CONSOLIDATED BALANCE SHEETS)"),
        ("statement of financial position", "Balance Sheet (CONSOLIDATED BALANCE SHEETS)"),
    ],
)
def test_section_by_key_or_title(context, query, key_line):
    header = run(context, doc_id=TEN_K, section=query).header
    assert re.search(rf"Reading (?:Item 8 > )?{re.escape(key_line)}, ", header), header


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("Item 1A", "Part II Item 1A"),
        ("Part II Item 1A", "Part II Item 1A"),
        ("Part I Item 2", "Part I Item 2"),
        ("Part I, Item 2.", "Part I Item 2"),
        ("Item 2 MD&A", "Part I Item 2"),
        ("Item 2. Unregistered Sales", "Part II Item 2"),
        ("Item 6", "Part II Item 6"),
    ],
)
def test_quarterly_items_carry_their_part(context, query, key):
    assert f"Reading {key} " in run(context, doc_id=TEN_Q, section=query).header


def test_ambiguous_section_lists_the_candidates(context):
    message = error(context, doc_id=TEN_Q, section="Item 2")
    assert "matches several sections" in message
    assert "'Part I Item 2' (Management's Discussion" in message and "'Part II Item 2' (Unregistered Sales" in message
    assert "pass one of these keys" in message


def test_unknown_section_names_the_closest_keys(context):
    message = error(context, doc_id=TEN_K, section="Note 9")
    assert message.startswith("No section 'Note 9' in ACME_2022_10K. Closest keys: ")
    assert "'Note 1'" in message and f"outline(doc_id='{TEN_K}')" in message
    message = error(context, doc_id=TEN_K, section="goodwill impairment")
    assert f"grep(pattern='goodwill impairment', doc_ids=['{TEN_K}'])" in message
    assert "section is empty" in error(context, doc_id=TEN_K, section=" . ")


def test_number_and_title_that_disagree_are_refused(context):
    message = error(context, doc_id=TEN_K, section="Note 2 Leases")
    assert "Note 2 is 'Revenue'" in message and "section='Note 3'" in message


def test_a_filing_without_sections_says_to_read_pages(context):
    message = error(context, doc_id=RELEASE, section="Item 7")
    assert "no detected sections" in message and f"read(doc_id='{RELEASE}', pages='1-2')" in message
    assert numbered(run(context, doc_id=RELEASE, pages="2")) == [4, 5]


@pytest.mark.parametrize("pages", ["5", 5, " 5 ", "p. 5", "page 5", "5-5"])
def test_one_page(context, pages):
    result = run(context, doc_id=TEN_K, pages=pages)
    assert numbered(result) == list(range(59, 73))
    assert result.render().count("=== ACME_2022_10K page") == 1
    # the page opens with the Item 8 heading and is the balance sheet: it is labelled by the section holding most of it
    assert "Reading page 5, lines 59-72 (in Item 8 > Balance Sheet (CONSOLIDATED BALANCE SHEETS))" in result.header
    assert result.citations() == [Citation(TEN_K, 5, 59)]


@pytest.mark.parametrize("pages", ["7-8", "7 - 8", "7\u20138", "pages 7-8", "7 to 8"])
def test_page_range(context, pages):
    result = run(context, doc_id=TEN_K, pages=pages)
    assert numbered(result) == list(range(101, 110))
    assert result.citations() == [Citation(TEN_K, 7, 101), Citation(TEN_K, 8, 106)]


def test_blank_pages_say_so(context):
    result = run(context, doc_id=TEN_K, pages="9")
    assert "(no text on these lines: blank or image-only pages)" in result.render()
    assert result.citations() == []


def test_line_range(context):
    result = run(context, doc_id=TEN_K, lines="56-57")
    assert numbered(result) == [56, 57]
    assert "Reading lines 56-57, page 4 (in Item 7 Management's Discussion and Analysis)" in result.header
    assert "=== ACME_2022_10K page 4 ===\n56| Revenue was $1,577 million. Refer to Note 3." in result.render()
    assert numbered(run(context, doc_id=TEN_K, lines=60)) == [60]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"pages": "0"}, "pages='0' is out of range: ACME_2022_10K has pages 1-9"),
        ({"pages": "8-12"}, "pages='8-12' is out of range: ACME_2022_10K has pages 1-9"),
        ({"pages": "6-5"}, "pages='6-5' is reversed; write the smaller page first, e.g. '5-6'"),
        ({"pages": "five"}, "pages='five' is not a page or range; use a page like '5' or a range like '5-7'"),
        ({"pages": "5,7"}, "is not a page or range"),
        ({"lines": "100-200"}, "lines='100-200' is out of range: ACME_2022_10K has lines 1-110"),
        ({"lines": "60-50"}, "is reversed"),
        ({"lines": "1-2-3"}, "is not a line or range; use a line like '120' or a range like '120-180'"),
        ({"pages": "5", "lines": "1-3"}, "Give pages or lines, not both"),
        ({"max_tokens": 5}, "max_tokens=5 is too small to show any text; use 100-12,000"),
        ({"max_tokens": -1}, "too small"),
    ],
)
def test_bad_arguments_say_what_works(context, arguments, expected):
    assert expected in error(context, doc_id=TEN_K, **arguments)


def test_section_with_lines_reads_those_lines_of_the_section(context):
    section = next(s for s in context.corpus.sections(TEN_K) if s.key == "Item 7")
    inside = f"{section.start_line}-{section.start_line + 1}"
    result = run(context, doc_id=TEN_K, section="Item 7", lines=inside)
    assert numbered(result) == [section.start_line, section.start_line + 1]
    assert "note:" not in result.header


def test_section_with_lines_outside_it_reads_the_section_and_says_so(context):
    # A small model asked read(section="Cash Flows", lines="45-46") four turns in a row: the call now works.
    section = next(s for s in context.corpus.sections(TEN_K) if s.key == "Item 7")
    result = run(context, doc_id=TEN_K, section="Item 7", lines="1-2")
    assert numbered(result)[0] == section.start_line
    assert "lines='1-2' is outside Item 7" in result.header and "showing the whole section" in result.header
    garbled = run(context, doc_id=TEN_K, section="Item 7", lines="lots")
    assert numbered(garbled)[0] == section.start_line and "Showing the whole section instead" in garbled.header


def test_section_with_pages_reads_the_pages_inside_it(context):
    section = next(s for s in context.corpus.sections(TEN_K) if s.key == "Item 7")
    result = run(context, doc_id=TEN_K, section="Item 7", pages=str(section.start_page))
    assert numbered(result)[0] == section.start_line and numbered(result)[-1] <= section.end_line


def test_unknown_document_names_the_closest(context):
    message = error(context, doc_id="ACME_2020", pages="1")  # no filing of that year: no guess
    assert "No document with doc_id 'ACME_2020'" in message and "ACME_2022_10K" in message
    assert "list_documents" in message and "glob" in message


def test_empty_strings_count_as_not_given(context):
    result = run(context, doc_id=TEN_K, section="", pages="5", lines="")
    assert numbered(result)[0] == 59


def test_budget_truncates_at_whole_lines_and_says_how_to_continue(context):
    result = run(context, doc_id=TEN_K, section="Item 1A", max_tokens=300)
    text = result.render()
    m = re.search(
        r"\[truncated at line (\d+) \(page (\d+)\); continue with read\(doc_id='ACME_2022_10K', lines='(\d+)-(\d+)', max_tokens=300\)\]",
        text,
    )
    assert m, text
    last, page, start, end = map(int, m.groups())
    assert numbered(result)[-1] == last and page == 3 and start == last + 1 and end == 54
    assert result.next_lines == (start, end)
    assert count_tokens(text) <= 300
    assert "Risk 1:" in text and f"{last}| Risk {last - 13}:" in text


def test_following_the_continuation_reads_every_line_once(context):
    """The instruction is a real call: follow it through the registry until the section is done."""
    arguments = {"doc_id": TEN_K, "section": "Item 1A", "max_tokens": 200}
    seen: list[int] = []
    for _ in range(50):
        call = REGISTRY.call("read", arguments, context)
        assert call.ok, call.text
        assert count_tokens(call.text) <= 200
        seen += [int(n) for n in re.findall(r"^(\d+)\| ", call.text, re.M)]
        m = re.search(r"continue with read\((.*)\)\]", call.text)
        if m is None:
            break
        arguments = eval(f"dict({m.group(1)})")  # the model would send exactly these arguments
    assert seen == list(range(13, 55))
    assert len(REGISTRY.call("read", {"doc_id": TEN_K, "section": "Item 1A"}, context).text) > 0


def test_default_budget_and_cap(context):
    small = ToolContext(
        context.corpus, settings=ToolSettings(read_default_tokens=150, read_max_tokens=400, max_output_tokens=6000)
    )
    assert run(small, doc_id=TEN_K, section="Item 1A").truncated
    capped = run(small, doc_id=TEN_K, section="Item 1A", max_tokens=100_000)
    assert "max_tokens capped at 400" in capped.header
    assert count_tokens(capped.render()) <= 400
    # The registry never cuts a read: the budget also stays under the registry's output cap.
    tight = ToolContext(context.corpus, settings=ToolSettings(read_max_tokens=12000, max_output_tokens=250))
    call = REGISTRY.call("read", {"doc_id": TEN_K, "max_tokens": 12000}, tight)
    assert "output cut here" not in call.text and "continue with read(" in call.text


def test_an_overlong_line_is_cut_and_reading_goes_on(context):
    result = run(context, doc_id=LONG, max_tokens=300)
    assert numbered(result) == [1, 2] and result.next_lines == (3, 5)
    result = run(context, doc_id=LONG, lines="3-5", max_tokens=300)
    text = result.render()
    assert "3| segment table" in text and "[line cut:" in text and "END-OF-LONG-LINE" not in text
    assert count_tokens(text) <= 300
    shown = numbered(result)
    assert shown[0] == 3 and result.next_lines == ((shown[-1] + 1, 5) if shown[-1] < 5 else None)
    assert numbered(run(context, doc_id=LONG, lines="4-5")) == [4, 5]


def test_cross_references_are_listed_with_their_targets(context):
    result = run(context, doc_id=TEN_K, section="Item 7")
    text = result.render()
    refs = text.split("Cross-references in these lines:\n")[1].splitlines()
    assert refs == [
        f"- Refer to Note 3 (line 56) -> Note 3 Leases, page 8: read(doc_id='{TEN_K}', section='Note 3')",
        "- described in Note 5 (line 57) -> Note 5 of another filing, not this document (find that filing with list_documents)",
        f"- discussed in Note 14 (line 58) -> Note 14: not a detected section of this document; try grep(pattern='Note 14', doc_ids=['{TEN_K}'])",
    ]
    # The suggested call works and lands on the target.
    call = REGISTRY.call("read", {"doc_id": TEN_K, "section": "Note 3"}, context)
    assert "106| Note 3. Leases" in call.text


def test_only_references_on_shown_lines_are_listed(context):
    assert "Cross-references" not in run(context, doc_id=TEN_K, section="Balance Sheet").render()
    assert "See Note 2" in run(context, doc_id=TEN_K, lines="11").render()
    assert "Cross-references" not in run(context, doc_id=TEN_K, lines="12").render()
    # Line 105 points at Note 3, which is shown in full: nothing to follow.
    assert "-> Note 3" not in run(context, doc_id=TEN_K, pages="7-8").render()
    text = run(context, doc_id=TEN_K, pages="7").render()
    assert "- See Note 3 (line 105) -> Note 3 Leases, page 8" in text
    assert "-> Item 8" not in text  # line 105 also cites Item 8, which is being read: not listed


def test_truncated_reads_list_references_of_shown_lines_only(context):
    result = run(context, doc_id=TEN_K, pages="2-4", max_tokens=200)
    assert result.truncated
    shown = numbered(result)
    listed = [int(n) for n in re.findall(r"\(line (\d+)\)", result.render())]
    assert all(shown[0] <= n <= shown[-1] for n in listed)


def test_through_the_registry(context):
    schema = next(s["function"] for s in REGISTRY.schemas() if s["function"]["name"] == "read")
    assert set(schema["parameters"]["properties"]) == {"doc_id", "section", "pages", "lines", "max_tokens"}
    assert schema["parameters"]["required"] == ["doc_id"]
    assert all(p.get("description") for p in schema["parameters"]["properties"].values())
    call = REGISTRY.call("read", {"doc_id": TEN_K, "pages": 5}, context)
    assert call.ok and call.text == call.result.render()
    assert call.citations == [Citation(TEN_K, 5, 59)]
    call = REGISTRY.call("read", json_arguments := '{"doc_id": "ACME_2022_10K", "section": "Cash Flows"}', context)
    assert call.ok, json_arguments
    assert "73| CONSOLIDATED STATEMENTS OF CASH FLOWS" in call.text
    bad = REGISTRY.call("read", {"doc_id": TEN_K, "pages": "40"}, context)
    assert not bad.ok and bad.text == "Error: pages='40' is out of range: ACME_2022_10K has pages 1-9."
    bad = REGISTRY.call("read", {"doc_id": TEN_K, "page": "4"}, context)
    assert not bad.ok and "page" in bad.text


def _sections(*specs: tuple[str, str, str]) -> list:
    from corpus.models import Section

    return [
        Section(
            id=i, parent_id=None, depth=0, kind=kind, key=key, title=title, start_page=i, end_page=i, start_line=i, end_line=i
        )
        for i, (kind, key, title) in enumerate(specs, 1)
    ]


REAL_HEADINGS = _sections(
    ("statement", "Income Statement", "Consolidated Statement of Incom e"),
    ("statement", "Balance Sheet", "Consolidated Balance Shee t"),
    ("statement", "Cash Flows", "Consolidated Statement of Cash Flow s"),
    ("note", "Note 4", "Goodwill and Intangible Assets"),
    ("note", "Note 9", "Supplemental Cash Flow Information"),
    ("note", "Note 10", "Income Taxes"),
    ("note", "Note 12", "Long-Term Debt and Short-Term Borrowings"),
    ("note", "Note 20", "Condensed Parent Company Financial Information"),
    ("note", "Note 21", "Accrued Liabilities and Losses"),
)


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("Consolidated Statements of Cash Flows", "Cash Flows"),
        ("consolidated balance sheets", "Balance Sheet"),
        ("Consolidated Statements of Income", "Income Statement"),
        ("statements of operations", "Income Statement"),
        ("supplemental cash flow information", "Note 9"),
        ("income taxes", "Note 10"),
        ("debt", "Note 12"),
        ("Note 12 Long-term debt", "Note 12"),
        ("income tax", "Note 10"),
        ("intangible asset", "Note 4"),
        ("accrued liability", "Note 21"),
        ("loss", "Note 21"),
    ],
)
def test_titles_with_split_words_and_plurals_match(query, key):
    """Headings as PyMuPDF extracts them ("Cash Flow s") still match the names a model uses."""
    assert resolve_section(query, REAL_HEADINGS, "X_2018_10K").key == key


def test_words_are_matched_whole_not_inside_other_words():
    # Run together, "intangib-le-asse-ts" holds "lease" and "pa-rent" holds "rent": neither is a match.
    for query in ("leases", "rent"):
        with pytest.raises(ToolError, match=f"No section '{query}'"):
            resolve_section(query, REAL_HEADINGS, "X_2018_10K")
