"""Financial statements and numbered notes of a filing, found by their titles and given line spans."""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.headings import (
    CONTINUED_RE,
    DASHES,
    DocView,
    Section,
    after_run_on,
    clean_title,
    container_end,
    in_toc,
    is_mention,
    looks_like_toc_entry,
    make_section,
    set_end,
    title_after,
    toc_ends,
)

STATEMENT_KEYS = ("Balance Sheet", "Income Statement", "Comprehensive Income", "Cash Flows", "Equity")

_NOTE_RE = re.compile(rf"\nN?OTE[ \t]*(\d{{1,2}})(?!\d|[.,]\d)([ \t]*[.:,{DASHES}]?)[ \t]*(.*)$", re.I | re.M)
_BARE_NOTE_RE = re.compile(r"\n(\d{1,2})(?:\.(?!\d)[ \t]*|[ \t]+(?=[A-Z]))(.*)$", re.M)
_STATEMENT_HINT_RE = re.compile(
    r"\n(?:the[ \t]+)?(?:con(?:solidated|densed)|combined|interim|statements?[ \t]|balance|income[ \t]+statement"
    r"|cash[ \t]+flows?[ \t]+statement|(?:stock|share)(?:holders|owners)"
    r"|comprehensive[ \t]+(?:income|loss)[ \t]+statement)",
    re.I,
)
_FIGURE_RE = re.compile(r"\d,\d{3}|\$|%")
_MONEY_RE = re.compile(r"\d,\d{3}|\(\d[\d,.]*\)")
_NUMBER_CELL_RE = re.compile(r"[\s$(]*(?:\d[\d,.]*\)?|[\u2014\u2013-])\s*[$%]?\s*$")

# Statement titles are matched on the line lowercased with everything but letters removed, which also
# survives PyMuPDF splitting words ("Statement of Incom e").
# A company name may lead the title at the top of a page: "NIKE, Inc. Consolidated Statements of Income".
_STMT_PREFIX = (
    r"^(?:[a-z]{0,40}?(?:inc|corporation|company|corp|ltd|plc|llc|subsidiaries))?(?:the)?"
    r"(?:condensed|consolidated|combined|interim)*"
)
_STATEMENT_RE = re.compile(
    _STMT_PREFIX + r"(?:(?P<ci>statements?of(?:consolidated)?comprehensive(?:income|loss|earnings)"
    r"|comprehensive(?:income|loss)statements?)"
    r"|(?P<inc>statements?of(?:consolidated)?(?:income|operations|earnings)|incomestatements?)"
    r"|(?P<bs>balancesheets?|statements?of(?:consolidated)?financial(?:position|condition))"
    r"|(?P<cf>statements?of(?:consolidated)?cashflows?|cashflows?statements?)"
    r"|(?P<eq>statements?of(?:changesin)?(?:consolidated)?(?:total)?(?:(?:share|stock)(?:holders?|owners?)s?)?"
    r"(?:equity|investment|deficit)"
    r"|(?:share|stock)(?:holders?|owners?)s?equitystatements?))"
)
_STATEMENT_GROUPS = {
    "ci": "Comprehensive Income",
    "inc": "Income Statement",
    "bs": "Balance Sheet",
    "cf": "Cash Flows",
    "eq": "Equity",
}
# What may follow a statement title on its line: a second statement name, "(unaudited)", the periods covered.
_STMT_SUFFIX = re.compile(
    r"(?:loss|income|earnings|deficit)?"
    r"(?:and(?:comprehensive)?(?:income|loss|earnings)(?:loss)?|andretainedearnings"
    r"|andredeemable(?:noncontrolling)?interests?)?"
    r"(?:for|the|each|of|three|six|nine|twelve|months?|weeks?|quarters?|fiscal|years?|periods?|ended|ending|at|as|and"
    r"|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|in|millions|thousands|billions|dollars|except|per|share|amounts?|unaudited)*"
)
_STATEMENT_RUN_PAGES = 15  # the primary statements sit together; a title farther away is a mention
_NON_LETTERS = re.compile(r"[^a-z]+")


