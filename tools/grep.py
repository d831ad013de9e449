"""grep: ripgrep over the text store, every hit with doc_id, page and line; works the moment a filing is ingested."""

from __future__ import annotations

import bisect
import difflib
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from corpus.errors import CorpusError
from corpus.text_store import TextStore
from tools.caveats import Caveats
from tools.context import current
from tools.errors import ToolError
from tools.grep_result import GrepHit, GrepLine, GrepResult, OutputMode, counted
from tools.registry import tool
from tools.ripgrep import RgOutput, event_lines, event_text, match_units, rg_failure, run_rg, unit_count
from tools.sandbox import TEXT_SUFFIX, check_doc_id, glob_matches, store_files
from tools.table_headers import table_notes
from tools.tokens import CHARS_PER_TOKEN

MAX_LINE_CHARS = 300  # a longer line (a table flattened into one line) shows as a window around the match
LEAD_CHARS = 100  # of that window, characters kept before the match
MAX_PATTERN_CHARS = 1000
_BUDGET_MARGIN_TOKENS = 100
_LONG_MATCH = "[... this match"  # room left under the registry's output cap, so grep trims whole matches itself


# --- page numbers: from each document's page map, cached by file stamp (the full texts are never loaded) ---

_page_cache: dict[str, tuple[int, int, tuple[int, ...], int]] = {}
_page_lock = threading.Lock()


def page_starts(store: TextStore, doc_id: str) -> tuple[int, ...] | None:
    """First line of each page of `doc_id`, from its page map; None when the map is missing or unreadable."""
    path = store.map_path(doc_id)
    try:
        stat = os.lstat(path)
        key = str(path)
        with _page_lock:
            hit = _page_cache.get(key)
        if hit and hit[0] == stat.st_mtime_ns and hit[1] == stat.st_size and hit[3] == stat.st_ino:
            return hit[2]
        starts = tuple(int(s) for s in store.read_map(doc_id)["page_starts"])
    except (OSError, ValueError, KeyError, TypeError, CorpusError):
        return None
    with _page_lock:
        if len(_page_cache) >= 4096:
            _page_cache.clear()
        _page_cache[key] = (stat.st_mtime_ns, stat.st_size, starts, stat.st_ino)
    return starts


def page_of(starts: tuple[int, ...] | None, line: int) -> int | None:
    if not starts:
        return None
    return max(1, bisect.bisect_right(starts, line))


# --- ripgrep ---


def _clip(text: str, col: int) -> str:
    """`text` itself, or for a long line a window of MAX_LINE_CHARS around column `col`."""
    if len(text) <= MAX_LINE_CHARS:
        return text
    start = max(0, min(col - LEAD_CHARS, len(text) - MAX_LINE_CHARS))
    end = start + MAX_LINE_CHARS
    return ("[...]" if start else "") + text[start:end] + ("[...]" if end < len(text) else "")


