"""Sleuth over MCP, driven by the official SDK's client: stdio (`sleuth mcp`) and streamable HTTP (`/mcp` in `sleuth serve`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embedded.supervisor import free_port
from tests.fakes.fake_llm import FakeLLM, Reply
from tests.live_server import wait_healthy
from tools import REGISTRY

CAPEX = "3M's FY2018 capital expenditure was $1,577 million."
CITATION = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577)"}


def script(body: dict) -> Reply:
    """Agentic: grep first, then answer with a checkable citation; RAG answers at once."""
    messages = body.get("messages") or []
    if any(m.get("role") == "assistant" for m in messages if isinstance(m, dict)) or "Passages:" in str(messages[1:2]):
        return Reply(tool_calls=[("answer", {"answer": CAPEX, "citations": [CITATION]})])
    return Reply(tool_calls=[("grep", {"pattern": "Purchases of property", "glob": "3M_2018*"})])


@pytest.fixture
def fake():
    with FakeLLM(script) as llm:
        yield llm


def sleuth_env(data_dir: Path, fake: FakeLLM, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLEUTH_")}
    env.update(
        SLEUTH_DATA_DIR=str(data_dir), SLEUTH_LLM_BASE_URL=fake.base_url, SLEUTH_LLM_MAX_RETRIES="0", SLEUTH_LLM_TIMEOUT_S="30"
    )
    if database_url:
        env["SLEUTH_DATABASE_URL"] = database_url
    return env


def text(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def exercise(client) -> None:
    """What both transports must do: the registry's tools with the agent's schemas, real results, teaching errors, research."""
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert list(listed) == [*REGISTRY.names(), "research"]
    for name in REGISTRY.names():  # the very schema and description the agent gets
        fn = REGISTRY.get(name).schema()["function"]
        assert listed[name].description == fn["description"] and listed[name].input_schema == fn["parameters"]

    grep = await client.call_tool("grep", {"pattern": "Purchases of property, plant", "glob": "3M_2018*"})
    assert not grep.is_error and "3M_2018_10K" in text(grep) and "p.60" in text(grep)
    assert {"doc_id": "3M_2018_10K", "page": 60} in [
        {k: c[k] for k in ("doc_id", "page")} for c in grep.structured_content["citations"]
    ]
    docs = await client.call_tool("list_documents", {"form": "10-K"})
    assert not docs.is_error and "3M_2018_10K" in text(docs) and "ADOBE_2017_10K" in text(docs)
    found = await client.call_tool("search", {"query": "purchases of property plant and equipment", "k": 3, "company": "3M"})
    assert not found.is_error and "3M_2018_10K" in text(found)
    read = await client.call_tool("read", {"doc_id": "3M_2018_10K", "pages": "60", "max_tokens": 2000})
    assert not read.is_error and "Purchases of property, plant and equipment" in text(read)

    # bad arguments: the same observation the agent would get from REGISTRY.call
    bad = await client.call_tool("read", {"doc_id": "3M_2016_10K", "pages": "60"})  # a year the corpus does not hold
    assert bad.is_error and "3M_2018_10K" in text(bad) and text(bad).startswith("Error:")
    wrong_type = await client.call_tool("grep", {"pattern": "x", "max_results": "many"})
    assert wrong_type.is_error and text(wrong_type).startswith("Error: invalid arguments for grep: max_results")
    unknown = await client.call_tool("summarize", {})
    assert unknown.is_error and "no tool named 'summarize'" in text(unknown)
    bad_research = await client.call_tool("research", {"question": "", "mode": "deep"})
    assert (
        bad_research.is_error
        and text(bad_research).startswith("Error: invalid arguments for research: question")
        and "mode" in text(bad_research)
    )
    no_scope = await client.call_tool("research", {"question": "capex?", "filters": {"doc_ids": ["3M_2018_10"]}})
    assert no_scope.is_error and "unknown doc_ids" in text(no_scope) and "3M_2018_10K" in text(no_scope)

    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    answer = await client.call_tool(
        "research",
        {"question": "What is 3M's FY2018 capital expenditure?", "filters": {"company": "3M"}},
        progress_callback=on_progress,
    )
    assert "model turn 1: grep" in progress and "✓ grep" in progress and "answer: answered" in progress, progress
    body = text(answer)
    assert not answer.is_error, body
    assert body.startswith("Status: answered") and CAPEX in body and "✓ 3M_2018_10K p.60" in body
    assert answer.structured_content["status"] == "answered" and answer.structured_content["citations"][0]["verified"] is True


def registry_error(name: str, arguments: dict, settings) -> str:
    from corpus.catalog import Corpus
    from tools import ToolContext

    corpus = Corpus.open(settings)
    try:
        return REGISTRY.call(name, arguments, ToolContext(corpus)).text
    finally:
        corpus.close()


@pytest.mark.slow
def test_stdio(filings_settings, fake):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api.cli", "mcp"],
        env=sleuth_env(filings_settings.data_dir, fake, filings_settings.database_url),
    )

    async def go() -> None:
        async with Client(params, read_timeout_seconds=60) as client:
            await exercise(client)
            same = await client.call_tool("read", {"doc_id": "3M_2018_10", "pages": "60"})
            assert text(same) == registry_error("read", {"doc_id": "3M_2018_10", "pages": "60"}, filings_settings)

    asyncio.run(asyncio.wait_for(go(), 180))


@pytest.fixture
def served(filings_settings, fake, tmp_path):
    """`sleuth serve` on a copy of the two filings, with one API key; yields (base URL, key)."""
    import shutil

    from typer.testing import CliRunner

    from api.cli import app

    data = tmp_path / "data"
    shutil.copytree(filings_settings.data_dir, data, ignore=shutil.ignore_patterns("uploads"))
    env = sleuth_env(data, fake, None)
    if filings_settings.database_url:
        pytest.skip("the HTTP test copies a SQLite data dir")
    for name in ("sleuth.db-wal", "sleuth.db-shm"):
        (data / name).unlink(missing_ok=True)
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    from api.models import ApiBase

    engine = create_engine(f"sqlite:///{data / 'sleuth.db'}")
    ApiBase.metadata.drop_all(engine)  # no runs or keys from other tests
    with engine.begin() as conn:
        conn.execute(sql("DROP TABLE IF EXISTS sleuth_api_version"))
    engine.dispose()
    old = {k: os.environ.get(k) for k in ("SLEUTH_DATA_DIR", "SLEUTH_DATABASE_URL")}
    os.environ["SLEUTH_DATA_DIR"] = str(data)
    os.environ.pop("SLEUTH_DATABASE_URL", None)
    try:
        created = CliRunner().invoke(app, ["keys", "create", "mcp-client"], catch_exceptions=False)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    key = created.stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "sleuth"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        problem = wait_healthy(proc, base, 60, interval_s=0.1)
        assert problem is None, problem + (tmp_path / "server.log").read_text()[-3000:]
        yield base, key
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.slow
def test_streamable_http_with_api_keys(served):
    import httpx
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    base, key = served
    assert httpx.post(f"{base}/mcp", json={}).status_code == 401  # like every route: no key, no answer
    assert httpx.post(f"{base}/mcp", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401

    async def go() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http), read_timeout_seconds=60) as client:
                await exercise(client)

    asyncio.run(asyncio.wait_for(go(), 180))
    runs = httpx.get(f"{base}/v1/runs", params={"q": "capital expenditure"}, headers={"Authorization": f"Bearer {key}"}).json()
    assert runs["count"] == 1 and runs["data"][0]["status"] == "answered"  # MCP research is a run like any other, in the history


def test_open_api_answers_loopback_host_names_only(make_client, tmp_path):
    """With no API key the server binds loopback only; /mcp also refuses other Host names (a DNS-rebinding page)."""
    from corpus.settings import CorpusSettings

    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with make_client(CorpusSettings(data_dir=tmp_path / "data")) as client:
        refused = client.post("/mcp", json=listing, headers={**accept, "Host": "rebound.example:8000"})
        assert refused.status_code == 403 and "Host 'rebound.example:8000' is not this server's" in refused.json()["detail"]
        ok = client.post("/mcp", json=listing, headers=accept)
        assert ok.status_code == 200 and '"name":"grep"' in ok.text.replace(" ", "")
