"""Shared fixtures: where the FinanceBench filings are, and extracted text of real filings."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

from corpus.extract import extract
from corpus.text import PagedText

REPO_ROOT = Path(__file__).resolve().parent.parent


def financebench_path() -> Path:
    """SLEUTH_FINANCEBENCH_DIR, else ../shared/financebench beside the checkout."""
    env = os.environ.get("SLEUTH_FINANCEBENCH_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "financebench"


@pytest.fixture(scope="session")
def financebench_dir() -> Path:
    path = financebench_path()
    if not (path / "pdfs").is_dir():
        pytest.skip(f"FinanceBench data not found at {path} (set SLEUTH_FINANCEBENCH_DIR)")
    return path


@lru_cache(maxsize=64)
def _paged(pdf: str) -> PagedText:
    return PagedText.from_pages(extract(Path(pdf)).pages)


@pytest.fixture(scope="session")
def filing_text(financebench_dir: Path):
    """Callable: doc name (e.g. '3M_2018_10K') -> PagedText of that filing, cached."""

    def load(doc_name: str) -> PagedText:
        return _paged(str(financebench_dir / "pdfs" / f"{doc_name}.pdf"))

    return load
