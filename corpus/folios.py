"""Printed page numbers (folios): 'printed 79' on PDF page 81, read from the page's edge lines and checked against neighbours."""

from __future__ import annotations

import re

from corpus.text import PagedText

EDGE_LINES = 3  # non-empty lines at the bottom and the top of a page where a folio may stand
NEIGHBOURS = 2  # pages each side whose folio must agree for a page's folio to count
# "79", "Page 79", "F-3", "A-12"; a figure with thousands separators or decimals is never a folio.
_FOLIO = re.compile(r"^(?:page\s+)?(?:([A-Z])\s?[-\u2013]\s?)?(\d{1,4})$", re.I)


def printed_pages(text: PagedText) -> list[str | None]:
    """The folio of each page (index 0 is page 1), None where none can be read or it does not follow its neighbours."""
    found = [_candidate(text, page) for page in range(1, text.page_count + 1)]
    out: list[str | None] = []
    for i, folio in enumerate(found):
        agrees = folio is not None and any(
            (other := found[j]) is not None and other[0] == folio[0] and other[1] - folio[1] == j - i
            for j in range(max(0, i - NEIGHBOURS), min(len(found), i + NEIGHBOURS + 1))
            if j != i
        )
        out.append((f"{folio[0]}-{folio[1]}" if folio[0] else str(folio[1])) if agrees else None)
    return out


def page_label(page: int, printed: str | None) -> str:
    """'p.81, printed 79'; 'p.81' when the folio is unknown or the same number."""
    return f"p.{page}" + (f", printed {printed}" if printed and printed != str(page) else "")


def printed_span(folios: list[str | None], first: int, last: int) -> str:
    """' (printed 60-62)' for PDF pages first..last when their folios are known and differ from the PDF numbers, else ''."""
    a, b = folios[first - 1], folios[last - 1]
    if a is None or b is None or (a == str(first) and b == str(last)):
        return ""
    return f" (printed {a})" if first == last else f" (printed {a}-{b})"


def _candidate(text: PagedText, page: int) -> tuple[str, int] | None:
    start, end = text.page_span(page)
    lines = [line.strip() for line in text.lines[start - 1 : end] if line.strip()]
    for line in [*reversed(lines[-EDGE_LINES:]), *lines[:EDGE_LINES]]:
        if (m := _FOLIO.match(line)) is not None:
            return (m[1] or "").upper(), int(m[2])
    return None
