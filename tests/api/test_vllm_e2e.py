"""Opt-in: Sleuth served by a real vLLM (the embedded model on this CPU, `make vllm`), end to end through the API.

Run with SLEUTH_TEST_VLLM=1 pytest -k vllm. A vLLM already answering on VLLM_PORT (default 8001) is used; otherwise the
test starts one through scripts/vllm.sh (the script `make vllm` runs: install once, convert the model once, serve), and
stops it at the end. Asserts what must hold for any model (runs end with a status, events are well formed, citations are
checked, usage is counted, a cancelled run's request stops), not that the 1.5B answers right. Follow-ups in threads do
not exist yet. Minutes per run on CPU; the traces land in tests/artifacts/vllm_*.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.financebench,
    pytest.mark.skipif(
        os.environ.get("SLEUTH_TEST_VLLM") != "1", reason="set SLEUTH_TEST_VLLM=1 to run Sleuth against a real vLLM"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PORT = int(os.environ.get("VLLM_PORT", "8001"))
BASE = f"http://127.0.0.1:{PORT}"
START_TIMEOUT_S = float(os.environ.get("SLEUTH_TEST_VLLM_START_S", "3600"))  # a first start installs vLLM (5-15 min) and converts
RUN_TIMEOUT_S = 1500.0
QUESTION = "What was 3M's FY2018 capital expenditure, in USD millions, per the cash flow statement?"
SCOPE = {"doc_ids": ["3M_2018_10K"]}
BUDGETS = {"max_steps": 3, "time_budget_s": 900}  # a turn takes 0.5-2 min on 2 busy cores
STATUSES = {"answered", "unsure", "truncated"}  # a run that ends; "failed" would be a broken integration


def _up() -> bool:
    try:
        return httpx.get(f"{BASE}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def vllm_server():
    """The served model's name at BASE/v1: a running vLLM, or one started here through scripts/vllm.sh (stopped after)."""
    proc = None
    if not _up():
        ARTIFACTS.mkdir(exist_ok=True)
        log = (ARTIFACTS / "vllm_make.log").open("w")
        env = {**os.environ, "VLLM_PORT": str(PORT), "VENV": sys.prefix}
        proc = subprocess.Popen(
            ["scripts/vllm.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _up():
            if proc.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):  # exited by itself: its log says why
                    os.killpg(proc.pid, signal.SIGTERM)
                tail = (ARTIFACTS / "vllm_make.log").read_text()[-3000:]
                pytest.fail(f"scripts/vllm.sh did not bring vLLM up on {BASE} (exit {proc.poll()}):\n{tail}")
            time.sleep(5)
    models = httpx.get(f"{BASE}/v1/models", timeout=10).json()["data"]
    try:
        yield models[0]["id"], models[0].get("max_model_len") or 8192
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=120)


@pytest.fixture
def vllm_client(vllm_server, make_client, sleuth_env, filings_settings):
    """A TestClient over the API, pointed at the vLLM server instead of the fake model (sleuth_env: settings read afresh,
    not the fake model's that make_client cached)."""
    name, window = vllm_server
    settings = sleuth_env(
        SLEUTH_LLM_BASE_URL=f"{BASE}/v1",
        SLEUTH_LLM_MODEL=name,
        SLEUTH_LLM_CONTEXT_TOKENS=window,
        SLEUTH_LLM_TIMEOUT_S=600,
        SLEUTH_LLM_MAX_RETRIES=2,
        SLEUTH_LLM_MAX_TOKENS=320,  # a 1.5B may ramble; ~2-3 min a turn at 2 tok/s
    )
    assert settings.llm.base_url == f"{BASE}/v1", "the app talks to vLLM, not the fake model"
    with make_client(filings_settings) as client:
        yield client


