"""Run question files through the modes and models, score each answer, keep results as they finish (resumable).

A follow-up thread runs its turns in order, each later turn with the memory of the earlier turns of the same thread in the
same mode and model (agentic: the agent's memory; RAG: condensed into a standalone question first), and scores every turn."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from agent.answer import Answer, RunMetrics
from agent.drafts import answer_schema
from agent.events import Event
from agent.llm import LLMClient
from agent.memory import ThreadMemory, Turn, thread_memory
from agent.rag import answer_once, passages_prompt
from agent.session import Researcher
from agent.settings import AgentSettings
from corpus.catalog import Corpus
from evals.dataset import EvalQuestion, EvalThread
from evals.judge import judge
from evals.prompts import load
from evals.scoring import is_refusal, numeric_verdict, yes_no

MODES = ("agentic", "rag", "oracle", "closed_book")
THREAD_MODES = ("agentic", "rag")  # the modes that follow up; oracle and closed_book score single questions only
_PAGE_REF = re.compile(r"^(?P<doc>\S+) p\.(?P<page>\d+)$")


@dataclass
class EvalConfig:
    modes: tuple[str, ...] = ("agentic", "rag")
    models: tuple[str | None, ...] = (None,)  # None: the endpoint's configured model
    concurrency: int = 4
    tolerance: float = 0.01
    judge_model: str | None = None  # grade with an LLM judge too (None: numeric verifier and yes/no only)
    use_judge: bool = False
    memory: bool = True  # later turns of a thread carry the memory of the earlier ones (False: each turn alone, a baseline)
    agent: AgentSettings = field(default_factory=AgentSettings)


def record_key(r: dict[str, Any]) -> tuple[str, str, str]:
    return (r["qid"], r["mode"], r["model"])


def done_keys(results: Path) -> set[tuple[str, str, str]]:
    """Results already in the file (for --resume). A torn line left by an interrupted run is dropped from the file."""
    if not results.is_file():
        return set()
    keys, kept = set(), []
    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            keys.add(record_key(json.loads(line)))
            kept.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    tmp = results.with_suffix(".tmp")
    tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    tmp.replace(results)
    return keys


def read_results(results: Path) -> list[dict[str, Any]]:
    done_keys(results)  # drops a torn last line
    return [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]


async def run_eval(
    items: list[EvalQuestion | EvalThread],
    config: EvalConfig,
    *,
    corpus: Corpus,
    llm: LLMClient,
    results: Path,
    resume: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
    planned: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every (question or thread turn, mode, model) not yet in `results`, `concurrency` at a time; each record is appended
    as it finishes. A thread is done when all its turns are; one cut short is run again from its first turn."""
    results.parent.mkdir(parents=True, exist_ok=True)
    skip = done_keys(results) if resume else set()
    if not resume:
        results.write_text("")
    base = Researcher(corpus, llm, config.agent)
    researchers = {model: base if model is None else base.with_model(model) for model in config.models}
    judge_llm = None
    if config.use_judge:
        judge_llm = llm if config.judge_model is None else llm.with_model(config.judge_model)
    questions, threads, partial = _plan(items, config, {m: _model_name(r) for m, r in researchers.items()}, skip)
    _drop(results, partial)
    if planned:
        planned(len(questions) + sum(len(t[0].turns) for t in threads))
    gate = asyncio.Semaphore(config.concurrency)
    lock = asyncio.Lock()
    out: list[dict[str, Any]] = []

    async def keep(record: dict[str, Any]) -> None:
        async with lock:
            with results.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(record) + "\n")
            out.append(record)
            if progress:
                progress(record)

    async def one(q: EvalQuestion, mode: str, model: str | None) -> None:
        async with gate:
            record, _ = await evaluate(q, mode, researchers[model], config, judge_llm)
        await keep(record)

    async def chain(thread: EvalThread, mode: str, model: str | None) -> None:
        await run_thread(thread, mode, researchers[model], config, judge_llm, gate, keep)

    await asyncio.gather(*(one(*t) for t in questions), *(chain(*t) for t in threads))
    for model, researcher in researchers.items():
        if model is not None:
            await researcher.llm.close()
    if judge_llm is not None and judge_llm is not llm:
        await judge_llm.close()
    return out


