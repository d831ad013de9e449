"""list_documents: find filings by company, form, fiscal year or words in their names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from corpus.models import Document
from tools.base import Citation
from tools.caveats import Caveats
from tools.context import current
from tools.errors import ToolError
from tools.registry import tool


@dataclass(frozen=True)
class DocumentRow:
    doc_id: str
    company: str | None
    form_type: str | None
    period: str
    pages: int
    tokens: int
    subject: str = ""  # what an 8-K or earnings release is about
    note: str = ""  # a name that contradicts the filing, the filing's other names

    @classmethod
    def of(cls, doc: Document, note: str = "") -> DocumentRow:
        period = f"FY{doc.fiscal_year}" if doc.fiscal_year else "?"
        if doc.fiscal_period and doc.fiscal_period != "FY":
            period += f" {doc.fiscal_period}"
        if doc.period_end_date:
            period += f" (ended {doc.period_end_date.isoformat()})"
        return cls(doc.id, doc.company, doc.form_type, period, doc.page_count, doc.token_estimate, doc.subject or "", note)

    def render(self) -> str:
        line = f"- {self.doc_id} | {self.company or '?'} | {self.form_type or '?'} | {self.period} | {self.pages} pages | ~{self.tokens:,} tokens"
        return line + (f" | {self.subject}" if self.subject else "") + (f" | note: {self.note}" if self.note else "")


def document_rows(docs: Sequence[Document], caveats: Caveats) -> list[DocumentRow]:
    """One row per filing (twins once, naming the others), each with what its name gets wrong."""
    by_id = {d.id: d for d in docs}
    kept, _left_out = caveats.collapse([d.id for d in docs])
    return [DocumentRow.of(by_id[d], caveats.note(d)) for d in kept]


@dataclass
class DocumentList:
    """Documents found, newest period first, and how many more matched than are shown."""

    rows: list[DocumentRow]
    total: int
    query: str

    def render(self) -> str:
        lines = [
            f"{self.total} documents match {self.query}" + (f"; showing {len(self.rows)}" if self.total > len(self.rows) else "")
        ]
        lines += [r.render() for r in self.rows]
        if self.total > len(self.rows):
            lines.append("Narrow with company/form/year to see the rest.")
        return "\n".join(lines)

    def citations(self) -> list[Citation]:
        return []


def document_list(docs: Sequence[Document], query: str, limit: int, caveats: Caveats | None = None) -> DocumentList:
    rows = document_rows(docs, caveats or Caveats())
    return DocumentList(rows[:limit], len(rows), query)


@tool
def list_documents(
    company: Annotated[str | None, Field(description="Company name, ticker or part of it, e.g. '3M', 'PepsiCo', 'JPM'.")] = None,
    form: Annotated[str | None, Field(description="Form type: 10-K, 10-Q, 8-K, earnings release, annual report.")] = None,
    year: Annotated[int | None, Field(ge=1900, le=2100, description="Fiscal year the filing reports on, e.g. 2022.")] = None,
    query: Annotated[str | None, Field(description="Words that must all appear in the doc_id or company name.")] = None,
) -> DocumentList:
    """List the filings in the corpus with doc_id, company, form, fiscal period, pages and size, newest first. Start here to find the doc_id of the filing a question is about."""
    context = current()
    try:
        docs = list(context.corpus.list(company=company, form=form, year=year))
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    if query:
        words = query.lower().split()
        docs = [d for d in docs if all(w in f"{d.id} {d.company or ''}".lower() for w in words)]
    described = ", ".join(
        f"{k}={v!r}" for k, v in (("company", company), ("form", form), ("year", year), ("query", query)) if v is not None
    )
    if not docs:
        everything = context.corpus.list()
        companies = sorted({d.company for d in everything if d.company})
        if not everything:
            raise ToolError("The corpus is empty: no filings have been ingested yet.")
        raise ToolError(
            f"No document matches {described or 'these filters'}. Companies in the corpus: {', '.join(companies[:40])}"
            + (" ..." if len(companies) > 40 else "")
            + ". Try list_documents(company=...) with one of them, or without year/form."
        )
    return document_list(docs, described or "(no filters)", context.settings.list_max_results, Caveats.load(context.corpus))
