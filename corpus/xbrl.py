"""XBRL facts: contexts, units and numeric facts of inline XBRL (EDGAR .htm) and XBRL instance (.xml) documents.

Parsed with lxml (already the HTML parser here) rather than a full XBRL processor: the page and table row each
inline fact sits in come from the same tree walk that splits the filing into pages, and no taxonomy is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from corpus.metadata import fiscal_year_for

MAX_FACTS = 50_000  # per document; a filing has a few thousand
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_WORDS = {
    "no": 0,
    "none": 0,
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}


@dataclass
class Context:
    start: date | None
    end: date | None  # the instant, or the end of the duration
    dimensions: dict[str, str] = field(default_factory=dict)


@dataclass
class XbrlFact:
    """One numeric fact as parsed; page/line/label are filled from the page split for inline facts."""

    concept: str
    context_id: str
    value: float | None
    unit: str | None
    scale: int
    decimals: str | None
    printed: str
    negated: bool
    fmt: str | None = None
    start: date | None = None
    end: date | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    hidden: bool = False
    page: int | None = None
    line: int | None = None
    label: str | None = None
    agrees: bool | None = None  # the printed figure is a cell of the row the fact sits in
    source: str = "ixbrl"  # ixbrl | xbrl | table
    printed_period: str | None = None  # the column header as printed (statement tables)
    year: int | None = None  # the fiscal year a header names, when no dates are known

    @property
    def period_label(self) -> str:
        return self.printed_period or period_label(self.start, self.end)

    @property
    def fiscal_year(self) -> int | None:
        if self.end is not None:
            return fiscal_year_for(self.end)
        return self.year


@dataclass
class XbrlDocument:
    facts: list[XbrlFact]
    dei: dict[str, str]  # dei:DocumentType, DocumentFiscalYearFocus, EntityRegistrantName, ...
    warnings: list[str]
    tags: int = 0  # ix:nonFraction elements seen (inline) or numeric elements (instance)


def local(tag: str) -> str:
    """'{ns}context' or 'xbrli:context' -> 'context' (lower case)."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def concept_words(concept: str) -> str:
    """'us-gaap:PaymentsToAcquirePropertyPlantAndEquipment' -> 'Payments To Acquire Property Plant And Equipment'."""
    name = concept.rsplit(":", 1)[-1]
    return _CAMEL.sub(" ", name)


def period_label(start: date | None, end: date | None) -> str:
    """'Year Ended December 31, 2023', 'Three Months Ended June 30, 2025', 'As of December 31, 2023'."""
    if end is None:
        return "period unknown"
    when = f"{end:%B} {end.day}, {end.year}"
    if start is None or start == end:
        return f"As of {when}"
    months = round((end - start).days / 30.44)
    span = {3: "Three Months", 6: "Six Months", 9: "Nine Months", 12: "Year"}.get(months, f"{months} Months")
    return f"{span} Ended {when}"


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _attr(el, name: str) -> str | None:  # noqa: ANN001
    """Attribute by local name, whatever the parser did to case and prefixes."""
    for key, value in el.attrib.items():
        if local(key) == name:
            return value
    return None


def parse_contexts(root) -> tuple[dict[str, Context], dict[str, str]]:  # noqa: ANN001
    """Contexts (period, dimensions) and units ('usd' -> 'USD', 'usdPerShare' -> 'USD/shares') under `root`."""
    contexts: dict[str, Context] = {}
    units: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = local(el.tag)
        if name == "context" and (cid := el.get("id")):
            start = end = None
            dims: dict[str, str] = {}
            for sub in el.iter():
                if not isinstance(sub.tag, str):
                    continue
                sname = local(sub.tag)
                if sname == "instant":
                    start = end = _date(sub.text)
                elif sname == "startdate":
                    start = _date(sub.text)
                elif sname == "enddate":
                    end = _date(sub.text)
                elif sname in ("explicitmember", "typedmember"):
                    axis = _attr(sub, "dimension") or "?"
                    dims[axis] = (sub.text or "".join(sub.itertext())).strip()
            contexts[cid] = Context(start, end, dims)
        elif name == "unit" and (uid := el.get("id")):
            measures = [
                (local(m.getparent().tag), (m.text or "").strip().rsplit(":", 1)[-1])
                for m in el.iter()
                if isinstance(m.tag, str) and local(m.tag) == "measure"
            ]
            num = [m for parent, m in measures if parent != "unitdenominator"]
            den = [m for parent, m in measures if parent == "unitdenominator"]
            units[uid] = "*".join(num) + (f"/{'*'.join(den)}" if den else "")
    return contexts, units


