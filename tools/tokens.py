"""Token budgeting for tool output.

Tool output is measured with a documented approximation rather than a model tokenizer, so budgets
hold for any configured model family: one token per 4 characters (English filings with figures
average 4.2-4.7 characters per token with MiniLM/Qwen/Llama tokenizers, so this errs on the safe side).
"""

from __future__ import annotations

CHARS_PER_TOKEN = 4


def count_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def cap(text: str, max_tokens: int, hint: str) -> str:
    """`text` cut to `max_tokens` at a line break, with a note saying how much was left out and what to do."""
    limit = max_tokens * CHARS_PER_TOKEN
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    cut = cut if cut > limit // 2 else limit
    left = count_tokens(text[cut:])
    return f"{text[:cut]}\n[... output cut here: about {left:,} more tokens not shown; {hint}]"
