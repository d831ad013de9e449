"""The corpus, searcher and limits a tool call runs against, set by the registry for the call's duration."""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property

from corpus.catalog import Corpus
from corpus.text import PagedText
from tools.sandbox import store_file
from tools.settings import ToolSettings

_current: ContextVar[ToolContext | None] = ContextVar("sleuth_tool_context", default=None)


@dataclass
class ToolContext:
    """Shared by all tool calls of one agent run (or one process): the corpus and a lazily opened searcher."""

    corpus: Corpus
    settings: ToolSettings = field(default_factory=ToolSettings)
    searcher_factory: Callable[[], object] | None = None
    deadline: float | None = None  # monotonic time the current call must finish by
    guess_doc_ids: bool = True  # take a near-miss doc_id as the one filing it can mean (off for the agent's strict policy)
    # Shared by shallow copies (one per concurrent call), so calls of a run reuse each other's reads.
    # Keyed by doc_id, checked against the stored files' identity on every use: a replaced or deleted
    # document is never served from here (the API's researchers keep one context for their whole life).
    _texts: dict[str, tuple[tuple[int, ...], PagedText]] = field(default_factory=dict, init=False, repr=False)
    _texts_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    facts_cache: dict = field(default_factory=dict, init=False, repr=False)  # (doc_id, ingested_at) -> the facts tool's rows

    @cached_property
    def searcher(self):  # retrieval.searcher.HybridSearcher, imported lazily
        if self.searcher_factory is None:
            from retrieval.searcher import HybridSearcher

            return HybridSearcher.open(self.corpus.settings)
        return self.searcher_factory()

    def text(self, doc_id: str) -> PagedText:
        """The stored text of `doc_id` (cached per context while its files are unchanged: tools read the same filings again and again)."""
        store = self.corpus.store
        store_file(store, doc_id)
        version = store.version(doc_id)
        hit = self._texts.get(doc_id)
        if hit is not None and hit[0] == version:
            return hit[1]
        text = store.read(doc_id)
        with self._texts_lock:  # tool calls run in threads
            self._texts.pop(doc_id, None)
            while len(self._texts) >= 32:
                self._texts.pop(next(iter(self._texts)))
            if version is not None:
                self._texts[doc_id] = (version, text)
        return text

    def with_doc_id_guessing(self, on: bool) -> ToolContext:
        """This context (sharing its searcher and caches) with near-miss doc_id guessing on or off."""
        if self.guess_doc_ids == on:
            return self
        other = copy.copy(self)
        other.guess_doc_ids = on
        return other

    def remaining_s(self) -> float:
        """Seconds left before the call's deadline (the tool timeout when none is set)."""
        if self.deadline is None:
            return self.settings.timeout_s
        return max(0.0, self.deadline - time.monotonic())


def current() -> ToolContext:
    context = _current.get()
    if context is None:
        raise RuntimeError("no tool context: call tools through ToolRegistry.call or inside use_context(...)")
    return context


@contextlib.contextmanager
def use_context(context: ToolContext) -> Iterator[ToolContext]:
    """Run tool functions directly (tests, benchmarks) against `context`."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
