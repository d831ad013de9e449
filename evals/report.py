"""The evaluation report: a table per mode (and model), and the questions where the modes disagree; markdown and JSON."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def _rate(flags: list[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (mode, model)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["mode"], r["model"])].append(r)
    rows = []
    for (mode, model), rs in sorted(groups.items()):
        precision = [r["citation_precision"] for r in rs if r["citation_precision"] is not None]
        rows.append(
            {
                "mode": mode,
                "model": model,
                "questions": len(rs),
                "scored": sum(r["correct"] is not None for r in rs),
                "accuracy": _rate([r["correct"] for r in rs]),
                "refusal_rate": _rate([r["refusal"] for r in rs]),
                "failed": sum(r["status"] == "failed" for r in rs),
                "evidence_page_hit_rate": _rate([r["evidence_seen"] for r in rs]),
                "evidence_cited_rate": _rate([r["evidence_cited"] for r in rs]),
                "citation_precision": statistics.fmean(precision) if precision else None,
                "latency_p50_s": _pct([r["latency_s"] for r in rs], 50),
                "latency_p95_s": _pct([r["latency_s"] for r in rs], 95),
                "llm_calls_mean": statistics.fmean(r["llm_calls"] for r in rs),
                "tokens_mean": statistics.fmean(r["prompt_tokens"] + r["completion_tokens"] for r in rs),
                "tool_calls_mean": statistics.fmean(r["tool_calls"] for r in rs),
            }
        )
    return rows


def _accuracy(rs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"n": len(rs), "scored": sum(r["correct"] is not None for r in rs), "accuracy": _rate([r["correct"] for r in rs])}


def thread_summary(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (mode, model), over the turns of follow-up threads: accuracy by turn index, by what a follow-up refers to,
    over later turns and overall; threads right at every turn; the memory later turns carried; condensed questions."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("thread"):
            groups[(r["mode"], r["model"])].append(r)
    rows = []
    for (mode, model), rs in sorted(groups.items()):
        threads: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_turn: dict[int, list[dict[str, Any]]] = defaultdict(list)
        by_reference: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rs:
            threads[r["thread"]].append(r)
            by_turn[r["turn"]].append(r)
            if r.get("refers_to"):
                by_reference[r["refers_to"]].append(r)
        later = [r for r in rs if r["turn"] > 1]
        memory = [r["memory"]["tokens"] for r in later if r.get("memory")]
        rows.append(
            {
                "mode": mode,
                "model": model,
                "threads": len(threads),
                "turns": len(rs),
                "overall": _accuracy(rs),
                "by_turn": {str(t): _accuracy(by_turn[t]) for t in sorted(by_turn)},
                "later_turns": _accuracy(later),
                "by_reference": {k: _accuracy(v) for k, v in sorted(by_reference.items())},
                "threads_all_correct": _rate([all(r["correct"] for r in t) for t in threads.values()]),
                "later_turns_with_memory": len(memory),
                "memory_tokens_mean": statistics.fmean(memory) if memory else None,
                "condensed_questions": sum(bool(r.get("condensed_question")) for r in later),
            }
        )
    return rows


def disagreements(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Questions where the (mode, model) runs do not all agree on correctness."""
    by_q: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_q[r["qid"]].append(r)
    out = []
    for qid, rs in sorted(by_q.items()):
        verdicts = {f"{r['mode']}/{r['model']}": r["correct"] for r in rs}
        if len({v for v in verdicts.values() if v is not None}) > 1:
            out.append(
                {
                    "qid": qid,
                    "question": rs[0]["question"],
                    "gold": rs[0]["gold"],
                    "verdicts": verdicts,
                    "answers": {f"{r['mode']}/{r['model']}": r["answer"] for r in rs},
                }
            )
    return out


def _fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "–"
    if kind == "%":
        return f"{100 * value:.0f}%"
    if isinstance(value, float):
        return f"{value:.2f}" if kind != "s" else f"{value:.1f}"
    return str(value)


