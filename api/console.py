"""Terminal rendering of a run: one line per step as events arrive, then the cited answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent.answer import Answer, Comparison
from agent.events import Event

_MARK = {True: "✓", False: "✗", None: "·"}


def _args(arguments: dict[str, Any] | None) -> str:
    if arguments is None:
        return "<invalid JSON>"
    text = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    return text if len(text) <= 140 else text[:139] + "…"


class TracePrinter:
    """Turns run events into short trace lines (written to `write`, e.g. stderr)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.started = time.monotonic()

    def __call__(self, event: Event) -> None:
        line = self.line(event)
        if line:
            prefix = f"[{time.monotonic() - self.started:6.1f}s]" + (f" {event.arm:<7}" if event.arm else "")
            who = "" if event.agent == "main" else f" {event.agent}"
            self.write(f"{prefix}{who} {line}")

    def line(self, event: Event) -> str | None:
        d = event.data
        match event.type:
            case "run_started":
                memory = d.get("memory")
                remembered = (
                    f" (memory of {memory['memory_turns']} earlier turns, ~{memory['memory_tokens']:,} tokens"
                    + (f", {memory['memory_summarized']} summarized)" if memory["memory_summarized"] else ")")
                    if memory
                    else ""
                )
                return f"▶ {d['mode']}: {d['question']}{remembered}"
            case "status" if d.get("after"):
                return f"waiting for the thread's previous turn (run {d['after']}) to end"
            case "condense":
                return f"condensed to: {d['condensed']}"
            case "retrieval":
                pages = ", ".join(f"{p['doc_id']} p.{p['pages']}" for p in d["passages"][:6])
                return f"retrieved {len(d['passages'])} passages: {pages}{' …' if len(d['passages']) > 6 else ''}"
            case "model_turn":
                calls = "; ".join(f"{c['name']}({_args(c['arguments'])})" for c in d["tool_calls"]) or "(text reply)"
                usage = d.get("usage") or {}
                return f"turn {d['step']} ({usage.get('prompt_tokens', 0):,}→{usage.get('completion_tokens', 0):,} tokens, {d['seconds']:.1f}s): {calls}"
            case "tool_result":
                return (
                    f"  {'✓' if d['ok'] else '✗'} {d['name']} {d['seconds']:.2f}s ~{d['tokens']:,} tokens: {d['summary'][:150]}"
                )
            case "subagent_started":
                return f"↳ {d['agent']} researches: {d['question']}"
            case "subagent_finished":
                return f"↲ {d['agent']} {d['status']} ({d['citations']} citations)"
            case "compaction":
                return (
                    f"compacted {len(d['observations'])} earlier results: {d['tokens_before']:,} → {d['tokens_after']:,} tokens"
                )
            case "budget":
                return f"⏱ budget ran out ({d['reason']}); answering from the evidence so far"
            case "citation_check":
                return f"citations checked: {d['checked']}" + (
                    f", {len(d['failed'])} failed: " + "; ".join(d["failed"]) if d["failed"] else ", all good"
                )
            case "error":
                return f"error ({d['kind']}): {d['message']}"
        return None


def answer_text(answer: Answer, title: str | None = None) -> str:
    """The answer with its status, checked citations, warnings and metrics, for the terminal."""
    m = answer.metrics
    lines = [f"== {title or answer.mode} · {answer.status} ==", answer.text, ""]
    if answer.condensed_question:
        lines.insert(1, f"(answered as: {answer.condensed_question})")
    if answer.citations:
        lines.append("Citations:")
        for c in answer.citations:
            quote = f' "{c.quote[:120]}"' if c.quote else ""
            problem = f" — {c.problem}" if c.problem else ""
            lines.append(f"  {_MARK[c.verified]} {c.label()}{quote}{problem}")
    for warning in answer.warnings:
        lines.append(f"warning: {warning}")
    lines.append(
        f"({m.latency_s:.1f}s, {m.llm_calls} LLM calls, {m.prompt_tokens:,}+{m.completion_tokens:,} tokens, "
        f"{m.tool_calls} tool calls, {m.pages_read} pages{f', {m.subagents} sub-agents' if m.subagents else ''}"
        f"{f', memory {m.memory_tokens:,} tokens of {m.memory_turns} turns' if m.memory_turns else ''})"
    )
    return "\n".join(lines)


def result_text(result: Answer | Comparison) -> str:
    if isinstance(result, Comparison):
        return answer_text(result.agentic, "agentic") + "\n\n" + answer_text(result.rag, "rag")
    return answer_text(result)
