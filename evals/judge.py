"""An optional LLM judge: any configured model grades an answer against the gold answer, with its reason kept."""

from __future__ import annotations

import json
import re

from agent.llm import LLMClient, LLMError
from evals.prompts import load

_JSON = re.compile(r"\{.*\}", re.DOTALL)


async def judge(llm: LLMClient, question: str, gold: str, answer: str) -> dict[str, str]:
    """{"verdict": correct | incorrect | error, "reason": ...}."""
    messages = [
        {"role": "system", "content": load("judge")},
        {"role": "user", "content": f"Question: {question}\n\nGold answer: {gold}\n\nAnswer to grade: {answer}"},
    ]
    try:
        response = await llm.complete(messages, max_tokens=200)
    except LLMError as exc:
        return {"verdict": "error", "reason": f"the judge model failed: {exc}"}
    found = _JSON.search(response.content or "")
    try:
        data = json.loads(found.group(0)) if found else {}
    except json.JSONDecodeError:
        data = {}
    verdict = str(data.get("verdict", "")).lower()
    if verdict not in ("correct", "incorrect"):
        return {"verdict": "error", "reason": f"the judge's reply was not a verdict: {(response.content or '')[:200]!r}"}
    return {"verdict": verdict, "reason": str(data.get("reason", ""))[:500]}