def find_financials(doc: DocView, items: list[Section], fin_item: Section | None) -> list[Section]:
    """Primary statements, then notes, with their ends set; looked for in `fin_item` first (Item 8, Part I Item 1)."""
    lo, hi = (fin_item.start_line, fin_item.end_line) if fin_item else (1, doc.n)
    hits = _statement_hits(doc)
    statements = _pick_statements(doc, hits, lo, hi)
    if len(statements) < 2 and fin_item is not None:
        # Item 8 may only point elsewhere ("see page F-1", or statements printed inside Item 7).
        statements = _pick_statements(doc, hits, 1, doc.n) or statements
    if statements:
        notes = _find_notes(doc, statements[0].start_line + 1, container_end(items, statements[0].start_line, doc.n))
    else:
        # Without statements to anchor them, only a run that starts at Note 1 counts.
        notes = _find_notes(doc, lo, hi)
        notes = notes if notes and notes[0].number == "1" else []
    if notes:  # a statement title after Note 1 is a table inside the notes
        statements = [s for s in statements if s.start_line < notes[0].start_line]
    _close_financials(doc, items, statements, notes)
    return statements + notes


def _statement_word(line: str) -> bool:
    """Cheap test before the full title match: a short line with a word every statement title has."""
    if len(line) > 140:
        return False
    low = line.lower()
    return "stat" in low or "shee" in low or "posit" in low or "condit" in low


def _statement_kind(line: str) -> str | None:
    if len(line) > 140 or line.endswith((".", ":", ";", ",")) or line.lower().endswith(" and"):
        return None
    compact = _NON_LETTERS.sub("", line.lower())
    m = _STATEMENT_RE.match(compact)
    if m is None or not _STMT_SUFFIX.fullmatch(compact, m.end()):
        return None
    return _STATEMENT_GROUPS[m.lastgroup]


def _is_financial_table(doc: DocView, line: int) -> bool:
    """A table of figures follows: a dozen number cells, some of them money-like, within 150 lines."""
    cells = money = 0
    for j in range(line, min(doc.n, line + 150)):
        text = doc.lines[j]
        if _MONEY_RE.search(text):
            money += 1
            cells += 1
        elif _NUMBER_CELL_RE.match(text):
            cells += 1
        if cells >= 12 and money >= 3:
            return True
    return False


def _statement_hits(doc: DocView) -> list[tuple[int, str]]:
    """(line, kind) of every title of a primary statement that heads a table of figures."""
    lines = {line for line, _m in doc.matches(_STATEMENT_HINT_RE)}
    for page in range(1, doc.paged.page_count + 1):
        lines.update(j for j in doc.page_head(page, 6) if _statement_word(doc.lines[j - 1]))
    hits: list[tuple[int, str]] = []
    kinds_per_page: dict[int, set[str]] = {}
    for line in sorted(lines):
        title = doc.lines[line - 1].strip()
        kind = _statement_kind(title)
        if kind is None and len(title) <= 70 and line < doc.n and 0 < len(doc.lines[line]) <= 40:
            kind = _statement_kind(f"{title} {doc.lines[line].strip()}")  # title broken over two lines
        if kind:
            hits.append((line, kind))
            kinds_per_page.setdefault(doc.page(line), set()).add(kind)
    # Three statement titles on one page is an index to the statements, not a statement.
    return [(line, kind) for line, kind in hits if len(kinds_per_page[doc.page(line)]) < 3 and _is_financial_table(doc, line)]


def _pick_statements(doc: DocView, hits: list[tuple[int, str]], lo: int, hi: int) -> list[Section]:
    """The primary statements between lines lo and hi: the tightest run of titles holding the most kinds."""
    hits = [(line, kind) for line, kind in hits if lo <= line <= hi]
    best: dict[str, int] = {}
    best_rank = (0, 0)
    for i, (start, _kind) in enumerate(hits):
        first_page = doc.page(start)
        run: dict[str, int] = {}
        for line, kind in hits[i:]:
            if doc.page(line) - first_page > _STATEMENT_RUN_PAGES:
                break
            run.setdefault(kind, line)
        rank = (len(run), -(doc.page(max(run.values())) - first_page))
        if rank > best_rank:
            best, best_rank = run, rank
    # A statement printed over two pages repeats its title; it starts on the first.
    for kind, line in list(best.items()):
        earlier = [h for h, k in hits if k == kind and h < line]
        while earlier and doc.page(earlier[-1]) == doc.page(best[kind]) - 1:
            best[kind] = earlier.pop()
    order = sorted(best, key=best.get)
    return [make_section(doc, "statement", k, doc.lines[best[k] - 1].strip(), None, best[k], best[k]) for k in order]


