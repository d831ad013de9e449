"""Filters a user or the model puts on a question or a search: company, form, fiscal year, doc_ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

MAX_DOC_IDS = 100  # filings one question may name


class Filters(BaseModel):
    """Explicit filters; each narrows the filings searched or researched."""

    company: str | None = Field(None, max_length=200, description="Company name or ticker.")
    form: str | None = Field(None, max_length=20, description="Form type, e.g. 10-K, 10-Q, 8-K.")
    year: int | None = Field(None, ge=1990, le=2100, description="Fiscal year.")
    doc_ids: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=MAX_DOC_IDS, description=f"Only these filings (at most {MAX_DOC_IDS})."
    )

    def empty(self) -> bool:
        return not (self.company or self.form or self.year or self.doc_ids)

    def describe(self) -> str:
        """The company, form and year filters in words ('company 3M, fiscal year 2018'); doc_ids are not described."""
        parts = (
            f"company {self.company}" if self.company else "",
            f"form {self.form}" if self.form else "",
            f"fiscal year {self.year}" if self.year else "",
        )
        return ", ".join(p for p in parts if p)
