"""Section lookup: the one section of a filing that a model's query names ("Item 7", "Note 12 Leases", "Cash Flows")."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from corpus.models import Section
from tools.errors import ToolError
from tools.outline import display_title, page_span, section_label

_ITEM_QUERY_RE = re.compile(
    r"^(?:part\s*(iv|iii|ii|i)\b[\s,.:;\-\u2013\u2014]*)?items?\s*(\d{1,2})\s*([a-c])?(?![a-z0-9])[\s.:,;\-\u2013\u2014]*(.*)$",
    re.I,
)
_NOTE_QUERY_RE = re.compile(r"^notes?\s*(?:no\.?\s*)?(\d{1,2})(?!\d)[\s.:,;\-\u2013\u2014]*(.*)$", re.I)
_FILLER_RE = re.compile(r"\b(?:the|consolidated|condensed|combined|interim|statements?|of|unaudited)\b|[()]")
_STOP_WORDS = {"the", "of", "and", "for", "in", "on", "to", "a", "an", "our", "consolidated", "condensed", "statement"}
# Queries naming a primary statement in the words filings use; matched on the query stripped of filler words.
_STATEMENT_ALIASES = (
    (re.compile(r"cash\s*flows?"), "Cash Flows"),
    (re.compile(r"comprehensive\s+(?:income|loss|earnings)(?:\s*\(?loss\)?)?"), "Comprehensive Income"),
    (re.compile(r"balance\s*sheets?|financial\s+(?:position|condition)"), "Balance Sheet"),
    (re.compile(r"income(?:\s+statements?)?|operations|earnings|profit\s+(?:and|&)\s+loss|p\s*&\s*l"), "Income Statement"),
    (re.compile(r"(?:changes\s+in\s+)?(?:(?:stock|share)holders['\u2019]?\s+|owners['\u2019]?\s+)?equity"), "Equity"),
)
_MDA_RE = re.compile(r"md\s*&\s*a|mda|management['\u2019]?s?\s+discussion.*")


def _words(text: str) -> list[str]:
    """Lowercase words in the singular; a lone 's' (PyMuPDF split "Flow s") is dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and ").replace("\u2019s", "").replace("'s", ""))
    return [_singular(w) for w in words if w != "s"]


