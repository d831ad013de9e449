"""No figure from a development question's answer may appear in a prompt or a tool description the model reads."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from agent.citations import figures
from agent.drafts import answer_schema
from agent.research import _SUBQUESTION_SCHEMA
from tests.conftest import financebench_path
from tools import REGISTRY


def _values(text: str) -> set[float]:
    """Telling figures (no years, no one- or two-digit integers) as numbers, so '1,577' and '1577.00' are one."""
    out = set()
    for f in figures(text, telling=True):
        try:
            out.add(round(float(f), 4))
        except ValueError:
            continue
    return out


def _model_facing_texts() -> dict[str, str]:
    texts = {
        f"agent/prompts/{p.name}": p.read_text(encoding="utf-8")
        for p in files("agent.prompts").iterdir()
        if p.name.endswith(".md")
    }
    texts |= {
        f"evals/prompts/{p.name}": p.read_text(encoding="utf-8")
        for p in files("evals.prompts").iterdir()
        if p.name.endswith(".md")
    }
    for schema in [*REGISTRY.schemas(), answer_schema(), _SUBQUESTION_SCHEMA]:
        texts[f"tool schema {schema['function']['name']}"] = json.dumps(schema)
    return texts


def _dev_answers() -> list[tuple[str, str]]:
    path = financebench_path() / "questions_dev.jsonl"
    if not path.is_file():
        pytest.skip(f"no dev questions at {path}")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r.get("financebench_id", "?"), str(r.get("answer", ""))) for r in rows]


def test_prompts_and_tool_schemas_carry_no_dev_answer_figure():
    answers = _dev_answers()
    assert len(answers) >= 10
    leaks = []
    for where, text in _model_facing_texts().items():
        found = _values(text)
        for qid, answer in answers:
            for value in _values(answer) & found:
                leaks.append(f"{where}: {value:g} (answer of {qid})")
    assert not leaks, "dev answers in model-facing text:\n" + "\n".join(leaks)


def test_the_scan_finds_a_planted_answer():
    # The check itself must be able to fail: a prompt quoting the 3M capex answer is caught.
    answers = dict(_dev_answers())
    planted = 'e.g. "1,577 / 32,765 = 4.8%"'
    assert any(_values(planted) & _values(a) for a in answers.values())
