"""Financial line-item vocabulary: how questions name a figure vs how statements print it.

Used to expand BM25 queries ("capital expenditure" finds "Purchases of property, plant and
equipment"); dense retrieval gets the question as asked.
"""

from __future__ import annotations

import re

# (pattern in the question, words the filing uses for it)
_SYNONYMS: list[tuple[str, str]] = [
    (
        r"cap(?:ital)?\s*ex(?:penditures?)?|capital spending",
        "purchases of property plant equipment additions capital expenditures",
    ),
    (r"\bpp&e\b|fixed assets", "property plant equipment"),
    (r"\brevenues?\b|\btop line\b", "net sales total revenues"),
    (r"\bnet sales\b", "revenues"),
    (r"\bcogs\b|cost of goods sold", "cost of sales cost of revenues cost of products sold"),
    (r"\bgross (?:margin|profit)\b", "gross profit gross margin cost of sales"),
    (r"\boperating (?:income|profit)\b|\bebit\b", "operating income income from operations operating profit"),
    (r"\bebitda\b", "operating income depreciation amortization"),
    (r"\bd&a\b", "depreciation amortization"),
    (r"\bnet (?:income|profit|earnings)\b|\bbottom line\b", "net income net earnings attributable"),
    (r"\beps\b", "earnings per share diluted basic"),
    (r"\bsg&a\b", "selling general administrative expenses"),
    (r"\br&d\b", "research development expense"),
    (r"free cash flow|\bfcf\b", "net cash provided by operating activities capital expenditures purchases of property"),
    (r"operating cash flows?|cash from operations|\bcfo\b", "net cash provided by operating activities"),
    (r"\bdividends?\b", "cash dividends paid per share"),
    (r"\b(?:share )?(?:buybacks?|repurchases?)\b", "repurchases of common stock treasury"),
    (r"\btotal debt\b|\bborrowings\b", "long-term debt short-term borrowings current portion"),
    (r"\beffective tax rate\b", "effective income tax rate provision for income taxes"),
    (r"\bworking capital\b", "total current assets total current liabilities"),
    (r"\b(?:accounts )?receivables?\b", "accounts receivable trade receivables"),
    (r"\b(?:accounts )?payables?\b", "accounts payable trade payables"),
    (r"\binventory\b", "inventories"),
    (r"\bleverage\b|debt to equity", "total debt shareholders equity"),
    (r"\bquick ratio\b|\bcurrent ratio\b", "total current assets total current liabilities cash"),
    (r"\breturn on (?:assets|equity)\b|\broa\b|\broe\b", "net income total assets shareholders equity"),
    (r"\bheadcount\b|\bemployees\b", "employees full-time"),
    (r"\bsegments?\b", "segment reportable operating"),
    # the primary statements by the names filings print them under
    (
        r"\bincome statements?\b|\bstatements? of (?:income|earnings|operations)\b|\bp&l\b",
        "consolidated statements of operations income",
    ),
    (r"\bbalance sheets?\b|\bstatements? of financial (?:position|condition)\b", "consolidated balance sheets"),
    (r"\bcash flows? statements?\b|\bstatements? of cash flows?\b", "consolidated statements of cash flows"),
]
_COMPILED = [(re.compile(p, re.I), words) for p, words in _SYNONYMS]


def expansion(question: str) -> str:
    """Filing vocabulary for the figures named in `question` ('' when none)."""
    return " ".join(words for pattern, words in _COMPILED if pattern.search(question))
