"""Embedding benchmark: chunks/s of the Embedder (torch fp32, bf16 autocast, int8 ONNX) on real filing chunks, beside the
FLOP-based bound of this CPU, plus dense search latency. Recall of the runtimes: bench/embed_recall.py.

Usage: python bench/embed.py [--pdfs 3M_2018_10K ADOBE_2015_10K] [--chunks 256] [--reps 2] [--extra] [--compile] [--short]
Chunks are ~250 model tokens cut from FinanceBench filings (../shared/financebench/pdfs beside the checkout).
--extra also measures bf16 weights (model.to(bfloat16)) and int8 dynamic quantization of the Linear layers;
--compile measures torch.compile (slow to warm up). Numbers are best of --reps runs; CPU contention lowers them.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from corpus.extract import extract  # noqa: E402
from retrieval.dense import dense_search  # noqa: E402
from retrieval.embed import Embedder  # noqa: E402

CHUNK_TOKENS = 250


def flops_per_token(tokens: int, layers: int = 6, hidden: int = 384, ffn: int = 1536) -> float:
    """Multiply-adds x2 of one token through a BERT encoder (MiniLM-L6): the linear layers plus attention over `tokens`."""
    linear = 2 * (4 * hidden * hidden + 2 * hidden * ffn)
    attention = 2 * 2 * tokens * hidden
    return layers * (linear + attention)


def peak_gflops(threads: int) -> tuple[dict[str, float], str]:
    """Peak GFLOPS of `threads` cores per arithmetic: fp32 FMA, bf16 dot products (AVX512-BF16/AMX: 2x fp32) and int8
    (VNNI: 4x fp32, else 2x). fp32 FLOP/cycle: AVX-512 with two full-width FMA ports 64; AVX2 (and Zen 4, which runs
    AVX-512 on 256-bit units) 32; else 8."""
    from retrieval.embed import cpu_flags

    flags = cpu_flags()
    ghz, vendor, family = 0.0, "", 0
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "cpu MHz":
                ghz = max(ghz, float(value) / 1000)
            elif key == "vendor_id":
                vendor = value.strip()
            elif key == "cpu family":
                family = int(value)
    except (OSError, ValueError):
        pass
    half_width = vendor == "AuthenticAMD" and family < 26  # Zen 4 and older: 256-bit datapaths
    per_cycle = 64 if "avx512f" in flags and not half_width else 32 if "fma" in flags else 8
    fp32 = threads * (ghz or 2.5) * per_cycle
    peaks = {
        "fp32": fp32,
        "bf16": fp32 * (2 if flags & {"avx512_bf16", "amx_bf16"} else 1),
        "int8": fp32 * (4 if flags & {"avx512_vnni", "avx_vnni", "amx_int8"} else 2),
    }
    return (
        peaks,
        f"{threads} cores x {ghz or 2.5:.2f} GHz x {per_cycle} fp32 FLOP/cycle{' (Zen 4: 256-bit units)' if half_width else ''}",
    )


def filing_chunks(pdf_dir: Path, names: list[str], embedder: Embedder) -> tuple[list[str], list[str]]:
    """(uniform, mixed): 250-token windows over each filing's running text, and per-page windows (page ends are shorter)."""
    tok = embedder._token_counter()
    uniform: list[str] = []
    mixed: list[str] = []
    for name in names:
        pages = extract(pdf_dir / f"{name}.pdf").pages
        for texts, out in (([" \n".join(pages)], uniform), (pages, mixed)):
            for text in texts:
                offsets = tok.encode(text, add_special_tokens=False).offsets
                for start in range(0, len(offsets), CHUNK_TOKENS):
                    end = min(start + CHUNK_TOKENS, len(offsets)) - 1
                    out.append(text[offsets[start][0] : offsets[end][1]])
    return uniform, mixed


def best_rate(fn: Callable[[], object], n: int, reps: int) -> tuple[float, object]:
    """Best items/s over `reps` timed runs after one warm-up run."""
    result = fn()
    best = 0.0
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        best = max(best, n / (time.perf_counter() - start))
    return best, result


