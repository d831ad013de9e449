"""`sleuth fetch`: a ticker or CIK, forms and years -> the filings downloaded from EDGAR and ingested with EDGAR's metadata."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.catalog import Corpus
from corpus.edgar.client import EdgarClient
from corpus.edgar.errors import EdgarError, EdgarSetupError, EdgarUnavailable, NoFilings, UnknownCompany
from corpus.edgar.filings import (
    FORMS,
    Company,
    Filing,
    exhibit_991,
    missing,
    page_overlaps,
    parse_filings,
    parse_submissions,
    parse_tickers,
    select,
    suggest_tickers,
)
from corpus.edgar.settings import EdgarSettings
from corpus.ingest import IngestResult, ingest_paths

OnEvent = Callable[[str, dict[str, Any]], None]
TICKERS_MAX_AGE_S = 24 * 3600
_FIRST_YEAR = 1993  # EDGAR's electronic filings begin


def parse_forms(value: str | list[str]) -> list[str]:
    """'10-K,10q' -> ['10-K', '10-Q']; EdgarSetupError names the forms fetch knows."""
    items = value.split(",") if isinstance(value, str) else value
    forms: list[str] = []
    for item in items:
        key = item.strip().upper().removeprefix("FORM ").replace(" ", "")
        key = {"10K": "10-K", "10Q": "10-Q", "8K": "8-K"}.get(key, key)
        if not key:
            continue
        if key not in FORMS:
            raise EdgarSetupError(
                f"form {item.strip()!r} cannot be fetched; use {', '.join(FORMS)} (8-K earnings releases bring their EX-99.1)"
            )
        if key not in forms:
            forms.append(key)
    if not forms:
        raise EdgarSetupError(f"no forms given; use one or more of {', '.join(FORMS)}, e.g. --forms 10-K,10-Q")
    return forms


def parse_years(value: str | None, today_year: int | None = None) -> range:
    """'2021-2024', '2023' or '2021-' -> a range of years (of the period of report); None: the last three years."""
    this_year = today_year or time.gmtime().tm_year
    if value is None or not value.strip():
        return range(this_year - 2, this_year + 1)
    match = re.fullmatch(r"\s*(\d{4})\s*(?:(-)\s*(\d{4})?)?\s*", value)
    if not match:
        raise EdgarSetupError(f"years {value!r} not understood; write one year (2023) or a span (2021-2024)")
    start = int(match.group(1))
    end = int(match.group(3)) if match.group(3) else (this_year if match.group(2) else start)
    if start > end:
        raise EdgarSetupError(f"years {value!r} run backwards; write the earlier year first (e.g. {end}-{start})")
    if start < _FIRST_YEAR or end > this_year + 1:
        raise EdgarSetupError(f"years {value!r} are outside EDGAR's {_FIRST_YEAR}-{this_year}")
    return range(start, end + 1)


@dataclass
class FetchReport:
    company: Company | None = None
    selected: list[Filing] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # accessions already in the catalog
    notes: list[str] = field(default_factory=list)  # requested form/years with nothing on EDGAR
    results: list[IngestResult] = field(default_factory=list)
    filings_done: int = 0
    not_on_edgar: int = 0  # filings whose document EDGAR does not have (404)
    requests: int = 0
    error: str | None = None  # why the fetch stopped early; what finished is kept

    @property
    def changed(self) -> bool:
        return any(r.status in {"added", "updated"} for r in self.results)

    @property
    def ok(self) -> bool:
        return self.error is None and not any(r.status == "failed" for r in self.results)

    def summary(self) -> str:
        who = f"{self.company.name} (CIK {self.company.cik})" if self.company else "?"
        added = sum(r.status in {"added", "updated"} for r in self.results)
        left = len(self.selected) - len(self.skipped) - self.filings_done - self.not_on_edgar
        text = (
            f"{who}: {len(self.selected)} filings selected, {len(self.skipped)} already in the catalog, "
            f"{self.filings_done} fetched ({added} documents ingested)"
        )
        gone = f", {self.not_on_edgar} not on EDGAR" if self.not_on_edgar else ""
        return (
            text
            + gone
            + (f", {left} left: run the same fetch again to resume" if left > 0 else "")
            + f"; {self.requests} EDGAR requests"
        )


def fetch_filings(
    corpus: Corpus,
    company: str,
    forms: list[str],
    years: range,
    settings: EdgarSettings | None = None,
    on_event: OnEvent | None = None,
) -> FetchReport:
    """Download and ingest what is missing; stops at the first EDGAR error with what finished kept and `report.error` set.

    Raises EdgarSetupError, UnknownCompany, NoFilings or EdgarForbidden/EdgarUnavailable before anything is fetched."""
    settings = settings or EdgarSettings()
    emit = on_event or (lambda kind, data: None)
    report = FetchReport()
    root = corpus.settings.data_dir / "edgar"
    with EdgarClient(settings) as client:
        try:
            report.company, filings = _company_filings(client, root, company, years)
            emit("company", {"cik": report.company.cik, "name": report.company.name, "ticker": report.company.ticker})
            report.selected = select(filings, forms, years)
            report.notes = missing(filings, report.selected, forms, years)
            if not report.selected:
                raise NoFilings(f"{report.company.name} (CIK {report.company.cik}) has " + "; ".join(report.notes))
            if len(report.selected) > settings.max_filings:
                raise EdgarSetupError(
                    f"{len(report.selected)} filings match; at most {settings.max_filings} per fetch "
                    "(SLEUTH_EDGAR_MAX_FILINGS): narrow the forms or years"
                )
            have = corpus.accessions()
            report.skipped = [f.accession for f in report.selected if f.accession in have]
            todo = [f for f in report.selected if f.accession not in have]
            emit(
                "plan",
                {"selected": len(report.selected), "skipped": len(report.skipped), "todo": len(todo), "notes": report.notes},
            )
            for number, filing in enumerate(todo, 1):
                try:
                    paths = _download(client, root, report.company, filing)
                except _NotOnEdgar as exc:  # one filing's document is gone: say so, go on with the others
                    report.results.append(IngestResult(exc.url, "failed", None, str(exc)))
                    report.not_on_edgar += 1
                    emit(
                        "ingest_progress",
                        {
                            "file": exc.url.rsplit("/", 1)[-1],
                            "status": "failed",
                            "doc_id": None,
                            "reason": str(exc),
                            "pages": 0,
                            "done": number,
                            "total": len(todo),
                        },
                    )
                    continue
                except EdgarUnavailable as exc:  # EDGAR or the network is down: stop; the next run resumes here
                    report.error = f"{filing.form} {filing.accession}: {exc}"
                    break
                emit(
                    "downloaded",
                    {
                        "accession": filing.accession,
                        "form": filing.form,
                        "files": [p.name for p in paths],
                        "done": number,
                        "total": len(todo),
                    },
                )
                ingest = ingest_paths(corpus, paths, workers=1)
                for result in ingest.results:
                    report.results.append(result)
                    emit(
                        "ingest_progress",
                        {
                            "file": Path(result.path).name,
                            "status": result.status,
                            "doc_id": result.doc_id,
                            "reason": result.reason,
                            "pages": result.pages,
                            "done": number,
                            "total": len(todo),
                        },
                    )
                report.filings_done += 1
        finally:
            report.requests = client.requests
    return report


def _company_filings(client: EdgarClient, root: Path, query: str, years: range) -> tuple[Company, list[Filing]]:
    query = query.strip()
    if not query or len(query) > 20:
        raise EdgarSetupError("give a ticker (AMZN) or a CIK (1018724)")
    ticker = None
    if query.isdigit():
        cik = query.zfill(10)
        if len(cik) > 10:
            raise EdgarSetupError(f"CIK {query!r} is too long: CIKs have at most 10 digits")
    else:
        tickers = parse_tickers(_tickers(client, root))
        found = tickers.get(query.upper().replace(".", "-")) or tickers.get(query.upper())
        if found is None:
            raise UnknownCompany(query, suggest_tickers(query, tickers))
        cik, ticker = found.cik, found.ticker
    data = client.json(client.data(f"/submissions/CIK{cik}.json"))
    if data is None:
        raise UnknownCompany(query, []) if not query.isdigit() else EdgarSetupError(f"EDGAR has no company with CIK {query}")
    try:
        company, filings, pages = parse_submissions(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EdgarUnavailable(f"EDGAR's submissions JSON for CIK {cik} is not as expected ({exc}); try again later") from exc
    if ticker:
        company = Company(company.cik, company.name, ticker)
    oldest = min((f.filing_date for f in filings), default=None)
    if oldest is None or oldest.year > years.start:  # older filings are on further pages
        for page in pages:
            if page_overlaps(page, years):
                more = client.json(client.data(f"/submissions/{page['name']}"))
                if more is not None:
                    filings += parse_filings(more)
    return company, filings


def _tickers(client: EdgarClient, root: Path) -> Any:
    """EDGAR's ticker list, kept for a day under <data_dir>/edgar (it is large and changes slowly)."""
    cache = root / "company_tickers.json"
    try:
        if time.time() - cache.stat().st_mtime < TICKERS_MAX_AGE_S:
            return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = client.json(client.www("/files/company_tickers.json"))
    if data is None:
        raise EdgarUnavailable("EDGAR's ticker list (company_tickers.json) is not there; give a CIK instead of a ticker")
    root.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".part")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(cache)
    return data


