"""PDF pages as printed: statement rows on one line, headers above them, narrative in reading order, bad pages bounded."""

from __future__ import annotations

import time

import pymupdf
import pytest

from corpus import pdf
from corpus.catalog import Corpus
from corpus.clean import clean_page
from corpus.extract import extract
from corpus.ingest import ingest_paths
from corpus.pdf import layout_words, pdf_page_text
from corpus.settings import CorpusSettings


def _page_text(draw) -> str:  # noqa: ANN001
    doc = pymupdf.open()
    page = doc.new_page()
    draw(page)
    text = clean_page(pdf_page_text(page))
    doc.close()
    return text


def _statement(page) -> None:  # noqa: ANN001
    page.insert_text((50, 60), "CONSOLIDATED BALANCE SHEETS", fontsize=10)
    page.insert_text((50, 80), "(in millions)", fontsize=9)
    page.insert_text((380, 80), "2022", fontsize=9)
    page.insert_text((460, 80), "2021", fontsize=9)
    rows = [
        ("Cash and cash equivalents", "$", "2,853", "$", "3,053"),
        ("Trade accounts receivable, net of doubtful accounts - $40 and $42", "", "1,721", "", "2,004"),
        ("Accumulated other comprehensive loss", "", "(1,577", "", "(1,373"),
    ]
    y = 100
    for label, cur1, v1, cur2, v2 in rows:
        page.insert_text((50, y), label, fontsize=9)
        if cur1:
            page.insert_text((360, y), cur1, fontsize=9)
            page.insert_text((440, y), cur2, fontsize=9)
        page.insert_text((380, y), v1, fontsize=9)
        page.insert_text((460, y), v2, fontsize=9)
        if v1.startswith("("):
            page.insert_text((410, y), ")", fontsize=9)
            page.insert_text((490, y), ")", fontsize=9)
        y += 14
    page.insert_text((50, y), "Current assets", fontsize=9)  # a sub-heading between rows stays in the table
    page.insert_text((50, y + 14), "Total assets", fontsize=9)
    page.insert_text((380, y + 14), "36,500", fontsize=9)
    page.insert_text((460, y + 14), "37,987", fontsize=9)
    page.insert_text((50, 700), "See accompanying notes to the consolidated financial statements.", fontsize=8)
    page.insert_text((300, 760), "57", fontsize=8)


def test_a_statement_row_holds_its_label_and_all_its_values():
    lines = _page_text(_statement).split("\n")
    assert lines == [
        "CONSOLIDATED BALANCE SHEETS",
        "(in millions) | 2022 | 2021",
        "Cash and cash equivalents | $2,853 | $3,053",
        "Trade accounts receivable, net of doubtful accounts - $40 and $42 | 1,721 | 2,004",
        "Accumulated other comprehensive loss | (1,577) | (1,373)",
        "Current assets",
        "Total assets | 36,500 | 37,987",
        "See accompanying notes to the consolidated financial statements.",
        "57",
    ]


def test_period_headers_stay_a_header_line_above_the_rows_one_cell_per_column():
    def draw(page) -> None:  # noqa: ANN001
        page.insert_text((300, 60), "Three Months Ended", fontsize=9)
        page.insert_text((450, 60), "Six Months Ended", fontsize=9)
        page.insert_text((300, 74), "June 30, 2023", fontsize=9)
        page.insert_text((450, 74), "June 30, 2023", fontsize=9)
        page.insert_text((50, 88), "Net revenue", fontsize=9)
        page.insert_text((300, 88), "1,234", fontsize=9)
        page.insert_text((450, 88), "2,468", fontsize=9)

    assert _page_text(draw).split("\n") == [
        "Three Months Ended June 30, 2023 | Six Months Ended June 30, 2023",
        "Net revenue | 1,234 | 2,468",
    ]


