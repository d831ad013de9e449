"""RAG mode, the classic baseline: hybrid retrieval (filters from the question) -> rerank -> top-k passages -> one cited answer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agent.answer import Answer, RunMetrics
from agent.corpus_access import is_doc, text_of
from agent.coverage import not_covered_answer
from agent.drafts import ANSWER_TOOL, Draft, answer_schema, check_draft, draft_from_response, settle
from agent.events import (
    ANSWER,
    CITATION_CHECK,
    CONDENSE,
    ERROR,
    MODEL_STARTED,
    MODEL_TURN,
    RETRIEVAL,
    RUN_STARTED,
    Emit,
    Event,
    discard,
)
from agent.figure_check import figure_problems
from agent.llm import LLMClient, LLMError
from agent.memory import ThreadMemory
from agent.prompts import load
from agent.scope import Filters, resolve
from agent.settings import AgentSettings
from agent.state import transcript_tokens
from corpus.errors import CorpusError
from tools.context import ToolContext


async def rag_answer(
    question: str,
    *,
    llm: LLMClient,
    tools: ToolContext,
    settings: AgentSettings | None = None,
    filters: Filters | None = None,
    emit: Emit = discard,
    memory: ThreadMemory | None = None,
) -> Answer:
    """Answer `question` from the top passages of one hybrid search, in one model call.

    A follow-up in a thread (`memory` of its earlier turns) is first condensed by the model into a standalone question,
    which is retrieved for and answered (the standard condense step); the Answer keeps it as `condensed_question`."""
    settings = settings or AgentSettings()
    started = time.monotonic()
    doc_ids = resolve(tools.corpus, filters)
    await emit(
        Event(
            RUN_STARTED,
            {"question": question, "mode": "rag", "filters": filters.model_dump() if filters else None}
            | ({"memory": memory.metrics()} if memory else {}),
        )
    )
    metrics = RunMetrics(**(memory.metrics() if memory else {}))
    condensed: str | None = None
    warnings: list[str] = []

    async def done(answer: Answer) -> Answer:
        answer.metrics.latency_s = round(time.monotonic() - started, 3)
        answer.condensed_question = condensed
        answer.warnings = warnings + answer.warnings
        await emit(Event(ANSWER, answer.model_dump()))
        return answer

    if memory and memory.text:
        condensed, problem = await condense(
            question, memory, llm=llm, emit=emit, metrics=metrics, timeout_s=settings.time_budget_s
        )
        warnings += [problem] if problem else []
    query = condensed or question
    if doc_ids is None and (early := await asyncio.to_thread(not_covered_answer, query, "rag", tools.corpus)) is not None:
        return await done(early)
    try:
        searcher = await asyncio.to_thread(lambda: tools.searcher)
        result = await asyncio.to_thread(
            searcher.search, query, settings.rag_candidates, Filters.model_construct(doc_ids=doc_ids) if doc_ids else None
        )
    except CorpusError as exc:
        await emit(Event(ERROR, {"kind": "retrieval", "message": str(exc)}))
        return await done(_failed(question, f"retrieval failed: {exc}", metrics))
    passages = result.passages[: settings.rag_top_k]
    metrics.pages_read = len({(p.doc_id, page) for p in passages for page in range(p.start_page, p.end_page + 1)})
    await emit(
        Event(
            RETRIEVAL,
            {
                "query": query,
                "notes": result.notes,
                "timings_ms": result.timings_ms,
                "passages": [
                    {"doc_id": p.doc_id, "pages": p.pages, "lines": f"{p.start_line}-{p.end_line}", "section": p.section_path}
                    for p in passages
                ],
            },
        )
    )
    if not passages:
        return await done(
            Answer(
                mode="rag",
                question=question,
                text="No passage was found for this question.",
                status="unsure",
                metrics=metrics,
                warnings=["retrieval returned no passages"],
            )
        )
    asked = query if query == question else f'{query}\n(Asked in the thread as: "{question}")'
    answer = await answer_once(
        question,
        passages_prompt(asked, passages, llm),
        llm=llm,
        tools=tools,
        emit=emit,
        metrics=metrics,
        timeout_s=settings.time_budget_s,
        mode="rag",
    )
    return await done(answer)


async def condense(
    question: str, memory: ThreadMemory, *, llm: LLMClient, emit: Emit, metrics: RunMetrics, timeout_s: float
) -> tuple[str, str | None]:
    """The follow-up rewritten by the model into a standalone question from the thread's memory (a CONDENSE event shows it);
    on a model failure the follow-up as asked, with a warning saying so."""
    began = time.monotonic()
    messages = [
        {"role": "system", "content": load("condense")},
        {"role": "user", "content": f"{memory.text}\n\nFollow-up question: {question}\n\nStandalone question:"},
    ]
    try:
        response = await asyncio.wait_for(llm.complete(messages, max_tokens=min(llm.settings.max_tokens, 512)), timeout=timeout_s)
    except (TimeoutError, LLMError) as exc:
        problem = f"the follow-up could not be condensed ({exc or 'the model did not reply in time'}); retrieved for it as asked"
        await emit(Event(ERROR, {"kind": "condense", "message": problem}))
        return question, problem
    metrics.add_usage(response.usage)
    condensed = llm.policy.standalone_question(response.content, question)
    usage = {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens}
    await emit(
        Event(
            CONDENSE,
            {"question": question, "condensed": condensed, "seconds": round(time.monotonic() - began, 3), "usage": usage},
        )
    )
    return condensed, None


async def answer_once(
    question: str,
    messages: list[dict[str, Any]],
    *,
    llm: LLMClient,
    tools: ToolContext,
    emit: Emit,
    metrics: RunMetrics,
    timeout_s: float,
    mode: str,
) -> Answer:
    """One forced `answer` call on a prepared prompt, its citations checked (RAG; the evaluation's oracle and closed-book modes)."""
    choice = {"type": "function", "function": {"name": ANSWER_TOOL}}
    await emit(Event(MODEL_STARTED, {"step": 1, "prompt_tokens": transcript_tokens(messages)}))
    try:
        response = await asyncio.wait_for(llm.complete(messages, [answer_schema()], tool_choice=choice), timeout=timeout_s)
    except (TimeoutError, LLMError) as exc:
        message = str(exc) or f"the model did not answer within {timeout_s:.0f} s"
        await emit(Event(ERROR, {"kind": "llm", "message": message}))
        return _failed(question, message, metrics, mode)
    metrics.add_usage(response.usage)
    await emit(
        Event(
            MODEL_TURN,
            {
                "step": 1,
                "content": response.content,
                "seconds": round(response.usage.seconds, 3),
                "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls],
                "usage": {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens},
            },
        )
    )
    draft = draft_from_response(response, lambda d: is_doc(tools, d), llm.policy)
    warnings: list[str] = []
    if not isinstance(draft, Draft):
        warnings.append(draft or "the model gave an empty answer")
        draft = Draft("The model gave no usable answer.", "unsure")
    checked, problems = await asyncio.to_thread(check_draft, draft, lambda d: text_of(tools, d))
    problems += await asyncio.to_thread(figure_problems, draft.text, question, checked, tools)  # wrong period or unit
    await emit(Event(CITATION_CHECK, {"checked": len(checked), "failed": problems}))
    status, warnings = settle(draft, checked, problems, warnings)
    return Answer(
        mode=mode,
        question=question,
        text=draft.text,
        status=status,
        citations=checked,
        metrics=metrics,
        warnings=warnings,
        chart=draft.chart,
    )


def passages_prompt(question: str, passages: list, llm: LLMClient) -> list[dict[str, Any]]:
    """The RAG prompt: numbered passages (anything with a Passage's fields), then the question."""
    system = load("rag_system")
    if instructions := llm.policy.instructions([answer_schema()]):
        system += "\n\n" + instructions
    blocks = []
    for n, p in enumerate(passages, 1):
        period = (
            f"FY{p.fiscal_year}" + (f" {p.fiscal_period}" if p.fiscal_period and p.fiscal_period != "FY" else "")
            if p.fiscal_year
            else ""
        )
        head = f"[{n}] doc_id {p.doc_id} | page {p.pages} | lines {p.start_line}-{p.end_line} | {p.company or '?'} {p.form_type or ''} {period}"
        blocks.append(f"{head} | {p.section_path or '(no section)'}\n{p.text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}\nAnswer with the answer tool."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _failed(question: str, message: str, metrics: RunMetrics, mode: str = "rag") -> Answer:
    return Answer(
        mode=mode, question=question, text=f"The run failed: {message}", status="failed", metrics=metrics, error=message
    )
