"""One line saying what an 8-K or an earnings release is about: its Item numbers and its exhibit's headline."""

from __future__ import annotations

import re

from corpus.text import PagedText

MAX_CHARS = 180
_HEAD_LINES = 400  # an 8-K's items and its exhibit's first lines sit in its first few pages

# Form 8-K's items (SEC, General Instructions B); the text layer often splits the title from the number.
ITEM_TITLES = {
    "1.01": "Entry into a Material Definitive Agreement",
    "1.02": "Termination of a Material Definitive Agreement",
    "1.03": "Bankruptcy or Receivership",
    "1.05": "Material Cybersecurity Incidents",
    "2.01": "Completion of Acquisition or Disposition of Assets",
    "2.02": "Results of Operations and Financial Condition",
    "2.03": "Creation of a Direct Financial Obligation",
    "2.04": "Triggering Events That Accelerate a Direct Financial Obligation",
    "2.05": "Costs Associated with Exit or Disposal Activities",
    "2.06": "Material Impairments",
    "3.01": "Notice of Delisting or Failure to Satisfy a Listing Rule",
    "3.02": "Unregistered Sales of Equity Securities",
    "3.03": "Material Modification to Rights of Security Holders",
    "4.01": "Changes in Registrant's Certifying Accountant",
    "4.02": "Non-Reliance on Previously Issued Financial Statements",
    "5.01": "Changes in Control of Registrant",
    "5.02": "Departure or Election of Directors or Officers; Compensatory Arrangements",
    "5.03": "Amendments to Articles of Incorporation or Bylaws",
    "5.07": "Submission of Matters to a Vote of Security Holders",
    "7.01": "Regulation FD Disclosure",
    "8.01": "Other Events",
    "9.01": "Financial Statements and Exhibits",
}
_ITEM = re.compile(r"^item\s+(\d\.\d\d)\b", re.I)
_EXHIBIT_99 = re.compile(r"^exhibit\s+99(?:\.\d+)?\s*$", re.I)
_HEADLINE_VERB = re.compile(r"\b(?:reports?|announces?|delivers?|posts?|provides?|declares?|completes?)\b", re.I)
_TODAY = re.compile(r"(?:^|[\u2013\u2014-]\s+|\)\s+)([A-Z][^.\u2013\u2014]{2,80}?\btoday\s+(?:announced|reported)\b[^.]{0,120})")
_NOT_HEADLINE = re.compile(r"^(?:[•●▪◦■*\-]|exhibit\b|news release\b|for immediate release\b|page\b|\(|\d)", re.I)
_FIRST_SENTENCE = re.compile(r"^(.{20,}?[a-z)]\.)(?<!\bInc\.)(?<!\bCorp\.)(?<!\bLtd\.)(?<!\bCo\.)(?<!\bNo\.)(?:\s|$)")
_LINE_BREAK_HYPHEN = re.compile(r"(?<=[a-z])- (?=[a-z])")  # "second- quarter" joined from two lines


def subject(text: PagedText, form_type: str | None) -> str | None:
    """'Item 2.02 Results of Operations and Financial Condition; Item 9.01 ...: <exhibit headline>' for an 8-K,
    the headline for an earnings release; None for other forms or when nothing can be read."""
    lines = [line.strip() for line in text.lines[:_HEAD_LINES]]
    if form_type == "8-K":
        return _clip(_eight_k(lines))
    if form_type == "earnings release":
        return _clip(_headline(lines, 0))
    return None


def _eight_k(lines: list[str]) -> str | None:
    items: dict[str, str] = {}
    for i, line in enumerate(lines):
        if (m := _ITEM.match(line)) is not None and m[1] in ITEM_TITLES and m[1] not in items:
            items[m[1]] = i
    if not items:
        return None
    shown = [n for n in items if n != "9.01"] or list(items)
    head = "; ".join(f"Item {n} {ITEM_TITLES[n]}" for n in shown)
    exhibit = next((i for i, line in enumerate(lines) if _EXHIBIT_99.match(line)), None)
    about = _headline(lines, exhibit + 1) if exhibit is not None else None
    if about is None and shown[0] in ("7.01", "8.01"):
        about = _first_sentence(lines, items[shown[0]] + 1)
    return f"{head}: {about}" if about else head


def _headline(lines: list[str], start: int) -> str | None:
    """The release's title line ('Lockheed Martin Reports First Quarter 2023 Financial Results'), else its 'today announced' sentence."""
    window = lines[start : start + 30]
    for i, line in enumerate(window):
        if 15 <= len(line) <= 160 and _HEADLINE_VERB.search(line) and not _NOT_HEADLINE.match(line) and line[:1].isupper():
            nxt = window[i + 1] if i + 1 < len(window) else ""
            if nxt and len(nxt) < 40 and nxt[:1].isupper() and not _NOT_HEADLINE.match(nxt) and not nxt.endswith((".", ":")):
                line = f"{line} {nxt}"  # a headline broken over two lines: "... Completion of the Kenvue" / "Separation"
            return line
    joined = " ".join(window)
    m = _TODAY.search(joined)
    return m[1].strip() if m else None


def _first_sentence(lines: list[str], start: int) -> str | None:
    body = " ".join(line for line in lines[start : start + 6] if line)
    body = re.sub(r"^[A-Z][A-Za-z ]{2,40}\.\s+", "", body)  # the item's title printed on the next line: "Other Events."
    m = _FIRST_SENTENCE.match(body)
    return m[1] if m else body or None  # a sentence longer than the subject is clipped


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    text = _LINE_BREAK_HYPHEN.sub("-", " ".join(text.split()))
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
