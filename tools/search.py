"""search: hybrid retrieval (BM25 + embeddings, fused, reranked) over chunks of all filings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from corpus.errors import CorpusError
from tools.base import Citation
from tools.caveats import Caveats
from tools.context import current
from tools.copies import collapse_copies
from tools.errors import ToolError
from tools.registry import tool


@dataclass
class SearchHits:
    query: str
    passages: list  # retrieval.searcher.Passage
    notes: list[str]
    scope: str
    copies: list[list[str]] | None = None  # per passage: where its copies left out are, or which passages hold its rows
    doc_notes: dict[str, str] | None = None  # doc_id -> what its name gets wrong

    def render(self) -> str:
        head = f"{len(self.passages)} passages for {self.query!r} ({self.scope})"
        lines = [head] + [f"note: {n}" for n in self.notes]
        for rank, p in enumerate(self.passages, 1):
            period = (
                f"FY{p.fiscal_year}" + (f" {p.fiscal_period}" if p.fiscal_period and p.fiscal_period != "FY" else "")
                if p.fiscal_year
                else ""
            )
            where = f"{p.doc_id} p.{p.pages} lines {p.start_line}-{p.end_line}"
            lines.append(
                f"\n[{rank}] {where} | {p.company or '?'} {p.form_type or ''} {period} | {p.section_path or '(no section)'}"
            )
            if note := (self.doc_notes or {}).get(p.doc_id):
                lines.append(f"(note: {note})")
            lines += [f"({note})" for note in (self.copies[rank - 1] if self.copies else [])]
            lines.append(p.text)
        lines.append("\nRead around a passage with read(doc_id=..., lines='a-b') or read(doc_id=..., section=...).")
        return "\n".join(lines)

    def citations(self) -> list[Citation]:
        return [Citation(p.doc_id, p.start_page, p.start_line) for p in self.passages]


@tool
def search(
    query: Annotated[
        str,
        Field(
            description="What to find, in words a filing would use, e.g. 'capital expenditures 2018' or 'risks of supplier concentration'."
        ),
    ],
    k: Annotated[int, Field(description="Passages to return (1-30).")] = 8,
    company: Annotated[str | None, Field(description="Only this company (name or ticker).")] = None,
    form: Annotated[str | None, Field(description="Only this form type, e.g. 10-K.")] = None,
    year: Annotated[int | None, Field(ge=1900, le=2100, description="Only this fiscal year.")] = None,
    doc_ids: Annotated[list[str] | None, Field(description="Only these documents.")] = None,
) -> SearchHits:
    """Hybrid search (keywords + meaning) over passages of all filings; returns ranked passages with doc_id, pages, lines and section. Best when you do not know where something is; companies and years named in the query narrow it. Use grep for exact figures or terms."""
    from retrieval.filters import Filters

    context = current()
    if not 1 <= k <= context.settings.search_max_k:
        raise ToolError(f"k={k} is out of range; use 1..{context.settings.search_max_k}")
    try:
        searcher = context.searcher
    except CorpusError as exc:
        raise ToolError(f"search is unavailable ({for_model(str(exc))}); use grep and read meanwhile") from exc
    if doc_ids:
        try:
            known = searcher.view().docs
        except CorpusError as exc:
            raise ToolError(f"search is unavailable ({exc}); use grep and read meanwhile") from exc
        unknown = [d for d in doc_ids if d not in known]
        if unknown:
            hints = {d: context.corpus.suggest(d) for d in unknown}
            raise ToolError(f"Unknown doc_ids {unknown}; closest: {hints}. Use list_documents to find doc_ids.")
    try:
        # fetched twice over: twins and tables printed twice collapse to one passage each
        fetched = max(k, min(2 * k, context.settings.search_max_k))
        result = searcher.search(query, fetched, Filters.model_construct(company=company, form=form, year=year, doc_ids=doc_ids))
    except CorpusError as exc:
        raise ToolError(for_model(str(exc))) from exc
    if not result.passages:
        raise ToolError(f"No passage found for {query!r}; use other words, drop filters, or grep for an exact term.")
    scope = f"searched {len(result.searched_docs)} documents" + (
        f", {', '.join(result.preferred_docs[:3])} first" if result.preferred_docs else ""
    )
    caveats = Caveats.load(context.corpus)
    passages, copies = collapse_copies(result.passages, caveats, k)
    notes = {d: c for d in {p.doc_id for p in passages} if (c := caveats.conflicts.get(d))}
    return SearchHits(query, passages, [for_model(n) for n in result.notes], scope, copies, notes)


# Retrieval speaks to users of the CLI; the model cannot run commands, so it hears of the tools it can call.
_COMMANDS = (
    (re.compile(r"list documents with `sleuth docs`"), "find doc_ids with list_documents()"),
    (re.compile(r"list companies with `sleuth docs`"), "see the companies with list_documents()"),
    (re.compile(r"`sleuth docs`"), "list_documents()"),
    (re.compile(r"\s*\(run `sleuth index[^`]*`\)"), ""),
    (
        re.compile(r"(?:build it|rebuild|run) with `sleuth index[^`]*`|run `sleuth index[^`]*`"),
        "the operator has to build the index",
    ),
    (re.compile(r"`sleuth [^`]*`"), "the operator"),
)


def for_model(message: str) -> str:
    """A retrieval message with CLI commands replaced by the tools the model can call."""
    for pattern, words in _COMMANDS:
        message = pattern.sub(words, message)
    return message
