"""Redlines: what changed in one section between two filings, paragraph by paragraph, with pages on both sides."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.routes.deps import CallerDep, ServicesDep
from api.routes.documents import _not_found
from api.settings import get_settings
from corpus.errors import DocumentNotFound
from tools.alignment import Change
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.paragraphs import Paragraph
from tools.redline import Redline, Side, diff, redline

router = APIRouter(tags=["documents"])
_REDLINES = asyncio.Semaphore(2)  # CPU-bound alignment: a few at a time, the event loop stays free
MAX_LIMIT = 100


class SidePublic(BaseModel):
    doc_id: str
    describe: str = Field(description="Company, form and fiscal period")
    section: str = Field(description="The section's key and title in this filing")
    key: str
    start_page: int
    end_page: int
    paragraphs: int


class ParagraphPublic(BaseModel):
    page: int = Field(description="1-based PDF page the paragraph starts on")
    end_page: int
    line: int = Field(description="1-based line the paragraph starts on")
    text: str


class EditPublic(BaseModel):
    op: Literal["=", "-", "+"] = Field(description="'=' kept, '-' only in A, '+' only in B")
    text: str


class ChangePublic(BaseModel):
    kind: Literal["added", "removed", "changed"]
    similarity: float = Field(description="0-1 for a changed paragraph; 0 for added and removed ones")
    a: ParagraphPublic | None = Field(description="The paragraph in the first filing (none when added)")
    b: ParagraphPublic | None = Field(description="The paragraph in the second filing (none when removed)")
    diff: list[EditPublic] = Field(description="Word diff of a changed paragraph, in order; empty otherwise")


class RedlinePublic(BaseModel):
    a: SidePublic
    b: SidePublic
    unchanged: int
    moved: int = Field(description="Unchanged paragraphs that stand in another order")
    counts: dict[str, int] = Field(description="added, removed and changed paragraphs in the whole section")
    show: str
    offset: int
    total: int = Field(description="Changes of the kind shown; page with offset")
    notes: list[str]
    changes: list[ChangePublic]


def _side(s: Side) -> SidePublic:
    return SidePublic(
        doc_id=s.doc_id,
        describe=s.describe,
        section=s.section,
        key=s.key,
        start_page=s.start_page,
        end_page=s.end_page,
        paragraphs=s.paragraphs,
    )


def _paragraph(p: Paragraph | None) -> ParagraphPublic | None:
    return None if p is None else ParagraphPublic(page=p.page, end_page=p.end_page, line=p.line, text=p.text)


def _change(c: Change) -> ChangePublic:
    edits = [EditPublic(op=e.op, text=e.text) for e in diff(c)]
    return ChangePublic(kind=c.kind, similarity=c.similarity, a=_paragraph(c.a), b=_paragraph(c.b), diff=edits)


def public(r: Redline) -> RedlinePublic:
    return RedlinePublic(
        a=_side(r.a),
        b=_side(r.b),
        unchanged=r.unchanged,
        moved=r.moved,
        counts=r.counts,
        show=r.show,
        offset=r.offset,
        total=r.total,
        notes=r.notes,
        changes=[_change(c) for c in r.changes],
    )


def _compute(svc: ServicesDep, doc_a: str, doc_b: str, section: str, show: str, offset: int, limit: int) -> RedlinePublic:
    settings = get_settings().tools
    context = ToolContext(svc.corpus, settings, guess_doc_ids=False)
    context.deadline = time.monotonic() + settings.timeout_s
    with use_context(context):
        return public(redline(doc_a, doc_b, section, show, offset, limit))


@router.get(
    "/documents/{doc_a}/redline/{doc_b}",
    response_model=RedlinePublic,
    summary="What changed in one section between two filings: paragraphs added, removed and changed, with both pages",
)
async def get_redline(
    doc_a: str,
    doc_b: str,
    svc: ServicesDep,
    who: CallerDep,
    section: Annotated[
        str, Query(min_length=1, max_length=200, description="Key or title in both filings: 'Item 1A', 'Risk Factors', 'Note 2'")
    ],
    show: Annotated[Literal["all", "added", "removed", "changed"], Query(description="Only this kind of change")] = "all",
    offset: Annotated[int, Query(ge=0, le=100_000, description="Skip this many changes")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most changes returned")] = 50,
) -> RedlinePublic:
    for doc_id in (doc_a, doc_b):
        try:
            await asyncio.to_thread(svc.corpus.get, doc_id)
        except DocumentNotFound:
            raise _not_found(svc, doc_id) from None
    async with _REDLINES:
        try:
            return await asyncio.to_thread(_compute, svc, doc_a, doc_b, section, show, offset, limit)
        except ToolError as exc:
            raise HTTPException(404 if "is not in both filings" in str(exc) else 422, str(exc)) from None
