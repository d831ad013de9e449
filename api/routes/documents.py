"""Documents: the catalog, one filing's metadata and outline, page text for citations, upload (an ingest job), delete."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from agent.events import Event
from api.routes.deps import AdminDep, CallerDep, ServicesDep
from api.routes.runs import create_counted
from api.schemas import RunCreated
from api.uploads import receive, staged
from corpus.errors import CorpusError, DocumentNotFound
from corpus.ingest import default_doc_id

router = APIRouter(tags=["documents"])


class DocumentPublic(BaseModel):
    doc_id: str
    company: str | None
    ticker: str | None
    form_type: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    period_end_date: date | None
    format: str
    file_name: str
    pages: int
    tokens: int
    ingested_at: datetime


class DocumentsPublic(BaseModel):
    data: list[DocumentPublic]
    count: int
    embeddings: dict | None = Field(
        None,
        description="Dense retrieval's coverage of the local index: filings and chunks "
        "embedded, state of the background worker, seconds left, and a line to show",
    )


class SectionPublic(BaseModel):
    key: str
    title: str
    kind: str
    path: str
    depth: int
    start_page: int
    end_page: int
    start_line: int
    end_line: int


class DocumentDetail(DocumentPublic):
    sections: list[SectionPublic]


class LinePublic(BaseModel):
    number: int
    text: str


class PagePublic(BaseModel):
    doc_id: str
    page: int
    page_count: int
    lines: list[LinePublic]


def _public(doc: Any) -> dict[str, Any]:
    return {
        "doc_id": doc.id,
        "company": doc.company,
        "ticker": doc.ticker,
        "form_type": doc.form_type,
        "fiscal_year": doc.fiscal_year,
        "fiscal_period": doc.fiscal_period,
        "period_end_date": doc.period_end_date,
        "format": doc.format,
        "file_name": doc.file_name,
        "pages": doc.page_count,
        "tokens": doc.token_estimate,
        "ingested_at": doc.ingested_at,
    }


def _not_found(svc: ServicesDep, doc_id: str) -> HTTPException:
    hints = svc.corpus.suggest(doc_id)
    return HTTPException(
        404, f"no document {doc_id!r}" + (f"; closest: {', '.join(hints)}" if hints else "; list them with GET /v1/documents")
    )


@router.get("/documents", response_model=DocumentsPublic, summary="The catalog")
async def list_documents(
    svc: ServicesDep,
    who: CallerDep,
    company: str | None = None,
    form: str | None = None,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentsPublic:
    docs = await asyncio.to_thread(svc.corpus.list, company, form, year)
    embeddings = await asyncio.to_thread(svc.dense_coverage)
    return DocumentsPublic(
        data=[DocumentPublic(**_public(d)) for d in docs[offset : offset + limit]], count=len(docs), embeddings=embeddings
    )


@router.get("/documents/{doc_id}", response_model=DocumentDetail, summary="One filing: metadata and outline")
async def get_document(doc_id: str, svc: ServicesDep, who: CallerDep) -> DocumentDetail:
    try:
        doc = await asyncio.to_thread(svc.corpus.get, doc_id)
    except DocumentNotFound:
        raise _not_found(svc, doc_id) from None
    sections = await asyncio.to_thread(svc.corpus.sections, doc_id)
    return DocumentDetail(
        **_public(doc),
        sections=[
            SectionPublic(
                key=s.key,
                title=s.title,
                kind=s.kind,
                path=s.path,
                depth=s.depth,
                start_page=s.start_page,
                end_page=s.end_page,
                start_line=s.start_line,
                end_line=s.end_line,
            )
            for s in sections
        ],
    )


@router.get("/documents/{doc_id}/pages/{page}", response_model=PagePublic, summary="A page's text with line numbers")
async def get_page(doc_id: str, page: int, svc: ServicesDep, who: CallerDep) -> PagePublic:
    try:
        text = await asyncio.to_thread(svc.corpus.store.read, doc_id)
    except (DocumentNotFound, CorpusError, ValueError):
        raise _not_found(svc, doc_id) from None
    if not 1 <= page <= text.page_count:
        raise HTTPException(404, f"{doc_id} has pages 1-{text.page_count}; there is no page {page}")
    first, _ = text.page_span(page)
    lines = [LinePublic(number=first + i, text=line) for i, line in enumerate(text.page_text(page).split("\n"))]
    return PagePublic(doc_id=doc_id, page=page, page_count=text.page_count, lines=lines)


@router.delete("/documents/{doc_id}", summary="Remove a filing from the catalog, text store and index (admin key)")
async def delete_document(doc_id: str, svc: ServicesDep, who: AdminDep) -> dict[str, str]:
    try:
        await asyncio.to_thread(svc.corpus.remove, doc_id)
    except DocumentNotFound:
        raise _not_found(svc, doc_id) from None
    asyncio.get_running_loop().run_in_executor(None, _sync_index, svc)  # BM25 over the rest; search keeps the old index meanwhile
    return {"deleted": doc_id}


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "PDF, HTML/HTM, TXT or MD filings.",
                        },
                        "replace": {
                            "type": "boolean",
                            "description": "Replace filings of the same name (like the query parameter).",
                        },
                    },
                }
            }
        },
    }
}


def _existing(svc: ServicesDep, names: list[str]) -> list[str]:
    """doc_ids these file names would take that the catalog already has."""
    known = {d.id for d in svc.corpus.list()}
    return [doc_id for doc_id in (default_doc_id(Path(n)) for n in names) if doc_id in known]


@router.post(
    "/documents",
    status_code=202,
    response_model=RunCreated,
    openapi_extra=UPLOAD_BODY,
    summary="Upload filings (admin key); ingest runs as a job with progress events",
)
async def upload_documents(
    request: Request,
    svc: ServicesDep,
    who: AdminDep,
    replace: Annotated[
        bool, Query(description="Replace filings that already have these names; without it such an upload is refused (409).")
    ] = False,
) -> RunCreated:
    """Multipart field `files` (one per file). Counts against the key's runs in flight and the queue, not the run slots."""
    if svc.runner.queued() >= svc.settings.max_queued:
        raise HTTPException(
            503, f"the queue is full ({svc.settings.max_queued} jobs waiting); retry later", headers={"Retry-After": "30"}
        )
    if (
        await asyncio.to_thread(svc.store.count_active, who.key_id) >= svc.settings.key_max_running
    ):  # before the bytes arrive; checked again when stored
        raise HTTPException(
            429,
            f"this key already has {svc.settings.key_max_running} runs or uploads queued or running; wait for one to finish",
            headers={"Retry-After": "10"},
        )
    job_id = str(uuid.uuid4())
    folder = svc.corpus.settings.data_dir / "uploads" / job_id
    received = await receive(request, folder, svc.settings.upload_max_mb << 20, svc.settings.upload_max_files)
    uploads = received.uploads
    field = received.fields.get("replace", "").lower()
    if field not in {"", "true", "false", "1", "0", "yes", "no", "on", "off"}:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(400, f"replace={field[:16]!r}: send replace=true or replace=false")
    replace = replace or field in {"true", "1", "yes", "on"}
    taken = [] if replace else await asyncio.to_thread(_existing, svc, [u.name for u in uploads])
    if taken:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(
            409,
            f"already in the catalog: {', '.join(taken[:10])}{' …' if len(taken) > 10 else ''}; nothing was changed. "
            "To replace them, upload again with replace=true (POST /v1/documents?replace=true)",
        )
    names = ", ".join(u.name for u in uploads)
    try:
        run = await create_counted(
            svc, who, "runs or uploads", mode="ingest", question=f"ingest {names}"[:2000], filters=None, model="-", budgets=None
        )
    except HTTPException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    async def work(emit) -> tuple[str, dict | None, str | None]:
        from corpus.ingest import IngestResult, ingest_paths

        loop = asyncio.get_running_loop()
        done = 0
        paths, refused = [u.path for u in uploads], []
        if not replace:  # another upload may have added one of these names while this job waited
            late = set(await asyncio.to_thread(_existing, svc, [u.name for u in uploads]))
            refused = [
                IngestResult(
                    str(u.path),
                    "failed",
                    default_doc_id(Path(u.name)),
                    "already in the catalog (added while this upload waited); upload it with replace=true to replace it",
                )
                for u in uploads
                if default_doc_id(Path(u.name)) in late
            ]
            paths = [u.path for u in uploads if default_doc_id(Path(u.name)) not in late]

        def on_result(result) -> None:
            nonlocal done
            done += 1
            data = {
                "file": result.path.rsplit("/", 1)[-1],
                "status": result.status,
                "doc_id": result.doc_id,
                "reason": result.reason,
                "pages": result.pages,
                "done": done,
                "total": len(uploads),
            }
            asyncio.run_coroutine_threadsafe(emit(Event("ingest_progress", data)), loop).result()

        for result in refused:
            await asyncio.to_thread(on_result, result)
        report = await asyncio.to_thread(ingest_paths, svc.corpus, paths, workers=1, on_result=on_result) if paths else None
        await emit(Event("index", {"status": "updating"}))
        await asyncio.to_thread(_sync_index, svc)
        await emit(Event("index", {"status": "ready"}))
        all_results = refused + (list(report.results) if report else [])
        results = [
            {"file": r.path.rsplit("/", 1)[-1], "status": r.status, "doc_id": r.doc_id, "reason": r.reason, "pages": r.pages}
            for r in all_results
        ]
        failed = [r for r in results if r["status"] == "failed"]
        status = "failed" if failed and len(failed) == len(results) else "done"
        summary = (report.summary() if report else "nothing ingested") + (
            f"; {len(refused)} refused (already in the catalog)" if refused else ""
        )
        return status, {"summary": summary, "files": results}, "; ".join(f"{r['file']}: {r['reason']}" for r in failed) or None

    svc.runner.submit_job(
        run.id, "ingest", staged(work, folder, run.id, svc.store), pool="ingest"
    )  # staged files go when the job ends
    links = {"self": f"/v1/runs/{run.id}", "events": f"/v1/runs/{run.id}/events"}
    return RunCreated(id=run.id, status="queued", queue_position=svc.runner.queue_position(run.id), links=links)


def _sync_index(svc: ServicesDep) -> None:
    """Chunks and BM25 for what changed (embeddings: `sleuth index`); open searchers pick the commit up by themselves."""
    from retrieval.searcher import sync_index

    with svc.index_lock:  # one sync per process at a time; the index's own write lock orders processes
        sync_index(svc.corpus)
    # No reload: open searchers re-read the committed manifest on their next search (a reopen would reload every chunk).
