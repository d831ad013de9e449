"""Inline XBRL (EDGAR .htm): every ix:nonFraction with its context, unit, scale, sign and format, placed on its page and row."""

from __future__ import annotations

import re

from corpus.text import PagedText
from corpus.xbrl import (
    MAX_FACTS,
    XbrlDocument,
    XbrlFact,
    concept_words,
    dei_values,
    flag_duplicates,
    local,
    numeric_fact,
    parse_contexts,
)

_UNITS = re.compile(r"\bin\s+(thousands|millions|billions)\b", re.I)
_SCALES = {"thousands": 3, "millions": 6, "billions": 9}
_CELL_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_ROW_SEARCH = 12  # lines after the anchor where its row may be (a cell's text is emitted when the row ends)


def inline_facts(root, anchors: list[tuple[object, int, int]], text: PagedText) -> XbrlDocument:  # noqa: ANN001
    """Facts of an inline XBRL filing; visible ones get page, line, row label and whether they agree with the row."""
    contexts, units = parse_contexts(root)
    warnings: list[str] = []
    facts: list[XbrlFact] = []
    placed: set[int] = set()
    all_tags = [el for el in root.iter() if isinstance(el.tag, str) and local(el.tag) == "nonfraction"]
    for el, page_index, at in anchors:
        if len(facts) >= MAX_FACTS:
            warnings.append(f"more than {MAX_FACTS:,} facts; the rest were not read")
            break
        placed.add(id(el))
        fact = numeric_fact(el, contexts, units, warnings)
        if fact is None:
            continue
        _place(fact, page_index, at, text)
        facts.append(fact)
    for el in all_tags:  # hidden facts (ix:header > ix:hidden) sit on no page
        if id(el) in placed or len(facts) >= MAX_FACTS:
            continue
        fact = numeric_fact(el, contexts, units, warnings)
        if fact is not None:
            fact.hidden = True
            fact.label = concept_words(fact.concept)
            facts.append(fact)
    flag_duplicates(facts, warnings)
    return XbrlDocument(facts, dei_values(root), warnings, len(all_tags))


def _place(fact: XbrlFact, page_index: int, at: int, text: PagedText) -> None:
    """Find the fact's line on its page (its row, for a table cell) and take the row's first cell as its label."""
    page = page_index + 1
    if page > text.page_count:
        return
    first, last = text.page_span(page)
    fact.page = page
    figure = _CELL_NUMBER.search(fact.printed)
    start = first + at
    if not fact.printed:  # a nil fact prints nothing: its row is the next line, and there is nothing to disagree with
        fact.line = min(start, last)
        cells = text.lines[fact.line - 1].split(" | ")
        fact.label = cells[0][:300] if len(cells) > 1 else concept_words(fact.concept)
        fact.agrees = fact.value is None
        return
    for number in range(start, min(last, start + _ROW_SEARCH) + 1):
        line = text.lines[number - 1]
        if (figure is None and fact.printed and fact.printed in line) or (figure is not None and figure.group(0) in line):
            fact.line = number
            break
    if fact.line is None:
        fact.line = min(start, last)
        fact.label = concept_words(fact.concept)
        fact.agrees = False
        return
    line = text.lines[fact.line - 1]
    cells = [c.strip() for c in line.split(" | ")]
    if len(cells) > 1 and not _CELL_NUMBER.fullmatch(cells[0].strip("$()%—–- ")):
        fact.label = cells[0][:300]
        in_value_cell = figure is not None and any(figure.group(0) in _cell_figure(c) for c in cells[1:])
        fact.agrees = figure is None or in_value_cell or figure.group(0) in cells[0]  # "net of tax of $47" in the label
        if in_value_cell and fact.agrees:
            fact.agrees = _scale_agrees(fact, text, first, fact.line)
    else:  # a figure in running text: the concept names it
        fact.label = concept_words(fact.concept)
        fact.agrees = figure is None or figure.group(0) in line


def _scale_agrees(fact: XbrlFact, text: PagedText, first: int, line: int) -> bool:
    """A money figure in a table declared '(in millions)' must carry scale 6 (thousands 3, billions 9)."""
    if fact.unit != "USD" or fact.scale < 3:
        return True  # per-share amounts, counts and exact dollars are printed as they are
    for number in range(line - 1, max(first, line - 60) - 1, -1):
        m = _UNITS.search(text.lines[number - 1])
        if m is not None:
            return _SCALES[m.group(1).lower()] == fact.scale
    return True


def _cell_figure(cell: str) -> list[str]:
    return _CELL_NUMBER.findall(cell)
