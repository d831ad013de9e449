"""One place that holds what a question needs (corpus tools, the LLM client, settings) and answers in any mode."""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any, Literal

from agent.answer import Answer, Comparison
from agent.compare import compare
from agent.events import Emit, discard
from agent.llm import LLMClient
from agent.memory import ThreadMemory
from agent.rag import rag_answer
from agent.research import research
from agent.scope import Filters
from agent.settings import AgentSettings, LLMSettings
from corpus.catalog import Corpus
from tools.context import ToolContext
from tools.settings import ToolSettings

if TYPE_CHECKING:
    from retrieval.searcher import HybridSearcher

AskMode = Literal["agentic", "rag", "compare"]


def sized_for(llm: LLMSettings, tools: ToolSettings, agent: AgentSettings) -> tuple[ToolSettings, AgentSettings]:
    """Tool output caps and budgets that fit the model's context (defaults are for a 32k+ model; set values are kept)."""
    window = llm.context_tokens
    tool_updates = {}
    if "max_output_tokens" not in tools.model_fields_set:
        tool_updates["max_output_tokens"] = max(200, min(tools.max_output_tokens, window // 4))
    if "read_default_tokens" not in tools.model_fields_set:
        tool_updates["read_default_tokens"] = max(100, min(tools.read_default_tokens, window // 6))
    if "read_max_tokens" not in tools.model_fields_set:
        tool_updates["read_max_tokens"] = max(100, min(tools.read_max_tokens, window // 4))
    agent_updates: dict[str, Any] = {}
    if "thread_memory_tokens" not in agent.model_fields_set:
        agent_updates["thread_memory_tokens"] = max(200, min(agent.thread_memory_tokens, window // 8))
    if llm.timeout_s > 300 and "time_budget_s" not in agent.model_fields_set:  # a CPU model: minutes per turn
        agent_updates["time_budget_s"] = max(agent.time_budget_s, 3 * llm.timeout_s)
    return tools.model_copy(update=tool_updates), agent.model_copy(update=agent_updates)


class Researcher:
    """Answers questions over one corpus with one LLM endpoint; the API and the CLI both use it."""

    def __init__(
        self, corpus: Corpus, llm: LLMClient, settings: AgentSettings | None = None, tool_settings: ToolSettings | None = None
    ) -> None:
        tool_settings, settings = sized_for(llm.settings, tool_settings or ToolSettings(), settings or AgentSettings())
        self.corpus = corpus
        self.llm = llm
        self.settings = settings
        self.tools = ToolContext(corpus, tool_settings, searcher_factory=self._searcher)
        self._searcher_lock = threading.Lock()
        self._opened_searcher = None

    def with_model(self, model: str) -> Researcher:
        """A researcher asking `model` at the same endpoint; it shares this one's tools, searcher and text cache."""
        sibling = Researcher(self.corpus, self.llm.with_model(model), self.settings, self.tools.settings)
        sibling.tools = self.tools
        return sibling

    def _searcher(self) -> HybridSearcher:
        """One searcher for all runs of this session, opened on first use (loading the index takes seconds)."""
        with self._searcher_lock:
            if self._opened_searcher is None:
                from retrieval.searcher import HybridSearcher

                self._opened_searcher = HybridSearcher.open(self.corpus.settings)
            return self._opened_searcher

    async def ask(
        self,
        question: str,
        mode: AskMode = "agentic",
        *,
        filters: Filters | None = None,
        settings: AgentSettings | None = None,
        emit: Emit = discard,
        memory: dict[str, ThreadMemory] | None = None,
    ) -> Answer | Comparison:
        """One question in one mode; `settings` overrides this session's budgets for this run. A follow-up in a thread
        passes `memory` by arm ("agentic", "rag"): each mode (and each arm of compare) follows up on its own answers."""
        tools = copy.copy(self.tools)  # shares the searcher and the text cache; the per-call deadline stays per run
        kwargs = {"llm": self.llm, "tools": tools, "settings": settings or self.settings, "filters": filters, "emit": emit}
        memory = memory or {}
        if mode == "agentic":
            return await research(question, **kwargs, memory=memory.get("agentic"))
        if mode == "rag":
            return await rag_answer(question, **kwargs, memory=memory.get("rag"))
        if mode == "compare":
            return await compare(question, **kwargs, memory=memory.get("agentic"), rag_memory=memory.get("rag"))
        raise ValueError(f"unknown mode {mode!r}; use agentic, rag or compare")