LEFT = [
    "Revenue grew strongly in the quarter as demand",
    "for widgets recovered across all regions, led by",
    "North America.",
    "Margins improved on lower freight costs.",
]
RIGHT = [
    "The company repurchased shares worth a total",
    "of four hundred million dollars and raised its",
    "dividend.",
    "Outlook for the year is unchanged overall.",
]


def test_leader_dots_between_a_label_and_its_figures_are_cut():
    """ADOBE_2015_10K: "Total revenue........ | 4,795,511" (p.60) and, with the dots running into the first figure,
    "Revenue ........ $ 4,795,511" (Item 6, p.34)."""

    def draw(page) -> None:  # noqa: ANN001
        page.insert_text((300, 60), "2015", fontsize=9)
        page.insert_text((400, 60), "2014", fontsize=9)
        page.insert_text((50, 74), "Total revenue" + "." * 40, fontsize=9)
        page.insert_text((300, 74), "4,795,511", fontsize=9)
        page.insert_text((400, 74), "4,147,065", fontsize=9)
        page.insert_text((50, 88), "Revenue " + "." * 40 + " $ 4,795,511", fontsize=9)
        page.insert_text((400, 88), "$ 4,147,065", fontsize=9)
        page.insert_text((50, 102), "Net income . . . . . . . .", fontsize=9)
        page.insert_text((300, 102), "629,551", fontsize=9)
        page.insert_text((400, 102), "268,395", fontsize=9)

    lines = _page_text(draw).split("\n")
    assert lines[1:] == [
        "Total revenue | 4,795,511 | 4,147,065",
        "Revenue | $4,795,511 | $4,147,065",
        "Net income | 629,551 | 268,395",
    ]


def test_two_column_narrative_is_not_interleaved():
    def draw(page) -> None:  # noqa: ANN001
        for i, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):
            page.insert_text((40, 100 + 12 * i), left, fontsize=9)
        for i, right in enumerate(RIGHT):
            page.insert_text((320, 100 + 12 * i), right, fontsize=9)

    assert _page_text(draw).split("\n") == LEFT + RIGHT


def test_split_glyphs_are_mended_where_the_geometry_joins_them():
    words = [
        (50.0, 50.0, 90.0, 60.0, "Balance", 0, 0, 0),
        (92.5, 50.0, 110.0, 60.0, "Shee", 0, 0, 1),
        (110.6, 50.0, 113.0, 60.0, "t", 0, 0, 2),
        (50.0, 70.0, 70.0, 80.0, "Summ", 0, 1, 0),
        (70.5, 70.0, 85.0, 80.0, "ary", 0, 1, 1),
        (50.0, 90.0, 60.0, 100.0, "a", 0, 2, 0),  # a real one-letter word keeps its space
        (62.5, 90.0, 80.0, 100.0, "test", 0, 2, 1),
    ]
    assert layout_words(words) == "Balance Sheet\nSummary\na test"


def _line(y: float, texts: list[str], gaps: list[float]) -> list[tuple]:
    """Words of one PyMuPDF line, 10 units high, 6 units a character, with these gaps between them."""
    words, x = [], 50.0
    for n, text in enumerate(texts):
        words.append((x, y, x + 6 * len(text), y + 10, text, 0, int(y), n))
        x += 6 * len(text) + (gaps[n] if n < len(gaps) else 0)
    return words


def test_a_split_glyph_wider_than_the_mend_gap_is_mended_when_narrower_than_every_space_of_its_line():
    # 3M_2018_10K's headings: spaces at 0.23 of the height, "Incom e" at 0.14, "Shee t" at 0.19
    heading = _line(50, ["Consolidated", "Statement", "of", "Incom", "e"], [2.3, 2.3, 2.3, 1.4])
    sheet = _line(70, ["Consolidated", "Balance", "Shee", "t"], [2.3, 2.3, 1.9])
    # a justified line: every space is 1.4 wide; "of tax" is two words
    justified = _line(90, ["net", "of", "tax", "benefit"], [1.4, 1.4, 1.4])
    # a narrow space before a short English word is a space
    word = _line(110, ["Change", "in", "fair", "value"], [1.2, 2.3, 2.3])
    text = layout_words(heading + sheet + justified + word)
    assert text.splitlines() == [
        "Consolidated Statement of Income",
        "Consolidated Balance Sheet",
        "net of tax benefit",
        "Change in fair value",
    ]