@dataclass
class _Collector:
    """Consumes `rg --json` output: counts every match, keeps only the window's hits with their context."""

    store: TextStore
    offset: int
    limit: int
    context_lines: int
    multiline: bool
    max_match_lines: int = 20
    counts: dict[str, int] = field(default_factory=dict)
    hits: list[GrepHit] = field(default_factory=list)
    seen: int = 0
    doc: str | None = None
    starts: tuple[int, ...] | None = None
    before: deque = field(default_factory=deque)
    open_hit: GrepHit | None = None

    def __call__(self, raw: bytes) -> None:
        if raw.startswith(b'{"type":"match"'):
            self._match(raw)
        elif raw.startswith(b'{"type":"context"'):
            self._context(raw)
        elif raw.startswith(b'{"type":"begin"'):
            path = event_text(json.loads(raw)["data"]["path"])
            self.doc = path.removesuffix(TEXT_SUFFIX)
            self.starts = page_starts(self.store, self.doc)
            self.before = deque(maxlen=max(1, self.context_lines))
            self.open_hit = None

    def _lines(self, first: int, texts: list[str], match: bool, col: int = 0) -> list[GrepLine]:
        return [
            GrepLine(first + i, page_of(self.starts, first + i), _clip(t, col if i == 0 else 0), match)
            for i, t in enumerate(texts)
        ]

    def _match(self, raw: bytes) -> None:
        assert self.doc is not None
        n = unit_count(raw) if self.multiline else 1  # counted without decoding: most events lie outside the window
        first = self.seen
        self.seen += n
        self.counts[self.doc] = self.counts.get(self.doc, 0) + n
        window_end = self.offset + self.limit
        if first + n <= self.offset or first >= window_end:
            self._outside(raw, None)
            return
        event = json.loads(raw)
        lo = max(0, self.offset - first)
        units = match_units(event["data"], self.multiline, event.get("cut"), lo, window_end - first)
        for k, unit in enumerate(units, start=lo):
            hit = GrepHit(self.doc, unit.line, unit.end_line, page_of(self.starts, unit.line))
            if self.context_lines:
                for old in self.before:
                    line, texts = event_lines(json.loads(old)["data"])
                    is_match = old.startswith(b'{"type":"match"')
                    for i, text in enumerate(texts):
                        if unit.line - self.context_lines <= line + i < unit.line:
                            hit.lines.extend(self._lines(line + i, [text], is_match))
            shown = unit.texts[: self.max_match_lines]
            hit.lines.extend(self._lines(unit.line, shown, True, unit.col))
            span = unit.end_line - unit.line + 1
            if span > len(shown):  # a match over many lines (or a whole document): say where it ends, show no more
                rest = f"{unit.line + len(shown)}-{unit.end_line}"
                end_page = page_of(self.starts, unit.end_line)
                where = f"l.{unit.end_line}" + (f" (p.{end_page})" if end_page else "")
                note = f"{_LONG_MATCH} goes on for {span - len(shown):,} more lines, to {where}; read(doc_id='{self.doc}', lines='{rest}') shows them]"
                hit.lines.append(GrepLine(unit.line + len(shown), page_of(self.starts, unit.line + len(shown)), note, True))
            self.hits.append(hit)
            self.open_hit = hit
        self.before.clear()

    def _outside(self, raw: bytes, data: dict[str, Any] | None) -> None:
        """A match outside the window: shown only as context of a neighbouring hit."""
        if not self.context_lines:
            return
        if self.open_hit is not None:
            line, texts = event_lines(data if data is not None else json.loads(raw)["data"])
            if self._extend(line, texts, True):
                return
        self.before.append(raw)

    def _context(self, raw: bytes) -> None:
        if self.open_hit is not None:
            line, texts = event_lines(json.loads(raw)["data"])
            if self._extend(line, texts, False):
                return
        self.before.append(raw)

    def _extend(self, line: int, texts: list[str], match: bool) -> bool:
        """Add lines after the open hit if they fall in its context; closes the hit once past it."""
        hit = self.open_hit
        assert hit is not None
        last = hit.end_line + self.context_lines
        if line > last:
            self.open_hit = None
            return False
        hit.lines.extend(self._lines(line, texts[: last - line + 1], match))
        return True


def _count_output(counts: dict[str, int]) -> Callable[[bytes], None]:
    def consume(raw: bytes) -> None:
        path, _, number = raw.decode("utf-8", errors="replace").rstrip("\r\n").rpartition(":")
        if path and number.isdigit() and int(number) > 0:
            counts[path.removesuffix(TEXT_SUFFIX)] = int(number)

    return consume


# --- the tool ---


