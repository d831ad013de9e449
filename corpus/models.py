"""Catalog tables: documents, their sections and cross-references. Owns the one declarative Base."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """The declarative base every Sleuth table uses (later layers add their tables to it)."""


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(400))
    source_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the file's bytes
    ingest_key: Mapped[str] = mapped_column(String(64))  # content + metadata overrides + pipeline version
    format: Mapped[str] = mapped_column(String(8))
    company: Mapped[str | None] = mapped_column(String(200), index=True)  # the company entity's canonical name
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    ticker: Mapped[str | None] = mapped_column(String(16))
    cik: Mapped[str | None] = mapped_column(String(16))
    form_type: Mapped[str | None] = mapped_column(String(32), index=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, index=True)
    fiscal_period: Mapped[str | None] = mapped_column(String(8))
    period_end_date: Mapped[date | None] = mapped_column(Date)
    filing_date: Mapped[date | None] = mapped_column(Date)
    accession: Mapped[str | None] = mapped_column(String(20), index=True)  # EDGAR accession number, for fetched filings
    subject: Mapped[str | None] = mapped_column(Text)  # an 8-K's items and exhibit headline, an earnings release's headline
    page_count: Mapped[int] = mapped_column(Integer)
    line_count: Mapped[int] = mapped_column(Integer)
    char_count: Mapped[int] = mapped_column(Integer)
    token_estimate: Mapped[int] = mapped_column(Integer)
    metadata_sources: Mapped[dict] = mapped_column(JSON, default=dict)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    sections: Mapped[list[Section]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Section.ordinal", passive_deletes=True
    )
    cross_references: Mapped[list[CrossReference]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="CrossReference.line", passive_deletes=True
    )


class Company(Base):
    """A company as one entity: its canonical name, CIK, tickers and the other names its filings use."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # company_key() of the name: 'adobe', 'footlocker'
    name: Mapped[str] = mapped_column(String(200))
    cik: Mapped[str | None] = mapped_column(String(16), index=True)
    tickers: Mapped[list] = mapped_column(JSON, default=list)
    aliases: Mapped[list] = mapped_column(JSON, default=list)  # former names and spellings seen on filings
    name_as_of: Mapped[date | None] = mapped_column(Date)  # period end of the filing the name was taken from


class Fact(Base):
    """One figure of a filing: a tagged inline-XBRL fact, an XBRL instance fact, or a statement row's cell."""

    __tablename__ = "facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # ixbrl | xbrl | table
    section: Mapped[str | None] = mapped_column(String(64))  # section key: 'Cash Flows', 'Note 12'
    label: Mapped[str] = mapped_column(Text)  # row label as printed ('Purchases of property, plant and equipment')
    concept: Mapped[str | None] = mapped_column(String(300), index=True)  # 'us-gaap:PaymentsToAcquirePropertyPlantAndEquipment'
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # the instant, or the end of a duration
    period_label: Mapped[str | None] = mapped_column(
        String(120)
    )  # as the filing prints it: 'Three Months Ended June 30, 2025', '2018'
    fiscal_year: Mapped[int | None] = mapped_column(Integer)  # the fiscal year the period falls in (comparative columns too)
    dimensions: Mapped[dict] = mapped_column(JSON, default=dict)  # axis -> member
    value: Mapped[float | None] = mapped_column(Float)  # scale and sign applied: 1577000000.0
    unit: Mapped[str | None] = mapped_column(String(40))  # USD, shares, USD/shares, pure
    scale: Mapped[int] = mapped_column(Integer, default=0)  # power of ten the printed figure is in (6: millions)
    decimals: Mapped[str | None] = mapped_column(String(8))
    printed: Mapped[str | None] = mapped_column(String(60))  # the figure as printed: '(1,577)', '1,577'
    negated: Mapped[bool] = mapped_column(Boolean, default=False)  # printed unsigned with sign="-", or in parentheses
    page: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)


class Section(Base):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("doc_id", "key", name="uq_sections_doc_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)  # pre-order position in the document's tree
    depth: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # item | statement | note
    key: Mapped[str] = mapped_column(String(64))  # "Item 7", "Part II Item 1A", "Note 12", "Cash Flows"
    number: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)  # "Item 8 > Note 12 Leases"
    start_page: Mapped[int] = mapped_column(Integer)
    end_page: Mapped[int] = mapped_column(Integer)
    start_line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="sections")
    parent: Mapped[Section | None] = relationship(remote_side=[id])


class CrossReference(Base):
    __tablename__ = "cross_references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # the phrase as found: "See Note 12"
    target_kind: Mapped[str] = mapped_column(String(16))
    target_key: Mapped[str] = mapped_column(String(64))
    external: Mapped[bool] = mapped_column(Boolean, default=False)  # points into another filing ("Note 5 of the 2021 Form 10-K")
    source_section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="SET NULL"))
    target_section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="SET NULL"))

    document: Mapped[Document] = relationship(back_populates="cross_references")
    source_section: Mapped[Section | None] = relationship(foreign_keys=[source_section_id])
    target_section: Mapped[Section | None] = relationship(foreign_keys=[target_section_id])