def transform(printed: str, fmt: str | None) -> float | None:
    """The number an inline fact's text stands for under its ixt format; None when it cannot be read."""
    text = printed.strip()
    kind = (fmt or "").rsplit(":", 1)[-1].lower().replace("-", "")
    if kind in ("fixedzero", "zerodash", "fixedempty") or text in ("-", "\u2014", "\u2013"):
        return 0.0
    if kind in ("numwordsen", "durwordsen"):
        word = text.lower().strip(" .")
        if word in _WORDS:
            return float(_WORDS[word])
    if kind in ("numcommadecimal", "numspacecomma"):
        text = text.replace(".", "").replace(" ", "").replace(",", ".")
    m = _NUMBER.search(text.replace(" ", ""))
    if m is None:
        return None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:
        return None


def numeric_fact(
    el, contexts: dict[str, Context], units: dict[str, str], warnings: list[str], text: str | None = None
) -> XbrlFact | None:  # noqa: ANN001
    """An ix:nonFraction (or instance) element as a fact; None (with a warning) when its context is unknown."""
    concept = _attr(el, "name") or el.tag
    cref = _attr(el, "contextref")
    if not cref or cref not in contexts:
        warnings.append(f"fact {concept}: unknown contextRef {cref!r}; skipped")
        return None
    printed = (text if text is not None else "".join(el.itertext())).strip()
    scale_attr = _attr(el, "scale")
    try:
        scale = int(scale_attr) if scale_attr else 0
    except ValueError:
        warnings.append(f"fact {concept}: bad scale {scale_attr!r}; read as 0")
        scale = 0
    fmt = _attr(el, "format")
    nil = (_attr(el, "nil") or "").lower() == "true"
    number = None if nil else transform(printed, fmt)
    negated = _attr(el, "sign") == "-"
    value = None
    if number is not None:
        value = number * (10**scale)
        if negated:
            value = -value
    elif not nil and printed:
        warnings.append(f"fact {concept}: cannot read the number {printed[:40]!r} (format {fmt}); value left empty")
    unit_ref = _attr(el, "unitref")
    unit = units.get(unit_ref) if unit_ref else None
    if unit_ref and unit is None:
        warnings.append(f"fact {concept}: unknown unitRef {unit_ref!r}; unit left empty")
        unit = unit_ref
    ctx = contexts[cref]
    return XbrlFact(
        concept,
        cref,
        value,
        unit,
        scale,
        _attr(el, "decimals"),
        printed[:60],
        negated,
        fmt,
        ctx.start,
        ctx.end,
        dict(ctx.dimensions),
    )


def dei_values(root) -> dict[str, str]:  # noqa: ANN001
    """Cover facts (dei:*) of an inline filing or instance, first value per name."""
    out: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = _attr(el, "name") if local(el.tag) in ("nonnumeric", "nonfraction") else None
        if name is None and el.tag.startswith("{http://xbrl.sec.gov/dei"):
            name = "dei:" + local(el.tag)
        if name and name.lower().startswith("dei:"):
            key = name.split(":", 1)[1].lower()
            value = " ".join("".join(el.itertext()).split())
            if value and key not in out:
                out[key] = value[:200]
    return out


