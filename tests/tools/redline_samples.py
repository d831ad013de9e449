"""Two synthetic 10-Ks of one company a year apart, whose risk factors and revenue note differ in known ways (and a third
company's 10-K), for compare_sections' tool, API, CLI and web tests."""

from __future__ import annotations

from pathlib import Path

from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.settings import CorpusSettings
from tests.corpus.samples import write_pdf

OLD, NEW, OTHER = "ACME_2021_10K", "ACME_2022_10K", "GLOBEX_2022_10K"

SUPPLY_HEAD = "Supply chain disruption could hurt our margins."
SUPPLY_OLD = (
    "We buy steel, resin and packaging from a small number of suppliers in three countries. A disruption at any of them, "
    "whether from a strike, a storm or a change in trade policy, could delay shipments and raise our costs for several quarters."
)
SUPPLY_NEW = SUPPLY_OLD.replace("three countries", "four countries").replace(
    "several quarters.", "several quarters, as it did in 2022."
)
COMPETE_HEAD = "Competition is intense."
COMPETE = (
    "Our widgets compete on price and quality with products of larger companies that have more resources for marketing, "
    "research and distribution than we do, and customers can switch suppliers quickly when prices move."
)
COVID_HEAD = "The COVID-19 pandemic may continue to affect demand."
COVID = (
    "The pandemic closed some of our customers' plants in 2020 and 2021 and could again reduce orders if new variants lead "
    "to restrictions on travel, work or trade in the markets we serve."
)
WAR_HEAD = "Conflict in Eastern Europe could disrupt our operations."
WAR = (
    "The war in Ukraine has raised energy and freight costs in Europe, and further sanctions or escalation could force us "
    "to suspend sales in the region and write down the assets we hold there."
)
PEOPLE_HEAD = "We depend on key personnel."
PEOPLE_1 = (
    "Our success depends on a small team of engineers and managers who know our products and customers well. Losing any of "
    "them could slow the development of new widgets"
)
PEOPLE_2 = "and weaken relationships with our largest distributors, and replacing them could take many months."
REVENUE_OLD = (
    "We recognize revenue when control of the widgets passes to the customer, which is usually on shipment. Payment terms "
    "are generally 30 days."
)
REVENUE_NEW = REVENUE_OLD.replace("30 days.", "45 days.")
HEAD = "Acme Widgets Annual Report"  # a running head on every page after the cover


def _cover(year: int, company: str) -> str:
    return (
        f"FORM 10-K\nANNUAL REPORT PURSUANT TO SECTION 13\nFor the fiscal year ended December 31, {year}\n{company}\n"
        "(Exact name of registrant as specified in its charter)"
    )


def _page(folio: int, *blocks: str) -> str:
    return "\n".join([HEAD, *blocks, str(folio)])


def old_pages() -> list[str]:
    """FY2021: Item 1A over pages 3-4 (the personnel risk split by the page break); Note 2 Revenue Recognition on page 6."""
    return [
        _cover(2021, "ACME WIDGETS, INC."),
        _page(1, "PART I", "Item 1. Business", "We make widgets and sell them worldwide."),
        _page(
            2, "Item 1A. Risk Factors", SUPPLY_HEAD, SUPPLY_OLD, COMPETE_HEAD, COMPETE, COVID_HEAD, COVID, PEOPLE_HEAD, PEOPLE_1
        ),
        _page(3, PEOPLE_2, "PART II", "Item 7. Management's Discussion and Analysis", "Revenue was $1,200 million."),
        _page(4, "Item 8. Financial Statements and Supplementary Data", "CONSOLIDATED BALANCE SHEETS", "Total assets 9,000"),
        _page(
            5,
            "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS",
            "Note 1. Summary of Significant Accounting Policies",
            "We follow GAAP.",
            "Note 2. Revenue Recognition",
            REVENUE_OLD,
        ),
    ]


def new_pages() -> list[str]:
    """FY2022: supply reworded, COVID removed, the war added (page 3), competition moved after personnel, which the page
    break now splits elsewhere; revenue recognition is Note 3 (a leases note came in as Note 2), its payment terms changed."""
    people_1, people_2 = PEOPLE_1 + " " + PEOPLE_2.split(", and ")[0] + ",", "and " + PEOPLE_2.split(", and ")[1]
    return [
        _cover(2022, "ACME WIDGETS, INC."),
        _page(1, "PART I", "Item 1. Business", "We make widgets and sell them worldwide."),
        _page(2, "Item 1A. Risk Factors", SUPPLY_HEAD, SUPPLY_NEW, WAR_HEAD, WAR, PEOPLE_HEAD, people_1),
        _page(
            3, people_2, COMPETE_HEAD, COMPETE, "PART II", "Item 7. Management's Discussion and Analysis", "Revenue was $1,577."
        ),
        _page(4, "Item 8. Financial Statements and Supplementary Data", "CONSOLIDATED BALANCE SHEETS", "Total assets 9,500"),
        _page(
            5,
            "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS",
            "Note 1. Summary of Significant Accounting Policies",
            "We follow GAAP.",
            "Note 2. Leases",
            "Operating lease cost was $120 million.",
            "Note 3. Revenue Recognition",
            REVENUE_NEW,
        ),
    ]


def other_pages() -> list[str]:
    pages = old_pages()
    pages[0] = _cover(2022, "GLOBEX CORPORATION")
    return pages


def write_filings(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_pdf(folder / f"{OLD}.pdf", old_pages())
    write_pdf(folder / f"{NEW}.pdf", new_pages())
    write_pdf(folder / f"{OTHER}.pdf", other_pages())
    return folder


def ingest_filings(root: Path, database_url: str | None = None) -> CorpusSettings:
    """The three filings ingested into root/data; returns the corpus settings."""
    settings = CorpusSettings(data_dir=root / "data", database_url=database_url, ingest_workers=1)
    corpus = Corpus.open(settings)
    try:
        report = ingest_paths(corpus, [write_filings(root / "filings")], workers=1)
        assert report.ok, report.summary()
    finally:
        corpus.close()
    return settings
