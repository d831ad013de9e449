"""glob: documents whose doc_id matches a pattern, with company, form, period and size."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from corpus.errors import CorpusError
from corpus.text_store import TextStore
from tools.base import Citation
from tools.caveats import Caveats
from tools.context import current
from tools.documents import DocumentRow, document_rows
from tools.errors import ToolError
from tools.registry import tool
from tools.sandbox import glob_matches, store_files
from tools.tokens import CHARS_PER_TOKEN


@dataclass
class GlobResult:
    """Matching documents, newest period first, and how many more matched than are shown."""

    pattern: str
    rows: list[DocumentRow]
    total: int

    def render(self) -> str:
        head = f"{self.total} document{'s match' if self.total != 1 else ' matches'} {self.pattern!r} (newest period first)"
        if self.total > len(self.rows):
            head += f"; showing {len(self.rows)}, {self.total - len(self.rows)} more not shown: narrow the pattern to see them"
        lines = [head] + [r.render() for r in self.rows]
        return "\n".join(lines)

    def citations(self) -> list[Citation]:
        return []


def _store_only_row(store: TextStore, doc_id: str, size: int) -> DocumentRow:
    """A row for a document whose text is stored but whose catalog row is not written yet."""
    try:
        pages = len(store.read_map(doc_id)["page_starts"])
    except (OSError, ValueError, KeyError, TypeError, CorpusError):
        pages = 0
    return DocumentRow(doc_id, None, None, "?", pages, size // CHARS_PER_TOKEN)


@tool
def glob(
    pattern: Annotated[
        str,
        Field(
            description="Glob over doc_ids (case ignored): '*' any text, '?' one character, [..] a set, {a,b} alternatives; e.g. '3M_*', '*2022*10K*', '**/PFIZER_*', '{PEPSICO,COCACOLA}_2022_10K'."
        ),
    ],
) -> GlobResult:
    """Find documents by doc_id pattern, e.g. all 3M filings ('3M_*') or all 2022 10-Ks ('*2022*10K*'); lists doc_id, company, form, fiscal period, pages and size, newest first. doc_ids read COMPANY_YEAR_FORM (e.g. 3M_2018_10K, ADOBE_2022Q2_10Q)."""
    context = current()
    files = store_files(context.corpus.store)
    if not files:
        raise ToolError("the text store holds no documents yet; filings must be ingested first")
    matched = glob_matches(pattern, list(files))
    if not matched:
        raise ToolError(_no_match(pattern, list(files)))
    wanted = set(matched)
    everything = context.corpus.list()
    docs = [d for d in everything if d.id in wanted]
    rows = document_rows(docs, Caveats.of(everything))
    catalogued = {d.id for d in docs}
    rows += [_store_only_row(context.corpus.store, d, files[d].stat().st_size) for d in matched if d not in catalogued]
    return GlobResult(pattern, rows[: context.settings.list_max_results], len(rows))


def _company_part(doc_id: str) -> str:
    """'JOHNSON_JOHNSON_2022_10K' -> 'JOHNSON_JOHNSON': the doc_id up to its year."""
    match = re.match(r"(.+?)_(19|20)\d\d", doc_id)
    return match.group(1) if match else doc_id.split("_", 1)[0]


def _no_match(pattern: str, doc_ids: list[str]) -> str:
    prefixes = sorted({_company_part(d).upper() for d in doc_ids})
    bare = re.sub(r"[*?\[\]{}]|\*\*/", "", pattern).strip("/.")
    close = difflib.get_close_matches(bare.lower(), [d.lower() for d in doc_ids], n=3, cutoff=0.4) if bare else []
    lowered = {d.lower(): d for d in doc_ids}
    message = f"No document matches {pattern!r}."
    if close:
        message += f" Closest doc_ids: {', '.join(lowered[c] for c in close)}."
    shown = ", ".join(prefixes[:40]) + (" ..." if len(prefixes) > 40 else "")
    return message + f" doc_ids read COMPANY_YEAR_FORM, e.g. {doc_ids[0]}; companies: {shown}. Try '{prefixes[0]}_*' or '*2022*'."
