"""What every tool returns: a structured result with citations, and a compact text for the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Citation:
    """Where a fact came from: document, 1-based page, and 1-based line when known."""

    doc_id: str
    page: int
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.doc_id} p.{self.page}" + (f" l.{self.line}" if self.line else "")


class ToolResult(Protocol):
    """A tool's structured result; `render()` is the text the model reads."""

    def render(self) -> str: ...

    def citations(self) -> list[Citation]: ...
