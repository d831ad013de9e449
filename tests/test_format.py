"""The code is formatted as ruff formats it (line length 130) and its imports are used and sorted: CI fails otherwise."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the dev extra)")
    return [found]


def test_the_code_is_ruff_formatted():
    result = subprocess.run([*_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"run `ruff format .` to fix:\n{result.stdout}{result.stderr}"


def test_imports_are_used_and_sorted():
    result = subprocess.run([*_ruff(), "check", "--select", "F,I", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"run `ruff check --select F,I --fix .` to fix:\n{result.stdout}{result.stderr}"
