"""Prompts of the evaluation harness are files; `load(name)` reads evals/prompts/<name>.md."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    return files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8").strip()
