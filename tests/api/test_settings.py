"""One settings object: get_settings() composes every section; old variable names still work; the reference pages are current."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from api.cli import app
from api.cli.reference import ESSENTIAL, REGENERATE, cli_markdown, configuration_markdown, env_names, section_classes
from api.settings import Settings, get_settings
from corpus.settings import CorpusSettings
from retrieval.settings import RetrievalSettings
from tests.conftest import REPO_ROOT

# SLEUTH_ variables in the repository's files that are not settings: the Makefile's folder to ingest, test and bench knobs.
NOT_SETTINGS = {"SLEUTH_CORPUS", "SLEUTH_FINANCEBENCH_DIR", "SLEUTH_BENCH_DATA"}


def all_env_names() -> set[str]:
    return {
        n for cls in section_classes().values() for name, field in cls.model_fields.items() for n in env_names(cls, name, field)
    }


def test_get_settings_composes_every_section_once(sleuth_env):
    settings = sleuth_env(SLEUTH_DATA_DIR="/srv/sleuth", SLEUTH_LLM_MODEL="m", SLEUTH_API_PORT="9000", SLEUTH_TOOL_TIMEOUT_S="5")
    assert (str(settings.corpus.data_dir), settings.llm.model, settings.api.port, settings.tools.timeout_s) == (
        "/srv/sleuth",
        "m",
        9000,
        5,
    )
    assert get_settings() is settings, "read once, then cached"
    assert set(Settings.model_fields) == {"corpus", "edgar", "retrieval", "tools", "agent", "llm", "embedded", "export", "api"}
    assert all(field.description for field in Settings.model_fields.values())
    assert sleuth_env(SLEUTH_API_PORT=None).api.port == 8000


def test_every_setting_has_a_description_and_one_name():
    names: dict[str, str] = {}
    for section, cls in section_classes().items():
        for name, field in cls.model_fields.items():
            assert field.description, f"{cls.__name__}.{name} has no description"
            for env in env_names(cls, name, field):
                assert env not in names, f"{env} is read by both {names[env]} and {section}.{name}"
                names[env] = f"{section}.{name}"


def test_old_names_still_work_and_the_new_name_wins(monkeypatch):
    monkeypatch.setenv("SLEUTH_INGEST_TIMEOUT_S", "7")
    monkeypatch.setenv("SLEUTH_INDEX_URL", "http://milvus:19530")
    monkeypatch.setenv("SLEUTH_RERANK", "remote")
    monkeypatch.setenv("SLEUTH_CHUNK_TOKENS", "128")
    assert CorpusSettings().ingest_timeout_s == 7
    retrieval = RetrievalSettings()
    assert (retrieval.index_url, retrieval.rerank, retrieval.chunk_tokens) == ("http://milvus:19530", "remote", 128)
    monkeypatch.setenv("SLEUTH_RETRIEVAL_CHUNK_TOKENS", "64")
    monkeypatch.setenv("SLEUTH_CORPUS_INGEST_TIMEOUT_S", "9")
    assert (RetrievalSettings().chunk_tokens, CorpusSettings().ingest_timeout_s) == (64, 9)
    assert RetrievalSettings(chunk_tokens=96).chunk_tokens == 96, "code still sets fields by name"
    for cls, prefix in ((CorpusSettings, "SLEUTH_CORPUS_"), (RetrievalSettings, "SLEUTH_RETRIEVAL_")):
        for name, field in cls.model_fields.items():
            if name not in {"data_dir", "database_url"}:
                assert env_names(cls, name, field) == [f"{prefix}{name}".upper(), f"SLEUTH_{name}".upper()]


def test_every_variable_the_repository_sets_is_a_setting():
    known = all_env_names()
    for path in (
        "docker-compose.yml",
        ".env.example",
        "Dockerfile",
        "Makefile",
        *[str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "scripts").iterdir()],
    ):
        text = (REPO_ROOT / path).read_text(encoding="utf-8")
        for variable in set(re.findall(r"\bSLEUTH_[A-Z0-9_]*[A-Z0-9]\b", text)) - NOT_SETTINGS:
            assert variable in known, f"{path} uses {variable}, which no setting reads"


def test_settings_command_hides_secrets(sleuth_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    sleuth_env(
        SLEUTH_LLM_API_KEY="sk-secret",
        SLEUTH_DATABASE_URL="postgresql+psycopg://sleuth:hunter2@db:5432/sleuth",
        SLEUTH_INDEX_URL="http://m:19530",
    )
    result = CliRunner().invoke(app, ["settings"])
    assert result.exit_code == 0, result.output
    lines = set(result.output.splitlines())
    assert {
        "SLEUTH_LLM_API_KEY=***",
        "SLEUTH_DATABASE_URL=postgresql+psycopg://sleuth:***@db:5432/sleuth",
        "SLEUTH_RETRIEVAL_INDEX_URL=http://m:19530",
    } <= lines
    assert "sk-secret" not in result.output and "hunter2" not in result.output
    assert [line.split("=")[0] for line in result.output.splitlines()] == [
        env_names(cls, name, field)[0] for cls in section_classes().values() for name, field in cls.model_fields.items()
    ]


def test_configuration_page_is_current():
    page = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == configuration_markdown(), f"docs/configuration.md is stale; run: {REGENERATE['configuration']}"
    assert len(ESSENTIAL) == 10 and page.index("## The ten you will set") < page.index("## corpus")


def test_cli_page_is_current():
    page = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == cli_markdown(), f"docs/cli.md is stale; run: {REGENERATE['cli']}"
    for command in ("ask", "serve", "fetch", "keys create", "settings"):
        assert f"## sleuth {command}\n" in page
    assert "cli-reference" not in page.split("-->", 1)[1], "hidden commands stay out"
