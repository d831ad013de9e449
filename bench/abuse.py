"""Abuse benchmark: a real `sleuth serve` keeps answering while pathological files are uploaded and bad input is hammered,
and while one API key attacks the others' fair share (`--part fairness`, bench/fairness.py).

Usage: python bench/abuse.py [--part files|fairness|all] [--runs 20] [--rounds 30] [--timeout-s 5] [--memory-mb 250] [--max-pages 200]

A `sleuth serve` on a loopback port (a temporary data directory with one synthetic filing, SQLite) talks to the
scripted fake model (tests/fakes/fake_llm.py, in its own process, as in bench/api.py). While `--runs` agentic runs
(grep, then a cited answer) proceed, the script uploads the files that froze or broke the server before
(quadratic style sheets, unclosed tags, a file past the time limit, one past the memory limit, a PDF past the page
limit, a corrupt PDF) and hammers bad-input routes for `--rounds` rounds. A thread probes /healthz every 50 ms.

Printed: /healthz latency p50/p99/max during the attack (target p99 < 200 ms), runs finished and lost (target: all,
none), the time each bad file took to be refused and why, and the status codes the bad-input routes answered.
Everything is bounded (fixed counts, a deadline) and loopback only; the server and the fake model are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx

from embedded.supervisor import free_port


def _bench_api():  # noqa: ANN202
    """bench/api.py (its server, fake model and SSE client), loaded by path: its name would shadow the `api` package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_api", REPO / "bench" / "api.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_api"] = module
    spec.loader.exec_module(module)
    return module


_api = _bench_api()
FakeModel, Server, RunResult, client_for, follow, one_run, pct = (
    _api.FakeModel,
    _api.Server,
    _api.RunResult,
    _api.client_for,
    _api.follow,
    _api.one_run,
    _api.pct,
)

QUESTION = "What was 3M's FY2018 capital expenditure (purchases of property, plant and equipment)?"
DEADLINE_S = 600


def synthetic_filing(folder: Path) -> Path:
    """3M_2018_10K.txt: 60 form-feed pages, page 60 holds the line the fake model's answer cites."""
    pages = [
        f"3M COMPANY\nFORM 10-K\nFor the fiscal year ended December 31, 2018\nPage {n} of the annual report."
        for n in range(1, 60)
    ]
    pages.append("Consolidated Statement of Cash Flows\nPurchases of property, plant and equipment (PP&E) (1,577)\nEnd.")
    path = folder / "3M_2018_10K.txt"
    path.write_text("\f".join(pages), encoding="utf-8")
    return path


def bad_files(folder: Path, max_pages: int) -> dict[str, tuple[str, bytes, str]]:
    """name -> (upload file name, bytes, what it attacks)."""
    import pymupdf

    doc = pymupdf.open()
    for n in range(max_pages + 50):
        doc.new_page().insert_text((72, 72), f"Page {n + 1}: revenue was {n},000.")
    long_pdf = doc.tobytes()
    doc.close()
    slow = "FORM 10-K\nItem 7. Management's Discussion and Analysis\n" + "\n".join(
        f"Line {n}: revenue was {n:,} million. See Note {n % 20}." for n in range(700_000)
    )
    with (folder / "memory.txt").open("w") as fh:  # built on disk: the bench itself stays small
        fh.write("FORM 10-K\n")
        for _ in range(1600):
            fh.write(("Revenue was 1,577 million in the year. " * 25 + "\n") * 25)
    return {
        "style + 2 MB of a (closed)": (
            "STYLE_A_10K.html",
            b"<html><style>" + b"a" * 2_000_000 + b"</style><p>x</p></html>",
            "quadratic CSS regex",
        ),
        "style + 2 MB of a (unclosed)": ("STYLE_OPEN_10K.html", b"<html><style>" + b"a" * 2_000_000, "quadratic CSS regex"),
        "290k unclosed <style>": ("STYLES_10K.html", b"<html>" + b"<style>" * 290_000, "quadratic style-block regex"),
        "2 MB of '<'": ("ANGLES_10K.html", b"<" * 2_000_000, "quadratic tag regex"),
        f"{len(slow) >> 20} MB text, 700k short lines": ("SLOW_10K.txt", slow.encode(), "per-file time or memory limit"),
        "40 MB text, 40k long lines": ("MEMORY_10K.txt", (folder / "memory.txt").read_bytes(), "per-file time or memory limit"),
        f"PDF of {max_pages + 50} pages": ("PAGES_10K.pdf", long_pdf, "page limit"),
        "corrupt PDF": ("CORRUPT_10K.pdf", b"%PDF-1.7\n" + os.urandom(50_000), "PDF parser errors"),
    }


