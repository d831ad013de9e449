"""API load benchmark: `sleuth serve` driven by many concurrent compare runs against a fake model that answers at once.

Usage: python bench/api.py [--data-dir DIR] [--runs 100] [--concurrency 100] [--max-running N] [--no-kill]

The model is tests/fakes/fake_llm.py in its own process (its own GIL), scripted so every run does real service work:
the agentic arm greps the filings once and answers with a verified citation; the RAG arm retrieves (BM25) and
answers. So what is measured is the service: HTTP, the run queue, event commits to the database, SSE streaming,
tools, retrieval and citation checks. Reported: runs/s, p50/p95 run latency (submit -> SSE `end`), LLM calls, the
service's overhead per LLM call ((run latency - fake model time) / LLM calls; the fake's own per-request time is
measured by timing requests to it directly), events streamed and events/s, and the server's memory (peak RSS).

Then the kill test: runs whose model answers slowly are started, the server is SIGKILLed once their first events
are committed, a new server is started on the same data directory, and every event committed before the kill
(streamed to the client, and read from the database directly) must still be there, unchanged, with the run
marked interrupted; resuming its stream with Last-Event-ID must give the rest and `end`.

--data-dir defaults to a temporary copy of SLEUTH_BENCH_DATA (default /work/bench-data: the FinanceBench filings
ingested and BM25-indexed); a given --data-dir is used in place (runs are written into its database).
Target on a 2-core machine: service overhead under 5 ms per LLM call at p50, and no errors at 100 concurrent runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx

from embedded.supervisor import free_port
from tests.live_server import wait_healthy

QUESTION = "What was 3M's FY2018 capital expenditure (purchases of property, plant and equipment)?"
KILL_MARK = "[slow model]"  # a question carrying this gets a model that stalls after its first tool call
CAPEX_CITATION = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577)"}
SLOW_S = 120.0


# --- the fake model (runs in a child process) ---


def _user_text(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    return ""


def script(body: dict[str, Any]):
    """Agentic: grep, then answer; RAG ("Passages:" prompt): answer. Questions with KILL_MARK stall after the grep."""
    from tests.fakes.fake_llm import Reply

    messages = body.get("messages") or []
    user = _user_text(body)
    slow = KILL_MARK in json.dumps(messages)
    final = Reply(
        tool_calls=[("answer", {"answer": "3M's FY2018 capital expenditure was $1,577 million.", "citations": [CAPEX_CITATION]})],
        delay_s=SLOW_S if slow else 0.0,
    )
    if user.startswith("Passages:"):
        return final
    if not any(m.get("role") == "tool" for m in messages):
        return Reply(tool_calls=[("grep", {"pattern": "Purchases of property, plant and equipment", "glob": "3M_2018*"})])
    return final


def _serve_fake(conn) -> None:
    from tests.fakes.fake_llm import FakeLLM

    fake = FakeLLM(script).start()
    conn.send(fake.base_url)
    conn.recv()  # until the parent says stop (or dies: EOFError)
    fake.stop()


class FakeModel:
    """The fake model in its own process."""

    def __enter__(self) -> Self:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_fake, args=(child,), daemon=True)
        self._proc.start()
        if not self._conn.poll(60):
            raise RuntimeError("the fake model did not start")
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()


# --- the server ---


class Server:
    """`sleuth serve` as a subprocess on a data directory; its log goes to a file."""

    def __init__(self, data_dir: Path, llm_url: str, port: int, max_running: int, log: Path, workers: int = 1) -> None:
        self.port, self.url, self.log = port, f"http://127.0.0.1:{port}", log
        env = dict(
            os.environ,
            SLEUTH_DATA_DIR=str(data_dir),
            SLEUTH_LLM_BASE_URL=llm_url,
            SLEUTH_LLM_MAX_RETRIES="0",
            SLEUTH_LLM_TIMEOUT_S="300",
            SLEUTH_API_MAX_RUNNING=str(max_running),
            SLEUTH_API_MAX_QUEUED="100000",
            SLEUTH_API_KEY_RATE_PER_MINUTE="1000000",
            SLEUTH_API_KEY_MAX_RUNNING="100000",
        )
        env.pop("SLEUTH_DATABASE_URL", None)  # the data dir's own SQLite
        sleuth = Path(sys.executable).with_name("sleuth")
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(sleuth), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=data_dir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        problem = wait_healthy(self.proc, self.url, 120)
        if problem:
            self.stop()
            raise RuntimeError(f"{problem}; see {log}")
        self.startup_s = time.monotonic() - started

    def pids(self) -> list[int]:
        """The server process and its descendants (uvicorn's workers when --workers > 1)."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
        return out

    def status(self) -> dict[str, int]:
        """VmRSS/VmHWM (kB) and threads, summed over the server's processes."""
        out = {"VmRSS": 0, "VmHWM": 0, "Threads": 0}
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        key, _, value = line.partition(":")
                        if key in out:
                            out[key] += int(value.split()[0])
            except OSError:
                pass
        return out

    def cpu_s(self) -> float:
        """utime + stime of the server's processes."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL every process of the server (it runs in its own process group)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


# --- the client ---


@dataclass
class RunResult:
    run_id: str | None = None
    latency_s: float = 0.0  # submit -> `end`
    last_event_s: float = 0.0  # submit -> the run's last event (its final status)
    started: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    bytes: int = 0
    ended: bool = False
    status: str | None = None
    llm_calls: int = 0
    error: str | None = None


def parse_sse(block: str) -> dict[str, Any] | None:
    fields: dict[str, Any] = {}
    for line in block.splitlines():
        if not line or line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        fields[key] = value.removeprefix(" ")
    if "event" not in fields and "data" not in fields:
        return None
    fields["data"] = json.loads(fields["data"]) if fields.get("data") else {}
    return fields


async def follow(client: httpx.AsyncClient, run_id: str, result: RunResult, last_id: int | None = None) -> None:
    """Read the run's SSE stream to `end`, appending events (the stored form: seq, type, arm, agent, ts, data)."""
    headers = {"Last-Event-ID": str(last_id)} if last_id is not None else None
    async with client.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as stream:
        if stream.status_code != 200:
            raise RuntimeError(f"GET events answered {stream.status_code}")
        buffer = ""
        async for chunk in stream.aiter_text():
            result.bytes += len(chunk.encode())
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                event = parse_sse(block)
                if event is None:
                    continue
                if event.get("event") == "end":
                    result.ended = True
                    return
                result.events.append(event["data"])
                result.last_event_s = time.perf_counter() - result.started


async def one_run(client: httpx.AsyncClient, gate: asyncio.Semaphore, question: str, mode: str = "compare") -> RunResult:
    result = RunResult()
    async with gate:
        started = result.started = time.perf_counter()
        step = "POST /v1/runs"
        try:
            created = await client.post("/v1/runs", json={"question": question, "mode": mode})
            if created.status_code != 202:
                result.error = f"POST /v1/runs answered {created.status_code}: {created.text[:200]}"
                return result
            result.run_id = created.json()["id"]
            step = f"GET events (after {len(result.events)} events)"
            await follow(client, result.run_id, result)
            result.latency_s = time.perf_counter() - started
            if not result.ended:
                result.error = "the stream closed before `end`"
                return result
            step = "GET /v1/runs/{id}"
            run = (await client.get(f"/v1/runs/{result.run_id}")).json()
            result.status = run["status"]
            result.llm_calls = sum((m or {}).get("llm_calls", 0) for m in (run.get("metrics") or {}).values())
            if result.status != "answered":
                result.error = f"run {result.status}: {run.get('error')}"
        except Exception as exc:  # noqa: BLE001 - counted and reported
            if step.startswith("GET events"):
                step = f"GET events (after {len(result.events)} events)"
            result.error = f"{step}: {type(exc).__name__}: {exc}"
            result.latency_s = time.perf_counter() - started
    return result


def client_for(url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=2 * concurrency + 10, max_keepalive_connections=2 * concurrency + 10)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(600, connect=30))


