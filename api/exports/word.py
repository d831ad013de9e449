"""An export as DOCX (python-docx): headings, the Markdown text as Word paragraphs, real tables, real footnotes."""

from __future__ import annotations

import io
from typing import Any

from api.exports.content import Block, Content, Note, Table
from api.exports.docx_notes import Footnotes
from api.exports.figures import MARK
from api.exports.markdown import note_text

_STYLES = {"bullet_list": "List Bullet", "ordered_list": "List Number", "blockquote": "Quote"}


class _Writer:
    def __init__(self, content: Content) -> None:
        import docx

        self.doc = docx.Document()
        self.notes = {n.number: n for n in content.notes}
        self.footnotes = Footnotes(self.doc)

    def runs(self, paragraph: Any, text: str, bold: bool = False, italic: bool = False, code: bool = False) -> None:
        """Text into runs; each marker becomes a footnote reference."""
        pos = 0
        for m in MARK.finditer(text):
            self._run(paragraph, text[pos : m.start()], bold, italic, code)
            note = self.notes.get(int(m.group(1)))
            if note is not None:
                self.footnotes.reference(paragraph, note.number, note_text(note, markdown=False))
            pos = m.end()
        self._run(paragraph, text[pos:], bold, italic, code)

    @staticmethod
    def _run(paragraph: Any, text: str, bold: bool, italic: bool, code: bool) -> None:
        if not text:
            return
        run = paragraph.add_run(_xml_safe(text))
        run.bold, run.italic = bold or None, italic or None
        if code:
            run.font.name = "Courier New"

    def inline(self, paragraph: Any, token: Any) -> None:
        """A markdown-it inline token's children as runs (bold, italic, code, line breaks, link text)."""
        bold = italic = False
        for child in token.children or []:
            kind = child.type
            if kind == "strong_open" or kind == "strong_close":
                bold = kind == "strong_open"
            elif kind == "em_open" or kind == "em_close":
                italic = kind == "em_open"
            elif kind in ("text", "html_inline"):
                self.runs(paragraph, child.content, bold, italic)
            elif kind == "code_inline":
                self.runs(paragraph, child.content, bold, italic, code=True)
            elif kind == "softbreak":
                self._run(paragraph, " ", bold, italic, False)
            elif kind == "hardbreak":
                paragraph.add_run().add_break()
            elif kind == "image":
                self.runs(paragraph, child.content or "(image)", bold, True)

    def markdown(self, text: str) -> None:
        """Markdown blocks as Word paragraphs, lists and tables."""
        from markdown_it import MarkdownIt

        tokens = MarkdownIt("commonmark", {"html": False}).enable("table").parse(text)
        context: list[str] = []
        table: list[list[str]] | None = None
        i = 0
        while i < len(tokens):
            t = tokens[i]
            if t.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
                context.append(t.type.removesuffix("_open"))
            elif t.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
                context.pop()
            elif t.type == "heading_open":
                level = min(int(t.tag[1:]) + 1, 9)
                self.inline(self.doc.add_heading("", level=level), tokens[i + 1])
                i += 2
            elif t.type == "table_open":
                table = []
            elif t.type == "tr_open" and table is not None:
                table.append([])
            elif t.type == "inline" and table is not None and t.level > 0 and tokens[i - 1].type in ("th_open", "td_open"):
                table[-1].append(t.content)
            elif t.type == "table_close" and table:
                self.table(Table("", table[0], table[1:]))
                table = None
            elif t.type == "inline":
                style = _STYLES.get(context[-1]) if context else None
                self.inline(self.doc.add_paragraph(style=style), t)
            elif t.type in ("fence", "code_block"):
                self.runs(self.doc.add_paragraph(), t.content.rstrip("\n"), code=True)
            i += 1

    def table(self, table: Table) -> None:
        if table.title:
            self.runs(self.doc.add_paragraph(), table.title, bold=True)
        width = max([len(table.columns)] + [len(r) for r in table.rows])
        grid = self.doc.add_table(rows=1 + len(table.rows), cols=width)
        grid.style = "Table Grid"
        for r, row in enumerate([table.columns, *table.rows]):
            for c in range(width):
                cell = grid.cell(r, c)
                self.runs(cell.paragraphs[0], row[c] if c < len(row) else "", bold=r == 0)
        self.doc.add_paragraph()

    def block(self, block: Block) -> None:
        if block.heading:
            self.doc.add_heading(_xml_safe(block.heading), level=min(block.level, 9))
        if block.notice:
            self.runs(self.doc.add_paragraph(style="Intense Quote"), block.notice)
        if block.text.strip():
            self.markdown(block.text)
        for b in block.bullets:
            self.runs(self.doc.add_paragraph(style="List Bullet"), b)
        for t in block.tables:
            self.table(t)

    def sources(self, notes: list[Note]) -> None:
        self.doc.add_heading("Sources", level=1)
        for n in notes:
            p = self.doc.add_paragraph()
            self._run(p, f"[{n.number}] ", True, False, False)
            self._run(p, note_text(n, markdown=False), False, False, False)


def to_docx(content: Content) -> bytes:
    w = _Writer(content)
    w.doc.core_properties.title = _xml_safe(content.title)[:250]
    w.doc.add_heading(_xml_safe(content.title), level=0)
    facts = w.doc.add_table(rows=len(content.facts), cols=2)
    facts.style = "Light List"
    for row, (k, v) in zip(facts.rows, content.facts, strict=True):
        row.cells[0].text, row.cells[1].text = k, _xml_safe(v)
    for cut in content.cuts:
        w.runs(w.doc.add_paragraph(style="Intense Quote"), f"Note: {cut}.")
    for block in content.blocks:
        w.block(block)
    if content.notes:
        w.sources(content.notes)
    out = io.BytesIO()
    w.doc.save(out)
    return out.getvalue()


def _xml_safe(text: str) -> str:
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