def wait_for(client, run_id: str, timeout: float) -> dict:
    """Poll a run every 2 s (the API's rate limit refuses the fake-model tests' 50 ms polling over minutes) until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = client.get(f"/v1/runs/{run_id}")
        assert reply.status_code == 200, reply.text
        if reply.json()["status"] not in {"queued", "running"}:
            return reply.json()
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not end within {timeout:.0f} s")


def _events(client, run_id: str) -> list[dict]:
    return client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()


def _record(name: str, run: dict, events: list[dict]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"vllm_{name}.json").write_text(json.dumps({"run": run, "events": events}, indent=1))


def _check_answer(answer: dict, metrics: dict) -> None:
    """What holds for any model: a status, citations that were checked against their pages, usage counted."""
    assert answer["status"] in STATUSES, answer
    for citation in answer["citations"]:
        assert citation["doc_id"] and citation["page"] >= 1 and isinstance(citation["verified"], bool), citation
    if answer["status"] == "answered":
        assert any(c["verified"] for c in answer["citations"]), "an answered run has a verified citation"
    assert metrics["llm_calls"] >= 1 and metrics["prompt_tokens"] > 0 and metrics["completion_tokens"] > 0, metrics


def test_vllm_agentic_run_streams_progress_and_counts_usage(vllm_client):
    run_id = vllm_client.post(
        "/v1/runs", json={"question": QUESTION, "mode": "agentic", "filters": SCOPE, "budgets": BUDGETS}
    ).json()["id"]
    run = wait_for(vllm_client, run_id, timeout=RUN_TIMEOUT_S)
    events = _events(vllm_client, run_id)
    _record("agentic", run, events)
    _check_answer(run["result"], run["metrics"]["agentic"])
    assert [int(e["seq"]) for e in events] == list(range(1, len(events) + 1)), "events are numbered without gaps"
    types = [e["type"] for e in events]
    assert types[-1] == "status" and events[-1]["data"]["status"] == run["status"]
    assert "model_progress" in types, "a streamed turn on a CPU model shows as it is written"
    progress = [e["data"] for e in events if e["type"] == "model_progress"]
    assert all(p["tokens"] >= 0 and p["seconds"] >= 0 for p in progress)
    turns = [e["data"] for e in events if e["type"] == "model_turn"]
    assert turns and all(t["usage"]["prompt_tokens"] > 0 for t in turns), "usage comes back in the stream's last chunk"
    assert sum(t["usage"]["completion_tokens"] for t in turns) <= run["metrics"]["agentic"]["completion_tokens"]
    for call in (e["data"] for e in events if e["type"] == "tool_call"):
        assert call["name"] and isinstance(call["arguments"], dict | None)


def test_vllm_rag_and_compare_runs_end_with_checked_citations(vllm_client):
    rag_id = vllm_client.post("/v1/runs", json={"question": QUESTION, "mode": "rag", "filters": SCOPE}).json()["id"]
    rag = wait_for(vllm_client, rag_id, timeout=RUN_TIMEOUT_S)
    _record("rag", rag, _events(vllm_client, rag_id))
    _check_answer(rag["result"], rag["metrics"]["rag"])
    assert rag["metrics"]["rag"]["llm_calls"] == 1

    compare_id = vllm_client.post(
        "/v1/runs", json={"question": QUESTION, "mode": "compare", "filters": SCOPE, "budgets": BUDGETS | {"max_steps": 2}}
    ).json()["id"]
    compare = wait_for(vllm_client, compare_id, timeout=2 * RUN_TIMEOUT_S)
    _record("compare", compare, _events(vllm_client, compare_id))
    assert compare["status"] in STATUSES, compare
    for arm in ("agentic", "rag"):
        _check_answer(compare["result"][arm], compare["metrics"][arm])


def test_vllm_follow_up_in_a_thread_starts_from_the_first_turn(vllm_client):
    first = vllm_client.post("/v1/runs", json={"question": QUESTION, "mode": "rag", "filters": SCOPE}).json()
    wait_for(vllm_client, first["id"], timeout=RUN_TIMEOUT_S)
    second = vllm_client.post(
        "/v1/runs", json={"question": "And in 2017?", "mode": "rag", "filters": SCOPE, "thread_id": first["thread_id"]}
    ).json()
    assert second["thread_id"] == first["thread_id"] and second["turn"] == 2
    run = wait_for(vllm_client, second["id"], timeout=RUN_TIMEOUT_S)
    events = _events(vllm_client, second["id"])
    _record("follow_up", run, events)
    _check_answer(run["result"], run["metrics"]["rag"])
    assert run["metrics"]["rag"]["memory_turns"] == 1, "the follow-up carried the first turn"
    condensed = run["result"]["condensed_question"]
    assert condensed and condensed != "And in 2017?", "the model rewrote the follow-up as a question that stands alone"
    assert "condense" in [e["type"] for e in events]
    assert vllm_client.get(f"/v1/threads/{first['thread_id']}").json()["turns"] == 2


def _vllm_metric(name: str, **labels: str) -> float:
    """A counter or gauge from vLLM's own /metrics, summed over the series that carry `labels`."""
    text = httpx.get(f"{BASE}/metrics", timeout=10).text
    found = [float(value) for series, value in re.findall(rf"^{re.escape(name)}\{{([^}}]*)\}} ([0-9.e+]+)$", text, re.MULTILINE)
             if all(f'{k}="{v}"' in series for k, v in labels.items())]  # fmt: skip
    assert found, f"vLLM's /metrics has no {name} {labels}"
    return sum(found)


def test_vllm_cancelling_mid_stream_stops_the_request(vllm_client):
    # vLLM counts a client that went away in no counter (request_success_total{finished_reason="abort"} stays 0), so the
    # check is its running-requests gauge falling to 0: the server must be idle apart from this run.
    idle_by = time.monotonic() + 120
    while _vllm_metric("vllm:num_requests_running") > 0:
        assert time.monotonic() < idle_by, f"another client keeps {BASE} busy; this check needs the server to itself"
        time.sleep(2)
    run_id = vllm_client.post(
        "/v1/runs", json={"question": QUESTION, "mode": "agentic", "filters": SCOPE, "budgets": BUDGETS}
    ).json()["id"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not any(e["type"] == "model_progress" for e in _events(vllm_client, run_id)):
        assert time.monotonic() < deadline, "no model_progress event"
        assert vllm_client.get(f"/v1/runs/{run_id}").json()["status"] in {"queued", "running"}, "the run ended before it streamed"
        time.sleep(2)
    assert _vllm_metric("vllm:num_requests_running") >= 1, "the model is writing"
    cancelled = vllm_client.post(f"/v1/runs/{run_id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    stop_by = time.monotonic() + 30
    while _vllm_metric("vllm:num_requests_running") > 0:
        assert time.monotonic() < stop_by, "vLLM still generates 30 s after the run was cancelled"
        time.sleep(0.5)
