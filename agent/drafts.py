"""The `answer` tool the model finishes with, the draft it yields, and turning a draft into checked citations."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agent.answer import AnswerChart, AnswerCitation
from agent.answer_chart import CHART_DESCRIPTION, ChartArgs, chart_args, checked_chart
from agent.citations import TextOf, check_citation, inline_citations, problems
from agent.llm import LLMResponse, ToolCallRequest
from agent.policy import STRICT, Policy
from corpus.errors import validation_problems

ANSWER_TOOL = "answer"


class CitationArgs(BaseModel):
    doc_id: str = Field(description="The filing's doc_id, e.g. 3M_2018_10K.")
    page: int = Field(description="1-based page that shows the figure or statement.")
    quote: str = Field("", description="Short verbatim text from that page: the figure as printed with its label.")


class AnswerArgs(BaseModel):
    answer: str = Field(
        description="The answer: the figure with its unit (or yes/no) first, then the arithmetic or reasoning briefly."
    )
    status: Literal["answered", "unsure"] = Field(
        "answered", description="unsure when the evidence is incomplete, ambiguous or not found."
    )
    citations: list[CitationArgs] = Field(default_factory=list, description="One entry per figure or fact used.")
    chart: dict[str, Any] | None = Field(None, description=CHART_DESCRIPTION)  # checked by answer_chart.chart_args: a lean schema


@cache
def answer_schema() -> dict[str, Any]:
    """The answer tool's schema, built once and shared: do not mutate it."""
    parameters = AnswerArgs.model_json_schema()
    return {
        "type": "function",
        "function": {
            "name": ANSWER_TOOL,
            "description": "Give the final answer with its citations. Call it once, when the research is done.",
            "parameters": parameters,
        },
    }


@dataclass
class Draft:
    """The answer the model proposed, before its citations are checked."""

    text: str
    status: str = "answered"
    citations: list[AnswerCitation] = field(default_factory=list)
    inline: bool = False  # citations parsed from [DOC p.N] markers in text: only their figures can be checked
    call: ToolCallRequest | None = None  # the answer tool call, when the model used it
    chart_args: ChartArgs | None = None  # the chart the model attached, before its points are checked
    chart: AnswerChart | None = None  # ... and after (set by check_draft)


def draft_from_call(call: ToolCallRequest, policy: Policy = STRICT) -> Draft | str:
    """The draft from an `answer` call, or an error message for the model when its arguments do not fit (as far as the
    policy forgives their shape)."""
    if call.arguments is None:
        return f"Error: the answer tool's arguments are not valid JSON ({call.raw_arguments[:120]!r}); send a JSON object."
    try:
        args = AnswerArgs.model_validate(policy.answer_arguments(call.arguments))
    except ValidationError as exc:
        issues = validation_problems(exc.errors(), "arguments")
        return (
            f'Error: invalid arguments for answer: {issues}. Call it as answer(answer="<the figure with its unit first, '
            'then how you got it>", citations=[{"doc_id": "<doc_id>", "page": <page>, "quote": "<label and figure as printed>"}]).'
        )
    citations = [AnswerCitation(doc_id=c.doc_id, page=c.page, quote=c.quote) for c in args.citations]
    chart = chart_args(args.chart)
    if isinstance(chart, str):
        return chart
    return Draft(args.answer.strip(), args.status, citations, call=call, chart_args=chart)


def draft_from_text(text: str, is_doc: Any) -> Draft:
    """A plain-text final reply: its [DOC p.N] markers become citations."""
    return Draft(text.strip(), "answered", inline_citations(text, is_doc), inline=True)


# An `answer` call written as text (```json fence, <tool_call> tags or bare JSON) that did not parse, typically because the
# reply was cut at max_tokens (seen on vLLM with a 1.5B model): its answer string and any whole citation objects.
_ANSWER_CALL = re.compile(r'"name"\s*:\s*"answer"\s*,\s*"arguments"\s*:\s*\{\s*"answer"\s*:\s*"((?:[^"\\]|\\.)*)("?)', re.S)
_CITATION = re.compile(
    r'\{\s*"doc_id"\s*:\s*"([^"\\]+)"\s*,\s*"page"\s*:\s*(\d+)\s*(?:,\s*"quote"\s*:\s*"((?:[^"\\]|\\.)*)"\s*)?\}'
)


def salvaged_answer_call(text: str) -> Draft | None:
    """The draft inside an `answer` call the model wrote as text but that did not parse (cut off, or malformed after the
    answer string): the answer as far as it was written, marked unsure, with the citations written whole."""
    match = _ANSWER_CALL.search(text)
    if match is None:
        return None
    raw = match.group(1).rstrip("\\")
    try:
        answer = json.loads(f'"{raw}"')
    except ValueError:
        answer = raw
    if not match.group(2):
        answer = answer.rstrip() + " [cut off]"
    citations = [
        AnswerCitation(doc_id=c[0], page=int(c[1]), quote=json.loads(f'"{c[2]}"') if c[2] else "")
        for c in _CITATION.findall(text[match.end() :])
    ]
    return Draft(answer.strip(), "unsure", citations)


def draft_from_response(response: LLMResponse, is_doc: Any, policy: Policy = STRICT) -> Draft | str | None:
    """The draft in a final-answer turn (answer call or plain text); an error string to send back; None when there is neither."""
    for call in response.tool_calls:
        if call.name == ANSWER_TOOL:
            return draft_from_call(call, policy)
    if response.content.strip():
        return salvaged_answer_call(response.content) or draft_from_text(response.content, is_doc)
    return None


def check_draft(draft: Draft, text_of: TextOf) -> tuple[list[AnswerCitation], list[str]]:
    """Checked citations and one warning per failed one."""
    checked = [check_citation(c, text_of, figures_only=draft.inline) for c in draft.citations]
    draft.chart, chart_problems = checked_chart(draft.chart_args, text_of)
    return checked, problems(checked) + chart_problems


def settle(draft: Draft, checked: list[AnswerCitation], problems: list[str], warnings: list[str]) -> tuple[str, list[str]]:
    """Final status and warnings: an answer with failed citations, or none at all, is not `answered` but `unsure`."""
    status, warnings = draft.status, warnings + problems
    if status == "answered" and problems:
        status = "unsure"
    if status == "answered" and not checked:
        status, warnings = "unsure", warnings + ["the answer cites no page of any filing"]
    return status, warnings
