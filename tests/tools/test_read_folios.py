"""read shows the printed page number beside the PDF page ('page 4 (printed 2)'); citations say both."""

from __future__ import annotations

import pytest

from agent.answer import AnswerCitation
from agent.citations import check_citation
from tools import REGISTRY
from tools.context import ToolContext

# A cover and a contents page without folios, then pages printed 1, 2, 3, and a last page whose folio is missing.
PAGES = [
    "FORM 10-K\nANNUAL REPORT\nFor the fiscal year ended December 31, 2023\nFOLIO HOLDINGS",
    "Contents\nBusiness",
    "Item 1. Business\nWe make folios.\n1",
    "Revenue was 4,242 in 2023.\n2",
    "Costs were 1,111 in 2023.\n3",
    "Exhibits follow.",
]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    from tests.corpus.samples import ingest_folder

    root = tmp_path_factory.mktemp("folios")
    (root / "in").mkdir()
    (root / "in" / "FOLIO_2023_10K.txt").write_text("\f".join(PAGES), encoding="utf-8")
    corpus = ingest_folder(root / "in", root / "data")
    yield ToolContext(corpus)
    corpus.close()


def test_read_shows_the_printed_page_beside_the_pdf_page(context):
    text = REGISTRY.call("read", {"doc_id": "FOLIO_2023_10K", "pages": "4-5"}, context).text
    assert "Reading pages 4-5 (printed 2-3), lines" in text
    assert "=== FOLIO_2023_10K page 4 (printed 2) ===" in text and "=== FOLIO_2023_10K page 5 (printed 3) ===" in text


def test_a_page_whose_folio_cannot_be_read_shows_the_pdf_page_only(context):
    text = REGISTRY.call("read", {"doc_id": "FOLIO_2023_10K", "pages": "6"}, context).text
    assert "Reading page 6, lines" in text and "=== FOLIO_2023_10K page 6 ===" in text and "printed" not in text


def test_a_citation_names_the_printed_page(context):
    def text_of(doc_id: str):
        return context.text(doc_id)

    cited = check_citation(AnswerCitation(doc_id="FOLIO_2023_10K", page=4, quote="Revenue was 4,242"), text_of)
    assert cited.verified and cited.label() == "FOLIO_2023_10K p.4, printed 2 l.10"
    cover = check_citation(AnswerCitation(doc_id="FOLIO_2023_10K", page=1, quote="FOLIO HOLDINGS"), text_of)
    assert cover.label().startswith("FOLIO_2023_10K p.1 ")
