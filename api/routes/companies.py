"""Companies: a line item through time as a cited series (JSON, CSV, XLSX), and a company's standard line items."""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from api.routes.deps import CallerDep, ServicesDep
from api.series_export import csv_lines, xlsx_file
from corpus.series import Point, Report
from tools.company_series import SeriesError
from tools.series_table import MAX_ITEM_CHARS, SeriesTable, lookup, standard_tables

router = APIRouter(tags=["companies"])
_EXPORTS = asyncio.Semaphore(2)  # XLSX files are built on disk; a few at a time


class ReportPublic(BaseModel):
    doc_id: str
    accession: str | None
    page: int | None
    line: int | None
    label: str = Field(description="The row label as printed")
    printed: str = Field(description="The figure as printed, e.g. '(1,577)'")
    value: float = Field(description="The value in full units (scale and sign applied)")
    scale: int = Field(description="Power of ten the figure is printed in (6: millions)")
    column: str = Field(description="The column header as printed")
    origin: str = Field(
        description="Where it is printed: 'table' (a statement or note), 'ixbrl'/'xbrl' (tagged data), or "
        "'selected' (Item 6 Selected Financial Data, read as the statement that prints its label)"
    )


class PointPublic(BaseModel):
    period: str = Field(description="'FY2018', 'FY2023 Q2', 'FY2023 Q2 YTD', 'FY2022 end' (a balance-sheet date)")
    fiscal_year: int
    fiscal_quarter: int | None
    span: str = Field(description="FY, Q, YTD or instant")
    value: float = Field(description="The value the series uses (see basis), in full units")
    restated: bool = Field(description="A later filing printed a different value for this period")
    source: ReportPublic = Field(description="The printing the value comes from")
    restated_in: ReportPublic | None = Field(
        None, description="A restated period's restating filing: the first that printed the value as it stands now"
    )
    reports: list[ReportPublic] = Field(description="Every filing that printed this period, oldest first")


class SeriesPublic(BaseModel):
    company: str
    item: str = Field(description="The line item as the newest filing prints it")
    query: str
    labels: list[str] = Field(description="Every label it was printed under")
    section: str | None
    concept: str | None
    unit: str
    scale: int = Field(description="The scale most figures are printed in; values are in full units")
    unit_label: str
    period: str
    basis: str = Field(description="'latest' (restated values) or 'first' (as first reported)")
    points: list[PointPublic]
    alternatives: list[str]
    notes: list[str]


class StandardItemPublic(BaseModel):
    key: str
    name: str
    series: SeriesPublic | None
    missing: str | None = Field(description="Why the line item has no series for this company")


class CompanyPublic(BaseModel):
    company: str
    items: list[StandardItemPublic]


def _report(r: Report) -> ReportPublic:
    return ReportPublic(
        doc_id=r.doc_id,
        accession=r.accession,
        page=r.page,
        line=r.line,
        label=r.label,
        printed=r.printed,
        value=r.value,
        scale=r.scale,
        column=r.period_label,
        origin=r.source,
    )


def _point(p: Point, basis: str) -> PointPublic:
    chosen = p.chosen(basis)
    return PointPublic(
        period=str(p.period),
        fiscal_year=p.period.year,
        fiscal_quarter=p.period.quarter,
        span=p.period.span,
        value=chosen.value,
        restated=p.restated,
        source=_report(chosen),
        restated_in=_report(p.restating) if p.restated else None,
        reports=[_report(r) for r in p.reports],
    )


def public(table: SeriesTable) -> SeriesPublic:
    s = table.series
    return SeriesPublic(
        company=table.company,
        item=s.label,
        query=table.query,
        labels=s.labels,
        section=s.section,
        concept=s.concept,
        unit=s.unit,
        scale=s.scale,
        unit_label=table.unit_label,
        period=table.period.text,
        basis=table.basis,
        points=[_point(p, table.basis) for p in table.points],
        alternatives=table.alternatives,
        notes=table.notes + s.joined,
    )


def _problem(exc: SeriesError) -> HTTPException:
    text = str(exc)
    return HTTPException(404 if text.startswith("No ") or "has no figures" in text else 422, text)


@router.get(
    "/companies/{company}/series",
    response_model=SeriesPublic,
    summary="A line item through time, every point cited",
    responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
async def company_series(
    company: str,
    svc: ServicesDep,
    who: CallerDep,
    item: Annotated[
        str, Query(min_length=1, max_length=MAX_ITEM_CHARS, description="The line item in plain words: 'capital expenditure'")
    ],
    period: Annotated[
        str | None, Query(max_length=40, description="'FY2018', 'Q2 2025', 'FY2014-FY2022' or 'all' (default)")
    ] = None,
    basis: Annotated[
        Literal["latest", "first"], Query(description="Restated periods: the latest printing or as first reported")
    ] = "latest",
    statement: Annotated[
        str | None, Query(max_length=60, description="Only this statement: 'Cash Flows', 'Balance Sheet', ...")
    ] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query(description="json, or a download: csv, xlsx")] = "json",  # noqa: A002
):
    try:
        table = await asyncio.to_thread(lookup, svc.corpus, company, item, period, basis, statement)
    except SeriesError as exc:
        raise _problem(exc) from None
    name = f"{_slug(table.company)}-{_slug(table.series.label)}"
    if format == "csv":
        return StreamingResponse(
            csv_lines(table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        async with _EXPORTS:
            path = await asyncio.to_thread(xlsx_file, table)
        return FileResponse(
            path,
            filename=f"{name}.xlsx",
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
        )
    return public(table)


@router.get(
    "/companies/{company}", response_model=CompanyPublic, summary="A company's standard line items as series (for sparklines)"
)
async def company_overview(
    company: str,
    svc: ServicesDep,
    who: CallerDep,
    period: Annotated[str | None, Query(max_length=40, description="'FY2014-FY2022' or 'all' (default)")] = None,
) -> CompanyPublic:
    try:
        rows = await asyncio.to_thread(standard_tables, svc.corpus, company, period)
    except SeriesError as exc:
        raise _problem(exc) from None
    name = next((t.company for _k, _n, t, _m in rows if t is not None), company)
    return CompanyPublic(
        company=name,
        items=[StandardItemPublic(key=k, name=n, series=public(t) if t else None, missing=m or None) for k, n, t, m in rows],
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "series"
