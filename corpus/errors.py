"""Domain errors of the corpus layer; the API maps them to HTTP statuses."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any


class CorpusError(Exception):
    """Base class for corpus errors that a user can act on."""


class ExtractionError(CorpusError):
    """A file could not be turned into text; the message names the file and what to do."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class UnsupportedFormat(ExtractionError):
    """The file type is not one Sleuth ingests; it is skipped, not fatal."""


class SidecarError(CorpusError):
    """A `<file>.json` metadata sidecar is unreadable or holds unknown or mistyped fields."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class DocumentNotFound(CorpusError):
    """No document with this doc_id is in the catalog."""

    def __init__(self, doc_id: str, suggestions: list[str] | None = None) -> None:
        self.doc_id = doc_id
        self.suggestions = suggestions or []
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"no document '{doc_id}' in the catalog{hint}")


def validation_problem(error: Mapping[str, Any], whole: str = "value", skip: Collection[object] = ()) -> str:
    """One pydantic validation error as 'field.path: message'; `whole` names the input when the error is about all of it."""
    where = ".".join(str(p) for p in error["loc"] if p not in skip) or whole
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"


def validation_problems(errors: Iterable[Mapping[str, Any]], whole: str = "value", skip: Collection[object] = ()) -> str:
    """Pydantic's `ValidationError.errors()` as one line a user can act on: 'year: Input should be ...; doc_ids.3: ...'."""
    return "; ".join(validation_problem(e, whole, skip) for e in errors)
