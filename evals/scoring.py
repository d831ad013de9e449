"""Scoring answers against FinanceBench-style gold answers: numbers with units and signs, refusals, evidence pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCALES = {
    "thousand": 1e3,
    "thousands": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "mm": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "trillions": 1e12,
    "tn": 1e12,
}
_NUMBER = re.compile(
    r"(?P<open>\()?\s*(?P<sign>[-−–])?\s*(?P<cur>\$|usd\s*)?\s*(?P<sign2>[-−–])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<close>\))?\s*(?P<pct>%|percent\b|per cent\b)?\s*(?P<scale>thousands?|millions?|billions?|trillions?|mn|mm|bn|tn|k|m|b)?x?(?![A-Za-z\d])",
    re.IGNORECASE,
)
_YEARLIKE = re.compile(r"^(?:19|20)\d\d$")
_REFUSAL = re.compile(
    r"\b(?:not (?:be )?(?:found|available|disclosed|provided|possible to determine)|cannot (?:be )?(?:determine|find|answer|calculate)|"
    r"could ?n[o']t (?:find|determine|locate)|unable to (?:find|determine|locate|answer|calculate)|no (?:information|data|mention) (?:on|about|of|regarding)|"
    r"(?:do|does) not (?:contain|include|mention|provide)|insufficient (?:information|evidence)|i don't know)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    value: float  # with its scale applied: "$1.5 billion" -> 1.5e9; percentages stay in percent: "6.2%" -> 6.2
    raw: float  # the number as written: 1.5
    percent: bool
    scaled: bool  # a scale word (million, bn, ...) was given

    def candidates(self) -> list[float]:
        """Values this quantity may stand for when the other side states no unit."""
        if self.percent:
            return [self.value, self.value / 100]
        return [self.value] if self.scaled else [self.raw * s for s in (1, 1e3, 1e6, 1e9)]


def quantities(text: str) -> list[Quantity]:
    """Numbers in `text` with unit scales, percentages and signs ('(1,577)' and '-1,577' are negative); years are skipped."""
    out = []
    for m in _NUMBER.finditer(text):
        digits = m["num"].replace(",", "")
        if _YEARLIKE.match(digits) and not (m["cur"] or m["pct"] or m["scale"]):
            continue
        raw = float(digits)
        negative = bool(m["sign"] or m["sign2"] or (m["open"] and m["close"]))
        scale_word = (m["scale"] or "").lower()
        if scale_word in {"m", "b", "k"} and not m["cur"]:  # "3M", "5 m": a name or a label, not an amount
            continue
        scale = _SCALES.get(scale_word, 1.0)
        raw = -raw if negative else raw
        out.append(Quantity(raw * scale, raw, bool(m["pct"]), scale != 1.0))
    return out


def _close(a: float, b: float, tolerance: float) -> bool:
    if a == b:
        return True
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def numbers_match(gold: Quantity, answer: Quantity, tolerance: float) -> bool:
    """Same sign and within `tolerance` (relative), allowing unstated units on either side and % vs fraction."""
    if gold.percent != answer.percent:
        fraction = answer if gold.percent else gold
        percent = gold if gold.percent else answer
        return not fraction.scaled and _close(percent.value / 100, fraction.raw, tolerance)
    if gold.scaled and answer.scaled:
        return _close(gold.value, answer.value, tolerance)
    return any(_close(g, a, tolerance) for g in gold.candidates() for a in answer.candidates())


@dataclass(frozen=True)
class NumericVerdict:
    applicable: bool  # the gold answer states a number to check
    correct: bool
    gold: str  # the gold figure used
    matched: str | None  # the answer's figure that matched


def numeric_verdict(gold: str, answer: str, tolerance: float = 0.01) -> NumericVerdict:
    """Correct when the gold answer's key figure (its first number) appears in the answer within `tolerance`."""
    wanted = quantities(gold)
    if not wanted:
        return NumericVerdict(False, False, "", None)
    key = wanted[0]
    for found in quantities(answer):
        if numbers_match(key, found, tolerance):
            return NumericVerdict(True, True, _show(key), _show(found))
    return NumericVerdict(True, False, _show(key), None)


def _show(q: Quantity) -> str:
    return f"{q.raw:g}{'%' if q.percent else ''}" + (f" (= {q.value:g})" if q.scaled else "")


def yes_no(text: str) -> str | None:
    """'yes' or 'no' when the text starts with it (FinanceBench's qualitative golds often do)."""
    m = re.match(r"\s*(yes|no)\b", text, re.IGNORECASE)
    return m.group(1).lower() if m else None


def is_refusal(answer: str) -> bool:
    """The answer declines: says the figure was not found or cannot be determined."""
    return bool(_REFUSAL.search(answer))