def test_pages_with_no_words_are_empty_and_vertical_text_falls_back_to_plain_text():
    assert _page_text(lambda page: None) == ""

    def vertical(page) -> None:  # noqa: ANN001
        for i in range(6):
            page.insert_text((100 + 20 * i, 700), f"Rotated table row number {i}", fontsize=9, rotate=90)

    text = _page_text(vertical)
    assert "Rotated table row number 0" in text and "|" not in text


def test_a_rotated_page_keeps_its_rows():
    def draw(page) -> None:  # noqa: ANN001
        page.set_rotation(90)
        page.insert_text((50, 100), "Net sales", fontsize=9)
        page.insert_text((380, 100), "5,363", fontsize=9)
        page.insert_text((460, 100), "4,869", fontsize=9)

    assert "Net sales | 5,363 | 4,869" in _page_text(draw)


def test_thousands_of_tiny_words_are_bounded(monkeypatch):
    def dense(page) -> None:  # noqa: ANN001
        for row in range(120):
            page.insert_text((10, 10 + 6.4 * row), " ".join(f"{row * 60 + i:05d}" for i in range(60)), fontsize=2)

    started = time.perf_counter()
    text = _page_text(dense)
    assert time.perf_counter() - started < 10
    assert "00000" in text and text.count("\n") >= 100
    monkeypatch.setattr(pdf, "MAX_WORDS", 1000)  # over the cap: PyMuPDF's plain text, no layout work
    assert "|" not in _page_text(dense)


def test_a_scanned_page_inside_a_text_pdf_keeps_numbering(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((50, 60), "Item 1. Business", fontsize=10)
    scan = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.clear_with(200)
    scan.insert_image(scan.rect, pixmap=pix)
    doc.new_page().insert_text((50, 60), "Item 2. Properties", fontsize=10)
    path = tmp_path / "mixed.pdf"
    doc.save(path)
    doc.close()
    assert extract(path).pages == ["Item 1. Business", "", "Item 2. Properties"]


def test_a_new_extraction_version_re_extracts_on_re_ingest(tmp_path, monkeypatch):
    from tests.corpus.samples import TEN_K_PAGES, write_pdf

    write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1))
    try:
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"]).counts["added"] == 1
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"]).counts["unchanged"] == 1
        monkeypatch.setattr("corpus.ingest.EXTRACTION_VERSION", "pdf:rows-next")
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"]).counts["updated"] == 1
    finally:
        corpus.close()


@pytest.mark.parametrize("cell", ["1,721", "(1,577)", "$2,853", "12.5%", "—", "n/a", "(3)", "0.62"])
def test_figure_cells(cell):
    assert pdf._is_numeric(cell)


@pytest.mark.parametrize("cell", ["Net sales", "2022 Form 10-K", "Item 7"])
def test_text_cells(cell):
    assert not pdf._is_numeric(cell)


def test_guidance_ranges_of_scaled_figures_are_figure_cells():
    assert pdf._is_numeric("$98.8B – $99.8B / $99.3B")
    assert pdf._is_numeric("6.0% – 7.0% / 6.5%")
    assert pdf._is_numeric("$1.2B")
    assert not pdf._is_numeric("Mid-point")
    assert not pdf._is_numeric("B – C")


def test_a_footnote_marker_stays_with_its_column_heading():
    row = _line(50, ["(Millions)"], []) + [
        (200.0, 50.0, 230.0, 60.0, "EMEA", 0, 50, 1),
        (232.0, 50.0, 242.0, 60.0, "(a)", 0, 51, 0),
        (300.0, 50.0, 330.0, 60.0, "APAC", 0, 52, 0),
        (332.0, 50.0, 342.0, 60.0, "(a)", 0, 53, 0),
    ]
    figures = [
        (50.0, 70.0, 120.0, 80.0, "Revenues", 0, 60, 0),
        (200.0, 70.0, 230.0, 80.0, "4,871", 0, 61, 0),
        (300.0, 70.0, 330.0, 80.0, "3,835", 0, 62, 0),
    ]
    assert layout_words(row + figures).splitlines()[0] == "(Millions) | EMEA (a) | APAC (a)"


