"""What every tool result cites: a document, page and line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """Where a fact came from: document, 1-based page, and 1-based line when known."""

    doc_id: str
    page: int
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.doc_id} p.{self.page}" + (f" l.{self.line}" if self.line else "")
