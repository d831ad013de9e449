"""`sleuth tool NAME 'JSON'`: one agent tool call exactly as the model makes it, with an optional call log."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from corpus.catalog import Corpus
from corpus.settings import CorpusSettings
from tests.corpus.samples import TEN_K_PAGES, write_pdf
from tools import REGISTRY, ToolContext


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SLEUTH_DATABASE_URL", raising=False)
    monkeypatch.delenv("SLEUTH_TOOL_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    assert invoke("ingest", "--no-index", str(tmp_path / "ACME_2022_10K.pdf")).exit_code == 0
    return invoke


def test_list_prints_the_schemas_the_model_is_offered(run):
    result = run("tool", "--list")
    assert result.exit_code == 0
    assert json.loads(result.output) == REGISTRY.schemas()


def test_a_call_prints_what_the_model_sees_and_logs_it(run, tmp_path):
    arguments = {"doc_id": "ACME_2022_10K", "pages": "4"}
    log = tmp_path / "calls.jsonl"
    result = run("tool", "read", json.dumps(arguments), "--log", str(log))
    assert result.exit_code == 0, result.output
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path / "data"))
    try:
        expected = REGISTRY.call("read", arguments, ToolContext(corpus)).text
    finally:
        corpus.close()
    assert result.output == expected + "\n"
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["name"] == "read" and record["arguments"] == arguments and record["ok"] is True
    assert record["chars"] == len(expected) and record["seconds"] >= 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch", "{}"), "no tool named 'nosuch'"),
        (("read", "{not json"), "not valid JSON"),
        (("read", '{"doc_id": "ACME_2022_10K", "pages": "4", "bogus": 1}'), "invalid arguments for read"),
    ],
)
def test_bad_calls_print_the_teaching_error_and_exit_1(run, args, message):
    result = run("tool", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_no_name_is_a_usage_error(run):
    result = run("tool")
    assert result.exit_code == 2
    assert "--list" in result.output
