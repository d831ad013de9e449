"""vLLM beside llama.cpp, serving the embedded model's weights on this CPU: start-up, speed, prefix cache, tool calls, overhead.

Usage: python bench/vllm.py [--data-dir data] [--port 8001] [--questions 2] [--max-steps 4] [--skip-llama] [--out FILE]
       python bench/vllm.py --trace tests/artifacts/vllm_agentic.json ...   (per-turn table of recorded runs, no server)
vLLM: a server already answering on --port is used (start-up then not measured), else scripts/vllm.sh (what `make vllm`
runs) starts one and it is stopped at the end. llama.cpp: the embedded model as Sleuth runs it (embedded/; text tool
calls constrained to JSON), when its server is installed (`make run`: the prebuilt xllamacpp). One backend at a time (memory). Per backend:
  start-up        launch to the first answered /health (vLLM: the model already converted; llama.cpp: GGUF assembled)
  prompt tok/s    a cold ~2,000-token prompt, one token generated
  gen tok/s       128 streamed tokens after that prompt (first to last chunk)
  prefix cache    a second turn extending the first turn's prompt, against a cold prompt of the same size
  agentic runs    dev questions on their filing (needs the filings ingested into --data-dir): per model turn, tool calls
                  returned natively (tool_calls) or as text in content; Sleuth's time between a response and the next
                  request, with and without the tools it ran meanwhile
  tool_choice     (vLLM) whether auto, required, a named function and none are honoured
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.events import TOOL_RESULT, Event  # noqa: E402
from agent.llm import LLMClient, LLMResponse, LLMSettings  # noqa: E402
from agent.scope import Filters  # noqa: E402
from agent.session import Researcher  # noqa: E402
from agent.settings import AgentSettings  # noqa: E402

QUESTIONS = [  # FinanceBench dev questions (and the project's 3M example) with their filing
    ("What is the FY2018 capital expenditure amount (in USD millions) for 3M? Give a response to the question by relying on the "
     "details shown in the cash flow statement.", "3M_2018_10K"),
    ("What is the FY2017 operating cash flow ratio for Adobe? Operating cash flow ratio is defined as: cash from operations / total "
     "current liabilities. Round your answer to two decimal places.", "ADOBE_2017_10K"),
]  # fmt: skip
FILLER = (
    "Net cash provided by operating activities was $6.4 billion in 2018, compared with $6.2 billion in 2017. Purchases of property, "
    "plant and equipment (PP&E) were $1,577 million in 2018, $1,373 million in 2017 and $1,420 million in 2016. The Company expects "
    "capital spending of approximately $1.7 billion to $1.9 billion in 2019. Free cash flow, a non-GAAP measure, is defined as "
    "operating cash flow less purchases of PP&E. Working capital changes reflected higher accounts receivable and inventories. "
)
PROBE_TOOL = {"type": "function", "function": {"name": "grep", "description": "Regex-search filing text.", "parameters": {
    "type": "object", "properties": {"pattern": {"type": "string"}, "glob": {"type": "string"}}, "required": ["pattern"]}}}  # fmt: skip
OTHER_TOOL = {"type": "function", "function": {"name": "outline", "description": "A filing's sections.", "parameters": {
    "type": "object", "properties": {"doc_id": {"type": "string"}}, "required": ["doc_id"]}}}  # fmt: skip


class TimedClient(LLMClient):
    """An LLMClient that records, per call, when the request left and the response was back, and how its tool calls came."""

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__(settings)
        self.calls: list[dict[str, Any]] = []

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> LLMResponse:
        sent = time.perf_counter()
        response = await super().complete(messages, tools, **kwargs)
        native = sum(not c.from_text for c in response.tool_calls)
        self.calls.append({"sent": sent, "back": time.perf_counter(), "native": native, "text": len(response.tool_calls) - native,
                           "prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens,
                           "text_errors": len(response.text_call_errors), "tools_offered": bool(tools)})  # fmt: skip
        return response


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def start_vllm(port: int, data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes] | None, float | None]:
    """(the script's process or None if a server already answers, seconds from launching the server to its /health)."""
    if _up(f"http://127.0.0.1:{port}/health"):
        return None, None
    env = {**os.environ, "VLLM_PORT": str(port), "VENV": sys.prefix, "SLEUTH_DATA_DIR": str(data_dir)}
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [str(REPO / "scripts" / "vllm.sh")], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    while not _up(f"http://127.0.0.1:{port}/health"):
        if proc.poll() is not None:
            raise SystemExit(f"scripts/vllm.sh exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    ready = re.search(r"ready in (\d+) s", log.read_text())  # the script's own count, launch to /health
    return proc, float(ready.group(1)) if ready else None


async def speed(client: LLMClient, prompt_tokens: int) -> dict[str, float]:
    """Cold prompt tok/s, streamed gen tok/s, and a second turn on the cached prefix against a cold prompt of its size."""
    filler = FILLER * max(1, prompt_tokens // 110)
    first = [{"role": "user", "content": f"[{uuid.uuid4().hex}] {filler}\nSummarize the text above in detail."}]
    started = time.perf_counter()
    cold = await client.complete(first, max_tokens=1)
    cold_s = time.perf_counter() - started
    stamps: list[float] = []
    gen = await client.complete(first, max_tokens=128, on_text=lambda _: stamps.append(time.perf_counter()))
    gen_tps = (gen.usage.completion_tokens - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")
    turn = " ".join(["The filing reports capital spending, free cash flow and working capital in detail."] * 8)
    second = [*first, {"role": "assistant", "content": turn}, {"role": "user", "content": "And in 2017? One sentence."}]
    started = time.perf_counter()
    cached = await client.complete(second, max_tokens=1)
    cached_s = time.perf_counter() - started
    fresh = [{**second[0], "content": f"[{uuid.uuid4().hex}] {second[0]['content']}"}, *second[1:]]
    started = time.perf_counter()
    await client.complete(fresh, max_tokens=1)
    return {"prompt_tokens": cold.usage.prompt_tokens, "prompt_tps": cold.usage.prompt_tokens / cold_s, "gen_tps": gen_tps,
            "second_turn_tokens": cached.usage.prompt_tokens, "second_turn_cached_s": cached_s,
            "second_turn_cold_s": time.perf_counter() - started}  # fmt: skip


async def agentic_runs(client: TimedClient, data_dir: Path, count: int, max_steps: int) -> dict[str, Any]:
    """Agentic runs over the first `count` questions: statuses, tool calls native vs text, Sleuth's time between calls."""
    from corpus.catalog import Corpus
    from corpus.settings import CorpusSettings

    corpus = Corpus.open(CorpusSettings(data_dir=data_dir))
    results, gaps, own = [], [], []
    try:
        researcher = Researcher(corpus, client, AgentSettings(max_steps=max_steps, time_budget_s=1200, subagents=False))
        for question, doc_id in QUESTIONS[:count]:
            client.calls.clear()
            tool_s: list[tuple[float, float]] = []  # (perf_counter at the result, seconds the tool ran)

            async def emit(event: Event) -> None:
                if event.type == TOOL_RESULT:
                    tool_s.append((time.perf_counter(), float(event.data.get("seconds") or 0)))

            started = time.perf_counter()
            answer = await researcher.ask(question, "agentic", filters=Filters(doc_ids=[doc_id]), emit=emit)
            for before, after in zip(client.calls, client.calls[1:], strict=False):
                gap = after["sent"] - before["back"]
                ran = sum(s for at, s in tool_s if before["back"] <= at <= after["sent"])
                gaps.append(gap)
                own.append(gap - ran)
            results.append({"question": question[:60], "doc_id": doc_id, "status": answer.status, "seconds": time.perf_counter() - started,
                            "turns": list(client.calls), "citations": [c.model_dump() for c in answer.citations]})  # fmt: skip
    finally:
        corpus.close()
    turns = [t for r in results for t in r["turns"] if t["tools_offered"]]
    return {"runs": results, "turns": len(turns), "native": sum(t["native"] > 0 for t in turns), "text": sum(t["text"] > 0 for t in turns),
            "no_call": sum(t["native"] + t["text"] == 0 for t in turns), "gap_median_s": _median(gaps), "own_median_s": _median(own),
            "own_max_s": max(own, default=float("nan"))}  # fmt: skip


async def tool_choice_probe(client: LLMClient) -> dict[str, str]:
    """What each tool_choice value gets back from the server, for one question that wants the outline of a filing."""
    messages = [{"role": "user", "content": "Show me the sections of 3M_2018_10K."}]
    choices: dict[str, Any] = {"auto": "auto", "required": "required", "named grep": {"type": "function", "function": {"name": "grep"}},
                               "none": "none"}  # fmt: skip
    found = {}
    for label, choice in choices.items():
        try:
            response = await client.complete(messages, [PROBE_TOOL, OTHER_TOOL], tool_choice=choice, max_tokens=96)
        except Exception as exc:  # noqa: BLE001 - the server's refusal is the finding
            found[label] = f"refused: {str(exc)[:120]}"
            continue
        calls = ", ".join(f"{c.name}({'native' if not c.from_text else 'text'})" for c in response.tool_calls) or "no call"
        found[label] = f"{calls}; content {response.content[:60]!r}"
    return found


async def measure(name: str, client: TimedClient, args: argparse.Namespace, startup_s: float | None) -> dict[str, Any]:
    row: dict[str, Any] = {"backend": name, "startup_s": startup_s}
    row["speed"] = await speed(client, args.prompt_tokens)
    if name == "vllm":
        row["tool_choice"] = await tool_choice_probe(client)
    row["agentic"] = await agentic_runs(client, args.data_dir, args.questions, args.max_steps)
    return row


async def bench_vllm(args: argparse.Namespace) -> dict[str, Any]:
    proc, startup_s = start_vllm(args.port, args.data_dir, REPO / "bench" / "out" / "vllm_server.log")
    try:
        base = f"http://127.0.0.1:{args.port}/v1"
        model = httpx.get(f"{base}/models", timeout=10).json()["data"][0]
        settings = LLMSettings(base_url=base, model=model["id"], context_tokens=model.get("max_model_len") or 8192, timeout_s=900,
                               max_retries=0, max_tokens=512)  # fmt: skip
        client = TimedClient(settings)
        try:
            return await measure("vllm", client, args, startup_s)
        finally:
            await client.close()
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=120)


async def bench_llama(args: argparse.Namespace) -> dict[str, Any]:
    from embedded.endpoint import local_llm_settings
    from embedded.settings import LocalModelSettings
    from embedded.supervisor import LocalModel

    started = time.perf_counter()
    async with LocalModel(LocalModelSettings(), args.data_dir) as model:
        startup_s = time.perf_counter() - started
        client = TimedClient(local_llm_settings(model, LLMSettings(base_url=None)))
        try:
            return await measure("llama.cpp", client, args, startup_s)
        finally:
            await client.close()


def trace_turns(path: Path) -> list[dict[str, Any]]:
    """Per model turn of a recorded run (tests/api/test_vllm_e2e.py's artifacts: {"run", "events"}): tokens, seconds, how
    its tool calls came (text calls carry Sleuth's text_call_N ids), and Sleuth's time from the response to the next request
    with and without the tools it ran meanwhile."""
    events = json.loads(path.read_text())["events"]
    turns: list[dict[str, Any]] = []
    for i, event in enumerate(events):
        if event["type"] != "model_turn" or event.get("agent", "main") != "main":
            continue
        data, ids = event["data"], [c["id"] for c in event["data"]["tool_calls"]]
        turn = {"run": path.stem, "arm": event.get("arm"), "step": data["step"], "prompt_tokens": data["usage"]["prompt_tokens"],
                "completion_tokens": data["usage"]["completion_tokens"], "seconds": data["seconds"],
                "native": sum(not c.startswith("text_call_") for c in ids), "text": sum(c.startswith("text_call_") for c in ids)}  # fmt: skip
        later = events[i + 1 :]
        nxt = next((j for j, e in enumerate(later) if e["type"] == "model_started" and e.get("arm") == event.get("arm")), None)
        if nxt is not None:
            tools = sum(float(e["data"].get("seconds") or 0) for e in later[:nxt] if e["type"] == "tool_result")
            gap = _ts(later[nxt]) - _ts(event)
            turn |= {"gap_s": gap, "own_s": gap - tools}
        turns.append(turn)
    return turns


def _ts(event: dict[str, Any]) -> float:
    ts = event["ts"]
    return ts if isinstance(ts, int | float) else datetime.fromisoformat(ts).timestamp()


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(rows: list[dict[str, Any]]) -> str:
    """The docs' markdown table: one column per backend."""

    def cell(row: dict[str, Any], key: str) -> str:
        s, a = row["speed"], row["agentic"]
        values = {
            "start-up (launch to /health)": f"{row['startup_s']:.0f} s"
            if row["startup_s"] is not None
            else "n/a (already running)",
            "prompt tok/s (cold)": f"{s['prompt_tps']:.0f} ({s['prompt_tokens']} tokens)",
            "generation tok/s": f"{s['gen_tps']:.1f}",
            "second turn, prefix cached vs cold": f"{s['second_turn_cached_s']:.1f} s vs {s['second_turn_cold_s']:.1f} s ({s['second_turn_tokens']} tokens)",
            "agentic runs (status, s)": ", ".join(f"{r['status']} {r['seconds']:.0f}" for r in a["runs"]),
            "turns with tool calls: native / text / none": f"{a['native']} / {a['text']} / {a['no_call']} of {a['turns']}",
            "Sleuth between response and next request (median)": f"{a['gap_median_s'] * 1000:.0f} ms with tools, {a['own_median_s'] * 1000:.0f} ms without",
        }
        return values[key]

    keys = ["start-up (launch to /health)", "prompt tok/s (cold)", "generation tok/s", "second turn, prefix cached vs cold",
            "agentic runs (status, s)", "turns with tool calls: native / text / none", "Sleuth between response and next request (median)"]  # fmt: skip
    lines = ["| | " + " | ".join(r["backend"] for r in rows) + " |", "|---|" + "---|" * len(rows)]
    lines += ["| " + key + " | " + " | ".join(cell(r, key) for r in rows) + " |" for key in keys]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SLEUTH_DATA_DIR", REPO / "data")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("VLLM_PORT", "8001")))
    parser.add_argument("--prompt-tokens", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=2, choices=range(0, len(QUESTIONS) + 1))
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--skip-llama", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "vllm.json")
    parser.add_argument("--trace", type=Path, nargs="*", help="recorded runs to tabulate instead of measuring")
    args = parser.parse_args()
    if args.trace:
        print(
            "| run | arm | step | prompt tokens | completion tokens | s | tool calls native / text | Sleuth to next request (tools) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for path in args.trace:
            for t in trace_turns(path):
                gap = f"{t['own_s'] * 1000:.0f} ms ({t['gap_s'] - t['own_s']:.2f} s)" if "gap_s" in t else "-"
                print(f"| {t['run']} | {t['arm'] or '-'} | {t['step']} | {t['prompt_tokens']} | {t['completion_tokens']} | {t['seconds']:.0f} | "
                      f"{t['native']} / {t['text']} | {gap} |")  # fmt: skip
        return

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = [await bench_vllm(args)]
    args.out.write_text(json.dumps(rows, indent=1, default=str))  # kept if the llama.cpp half is interrupted
    from embedded.model_file import LocalModelError
    from embedded.supervisor import server_launcher

    try:
        server_launcher()  # the prebuilt xllamacpp server or a compiled llama-cpp-python, as the embedded model runs
    except LocalModelError as exc:
        print(f"llama.cpp not measured: {exc}")
    else:
        if not args.skip_llama:
            rows.append(await bench_llama(args))
            args.out.write_text(json.dumps(rows, indent=1, default=str))
    print(table(rows))
    if "tool_choice" in rows[0]:
        print("\ntool_choice on vLLM:")
        for label, found in rows[0]["tool_choice"].items():
            print(f"  {label}: {found}")
    print(f"\n(raw numbers: {args.out})")


if __name__ == "__main__":
    asyncio.run(main())
