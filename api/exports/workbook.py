"""The evidence pack as XLSX (XlsxWriter, constant memory: rows go to disk as written): figures, tool calls, plan."""

from __future__ import annotations

from pathlib import Path

from api.exports.content import Content
from api.exports.figures import Figure, unmark

FIGURE_COLUMNS = [
    "note", "statement", "figure as stated", "value", "unit", "doc_id", "company", "form", "fiscal period",
    "accession", "page", "printed page", "quote", "XBRL concept", "check", "page image", "arm",
]  # fmt: skip
STEP_COLUMNS = ["arm", "agent", "tool", "arguments", "seconds", "ok", "summary"]


def _figure_row(f: Figure, content: Content) -> list[object]:
    note = content.notes[f.note - 1] if f.note is not None else None
    c = note.citation if note else None
    doc = f.doc
    return [
        f.note if f.note is not None else "",
        f.statement,
        f.stated,
        f.value,
        f.unit,
        c.doc_id if c else "",
        (doc.company or "") if doc else "",
        (doc.form or "") if doc else "",
        (doc.period or "") if doc else "",
        (doc.accession or "") if doc else "",
        c.page if c else "",
        (c.printed or "") if c else "",
        c.quote if c else "",
        f.concept or "",
        note.verdict() if note else "not cited: the text gives no source for this figure (computed, or uncited)",
        note.url if note else "",
        f.arm,
    ]


def write_xlsx(content: Content, path: Path) -> Path:
    import xlsxwriter

    # Text is written as text: a model's "=..." never becomes a formula, nor its "http..." a link (page images are links).
    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent), **options})
    try:
        bold = book.add_format({"bold": True})
        figures = book.add_worksheet("figures")
        figures.write_row(0, 0, FIGURE_COLUMNS, bold)
        link = FIGURE_COLUMNS.index("page image")
        for n, f in enumerate(content.figures, start=1):
            row = _figure_row(f, content)
            figures.write_row(n, 0, row)
            if str(row[link]).startswith(("http://", "https://")) and len(str(row[link])) < 2000:
                figures.write_url(n, link, str(row[link]))
        row = len(content.figures) + 2
        for cut in content.cuts:
            figures.write_row(row, 0, ["note", f"{cut}."])
            row += 1
        steps = book.add_worksheet("tool calls")
        row = 0
        for k, v in content.facts:
            steps.write_row(row, 0, [k, v])
            row += 1
        steps.write_row(row + 1, 0, STEP_COLUMNS, bold)
        for n, s in enumerate(content.steps, start=row + 2):
            steps.write_row(n, 0, [s.arm, s.agent, s.name, s.arguments, s.seconds, "yes" if s.ok else "no", s.summary])
        _plan(book.add_worksheet("plan"), content, bold)
    finally:
        book.close()
    return path


def _plan(sheet: object, content: Content, bold: object) -> None:
    plan = content.plan
    if plan is None:
        mode = dict(content.facts).get("Mode", "")
        sheet.write_row(0, 0, [f"This is a {mode} run: it answers one question and has no plan (reports have one)."])
        return
    sheet.write_row(0, 0, ["plan", unmark(plan.title)], bold)
    sheet.write_row(2, 0, ["section", "questions", "filings"], bold)
    row = 3
    for s in plan.sections:
        sheet.write_row(row, 0, [s.title, "\n".join(s.questions), ", ".join(s.filings)])
        row += 1
    for item in plan.left_out:
        sheet.write_row(row + 1, 0, ["left out", item])
        row += 1
