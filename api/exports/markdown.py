"""An export as Markdown: the text with [^n] footnotes, each naming the page, its printed number, quote, verdict and URL."""

from __future__ import annotations

from api.exports.content import Content, Note, Table
from api.exports.figures import unmark


def _footnote(n: int) -> str:
    return f"[^{n}]"


def _cell(text: str) -> str:
    return unmark(text, _footnote).replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> list[str]:
    lines = [f"**{table.title}**", "", "| " + " | ".join(_cell(c) for c in table.columns) + " |"]
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    for row in table.rows:
        cells = list(row) + [""] * (len(table.columns) - len(row))
        lines.append("| " + " | ".join(_cell(c) for c in cells[: len(table.columns)]) + " |")
    return lines + [""]


def note_text(note: Note, markdown: bool = True) -> str:
    """'3M_2018_10K p.60, printed 58: "quote" (checked: on the page) <url>': the note as one line (the URL bare
    outside Markdown)."""
    quote = " ".join(note.citation.quote.split())
    said = f': "{quote}"' if quote else ""
    url = f"<{note.url}>" if markdown else note.url
    return f"{note.label()}{said} ({note.verdict()}) {url}"


def to_markdown(content: Content) -> str:
    lines = [f"# {content.title}", ""]
    lines += [f"- **{k}:** {v}" for k, v in content.facts] + [""]
    for cut in content.cuts:
        lines += [f"> Note: {cut}.", ""]
    for block in content.blocks:
        if block.heading:
            lines += [f"{'#' * (block.level + 1)} {block.heading}", ""]
        if block.notice:
            lines += [f"> {block.notice}", ""]
        if block.text.strip():
            lines += [unmark(block.text, _footnote).strip(), ""]
        if block.bullets:
            lines += [f"- {unmark(b, _footnote)}" for b in block.bullets] + [""]
        for table in block.tables:
            lines += table_markdown(table)
    for note in content.notes:
        lines.append(f"[^{note.number}]: {note_text(note)}")
    return "\n".join(lines).rstrip() + "\n"
