"""The lenient policy, for small models (the embedded one, endpoints configured for text tool calls).

What it does that the strict policy does not, each at a named point of agent.policy.Policy:
- tool calls written as text are parsed (agent.toolcalls), optionally constrained to one JSON call per reply;
- an answer call written flat, or with one citation as an object, is taken as meant;
- a near-miss doc_id ('ADBE_2017_10K') is taken as the one filing it can mean (tools.near_miss);
- loops are broken (agent.loops): a call repeated after its error is called out, then not run again (the call its
  error suggests runs instead), a call repeated after its result is sent back to that result, and a tool whose call
  keeps coming back sits out a turn;
- the embedded model's crashes are explained.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from agent.drafts import ANSWER_TOOL
from agent.llm import LLMResponse, ToolCallRequest
from agent.loops import REPEAT_LIMIT, call_key, refusal, repeated, suggested_call
from agent.policy import Explain, PlannedCall, Policy
from agent.state import SUBQUESTION_TOOL, call_label
from agent.toolcalls import parse_tool_calls, tool_call_instructions

if TYPE_CHECKING:
    from agent.settings import LLMSettings
    from tools.context import ToolContext

REPEATED_FAILURE = "You made exactly this call before and it failed the same way; change the arguments or use another tool.\n"


@dataclass(frozen=True)
class LoopMemory:
    """What the lenient policy remembers of a run's calls (kept in the graph state; replaced, never changed in place)."""

    failures: dict[str, tuple[int, str]] = field(default_factory=dict)  # call_key -> (times it failed identically, last error)
    succeeded: dict[str, int] = field(default_factory=dict)  # call_key -> times a call that succeeded was made
    withheld: frozenset[str] = frozenset()  # tools left out of the next model turn (their call kept coming back)


class LenientPolicy(Policy):
    name = "lenient"

    def __init__(self, settings: LLMSettings, explain: Explain | None = None) -> None:
        self.settings = settings
        self._explain = explain

    # --- the client ---

    def request_fields(self, tools: list[dict[str, Any]], tool_choice: str | dict[str, Any]) -> dict[str, Any]:
        if tools and self.settings.tool_mode == "text" and self.settings.constrain_text_calls and tool_choice != "none":
            return {"response_format": text_call_format(tools, tool_choice)}
        return {}

    def read_reply(self, response: LLMResponse, tools: list[dict[str, Any]]) -> None:
        """Models without native tool calls write them as JSON in text; turn those into tool calls."""
        if not tools or self.settings.tool_mode == "native" or response.tool_calls or not response.content:
            return
        parsed = parse_tool_calls(response.content, {t["function"]["name"] for t in tools})
        if parsed.calls or parsed.errors:
            response.tool_calls = [
                ToolCallRequest(c.id, c.name, c.arguments, json.dumps(c.arguments), from_text=True) for c in parsed.calls
            ]
            response.text_call_errors = parsed.errors
            response.content = parsed.remaining_text

    def explain(self, began: float) -> str | None:
        return self._explain(began) if self._explain is not None else None

    # --- prompts ---

    def instructions(self, schemas: list[dict[str, Any]]) -> str:
        return tool_call_instructions(schemas) if self.settings.tool_mode == "text" else ""

    def tool_context(self, tools: ToolContext) -> ToolContext:
        return tools.with_doc_id_guessing(True)

    # --- the graph ---

    def transcript_message(self, response: LLMResponse) -> dict[str, Any]:
        """Calls written in text are kept in canonical <tool_call> form."""
        message = response.assistant_message()
        written = [c for c in response.tool_calls if c.from_text]
        if written:
            blocks = "".join(
                f"\n<tool_call>{json.dumps({'name': c.name, 'arguments': c.arguments})}</tool_call>" for c in written
            )
            message["content"] = (response.content or "") + blocks
        return message

    def answer_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """An answer call as a small model plainly means it: one citation given flat (answer(doc_id=..., page=..., quote=...),
        seen twelve turns in a row from the embedded model) or as a dict instead of a list; without answer text, the quote."""
        args = dict(arguments)
        flat = {k: args.pop(k) for k in ("doc_id", "page", "quote") if k in args}
        cites = args.pop("citations", args.pop("citation", None))
        if isinstance(cites, dict):
            cites = [cites]
        if "doc_id" in flat and "page" in flat:
            cites = [*(cites if isinstance(cites, list) else []), flat]
        if cites is not None:
            args["citations"] = cites
        if not str(args.get("answer") or "").strip() and isinstance(flat.get("quote"), str) and flat["quote"].strip():
            args["answer"] = flat["quote"]
        return args

    def offered(self, schemas: list[dict[str, Any]], memory: LoopMemory | None) -> list[dict[str, Any]]:
        if memory is None or not memory.withheld:
            return schemas
        kept = [s for s in schemas if s["function"]["name"] not in memory.withheld]
        return kept if any(s["function"]["name"] != ANSWER_TOOL for s in kept) else schemas

    def plan(
        self, planned: list[PlannedCall], memory: LoopMemory | None, in_view: set[str], tools: set[str]
    ) -> tuple[list[PlannedCall], LoopMemory]:
        """The withheld tools are cleared each turn; calls that keep failing or repeat a result in view are not run."""
        memory = memory or LoopMemory()
        failures, succeeded, withheld = dict(memory.failures), dict(memory.succeeded), set[str]()
        planned = [_break_loop(p, failures, withheld, tools) for p in planned]
        planned = [_no_repeat(p, succeeded, in_view, withheld) for p in planned]
        return planned, LoopMemory(failures, succeeded, frozenset(withheld))

    def review(self, planned: list[PlannedCall], outcomes: list[Any], memory: LoopMemory | None) -> LoopMemory:
        """Remember what succeeded and what failed; a call that failed the same way before is called out as such."""
        memory = memory or LoopMemory()
        failures, succeeded = dict(memory.failures), dict(memory.succeeded)
        for p, outcome in zip(planned, outcomes, strict=True):
            if p.note or p.refused is not None:
                continue
            key = call_key(p.runs.name, p.runs.arguments)
            if outcome.ok and p.runs.name != SUBQUESTION_TOOL:
                succeeded[key] = 1
            elif not outcome.ok:
                count, _text = failures.get(key, (0, ""))
                failures[key] = (count + 1, outcome.text)
                if count:  # small models repeat a failing call verbatim; say so plainly
                    outcome.text = REPEATED_FAILURE + outcome.text
        return LoopMemory(failures, succeeded, memory.withheld)


