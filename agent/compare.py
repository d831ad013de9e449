"""Compare mode: the agent and RAG on the same question at the same time, each with its own metrics."""

from __future__ import annotations

import asyncio

from agent.answer import Comparison
from agent.events import Emit, discard, tagged
from agent.llm import LLMClient
from agent.rag import rag_answer
from agent.research import research
from agent.scope import Filters, resolve
from agent.settings import AgentSettings
from tools.context import ToolContext


async def compare(
    question: str,
    *,
    llm: LLMClient,
    tools: ToolContext,
    settings: AgentSettings | None = None,
    filters: Filters | None = None,
    emit: Emit = discard,
) -> Comparison:
    """Both answers; events carry arm='agentic' or arm='rag'."""
    resolve(tools.corpus, filters)  # bad filters fail once, before either arm starts
    agentic, rag = await asyncio.gather(
        research(question, llm=llm, tools=tools, settings=settings, filters=filters, emit=tagged(emit, arm="agentic")),
        rag_answer(question, llm=llm, tools=tools, settings=settings, filters=filters, emit=tagged(emit, arm="rag")),
    )
    return Comparison(question=question, agentic=agentic, rag=rag)