def fake_call_ms(llm_url: str, n: int = 200) -> float:
    """p50 time of one request straight to the fake model, with a compare run's typical prompt size."""
    passages = "Passages:\n" + ("[3M_2018_10K p.60] Purchases of property, plant and equipment (PP&E) (1,577) " * 120)
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": "x" * 4000}, {"role": "user", "content": passages}],
        "tools": [{"type": "function", "function": {"name": "answer", "parameters": {"type": "object"}}}],
    }
    times = []
    with httpx.Client(base_url=llm_url, timeout=30) as client:
        for i in range(n + 10):
            started = time.perf_counter()
            client.post("/chat/completions", json=body).raise_for_status()
            if i >= 10:
                times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))] if values else float("nan")


def own_overhead_ms(events: list[dict[str, Any]], run: dict[str, Any]) -> list[tuple[str, float]]:
    """Per arm: (arm latency - time in model calls - time in tools and retrieval) / LLM calls, from the stored events.

    This is the service's own cost per LLM call (graph, events, persistence, HTTP to the model), free of queueing.
    """
    out = []
    result = run.get("result") or {}
    arms = (
        {arm: result[arm] for arm in ("agentic", "rag") if arm in result} if run["mode"] == "compare" else {run["mode"]: result}
    )
    for arm, answer in arms.items():
        m = answer["metrics"]
        if not m["llm_calls"]:
            continue
        mine = [e for e in events if e.get("arm") in (arm, None)]
        model_s = sum(e["data"].get("seconds", 0) for e in mine if e["type"] == "model_turn")
        tools_s = sum(e["data"].get("seconds", 0) for e in mine if e["type"] == "tool_result")
        retrieval_s = sum(e["data"].get("timings_ms", {}).get("total", 0) / 1000 for e in mine if e["type"] == "retrieval")
        out.append((arm, (m["latency_s"] - model_s - tools_s - retrieval_s) * 1000 / m["llm_calls"]))
    return out