def _singular(word: str) -> str:
    """'leases' -> 'lease', 'taxes' -> 'tax', 'liabilities' -> 'liability', 'losses' -> 'loss'; 'business' stays."""
    if len(word) <= 3 or word.endswith("ss"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _squash(text: str) -> str:
    """The words run together, so headings with split words ("Balance Shee t") equal their query."""
    return "".join(_words(text))


def _spaced(text: str) -> str:
    return f" {' '.join(_words(text))} "


def resolve_section(query: str, sections: Sequence[Section], doc_id: str, page_count: int = 3) -> Section:
    """The one section `query` names (key first, then title); a ToolError lists the candidates or closest keys."""
    q = " ".join(query.replace("\u2019", "'").split()).strip(" .:;,-")
    if not sections:
        raise ToolError(
            f"{doc_id} has no detected sections (no Items, financial statements or numbered Notes, as in many 8-Ks and "
            f"earnings releases); read it by pages, e.g. read(doc_id='{doc_id}', pages='1-{min(3, page_count)}'), "
            f"or grep(pattern=..., doc_ids=['{doc_id}'])."
        )
    if not q:
        raise ToolError(f"section is empty; pass a key from outline(doc_id='{doc_id}'), e.g. 'Item 7' or 'Note 2'.")
    numbered, found, rest = _by_number(q, sections)
    if len(found) > 1 and rest:
        found = [s for s in found if _fits(rest, s)] or found  # "Item 2 MD&A" in a 10-Q
    if found and rest and not any(_fits(rest, s) for s in found):
        elsewhere = [s for s in _by_title(rest, sections) if s not in found]
        if len(elsewhere) == 1:
            raise ToolError(
                f"'{q}' is contradictory in {doc_id}: {found[0].key} is '{display_title(found[0].title)}', while "
                f"'{rest}' is {section_label(elsewhere[0])}; pass section='{elsewhere[0].key}' or section='{found[0].key}'."
            )
    if not found and (rest or not numbered):
        found = _by_title(rest or q, sections)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        options = ", ".join(f"'{s.key}' ({_brief(s)})" for s in found[:8])
        raise ToolError(f"section='{query}' matches several sections of {doc_id}: {options}; pass one of these keys.")
    options = ", ".join(f"'{s.key}' ({_brief(s)})" for s in _closest(q, sections))
    text_hint = "" if numbered else f" To find '{q}' in the text, grep(pattern='{q}', doc_ids=['{doc_id}'])."
    raise ToolError(
        f"No section '{query}' in {doc_id}. Closest keys: {options}. outline(doc_id='{doc_id}') lists every section.{text_hint}"
    )


def _brief(section: Section) -> str:
    title = display_title(section.title or "")
    return f"{title + ', ' if title else ''}{page_span(section.start_page, section.end_page)}"


def _by_number(q: str, sections: Sequence[Section]) -> tuple[bool, list[Section], str]:
    """Sections a numbered query ("Item 7", "Part II Item 1A", "Note 12 Leases") names by key, and the words after it."""
    by_key = {s.key.lower(): s for s in sections}
    m = _NOTE_QUERY_RE.match(q)
    if m:
        hit = by_key.get(f"note {int(m.group(1))}")
        return True, ([hit] if hit else []), m.group(2).strip()
    m = _ITEM_QUERY_RE.match(q)
    if not m:
        return False, [], ""
    part, number, rest = m.group(1), str(int(m.group(2))) + (m.group(3) or "").lower(), m.group(4).strip()
    if part:
        hit = by_key.get(f"part {part.lower()} item {number}") or by_key.get(f"item {number}")
        return True, ([hit] if hit else []), rest
    hit = by_key.get(f"item {number}")
    if hit:
        return True, [hit], rest
    # A 10-Q keys items by part; "Item 1A" is the one part that has it, "Item 2" is ambiguous.
    return True, [s for s in sections if re.fullmatch(rf"part (?:iv|iii|ii|i) item {number}", s.key.lower())], rest


def _fits(words: str, section: Section) -> bool:
    """Whether words after a number ("Leases" in "Note 12 Leases") describe the section's title."""
    return (
        section in _by_title(words, [section])
        or difflib.SequenceMatcher(None, _squash(words), _squash(section.title or "")).ratio() >= 0.6
    )


def _by_title(q: str, sections: Sequence[Section]) -> list[Section]:
    """Sections whose key or title matches: exactly, by a statement alias, as a substring, by all words, or closely."""
    sq = _squash(q)
    if not sq:
        return []
    exact = [s for s in sections if sq in (_squash(s.key), _squash(s.title or ""), _squash(f"{s.key} {s.title or ''}"))]
    if exact:
        return exact
    core = " ".join(_FILLER_RE.sub(" ", q.lower().replace("\u2019", "'")).split())
    for pattern, key in _STATEMENT_ALIASES:
        if pattern.fullmatch(core):
            hits = [s for s in sections if s.key == key]
            if hits:
                return hits
    if _MDA_RE.fullmatch(q.lower()):
        hits = [s for s in sections if s.kind == "item" and " management discussion " in _spaced(s.title or "")]
        if hits:
            return hits
    hits = [s for s in sections if _spaced(q) in _spaced(s.title or "")]
    if hits:
        return _prefer_statements(q, hits)
    words = {w for w in _words(q) if w not in _STOP_WORDS}
    if words:
        hits = [s for s in sections if words <= set(_words(f"{s.key} {s.title or ''}"))]
        if hits:
            return _prefer_statements(q, hits)
    scored = sorted(
        ((difflib.SequenceMatcher(None, sq, _squash(s.title or "")).ratio(), i) for i, s in enumerate(sections)), reverse=True
    )
    if scored and scored[0][0] >= 0.8 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 0.05):
        return [sections[scored[0][1]]]
    return []


def _prefer_statements(q: str, hits: list[Section]) -> list[Section]:
    """'Statement of ...' queries mean the primary statement when a note title also matches."""
    if "statement" in q.lower():
        statements = [s for s in hits if s.kind == "statement"]
        if statements:
            return statements
    return hits


def _closest(q: str, sections: Sequence[Section], n: int = 4) -> list[Section]:
    sq = _squash(q)

    def score(s: Section) -> float:
        return max(
            difflib.SequenceMatcher(None, sq, _squash(s.key)).ratio(),
            difflib.SequenceMatcher(None, sq, _squash(s.title or "")).ratio(),
        )

    return sorted(sections, key=score, reverse=True)[:n]
