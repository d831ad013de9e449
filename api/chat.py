"""Sleuth as a model for any OpenAI client: the bodies of /v1/models and /v1/chat/completions, a chat's messages read as
a conversation (earlier exchanges and the question now), and a run's steps and answer as chat-completion messages.

The steps stream as `reasoning_content` deltas (what Open WebUI and LibreChat show as a collapsible "thinking" block), or
inside `<think>` tags in the content for clients that read only the content (SLEUTH_API_CHAT_REASONING).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.events import Event
from api.console import TracePrinter

MODELS = {"sleuth-agentic": "agentic", "sleuth-rag": "rag", "sleuth-compare": "compare"}  # model id -> run mode
DESCRIPTIONS = {
    "sleuth-agentic": "The research agent: finds the filing, reads it like an analyst, answers with checked page citations.",
    "sleuth-rag": "Classic RAG: retrieve passages, then answer with citations.",
    "sleuth-compare": "Both: the agent's answer and RAG's, side by side.",
}
ReasoningStyle = Literal["reasoning_content", "think", "none"]
THREAD_LINK = re.compile(r"#/threads/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
THINK = re.compile(r"<think>.*?</think>\s*", re.DOTALL)
SOURCES_RULE = "\n\n---\n**Sources**"
STARTED = int(time.time())


class ChatMessage(BaseModel):
    """One message of the chat; content is text or OpenAI's list of parts (only text parts are read)."""

    model_config = ConfigDict(extra="allow")  # name, tool_calls, ...: accepted and ignored

    role: str = Field(max_length=32)
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """POST /v1/chat/completions: the fields Sleuth reads; the rest (temperature, top_p, user, ...) are accepted and ignored,
    since the research budgets, not sampling settings, shape an answer."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(max_length=200, description="sleuth-agentic, sleuth-rag or sleuth-compare (GET /v1/models).")
    messages: list[ChatMessage] = Field(description="The conversation so far; the last one is the user's question.")
    stream: bool = Field(False, description="Send chat.completion.chunk Server-Sent Events: the research steps, then the answer.")
    stream_options: StreamOptions | None = None


class ChatProblem(Exception):
    """A request Sleuth cannot answer as sent: an OpenAI-style 400 (or `status`) with `code`."""

    def __init__(self, message: str, code: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def model_list() -> dict[str, Any]:
    return {"object": "list", "data": [model_card(name) for name in MODELS]}


def model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": STARTED, "owned_by": "sleuth", "description": DESCRIPTIONS[name]}


def mode_of(model: str) -> str:
    """The run mode a chat model id names; 400 listing the models otherwise."""
    if model not in MODELS:
        raise ChatProblem(f"model {model[:100]!r} does not exist here; the models are {', '.join(MODELS)}", "model_not_found")
    return MODELS[model]


# --- the conversation ---


@dataclass
class Exchange:
    """An earlier turn of the chat: the user's question and the assistant's answer as the client shows it."""

    question: str
    answer: str = ""


@dataclass
class Conversation:
    earlier: list[Exchange]
    question: str
    thread_hint: str | None = None  # the thread a Sleuth answer in the history links to (#/threads/<id>)
    questions: list[str] = field(default_factory=list)  # the earlier questions, whitespace-normalized

    def __post_init__(self) -> None:
        self.questions = [normalized(e.question) for e in self.earlier]


def normalized(text: str) -> str:
    return " ".join(text.split())


def conversation(messages: list[ChatMessage], max_messages: int) -> Conversation:
    """The question (the last message, a user's) and the earlier exchanges; system, developer and tool messages are
    skipped (Sleuth has its own instructions). 400 for no messages, too many, or a last message not from the user."""
    if not messages:
        raise ChatProblem("messages is empty: send at least one user message (the question)", "empty_messages")
    if len(messages) > max_messages:
        raise ChatProblem(
            f"{len(messages):,} messages; at most {max_messages:,} are read (SLEUTH_API_CHAT_MAX_MESSAGES): start a new chat",
            "too_many_messages",
        )
    last = messages[-1]
    if last.role != "user":
        raise ChatProblem(f"the last message is from {last.role[:32]!r}; it must be the user's question", "last_message_not_user")
    question = last.text().strip()
    if not question:
        raise ChatProblem("the last user message has no text: ask a question in words", "empty_question")
    earlier: list[Exchange] = []
    hint = None
    pending: Exchange | None = None
    for message in messages[:-1]:
        text = message.text().strip()
        if message.role == "user" and text:
            if pending is not None and not pending.answer:
                pending.question += "\n\n" + text  # two user messages in a row: one question
            else:
                pending = Exchange(text)
                earlier.append(pending)
        elif message.role == "assistant" and text and pending is not None:
            found = THREAD_LINK.findall(text)
            hint = found[-1] if found else hint
            pending.answer = (pending.answer + "\n\n" + THINK.sub("", text)).strip()
    return Conversation(earlier, question, hint)


# --- a run as chat messages ---


def step_line(event: dict[str, Any], printer: TracePrinter) -> str | None:
    """One research step as a line of the reasoning block (the lines `sleuth ask` prints), or None."""
    data = event.get("data") or {}
    if event["type"] == "status":
        status = data.get("status")
        if status == "queued":
            position = f" (position {data['position']})" if data.get("position") else ""
            return f"queued{position}: waiting for a free slot"
        return "researching…" if status == "running" else None
    line = printer.line(Event(event["type"], data, arm=event.get("arm"), agent=event.get("agent") or "main"))
    if line is None:
        return None
    who = "" if (event.get("agent") or "main") == "main" else f"{event['agent']}: "
    arm = f"[{event['arm']}] " if event.get("arm") else ""
    return f"{arm}{who}{line.strip()}"


def answer_markdown(result: dict[str, Any] | None, error: str | None, status: str, base_url: str, thread_id: str | None) -> str:
    """The answer as the chat shows it: the text with numbered markers, then the sources as footnotes (doc_id, page, quote,
    a link to the page image), then a link to the thread in Sleuth's web UI (which also lets a follow-up find it)."""
    if not result:
        body = f"_The research {status}_: {error or 'no answer'}"
        notes: list[str] = []
    elif "agentic" in result and "rag" in result:  # compare: both answers, footnotes numbered across them
        notes = []
        parts = [
            f"**{title}**\n\n{_answer_body(result[arm], notes, base_url)}"
            for arm, title in (("agentic", "Agentic"), ("rag", "RAG"))
        ]
        body = "\n\n".join(parts)
    else:
        notes = []
        body = _answer_body(result, notes, base_url)
    text = body + (SOURCES_RULE + "\n\n" + "\n".join(notes) if notes else "")
    if thread_id:
        text += f"\n\n[Open this research thread in Sleuth]({base_url}/#/threads/{thread_id})"
    return text


def _answer_body(answer: dict[str, Any], notes: list[str], base_url: str) -> str:
    marks = []
    for c in answer.get("citations") or []:
        notes.append(_footnote(len(notes) + 1, c, base_url))
        marks.append(f"[{len(notes)}]")
    status = answer.get("status")
    lead = "" if status == "answered" else f"_({status})_ "
    text = f"{lead}{(answer.get('text') or '').strip()}"
    if marks:
        text += " " + "".join(marks)
    warnings = answer.get("warnings") or []
    if warnings:
        text += "\n\n" + "\n".join(f"> ⚠ {w}" for w in warnings[:5])
    return text


def _footnote(n: int, c: dict[str, Any], base_url: str) -> str:
    mark = {True: "✓", False: "✗"}.get(c.get("verified"), "·")
    printed = f" (printed p. {c['printed']})" if c.get("printed") else ""
    quote = f' "{c["quote"][:300]}"' if c.get("quote") else ""
    image = f"{base_url}/v1/documents/{c['doc_id']}/pages/{c['page']}/image"
    return f"[{n}] {mark} {c['doc_id']}, page {c['page']}{printed}:{quote} ([page image]({image}))"


def usage_of(result: dict[str, Any] | None) -> dict[str, int]:
    """Prompt and completion tokens of the run's model calls (both arms of a compare)."""
    answers = [] if not result else [result[a] for a in ("agentic", "rag") if a in result] or [result]
    prompt = sum(int((a.get("metrics") or {}).get("prompt_tokens") or 0) for a in answers)
    completion = sum(int((a.get("metrics") or {}).get("completion_tokens") or 0) for a in answers)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def finish_reason(status: str) -> str:
    return "length" if status == "truncated" else "stop"


def completion(
    run_id: str, model: str, content: str, reasoning: str | None, status: str, usage: dict[str, int], thread_id: str | None
) -> dict[str, Any]:
    """The chat.completion object of a finished run (its steps, when kept, as the message's reasoning_content)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    return {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(status), "logprobs": None}],
        "usage": usage,
        "sleuth": {"run_id": run_id, "thread_id": thread_id, "status": status},
    }


def chunk(run_id: str, model: str, delta: dict[str, Any] | None, finish: str | None = None, usage: dict | None = None) -> bytes:
    """One chat.completion.chunk as an SSE data line (a usage chunk has no choices)."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def chat_path(path: str) -> bool:
    """Whether a request path is one of the OpenAI-compatible routes (their errors take OpenAI's shape)."""
    return path.startswith("/v1/chat/") or path == "/v1/models" or path.startswith("/v1/models/")


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    kind = {
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        409: "conflict_error",
        413: "invalid_request_error",
        429: "rate_limit_error",
    }.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
