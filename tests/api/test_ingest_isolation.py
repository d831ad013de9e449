"""Through the API: uploads are extracted out of the server process under the per-file limits, the server keeps
answering meanwhile, and the page route never reads a symlink planted in the store."""

from __future__ import annotations

import os
import time

import pytest

from corpus import workers
from corpus.catalog import Corpus
from corpus.settings import CorpusSettings
from corpus.text import PagedText
from tests.api.conftest import wait_for

SLOW = (
    "FORM 10-K\nItem 7. Management's Discussion and Analysis\n"
    + "\n".join(f"Line {n}: revenue was {n:,} million. See Note {n % 20}." for n in range(400_000))
).encode()
STYLE = b"<html><style>" + b"a" * 2_000_000 + b"</style><body><p>FORM 10-K Revenue was $1,577 million.</p></body></html>"


@pytest.fixture
def settings(tmp_path, database_url) -> CorpusSettings:
    s = CorpusSettings(data_dir=tmp_path / "data", database_url=database_url, ingest_workers=1, ingest_timeout_s=1)
    Corpus.open(s).close()
    yield s
    workers.shutdown()


@pytest.mark.serial
def test_uploads_past_the_time_limit_fail_naming_it_while_the_server_answers(make_client, fake_llm, settings):
    with make_client(settings, upload_max_mb=50) as client:
        job = client.post(
            "/v1/documents",
            files=[("files", ("SLOW_2023_10K.txt", SLOW, "text/plain")), ("files", ("STYLE_2023_10K.html", STYLE, "text/html"))],
        )
        assert job.status_code == 202, job.text
        run_id = job.json()["id"]
        answered_while_ingesting = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert client.get("/healthz").status_code == 200
            run = client.get(f"/v1/runs/{run_id}").json()
            if run["status"] not in ("queued", "running"):
                break
            answered_while_ingesting += run["status"] == "running"
            time.sleep(0.05)
        assert answered_while_ingesting > 0  # before: the style sheet held the GIL in the server for hours
        done = wait_for(client, run_id)
        files = {f["file"]: f for f in done["result"]["files"]}
        assert files["SLOW_2023_10K.txt"]["status"] == "failed"
        assert "longer than the 1 s limit per file (SLEUTH_CORPUS_INGEST_TIMEOUT_S)" in files["SLOW_2023_10K.txt"]["reason"]
        assert files["STYLE_2023_10K.html"]["status"] == "added", files  # the quadratic style sheet now parses at once
        assert "SLOW_2023_10K.txt: extraction took longer" in done["error"]
        assert [d["doc_id"] for d in client.get("/v1/documents").json()["data"]] == ["STYLE_2023_10K"]


def test_the_page_route_refuses_a_symlinked_document(make_client, fake_llm, settings, tmp_path):
    corpus = Corpus.open(settings)
    try:
        corpus.store.write("DECOY", PagedText.from_pages(["FORM 10-K\nTOP-SECRET-4242"]), "x")
        outside = tmp_path / "outside"
        outside.mkdir()
        for path, link in (
            (corpus.store.text_path("DECOY"), corpus.store.text_path("LEAK_2020_10K")),
            (corpus.store.map_path("DECOY"), corpus.store.map_path("LEAK_2020_10K")),
        ):
            path.rename(outside / path.name)
            os.symlink(outside / path.name, link)
    finally:
        corpus.close()
    with make_client(settings) as client:
        reply = client.get("/v1/documents/LEAK_2020_10K/pages/1")
        assert reply.status_code == 404 and "TOP-SECRET" not in reply.text
