"""How the agent treats its model: one policy object that the client, the prompts and the graph consult at named points.

`Policy` itself is the strict policy, for capable endpoints: native tool calls, every call run exactly as the model
asked, errors returned to it as observations. The lenient policy (agent.lenient) overrides each point for small models
(the embedded one, or endpoints configured for text tool calls); it is imported only when chosen, so a strict run
never loads or runs any of its code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.llm import LLMResponse, ToolCallRequest
    from agent.settings import LLMSettings
    from tools.context import ToolContext

_THINK = re.compile(r"<(think|thinking)>.*?(?:</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^(?:standalone|rewritten|reformulated)?\s*question\s*:\s*", re.IGNORECASE)

Explain = Callable[[float], "str | None"]  # why the endpoint failed a call begun at a time.time(), when it knows


@dataclass
class PlannedCall:
    """One tool call of a turn as the graph will run it."""

    call: ToolCallRequest  # as the model asked for it: its result message answers this call
    runs: ToolCallRequest  # what runs: the call itself, or (lenient) the call its earlier error suggested
    refused: str | None = None  # the error returned instead of running it
    note: str = ""  # said before the result: why another call ran


class Policy:
    """The strict policy. Each method is a named point where the lenient policy does more."""

    name = "strict"

    # --- the client (agent.llm) ---

    def request_fields(self, tools: list[dict[str, Any]], tool_choice: str | dict[str, Any]) -> dict[str, Any]:
        """Extra fields of a completion request (the lenient policy may constrain the reply to one JSON call)."""
        return {}

    def read_reply(self, response: LLMResponse, tools: list[dict[str, Any]]) -> None:
        """Look at a reply before the agent does (the lenient policy parses tool calls written as text)."""

    def explain(self, began: float) -> str | None:
        """Why the endpoint failed a call begun at time.time() `began`, when the policy knows (the embedded model's crashes)."""
        return None

    # --- prompts ---

    def instructions(self, schemas: list[dict[str, Any]]) -> str:
        """Text for the system prompt on how to call tools (native calls need none)."""
        return ""

    def standalone_question(self, content: str, fallback: str) -> str:
        """The question a condense reply (RAG follow-ups) holds: reasoning blocks, a "Question:" label and quotes taken off;
        its last non-empty line (models that explain first put the question last); `fallback` when nothing is left."""
        lines = [line.strip() for line in _THINK.sub("", content or "").splitlines() if line.strip()]
        if not lines:
            return fallback
        question = _LABEL.sub("", lines[-1]).strip().strip("\"'“”`").strip()
        return question[:2000] or fallback

    def tool_context(self, tools: ToolContext) -> ToolContext:
        """The tool context of a run: strict runs get no near-miss doc_id guessing, a wrong doc_id is an error to learn from."""
        return tools.with_doc_id_guessing(False)

    # --- the graph (agent.graph) ---

    def transcript_message(self, response: LLMResponse) -> dict[str, Any]:
        """The model's turn as the transcript keeps it."""
        return response.assistant_message()

    def answer_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The answer tool's arguments to validate (the lenient policy reshapes what a small model plainly meant)."""
        return arguments

    def offered(self, schemas: list[dict[str, Any]], memory: Any) -> list[dict[str, Any]]:
        """The tools offered in the next model turn."""
        return schemas

    def plan(self, planned: list[PlannedCall], memory: Any, in_view: set[str], tools: set[str]) -> tuple[list[PlannedCall], Any]:
        """The turn's calls as they will run, and the policy's memory of the run after planning them."""
        return planned, memory

    def review(self, planned: list[PlannedCall], outcomes: list[Any], memory: Any) -> Any:
        """Look at the turn's outcomes (the lenient policy remembers calls and labels repeats); returns the new memory."""
        return memory


STRICT = Policy()


def policy_for(settings: LLMSettings, explain: Explain | None = None) -> Policy:
    """The policy the LLM settings choose: strict for native tool calls, lenient for text or auto (or when set)."""
    if not settings.lenient:
        return STRICT
    from agent.lenient import LenientPolicy

    return LenientPolicy(settings, explain)
