"""Page-aware text: the normalized form every document takes in the store."""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class PagedText:
    """A document as lines with a line -> page map; lines and pages are 1-based."""

    lines: tuple[str, ...]
    page_starts: tuple[int, ...]  # page_starts[i] is the first line of page i + 1

    @classmethod
    def from_pages(cls, pages: list[str]) -> PagedText:
        """Join cleaned page texts; every page gets at least one line so numbering never shifts."""
        lines: list[str] = []
        starts: list[int] = []
        for page in pages:
            starts.append(len(lines) + 1)
            page_lines = page.split("\n") if page else [""]
            if len(page_lines) > 1 and page_lines[-1] == "":
                page_lines.pop()
            lines.extend(page_lines)
        return cls(tuple(lines), tuple(starts))

    @property
    def page_count(self) -> int:
        return len(self.page_starts)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def text(self) -> str:
        """The store's file content: lines joined by newlines, ending with one."""
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def page_of_line(self, line: int) -> int:
        """Page number (1-based) holding 1-based line number `line`."""
        if not 1 <= line <= len(self.lines):
            raise IndexError(f"line {line} out of range 1..{len(self.lines)}")
        return bisect.bisect_right(self.page_starts, line)

    def page_span(self, page: int) -> tuple[int, int]:
        """First and last line (1-based, inclusive) of 1-based `page`."""
        if not 1 <= page <= len(self.page_starts):
            raise IndexError(f"page {page} out of range 1..{len(self.page_starts)}")
        start = self.page_starts[page - 1]
        end = self.page_starts[page] - 1 if page < len(self.page_starts) else len(self.lines)
        return start, end

    def page_text(self, page: int) -> str:
        start, end = self.page_span(page)
        return "\n".join(self.lines[start - 1 : end])

    def pages(self) -> list[str]:
        return [self.page_text(p) for p in range(1, self.page_count + 1)]
