"""The corpus, searcher and limits a tool call runs against, set by the registry for the call's duration."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property

from corpus.catalog import Corpus
from corpus.text import PagedText
from tools.settings import ToolSettings

_current: ContextVar[ToolContext | None] = ContextVar("sleuth_tool_context", default=None)


@dataclass
class ToolContext:
    """Shared by all tool calls of one agent run (or one process): the corpus and a lazily opened searcher."""

    corpus: Corpus
    settings: ToolSettings = field(default_factory=ToolSettings)
    searcher_factory: Callable[[], object] | None = None
    deadline: float | None = None  # monotonic time the current call must finish by

    @cached_property
    def searcher(self):  # noqa: ANN201 - retrieval.searcher.HybridSearcher, imported lazily
        if self.searcher_factory is None:
            from retrieval.searcher import HybridSearcher

            return HybridSearcher.open(self.corpus.settings)
        return self.searcher_factory()

    def text(self, doc_id: str) -> PagedText:
        """The stored text of `doc_id` (cached per context: tools read the same filings again and again)."""
        cache = self.__dict__.setdefault("_texts", {})
        if doc_id not in cache:
            if len(cache) > 32:
                cache.pop(next(iter(cache)), None)  # calls run in threads: another may have evicted it
            cache[doc_id] = self.corpus.store.read(doc_id)
        return cache[doc_id]

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