def test_a_small_footnote_number_opens_its_footnote_and_a_picture_is_named_where_it_stands():
    words = [
        (50.0, 20.0, 150.0, 30.0, "RESULTS:", 0, 0, 0),
        (16.0, 300.0, 19.0, 305.0, "1", 8, 0, 0),  # superscript, drawn after the text
        (25.0, 300.0, 90.0, 308.0, "Non-GAAP", 3, 0, 0),
        (92.0, 300.0, 130.0, 308.0, "measure", 3, 0, 1),
    ]
    text = layout_words(words, pictures=[100.0])
    assert text.splitlines() == ["RESULTS:", pdf.PICTURE_NOTE, "1 Non-GAAP measure"]


def test_real_release_and_exhibit_pages_read_as_rows(financebench_dir):
    def page_lines(doc: str, page: int) -> list[str]:
        with pymupdf.open(financebench_dir / "pdfs" / f"{doc}.pdf") as pdf_doc:
            return clean_page(pdf_page_text(pdf_doc[page - 1])).splitlines()

    guidance = page_lines("JOHNSON_JOHNSON_2023Q2_EARNINGS", 5)
    # the first guidance row's figures sit between its two label lines: they join the one they overlap most
    first = guidance.index("Adjusted Operational Sales1,2,5")
    assert guidance[first + 1] == "Change vs. Prior Year / Mid-point | 6.0% – 7.0% / 6.5% | 4.5% – 5.5% / 5.0%"
    assert "Estimated Reported Sales3,5/ Mid-point | $98.8B – $99.8B / $99.3B | $97.9B – $98.9B / $98.4B" in guidance
    amex = page_lines("AMERICANEXPRESS_2022_10K", 155)
    assert any(line.startswith("(Millions) | United States | EMEA (a) | APAC (a) | LACC (a)") for line in amex)
    exhibit = page_lines("JOHNSON_JOHNSON_2023_8K_dated-2023-08-30", 5)
    assert exhibit.count(pdf.PICTURE_NOTE) == 3
    assert not [line for line in exhibit if line.strip().isdigit()]  # no stray footnote digits
    assert (
        "1 Non-GAAP financial measure; refer to reconciliations of non-GAAP financial measures included in accompanying schedules"
        in exhibit
    )


def test_figures_between_two_label_lines_join_the_label_they_overlap_most():
    words = [
        (60.0, 218.0, 200.0, 230.0, "Adjusted Sales", 9, 0, 0),
        (60.0, 232.0, 200.0, 243.0, "Change vs. Prior Year", 9, 1, 0),
        (320.0, 226.0, 340.0, 237.0, "6.0%", 9, 2, 0),
        (460.0, 226.0, 480.0, 237.0, "4.5%", 9, 3, 0),
    ]
    assert layout_words(words).splitlines() == ["Adjusted Sales", "Change vs. Prior Year | 6.0% | 4.5%"]


def _row(y: float, label: str, *cells: tuple[float, str]) -> list[tuple]:
    """Word tuples of one row: the label at x=50, each figure as (right edge, text), about 30 points wide."""
    words = [(50.0, y, 50.0 + 5 * len(label), y + 10, label, int(y), 0, 0)]
    words += [(right - 30.0, y, right, y + 10, text, int(y), 1 + i, 0) for i, (right, text) in enumerate(cells)]
    return words


