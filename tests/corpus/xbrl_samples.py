"""Small inline XBRL filings and XBRL instances, shaped like EDGAR's (hidden ix:header, '$' cells, sign="-", scale)."""

from __future__ import annotations


def _context(cid: str, start: str | None, end: str, member: str | None = None) -> str:
    period = (
        f"<xbrli:startDate>{start}</xbrli:startDate><xbrli:endDate>{end}</xbrli:endDate>"
        if start
        else f"<xbrli:instant>{end}</xbrli:instant>"
    )
    segment = (
        f'<xbrli:segment><xbrldi:explicitMember dimension="us-gaap:StatementBusinessSegmentsAxis">acme:{member}</xbrldi:explicitMember></xbrli:segment>'
        if member
        else ""
    )
    return (
        f'<xbrli:context id="{cid}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000123456</xbrli:identifier>'
        f"{segment}</xbrli:entity><xbrli:period>{period}</xbrli:period></xbrli:context>"
    )


def nf(
    name: str, ctx: str, value: str, *, scale: int = 6, sign: bool = False, fmt: str = "ixt:num-dot-decimal", unit: str = "usd"
) -> str:
    sign_attr = ' sign="-"' if sign else ""
    return (
        f'<ix:nonFraction unitRef="{unit}" contextRef="{ctx}" decimals="-6" name="{name}" format="{fmt}" scale="{scale}"{sign_attr}>'
        f"{value}</ix:nonFraction>"
    )


def row(label: str, *cells: str) -> str:
    tds = "".join(f"<td>$</td><td>{c}</td>" if i == 0 else f"<td>{c}</td>" for i, c in enumerate(cells))
    return f"<tr><td>{label}</td>{tds}</tr>"


FILLER = "".join(
    f"<tr><td>Other line {i}</td><td>$</td><td>1,{i:03d}</td><td>{i}</td></tr>" for i in range(1, 15)
)  # untagged rows


def inline_10k(
    year: int, capex: tuple[str, str], revenue: tuple[str, str], *, company: str = "Acme Widgets, Inc.", extra: str = ""
) -> str:
    """A two-page 10-K: cover, then an income statement and cash flows with tagged figures for `year` and `year - 1`."""
    y, p = year, year - 1
    contexts = "".join(
        [
            _context("d-cur", f"{y}-01-01", f"{y}-12-31"),
            _context("d-pri", f"{p}-01-01", f"{p}-12-31"),
            _context("i-cur", None, f"{y}-12-31"),
            _context("i-pri", None, f"{p}-12-31"),
            _context("d-cur-seg", f"{y}-01-01", f"{y}-12-31", "WidgetsMember"),
        ]
    )
    header = (
        '<div style="display:none"><ix:header><ix:hidden>'
        f'<ix:nonNumeric name="dei:DocumentType" contextRef="d-cur">10-K</ix:nonNumeric>'
        f'<ix:nonNumeric name="dei:DocumentFiscalYearFocus" contextRef="d-cur">{y}</ix:nonNumeric>'
        '<ix:nonNumeric name="dei:DocumentFiscalPeriodFocus" contextRef="d-cur">FY</ix:nonNumeric>'
        '<ix:nonNumeric name="dei:EntityCentralIndexKey" contextRef="d-cur">0000123456</ix:nonNumeric>'
        + nf("us-gaap:EntityNumberOfEmployees", "i-cur", "1,234", scale=0, unit="pure")
        + "</ix:hidden><ix:resources>"
        + contexts
        + '<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>'
        '<xbrli:unit id="pure"><xbrli:measure>xbrli:pure</xbrli:measure></xbrli:unit>'
        "</ix:resources></ix:header></div>"
    )
    cover = (
        f"<p>UNITED STATES SECURITIES AND EXCHANGE COMMISSION</p><p>FORM 10-K</p>"
        f"<p>ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934</p>"
        f"<p>For the fiscal year ended December 31, {y}</p><p>{company}</p><p>(Exact name of registrant as specified in its charter)</p>"
        '<p>Item 1. Business</p><p>We make widgets.</p><hr style="page-break-after:always"/>'
    )
    statements = (
        "<p>Item 8. Financial Statements and Supplementary Data</p>"
        "<p>CONSOLIDATED STATEMENTS OF OPERATIONS</p><p>(in millions)</p><table>"
        f"<tr><td></td><td>Year Ended December 31,</td></tr><tr><td></td><td>{y}</td><td>{p}</td></tr>"
        + row("Total net sales", nf("us-gaap:Revenues", "d-cur", revenue[0]), nf("us-gaap:Revenues", "d-pri", revenue[1]))
        + row("Widgets", nf("us-gaap:Revenues", "d-cur-seg", "100"), "")
        + row("Cost of sales", nf("us-gaap:CostOfRevenue", "d-cur", "400"), nf("us-gaap:CostOfRevenue", "d-pri", "300"))
        + row(
            "Interest expense",
            nf("us-gaap:InterestExpense", "d-cur", "-", fmt="ixt:fixed-zero"),
            nf("us-gaap:InterestExpense", "d-pri", "7"),
        )
        + FILLER
        + "</table>"
        "<p>CONSOLIDATED STATEMENTS OF CASH FLOWS</p><p>(in millions)</p><table>"
        f"<tr><td></td><td>{y}</td><td>{p}</td></tr>"
        + row(
            "Net cash provided by operating activities",
            nf("us-gaap:NetCashProvidedByUsedInOperatingActivities", "d-cur", "900"),
            nf("us-gaap:NetCashProvidedByUsedInOperatingActivities", "d-pri", "800"),
        )
        + row(
            "Purchases of property and equipment",
            "(" + nf("us-gaap:PaymentsToAcquirePropertyPlantAndEquipment", "d-cur", capex[0]) + ")",
            "(" + nf("us-gaap:PaymentsToAcquirePropertyPlantAndEquipment", "d-pri", capex[1]) + ")",
        )
        + row(
            "Other investing",
            "(" + nf("us-gaap:PaymentsForProceedsFromOtherInvestingActivities", "d-cur", "12", sign=True) + ")",
            "",
        )
        + FILLER
        + "</table>"
        + extra
        + "<p>Notes to Consolidated Financial Statements</p><p>Note 1. Summary</p><p>Figures are in millions.</p>"
        "<p>Note 2. Other</p><p>Nothing more.</p>"
    )
    return f"<?xml version='1.0' encoding='ASCII'?><html><head><title>10-K</title></head><body>{header}{cover}{statements}</body></html>"