async def solo_phase(server: Server, n: int = 25) -> list[tuple[str, str]]:
    """Agentic and RAG runs one at a time (a compare run's arms would share the core and each count the other's work):
    the service's own overhead per LLM call, with model, tool and retrieval time taken out, free of queueing."""
    rows = [("runs, one at a time", f"{n} agentic + {n} rag")]
    both: list[float] = []
    async with client_for(server.url, 2) as client:
        await one_run(client, asyncio.Semaphore(1), QUESTION)  # warm-up: opens the BM25 index and the text cache
        for mode in ("agentic", "rag"):
            values = []
            for _ in range(n):
                result = await one_run(client, asyncio.Semaphore(1), QUESTION, mode)
                if result.error:
                    raise RuntimeError(f"a solo {mode} run failed: {result.error}")
                run = (await client.get(f"/v1/runs/{result.run_id}")).json()
                values += [v for _, v in own_overhead_ms(result.events, run)]
            both += values
            rows.append((f"  {mode}: own overhead per LLM call p50 / p95", f"{pct(values, 50):.1f} / {pct(values, 95):.1f} ms"))
    rows.insert(
        1,
        (
            "service's own overhead per LLM call p50 / p95 (latency - model - tools - retrieval) / calls",
            f"{pct(both, 50):.1f} / {pct(both, 95):.1f} ms",
        ),
    )
    return rows


# --- phases ---