def _select_documents(files: dict[str, Path], glob: str | None, doc_ids: list[str] | None) -> tuple[list[str], str]:
    """The doc_ids to search and a description of that scope; ToolError for unknown doc_ids or an empty glob."""
    context = current()
    selected = list(files)
    scope = f"searched all {counted(len(files), 'document')}"
    if doc_ids:
        wanted = dict.fromkeys(check_doc_id(d) for d in doc_ids)
        unknown = [d for d in wanted if d not in files]
        if unknown:
            hints = []
            for d in unknown[:5]:
                close = [s for s in context.corpus.suggest(d) if s in files] or difflib.get_close_matches(
                    d, list(files), n=3, cutoff=0.5
                )
                hints.append(f"{d} (closest: {', '.join(close)})" if close else d)
            raise ToolError(f"unknown doc_ids: {'; '.join(hints)}. Find doc_ids with glob() or list_documents().")
        selected = [d for d in files if d in wanted]  # store order, the order rg reports in
        scope = f"searched {', '.join(wanted)}" if len(wanted) <= 3 else f"searched {len(wanted)} given documents"
    if glob:
        matched = set(glob_matches(glob, list(files)))
        if not matched:
            examples = ", ".join(list(files)[:: max(1, len(files) // 6)][:6])
            raise ToolError(
                f"no document matches glob {glob!r}; doc_ids look like {examples}; list them with glob() or list_documents()"
            )
        selected = [d for d in selected if d in matched]
        if not selected:
            raise ToolError(f"none of the doc_ids {doc_ids} matches glob {glob!r}; drop one of the two filters")
        scope = f"searched {counted(len(selected), 'document')} matching {glob!r}" + (
            " among the given doc_ids" if doc_ids else ""
        )
    return selected, scope


def _scan_guard(files: dict[str, Path], selected: list[str], scope: str) -> None:
    """Refuse a grep that would read more text than SLEUTH_TOOL_GREP_MAX_SCAN_MB, teaching how to scope it."""
    context = current()
    limit = context.settings.grep_max_scan_mb * 1e6
    total = 0
    for doc_id in selected:
        try:
            total += files[doc_id].stat().st_size
        except OSError:
            continue
        if total > limit:
            break
    if total <= limit:
        return
    docs = context.corpus.list()
    companies = sorted({d.id.split("_")[0] for d in docs})
    years = sorted({d.fiscal_year for d in docs if d.fiscal_year})
    where = scope.removeprefix("searched ")
    raise ToolError(
        f"grep over {where} would scan more than {limit / 1e6:,.0f} MB of text ({len(selected):,} documents); "
        f"scope it first: company='...' (e.g. {', '.join(companies[:4])}), year=... ({years[0] if years else '?'}-{years[-1] if years else '?'}), "
        "form='10-K', a glob such as 'ACME_2022*', or doc_ids from list_documents(); search() ranks passages across all filings"
    )


def _by_catalog(files: dict[str, Path], company: str | None, form: str | None, year: int | None) -> tuple[set[str], str]:
    """doc_ids of the catalog's filings of this company / form / fiscal year, and words for the scope."""
    try:
        docs = current().corpus.list(company, form, year)
    except (CorpusError, ValueError) as exc:
        raise ToolError(f"{exc}; see list_documents() for companies, forms and years") from exc
    found = {d.id for d in docs if d.id in files}
    what = " ".join(p for p in (company, form, str(year) if year is not None else None) if p)
    if not found:
        raise ToolError(f"no filing matches {what!r}; list them with list_documents(company=..., form=..., year=...)")
    return found, what


def _no_match(pattern: str, scope: str, case_insensitive: bool, multiline: bool) -> ToolError:
    where = scope.removeprefix("searched ")
    tips = ["try a shorter pattern"]
    if not case_insensitive:
        tips.append("case_insensitive=true")
    if re.search(r"(?<!\\)\$(?!$)", pattern):
        tips.append(r"write \$ for a dollar sign ($ alone means end of line)")
    digits = re.sub(r"\{[\d,]*\}", "", pattern)  # not repetition counts like {4}
    if re.search(r"(?<![\d,.])\d{4,}", digits) and not re.search(r"(19|20)\d\d", digits):
        tips.append("thousands are written with commas in filings (4,321)")
    if not multiline and " " in pattern.strip():
        tips.append(r"multiline=true with \s+ between words (phrases can wrap lines)")
    return ToolError(f"No match for {pattern!r} in {where}; {', '.join(tips)}, or search()")


@tool
def grep(
    pattern: Annotated[
        str,
        Field(
            description=r"Regular expression (Rust regex syntax), e.g. 'Purchases of property' or 'Total (net )?revenues?'. Escape ( ) [ ] $ + ? . with a backslash to match them literally, e.g. '\$4,321'."
        ),
    ],
    glob: Annotated[
        str | None,
        Field(
            description="Only documents whose doc_id matches this glob, e.g. '3M_*', '*2022*10K*', '{PEPSICO,COCACOLA}_2022*'."
        ),
    ] = None,
    doc_ids: Annotated[
        list[str] | None, Field(description="Only these documents (a list of doc_ids), e.g. ['3M_2018_10K'].")
    ] = None,
    company: Annotated[str | None, Field(description="Only this company's filings (name, ticker or doc_id prefix).")] = None,
    form: Annotated[str | None, Field(description="Only this form type, e.g. '10-K'.")] = None,
    year: Annotated[int | None, Field(ge=1900, le=2100, description="Only filings of this fiscal year.")] = None,
    case_insensitive: Annotated[bool, Field(description="Ignore upper/lower case.")] = False,
    context_lines: Annotated[int, Field(description="Lines to show before and after each match (0 = matching lines only).")] = 0,
    output_mode: Annotated[
        OutputMode,
        Field(
            description="'content': matching lines with page and line numbers; 'files_with_matches': documents with match counts; 'count': total and per document."
        ),
    ] = "content",
    max_results: Annotated[
        int | None, Field(description="Matches ('content') or documents (other modes) to show; default 40.")
    ] = None,
    offset: Annotated[int, Field(description="Skip this many matches/documents: pages through long results.")] = 0,
    multiline: Annotated[
        bool,
        Field(
            description=r"Let the pattern span lines, e.g. 'Total\s+revenues' across a line break; '.' still stops at line ends."
        ),
    ] = False,
) -> GrepResult:
    """Search the full text of filings with ripgrep; every match comes with doc_id, page and line. Best for exact figures, line items, defined terms and names; one match per matching line. Use search() when you do not know the wording, read() to see more around a match."""
    context = current()
    settings = context.settings
    limit = _check_arguments(pattern, max_results, context_lines, offset)
    store = context.corpus.store
    files = store_files(store)
    if not files:
        raise ToolError("the text store holds no documents yet; filings must be ingested before they can be searched")
    selected, scope = _scope(files, glob, doc_ids, company, form, year)
    caveats = Caveats.load(context.corpus)
    selected, scope = _once_per_filing(caveats, selected, scope)
    _scan_guard(files, selected, scope)

    # Files are listed by the sandbox and passed one by one: rg walks no folder and follows no symlink.
    args = (
        ["--no-config", "--sort", "path"]
        + (["--ignore-case"] if case_insensitive else [])
        + (["--multiline"] if multiline else [])
    )
    counts: dict[str, int] = {}
    collector = _Collector(store, offset, limit, context_lines, multiline, settings.grep_max_match_lines)
    if output_mode == "content":
        args += ["--json"] + (["--context", str(context_lines)] if context_lines else [])
        consume: Callable[[bytes], None] = collector
    else:
        args += ["--count-matches" if multiline else "--count", "--with-filename"]
        consume = _count_output(counts)
    args += ["--regexp", pattern, "--", *(f"{d}{TEXT_SUFFIX}" for d in selected)]
    stopped = _run(args, store.text_dir.resolve(), consume, pattern)
    if output_mode == "content":
        counts = collector.counts
    counts = {d: counts[d] for d in selected if d in counts}  # document order, whatever order rg wrote in
    _check_found(counts, output_mode, offset, pattern, scope, case_insensitive, multiline)

    flags = [f for f, on in (("case-insensitive", case_insensitive), ("multiline", multiline)) if on]
    result = GrepResult(
        pattern,
        output_mode,
        flags,
        scope,
        counts,
        offset,
        limit,
        context_lines=context_lines,
        max_match_lines=settings.grep_max_match_lines,
        stopped_mb=settings.grep_max_output_mb if stopped else None,
        doc_notes={d: c for d in counts if (c := caveats.conflicts.get(d))},
    )
    if output_mode == "content":
        result.hits = collector.hits
        result.table_notes = table_notes(context, result.hits)
        _fit(result, settings.max_output_tokens - _BUDGET_MARGIN_TOKENS)
        result.long_matches = sum(1 for h in result.hits if h.lines and h.lines[-1].text.startswith(_LONG_MATCH))
    return result


def _check_arguments(pattern: str, max_results: int | None, context_lines: int, offset: int) -> int:
    """The number of results to show; a ToolError for an empty, binary or overlong pattern or an out-of-range number."""
    settings = current().settings
    if not pattern:
        raise ToolError("empty pattern; give a word, figure or regex, e.g. 'Total revenues' or 'EBITDA'")
    if "\x00" in pattern:
        raise ToolError("pattern contains a NUL byte; filings are text, search for words or figures")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolError(
            f"pattern is {len(pattern):,} characters long; use at most {MAX_PATTERN_CHARS}, the distinctive part of it"
        )
    limit = settings.grep_default_results if max_results is None else max_results
    if not 1 <= limit <= settings.grep_max_results:
        raise ToolError(f"max_results={max_results} is out of range; use 1..{settings.grep_max_results} and offset to page")
    if not 0 <= context_lines <= settings.grep_max_context:
        raise ToolError(f"context_lines={context_lines} is out of range; use 0..{settings.grep_max_context}, or read() for more")
    if offset < 0:
        raise ToolError(f"offset={offset} is out of range; use 0 or more (the offset a previous grep told you)")
    return limit


def _scope(
    files: dict[str, Path], glob: str | None, doc_ids: list[str] | None, company: str | None, form: str | None, year: int | None
) -> tuple[list[str], str]:
    """The doc_ids the filters select, in store order, and words for that scope."""
    selected, scope = _select_documents(files, glob, doc_ids)
    if company or form or year is not None:
        found, what = _by_catalog(files, company, form, year)
        narrowed = [d for d in selected if d in found]
        if not narrowed:
            raise ToolError(f"none of the documents in scope is a {what} filing; drop a filter")
        scope = f"searched {counted(len(narrowed), 'document')} of {what}"
        selected = narrowed
    return selected, scope


def _run(args: list[str], cwd: Path, consume: Callable[[bytes], None], pattern: str) -> bool:
    """Run ripgrep within the run's time left; True when it was stopped at the output cap. A bad pattern is a ToolError."""
    context = current()
    settings = context.settings
    timeout = min(context.remaining_s(), settings.timeout_s)
    output = RgOutput()
    code, stderr = run_rg(args, cwd, timeout, consume, max_total_bytes=settings.grep_max_output_mb << 20, output=output)
    if code == 2 and not output.stopped:
        failure = rg_failure(stderr, pattern)
        if failure is not None:
            raise failure
    return output.stopped


def _check_found(
    counts: dict[str, int],
    output_mode: OutputMode,
    offset: int,
    pattern: str,
    scope: str,
    case_insensitive: bool,
    multiline: bool,
) -> None:
    """A ToolError teaching how to find something when nothing matched, or when the offset is past the end."""
    total = sum(counts.values())
    if total == 0:
        raise _no_match(pattern, scope, case_insensitive, multiline)
    units = total if output_mode == "content" else len(counts)
    if offset >= units:
        noun = "matches" if output_mode == "content" else "documents"
        raise ToolError(f"offset={offset} is past the end: there are {units:,} {noun}; use offset 0..{units - 1}")


def _once_per_filing(caveats: Caveats, selected: list[str], scope: str) -> tuple[list[str], str]:
    """Twins (one filing under several names) are searched once, under the first name in scope; the scope names the rest."""
    kept, left_out = caveats.collapse(selected)
    for doc_id, twins in left_out.items():
        scope += f"; {', '.join(twins)} not searched again: same file as {doc_id}"
    return kept, scope


def _fit(result: GrepResult, max_tokens: int) -> None:
    """Drop trailing hits until the rendering fits the output budget, so the offset to continue from stays exact."""
    budget = max_tokens * CHARS_PER_TOKEN
    hits = result.hits
    if len(result.render()) <= budget:
        return
    result.trimmed = True
    lo, hi = 1, len(hits)  # the largest count of hits that fits (at least one is always shown)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        result.hits = hits[:mid]
        if len(result.render()) <= budget:
            lo = mid
        else:
            hi = mid - 1
    result.hits = hits[:lo]
