"""Run question files through the modes and models, score each answer, keep results as they finish (resumable)."""

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
from agent.rag import answer_once, passages_prompt
from agent.session import Researcher
from agent.settings import AgentSettings
from corpus.catalog import Corpus
from evals.dataset import EvalQuestion
from evals.judge import judge
from evals.prompts import load
from evals.scoring import is_refusal, numeric_verdict, yes_no

MODES = ("agentic", "rag", "oracle", "closed_book")
_PAGE_REF = re.compile(r"^(?P<doc>\S+) p\.(?P<page>\d+)$")


@dataclass
class EvalConfig:
    modes: tuple[str, ...] = ("agentic", "rag")
    models: tuple[str | None, ...] = (None,)  # None: the endpoint's configured model
    concurrency: int = 4
    tolerance: float = 0.01
    judge_model: str | None = None  # grade with an LLM judge too (None: numeric verifier and yes/no only)
    use_judge: bool = False
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
    questions: list[EvalQuestion],
    config: EvalConfig,
    *,
    corpus: Corpus,
    llm: LLMClient,
    results: Path,
    resume: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
    planned: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every (question, mode, model) not yet in `results`, `concurrency` at a time; each record is appended as it finishes."""
    results.parent.mkdir(parents=True, exist_ok=True)
    skip = done_keys(results) if resume else set()
    if not resume:
        results.write_text("")
    base = Researcher(corpus, llm, config.agent)
    researchers = {model: base if model is None else base.with_model(model) for model in config.models}
    judge_llm = None
    if config.use_judge:
        judge_llm = llm if config.judge_model is None else llm.with_model(config.judge_model)
    tasks = [
        (q, mode, model)
        for q in questions
        for mode in config.modes
        for model in config.models
        if (q.id, mode, _model_name(researchers[model])) not in skip
    ]
    if planned:
        planned(len(tasks))
    gate = asyncio.Semaphore(config.concurrency)
    lock = asyncio.Lock()
    out: list[dict[str, Any]] = []

    async def one(q: EvalQuestion, mode: str, model: str | None) -> None:
        async with gate:
            record = await evaluate(q, mode, researchers[model], config, judge_llm)
        async with lock:
            with results.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(record) + "\n")
            out.append(record)
            if progress:
                progress(record)

    await asyncio.gather(*(one(*t) for t in tasks))
    for model, researcher in researchers.items():
        if model is not None:
            await researcher.llm.close()
    if judge_llm is not None and judge_llm is not llm:
        await judge_llm.close()
    return out


def _model_name(researcher: Researcher) -> str:
    return researcher.llm.settings.model


async def evaluate(
    q: EvalQuestion, mode: str, researcher: Researcher, config: EvalConfig, judge_llm: LLMClient | None
) -> dict[str, Any]:
    """One question in one mode: the answer, how it scores, and what the run looked at."""
    seen: set[tuple[str, int]] = set()

    async def emit(event: Event) -> None:
        seen.update(_pages_of(event))

    started = time.monotonic()
    try:
        if mode in ("agentic", "rag"):
            answer = await researcher.ask(q.question, mode, emit=emit)  # type: ignore[arg-type]
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
    return score(q, mode, _model_name(researcher), answer, seen, latency, config.tolerance, await _judged(q, answer, judge_llm))


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