def _download(client: EdgarClient, root: Path, company: Company, filing: Filing) -> list[Path]:
    """The filing's documents under <data_dir>/edgar/<cik>/<accession>/ with sidecars; files already complete are kept."""
    folder = root / company.cik / filing.accession
    base = f"/Archives/edgar/data/{int(company.cik)}/{filing.accession.replace('-', '')}"
    wanted: list[tuple[str, str, str]] = [(filing.primary_document, filing.form, "")]  # (document, catalog form, doc_id suffix)
    if filing.is_earnings_release:
        index = client.text(client.www(f"{base}/{filing.accession}-index.htm"))
        exhibit = exhibit_991(index) if index else None
        if exhibit:
            wanted.append((exhibit, "earnings release", "_EX99-1"))
    tag = company.ticker or f"CIK{int(company.cik)}"
    period = (filing.report_date or filing.filing_date).isoformat()
    paths = []
    for document, form, suffix in wanted:
        name = _safe_name(document)
        dest = folder / name
        if not dest.is_file():
            url = client.www(document) if document.startswith("/") else client.www(f"{base}/{document}")
            if client.download(url, dest) is None:
                raise _NotOnEdgar(url, f"{filing.form} {filing.accession}: {url} is not on EDGAR (404); the filing was skipped")
        sidecar = {
            "doc_id": f"{tag}_{period}_{filing.form.replace('-', '')}_{filing.accession}{suffix}",  # company first: one retrieval key per company
            "company": company.name,
            "cik": company.cik,
            "ticker": company.ticker,
            "form_type": form,
            "period_end_date": period,
            "filing_date": filing.filing_date.isoformat(),
            "accession": filing.accession,
        }
        (folder / f"{name}.json").write_text(json.dumps({k: v for k, v in sidecar.items() if v is not None}), encoding="utf-8")
        paths.append(dest)
    return paths


class _NotOnEdgar(EdgarError):
    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(message)


def _safe_name(document: str) -> str:
    name = document.rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".") or "document.htm"
    return name[:150]
