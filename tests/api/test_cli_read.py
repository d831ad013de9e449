"""`sleuth read`: prints exactly what the agent's read tool returns, for pages, sections and lines."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from corpus.catalog import Corpus
from corpus.settings import CorpusSettings
from tests.corpus.samples import TEN_K_PAGES, write_pdf
from tools import REGISTRY, ToolContext


@pytest.fixture
def run(tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(tmp_path / "data"), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    assert invoke("ingest", "--no-index", str(tmp_path / "ACME_2022_10K.pdf")).exit_code == 0
    return invoke


def _tool(tmp_path, arguments: dict) -> str:
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path / "data"))
    try:
        call = REGISTRY.call("read", arguments, ToolContext(corpus))
    finally:
        corpus.close()
    assert call.ok, call.text
    return call.text


@pytest.mark.parametrize(
    ("flags", "arguments"),
    [
        (("--pages", "5-6"), {"pages": "5-6"}),
        (("--section", "Item 7"), {"section": "Item 7"}),
        (("--lines", "3-9"), {"lines": "3-9"}),
        (("--pages", "2", "--max-tokens", "150"), {"pages": "2", "max_tokens": 150}),
        ((), {}),
    ],
)
def test_read_prints_what_the_tool_returns(run, tmp_path, flags, arguments):
    result = run("read", "ACME_2022_10K", *flags)
    assert result.exit_code == 0, result.output
    assert result.output == _tool(tmp_path, {"doc_id": "ACME_2022_10K", **arguments}) + "\n"
    assert result.output.startswith("ACME_2022_10K: Acme Widgets")


def test_read_shows_page_markers_and_numbered_lines(run):
    out = run("read", "ACME_2022_10K", "--pages", "4").output
    assert "Reading page 4" in out and "Item 7. Management" in out


def test_read_errors_speak_to_the_user(run):
    unknown = run("read", "ACME_2019_10K", "--pages", "1")
    assert unknown.exit_code == 1 and "ACME_2022_10K" in unknown.output
    beyond = run("read", "ACME_2022_10K", "--pages", "99")
    assert beyond.exit_code == 1 and "pages 1-" in beyond.output
    two = run("read", "ACME_2022_10K", "--pages", "1", "--lines", "1-3")
    assert two.exit_code == 2 and "only one of --pages, --section, --lines" in two.output
