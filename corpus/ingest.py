"""Ingest filings: extract, analyse (metadata, sections, cross-references), store text, write the catalog."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError

from corpus.catalog import Corpus, delete_document_rows, normalize_form
from corpus.companies import rename_documents, resolve_company
from corpus.errors import ExtractionError, SidecarError, UnsupportedFormat, validation_problems
from corpus.extract import EXTRACTION_VERSION, MAX_PAGES, SUPPORTED_SUFFIXES, extract
from corpus.factrows import FactRecord, analyze_facts, apply_dei, fact_rows
from corpus.metadata import DocMetadata, detect_metadata
from corpus.models import CrossReference, Document, Section
from corpus.originals import file_sha256
from corpus.sections import Section as SectionSpan
from corpus.sections import detect_sections, iter_sections, section_at
from corpus.settings import CorpusSettings
from corpus.statements import statement_facts
from corpus.subjects import subject
from corpus.text import PagedText
from corpus.text_store import default_doc_id, is_valid_doc_id
from corpus.workers import memory_reason, run_isolated
from corpus.xrefs import CrossRef, find_cross_references

# Bump when extraction or analysis changes, so re-ingesting redoes documents made by older code.
PIPELINE_VERSION = "6"  # 2: facts (inline XBRL, instances, statement rows), company entities; 3: subjects, cross-reference lists; 4: statement headers stacked one per line, "$" after a figure; 5: Item 6 selected financial data; 6: PDF rows keep blank columns as empty cells ("Dividends paid | | (1,158)"), statement rows read them; notes' year-headed tables read as statement rows
CHARS_PER_TOKEN = 4  # documented approximation until a model tokenizer is configured


class MetadataOverride(BaseModel):
    """Metadata given by a `<file>.json` sidecar or CLI flags; wins over what is detected."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str | None = Field(None, description="Catalog id; default: the file name without suffix.")
    company: str | None = None
    ticker: str | None = None
    cik: str | None = None
    form_type: str | None = None
    fiscal_year: int | None = Field(None, ge=1900, le=2100)
    fiscal_period: str | None = None
    period_end_date: date | None = None
    filing_date: date | None = None
    accession: str | None = Field(
        None, pattern=r"^\d{10}-\d{2}-\d{6}$", description="EDGAR accession number (0001018724-24-000008)."
    )

    @field_validator("form_type")
    @classmethod
    def _form(cls, value: str | None) -> str | None:
        return normalize_form(value) if value else value

    @field_validator("fiscal_period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip().upper()
        if value not in {"FY", "Q1", "Q2", "Q3", "Q4"}:
            raise ValueError("fiscal_period must be FY, Q1, Q2, Q3 or Q4")
        return value

    @field_validator("doc_id")
    @classmethod
    def _doc_id(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_doc_id(value):
            raise ValueError("doc_id may use letters, digits, '_', '.', '-' (max 200 characters)")
        return value

    def merged(self, other: MetadataOverride) -> MetadataOverride:
        """This override with `other`'s set fields on top."""
        return self.model_copy(update=other.model_dump(exclude_none=True))


@dataclass
class IngestResult:
    """What happened to one file."""

    path: str
    status: str  # added | updated | unchanged | skipped | failed
    doc_id: str | None = None
    reason: str | None = None  # why it failed or was skipped; a note for added/updated ones
    pages: int = 0
    seconds: float = 0.0


@dataclass
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.status for r in self.results)

    @property
    def pages(self) -> int:
        return sum(r.pages for r in self.results if r.status in {"added", "updated"})

    @property
    def ok(self) -> bool:
        return not self.interrupted and self.counts["failed"] == 0

    def summary(self) -> str:
        c = self.counts
        parts = [f"{c[s]} {s}" for s in ("added", "updated", "unchanged", "skipped", "failed") if c[s]]
        rate = f", {self.pages / self.seconds:,.0f} pages/s" if self.pages and self.seconds else ""
        return (
            f"{len(self.results)} files: {', '.join(parts) or 'nothing to do'}; "
            f"{self.pages:,} pages stored in {self.seconds:.1f} s{rate}"
        )


@dataclass
class Analysis:
    """Everything ingest learns about one file, computed in a worker process."""

    text: PagedText
    format: str
    metadata: DocMetadata
    sections: list[SectionSpan]
    xrefs: list[CrossRef]
    seconds: float
    facts: list[FactRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # problems in the filing's data worth telling the user (bad XBRL)
    subject: str | None = None  # what an 8-K or earnings release is about (corpus.subjects)


@dataclass
class _Job:
    path: Path
    doc_id: str
    content_hash: str
    ingest_key: str
    override: MetadataOverride
    existing: bool
    note: str | None = None
    max_pages: int = MAX_PAGES
    memory_mb: int = 0  # the worker's memory limit, named when a file exceeds it


def sidecar_path(path: Path) -> Path | None:
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate != path and candidate.is_file():
            return candidate
    return None


def load_sidecar(path: Path) -> MetadataOverride:
    """Read `<file>.json` (or `<stem>.json`); raise SidecarError with the reason."""
    side = sidecar_path(path)
    if side is None:
        return MetadataOverride()
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SidecarError(side, f"unreadable metadata sidecar {side.name} ({exc})") from exc
    if not isinstance(data, dict):
        raise SidecarError(side, f"metadata sidecar {side.name} must hold a JSON object")
    try:
        return MetadataOverride.model_validate(data)
    except ValidationError as exc:
        raise SidecarError(side, f"bad metadata sidecar {side.name} ({validation_problems(exc.errors())})") from exc


def collect_files(paths: Iterable[Path], exclude: Path | None = None) -> tuple[list[Path], list[IngestResult]]:
    """Files to ingest under `paths` (folders recursively, `exclude` left out), and results for what is skipped or missing."""
    exclude = exclude.resolve() if exclude is not None else None
    files: list[Path] = []
    results: list[IngestResult] = []
    for root in paths:
        if not root.exists():
            results.append(IngestResult(str(root), "failed", reason="no such file or folder"))
            continue
        if root.is_dir():  # hidden files and folders (.git, temp files) are not filings
            candidates = sorted(
                p
                for p in root.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(root).parts)
                and not (exclude is not None and p.resolve().is_relative_to(exclude))
            )
        else:
            candidates = [root]
        names = {p.name for p in candidates}
        for path in candidates:
            suffix = path.suffix.lower()
            if suffix == ".json" and (path.name[:-5] in names or any(path.stem + s in names for s in SUPPORTED_SUFFIXES)):
                continue  # a metadata sidecar, read with its document
            if suffix in SUPPORTED_SUFFIXES or root == path:
                files.append(path)
            else:
                results.append(IngestResult(str(path), "skipped", reason=f"unsupported file type '{suffix or 'no suffix'}'"))
    return files, results


def analyze(path: Path, override: MetadataOverride, max_pages: int = MAX_PAGES) -> Analysis:
    """Extract and analyse one file (runs in a worker process)."""
    start = time.perf_counter()
    extracted = extract(path, max_pages)
    text = PagedText.from_pages(extracted.pages)
    metadata = detect_metadata(text, path.name)
    facts, dei, notes = analyze_facts(extracted, text)
    apply_dei(metadata, dei)
    for name, value in override.model_dump(exclude_none=True, exclude={"doc_id", "accession"}).items():
        setattr(metadata, name, value)
        metadata.sources[name] = "override"
    sections = detect_sections(text, metadata.form_type)
    xrefs = find_cross_references(text, sections, metadata.form_type)
    facts += statement_facts(text, sections, facts)
    seconds = time.perf_counter() - start
    return Analysis(text, extracted.format, metadata, sections, xrefs, seconds, facts, notes, subject(text, metadata.form_type))


def _analyze_job(job: _Job) -> Analysis | IngestResult:
    try:
        return analyze(job.path, job.override, job.max_pages)
    except ExtractionError as exc:
        status = "skipped" if isinstance(exc, UnsupportedFormat) else "failed"
        return IngestResult(str(job.path), status, job.doc_id, exc.reason)
    except MemoryError:
        return IngestResult(str(job.path), "failed", job.doc_id, memory_reason(job.memory_mb))
    except Exception as exc:  # a bug in analysis must not stop the batch; it is reported per file
        return IngestResult(str(job.path), "failed", job.doc_id, f"unexpected error, please report: {type(exc).__name__}: {exc}")


def ingest_paths(
    corpus: Corpus,
    paths: Iterable[Path],
    override: MetadataOverride | None = None,
    *,
    workers: int | None = None,
    progress: bool = False,
    on_result: Callable[[IngestResult], None] | None = None,
) -> IngestReport:
    """Ingest files and folders; each document is committed on its own, so an interrupted batch keeps what finished."""
    started = time.perf_counter()
    override = override or MetadataOverride()
    files, early = collect_files(list(paths), exclude=corpus.settings.data_dir)  # never ingest our own store
    if override.doc_id and len(files) > 1:
        raise ValueError("a doc_id override names one document; pass a single file with it")
    report = IngestReport()

    def record(result: IngestResult) -> None:
        report.results.append(result)
        if on_result:
            on_result(result)

    for result in early:
        record(result)
    jobs = _plan(corpus, files, override, record)
    bar = _progress_bar(len(jobs), progress)
    try:
        for job, outcome in _run_jobs(jobs, workers or corpus.settings.workers, corpus.settings):
            result = outcome if isinstance(outcome, IngestResult) else _save(corpus, job, outcome)
            record(result)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{report.pages:,} pages")
                if result.status == "failed":
                    bar.write(f"failed: {result.path}: {result.reason}")
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if bar is not None:
            bar.close()
        report.seconds = time.perf_counter() - started
    return report


def _plan(corpus: Corpus, files: list[Path], override: MetadataOverride, record: Callable[[IngestResult], None]) -> list[_Job]:
    """Decide per file: unchanged, bad sidecar, or a job to run."""
    jobs: list[_Job] = []
    claimed: dict[str, str] = {}
    batch_hashes: dict[str, str] = {}
    for path in files:
        try:
            file_override = load_sidecar(path).merged(override)
            content_hash = file_sha256(path)
        except SidecarError as exc:
            record(IngestResult(str(path), "failed", reason=exc.reason))
            continue
        except OSError as exc:
            record(IngestResult(str(path), "failed", reason=f"cannot read file ({exc.strerror or exc})"))
            continue
        doc_id = file_override.doc_id or default_doc_id(path)
        if doc_id in claimed:
            record(
                IngestResult(
                    str(path),
                    "failed",
                    doc_id,
                    f"doc_id '{doc_id}' is also used by {claimed[doc_id]} in this batch; give one a sidecar with another doc_id",
                )
            )
            continue
        claimed[doc_id] = str(path)
        # accession joined the override later: left out when unset, so documents ingested before keep their key
        dumped = file_override.model_dump(mode="json", exclude=None if file_override.accession else {"accession"})
        key_material = json.dumps([content_hash, dumped, PIPELINE_VERSION, EXTRACTION_VERSION])
        ingest_key = hashlib.sha256(key_material.encode()).hexdigest()
        existing = _existing(corpus, doc_id)
        if existing is not None and existing.ingest_key == ingest_key and corpus.store.stored_hash(doc_id) == content_hash:
            _keep_original(corpus, path, content_hash)  # documents ingested before originals were kept get theirs
            record(IngestResult(str(path), "unchanged", doc_id, pages=0))
            continue
        # The same bytes under another name stay a document of their own (users and question sets
        # address filings by name), but the twin is named so the overlap is visible.
        twin = corpus.find_by_hash(content_hash)
        twin_id = twin.id if twin is not None and twin.id != doc_id else batch_hashes.get(content_hash)
        batch_hashes.setdefault(content_hash, doc_id)
        note = f"same content as document '{twin_id}'" if twin_id else None
        jobs.append(
            _Job(
                path,
                doc_id,
                content_hash,
                ingest_key,
                file_override,
                existing is not None,
                note,
                corpus.settings.ingest_max_pages,
                corpus.settings.ingest_max_memory_mb,
            )
        )
    return jobs


def _existing(corpus: Corpus, doc_id: str) -> Document | None:
    with corpus.sessions() as session:
        return session.get(Document, doc_id)


def _run_jobs(jobs: list[_Job], workers: int, settings: CorpusSettings) -> Iterable[tuple[_Job, Analysis | IngestResult]]:
    """Analyse jobs in worker processes with the per-file time and memory limits, yielding as they finish."""

    def failed(job: _Job, reason: str) -> IngestResult:
        return IngestResult(str(job.path), "failed", job.doc_id, reason)

    yield from run_isolated(
        _analyze_job,
        jobs,
        workers=workers,
        timeout_s=settings.ingest_timeout_s,
        memory_mb=settings.ingest_max_memory_mb,
        failed=failed,
    )


def _save(corpus: Corpus, job: _Job, analysis: Analysis) -> IngestResult:
    """Replace the document in catalog and store as one unit: all of the new version, or none of it.

    Writers of one doc_id take turns (threads and processes alike); on failure only what this job wrote is undone.
    """
    with corpus.doc_lock(job.doc_id):
        with corpus.sessions() as session:
            current = session.get(Document, job.doc_id)
            existing = current is not None
            replaced = current.content_hash if existing else None
            if existing and current.ingest_key == job.ingest_key and corpus.store.stored_hash(job.doc_id) == job.content_hash:
                _keep_original(corpus, job.path, job.content_hash)
                return IngestResult(str(job.path), "unchanged", job.doc_id)  # another ingest stored this very version meanwhile
        before = corpus.store.snapshot(job.doc_id)
        wrote = False
        try:
            with corpus.sessions.begin() as session:
                if existing:
                    delete_document_rows(session, job.doc_id)
                    session.flush()
                row = _document_row(job, analysis)
                company = resolve_company(session, row.company, row.cik, row.ticker, row.period_end_date)
                if company is not None:
                    row.company_id, row.company = company.id, company.name
                session.add(row)
                session.flush()
                if company is not None:
                    rename_documents(session, company)
                _add_sections(session, job.doc_id, analysis)
                session.add_all(fact_rows(job.doc_id, analysis.facts, analysis.sections))
                session.flush()
                wrote = True
                corpus.store.write(job.doc_id, analysis.text, job.content_hash)
                corpus.originals.keep(job.path, job.content_hash)
        except BaseException as exc:
            # The catalog rolled back to what it held before; put back the text this job replaced.
            if wrote:
                corpus.store.restore(job.doc_id, before)
            corpus.originals.release(corpus.sessions, job.content_hash)  # only if no document uses these bytes
            if isinstance(exc, IntegrityError):  # written by a process on another host meanwhile
                reason = f"document '{job.doc_id}' was written by another ingest at the same time; ingest the file again"
                return IngestResult(str(job.path), "failed", job.doc_id, reason)
            raise
        if replaced and replaced != job.content_hash:
            corpus.originals.release(corpus.sessions, replaced)
    status = "updated" if existing else "added"
    note = "; ".join([n for n in [job.note, *analysis.notes[:3]] if n]) or None
    return IngestResult(str(job.path), status, job.doc_id, note, analysis.text.page_count, analysis.seconds)


def _keep_original(corpus: Corpus, path: Path, content_hash: str) -> None:
    with contextlib.suppress(OSError):  # a document stays usable without its original (no page images)
        corpus.originals.keep(path, content_hash)


def _document_row(job: _Job, analysis: Analysis) -> Document:
    meta = analysis.metadata
    chars = sum(len(line) + 1 for line in analysis.text.lines)
    return Document(
        id=job.doc_id,
        file_name=job.path.name,
        source_path=str(job.path.resolve()),
        content_hash=job.content_hash,
        ingest_key=job.ingest_key,
        format=analysis.format,
        company=meta.company,
        ticker=meta.ticker,
        cik=meta.cik,
        form_type=meta.form_type,
        fiscal_year=meta.fiscal_year,
        fiscal_period=meta.fiscal_period,
        period_end_date=meta.period_end_date,
        filing_date=meta.filing_date,
        accession=job.override.accession,
        subject=analysis.subject,
        page_count=analysis.text.page_count,
        line_count=analysis.text.line_count,
        char_count=chars,
        token_estimate=chars // CHARS_PER_TOKEN,
        metadata_sources=dict(meta.sources),
        ingested_at=datetime.now(UTC),
    )


def _add_sections(session, doc_id: str, analysis: Analysis) -> None:  # noqa: ANN001
    rows: dict[int, Section] = {}  # id(detected span) -> row
    by_key: dict[str, Section] = {}
    for ordinal, (span, parent, depth) in enumerate(iter_sections(analysis.sections)):
        if span.key in by_key:  # keys are unique per document; a detector repeat is merged, not fatal
            rows[id(span)] = by_key[span.key]
            continue
        parent_row = rows[id(parent)] if parent is not None else None
        label = f"{span.key} {span.title}".strip() if span.title and span.kind == "note" else span.key
        row = Section(
            doc_id=doc_id,
            parent=parent_row,
            ordinal=ordinal,
            depth=depth,
            kind=span.kind,
            key=span.key,
            number=span.number,
            title=span.title,
            path=f"{parent_row.path} > {label}" if parent_row is not None else label,
            start_page=span.start_page,
            end_page=span.end_page,
            start_line=span.start_line,
            end_line=span.end_line,
        )
        rows[id(span)] = by_key[span.key] = row
        session.add(row)
    for ref in analysis.xrefs:
        source = section_at(analysis.sections, ref.line)
        session.add(
            CrossReference(
                doc_id=doc_id,
                line=ref.line,
                page=ref.page,
                text=ref.text,
                target_kind=ref.target_kind,
                target_key=ref.target_key,
                external=ref.external,
                source_section=rows[id(source)] if source is not None else None,
                target_section=None if ref.external else by_key.get(ref.target_key),
            )
        )


def _progress_bar(total: int, enabled: bool):  # noqa: ANN202
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="ingest", dynamic_ncols=True)
