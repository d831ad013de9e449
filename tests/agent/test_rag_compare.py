"""RAG and compare modes on real filings with a scripted model."""

from __future__ import annotations

import asyncio
import time

import pytest

from agent.compare import compare
from agent.events import ANSWER, MODEL_TURN, RETRIEVAL, RUN_STARTED, TOOL_CALL, Event
from agent.rag import rag_answer
from agent.scope import Filters, UnknownDocuments
from tests.agent.conftest import client
from tests.agent.test_research import CAPEX_CITATION, answer
from tests.fakes.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.financebench

QUESTION = "What is the FY2018 capital expenditure amount (in USD millions) for 3M? Use the cash flow statement."


def run(coro_factory, fake: FakeLLM, **llm):
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    async def go():
        llm_client = client(fake.base_url, **llm)
        try:
            return await coro_factory(llm_client, emit)
        finally:
            await llm_client.close()

    return asyncio.run(go()), events


def test_rag_retrieves_filtered_passages_and_answers_with_checked_citations(tools, agent_settings):
    def script(body: dict) -> Reply:
        prompt = body["messages"][1]["content"]
        assert body["tool_choice"] == {"type": "function", "function": {"name": "answer"}}
        assert prompt.count("doc_id 3M_2018_10K | page") == 8 and "ADOBE" not in prompt, (
            "the company in the question filters retrieval"
        )
        assert prompt.endswith(f"Question: {QUESTION}\nAnswer with the answer tool.")
        return answer("$1,577 million", CAPEX_CITATION)

    with FakeLLM(script) as fake:
        result, events = run(
            lambda llm, emit: rag_answer(QUESTION, llm=llm, tools=tools, settings=agent_settings, emit=emit), fake
        )

    assert result.mode == "rag" and result.status == "answered" and result.citations[0].verified, result.error
    assert (
        result.metrics.llm_calls == 1
        and result.metrics.tool_calls == 0
        and 0 < result.metrics.pages_read <= 2 * agent_settings.rag_top_k
    )
    retrieval = next(e for e in events if e.type == RETRIEVAL)
    assert len(retrieval.data["passages"]) == agent_settings.rag_top_k
    assert events[0].type == RUN_STARTED and events[-1].type == ANSWER


def test_rag_with_explicit_doc_ids_and_a_model_that_is_down(tools, agent_settings):
    with FakeLLM([Reply(status=500, content="engine dead")]) as fake:
        result, events = run(
            lambda llm, emit: rag_answer(
                "What was total revenue?",
                llm=llm,
                tools=tools,
                settings=agent_settings,
                filters=Filters(doc_ids=["ADOBE_2017_10K"]),
                emit=emit,
            ),
            fake,
        )
    passages = next(e for e in events if e.type == RETRIEVAL).data["passages"]
    assert {p["doc_id"] for p in passages} == {"ADOBE_2017_10K"}
    assert result.status == "failed" and "engine dead" in result.error

    with FakeLLM([]) as fake, pytest.raises(UnknownDocuments):
        run(lambda llm, emit: rag_answer("q", llm=llm, tools=tools, filters=Filters(doc_ids=["NOPE"]), emit=emit), fake)


def test_rag_plain_text_answer_in_text_mode(tools, agent_settings):
    with FakeLLM([Reply(content="3M spent $1,577 million on PP&E [3M_2018_10K p.60].")]) as fake:
        result, _ = run(
            lambda llm, emit: rag_answer(QUESTION, llm=llm, tools=tools, settings=agent_settings, emit=emit),
            fake,
            tool_mode="text",
        )
        request = fake.requests[0]
    assert "tools" not in request and "<tool_call>" in request["messages"][0]["content"]
    assert result.status == "answered" and result.citations[0].verified


def test_compare_runs_both_arms_concurrently_with_their_own_metrics(tools, agent_settings):
    def script(body: dict) -> Reply:
        if body["messages"][1]["content"].startswith("Passages:"):  # the RAG arm
            return Reply(tool_calls=[("answer", {"answer": "$1,577 million", "citations": [CAPEX_CITATION]})], delay_s=0.2)
        if sum(m["role"] == "assistant" for m in body["messages"]) == 0:
            return Reply(tool_calls=[("read", {"doc_id": "3M_2018_10K", "section": "Cash Flows"})], delay_s=0.2)
        return answer("$1,577 million", CAPEX_CITATION)

    with FakeLLM(script) as fake:
        result, events = run(lambda llm, emit: compare(QUESTION, llm=llm, tools=tools, settings=agent_settings, emit=emit), fake)

    assert result.agentic.mode == "agentic" and result.rag.mode == "rag"
    assert result.agentic.status == result.rag.status == "answered", (result.agentic.error, result.rag.error)
    assert (result.agentic.metrics.llm_calls, result.agentic.metrics.tool_calls) == (2, 1)
    assert (result.rag.metrics.llm_calls, result.rag.metrics.tool_calls) == (1, 0)
    assert {e.arm for e in events} == {"agentic", "rag"}
    arms = [e.arm for e in events if e.type in {MODEL_TURN, TOOL_CALL, RETRIEVAL}]
    assert arms.index("rag") < len(arms) - 1 - arms[::-1].index("agentic"), "the arms interleave"
    assert sorted(e.arm for e in events if e.type == ANSWER) == ["agentic", "rag"]


