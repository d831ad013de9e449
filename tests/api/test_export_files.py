"""Exported files opened and checked: Markdown footnotes resolve, the DOCX parses with its tables and footnotes, the
PDF's text (PyMuPDF) holds the memo, page numbers and notes, the XLSX evidence pack reads back with a page per figure."""

from __future__ import annotations

import re
import zipfile

import pytest

from api.exports import ExportSettings, build, content_of
from api.exports.figures import stated_in
from api.exports.markdown import to_markdown
from tests.api.export_samples import answer_run, compare_run, report_run

RUNS = {"answer": answer_run, "report": report_run, "compare": compare_run}


def footnotes(markdown: str) -> tuple[set[str], set[str]]:
    refs = set(re.findall(r"\[\^(\d+)\](?!:)", markdown))
    defs = set(re.findall(r"^\[\^(\d+)\]:", markdown, re.M))
    return refs, defs


@pytest.mark.parametrize("kind", RUNS)
def test_markdown_footnotes_all_resolve(kind):
    md = to_markdown(content_of(RUNS[kind](), base_url="http://127.0.0.1:8000"))
    refs, defs = footnotes(md)
    assert refs and refs == defs, (refs, defs)
    first_seen = list(dict.fromkeys(int(n) for n in re.findall(r"\[\^(\d+)\](?!:)", md)))
    assert first_seen == sorted(first_seen), "notes are numbered in the order the text first refers to them"
    assert "http://127.0.0.1:8000/v1/documents/3M_2018_10K/pages/60/image" in md
    assert "printed 58" in md  # the page number printed on the page, where known


def test_report_markdown_keeps_sections_tables_failures_and_not_found():
    md = to_markdown(content_of(report_run()))
    assert md.startswith("# 3M capital allocation, FY2018")
    assert "| Capital expenditure | 1,577[^1] |" in md
    assert "> The research of this section failed: the model endpoint timed out" in md
    assert "### What was checked and not found" in md
    # Notes are numbered by first reference: the summary cites the run's citations 1 and 3, so its 3 is note 2.
    assert re.search(r"\[\^2\]: 3M_2018_10K p\.60: \"Dividends paid \(3,193\)\" \(failed: ", md)
    assert "| Net sales | 32,765[^3] |" in md


def test_plain_answer_figures_link_to_the_citation_that_quotes_them():
    content = content_of(answer_run())
    by_figure = {f.stated: f.note for f in content.figures}
    assert by_figure["$1,577 million"] == 1 and by_figure["$32,765 million"] == 2
    assert [f.note for f in content.figures if f.statement.startswith("3M capital expenditure")] == [3, 4]  # chart points


def test_figures_are_not_names_years_or_marker_numbers():
    found = [s.text for s in stated_in("3M's 10K for FY2018 (2018) shows $1,577 million, 14.9%, 7 plants, $5m and 0.25.")]
    assert found == ["$1,577 million", "14.9%", "$5m", "0.25"]


def test_docx_has_real_tables_and_footnotes(tmp_path):
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    path = build("docx", content_of(report_run()), None, tmp_path)
    doc = docx.Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert "Executive summary" in texts and "Capital expenditure" in texts
    table = next(t for t in doc.tables if t.cell(0, 0).text == "Item")
    assert [c.text for c in table.rows[1].cells] == ["Capital expenditure", "1,5771"]  # the cell's value and its footnote mark
    notes = doc.part.part_related_by(RT.FOOTNOTES)
    xml = notes.blob.decode() if hasattr(notes, "blob") else notes._element.xml
    ids = set(re.findall(r'w:footnote w:id="(\d+)"', xml)) | set(re.findall(r'<w:footnote [^>]*w:id="(\d+)"', xml))
    body = doc.element.xml
    refs = set(re.findall(r'<w:footnoteReference [^>]*w:id="(\d+)"', body))
    assert refs and refs <= ids, (refs, ids)
    assert '<w:footnote w:id="-1"/>' in doc.settings.element.xml  # the separators, named in the settings as Word does
    assert "3M_2018_10K p.60, printed 58" in xml and "Dividends paid (3,193)" in xml and "failed:" in xml


@pytest.mark.slow
@pytest.mark.parametrize("kind", RUNS)
def test_pdf_text_holds_the_memo_page_numbers_and_notes(kind, tmp_path):
    import pymupdf

    path = build("pdf", content_of(RUNS[kind](), base_url="http://h"), None, tmp_path)
    with pymupdf.open(path) as pdf:
        text = "\n".join(page.get_text() for page in pdf)
        count = pdf.page_count
    flat = " ".join(text.split())
    assert f"Page 1 of {count}" in flat
    assert (
        "Sources" in flat
        and "3M_2018_10K p.60, printed 58" in flat
        and "http://h/v1/documents/3M_2018_10K/pages/60/image" in flat
    )
    if kind == "report":
        assert "3M capital allocation, FY2018" in flat and "The research of this section failed" in flat
        assert "Capex and sales (USD millions)" in flat
    if kind == "compare":
        assert "Agentic answer" in flat and "RAG answer" in flat


