"""A real `sleuth serve` killed with SIGKILL mid-run: after a restart on the same data directory every event that was
committed before the kill is still there, unchanged, and the runs in flight (running and queued) are interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from embedded.supervisor import free_port
from tests.api.conftest import sse
from tests.corpus.samples import TEN_K_PAGES, ingest_folder, write_pdf
from tests.fakes.fake_llm import FakeLLM, Reply
from tests.live_server import wait_healthy

pytestmark = pytest.mark.slow
SLEUTH = Path(sys.executable).with_name("sleuth")
QUESTION = "What was Acme's revenue in 2022?"


def _script(body: dict[str, Any]) -> Reply:
    """The agent's first turn greps (at once); every later turn stalls, so the run is mid-flight when the server dies."""
    if any(m.get("role") == "tool" for m in body["messages"]):
        return Reply(tool_calls=[("answer", {"answer": "Revenue was $1,577 million.", "citations": []})], delay_s=60)
    return Reply(tool_calls=[("grep", {"pattern": "Revenue was"})])


class Servers:
    """`sleuth serve` processes of one test, each in its own process group; all are killed at teardown."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.env, self.procs = tmp_path, env, []

    def start(self, port: int) -> subprocess.Popen:
        log = open(self.tmp_path / f"server-{len(self.procs)}.log", "wb")  # noqa: SIM115 - the process owns it
        proc = subprocess.Popen(
            [str(SLEUTH), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            cwd=self.tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append(proc)
        problem = wait_healthy(
            proc, f"http://127.0.0.1:{port}", 60
        )  # importing the app alone takes 15+ s on a loaded 2-core machine
        assert problem is None, f"{problem}: {self.log(proc)}"
        return proc

    def log(self, proc: subprocess.Popen) -> str:
        return (self.tmp_path / f"server-{self.procs.index(proc)}.log").read_text(errors="replace")[-3000:]

    def kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def close(self) -> None:
        for proc in self.procs:
            try:
                self.kill(proc)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


@pytest.fixture
def servers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "filings"
    folder.mkdir()
    write_pdf(folder / "ACME_2022_10K.pdf", TEN_K_PAGES)
    ingest_folder(folder, tmp_path / "data").close()
    with FakeLLM(_script) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLEUTH_")}
        env.update(
            SLEUTH_DATA_DIR=str(tmp_path / "data"),
            SLEUTH_LLM_BASE_URL=fake.base_url,
            SLEUTH_LLM_MAX_RETRIES="0",
            SLEUTH_LLM_TIMEOUT_S="120",
            SLEUTH_API_MAX_RUNNING="1",
        )
        group = Servers(tmp_path, env)
        try:
            yield group
        finally:
            group.close()


def _committed(data_dir: Path, run_id: str) -> list[tuple[int, str, Any]]:
    """The run's events as the database holds them (read straight from the SQLite file)."""
    engine = create_engine(f"sqlite:///{data_dir / 'sleuth.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("select seq, type, data from run_events where run_id = :r order by seq"), {"r": run_id}
            ).all()
    finally:
        engine.dispose()
    return [(seq, type_, json.loads(data) if isinstance(data, str) else data) for seq, type_, data in rows]


def test_sigkill_mid_run_keeps_every_committed_event(servers, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = servers.start(port)
    with httpx.Client(base_url=url, timeout=10) as client:
        running = client.post("/v1/runs", json={"question": QUESTION, "mode": "agentic"})
        assert running.status_code == 202, running.text
        running_id = running.json()["id"]
        queued = client.post("/v1/runs", json={"question": QUESTION, "mode": "agentic"})  # waits: one run executes at once
        assert queued.status_code == 202 and queued.json()["queue_position"] == 1, queued.text
        queued_id = queued.json()["id"]

        # Follow the running run's stream until its grep result is in; the model then stalls and the server dies.
        streamed: list[dict] = []
        deadline = time.monotonic() + 10
        with client.stream("GET", f"/v1/runs/{running_id}/events") as stream:
            block = ""
            for line in stream.iter_lines():
                if line:
                    block += line + "\n"
                    continue
                streamed += [e["data"] for e in sse(block)]
                block = ""
                if any(e["type"] == "tool_result" for e in streamed) or time.monotonic() > deadline:
                    break
            assert any(e["type"] == "tool_result" for e in streamed), f"no tool_result streamed: {streamed}"
            assert client.get(f"/v1/runs/{running_id}").json()["status"] == "running"
            servers.kill(first)
    assert first.returncode == -signal.SIGKILL

    data_dir = tmp_path / "data"
    committed = {run_id: _committed(data_dir, run_id) for run_id in (running_id, queued_id)}
    assert [(e["seq"], e["type"]) for e in streamed] == [(seq, t) for seq, t, _ in committed[running_id][: len(streamed)]]
    assert [t for _, t, _ in committed[queued_id]] == ["status"]  # "queued", with its position

    servers.start(port)  # a new process on the same data directory (and port)
    with httpx.Client(base_url=url, timeout=10) as client:
        for run_id in (running_id, queued_id):
            run = client.get(f"/v1/runs/{run_id}").json()
            assert run["status"] == "interrupted", run
            assert run["error"] == "the server stopped while this run was in flight"
            assert run["finished_at"] is not None

            stored = client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
            # Every committed event is back with the same seq, type and data; one status event says what happened.
            assert [(e["seq"], e["type"], e["data"]) for e in stored[:-1]] == committed[run_id]
            assert stored[-1]["seq"] == len(committed[run_id]) + 1
            assert stored[-1]["type"] == "status" and stored[-1]["data"]["status"] == "interrupted"
            if run_id == running_id:
                assert stored[: len(streamed)] == streamed  # what clients saw before the kill, unchanged (ts, arm, agent too)

            # The replayed stream ends; a client resuming where it was cut off gets the rest, then `end`.
            replay = sse(client.get(f"/v1/runs/{run_id}/events").text)
            assert [int(e["id"]) for e in replay if e["event"] != "end"] == [e["seq"] for e in stored]
            assert replay[-1]["event"] == "end"
        last_seen = streamed[-1]["seq"]
        resumed = sse(client.get(f"/v1/runs/{running_id}/events", headers={"Last-Event-ID": str(last_seen)}).text)
        assert [int(e["id"]) for e in resumed if e["event"] != "end"] == list(
            range(last_seen + 1, len(committed[running_id]) + 2)
        )
        assert resumed[-1]["event"] == "end"
        assert client.get("/healthz").json() == {"status": "ok"}
