"""Fixtures for tool tests: a small ingested corpus with known pages and lines, and a ToolContext over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.catalog import Corpus
from tools.context import ToolContext

PDF_FILINGS = {
    "ACME_2021_10K": ("ACME WIDGETS, INC.", 2021, "Capital expenditures were $410 million. Revenue was $1,200 million."),
    "ACME_2022_10K": ("ACME WIDGETS, INC.", 2022, "Capital expenditures were $577 million. Revenue was $1,577 million."),
    "GLOBEX_2022_10K": ("GLOBEX CORPORATION", 2022, "Capital expenditures were $90 million. Our strategy is expansion in Asia."),
}

LONG_LINE = "filler " * 400 + "NEEDLE-IN-TABLE 4,242 " + "padding " * 300  # ~5,300 characters on one line
WIDGET_LINES = 60  # "Widget sales line N" lines on page 2 of BIGCO: enough matches to page through


def bigco_pages() -> list[str]:
    """A text filing with form-feed page breaks, so every line's page is known exactly."""
    return [
        "FORM 10-K\nANNUAL REPORT\nFor the fiscal year ended December 31, 2023\nBIGCO HOLDINGS\nIntroduction.",
        "Item 7. Management's Discussion and Analysis\n"
        + "\n".join(f"Widget sales line {i}" for i in range(1, WIDGET_LINES + 1)),
        "Item 8. Financial Statements\nSegment table follows.\n" + LONG_LINE + "\nEnd of table.",
        "Other matters\nTotal net\nrevenues were 9,876 in 2023.\nearlier text mentions EBITDA margin once.\nclosing line",
    ]


def build_corpus(root: Path) -> Corpus:
    from tests.corpus.samples import ingest_folder, ten_k, write_pdf

    folder = root / "filings"
    folder.mkdir(parents=True)
    for doc_id, (company, year, mdna) in PDF_FILINGS.items():
        write_pdf(folder / f"{doc_id}.pdf", ten_k(company, year, mdna))
    (folder / "BIGCO_2023_10K.txt").write_text("\f".join(bigco_pages()), encoding="utf-8")
    corpus = ingest_folder(folder, root / "data")
    assert corpus.store.doc_ids() == {*PDF_FILINGS, "BIGCO_2023_10K"}
    return corpus


@pytest.fixture(scope="session")
def shared_corpus(tmp_path_factory):
    """Read-only corpus shared by tests that do not change the store."""
    corpus = build_corpus(tmp_path_factory.mktemp("tools_corpus"))
    yield corpus
    corpus.close()


@pytest.fixture
def tool_context(shared_corpus) -> ToolContext:
    return ToolContext(shared_corpus)


@pytest.fixture
def own_corpus(tmp_path):
    """A corpus this test alone may change (plant symlinks, add big files)."""
    corpus = build_corpus(tmp_path)
    yield corpus
    corpus.close()