def test_a_row_with_blank_columns_gets_an_empty_cell_under_each():
    words = _row(60, "Years ended December 31,", (300, "2021"), (380, "2020"), (460, "2019"))
    words += _row(74, "Net loss", (300, "(4,290)"), (380, "(11,941)"), (460, "(636)"))
    words += _row(88, "Dividends paid", (380, "(1,158)"), (460, "(4,630)"))
    words += _row(102, "Purchase of distribution rights", (460, "(127)"))
    words += _row(116, "Treasury shares issued", (300, "1,233"), (380, "195"))
    words += _row(130, "Debt repayments", (300, "(15,371)"), (380, "(10,998)"), (460, "(12,171)"))
    assert layout_words(words).splitlines() == [
        "Years ended December 31, | 2021 | 2020 | 2019",
        "Net loss | (4,290) | (11,941) | (636)",
        "Dividends paid | | (1,158) | (4,630)",
        "Purchase of distribution rights | | | (127)",
        "Treasury shares issued | 1,233 | 195 |",
        "Debt repayments | (15,371) | (10,998) | (12,171)",
    ]
    # what clean_page leaves of it is the same text (an empty cell is "| |", a blank last column a trailing "|")
    assert clean_page(layout_words(words)) == layout_words(words)


def test_blank_columns_are_only_placed_where_the_geometry_says():
    # a figure between two columns (centred under both) leaves its row as it was
    words = _row(60, "Revenue", (300, "10"), (380, "9"))
    words += _row(74, "Cost", (300, "4"), (380, "3"))
    words += _row(88, "Centred", (340, "7"))
    assert layout_words(words).splitlines()[2] == "Centred | 7"
    # one full row is not enough to place the columns
    words = _row(60, "Revenue", (300, "10"), (380, "9")) + _row(74, "Other", (380, "3"))
    assert layout_words(words).splitlines()[1] == "Other | 3"
    # a second table under its own header takes its columns from its own rows, not from the table above
    words = _row(60, "Segment", (200, "1"), (260, "2"), (320, "3"), (380, "4"))
    words += _row(74, "Other", (200, "5"), (260, "6"), (320, "7"), (380, "8"))
    words += [(100.0, 88, 150, 98, "Change", 88, 0, 0), (300.0, 88, 330, 98, "Organic", 88, 1, 0)]
    words += [(100.0, 102, 150, 112, "Column", 102, 0, 0), (300.0, 102, 330, 102 + 10, "Total", 102, 1, 0)]
    words += _row(116, "Industrial", (270, "2.5%"), (330, "(0.3)%"))
    words += _row(130, "Consumer", (270, "1.9"), (330, "0.1"))
    assert layout_words(words).splitlines()[-2:] == ["Industrial | 2.5% | (0.3)%", "Consumer | 1.9 | 0.1"]


def test_real_statement_rows_with_blank_years_keep_their_columns(financebench_dir):
    def page_lines(doc: str, page: int) -> list[str]:
        with pymupdf.open(financebench_dir / "pdfs" / f"{doc}.pdf") as pdf_doc:
            return clean_page(pdf_page_text(pdf_doc[page - 1])).splitlines()

    # BOEING_2021_10K p.63, the cash flow statement: no dividends in 2021, none of these in 2020 or 2021
    cash_flows = page_lines("BOEING_2021_10K", 63)
    assert "Years ended December 31, | 2021 | 2020 | 2019" in cash_flows
    for row in (
        "Dividends paid | | (1,158) | (4,630)",
        "Common shares repurchased | | | (2,651)",
        "Purchase of distribution rights | | | (127)",
        "Acquisitions, net of cash acquired | (6) | | (455)",
        "787 and 777X reach-forward losses | 3,460 | 6,493 |",
    ):
        assert row in cash_flows
    # BOEING_2017_10K p.51: the one figure of 2017 stays under 2017
    assert "Purchase of distribution rights | (131) | |" in page_lines("BOEING_2017_10K", 51)
    # PEPSICO_2020_10K p.107 (Note 15): two year-end balances under a three-year header
    assert "Trade receivables | $6,892 | $6,447 |" in page_lines("PEPSICO_2020_10K", 107)
