"""Compare mode: the agent and RAG on the same question at the same time, each with its own metrics."""

from __future__ import annotations

import asyncio

from agent.answer import Comparison
from agent.events import Emit, discard, tagged
from agent.llm import LLMClient
from agent.memory import ThreadMemory
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
    memory: ThreadMemory | None = None,
    rag_memory: ThreadMemory | None = None,
) -> Comparison:
    """Both answers; events carry arm='agentic' or arm='rag'. In a thread each arm follows up on its own earlier answers:
    `memory` is the agentic arm's, `rag_memory` the RAG arm's."""
    resolve(tools.corpus, filters)  # bad filters fail once, before either arm starts
    agentic, rag = await asyncio.gather(
        research(
            question, llm=llm, tools=tools, settings=settings, filters=filters, emit=tagged(emit, arm="agentic"), memory=memory
        ),
        rag_answer(
            question, llm=llm, tools=tools, settings=settings, filters=filters, emit=tagged(emit, arm="rag"), memory=rag_memory
        ),
    )
    return Comparison(question=question, agentic=agentic, rag=rag)