def _break_loop(p: PlannedCall, failures: dict[str, tuple[int, str]], withheld: set[str], tools: set[str]) -> PlannedCall:
    """A call that already failed twice identically is not run again: the call its error suggests runs instead, or the
    model is told what to do; a tool whose failing call keeps coming back is left out of the next turn's tools."""
    key = call_key(p.call.name, p.call.arguments)
    count, text = failures.get(key, (0, ""))
    if p.refused is not None or count < REPEAT_LIMIT:
        return p
    failures[key] = (count + 1, text)
    if count > REPEAT_LIMIT:
        withheld.add(p.call.name)
    redirect = suggested_call(text, tools - {ANSWER_TOOL, SUBQUESTION_TOOL}, key)
    message = refusal(p.call.name, text, count, redirect)
    if redirect is None:
        withheld.add(p.call.name)  # one turn without the tool: the model has to take another way
        return replace(p, refused=message)
    return replace(p, runs=ToolCallRequest(p.call.id, redirect[0], redirect[1], from_text=p.call.from_text), note=message)


def _no_repeat(p: PlannedCall, succeeded: dict[str, int], in_view: set[str], withheld: set[str]) -> PlannedCall:
    """A call that already succeeded, with its result still in the transcript (not compacted), is not run again: the
    model is sent back to that result; asked a second time, the tool is left out of the next turn."""
    key = call_key(p.runs.name, p.runs.arguments)
    count = succeeded.get(key, 0)
    if p.refused is not None or not count or call_label(p.runs) not in in_view:
        return p
    succeeded[key] = count + 1
    if count >= REPEAT_LIMIT:
        withheld.add(p.runs.name)
    return replace(p, refused=repeated(p.runs.name, count))


def text_call_format(tools: list[dict[str, Any]], tool_choice: str | dict[str, Any] = "auto") -> dict[str, Any]:
    """A response_format whose JSON schema admits one {"name", "arguments"} call of the given tools (or the named one)."""
    names = [t["function"]["name"] for t in tools]
    if isinstance(tool_choice, dict) and tool_choice.get("function", {}).get("name") in names:
        names = [tool_choice["function"]["name"]]
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "enum": names}, "arguments": {"type": "object"}},
        "required": ["name", "arguments"],
    }
    return {"type": "json_object", "schema": schema}
