"""GET /v1/documents/{doc_a}/redline/{doc_b} (SQLite and PostgreSQL) and `sleuth redline`: a section's changes between two
filings with both pages and the word diff; keys as on the document routes; bad input answered with what would work."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from tests.api.conftest import make_keys
from tests.tools.redline_samples import NEW, OLD, WAR, WAR_HEAD, ingest_filings


@pytest.fixture
def filings(tmp_path, database_url):
    return ingest_filings(tmp_path, database_url)


def test_a_redline_as_json_with_pages_and_word_diff(make_client, filings):
    with make_client(filings) as client:
        r = client.get(f"/v1/documents/{OLD}/redline/{NEW}", params={"section": "Risk Factors"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["a"]["doc_id"], body["b"]["doc_id"], body["b"]["section"]) == (OLD, NEW, "Item 1A Risk Factors")
        assert body["counts"] == {"added": 2, "removed": 2, "changed": 1} and body["total"] == 5
        assert (body["unchanged"], body["moved"]) == (6, 2)
        added = [c for c in body["changes"] if c["kind"] == "added"]
        assert [(c["b"]["text"], c["b"]["page"], c["a"]) for c in added] == [(WAR_HEAD, 3, None), (WAR, 3, None)]
        changed = next(c for c in body["changes"] if c["kind"] == "changed")
        assert {"op": "-", "text": "three"} in changed["diff"] and {"op": "+", "text": "four"} in changed["diff"]
        assert changed["a"]["page"] == changed["b"]["page"] == 3
        page = client.get(
            f"/v1/documents/{OLD}/redline/{NEW}", params={"section": "Item 1A", "show": "removed", "offset": 1, "limit": 1}
        ).json()
        assert (page["total"], page["offset"], len(page["changes"])) == (2, 1, 1)
        assert page["changes"][0]["a"]["text"].startswith("The pandemic closed")


def test_bad_input_is_answered_with_what_would_work(make_client, filings):
    with make_client(filings) as client:
        unknown = client.get(f"/v1/documents/ACME_2020_10K/redline/{NEW}", params={"section": "Item 1A"})
        assert unknown.status_code == 404 and "no document 'ACME_2020_10K'; closest:" in unknown.json()["detail"]
        missing = client.get(f"/v1/documents/{OLD}/redline/{NEW}", params={"section": "Leases"})
        assert missing.status_code == 404
        assert f"{OLD} has: Item 1 Business" in missing.json()["detail"] and "Note 2 Leases" in missing.json()["detail"]
        same = client.get(f"/v1/documents/{OLD}/redline/{OLD}", params={"section": "Item 1A"})
        assert same.status_code == 422 and "the same filing" in same.json()["detail"]
        assert client.get(f"/v1/documents/{OLD}/redline/{NEW}").status_code == 422  # section is required
        too_many = client.get(f"/v1/documents/{OLD}/redline/{NEW}", params={"section": "Item 1A", "limit": 1000})
        assert too_many.status_code == 422


def test_keys_as_on_the_document_routes(make_client, filings):
    keys = make_keys(filings, "reader")
    with make_client(filings) as client:
        path = f"/v1/documents/{OLD}/redline/{NEW}"
        assert client.get(path, params={"section": "Item 1A"}).status_code == 401
        assert client.get(path, params={"section": "Item 1A"}, headers=keys["reader"]).status_code == 200


def test_cli_prints_what_the_model_sees(tmp_path, monkeypatch, sleuth_env):
    settings = ingest_filings(tmp_path)
    sleuth_env(SLEUTH_DATA_DIR=str(settings.data_dir), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    shown = runner.invoke(cli, ["redline", OLD, NEW, "--section", "Note 2", "--show", "changed"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "compared Note 2 of A with Note 3 of B, same title" in shown.stdout
    assert "generally [-30-] {+45+} days." in shown.stdout
    failed = runner.invoke(cli, ["redline", OLD, OLD, "-s", "Item 1A"])
    assert failed.exit_code == 1 and "the same filing" in failed.stderr