class Prober(threading.Thread):
    """GET /healthz every 50 ms from its own thread and connection, recording latencies until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.latencies, self.failures = url, [], 0
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stopped.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append((time.perf_counter() - started) * 1000)
                self.failures += not ok
                self.stopped.wait(0.05)


async def upload(client: httpx.AsyncClient, label: str, file: tuple[str, bytes, str]) -> tuple[str, float, str]:
    """Upload one bad file; (label, seconds until it was refused, why)."""
    name, data, _ = file
    started = time.perf_counter()
    reply = await client.post("/v1/documents", files=[("files", (name, data, "application/octet-stream"))])
    if reply.status_code != 202:
        return label, time.perf_counter() - started, f"HTTP {reply.status_code}: {reply.json().get('detail', '')[:110]}"
    result = RunResult(run_id=reply.json()["id"], started=started)
    await follow(client, result.run_id, result)
    run = (await client.get(f"/v1/runs/{result.run_id}")).json()
    files = (run.get("result") or {}).get("files") or [{}]
    why = files[0].get("reason") or run.get("error") or files[0].get("status") or run["status"]
    return label, time.perf_counter() - started, f"{files[0].get('status', run['status'])}: {why}"[:140]


BAD_REQUESTS = [
    ("GET", "/v1/runs", {"params": {"limit": 10**9}}),
    ("GET", "/v1/runs", {"params": {"offset": -1}}),
    ("GET", "/v1/runs/00000000-0000-0000-0000-000000000000/events", {}),
    ("GET", "/v1/runs/not-a-run", {}),
    ("POST", "/v1/runs", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
    ("POST", "/v1/runs", {"json": {"question": "x" * 200_000, "mode": "agentic"}}),
    ("POST", "/v1/runs", {"json": {"question": "q", "mode": "nonsense"}}),
    ("POST", "/v1/runs", {"json": {"question": "q", "mode": "agentic", "budgets": {"max_steps": 10**9}}}),
    (
        "POST",
        "/v1/runs",
        {"json": {"question": "q", "mode": "agentic", "filters": {"doc_ids": [f"NOPE_{n}" for n in range(200)]}}},
    ),
    ("GET", "/v1/documents/..%2F..%2Fetc%2Fpasswd/pages/1", {}),
    ("GET", "/v1/documents/NOPE_2020_10K/pages/1", {}),
    ("GET", "/v1/documents/3M_2018_10K/pages/99999", {}),
    ("DELETE", "/v1/documents/NOPE_2020_10K", {}),
    ("POST", "/v1/documents", {"files": [("files", ("../../evil.txt", b"x", "text/plain"))]}),
    ("POST", "/v1/documents", {"files": [("files", ("evil.pdf", b"\x89PNG\r\n" + b"\0" * 64, "application/pdf"))]}),
    ("POST", "/v1/runs/00000000-0000-0000-0000-000000000000/vote", {"json": {"winner": "agentic"}}),
]


async def hammer(client: httpx.AsyncClient, rounds: int) -> Counter[str]:
    codes: Counter[str] = Counter()
    for _ in range(rounds):
        for method, path, kwargs in BAD_REQUESTS:
            try:
                reply = await client.request(method, path, **kwargs)
                codes[f"{reply.status_code}"] += 1
                if reply.status_code >= 500:
                    codes[f"5xx {method} {path[:40]}"] += 1
            except httpx.HTTPError as exc:
                codes[f"error {type(exc).__name__}"] += 1
        await asyncio.sleep(0.02)
    return codes


async def attack(
    url: str, args: argparse.Namespace, files: dict[str, tuple[str, bytes, str]]
) -> tuple[list[RunResult], list, Counter[str]]:
    async with client_for(url, args.runs + 16) as client:
        gate = asyncio.Semaphore(args.runs)
        runs = [asyncio.create_task(one_run(client, gate, f"{QUESTION} #{n}", mode="agentic")) for n in range(args.runs)]
        await asyncio.sleep(0.5)  # the runs are under way when the files arrive
        uploads = [asyncio.create_task(upload(client, label, file)) for label, file in files.items()]
        codes = await hammer(client, args.rounds)
        done = await asyncio.wait_for(asyncio.gather(*runs, *uploads), DEADLINE_S)
    return done[: args.runs], done[args.runs :], codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        choices=["files", "fairness", "all"],
        default="all",
        help="files: bad files and input; fairness: one key against the others",
    )
    parser.add_argument(
        "--database-url", default=None, help="fairness: the catalog database (default: SQLite in the temporary data dir)"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the bad-input requests")
    parser.add_argument("--timeout-s", type=float, default=5.0, help="SLEUTH_CORPUS_INGEST_TIMEOUT_S of the server")
    parser.add_argument("--memory-mb", type=int, default=250, help="SLEUTH_CORPUS_INGEST_MAX_MEMORY_MB of the server")
    parser.add_argument("--max-pages", type=int, default=200, help="SLEUTH_CORPUS_INGEST_MAX_PAGES of the server")
    args = parser.parse_args()
    ok = True
    if args.part in {"files", "all"}:
        ok = files_part(args)
    if args.part in {"fairness", "all"}:
        from bench.fairness import fairness_part

        ok = fairness_part(args.database_url) and ok
    sys.exit(0 if ok else 1)


def files_part(args: argparse.Namespace) -> bool:
    """The pathological files and bad input; True when every target was met."""
    with tempfile.TemporaryDirectory(prefix="sleuth-abuse-") as tmp:
        root = Path(tmp)
        data = root / "data"
        (root / "in").mkdir()
        os.environ.update(
            SLEUTH_DATA_DIR=str(data),
            SLEUTH_CORPUS_INGEST_TIMEOUT_S=str(args.timeout_s),
            SLEUTH_CORPUS_INGEST_MAX_MEMORY_MB=str(args.memory_mb),
            SLEUTH_CORPUS_INGEST_MAX_PAGES=str(args.max_pages),
            SLEUTH_CORPUS_INGEST_WORKERS="1",
            SLEUTH_API_UPLOAD_MAX_MB="100",
        )
        os.environ.pop("SLEUTH_DATABASE_URL", None)
        from corpus.catalog import Corpus
        from corpus.ingest import ingest_paths

        corpus = Corpus.open()
        assert ingest_paths(corpus, [synthetic_filing(root / "in")]).ok
        corpus.close()
        files = bad_files(root, args.max_pages)
        with FakeModel() as model:
            server = Server(data, model.base_url, free_port(), max_running=4, log=root / "server.log")
            prober = Prober(server.url)
            try:
                prober.start()
                time.sleep(1.0)
                idle = list(prober.latencies)
                started = time.perf_counter()
                runs, uploads, codes = asyncio.run(attack(server.url, args, files))
                attack_s = time.perf_counter() - started
                prober.stopped.set()
                prober.join(5)
                alive = server.proc.poll() is None
            finally:
                prober.stopped.set()
                server.stop()
            log_tail = (root / "server.log").read_text(errors="replace")[-1500:]

    during = prober.latencies[len(idle) :]
    finished = [r for r in runs if r.ended and r.status == "answered"]
    lost = [r for r in runs if not r.ended or r.error]
    print(
        f"\nAbuse benchmark: {args.runs} agentic runs, {len(files)} bad files, {args.rounds} rounds of {len(BAD_REQUESTS)} bad requests, "
        f"{attack_s:.1f} s under attack (timings on a shared machine)\n"
    )
    print("| measure | value | target |\n|---|---|---|")
    print(f"| /healthz p50 during the attack | {statistics.median(during):.1f} ms | |")
    print(f"| /healthz p99 during the attack | {pct(during, 99):.1f} ms | < 200 ms |")
    print(f"| /healthz max during the attack | {max(during):.1f} ms ({len(during)} probes, {prober.failures} failed) | |")
    print(f"| /healthz p50 before the attack | {statistics.median(idle):.1f} ms | |")
    print(f"| runs finished (answered) | {len(finished)} / {args.runs} | all |")
    print(f"| runs lost | {len(lost)} | none |")
    print(f"| server alive at the end | {'yes' if alive else 'NO'} | yes |")
    print("\n| bad file | refused after | how |\n|---|---|---|")
    for label, seconds, why in uploads:
        print(f"| {label} | {seconds:.2f} s | {why.replace('|', '/')} |")
    print("\n| bad-input replies | count |\n|---|---|")
    for code, n in sorted(codes.items()):
        print(f"| {code} | {n} |")
    for r in lost:
        print(f"lost run {r.run_id}: {r.error}")
    if lost or not alive:
        print("\nserver log tail:\n" + log_tail)
    return not lost and alive and pct(during, 99) < 200


if __name__ == "__main__":
    main()
