"""What a filing's name claims against what the catalog read in the filing: a doc_id whose period or form is wrong."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from corpus.metadata import metadata_from_filename


class Described(Protocol):
    """The catalog fields a name is checked against (a corpus.models.Document, or DocMetadata plus an id)."""

    id: str
    form_type: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    period_end_date: date | None


def name_conflict(doc: Described) -> str | None:
    """'name says 2022Q2 10-Q; the filing is the 10-Q for fiscal Q2 2023, ended 2023-06-02', or None when they agree."""
    named = metadata_from_filename(doc.id)
    form_differs = named.form_type not in (None, "other") and doc.form_type is not None and named.form_type != doc.form_type
    year_differs = named.fiscal_year is not None and doc.fiscal_year is not None and named.fiscal_year != doc.fiscal_year
    quarter_differs = (
        (named.fiscal_period or "").startswith("Q")
        and (doc.fiscal_period or "").startswith("Q")
        and named.fiscal_period != doc.fiscal_period
    )
    if not (form_differs or year_differs or quarter_differs):
        return None
    claim = f"{named.fiscal_year or ''}{named.fiscal_period if (named.fiscal_period or '').startswith('Q') else ''}"
    claim = f"{claim} {named.form_type or ''}".strip()
    return f"name says {claim}; the filing is {describe(doc)}"


def describe(doc: Described) -> str:
    """'the 10-Q for fiscal Q2 2023, ended 2023-06-02', 'an earnings release for fiscal Q1 2023'."""
    form = doc.form_type or "filing"
    article = "an" if form[:1] in "aeiou8" else "the" if form in ("10-K", "10-Q") else "a"
    text = f"{article} {form}"
    if doc.fiscal_year is not None:
        quarter = f"{doc.fiscal_period} " if (doc.fiscal_period or "").startswith("Q") else ""
        text += f" for fiscal {quarter}{doc.fiscal_year}"
    if doc.period_end_date is not None:
        text += f", ended {doc.period_end_date.isoformat()}"
    return text