Task = tuple[Any, str, str | None]


def _plan(
    items: list[EvalQuestion | EvalThread], config: EvalConfig, names: dict[str | None, str], skip: set[tuple[str, str, str]]
) -> tuple[list[Task], list[Task], set[tuple[str, str, str]]]:
    """The questions and threads still to run, and the records of threads cut short (to drop: they run again whole)."""
    questions: list[Task] = []
    threads: list[Task] = []
    partial: set[tuple[str, str, str]] = set()
    for item, mode, model in ((i, mode, model) for i in items for mode in config.modes for model in config.models):
        if isinstance(item, EvalQuestion):
            if (item.id, mode, names[model]) not in skip:
                questions.append((item, mode, model))
            continue
        if mode not in THREAD_MODES:
            continue
        keys = {(q.id, mode, names[model]) for q in item.turns}
        if not keys <= skip:
            threads.append((item, mode, model))
            partial |= keys & skip
    return questions, threads, partial


def _drop(results: Path, keys: set[tuple[str, str, str]]) -> None:
    if not keys:
        return
    kept = [line for line in results.read_text(encoding="utf-8").splitlines() if record_key(json.loads(line)) not in keys]
    tmp = results.with_suffix(".tmp")
    tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    tmp.replace(results)


def _model_name(researcher: Researcher) -> str:
    return researcher.llm.settings.model


async def evaluate(
    q: EvalQuestion,
    mode: str,
    researcher: Researcher,
    config: EvalConfig,
    judge_llm: LLMClient | None,
    memory: ThreadMemory | None = None,
) -> tuple[dict[str, Any], Answer]:
    """One question in one mode (with the memory of earlier turns, for a follow-up): how it scores, and the answer."""
    seen: set[tuple[str, int]] = set()

    async def emit(event: Event) -> None:
        seen.update(_pages_of(event))

    started = time.monotonic()
    try:
        if mode in ("agentic", "rag"):
            answer = await researcher.ask(q.question, mode, emit=emit, memory={mode: memory} if memory else None)  # type: ignore[arg-type]
        elif mode == "oracle":
            answer = await _oracle(q, researcher, emit)
            seen.update(q.evidence)
        elif mode == "closed_book":
            answer = await _closed_book(q, researcher, emit)
        else:
            raise ValueError(f"unknown mode {mode!r}; use {', '.join(MODES)}")
    except Exception as exc:  # noqa: BLE001 - one broken question is recorded, the evaluation goes on
        answer = Answer(
            mode="rag" if mode not in ("agentic",) else "agentic",
            question=q.question,
            text=f"The run failed: {exc}",
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
        )
    latency = answer.metrics.latency_s or round(time.monotonic() - started, 3)
    judged = await _judged(q, answer, judge_llm)
    return score(q, mode, _model_name(researcher), answer, seen, latency, config.tolerance, judged), answer


async def run_thread(
    thread: EvalThread,
    mode: str,
    researcher: Researcher,
    config: EvalConfig,
    judge_llm: LLMClient | None,
    gate: asyncio.Semaphore,
    keep: Callable[[dict[str, Any]], Any],
) -> None:
    """The thread's turns in order; each later turn asked with the memory of the earlier turns' questions and answers."""
    earlier: list[Turn] = []
    for q in thread.turns:
        memory = thread_memory(earlier, researcher.settings.thread_memory_tokens) if earlier and config.memory else None
        async with gate:
            record, answer = await evaluate(q, mode, researcher, config, judge_llm, memory)
        record |= {
            "thread": q.thread,
            "turn": q.turn,
            "refers_to": q.refers_to,
            "memory": None
            if memory is None
            else {"tokens": memory.tokens, "turns": memory.turns, "summarized": memory.summarized, "omitted": memory.omitted},
            "condensed_question": answer.condensed_question,
        }
        await keep(record)
        earlier.append(Turn(question=q.question, answer=answer))


