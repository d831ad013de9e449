"""What one grep call found: the hits shown with their lines, match counts per document, and how it reads to the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tools.base import Citation

OutputMode = Literal["content", "files_with_matches", "count"]


@dataclass(frozen=True)
class GrepLine:
    """One shown line: a match (or part of a multi-line match) or a context line."""

    line: int
    page: int | None
    text: str
    match: bool


@dataclass
class GrepHit:
    """One match: where it starts and ends, and the lines shown for it (context included)."""

    doc_id: str
    line: int
    end_line: int
    page: int | None
    lines: list[GrepLine] = field(default_factory=list)


@dataclass
class GrepResult:
    """Matches of one grep call: a window of hits (content mode) and match counts per document."""

    pattern: str
    output_mode: OutputMode
    flags: list[str]
    scope: str
    counts: dict[str, int]  # doc_id -> matches, in document order
    offset: int
    limit: int
    hits: list[GrepHit] = field(default_factory=list)
    context_lines: int = 0
    trimmed: bool = False  # fewer hits than `limit` shown because of the output budget
    long_matches: int = 0  # shown matches longer than the per-match line cap (shown in part)
    max_match_lines: int = 0
    stopped_mb: int | None = None  # ripgrep was stopped after this much output: counts are partial
    doc_notes: dict[str, str] = field(default_factory=dict)  # doc_id -> what its name gets wrong (tools.caveats)
    # (doc_id, line) -> its table's title, unit and columns, and the row's sub-heading ("Operating profit")
    table_notes: dict[tuple[str, int], tuple[str, str | None]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _what(self) -> str:
        flags = f" ({', '.join(self.flags)})" if self.flags else ""
        return f"{self.pattern!r}{flags}"

    def _window(self, shown: int, total: int, unit: str) -> str:
        if self.offset == 0 and shown >= total:
            return ""
        end = self.offset + shown
        text = f"; showing {unit} {self.offset + 1}-{end}"
        if self.trimmed:
            text += " (output budget reached)"
        if end < total:
            text += f"; call again with offset={end} for more"
        return text

    def render(self) -> str:
        ndocs = len(self.counts)
        if self.output_mode == "content":
            return self._render_content(ndocs)
        rows = list(self.counts.items())[self.offset : self.offset + self.limit]
        head = f"{counted(self.total, 'match', 'matches')} for {self._what()} in {counted(ndocs, 'document')} ({self.scope})"
        head += self._window(len(rows), ndocs, "documents")
        if self.stopped_mb is not None:
            head += f" (stopped after {self.stopped_mb:,} MB of ripgrep output: counts are partial)"
        if self.output_mode == "count":
            return "\n".join([head] + [f"{doc_id}: {n}{self._note(doc_id)}" for doc_id, n in rows])
        body = [f"{doc_id} ({counted(n, 'match', 'matches')}){self._note(doc_id)}" for doc_id, n in rows]
        return "\n".join([head] + body + ["Show the lines with output_mode='content' and doc_ids=[...]."])

    def _render_content(self, ndocs: int) -> str:
        head = f"{counted(self.total, 'match', 'matches')} for {self._what()} in {counted(ndocs, 'document')} ({self.scope})"
        head += self._window(len(self.hits), self.total, "matches")
        if self.stopped_mb is not None:
            head += f"\n(stopped after {self.stopped_mb:,} MB of ripgrep output: counts are partial; narrow the pattern, glob or doc_ids)"
        if self.long_matches:
            long = counted(self.long_matches, "match", "matches")
            head += (
                f"\n({long} longer than {self.max_match_lines} lines shown in part; read() the line range given to see the rest)"
            )
        if self.context_lines:
            head += "\n(':' after the line number marks a matching line, '-' a context line)"
        out = [head]
        by_doc: dict[str, list[GrepHit]] = {}
        for hit in self.hits:
            by_doc.setdefault(hit.doc_id, []).append(hit)
        for doc_id, hits in by_doc.items():
            shown = f"; showing {len(hits)}" if len(hits) < self.counts[doc_id] else ""
            out.append(f"\n## {doc_id} ({counted(self.counts[doc_id], 'match', 'matches')}{shown}){self._note(doc_id)}")
            merged: dict[int, GrepLine] = {}
            for hit in hits:
                for line in hit.lines:
                    seen = merged.get(line.line)
                    if seen is None or (line.match and not seen.match):
                        merged[line.line] = line
            previous: int | None = None
            last_table = last_group = None
            for number in sorted(merged):
                line = merged[number]
                if self.context_lines and previous is not None and number > previous + 1:
                    out.append("--")
                page = f"p.{line.page}" if line.page else "p.?"
                out.append(f"{page} l.{line.line}{':' if line.match else '-'} {line.text}".rstrip())
                if (found := self.table_notes.get((doc_id, number))) is not None:
                    table, group = found
                    if table != last_table:  # once per table: the rows after it share it
                        out.append(f"    [{table}" + (f"; row under '{group}'" if group else "") + "]")
                    elif group != last_group and group:
                        out.append(f"    [row under '{group}']")
                    last_table, last_group = table, group
                previous = number
        return "\n".join(out)

    def _note(self, doc_id: str) -> str:
        return f" (note: {note})" if (note := self.doc_notes.get(doc_id)) else ""

    def citations(self) -> list[Citation]:
        return [Citation(h.doc_id, h.page, h.line) for h in self.hits if h.page is not None]


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """'1 match', '3 matches', '1,200 documents'."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"
