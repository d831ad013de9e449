"""GET /v1/runs/{id}/export: who may export what, runs not finished, formats not offered, and real files back."""

from __future__ import annotations

import io
import zipfile

import pytest

from agent.answer import Answer, AnswerCitation
from api.models import migrate
from api.run_store import RunStore
from corpus.catalog import Corpus
from tests.api.conftest import make_keys

ANSWER = Answer(
    mode="agentic",
    question="What was Acme's revenue and total assets in FY2022?",
    text="Acme's revenue was $1,577 million and its total assets were 9,000 million.",
    status="answered",
    citations=[
        AnswerCitation(doc_id="ACME_2022_10K", page=4, quote="Revenue was $1,577 million", verified=True),
        AnswerCitation(doc_id="ACME_2022_10K", page=5, quote="CONSOLIDATED BALANCE SHEETS", verified=True),
    ],
)


def store_run(settings, key_id: int | None, status: str = "answered", result: Answer | None = ANSWER) -> str:
    corpus = Corpus.open(settings)
    try:
        migrate(corpus.engine)
        store = RunStore(corpus.sessions)
        run = store.create_run(mode="agentic", question=ANSWER.question, filters=None, model="fake", budgets=None, key_id=key_id)
        if status != "queued":
            store.finish(
                run.id, status=status, result=result.model_dump(mode="json") if result else None, error=None, latency_s=1.0
            )
        return run.id
    finally:
        corpus.close()


def key_ids(settings) -> dict[str, int]:
    corpus = Corpus.open(settings)
    try:
        return {k.name: k.id for k in RunStore(corpus.sessions).keys()}
    finally:
        corpus.close()


def test_export_belongs_to_its_key_and_needs_a_finished_run_and_an_offered_format(make_client, small_corpus):
    keys = make_keys(small_corpus, "alice", "bob")
    ids = key_ids(small_corpus)
    mine = store_run(small_corpus, ids["alice"])
    with make_client(small_corpus) as client:
        queued = store_run(
            small_corpus, ids["alice"], status="queued"
        )  # after start-up, which marks runs left queued interrupted
        other = client.get(f"/v1/runs/{mine}/export?format=md", headers=keys["bob"])
        assert other.status_code == 404 and "of yours" in other.json()["detail"]
        busy = client.get(f"/v1/runs/{queued}/export?format=md", headers=keys["alice"])
        assert busy.status_code == 409 and "is queued" in busy.json()["detail"]
        bad = client.get(f"/v1/runs/{mine}/export?format=odt", headers=keys["alice"])
        assert bad.status_code == 400 and "md, docx, pdf, xlsx, zip" in bad.json()["detail"]
        md = client.get(f"/v1/runs/{mine}/export?format=md", headers=keys["alice"])
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert f'filename="sleuth-{mine}.md"' in md.headers["content-disposition"]
    # The second figure's citation quotes no figure: it is linked because its page prints 9,000.
    assert "$1,577 million[^1]" in md.text and "9,000 million[^2]" in md.text
    assert "[^1]: ACME_2022_10K p.4" in md.text and "http://127.0.0.1:8000/v1/documents/ACME_2022_10K/pages/4/image" in md.text


@pytest.mark.slow
def test_evidence_pack_and_pdf_with_page_images_from_the_catalog(make_client, small_corpus):
    import openpyxl
    import pymupdf

    run_id = store_run(small_corpus, None)
    with make_client(small_corpus) as client:
        xlsx = client.get(f"/v1/runs/{run_id}/export?format=xlsx")
        pdf = client.get(f"/v1/runs/{run_id}/export", params={"format": "pdf", "pages": "1"})
        pack = client.get(f"/v1/runs/{run_id}/export?format=zip")
    assert xlsx.status_code == 200, xlsx.text
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)["figures"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(rows[0])}
    revenue = next(r for r in rows[1:] if r[col["figure as stated"]] == "$1,577 million")
    assert revenue[col["company"]] and revenue[col["form"]] == "10-K" and revenue[col["fiscal period"]] == "FY2022"
    assert revenue[col["page"]] == 4 and revenue[col["check"]] == "checked: on the page"
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=pdf.content, filetype="pdf") as doc:
        assert sum(len(p.get_images()) for p in doc) >= 2  # pages 4 and 5 of the filing, appended
        assert "ACME_2022_10K p.5" in doc[-1].get_text()
    with zipfile.ZipFile(io.BytesIO(pack.content)) as z:
        assert {"pages/ACME_2022_10K_p4.png", "pages/ACME_2022_10K_p5.png", f"sleuth-{run_id}.docx"} <= set(z.namelist())


def test_a_failed_run_exports_what_it_has(make_client, small_corpus):
    run_id = store_run(small_corpus, None, status="failed", result=None)
    with make_client(small_corpus) as client:
        md = client.get(f"/v1/runs/{run_id}/export?format=md")
    assert md.status_code == 200 and "This run ended failed without an answer." in md.text


def test_exports_beyond_the_queue_are_refused(make_client, small_corpus, sleuth_env):
    sleuth_env(SLEUTH_EXPORT_WORKERS=1, SLEUTH_EXPORT_MAX_WAITING=0)
    run_id = store_run(small_corpus, None)
    with make_client(small_corpus) as client:
        pool = client.app.state.export_pool
        pool._pending = 1  # one export in its process already
        busy = client.get(f"/v1/runs/{run_id}/export?format=md")
        pool._pending = 0
    assert busy.status_code == 503 and "SLEUTH_EXPORT_MAX_WAITING=0" in busy.json()["detail"]


def test_cli_exports_from_the_run_store(small_corpus, sleuth_env, tmp_path, monkeypatch):
    import docx
    from typer.testing import CliRunner

    from api.cli import app

    run_id = store_run(small_corpus, None)
    sleuth_env(SLEUTH_DATA_DIR=str(small_corpus.data_dir), SLEUTH_DATABASE_URL=small_corpus.database_url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = tmp_path / "memo.docx"
    done = runner.invoke(app, ["export", run_id, "--format", "docx", "-o", str(out)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "2 sources" in done.output
    assert any(t.cell(0, 0).text == "Question" for t in docx.Document(str(out)).tables)
    bad = runner.invoke(app, ["export", run_id, "--format", "odt"], catch_exceptions=False)
    assert bad.exit_code == 2 and "formats: md, docx, pdf, xlsx, zip" in bad.output
    missing = runner.invoke(app, ["export", "no-such-run"], catch_exceptions=False)
    assert missing.exit_code == 1 and "no run 'no-such-run'" in missing.output


def test_evidence_pack_names_the_xbrl_concept_of_a_tagged_figure(make_client, small_corpus):
    import openpyxl

    from corpus.models import Fact

    corpus = Corpus.open(small_corpus)
    try:
        with corpus.sessions.begin() as session:
            session.add(
                Fact(
                    doc_id="ACME_2022_10K",
                    source="ixbrl",
                    label="Revenues",
                    concept="us-gaap:Revenues",
                    value=1.577e9,
                    scale=6,
                    page=4,
                )
            )
    finally:
        corpus.close()
    run_id = store_run(small_corpus, None)
    with make_client(small_corpus) as client:
        xlsx = client.get(f"/v1/runs/{run_id}/export?format=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)["figures"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(rows[0])}
    concepts = {r[col["figure as stated"]]: r[col["XBRL concept"]] for r in rows[1:] if r and r[col["figure as stated"]]}
    assert concepts == {"$1,577 million": "us-gaap:Revenues", "9,000 million": None}
