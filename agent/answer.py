"""The structured answer every mode returns: text, status, checked citations, steps and metrics."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from corpus.folios import page_label

Status = Literal["answered", "unsure", "truncated", "failed", "cancelled"]
Mode = Literal["agentic", "rag", "report", "oracle", "closed_book"]  # the last two only in evaluations


class AnswerCitation(BaseModel):
    """A cited page; `verified` is the citation check's verdict (None: nothing on the page to check against)."""

    doc_id: str
    page: int
    lines: str | None = None  # "120-124", document line numbers
    quote: str = ""
    verified: bool | None = None
    problem: str | None = None
    printed: str | None = None  # the page number printed on the page ("79" on PDF page 81), when it can be read

    def label(self) -> str:
        """'3M_2018_10K p.81, printed 79 l.120-124'; the PDF page alone when its folio cannot be read."""
        return f"{self.doc_id} {page_label(self.page, self.printed)}" + (f" l.{self.lines}" if self.lines else "")


class ToolRecord(BaseModel):
    """One tool call the run made, as the answer's trace reports it (a model turn is a step of the budgets, not this)."""

    agent: str = "main"
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    summary: str = ""
    seconds: float = 0.0


class RunMetrics(BaseModel):
    latency_s: float = 0.0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: int = 0
    pages_read: int = 0
    subagents: int = 0
    compactions: int = 0
    memory_tokens: int = 0  # a follow-up: the thread's research memory in its prompt (agent.memory)
    memory_turns: int = 0  # earlier turns the memory covers
    memory_summarized: int = 0  # of those, turns shortened or left out to fit SLEUTH_AGENT_THREAD_MEMORY_TOKENS

    def add_usage(self, usage: Any) -> None:
        """Add an agent.llm.Usage."""
        self.llm_calls += usage.calls
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens

    def absorb(self, other: RunMetrics) -> None:
        """Add a sub-agent's work (its LLM calls, tokens, tool calls and own sub-agents)."""
        self.llm_calls += other.llm_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.tool_calls += other.tool_calls
        self.subagents += 1 + other.subagents
        self.compactions += other.compactions


class ChartPoint(BaseModel):
    """One point of an answer's chart: a period's value and the page that prints it (checked like a citation)."""

    label: str
    value: float
    doc_id: str
    page: int
    quote: str = ""
    verified: bool | None = None


class AnswerChart(BaseModel):
    """A chart attached to an answer: a title, the values' unit and a series of cited points."""

    title: str
    unit: str
    kind: Literal["line", "bar"] = "line"
    points: list[ChartPoint] = Field(default_factory=list)


class Answer(BaseModel):
    mode: Mode
    question: str
    text: str
    status: Status
    citations: list[AnswerCitation] = Field(default_factory=list)
    steps: list[ToolRecord] = Field(default_factory=list)  # the tool calls made, in order (the wire name stays `steps`)
    metrics: RunMetrics = Field(default_factory=RunMetrics)
    warnings: list[str] = Field(default_factory=list)  # failed citations, budgets that ran out, ...
    error: str | None = None  # why a failed run failed, for the user
    chart: AnswerChart | None = None  # a trend the answer describes, every point cited
    report: Report | None = None  # mode "report": the plan and the memo's structure (agent/report.py)
    condensed_question: str | None = None  # RAG follow-up: the question rewritten to stand alone, which was retrieved for


class Comparison(BaseModel):
    """Compare mode: both arms on the same question."""

    question: str
    agentic: Answer
    rag: Answer


from agent.report import Report  # noqa: E402  (agent.report imports this module's AnswerChart and Status)

Answer.model_rebuild()
