"""Follow-ups in-process on real filings: what the memory keeps of a turn that called facts, and a chained follow-up."""

from __future__ import annotations

import asyncio

import pytest

from agent.memory import Turn, thread_memory
from agent.research import research
from tests.agent.conftest import client
from tests.agent.test_research import CAPEX_CITATION, answer
from tests.fakes.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.financebench


def test_a_turn_that_read_facts_is_remembered_with_its_figures_and_the_follow_up_starts_from_them(tools, agent_settings):
    def script(body: dict) -> Reply:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if "Research memory" in user:  # the follow-up, chained as an evaluation would
            return answer("In FY2017 it was $1,373 million.", CAPEX_CITATION)
        if not any(m["role"] == "tool" for m in body["messages"]):
            return Reply(tool_calls=[("facts", {"query": "purchases of property, plant and equipment", "doc_id": "3M_2018_10K"})])
        return answer("$1,577 million", CAPEX_CITATION)

    async def go():
        with FakeLLM(script) as fake:
            llm = client(fake.base_url)
            try:
                first = await research("What was 3M's FY2018 capex?", llm=llm, tools=tools, settings=agent_settings)
                memory = thread_memory([Turn(question="What was 3M's FY2018 capex?", answer=first)], 4000)
                second = await research("and in 2017?", llm=llm, tools=tools, settings=agent_settings, memory=memory)
                return first, memory, second, fake.requests[-1]
            finally:
                await llm.close()

    first, memory, second, last_request = asyncio.run(go())
    facts = first.steps[0].facts
    assert first.steps[0].name == "facts" and facts, first.steps
    assert any(
        f.period == "FY2018" and f.value == "-1,577 million USD" and f.doc_id == "3M_2018_10K" and f.page for f in facts
    ), facts
    assert f"{facts[0].line_item} {facts[0].period}: {facts[0].value} (3M_2018_10K p.{facts[0].page})" in memory.text
    assert second.status == "answered" and second.metrics.memory_turns == 1 and second.metrics.memory_tokens == memory.tokens
    assert memory.text in last_request["messages"][1]["content"]