@dataclass
class _NoteCand:
    line: int
    number: int
    title: str
    weight: float


def _find_notes(doc: DocView, lo: int, hi: int) -> list[Section]:
    worded = _note_candidates(doc, _NOTE_RE, lo, hi, worded=True)
    chain = _best_note_chain(worded)
    if len(chain) < 3:
        bare = _best_note_chain(_note_candidates(doc, _BARE_NOTE_RE, lo, hi, worded=False))
        if len(bare) > len(chain):
            chain = bare
    if len(chain) < 2:
        return []
    return [make_section(doc, "note", f"Note {c.number}", clean_title(c.title), str(c.number), c.line, c.line) for c in chain]


def _note_candidates(doc: DocView, pattern: re.Pattern[str], lo: int, hi: int, worded: bool) -> list[_NoteCand]:
    raw: list[tuple[int, int, str, int]] = []
    for line, m in doc.matches(pattern, lo, hi):
        number = int(m.group(1))
        if worded:
            sep, rest = m.group(2), m.group(3).strip()
            if "," in sep:
                continue
        else:
            rest = m.group(2).strip()
        if number == 0 or rest[:1].islower() or rest.startswith((")", "(")) or CONTINUED_RE.search(rest):
            continue
        title, title_line = title_after(doc, line, rest)
        if not title[:1].isupper() or CONTINUED_RE.search(title) or is_mention(title) or after_run_on(doc.lines, line):
            continue
        if not worded and not _heading_like(title):
            continue
        raw.append((line, number, title, title_line))
    entries = [(r[0], looks_like_toc_entry(doc, r[0], r[3], r[2]), str(r[1])) for r in raw]
    toc = toc_ends(doc, entries)
    out = []
    for (line, number, title, _tl), (_l, is_entry, _k) in zip(raw, entries):
        if not in_toc(doc, toc, line):
            # A lone heading followed by a number is usually one at the foot of a page.
            out.append(_NoteCand(line, number, title, 0.4 if is_entry else 1.0))
    return out


def _heading_like(title: str) -> bool:
    """A short, capitalised phrase ("Leases", "Property and Equipment, Net"), not a sentence or a table row."""
    words = title.split()
    if not 1 <= len(words) <= 14 or len(title) > 110 or _FIGURE_RE.search(title):
        return False
    long_words = [w for w in words if len(w) > 3 and w[:1].isalpha()]
    if not long_words:
        return len(words) <= 3 and title[:1].isupper()
    capitals = sum(w[:1].isupper() for w in long_words)
    return capitals * 2 >= len(long_words)


def _best_note_chain(cands: list[_NoteCand], max_number: int = 60) -> list[_NoteCand]:
    """Notes numbered upward from 1: heaviest chain where skipped numbers cost half a note each."""
    best: list[tuple[float, int]] = [(float("-inf"), -1)] * (max_number + 1)
    back: list[int] = []
    scores: list[float] = []
    for k, c in enumerate(cands):
        if c.number > max_number:
            scores.append(float("-inf"))
            back.append(-1)
            continue
        score, prev = c.weight - 0.5 * (c.number - 1), -1
        for n in range(1, c.number):
            s, idx = best[n]
            if idx >= 0:
                value = s + c.weight - 0.5 * (c.number - n - 1)
                if value > score:
                    score, prev = value, idx
        scores.append(score)
        back.append(prev)
        if score > best[c.number][0]:
            best[c.number] = (score, k)
    _top, idx = max(best, key=lambda t: t[0])
    chain: list[_NoteCand] = []
    while idx >= 0:
        chain.append(cands[idx])
        idx = back[idx]
    chain.reverse()
    return chain


def _close_financials(doc: DocView, items: list[Section], statements: list[Section], notes: list[Section]) -> None:
    """Set ends: statements run to the next statement or first note, notes to the next note or their item's end."""
    first_note = notes[0].start_line if notes else None
    for i, s in enumerate(statements):
        nxt = statements[i + 1].start_line if i + 1 < len(statements) else first_note
        end = nxt - 1 if nxt else container_end(items, s.start_line, doc.n)
        set_end(doc, s, min(end, container_end(items, s.start_line, doc.n)))
    for i, s in enumerate(notes):
        limit = container_end(items, s.start_line, doc.n)
        end = notes[i + 1].start_line - 1 if i + 1 < len(notes) else limit
        set_end(doc, s, min(end, limit))
