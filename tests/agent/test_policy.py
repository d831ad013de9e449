"""The model policy: a strict run runs the model's calls exactly as asked and touches no small-model code; a lenient run
forgives (text calls, flat answers, near-miss doc_ids, loops)."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agent.llm import LLMClient
from agent.policy import STRICT
from agent.settings import LLMSettings
from tests.agent.test_research import CAPEX_CITATION, ask
from tests.fakes.fake_llm import FakeLLM, Reply

ROOT = Path(__file__).resolve().parents[2]
# Everything that exists for small models; a strict run must not run a line of it.
LENIENT_FILES = {str(ROOT / p) for p in ("agent/lenient.py", "agent/toolcalls.py", "agent/loops.py", "tools/near_miss.py")}
BAD_READ = ("read", {"doc_id": "3M_2018_10K", "lines": "99999999"})
NEAR_MISS = ("outline", {"doc_id": "3M_2018_10-K"})
FLAT_ANSWER = ("answer", CAPEX_CITATION)  # answer(doc_id=, page=, quote=): the embedded model's way, twelve turns in a row


def traced(run):
    """Run `run()` with every Python function call on every thread recorded; returns (its result, the files called)."""
    files: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            files.add(frame.f_code.co_filename)

    import agent.graph

    shared = agent.graph.TOOL_THREADS  # its threads may predate the profiler: the run gets a pool whose threads start inside it
    agent.graph.TOOL_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="traced-tool")
    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        result = run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        agent.graph.TOOL_THREADS.shutdown()
        agent.graph.TOOL_THREADS = shared
    return result, files


def script() -> list[Reply]:
    """A small model's habits: a near-miss doc_id, one failing call three times, an answer written flat, then a proper one."""
    proper = ("answer", {"answer": "Capex was $1,577 million.", "citations": [CAPEX_CITATION]})
    return (
        [Reply(tool_calls=[NEAR_MISS])]
        + [Reply(tool_calls=[BAD_READ])] * 3
        + [Reply(tool_calls=[FLAT_ANSWER]), Reply(tool_calls=[proper])]
    )


@pytest.mark.financebench
def test_a_strict_run_runs_every_call_as_asked_and_no_small_model_code(tools, agent_settings):
    settings = agent_settings.model_copy(update={"time_budget_s": 900})  # the profiler slows every call down
    with FakeLLM(script()) as fake:
        (result, _), called = traced(lambda: ask("What was 3M's FY2018 capex?", fake, tools, settings))
        assert len(fake.requests) == 6, result
        replies = [fake.requests[n]["messages"][-1]["content"] for n in range(1, 6)]
        offered = [t["function"]["name"] for t in fake.requests[4]["tools"]]
    assert not called & LENIENT_FILES, sorted(called & LENIENT_FILES)
    assert replies[0].startswith("Error: No document with doc_id '3M_2018_10-K'. Closest doc_ids: 3M_2018_10K")  # not rewritten
    assert all(r.startswith("Error: lines='99999999' is out of range") for r in replies[1:4])  # run each time, as asked
    assert "read" in offered  # no tool withheld
    assert replies[4].startswith("Error: invalid arguments for answer: answer: Field required")  # the flat answer is not reshaped
    assert result.status == "answered" and result.metrics.tool_calls == 4
    assert [s.ok for s in result.steps] == [False, False, False, False]


@pytest.mark.financebench
def test_a_lenient_run_of_the_same_script_forgives_and_runs_the_small_model_code(tools, agent_settings):
    # The counterpart that shows the tracer sees the lenient code when it runs.
    settings = agent_settings.model_copy(update={"time_budget_s": 900})
    with FakeLLM(script()) as fake:
        (result, _), called = traced(lambda: ask("What was 3M's FY2018 capex?", fake, tools, settings, llm={"policy": "lenient"}))
        replies = [fake.requests[n]["messages"][-1]["content"] for n in range(1, 5)]
    assert {str(ROOT / p) for p in ("agent/lenient.py", "agent/loops.py", "tools/near_miss.py")} <= called
    assert "note: there is no doc_id '3M_2018_10-K'; this is 3M_2018_10K" in replies[0]
    assert replies[2].startswith("You made exactly this call before and it failed the same way")
    assert replies[3].startswith("This exact read call has failed 2 times")
    assert result.status == "answered" and len(fake.requests) == 5  # the flat answer was taken as meant
    assert result.metrics.tool_calls == 3  # the third identical failing read was not run


def test_the_policy_follows_the_llm_settings():
    endpoint = {"base_url": "http://127.0.0.1:9/v1"}
    assert LLMSettings(**endpoint).tool_mode == "native" and not LLMSettings(**endpoint).lenient
    assert LLMClient(LLMSettings(**endpoint)).policy is STRICT
    assert LLMClient(LLMSettings(**endpoint, tool_mode="text")).policy.name == "lenient"
    assert LLMClient(LLMSettings(**endpoint, tool_mode="auto")).policy.name == "lenient"
    assert LLMClient(LLMSettings(**endpoint, policy="lenient")).policy.name == "lenient"
    with pytest.raises(ValueError, match="policy strict needs tool_mode native"):
        LLMSettings(**endpoint, policy="strict", tool_mode="text")


def test_the_strict_path_imports_no_small_model_module():
    code = (
        "import sys, agent.session, embedded.endpoint\n"
        "from agent.llm import LLMClient\nfrom agent.settings import LLMSettings\n"
        "LLMClient(LLMSettings(base_url='http://127.0.0.1:9/v1'))\n"
        "print(sorted(m for m in ('agent.lenient', 'agent.toolcalls', 'agent.loops', 'tools.near_miss') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
    assert out.stdout.strip() == "[]"
