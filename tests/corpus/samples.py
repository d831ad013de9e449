"""Synthetic filings written by tests (no real data is committed)."""

from __future__ import annotations

from pathlib import Path

from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.settings import CorpusSettings

TEN_K_PAGES = [
    "UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nFORM 10-K\nANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d)\n"
    "For the fiscal year ended December 31, 2022\nACME WIDGETS, INC.\n(Exact name of registrant as specified in its charter)\n"
    "Trading Symbol(s) ACME",
    "PART I\nItem 1. Business\nAcme makes widgets. See Note 2 for revenue.",
    "Item 1A. Risk Factors\nWidgets may break.",
    "PART II\nItem 7. Management's Discussion and Analysis\nRevenue was $1,577 million. Refer to Note 3.",
    "Item 8. Financial Statements and Supplementary Data\nCONSOLIDATED BALANCE SHEETS\nTotal assets 9,000",
    "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS\nNote 1. Summary of Significant Accounting Policies\nPolicies.\n"
    "Note 2. Revenue\nRevenue by segment.",
    "Note 3. Leases\nOperating leases 120.\nItem 9. Changes in and Disagreements with Accountants\nNone.",
]


def ten_k(company: str, year: int, mdna: str) -> list[str]:
    """Pages of a synthetic 10-K; the figures sit on known pages (1-based): MD&A p.4, balance sheet p.5."""
    return [
        f"FORM 10-K\nANNUAL REPORT PURSUANT TO SECTION 13\nFor the fiscal year ended December 31, {year}\n{company}\n"
        "(Exact name of registrant as specified in its charter)",
        "PART I\nItem 1. Business\nWe make widgets and sell them worldwide through distributors.",
        "Item 1A. Risk Factors\nSupply chain disruption could hurt margins. Competition is intense.",
        f"PART II\nItem 7. Management's Discussion and Analysis\n{mdna}\nLiquidity is strong.",
        "Item 8. Financial Statements and Supplementary Data\nCONSOLIDATED BALANCE SHEETS\n(in millions)\n"
        f"{year}\n{year - 1}\nCash and cash equivalents\n$\n2,853\n$\n3,053\nTotal assets\n36,500\n37,987",
        "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS\nNote 1. Significant Accounting Policies\nWe follow GAAP.\n"
        "Note 2. Leases\nOperating lease cost was $120 million. See Note 1.",
    ]


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A real text-layer PDF with one page per string."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        if text:
            page.insert_textbox(pymupdf.Rect(50, 50, 560, 800), text, fontsize=9)
    doc.save(path)
    doc.close()
    return path


def write_image_only_pdf(path: Path) -> Path:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(100, 100, 300, 300), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    doc.save(path)
    doc.close()
    return path


def write_encrypted_pdf(path: Path) -> Path:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret revenue 123")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="user")
    doc.close()
    return path


def ingest_folder(folder: Path, data_dir: Path) -> Corpus:
    """A corpus in `data_dir` with every file of `folder` ingested (one worker); fails the test if any file fails."""
    corpus = Corpus.open(CorpusSettings(data_dir=data_dir, ingest_workers=1))
    report = ingest_paths(corpus, [folder], workers=1)
    assert report.ok, report.summary()
    return corpus
