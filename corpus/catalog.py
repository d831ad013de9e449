"""The catalog: documents, sections and cross-references in SQL, next to the text store."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, false, func, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from corpus.company_matcher import CompanyMatcher
from corpus.database import make_engine, migrate, session_factory
from corpus.errors import DocumentNotFound
from corpus.models import Company, CrossReference, Document, Fact, Section
from corpus.originals import OriginalStore
from corpus.settings import CorpusSettings
from corpus.text_store import TextStore

FORM_ALIASES = {
    "10K": "10-K",
    "10-K": "10-K",
    "10Q": "10-Q",
    "10-Q": "10-Q",
    "8K": "8-K",
    "8-K": "8-K",
    "EARNINGS": "earnings release",
    "EARNINGS RELEASE": "earnings release",
    "EARNINGSRELEASE": "earnings release",
    "ANNUAL REPORT": "annual report",
    "ANNUALREPORT": "annual report",
    "OTHER": "other",
}


def normalize_form(value: str) -> str:
    """'10k', '10-K', 'Form 10-K' -> '10-K'; raises ValueError naming the accepted forms."""
    key = value.strip().upper().removeprefix("FORM ").replace("_", " ").strip()
    if key in FORM_ALIASES:
        return FORM_ALIASES[key]
    raise ValueError(f"unknown form type {value!r}; use one of 10-K, 10-Q, 8-K, earnings release, annual report, other")


@dataclass
class Corpus:
    """The text store and the catalog of one data directory, opened together."""

    settings: CorpusSettings
    engine: Engine
    sessions: sessionmaker[Session]
    store: TextStore

    @classmethod
    def open(cls, settings: CorpusSettings | None = None) -> Corpus:
        """Open (and migrate) the catalog and the text store named by `settings`."""
        settings = settings or CorpusSettings()
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        store = TextStore(settings.text_dir, settings.pages_dir)
        store.clean_temp_files()
        OriginalStore(settings.originals_dir, settings.page_images_dir).clean_temp_files()
        return cls(settings, engine, session_factory(engine), store)

    @property
    def originals(self) -> OriginalStore:
        """The documents' original files, content-addressed."""
        return OriginalStore(self.settings.originals_dir, self.settings.page_images_dir)

    def close(self) -> None:
        self.engine.dispose()

    def get(self, doc_id: str, *, with_sections: bool = False) -> Document:
        with self.sessions() as session:
            query = select(Document).where(Document.id == doc_id)
            if with_sections:
                query = query.options(selectinload(Document.sections), selectinload(Document.cross_references))
            doc = session.scalars(query).one_or_none()
            if doc is None:
                raise DocumentNotFound(doc_id, self.suggest(doc_id))
            return doc

    def suggest(self, doc_id: str, n: int = 3) -> list[str]:
        """Closest doc_ids to a wrong one, for error messages."""
        with self.sessions() as session:
            ids = session.scalars(select(Document.id)).all()
        lowered = {i.lower(): i for i in ids}
        return [lowered[m] for m in difflib.get_close_matches(doc_id.lower(), list(lowered), n=n, cutoff=0.5)]

    def list(
        self,
        company: str | None = None,
        form: str | None = None,
        year: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[Document]:
        """Documents matching the filters, newest period first; company matches the entity (name, former names, tickers, CIK), or doc_id."""
        query = select(Document)
        if company:
            pattern = f"%{company.lower()}%"
            ids = [c.id for c in CompanyMatcher(self.companies()).named_by(company)]
            query = query.where(
                or_(
                    Document.company_id.in_(ids) if ids else false(),
                    func.lower(Document.company).like(pattern),
                    func.lower(Document.ticker) == company.lower(),
                    func.lower(Document.id).like(pattern),
                )
            )
        if form:
            query = query.where(Document.form_type == normalize_form(form))
        if year is not None:
            query = query.where(Document.fiscal_year == year)
        query = query.order_by(
            Document.period_end_date.desc().nulls_last(), Document.fiscal_year.desc().nulls_last(), Document.id
        ).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.sessions() as session:
            return session.scalars(query).all()

    def companies(self) -> Sequence[Company]:
        """Company entities, by canonical name."""
        with self.sessions() as session:
            held = select(Document.company_id).where(Document.company_id.is_not(None))
            return session.scalars(select(Company).where(Company.id.in_(held)).order_by(Company.name)).all()

    def facts(self, doc_ids: Sequence[str]) -> Sequence[Fact]:
        """Every fact of these documents, in document order."""
        with self.sessions() as session:
            return session.scalars(select(Fact).where(Fact.doc_id.in_(list(doc_ids))).order_by(Fact.doc_id, Fact.id)).all()

    def count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(Document)) or 0

    def find_by_hash(self, content_hash: str) -> Document | None:
        with self.sessions() as session:
            return session.scalars(select(Document).where(Document.content_hash == content_hash).limit(1)).first()

    def same_filing(self, doc: Document) -> Sequence[Document]:
        """Other documents of the same filing: the same bytes, or the same EDGAR accession number."""
        same = Document.content_hash == doc.content_hash
        if doc.accession:
            same = or_(same, Document.accession == doc.accession)
        with self.sessions() as session:
            return session.scalars(select(Document).where(same, Document.id != doc.id).order_by(Document.id)).all()

    def accessions(self) -> set[str]:
        """EDGAR accession numbers of the filings in the catalog (fetched ones)."""
        with self.sessions() as session:
            return set(session.scalars(select(Document.accession).where(Document.accession.is_not(None))).all())

    def sections(self, doc_id: str) -> Sequence[Section]:
        with self.sessions() as session:
            return session.scalars(select(Section).where(Section.doc_id == doc_id).order_by(Section.ordinal)).all()

    def doc_lock(self, doc_id: str, timeout_s: float = 120.0):  # noqa: ANN201
        """A lock on one doc_id shared by threads and processes of this data directory: writers of a document take turns."""
        from filelock import FileLock

        self.store._check(doc_id)
        folder = self.settings.data_dir / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(folder / f"{doc_id}.lock", timeout=timeout_s)

    def remove(self, doc_id: str) -> None:
        """Remove a document from catalog and text store; raises DocumentNotFound."""
        with self.doc_lock(doc_id):
            with self.sessions.begin() as session:
                doc = session.get(Document, doc_id)
                if doc is None:
                    raise DocumentNotFound(doc_id, self.suggest(doc_id))
                content_hash = doc.content_hash
                delete_document_rows(session, doc_id)
            self.store.remove(doc_id)
            self.originals.release(self.sessions, content_hash)  # unless another document has the same bytes


def delete_document_rows(session: Session, doc_id: str) -> None:
    """Delete a document's rows children first (no reliance on database-side cascades)."""
    session.execute(delete(Fact).where(Fact.doc_id == doc_id))
    session.execute(delete(CrossReference).where(CrossReference.doc_id == doc_id))
    session.execute(delete(Section).where(Section.doc_id == doc_id).execution_options(synchronize_session=False))
    session.execute(delete(Document).where(Document.id == doc_id))
