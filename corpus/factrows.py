"""Facts found at ingest, turned into catalog rows; the filing's XBRL cover facts (dei) into metadata."""

from __future__ import annotations

import re
from datetime import date

from corpus.extract import Extracted
from corpus.metadata import DocMetadata, _parse_date
from corpus.models import Fact
from corpus.sections import Section as SectionSpan
from corpus.sections import section_at
from corpus.text import PagedText
from corpus.xbrl import XbrlFact

FactRecord = XbrlFact
_FORMS = {"10-K": "10-K", "10-K/A": "10-K", "10-Q": "10-Q", "10-Q/A": "10-Q", "8-K": "8-K"}


def analyze_facts(extracted: Extracted, text: PagedText) -> tuple[list[FactRecord], dict[str, str], list[str]]:
    """Facts of an inline XBRL filing or an XBRL instance, placed on the stored text; the dei cover facts; warnings."""
    if extracted.xbrl is not None:
        doc = extracted.xbrl
        for fact in doc.facts:
            if fact.page is not None and fact.line is not None:
                fact.line = text.page_starts[fact.page - 1] + fact.line - 1
            fact.source = "xbrl"
    elif extracted.tree is not None:
        from corpus.ixbrl import inline_facts

        doc = inline_facts(extracted.tree, extracted.anchors, text)
    else:
        return [], {}, []
    notes = [f"{len(doc.warnings)} XBRL problems, e.g. {doc.warnings[0]}"] if doc.warnings else []
    return doc.facts, doc.dei, notes


def apply_dei(meta: DocMetadata, dei: dict[str, str]) -> None:
    """The filing's own tagged cover (form, fiscal year and period, CIK, name, ticker) wins over the text and file name."""
    if not dei:
        return

    def put(name: str, value: object) -> None:
        if value is not None:
            setattr(meta, name, value)
            meta.sources[name] = "xbrl"

    put("form_type", _FORMS.get(dei.get("documenttype", "").upper()))
    if (year := dei.get("documentfiscalyearfocus", "")).isdigit() and 1900 < int(year) < 2100:
        put("fiscal_year", int(year))
    period = dei.get("documentfiscalperiodfocus", "").upper()
    put("fiscal_period", period if period in {"FY", "Q1", "Q2", "Q3", "Q4"} else None)
    if cik := re.sub(r"\D", "", dei.get("entitycentralindexkey", "")):
        put("cik", cik.zfill(10))
    if meta.sources.get("company") != "cover" and (name := dei.get("entityregistrantname")):  # the tag beats a file name
        put("company", name)
    if (ticker := dei.get("tradingsymbol", "")) and re.fullmatch(r"[A-Za-z.]{1,6}", ticker):
        put("ticker", ticker.upper())
    end = dei.get("documentperiodenddate")
    if end:
        parsed = _iso(end) or _parse_date(end)
        put("period_end_date", parsed)


def _iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def fact_rows(doc_id: str, facts: list[FactRecord], sections: list[SectionSpan]) -> list[Fact]:
    rows = []
    for f in facts:
        section = section_at(sections, f.line) if f.line is not None and sections else None
        rows.append(
            Fact(
                doc_id=doc_id,
                source=f.source,
                section=section.key if section is not None else None,
                label=(f.label or f.concept)[:1000],
                concept=f.concept if f.source != "table" else None,
                period_start=f.start,
                period_end=f.end,
                period_label=f.period_label[:120],
                fiscal_year=f.fiscal_year,
                dimensions=f.dimensions,
                value=f.value,
                unit=f.unit,
                scale=f.scale,
                decimals=f.decimals,
                printed=(f.printed or "")[:60],
                negated=f.negated,
                page=f.page,
                line=f.line,
            )
        )
    return rows