async def load_phase(server: Server, args: argparse.Namespace, fake_ms: float) -> list[tuple[str, str]]:
    async with client_for(server.url, args.concurrency) as client:
        warm_started = time.perf_counter()
        warm = await one_run(client, asyncio.Semaphore(1), QUESTION)  # opens the BM25 index, the text cache
        warm_s = time.perf_counter() - warm_started
        if warm.error:
            raise RuntimeError(f"the warm-up run failed: {warm.error}")
        rss_before = server.status()["VmRSS"]
        cpu_before = server.cpu_s()
        gate = asyncio.Semaphore(args.concurrency)
        started = time.perf_counter()
        results = await asyncio.gather(*(one_run(client, gate, QUESTION) for _ in range(args.runs)))
        wall = time.perf_counter() - started
        cpu = server.cpu_s() - cpu_before
        mem = server.status()
    ok = [r for r in results if not r.error]
    errors = [r for r in results if r.error]
    latencies = [r.latency_s for r in ok]
    to_last = [r.last_event_s for r in ok]
    end_lag = [(r.latency_s - r.last_event_s) * 1000 for r in ok]
    calls = sum(r.llm_calls for r in ok)
    overhead = [(r.latency_s * 1000 - r.llm_calls * fake_ms) / r.llm_calls for r in ok if r.llm_calls]
    overhead_last = [(r.last_event_s * 1000 - r.llm_calls * fake_ms) / r.llm_calls for r in ok if r.llm_calls]
    turn_ms = [
        e["data"]["seconds"] * 1000
        for r in ok
        for e in r.events
        if e.get("type") == "model_turn" and "seconds" in e.get("data", {})
    ]
    n_events = sum(len(r.events) for r in results)
    n_bytes = sum(r.bytes for r in results)
    kinds: dict[str, int] = {}
    for r in errors:
        kinds[r.error[:120]] = kinds.get(r.error[:120], 0) + 1
    rows = [
        ("machine", f"{os.cpu_count()} cores; load average before the run {os.getloadavg()[0]:.2f} (other jobs included)"),
        ("server start (to /healthz)", f"{server.startup_s:.2f} s"),
        ("warm-up run (opens the index)", f"{warm_s:.2f} s"),
        (
            "runs (compare) / concurrency / max running / server processes",
            f"{args.runs} / {args.concurrency} / {args.max_running} / {args.workers}",
        ),
        ("errors", str(len(errors)) + (" — " + "; ".join(f"{n}x {k}" for k, n in kinds.items()) if kinds else "")),
        ("wall time", f"{wall:.2f} s"),
        ("runs/s", f"{len(ok) / wall:.2f}"),
        (
            "run latency p50 / p95 / max (submit -> SSE end)",
            f"{pct(latencies, 50):.2f} / {pct(latencies, 95):.2f} / {max(latencies, default=float('nan')):.2f} s",
        ),
        (
            "run latency to its last event p50 / p95 (submit -> final status event)",
            f"{pct(to_last, 50):.2f} / {pct(to_last, 95):.2f} s",
        ),
        ("SSE `end` after the last event p50 / p95", f"{pct(end_lag, 50):.0f} / {pct(end_lag, 95):.0f} ms"),
        ("LLM calls (from run metrics)", f"{calls} ({calls / max(1, len(ok)):.1f} per run)"),
        ("fake model time per call (direct, p50)", f"{fake_ms:.2f} ms"),
        (
            "service overhead per LLM call p50 / p95 ((latency - fake time) / calls)",
            f"{pct(overhead, 50):.1f} / {pct(overhead, 95):.1f} ms",
        ),
        ("the same, to the last event instead of `end`", f"{pct(overhead_last, 50):.1f} / {pct(overhead_last, 95):.1f} ms"),
        (
            "server CPU per LLM call (utime+stime / calls)",
            f"{cpu * 1000 / max(1, calls):.1f} ms ({cpu:.1f} s CPU in {wall:.1f} s)",
        ),
        ("wall time per LLM call (throughput)", f"{wall * 1000 / max(1, calls):.1f} ms"),
        ("LLM call as the server saw it p50 / p95 (model_turn.seconds)", f"{pct(turn_ms, 50):.1f} / {pct(turn_ms, 95):.1f} ms"),
        ("events streamed / events/s", f"{n_events} / {n_events / wall:.0f}"),
        ("SSE bytes streamed", f"{n_bytes / 1e6:.2f} MB"),
        (
            "server RSS before load / after / peak (VmHWM, summed over processes)",
            f"{rss_before / 1024:.0f} / {mem['VmRSS'] / 1024:.0f} / {mem['VmHWM'] / 1024:.0f} MiB",
        ),
        ("server threads after load", str(mem["Threads"])),
    ]
    return rows


