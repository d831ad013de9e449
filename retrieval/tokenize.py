"""The BM25 tokenizer for financial filings, used for documents and queries alike.

Rules, checked on the 40 FinanceBench development questions (evidence page in the top 10
among the filing's pages: 24/40 with these rules; 18 without the plural stripping, 13
without stopwords, 10 with a plain lowercase \\w+ split):

- Lowercase; NLTK's English stopwords removed, except the negations "not", "no", "nor"
  (a filing's "no impairment" is a finding). "net", "total", "us" are ordinary words.
- Numbers match however they are printed: "$1,577 million", "1,577", "(1,577)" and "1577"
  all give "1577"; decimals keep their point, trailing zeros dropped ("12.5%" -> "12.5",
  "0.50" -> "0.5", "3.0" -> "3"); years stay ("2018"). Signs, "$" and "%" are dropped.
- Form names are one token: "10-K", "10K" -> "10-k"; likewise "10-Q", "8-K", "20-F", "S-1".
  Other hyphenated words split into parts ("long-term" -> "long", "term"; "2019-2021" ->
  "2019", "2021"), so they match however a query hyphenates them (keeping the joined form
  as well measured no better).
- Abbreviations are joined: "U.S." -> "us", "N.A." -> "na", "PP&E" -> "ppe", "S&P" -> "sp".
  A fiscal-year prefix is split off: "FY2018" -> "fy", "2018"; "FY20" -> "fy", "2020".
  Standards stay separate words ("ASC 606" -> "asc", "606"); tickers are ordinary words.
- Light stemming: a plural "s" is stripped ("revenues" -> "revenue", "securities" ->
  "security"), sparing words ending in ss/us/is ("loss", "status", "basis").

Speed: about 13 MB of filing text a second on one core (all 181 FinanceBench filings,
76 MB, in under 6 s): one precompiled regex pass, and each distinct raw token is
normalized once and cached.
"""

from __future__ import annotations

import re

# NLTK's English list without the negations; contraction stems (didn, isn) stay too.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can d did do does doing don down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just ll m ma me more most my myself now o of off on once only or
    other our ours ourselves out over own re s same she should so some such t than that the
    their theirs them themselves then there these they this those through to too under
    until up very ve was we were what when where which while who whom why will with would y
    you your yours yourself yourselves
    """.split()
)

# One pass over the lowercased text; the alternatives are tried in order at each position.
_TOKEN_RE = re.compile(
    r"""
    (?<![^\W_])[a-z](?:\.[a-z])+(?![^\W_])          # dotted abbreviation: u.s, n.a, e.g
    | \d{1,2}-[a-z](?![^\W_])                       # form name: 10-k, 8-k, 20-f
    | \d{1,3}(?:,\d{3})+(?:\.\d+)?(?![^\W_])        # grouped number: 1,577 or 1,577.25
    | \d+(?:\.\d+)?(?![^\W_])                       # plain number or decimal: 1577, 12.5
    | [^\W_]+(?:[-&][^\W_]+)*                        # word: long-term, s-1, pp&e
    """,
    re.VERBOSE,
)
_FORM_RE = re.compile(r"\d{1,2}-[a-z]|[a-z]-\d{1,2}")
_BARE_FORM_RE = re.compile(r"(\d{1,2})([kqf])")
_FISCAL_RE = re.compile(r"fy(\d{2}|\d{4})")

# Normalized tokens by raw token; cleared when it grows past this many entries
# (numbers make the raw vocabulary of a large corpus unbounded).
_CACHE_LIMIT = 500_000
_cache: dict[str, str | tuple[str, ...]] = {}


def tokenize(text: str) -> list[str]:
    """Lowercased, normalized BM25 tokens of `text` (see the module docstring for the rules)."""
    out: list[str] = []
    append = out.append
    extend = out.extend
    cache = _cache
    for raw in _TOKEN_RE.findall(text.lower()):
        norm = cache.get(raw)
        if norm is None:
            norm = _normalize(raw)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[raw] = norm
        if type(norm) is str:
            append(norm)
        else:
            extend(norm)
    return out


def _normalize(raw: str) -> str | tuple[str, ...]:
    """The token (a str) or tokens (a tuple, maybe empty) that one regex match stands for."""
    if "-" not in raw:
        return _single(raw)
    if _FORM_RE.fullmatch(raw):
        return raw  # a form name: 10-k, s-1
    out: list[str] = []
    for part in raw.split("-"):
        norm = _single(part)
        if type(norm) is str:
            out.append(norm)
        else:
            out.extend(norm)
    return tuple(out)


def _single(raw: str) -> str | tuple[str, ...]:
    """Normalize an unhyphenated match: a number, a bare form name, an abbreviation, a fiscal year or a word."""
    if "&" in raw:
        return raw.replace("&", "")  # pp&e -> ppe
    if raw[0].isdigit():
        if raw.isdigit():
            return raw
        if "," in raw or "." in raw:
            return _number(raw)
        bare = _BARE_FORM_RE.fullmatch(raw)
        return f"{bare[1]}-{bare[2]}" if bare else raw  # 10k -> 10-k; 3m, 1a stay
    if "." in raw:
        return raw.replace(".", "")  # u.s -> us
    fiscal = _FISCAL_RE.fullmatch(raw)
    if fiscal:
        year = fiscal[1]
        if len(year) == 2:
            year = ("19" if year >= "70" else "20") + year
        return ("fy", year)
    return _word(raw)


def _number(raw: str) -> str:
    """'1,577' -> '1577'; '12.50' -> '12.5'; '3.0' -> '3'."""
    raw = raw.replace(",", "")
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".")
    return raw


def _word(raw: str) -> str | tuple[str, ...]:
    """Stopwords vanish; a plural 's' is stripped."""
    if raw in STOPWORDS:
        return ()
    if len(raw) > 3 and raw[-1] == "s" and raw[-2] not in "su" and not raw.endswith("is"):
        if raw.endswith("ies") and len(raw) > 4:
            return raw[:-3] + "y"
        return raw[:-1]
    return raw