def flag_duplicates(facts: list[XbrlFact], warnings: list[str]) -> None:
    """Facts for the same concept, context and unit must agree; a disagreement is reported (both are kept)."""
    seen: dict[tuple, XbrlFact] = {}
    for f in facts:
        key = (f.concept, f.context_id, f.unit)
        first = seen.setdefault(key, f)
        if first is f or first.value is None or f.value is None:
            continue
        # Duplicates at different precision agree when rounded to the coarser one (9,857 million and 9.9 billion).
        places = min(_decimals(first.decimals), _decimals(f.decimals))
        if round(first.value, places) != round(f.value, places) and abs(first.value - f.value) > 1e-9 * max(1.0, abs(f.value)):
            warnings.append(
                f"fact {f.concept} ({f.context_id}) is given twice with different values: {first.value:,.10g} and {f.value:,.10g}"
            )


def _decimals(decimals: str | None) -> int:
    try:
        return int(decimals) if decimals and decimals.upper() != "INF" else 10
    except ValueError:
        return 10


def parse_instance(data: bytes) -> XbrlDocument:
    """Numeric facts of an XBRL instance document (.xml); raises ValueError when it is not one."""
    from lxml import etree

    parser = etree.XMLParser(huge_tree=False, resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML ({exc})") from exc
    if local(root.tag) != "xbrl":
        raise ValueError(f"not an XBRL instance (root element <{local(root.tag)}>, expected <xbrl>)")
    contexts, units = parse_contexts(root)
    warnings: list[str] = []
    facts: list[XbrlFact] = []
    tags = 0
    for el in root:
        if not isinstance(el.tag, str) or _attr(el, "contextref") is None or _attr(el, "unitref") is None:
            continue
        tags += 1
        if len(facts) >= MAX_FACTS:
            warnings.append(f"more than {MAX_FACTS:,} facts; the rest were not read")
            break
        qname = etree.QName(el)
        prefix = next((p for p, ns in (el.nsmap or {}).items() if ns == qname.namespace and p), "")
        el.attrib["name"] = f"{prefix}:{qname.localname}" if prefix else qname.localname
        fact = numeric_fact(el, contexts, units, warnings)
        if fact is not None:
            fact.label = concept_words(fact.concept)
            facts.append(fact)
    flag_duplicates(facts, warnings)
    return XbrlDocument(facts, dei_values(root), warnings, tags)


def instance_pages(doc: XbrlDocument, per_page: int = 120) -> list[str]:
    """The text an instance is stored as (it has no printed pages): a heading, then one line per fact."""
    head = " ".join(
        v
        for v in (
            doc.dei.get("entityregistrantname"),
            doc.dei.get("documenttype"),
            "XBRL instance,",
            f"fiscal year {doc.dei['documentfiscalyearfocus']}" if "documentfiscalyearfocus" in doc.dei else None,
            f"period ended {doc.dei['documentperiodenddate']}" if "documentperiodenddate" in doc.dei else None,
        )
        if v
    )
    pages: list[list[str]] = [[head, "concept | period | dimensions | value | unit"]]
    for fact in doc.facts:
        if len(pages[-1]) >= per_page:
            pages.append([])
        dims = "; ".join(f"{a.rsplit(':', 1)[-1]}={m.rsplit(':', 1)[-1]}" for a, m in fact.dimensions.items()) or "-"
        value = "nil" if fact.value is None else f"{fact.value:,.{_digits(fact.decimals)}f}"
        pages[-1].append(f"{fact.concept} | {fact.period_label} | {dims} | {value} | {fact.unit or '-'}")
        fact.page, fact.line = len(pages), len(pages[-1])  # line within the page for now; made absolute by the caller
    return ["\n".join(p) for p in pages]


def _digits(decimals: str | None) -> int:
    try:
        return max(0, min(6, int(decimals or 0)))
    except ValueError:
        return 0
