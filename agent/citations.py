"""Citation checking: every cited page must exist and hold the quoted text or figure; failures are reported, not hidden."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.answer import AnswerCitation
from corpus.folios import printed_pages
from corpus.text import PagedText

_NUMBER = re.compile(r"(?<![\w.])\(?-?\$?\d[\d,]*(?:\.\d+)?%?\)?(?![A-Za-z\d])")
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*")
_DASHES = str.maketrans({"–": "-", "—": "-", "−": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})
# "[3M_2018_10K p.61]", "(3M_2018_10K, page 61)", "[AMCOR_2023Q2_10Q pp. 4-5]"
_INLINE = re.compile(
    r"[\[(]\s*(?P<doc>[A-Za-z0-9][\w.&-]*)\s*,?\s*(?:p\.|pp\.|page|pages|pg\.)\s*(?P<page>\d+)(?:\s*[-–]\s*\d+)?"
    r"(?:\s*,?\s*(?:l\.|lines?)\s*(?P<lines>\d+(?:\s*[-–]\s*\d+)?))?\s*[\])]",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])|\n+")

TextOf = Callable[[str], PagedText | None]  # doc_id -> its text, None when the corpus has no such document


def figures(text: str, *, telling: bool = False) -> list[str]:
    """Numbers in `text`, normalized: '$1,577.0' -> '1577.0', '(12)' -> '12', '3.5%' -> '3.5'.

    telling=True keeps only figures that could tell a page apart: no years, no one- or two-digit integers.
    """
    out = []
    for raw in _NUMBER.findall(text):
        digits = raw.strip("()$%-").replace("$", "").replace(",", "").rstrip(".")
        if not digits or not any(c.isdigit() for c in digits):
            continue
        if (
            telling
            and "." not in digits
            and "%" not in raw
            and (len(digits) <= 2 or (len(digits) == 4 and 1900 <= int(digits) <= 2100 and "," not in raw))
        ):
            continue
        out.append(digits)
    return out


def _squash(text: str) -> str:
    # Whitespace goes entirely: extracted filings split words ("Balance Shee t") and wrap lines anywhere.
    # Table cells are stored as 'label | 2018 | 2017': the bars are layout, not text a quote carries.
    return "".join(text.translate(_DASHES).replace("|", " ").lower().split())


@dataclass
class _Page:
    squashed: str
    line_at: list[int]  # document line number of each character of `squashed`
    figures: set[str]


def _page(text: PagedText, page: int) -> _Page:
    first, last = text.page_span(page)
    squashed: list[str] = []
    line_at: list[int] = []
    for number, line in zip(range(first, last + 1), text.page_text(page).split("\n"), strict=False):
        piece = _squash(line)
        squashed.append(piece)
        line_at.extend([number] * len(piece))
    joined = "".join(squashed)
    return _Page(joined, line_at, set(figures(text.page_text(page))))


def _figures_hold(wanted: list[str], page: _Page, figures_only: bool) -> bool:
    """All quoted figures are on the page; for a sentence around an inline marker (which may hold computed values), most."""
    if not wanted:
        return False
    found = sum(f in page.figures for f in wanted)
    return found * 2 >= len(wanted) if figures_only else found == len(wanted)


def _find(quote: str, page: _Page) -> tuple[int, int] | None:
    """Lines (first, last) where `quote` appears on the page, ellipses allowed; None when it does not."""
    parts = [_squash(p) for p in _ELLIPSIS.split(quote) if _squash(p)]
    if not parts:
        return None
    start = pos = page.squashed.find(parts[0])
    if start < 0:
        return None
    end = start + len(parts[0])
    for part in parts[1:]:
        pos = page.squashed.find(part, end)
        if pos < 0:
            return None
        end = pos + len(part)
    return page.line_at[start], page.line_at[max(start, end - 1)]


def _words_match(quote: str, page: _Page) -> bool:
    """Most adjacent word pairs of the quote appear on the page: tolerates small slips, not a bag of page words."""
    words = re.findall(r"[a-z0-9]+", quote.lower())
    pairs = [a + b for a, b in itertools.pairwise(words)]
    letters = re.sub(r"[^a-z0-9]", "", page.squashed)
    return len(pairs) >= 2 and sum(p in letters for p in pairs) >= 0.8 * len(pairs)


def check_citation(citation: AnswerCitation, text_of: TextOf, *, figures_only: bool = False) -> AnswerCitation:
    """The citation with `verified`, `problem` and (when found) `lines` filled in."""
    c = citation.model_copy()
    text = text_of(c.doc_id)
    if text is None:
        c.verified, c.problem = False, f"no document {c.doc_id!r} in the corpus"
        return c
    if not 1 <= c.page <= text.page_count:
        c.verified, c.problem = False, f"{c.doc_id} has no page {c.page} (it has {text.page_count})"
        return c
    c.printed = printed_pages(text)[c.page - 1]
    quote = c.quote.strip()
    if not quote:
        c.verified, c.problem = None, None  # the page exists; there is nothing to compare
        return c
    page = _page(text, c.page)
    found = None if figures_only else _find(quote, page)
    wanted = figures(quote, telling=True)
    if found:
        c.verified, c.problem = True, None
        c.lines = f"{found[0]}-{found[1]}" if found[1] != found[0] else str(found[0])
        return c
    if _figures_hold(wanted, page, figures_only):
        c.verified, c.problem = True, None
        return c
    if figures_only and not wanted:
        c.verified = None
        return c
    if not figures_only and not wanted and _words_match(quote, page):
        c.verified, c.problem = True, None
        return c
    c.verified = False
    what = (
        "contains none of the figures " + ", ".join(wanted[:4])
        if figures_only
        else f"does not contain the quoted {'figures' if wanted else 'text'}"
    )
    elsewhere = _elsewhere(quote, wanted, text, c.page, figures_only)
    c.problem = f"{c.doc_id} p.{c.page} {what}" + (f"; found on p.{elsewhere}" if elsewhere else "")
    return c


def _elsewhere(quote: str, wanted: list[str], text: PagedText, cited: int, figures_only: bool) -> int | None:
    """The page nearest the cited one that does hold the quote (or its figures), to tell the model where to look."""
    for page_no in sorted(range(1, text.page_count + 1), key=lambda p: abs(p - cited)):
        if page_no == cited:
            continue
        page = _page(text, page_no)
        if (not figures_only and _find(quote, page)) or _figures_hold(wanted, page, figures_only):
            return page_no
    return None


def inline_citations(text: str, is_doc: Callable[[str], bool]) -> list[AnswerCitation]:
    """Citations written into answer text as [DOC_ID p.N]; the sentence around each becomes its quote (figures are checked)."""
    out: list[AnswerCitation] = []
    seen: set[tuple[str, int]] = set()
    for sentence in _SENTENCE_END.split(text):
        for m in _INLINE.finditer(sentence):
            doc, page = m["doc"], int(m["page"])
            if not is_doc(doc) or (doc, page) in seen:
                continue
            seen.add((doc, page))
            quote = _INLINE.sub("", sentence).strip()
            out.append(AnswerCitation(doc_id=doc, page=page, lines=(m["lines"] or None), quote=quote[:300]))
    return out


def problems(citations: list[AnswerCitation]) -> list[str]:
    """One line per failed citation, for the answer's warnings and for the model to fix."""
    return [c.problem or f"{c.label()} failed the check" for c in citations if c.verified is False]
