"""The cited page as printed: a PDF page as a PNG, and the boxes of a quote or figure on it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel

from api.auth import Caller
from api.boxes import find_boxes
from api.page_renderer import PageRenderer, RenderBusy, RenderFailed, TooManyRenders
from api.routes.deps import CallerDep, ServicesDep
from corpus.errors import DocumentNotFound
from corpus.models import Document
from corpus.page_image import PageNotRendered, PageOutOfRange

router = APIRouter(tags=["documents"])
QUOTE_MAX_CHARS = 2000
_FORMAT_NAMES = {"html": "an HTML", "txt": "a text", "md": "a Markdown", "text": "a text"}


class BoxPublic(BaseModel):
    x: float
    y: float
    w: float
    h: float


class PageBoxes(BaseModel):
    doc_id: str
    page: int
    page_count: int
    width: int  # the page image's size in pixels: the boxes' coordinate space
    height: int
    query: str
    found: bool
    match: str | None  # "quote": the text itself; "figures": the quote's figures; null: not on this page
    boxes: list[BoxPublic]
    image: str


def renderer(request: Request) -> PageRenderer:
    return request.app.state.page_renderer


async def _original(svc: ServicesDep, doc_id: str, page: int) -> tuple[Document, Path]:
    """The document and its original PDF; 404s that say what is missing and what still works."""
    try:
        doc = await asyncio.to_thread(svc.corpus.get, doc_id)
    except (DocumentNotFound, ValueError):
        hints = await asyncio.to_thread(svc.corpus.suggest, doc_id)
        raise HTTPException(
            404, f"no document {doc_id!r}" + (f"; closest: {', '.join(hints)}" if hints else "; list them with GET /v1/documents")
        ) from None
    if not 1 <= page <= doc.page_count:
        raise HTTPException(404, f"{doc_id} has pages 1-{doc.page_count}; there is no page {page}")
    text_view = f"/v1/documents/{doc_id}/pages/{page}"
    if doc.format != "pdf":
        kind = _FORMAT_NAMES.get(doc.format, f"a {doc.format}")
        raise HTTPException(404, f"{doc_id} is {kind} filing: it has no page images, only text; read page {page} at {text_view}")
    path = svc.corpus.originals.path(doc.content_hash)
    if not await asyncio.to_thread(path.is_file):
        raise HTTPException(
            404,
            f"the original file of {doc_id} ({doc.file_name}) is missing from the data dir, so its pages cannot be shown as "
            f"images; the text view still works ({text_view}). Ingest the file again to keep its original "
            f"(`sleuth ingest {doc.file_name}` or an upload).",
        )
    return doc, path


def _render_error(doc_id: str, exc: Exception) -> HTTPException:
    if isinstance(exc, PageOutOfRange):
        return HTTPException(404, f"{doc_id}: {exc}")
    if isinstance(exc, TooManyRenders):
        return HTTPException(429, str(exc), headers={"Retry-After": "5"})
    if isinstance(exc, RenderBusy):
        return HTTPException(503, str(exc), headers={"Retry-After": "2"})
    if isinstance(exc, RenderFailed):
        return HTTPException(422, f"page of {doc_id} cannot be shown as an image: {exc}; the text view still works")
    return HTTPException(422, f"the original of {doc_id} cannot be rendered: {exc}; the text view still works")


def caller_key(who: Caller) -> str:
    return f"key:{who.key_id}" if who.key_id is not None else "open"


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in header.split(","))


@router.get(
    "/documents/{doc_id}/pages/{page}/image",
    summary="A PDF page as printed (PNG)",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The page image"},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
async def page_image(doc_id: str, page: int, request: Request, svc: ServicesDep, who: CallerDep) -> Response:
    doc, original = await _original(svc, doc_id, page)
    pages = renderer(request)
    etag = f'"{doc.content_hash[:32]}-{pages.cache_name(page)}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}  # revalidate: a replaced filing keeps its URL
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        png, width, height = await pages.image(original, svc.corpus.originals.render_dir(doc.content_hash), page, caller_key(who))
    except (PageNotRendered, RenderBusy, RenderFailed) as exc:
        raise _render_error(doc_id, exc) from None
    headers.update({"X-Image-Width": str(width), "X-Image-Height": str(height)})
    return Response(png, media_type="image/png", headers=headers)


@router.get(
    "/documents/{doc_id}/pages/{page}/boxes", response_model=PageBoxes, summary="Where a quote or figure is printed on a PDF page"
)
async def page_boxes(
    doc_id: str,
    page: int,
    request: Request,
    svc: ServicesDep,
    who: CallerDep,
    q: Annotated[str, Query(min_length=1, max_length=QUOTE_MAX_CHARS, description="The quote or figure to find, as cited.")],
) -> PageBoxes:
    _, original = await _original(svc, doc_id, page)
    try:
        glyphs = await renderer(request).glyphs(original, page, caller_key(who))
    except (PageNotRendered, RenderBusy, RenderFailed) as exc:
        raise _render_error(doc_id, exc) from None
    match = await asyncio.to_thread(find_boxes, q, glyphs.glyphs)
    return PageBoxes(
        doc_id=doc_id,
        page=page,
        page_count=glyphs.page_count,
        width=glyphs.width,
        height=glyphs.height,
        query=q,
        found=bool(match.boxes),
        match=match.how if match.boxes else None,
        boxes=[BoxPublic(x=b.x, y=b.y, w=b.w, h=b.h) for b in match.boxes],
        image=f"/v1/documents/{doc_id}/pages/{page}/image",
    )
