"""A finished run exported: Markdown, DOCX, PDF, the XLSX evidence pack, or a ZIP of them all (GET /v1/runs/{id}/export)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.exports import FORMATS, MEDIA_TYPES, Content, RunInfo, content_of, file_name
from api.exports.pool import ExportBusy, ExportFailed, ExportPool, ExportTimeout
from api.exports.sources import CatalogSources
from api.page_renderer import RenderBusy, RenderFailed
from api.routes.deps import CallerDep, ServicesDep
from api.routes.pages import caller_key
from api.routes.runs import get_owned
from api.run_store import ACTIVE
from api.settings import get_settings
from corpus.errors import CorpusError
from corpus.page_image import PageNotRendered

router = APIRouter(tags=["runs"])


@router.get(
    "/runs/{run_id}/export",
    summary="A finished run as Markdown, DOCX, PDF, the XLSX evidence pack, or a ZIP of them all",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The file, as an attachment"}},
)
async def export_run(
    run_id: str,
    request: Request,
    svc: ServicesDep,
    who: CallerDep,
    format: Annotated[
        str, Query(max_length=16, description="md, docx, pdf, xlsx (the evidence pack) or zip (all of them).")
    ] = "md",
    pages: Annotated[
        bool | None,
        Query(description="Append the cited page images (PDF: off by default; ZIP: on). Capped: SLEUTH_EXPORT_MAX_PAGE_IMAGES."),
    ] = None,
) -> FileResponse:
    """Every figure cited: footnotes (Markdown, DOCX), notes (PDF), a row per figure with its page and check (XLSX)."""
    fmt = format.strip().lower()
    if fmt not in FORMATS:
        raise HTTPException(400, f"export format {format[:16]!r} is not offered; formats: {', '.join(FORMATS)}")
    run = await asyncio.to_thread(get_owned, svc, run_id, who)
    if run.status in ACTIVE:
        raise HTTPException(409, f"run {run.id} is {run.status}: export it once it has finished (follow GET /v1/runs/{run.id})")
    settings = get_settings().export
    content = await asyncio.to_thread(content_of, RunInfo.of(run), CatalogSources(svc.corpus), str(request.base_url), settings)
    with_pages = pages if pages is not None else fmt == "zip"
    images = (
        await _page_images(request, svc, content, caller_key(who), settings.timeout_s)
        if with_pages and fmt in ("pdf", "zip")
        else {}
    )
    folder = Path(tempfile.mkdtemp(prefix="sleuth-export-"))
    try:
        path = await export_pool(request).export(fmt, content, images, folder)
    except ExportBusy as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    except ExportTimeout as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(504, str(exc)) from None
    except ExportFailed as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(500, str(exc)) from None
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=file_name(content, fmt),
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def export_pool(request: Request) -> ExportPool:
    return request.app.state.export_pool


async def _page_images(
    request: Request, svc: ServicesDep, content: Content, who: str, budget_s: float
) -> dict[tuple[str, int], bytes]:
    """The cited pages as PNGs, one render at a time (the renderer's per-caller limit), within half the export's time;
    a page that cannot be rendered is named in the file instead."""
    renderer, images, missed = request.app.state.page_renderer, {}, []
    deadline = time.monotonic() + budget_s / 2
    for doc_id, page in content.pages:
        if time.monotonic() > deadline:
            missed.append(f"{doc_id} p.{page} (out of time)")
            continue
        try:
            doc = await asyncio.to_thread(svc.corpus.get, doc_id)
            original = svc.corpus.originals.path(doc.content_hash)
            if not await asyncio.to_thread(original.is_file):
                missed.append(f"{doc_id} p.{page} (its original file is missing)")
                continue
            png, _, _ = await renderer.image(original, svc.corpus.originals.render_dir(doc.content_hash), page, who)
            images[(doc_id, page)] = png
        except (CorpusError, ValueError, PageNotRendered, RenderBusy, RenderFailed) as exc:
            missed.append(f"{doc_id} p.{page} ({exc})")
    if missed:
        content.cuts.append(f"{len(missed)} cited page images could not be added: {'; '.join(missed)[:2000]}")
    return images
