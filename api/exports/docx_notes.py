"""Real Word footnotes for python-docx, which has no footnote API: a footnotes part (word/footnotes.xml) related to
the document, and footnote references in runs, as the Office Open XML standard (ECMA-376 Part 1, 17.11) lays them out.

Each note is one footnote, made at its first reference. The export numbers its notes in the order the text first
refers to them (api/exports/content.py), so Word's own footnote numbers are the note numbers, and the text, the
footnotes, the Sources list and the evidence pack agree. Later references to the same note are its number in
superscript (Word has one reference per footnote).
"""

from __future__ import annotations

from typing import Any

_SEPARATORS = (
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
    '<w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr>'
    '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
)
TEXT_STYLE, MARK_STYLE = "Footnote Text", "Footnote Reference"


class Footnotes:
    """The footnotes of one python-docx Document."""

    def __init__(self, document: Any) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.opc.constants import CONTENT_TYPE as CT
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.opc.packuri import PackURI
        from docx.opc.part import XmlPart
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn
        from docx.shared import Pt

        self.root = parse_xml(f"<w:footnotes {nsdecls('w')}>{_SEPARATORS}</w:footnotes>")
        part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, self.root, document.part.package)
        document.part.relate_to(part, RT.FOOTNOTES)
        # The separators named in the settings, before <w:compat> as the schema orders them (Word writes the same).
        settings = document.settings.element
        properties = parse_xml(f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr>')
        compat = settings.find(qn("w:compat"))
        if compat is not None:
            compat.addprevious(properties)
        else:
            settings.append(properties)
        styles = document.styles
        if TEXT_STYLE not in [s.name for s in styles]:
            text = styles.add_style(TEXT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
            text.base_style = styles["Normal"]
            text.font.size = Pt(8)
            text.paragraph_format.space_after = Pt(0)
            mark = styles.add_style(MARK_STYLE, WD_STYLE_TYPE.CHARACTER)
            mark.font.superscript = True
        self.made: dict[int, int] = {}  # note number -> footnote id

    def reference(self, paragraph: Any, number: int, text: str) -> None:
        """A reference to note `number` at the end of the paragraph; its footnote (with `text`) is made the first time."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        if number in self.made:
            paragraph.add_run(str(number), MARK_STYLE)
            return
        fid = self.made[number] = len(self.made) + 1
        if fid != number:
            raise ValueError(f"note {number} is referred to before note {fid}: notes must be numbered by first reference")
        run = paragraph.add_run(style=MARK_STYLE)
        ref = OxmlElement("w:footnoteReference")
        ref.set(qn("w:id"), str(fid))
        run._r.append(ref)
        self.root.append(self._footnote(fid, text))

    def _footnote(self, fid: int, text: str) -> Any:
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        body = _escape(text)
        return parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{fid}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr>'
            f'<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {body}</w:t></w:r></w:p></w:footnote>'
        )


def _escape(text: str) -> str:
    from xml.sax.saxutils import escape

    clean = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)  # XML 1.0 has no other control characters
    return escape(clean)