def db_events(data_dir: Path, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The committed events of the runs, read from the SQLite file directly (the server is dead)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{(data_dir / 'sleuth.db').resolve()}")
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for run_id in run_ids:
            rows = conn.execute(text("select seq, type from run_events where run_id = :r order by seq"), {"r": run_id}).all()
            out[run_id] = [{"seq": r[0], "type": r[1]} for r in rows]
    engine.dispose()
    return out


async def kill_phase(server: Server, args: argparse.Namespace, llm_url: str, log: Path) -> tuple[list[tuple[str, str]], bool]:
    n = args.kill_runs
    results = [RunResult() for _ in range(n)]
    async with client_for(server.url, n) as client:
        for r in results:
            created = await client.post("/v1/runs", json={"question": f"{KILL_MARK} {QUESTION}", "mode": "compare"})
            created.raise_for_status()
            r.run_id = created.json()["id"]
        readers = [asyncio.create_task(follow(client, r.run_id, r)) for r in results]
        deadline = time.monotonic() + 60
        # Wait until each run's agentic arm has its tool result and its RAG arm has retrieved: both then wait on the model.
        while not all({"tool_result", "retrieval"} <= {e["type"] for e in r.events} for r in results):
            if time.monotonic() > deadline:
                raise RuntimeError("the slow runs did not reach their model wait within 60 s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        server.kill()
        for task in readers:
            with contextlib.suppress(Exception):  # the kill cuts the streams: expected
                await asyncio.wait_for(task, 10)
    committed = db_events(args.data_dir, [r.run_id for r in results])
    restarted = Server(args.data_dir, llm_url, server.port, args.max_running, log, args.workers)
    rows: list[tuple[str, str]] = [("server restart after SIGKILL (to /healthz)", f"{restarted.startup_s:.2f} s")]
    ok = True
    try:
        async with client_for(restarted.url, n) as client:
            for i, r in enumerate(results):
                run = (await client.get(f"/v1/runs/{r.run_id}")).json()
                stored = (await client.get(f"/v1/runs/{r.run_id}/events", params={"format": "json"})).json()
                by_seq = {e["seq"]: e for e in stored}
                streamed_kept = sum(1 for e in r.events if by_seq.get(e["seq"]) == e)
                db_kept = sum(1 for e in committed[r.run_id] if by_seq.get(e["seq"], {}).get("type") == e["type"])
                tail = RunResult()
                await follow(client, r.run_id, tail, last_id=r.events[-1]["seq"] if r.events else 0)
                resumed = [e["seq"] for e in tail.events] == [
                    e["seq"] for e in stored if e["seq"] > (r.events[-1]["seq"] if r.events else 0)
                ]
                last = stored[-1] if stored else {}
                good = (
                    run["status"] == "interrupted"
                    and streamed_kept == len(r.events)
                    and db_kept == len(committed[r.run_id])
                    and last.get("type") == "status"
                    and last.get("data", {}).get("status") == "interrupted"
                    and len(stored) == len(committed[r.run_id]) + 1
                    and tail.ended
                    and resumed
                )
                ok &= good
                rows.append((f"killed run {i + 1}: status after restart", run["status"]))
                rows.append(
                    (f"killed run {i + 1}: events streamed before kill, kept unchanged", f"{streamed_kept} / {len(r.events)}")
                )
                rows.append(
                    (f"killed run {i + 1}: events committed (in the DB) at kill, kept", f"{db_kept} / {len(committed[r.run_id])}")
                )
                rows.append(
                    (
                        f"killed run {i + 1}: stored after restart (+ the `interrupted` status)",
                        f"{len(stored)}; last: {last.get('type')} {last.get('data', {}).get('status')}",
                    )
                )
                rows.append(
                    (
                        f"killed run {i + 1}: Last-Event-ID resume gives the rest and `end`",
                        "yes" if tail.ended and resumed else "NO",
                    )
                )
            health = (await client.get("/healthz")).json()
            rows.append(("server healthy after restart", str(health.get("status") == "ok")))
    finally:
        restarted.stop()
    rows.append(("kill/restart check", "PASS" if ok else "FAIL"))
    return rows, ok


def table(title: str, rows: list[tuple[str, str]]) -> str:
    lines = [f"| {title} | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="data dir used in place (default: a temporary copy of SLEUTH_BENCH_DATA)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=100, help="runs submitted and followed at once")
    parser.add_argument(
        "--max-running", type=int, help="SLEUTH_API_MAX_RUNNING of the server (default: --concurrency, at most 256)"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (sleuth serve --workers)")
    parser.add_argument("--kill-runs", type=int, default=3, help="runs in flight when the server is killed")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill/restart test")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir and the server log")
    args = parser.parse_args()
    args.max_running = args.max_running or min(256, args.concurrency)
    tmp = Path(tempfile.mkdtemp(prefix="sleuth-bench-api-"))
    if args.data_dir is None:
        source = Path(os.environ.get("SLEUTH_BENCH_DATA", "/work/bench-data"))
        if not (source / "sleuth.db").is_file():
            sys.exit(f"no ingested data at {source}; pass --data-dir or set SLEUTH_BENCH_DATA")
        args.data_dir = tmp / "data"
        shutil.copytree(source, args.data_dir)
    log = tmp / "server.log"
    ok = True
    try:
        with FakeModel() as fake:
            fake_ms = fake_call_ms(fake.base_url)
            server = Server(args.data_dir, fake.base_url, free_port(), args.max_running, log, args.workers)
            try:
                solo = asyncio.run(solo_phase(server))
                print(table("Service overhead, one run at a time", solo), flush=True)
                print()
                rows = asyncio.run(load_phase(server, args, fake_ms))
                print(table("API load: compare runs, fake model answering at once", rows), flush=True)
                if not args.no_kill:
                    kill_rows, ok = asyncio.run(kill_phase(server, args, fake.base_url, log))
                    print()
                    print(table("Kill -9 mid-run and restart", kill_rows), flush=True)
            finally:
                server.stop()
    finally:
        if args.keep:
            print(f"\ndata dir {args.data_dir}; server log {log}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