def instance(facts: str = "", *, contexts: str | None = None) -> str:
    """An XBRL instance with one duration context and a few numeric us-gaap facts."""
    ctx = (
        contexts
        if contexts is not None
        else (
            '<context id="FY22"><entity><identifier scheme="http://www.sec.gov/CIK">0000123456</identifier></entity>'
            "<period><startDate>2022-01-01</startDate><endDate>2022-12-31</endDate></period></context>"
            '<context id="I22"><entity><identifier scheme="http://www.sec.gov/CIK">0000123456</identifier></entity>'
            "<period><instant>2022-12-31</instant></period></context>"
        )
    )
    body = facts or (
        '<us-gaap:Revenues contextRef="FY22" unitRef="usd" decimals="-6">5000000000</us-gaap:Revenues>'
        '<us-gaap:PaymentsToAcquirePropertyPlantAndEquipment contextRef="FY22" unitRef="usd" decimals="-6">610000000</us-gaap:PaymentsToAcquirePropertyPlantAndEquipment>'
        '<us-gaap:InventoryNet contextRef="I22" unitRef="usd" decimals="-6">1200000000</us-gaap:InventoryNet>'
        '<dei:DocumentType contextRef="FY22">10-K</dei:DocumentType>'
        '<dei:DocumentFiscalYearFocus contextRef="FY22">2022</dei:DocumentFiscalYearFocus>'
        '<dei:EntityRegistrantName contextRef="FY22">Acme Widgets, Inc.</dei:EntityRegistrantName>'
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<xbrl xmlns="http://www.xbrl.org/2003/instance" xmlns:us-gaap="http://fasb.org/us-gaap/2022" '
        'xmlns:dei="http://xbrl.sec.gov/dei/2022" xmlns:iso4217="http://www.xbrl.org/2003/iso4217">'
        f'{ctx}<unit id="usd"><measure>iso4217:USD</measure></unit>{body}</xbrl>'
    )