def like_llama_cpp(reply):
    """A script wrapper that refuses, as llama-cpp-python's server did, an assistant message with neither content nor tool calls."""

    def script(body: dict) -> Reply:
        for i, m in enumerate(body["messages"]):
            if m["role"] == "assistant" and m.get("content") is None and not m.get("tool_calls"):
                return Reply(status=500, content=f"7 validation errors for messages[{i}]")
        return reply(body)

    return script


def test_an_empty_turn_is_asked_again_with_a_nudge_and_never_sent_back(tools, agent_settings):
    def script(body: dict) -> Reply:
        if sum(m["role"] == "user" for m in body["messages"]) == 1:
            return Reply(content="", usage=(100, 0))  # 0 tokens: what the interrupted request gave
        return answer("$1,577 million", CAPEX_CITATION)

    with FakeLLM(like_llama_cpp(script)) as fake:
        from agent.research import research

        result, _ = run(lambda llm, emit: research(QUESTION, llm=llm, tools=tools, settings=agent_settings, emit=emit), fake)
        second = fake.requests[1]["messages"]
    assert result.status == "answered", result.error
    assert second[-1] == {
        "role": "user",
        "content": "Your reply was empty. Call a tool to continue the research, or the answer tool to finish.",
    }
    assert not any(m["role"] == "assistant" for m in second)  # the empty turn was not kept


def test_no_assistant_message_has_null_content_without_tool_calls():
    from agent.llm import LLMResponse, ToolCallRequest, Usage

    assert LLMResponse("", [], "stop", Usage()).assistant_message() == {"role": "assistant", "content": ""}
    written = LLMResponse(
        "", [ToolCallRequest("1", "grep", {"pattern": "x"}, from_text=True)], "stop", Usage()
    ).assistant_message()
    assert written["content"] == "" and "tool_calls" not in written
    native = LLMResponse("", [ToolCallRequest("1", "grep", {"pattern": "x"})], "tool_calls", Usage()).assistant_message()
    assert native["content"] is None and native["tool_calls"][0]["function"]["name"] == "grep"


def test_a_one_slot_model_gets_one_call_at_a_time_from_the_two_arms(tools, agent_settings):
    active, most = 0, 0
    import threading

    lock = threading.Lock()

    def script(body: dict) -> Reply:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        try:
            time.sleep(0.2)  # the fake answers in its own threads: overlapping requests would overlap here
            if body["messages"][1]["content"].startswith("Passages:"):
                return Reply(tool_calls=[("answer", {"answer": "$1,577 million", "citations": [CAPEX_CITATION]})])
            return answer("$1,577 million", CAPEX_CITATION)
        finally:
            with lock:
                active -= 1

    with FakeLLM(script) as fake:

        async def one_slot(llm, emit):
            llm.slots = asyncio.Semaphore(1)
            return await compare(QUESTION, llm=llm, tools=tools, settings=agent_settings, emit=emit)

        result, _ = run(one_slot, fake)
    assert result.agentic.status == result.rag.status == "answered"
    assert most == 1


def test_a_compare_run_whose_one_arm_failed_ends_with_the_other_arms_answer():
    from agent.answer import Answer, Comparison
    from api.runner import run_error, run_status

    rag = Answer(mode="rag", question="q", text="$1,577 million", status="answered")
    agentic = Answer(mode="agentic", question="q", text="", status="failed", error="the model at http://x answered 500: boom")
    both = Comparison(question="q", agentic=agentic, rag=rag)
    assert run_status(both) == "answered"
    assert run_error(both) == "agentic arm failed: the model at http://x answered 500: boom"
    assert run_status(Comparison(question="q", agentic=agentic, rag=agentic.model_copy(update={"mode": "rag"}))) == "failed"
    assert run_status(Comparison(question="q", agentic=rag.model_copy(update={"status": "unsure"}), rag=rag)) == "unsure"


def test_an_answer_call_cut_off_in_text_keeps_the_answer_not_the_json(tools, agent_settings):
    # vLLM with a 1.5B model: the forced answer written as text in <tool_call> tags, cut at max_tokens, so neither the
    # parser nor hermes made a call of it; the answer was the raw JSON.
    cut = (
        '<tool_call>\n{"name": "answer", "arguments": {"answer": "3M spent $1,577 million on PP&E in FY2018.", "citations": '
        '[{"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577)"}, {"doc_'
    )
    with FakeLLM([Reply(content=cut, finish_reason="length")]) as fake:
        result, _ = run(lambda llm, emit: rag_answer(QUESTION, llm=llm, tools=tools, settings=agent_settings, emit=emit), fake)
    assert result.text == "3M spent $1,577 million on PP&E in FY2018." and "tool_call" not in result.text
    assert result.status == "unsure", "a reply cut off is never a finished answer"
    assert [(c.doc_id, c.page, c.verified) for c in result.citations] == [("3M_2018_10K", 60, True)]
