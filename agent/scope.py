"""Filters a user puts on a question (company, form, year, doc_ids), resolved against the catalog."""

from __future__ import annotations

from corpus.catalog import Corpus
from corpus.errors import CorpusError
from retrieval.filters import Filters

_LISTED = 40  # past this many filings the scope is described by its filters instead of listed
_SUGGESTED = 3  # unknown doc_ids that get closest matches (suggesting costs a scan of the catalog each)


class UnknownDocuments(CorpusError):
    """doc_ids in the filters that the catalog does not have."""

    def __init__(self, unknown: dict[str, list[str]], more: int = 0) -> None:
        self.unknown = unknown
        hints = "; ".join(f"{d!r} (closest: {', '.join(s) or 'none'})" for d, s in unknown.items())
        extra = f" and {more} more unknown" if more else ""
        super().__init__(f"unknown doc_ids: {hints}{extra}; see `sleuth docs` or GET /v1/documents")


class EmptyScope(CorpusError):
    """The filters match no filing."""


def resolve(corpus: Corpus, filters: Filters | None) -> list[str] | None:
    """The doc_ids the filters allow (None: no filters); raises UnknownDocuments or EmptyScope."""
    if filters is None or filters.empty():
        return None
    if filters.doc_ids:
        known = {d.id for d in corpus.list()}  # one query, however many ids
        missing = list(dict.fromkeys(d for d in filters.doc_ids if d not in known))
        if missing:
            raise UnknownDocuments(
                {d: corpus.suggest(d) for d in missing[:_SUGGESTED]},
                more=len(missing) - _SUGGESTED if len(missing) > _SUGGESTED else 0,
            )
    docs = [d.id for d in corpus.list(filters.company, filters.form, filters.year)] if filters.describe() else None
    if filters.doc_ids:
        docs = [d for d in filters.doc_ids if docs is None or d in docs]
    if not docs:
        raise EmptyScope(f"no filing matches {filters.describe() or filters.doc_ids}; see `sleuth docs` for what is ingested")
    return docs


def scope_note(filters: Filters | None, doc_ids: list[str] | None) -> str:
    """The sentence that tells the agent where to look."""
    if doc_ids is None:
        return ""
    if len(doc_ids) <= _LISTED:
        return f"Scope: the user restricted this question to these filings: {', '.join(doc_ids)}. Use only them."
    return (
        f"Scope: the user restricted this question to filings of {filters.describe()} ({len(doc_ids)} filings). Use only those."
    )