def write_report(records: list[dict[str, Any]], out_dir: Path, title: str) -> tuple[Path, Path]:
    """report.md and report.json in `out_dir`."""
    rows, split, threads = summarize(records), disagreements(records), thread_summary(records)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"title": title, "summary": rows, "threads": threads, "disagreements": split}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2))
    turns = {r["qid"] for r in records if r.get("thread")}
    in_threads = (
        f", {len(turns)} of them turns of {len({r['thread'] for r in records if r.get('thread')})} follow-up threads"
        if turns
        else ""
    )
    intro = (
        f"{len({r['qid'] for r in records})} questions{in_threads}; accuracy over scored answers (numeric verifier, "
        "LLM judge when enabled, yes/no for qualitative golds)."
    )
    lines = [
        f"# {title}",
        "",
        intro,
        "",
        "| mode | model | n | scored | accuracy | refusals | failed | evidence page seen | evidence cited | citation precision | p50 s | p95 s | LLM calls | tokens | tool calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['mode']} | {r['model']} | {r['questions']} | {r['scored']} | {_fmt(r['accuracy'], '%')} | {_fmt(r['refusal_rate'], '%')} | "
            f"{r['failed']} | {_fmt(r['evidence_page_hit_rate'], '%')} | {_fmt(r['evidence_cited_rate'], '%')} | "
            f"{_fmt(r['citation_precision'], '%')} | {_fmt(r['latency_p50_s'], 's')} | {_fmt(r['latency_p95_s'], 's')} | "
            f"{r['llm_calls_mean']:.1f} | {r['tokens_mean']:,.0f} | {r['tool_calls_mean']:.1f} |"
        )
    lines += _thread_lines(threads)
    lines += ["", "## Where the modes disagree", ""]
    if not split:
        lines.append("Nowhere: every scored question got the same verdict in every mode.")
    else:
        arms = sorted({k for d in split for k in d["verdicts"]})
        lines += ["| question | gold | " + " | ".join(arms) + " |", "|---|---|" + "---|" * len(arms)]
        for d in split:
            cells = ["✓" if d["verdicts"].get(a) else "✗" if d["verdicts"].get(a) is False else "–" for a in arms]
            lines.append(
                f"| {d['question'][:90].replace('|', '/')} | {d['gold'][:40].replace('|', '/')} | " + " | ".join(cells) + " |"
            )
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return out_dir / "report.md", out_dir / "report.json"


def _cell(a: dict[str, Any] | None) -> str:
    return "–" if not a or a["accuracy"] is None else f"{_fmt(a['accuracy'], '%')} of {a['scored']}"


def _thread_lines(threads: list[dict[str, Any]]) -> list[str]:
    """The follow-up section: accuracy by turn and by what the follow-up refers to, per mode and model."""
    if not threads:
        return []
    depth = max(int(t) for row in threads for t in row["by_turn"])
    kinds = sorted({k for row in threads for k in row["by_reference"]})
    turn_heads = " | ".join(f"turn {t}" for t in range(1, depth + 1))
    lines = [
        "",
        "## Follow-up threads",
        "",
        "Each later turn ran with the memory of the earlier turns of its thread in the same mode (RAG: condensed into a "
        "standalone question first). Accuracy over scored turns.",
        "",
        f"| mode | model | threads | {turn_heads} | later turns | all turns | threads right throughout | later turns with memory | memory tokens (mean) | condensed questions |",
        "|---|---|---|" + "---|" * depth + "---|---|---|---|---|---|",
    ]
    for row in threads:
        cells = " | ".join(_cell(row["by_turn"].get(str(t))) for t in range(1, depth + 1))
        lines.append(
            f"| {row['mode']} | {row['model']} | {row['threads']} | {cells} | {_cell(row['later_turns'])} | {_cell(row['overall'])} | "
            f"{_fmt(row['threads_all_correct'], '%')} | {row['later_turns_with_memory']} | "
            f"{_fmt(None if row['memory_tokens_mean'] is None else round(row['memory_tokens_mean']))} | {row['condensed_questions']} |"
        )
    if kinds:
        lines += ["", "By what the follow-up refers to:", "", "| mode | model | " + " | ".join(kinds) + " |"]
        lines.append("|---|---|" + "---|" * len(kinds))
        for row in threads:
            lines.append(
                f"| {row['mode']} | {row['model']} | " + " | ".join(_cell(row["by_reference"].get(k)) for k in kinds) + " |"
            )
    return lines
