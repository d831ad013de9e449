"""Settings of the research API server (SLEUTH_API_ variables or a .env file), and get_settings(): every section in one object."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.settings import AgentSettings, LLMSettings
from api.exports.settings import ExportSettings
from corpus.edgar.settings import EdgarSettings
from corpus.settings import CorpusSettings
from embedded.settings import LocalModelSettings
from retrieval.settings import RetrievalSettings
from tools.settings import ToolSettings


class ApiSettings(BaseSettings):
    """How the server listens, how many runs it takes, and the bounds every request must stay within."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_API_", env_file=".env", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback needs an API key (`sleuth keys create`).")
    port: int = Field(8000, ge=1, le=65535, description="Port to bind.")
    workers: int = Field(1, ge=1, le=64, description="Server processes (each runs its own pool of research runs).")
    max_running: int = Field(
        4, ge=1, le=256, description="Research runs executing at once per process; the rest wait in the queue."
    )
    max_queued: int = Field(1000, ge=1, description="Runs that may wait in the queue before new ones are refused with 503.")
    upload_max_mb: int = Field(100, ge=1, le=2000, description="Largest filing one upload may carry, in MB.")
    page_dpi: int = Field(144, ge=36, le=300, description="Resolution of page images (GET /v1/documents/{id}/pages/{n}/image).")
    page_render_timeout_s: float = Field(
        20.0, gt=0, le=300, description="Longest one page render may take; past it the render process is stopped."
    )
    page_render_workers: int = Field(
        3,
        ge=1,
        le=64,
        description="Render processes per server process (one render each at a time; each may use SLEUTH_API_PAGE_RENDER_MEMORY_MB).",
    )
    key_max_renders: int = Field(
        2,
        ge=1,
        le=64,
        description="Page renders one API key (or, open, one client) may wait on at once; past it 429. A page's image and its boxes are two; cached pages cost none.",
    )
    page_render_memory_mb: int = Field(1536, ge=256, le=65536, description="Memory limit of the page render process.")
    key_max_running: int = Field(8, ge=1, description="Runs one API key may have queued or running at once (429 past it).")
    key_rate_per_minute: int = Field(
        600, ge=1, description="Requests one API key (or, open, one client address) may make per minute."
    )
    access_log: bool = Field(False, description="Log every HTTP request (costs CPU under load; /metrics counts them anyway).")
    plan_expiry_min: float = Field(
        60.0,
        gt=0,
        le=10_080,
        description="Minutes a report run's plan waits for approval (POST /v1/runs/{id}/plan); past it the run is cancelled, "
        "its plan kept.",
    )
    question_max_chars: int = Field(4000, ge=10, le=100_000, description="Longest question accepted.")
    upload_max_files: int = Field(20, ge=1, le=1000, description="Files one upload request may carry.")
    upload_request_max_mb: int = Field(500, ge=1, le=20_000, description="Largest upload request (all its files), in MB.")
    body_max_kb: int = Field(256, ge=1, le=100_000, description="Largest JSON request body, in KB.")
    max_ingesting: int = Field(
        1, ge=1, le=64, description="Upload jobs ingesting at once per process (they do not take run slots)."
    )
    mcp_tool_calls: int = Field(
        8,
        ge=1,
        le=256,
        description="MCP tool calls (grep, read, ...) running at once per process, each in a thread of their own pool; more wait.",
    )
    key_max_tool_calls: int = Field(
        4,
        ge=1,
        le=256,
        description="MCP tool calls one API key (or, open, one client) may have in flight at once; past it a call is refused with an error result.",
    )
    bad_key_per_minute: int = Field(
        30, ge=1, description="Requests with an unknown API key one client address may send per minute."
    )
    models: str = Field(
        "",
        description="Comma-separated model names runs may ask for besides SLEUTH_LLM_MODEL (the endpoint's /models list counts too).",
    )
    model_clients: int = Field(
        8, ge=1, le=256, description="Clients kept for models other than the default (least recently used closed first)."
    )

    chat_reasoning: Literal["reasoning_content", "think", "none"] = Field(
        "reasoning_content",
        description="How /v1/chat/completions streams the research steps: as `reasoning_content` deltas (Open WebUI and LibreChat show them as a collapsible thinking block), inside `<think>` tags in the content (clients that read only the content), or not at all.",
    )
    chat_max_messages: int = Field(
        400, ge=2, le=10_000, description="Most messages one /v1/chat/completions request may carry (400 past it)."
    )
    chat_body_max_kb: int = Field(
        2048,
        ge=1,
        le=100_000,
        description="Largest /v1/chat/completions request body, in KB (a chat client sends the whole conversation each time).",
    )
    chat_replay_turns: int = Field(
        20,
        ge=1,
        le=200,
        description="Earlier exchanges of a chat that matches no thread, kept as turns of the new thread it starts; older ones are folded into one summarized turn.",
    )

    def model_names(self) -> list[str]:
        return [m.strip() for m in self.models.split(",") if m.strip()]


class Settings(BaseModel):
    """Sleuth's whole configuration: one section per layer, each read from its own SLEUTH_<SECTION>_ variables or a .env file."""

    model_config = ConfigDict(frozen=True)

    corpus: CorpusSettings = Field(
        default_factory=CorpusSettings, description="Data directory, catalog database and ingest limits."
    )
    edgar: EdgarSettings = Field(default_factory=EdgarSettings, description="Fetching filings from SEC EDGAR (`sleuth fetch`).")
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings, description="Chunking, BM25, embeddings, fusion, reranking, the index and Milvus."
    )
    tools: ToolSettings = Field(default_factory=ToolSettings, description="Time limits and output caps of the agent's tools.")
    agent: AgentSettings = Field(
        default_factory=AgentSettings, description="Budgets of agent runs, sub-agents, compaction and RAG."
    )
    llm: LLMSettings = Field(
        default_factory=LLMSettings, description="The model endpoint (OpenAI-compatible; vLLM in production)."
    )
    embedded: LocalModelSettings = Field(
        default_factory=LocalModelSettings, description="The embedded CPU model used when no endpoint is set."
    )
    export: ExportSettings = Field(
        default_factory=ExportSettings, description="Exports of runs: processes, time, text, figure rows and page images."
    )
    api: ApiSettings = Field(
        default_factory=ApiSettings, description="The research API server: binding, queues, per-key limits, input bounds."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Every section, read once per process; after changing the environment, get_settings.cache_clear() (tests, each command)."""
    return Settings()


Section = TypeVar("Section", bound=BaseSettings)


def with_overrides(section: Section, **overrides: object) -> Section:
    """The section with these fields changed and validated; fields the environment set still count as set."""
    return type(section).model_validate(section.model_dump(include=section.model_fields_set) | overrides)