def test_pdf_appends_the_cited_page_images_it_is_given(tmp_path):
    import pymupdf

    content = content_of(answer_run())
    assert content.pages == [("3M_2018_10K", 60), ("3M_2018_10K", 58)]
    path = build("pdf", content, {("3M_2018_10K", 60): _png(40), ("3M_2018_10K", 58): _png(50)}, tmp_path)
    with pymupdf.open(path) as pdf:
        images = {img[0] for page in pdf for img in page.get_images()}
        last_two = [pdf[-2].get_text(), pdf[-1].get_text()]
    assert len(images) == 2 and "3M_2018_10K p.60" in last_two[0] and "3M_2018_10K p.58" in last_two[1]


def test_xlsx_evidence_pack_reads_back_with_a_page_per_figure(tmp_path):
    import openpyxl

    path = build("xlsx", content_of(report_run(), base_url="http://h"), None, tmp_path)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["figures", "tool calls", "plan"]
    rows = list(book["figures"].iter_rows(values_only=True))
    header, figures = rows[0], [r for r in rows[1:] if r and r[0] not in (None, "note")]
    col = {name: i for i, name in enumerate(header)}
    assert len(figures) >= 6
    for row in figures:
        assert isinstance(row[col["page"]], int), row
        assert row[col["doc_id"]] == "3M_2018_10K" and row[col["page image"]].startswith("http://h/v1/documents/")
    dividends = next(r for r in figures if r[col["figure as stated"]] == "$3,193 million")
    assert dividends[col["value"]] == 3193 and dividends[col["unit"]] == "USD million"
    assert dividends[col["check"]].startswith("failed:")
    table_cell = next(r for r in figures if r[col["statement"]].startswith("Capex and sales (USD millions): Net sales"))
    assert table_cell[col["unit"]] == "USD millions" and table_cell[col["page"]] == 58
    steps = list(book["tool calls"].iter_rows(values_only=True))
    assert ("Model", "fake-model") in [tuple(r[:2]) for r in steps]
    assert any(r[2] == "grep" and '"pattern": "property, plant"' in r[3] and r[4] == 0.21 for r in steps if r and len(r) > 4)
    plan = [r for r in book["plan"].iter_rows(values_only=True) if r]
    assert ("Capital expenditure", "How much did 3M spend on PP&E?", "3M_2018_10K") in [tuple(r[:3]) for r in plan]
    assert ("left out", "Acquisitions before FY2016") in [tuple(r[:2]) for r in plan]


def test_xlsx_of_an_answer_says_it_has_no_plan(tmp_path):
    import openpyxl

    book = openpyxl.load_workbook(build("xlsx", content_of(answer_run()), None, tmp_path), read_only=True)
    assert "has no plan" in next(book["plan"].iter_rows(values_only=True))[0]


@pytest.mark.slow
def test_zip_pack_holds_every_format_and_the_page_images(tmp_path):
    content = content_of(answer_run())
    path = build("zip", content, {("3M_2018_10K", 60): _png()}, tmp_path)
    with zipfile.ZipFile(path) as pack:
        names = set(pack.namelist())
    stem = "sleuth-run-answer"
    assert {f"{stem}.md", f"{stem}.docx", f"{stem}.pdf", f"{stem}.xlsx", "pages/3M_2018_10K_p60.png"} <= names


def test_bounds_cut_huge_text_and_cap_page_images_and_say_so():
    settings = ExportSettings(max_text_chars=2000, max_page_images=1)
    content = content_of(report_run(sections=8, paragraphs=40), settings=settings)
    md = to_markdown(content)
    assert len(md) < 12_000
    assert "text cut at 2,000 characters (SLEUTH_EXPORT_MAX_TEXT_CHARS)" in md
    assert content.pages == [("3M_2018_10K", 60)]
    assert "1 cited pages not shown as images (SLEUTH_EXPORT_MAX_PAGE_IMAGES=1): 3M_2018_10K p.58" in md


def test_model_html_is_escaped_and_loads_nothing(tmp_path):
    from api.exports.pdf import to_html

    run = answer_run()
    run.result["text"] = 'Revenue <img src="file:///etc/passwd"> ![x](http://example.com/a.png) <script>x</script>'
    content = content_of(run)
    html = to_html(content)
    assert "<img" not in html and "<script" not in html
    import pymupdf

    with pymupdf.open(build("pdf", content, None, tmp_path)) as pdf:
        assert "&lt;script&gt;" not in pdf[0].get_text() and "<script>x</script>" in pdf[0].get_text()


def _png(width: int = 40) -> bytes:
    import pymupdf

    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, 60), False)
    pix.clear_with(200)
    return pix.tobytes("png")


def test_xlsx_writes_model_text_as_text_never_a_formula(tmp_path):
    import openpyxl

    run = answer_run()
    run.result["citations"][0]["quote"] = '=HYPERLINK("http://evil","x") (1,577)'
    book = openpyxl.load_workbook(build("xlsx", content_of(run), None, tmp_path))
    quotes = [r[12] for r in book["figures"].iter_rows(min_row=2, values_only=True)]
    assert '=HYPERLINK("http://evil","x") (1,577)' in quotes
    assert all(c.data_type != "f" for row in book["figures"].iter_rows() for c in row)
