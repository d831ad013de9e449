"""What an export reads from the catalog: a cited filing's company, form, period and accession, the XBRL concept of a
figure on a cited page, and whether a cited page prints a figure (each read once per export)."""

from __future__ import annotations

from functools import lru_cache

from agent.citations import figures as page_figures
from api.exports.figures import DocInfo
from corpus.catalog import Corpus
from corpus.errors import CorpusError
from corpus.text_store import is_valid_doc_id

MAX_FACTS_PER_DOC = 200_000  # a filing's facts read for concepts; a larger one's are not looked at


class CatalogSources:
    """Sources backed by the corpus; unknown doc_ids and unreadable pages say nothing rather than fail the export."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.document = lru_cache(maxsize=256)(self._document)  # type: ignore[method-assign]
        self._facts = lru_cache(maxsize=32)(self._facts_of)
        self._page = lru_cache(maxsize=256)(self._page_figures)
        self._text = lru_cache(maxsize=8)(corpus.store.read)  # a few filings' texts at once: they can be MBs each

    def _document(self, doc_id: str) -> DocInfo | None:
        if not is_valid_doc_id(doc_id):
            return None
        try:
            d = self.corpus.get(doc_id)
        except (CorpusError, ValueError):
            return None
        period = None
        if d.fiscal_year:
            period = f"FY{d.fiscal_year}" if d.fiscal_period in (None, "FY") else f"{d.fiscal_period} {d.fiscal_year}"
        return DocInfo(doc_id, d.company, d.form_type, period, d.accession, d.format == "pdf")

    def _facts_of(self, doc_id: str) -> dict[int, list[tuple[float, str]]]:
        """page -> (value as printed, concept) of the filing's XBRL-tagged facts."""
        by_page: dict[int, list[tuple[float, str]]] = {}
        try:
            facts = self.corpus.facts([doc_id])
        except CorpusError:
            return by_page
        for f in facts[:MAX_FACTS_PER_DOC]:
            if f.concept and f.page is not None and f.value is not None:
                by_page.setdefault(f.page, []).append((abs(f.value) / 10 ** (f.scale or 0), f.concept))
        return by_page

    def concept(self, doc_id: str, page: int, value: float) -> str | None:
        if self.document(doc_id) is None:
            return None
        return next((c for v, c in self._facts(doc_id).get(page, []) if abs(v - value) < 0.5), None)

    def _page_figures(self, doc_id: str, page: int) -> frozenset[float]:
        if self.document(doc_id) is None:
            return frozenset()
        try:
            text = self._text(doc_id)
            if not 1 <= page <= text.page_count:
                return frozenset()
            found = page_figures(text.page_text(page))
        except (CorpusError, OSError, ValueError):
            return frozenset()
        return frozenset(float(f) for f in found if f.replace(".", "", 1).isdigit())

    def page_holds(self, doc_id: str, page: int, value: float) -> bool:
        return value in self._page(doc_id, page)