def cosines(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    c = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(c.min()), float(c.mean())


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def with_model(model: object, bf16: bool, batch: int) -> Embedder:
    """An Embedder running a given (already transformed) SentenceTransformer."""
    embedder = Embedder(batch_size=batch, bf16=bf16, runtime="torch")
    embedder._model = model
    embedder._use_bf16 = bf16
    return embedder


def interleaved(runs: dict[str, Callable[[], np.ndarray]], n: int, reps: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Best items/s per run; each round times every run once (round 0 warms up), so background load hits them alike."""
    best: dict[str, float] = {}
    outputs: dict[str, np.ndarray] = {}
    for round_ in range(reps + 1):
        for name, fn in runs.items():
            start = time.perf_counter()
            outputs[name] = fn()
            rate = n / (time.perf_counter() - start)
            if round_:
                best[name] = max(best.get(name, 0.0), rate)
            print(f"  round {round_} {name}: {rate:.1f}/s", file=sys.stderr, flush=True)
    return best, outputs


def throughput(model: object, texts: list[str], batches: list[int], args: argparse.Namespace) -> None:
    """chunks/s and cosine to fp32 for each mode and batch size."""
    import torch

    modes: dict[str, tuple[object, bool]] = {"fp32": (model, False), "bf16 autocast (default)": (model, True)}
    if args.extra:
        modes["bf16 weights"] = (copy.deepcopy(model).to(torch.bfloat16), False)
        int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
        modes["int8 dynamic (Linear)"] = (int8, False)
    if args.short:
        short = copy.deepcopy(model)
        short.max_seq_length = 128
        modes["bf16 autocast, first 128 tokens"] = (short, True)
    if args.compile:
        compiled = copy.deepcopy(model)
        compiled[0].model = torch.compile(compiled[0].model, dynamic=True)
        modes["torch.compile + bf16"] = (compiled, True)
    reference = with_model(model, False, 32).encode(texts)
    runs = {}
    for mode, (m, bf16) in modes.items():
        for batch in batches:
            runs[f"{mode}|{batch}"] = with_model(m, bf16, batch).encode
    from retrieval.onnx import int8_available

    if int8_available():
        for batch in batches:
            runs[f"int8 ONNX (onnxruntime)|{batch}"] = Embedder(runtime="onnx-int8", batch_size=batch).encode
    best, vectors = interleaved({k: (lambda e=e: e(texts)) for k, e in runs.items()}, len(texts), args.reps)

    tokens = float(np.mean(np.minimum(Embedder().count_tokens(texts), 254))) + 2
    per_chunk = tokens * flops_per_token(int(tokens))
    peaks, how = peak_gflops(torch.get_num_threads())
    bounds = {kind: peak * 1e9 / per_chunk for kind, peak in peaks.items()}
    rows = []
    for key in runs:
        mode, batch = key.split("|")
        lo, mean = cosines(vectors[key], reference)
        speedup = best[key] / best[f"fp32|{batch}"]
        kind = "int8" if "int8" in mode else "bf16" if "bf16" in mode else "fp32"
        bound = bounds[kind] if "128 tokens" not in mode else peaks[kind] * 1e9 / (130 * flops_per_token(130))
        rows.append(
            [mode, batch, f"{best[key]:.1f}", f"{speedup:.2f}x", f"{bound:.0f} ({kind})", f"{best[key] / bound:.0%}"]
            + [f"{lo:.6f}", f"{mean:.6f}"]
        )
    title = (
        f"Embedding throughput (~250-token filing chunks, {per_chunk / 1e9:.2f} GFLOP each); peaks "
        + ", ".join(f"{kind} {peak:.0f} GFLOPS" for kind, peak in peaks.items())
        + f" ({how})"
    )
    table(title, ["mode", "batch", "chunks/s", "vs fp32", "bound chunks/s", "of bound", "cos min", "cos mean"], rows)


def batch_order(model: object, embedder: Embedder, sample: list[str], reps: int) -> None:
    """Padding saved by forming batches longest-first, on per-page chunks of mixed length."""
    import torch

    lengths = np.minimum(np.asarray(embedder.count_tokens(sample)), embedder.max_tokens) + 2  # + [CLS], [SEP]
    chars = np.asarray([len(t) for t in sample])

    def padded(order: np.ndarray, batch: int = 32) -> float:
        slots = sum(int(lengths[order[s : s + batch]].max()) * len(order[s : s + batch]) for s in range(0, len(order), batch))
        return slots / int(lengths.sum())

    def input_order() -> np.ndarray:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            return np.concatenate([model.encode(sample[s : s + 32], batch_size=32) for s in range(0, len(sample), 32)])

    def by_chars() -> np.ndarray:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            return model.encode(sample, batch_size=32)

    bf16 = with_model(model, True, 32)
    runs = {
        "input order": input_order,
        "by characters (sentence-transformers)": by_chars,
        "by model tokens (Embedder)": lambda: bf16.encode(sample),
    }
    best, _ = interleaved(runs, len(sample), reps)
    orders = [np.arange(len(sample)), np.argsort(-chars, kind="stable"), np.argsort(-lengths, kind="stable")]
    rows = [[name, f"{best[name]:.1f}", f"{padded(order):.3f}"] for name, order in zip(runs, orders)]
    p5, p50 = np.percentile(lengths, 5), np.percentile(lengths, 50)
    title = f"Batch order, bf16 batch 32, {len(sample)} per-page chunks (tokens p5/p50 = {p5:.0f}/{p50:.0f})"
    table(title, ["order", "chunks/s", "padded/real tokens"], rows)


def token_counting(texts: list[str]) -> None:
    """count_tokens throughput from a fresh Embedder (tokenizer only, no weights)."""
    counter = Embedder()
    counter.count_tokens(texts[:10])
    rate, counts = best_rate(lambda: counter.count_tokens(texts), len(texts), 3)
    assert not counter.loaded
    row = [len(texts), f"{rate:,.0f}", f"{rate * float(np.mean(counts)):,.0f}"]
    table("count_tokens (fast tokenizer, batch, no weights loaded)", ["chunks", "chunks/s", "tokens/s"], [row])


def dense_latency(rows_n: int = 80_000, dim: int = 384, runs: int = 50) -> None:
    """Exact dense_search latency at corpus scale (FinanceBench: ~80k chunks), all rows and one document's rows."""
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((rows_n, dim), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = matrix[7]
    one_doc = np.zeros(rows_n, dtype=bool)
    one_doc[:600] = True
    rows = []
    for name, m in (("float32", matrix), ("float16", matrix.astype(np.float16))):
        for label, mask in (("all rows", None), ("600 allowed rows", one_doc)):
            dense_search(m, query, k=10, allowed=mask)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                dense_search(m, query, k=10, allowed=mask)
                times.append((time.perf_counter() - start) * 1e3)
            rows.append([name, label, f"{min(times):.2f}", f"{np.median(times):.2f}", f"{np.percentile(times, 95):.2f}"])
    table(f"dense_search, {rows_n:,} x {dim}, k=10", ["dtype", "rows", "min ms", "p50 ms", "p95 ms"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf-dir", type=Path, default=REPO.parent / "shared" / "financebench" / "pdfs")
    parser.add_argument("--pdfs", nargs="+", default=["3M_2018_10K", "ADOBE_2015_10K"])
    parser.add_argument("--chunks", type=int, default=256, help="chunks per timed run")
    parser.add_argument("--batches", default="16,32,64")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--extra", action="store_true", help="also bf16 weights and int8 dynamic quantization")
    parser.add_argument("--compile", action="store_true", help="also torch.compile (bf16 autocast, dynamic shapes)")
    parser.add_argument("--short", action="store_true", help="also bf16 on each chunk's first 128 tokens (the cap)")
    parser.add_argument("--sections", default="throughput,order,tokens,dense", help="tables to print, comma-separated")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    warnings.filterwarnings("ignore")
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    base = Embedder(bf16=False, runtime="torch")
    uniform, mixed = filing_chunks(args.pdf_dir, args.pdfs, base)
    texts = uniform[: args.chunks]
    model = base._load()
    lengths = np.asarray(base.count_tokens(texts))
    load = os.getloadavg()[0]
    print(
        f"# Embedder benchmark: {base.name}, torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load:.1f}"
    )
    spread = "/".join(f"{np.percentile(lengths, q):.0f}" for q in (5, 50, 95))
    print(f"{len(texts)} chunks from {', '.join(args.pdfs)}: tokens p5/p50/p95 = {spread}")
    if "throughput" in sections:
        throughput(model, texts, [int(b) for b in args.batches.split(",")], args)
    if "order" in sections:
        batch_order(model, base, mixed[: args.chunks], args.reps)
    if "tokens" in sections:
        token_counting(uniform + mixed)
    if "dense" in sections:
        dense_latency()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