def score(
    q: EvalQuestion,
    mode: str,
    model: str,
    answer: Answer,
    seen: set[tuple[str, int]],
    latency: float,
    tolerance: float,
    judged: dict[str, str] | None,
) -> dict[str, Any]:
    numeric = numeric_verdict(q.answer, answer.text, tolerance)
    gold_yes_no, answer_yes_no = yes_no(q.answer), yes_no(answer.text)
    if judged is not None and judged.get("verdict") in ("correct", "incorrect"):
        correct, scored_by = judged["verdict"] == "correct", "judge"
    elif numeric.applicable:
        correct, scored_by = numeric.correct, "numeric"
    elif gold_yes_no:
        correct, scored_by = answer_yes_no == gold_yes_no, "yes/no"
    else:
        correct, scored_by = None, None
    evidence = set(q.evidence)
    cited = {(c.doc_id, c.page) for c in answer.citations}
    m = answer.metrics
    return {
        "qid": q.id,
        "mode": mode,
        "model": model,
        "question": q.question,
        "gold": q.answer,
        "answer": answer.text,
        "status": answer.status,
        "error": answer.error,
        "correct": correct,
        "scored_by": scored_by,
        "numeric": asdict(numeric),
        "judge": judged,
        "refusal": is_refusal(answer.text) or (answer.status == "unsure" and not numeric.correct and not cited),
        "evidence_seen": bool(evidence & seen) if evidence else None,
        "evidence_cited": bool(evidence & cited) if evidence else None,
        "citation_precision": (len(cited & evidence) / len(cited)) if cited and evidence else None,
        "citations": [c.model_dump() for c in answer.citations],
        "latency_s": latency,
        "llm_calls": m.llm_calls,
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        "tool_calls": m.tool_calls,
    }


async def _judged(q: EvalQuestion, answer: Answer, judge_llm: LLMClient | None) -> dict[str, str] | None:
    if judge_llm is None or answer.status == "failed":
        return None
    return await judge(judge_llm, q.question, q.answer, answer.text)


def _pages_of(event: Event) -> set[tuple[str, int]]:
    """Pages an event shows the model: tool results' pages, retrieved passages' pages."""
    out: set[tuple[str, int]] = set()
    if event.type == "tool_result":
        for ref in event.data.get("pages", []):
            if m := _PAGE_REF.match(ref):
                out.add((m["doc"], int(m["page"])))
    elif event.type == "retrieval":
        for p in event.data.get("passages", []):
            first, _, last = str(p["pages"]).partition("-")
            for page in range(int(first), int(last or first) + 1):
                out.add((p["doc_id"], page))
    return out


async def _oracle(q: EvalQuestion, researcher: Researcher, emit) -> Answer:
    """The evidence pages handed to the model: an upper bound for retrieval."""
    started = time.monotonic()
    passages = []
    for doc_id, page in q.evidence:
        text = researcher.tools.text(doc_id)
        first, last = text.page_span(page)
        doc = researcher.corpus.get(doc_id)
        passages.append(
            SimpleNamespace(
                doc_id=doc_id,
                pages=str(page),
                start_line=first,
                end_line=last,
                company=doc.company,
                form_type=doc.form_type,
                fiscal_year=doc.fiscal_year,
                fiscal_period=doc.fiscal_period,
                section_path="",
                text=text.page_text(page),
            )
        )
    metrics = RunMetrics(pages_read=len(passages))
    answer = await answer_once(
        q.question,
        passages_prompt(q.question, passages, researcher.llm),
        llm=researcher.llm,
        tools=researcher.tools,
        emit=emit,
        metrics=metrics,
        timeout_s=researcher.settings.time_budget_s,
        mode="oracle",
    )
    answer.metrics.latency_s = round(time.monotonic() - started, 3)
    return answer


async def _closed_book(q: EvalQuestion, researcher: Researcher, emit) -> Answer:
    """No documents at all: a lower bound."""
    started = time.monotonic()
    system = load("closed_book")
    if instructions := researcher.llm.policy.instructions([answer_schema()]):
        system += "\n\n" + instructions
    messages = [{"role": "system", "content": system}, {"role": "user", "content": f"Question: {q.question}"}]
    answer = await answer_once(
        q.question,
        messages,
        llm=researcher.llm,
        tools=researcher.tools,
        emit=emit,
        metrics=RunMetrics(),
        timeout_s=researcher.settings.time_budget_s,
        mode="closed_book",
    )
    answer.metrics.latency_s = round(time.monotonic() - started, 3)
    return answer
