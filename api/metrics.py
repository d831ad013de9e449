"""Prometheus metrics of one API process: runs by status, latency, LLM tokens and calls, tool calls, queue."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from agent.answer import Answer, Comparison


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter("sleuth_runs", "Research runs finished, by mode and status.", ["mode", "status"], registry=r)
        self.latency = Histogram(
            "sleuth_run_latency_seconds",
            "Run latency from submit to end.",
            ["mode"],
            registry=r,
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
        )
        self.llm_calls = Counter("sleuth_llm_calls", "LLM calls made by runs.", ["mode"], registry=r)
        self.llm_tokens = Counter("sleuth_llm_tokens", "LLM tokens used by runs.", ["mode", "kind"], registry=r)
        self.tool_calls = Counter("sleuth_tool_calls", "Tool calls made by runs.", ["mode"], registry=r)
        self.events = Counter("sleuth_run_events", "Run events stored and streamed.", registry=r)
        self.running = Gauge("sleuth_runs_running", "Runs executing now.", registry=r)
        self.queue_depth = Gauge("sleuth_runs_queued", "Runs waiting for a slot.", registry=r)
        self.requests = Counter(
            "sleuth_http_requests", "HTTP requests by route (its handler name) and status code.", ["route", "code"], registry=r
        )

    def observe(self, mode: str, result: Answer | Comparison) -> None:
        for answer in [result.agentic, result.rag] if isinstance(result, Comparison) else [result]:
            m = answer.metrics
            self.llm_calls.labels(mode=answer.mode).inc(m.llm_calls)
            self.llm_tokens.labels(mode=answer.mode, kind="prompt").inc(m.prompt_tokens)
            self.llm_tokens.labels(mode=answer.mode, kind="completion").inc(m.completion_tokens)
            self.tool_calls.labels(mode=answer.mode).inc(m.tool_calls)
