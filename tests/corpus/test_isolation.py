"""No file can stall or break ingest: linear style-sheet parsing, per-file time/memory/page limits in worker processes,
and writers of one doc_id that take turns and undo only their own work."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from corpus import workers
from corpus.catalog import Corpus
from corpus.html import _class_rules, css_rules, html_pages
from corpus.ingest import ingest_paths
from corpus.models import Document
from corpus.settings import CorpusSettings
from corpus.text_store import TextStore
from tests.corpus.samples import TEN_K_PAGES, write_pdf

FILING = "FORM 10-K\nFor the fiscal year ended December 31, 2023\nItem 7. Management's Discussion and Analysis\n{}\n"


def _open(tmp_path: Path, database_url: str | None = None, **limits) -> Corpus:
    return Corpus.open(CorpusSettings(data_dir=tmp_path / "data", database_url=database_url, ingest_workers=1, **limits))


@pytest.fixture(autouse=True)
def fresh_workers():
    yield
    workers.shutdown()  # pools with test-sized limits must not serve the next test


# --- item 1: the style sheets that froze the server ---


PATHOLOGICAL = {
    "style_then_2mb": "<html><style>" + "a" * 2_000_000 + "</style><body><p>Revenue was 1,577.</p></body></html>",
    "unclosed_style_2mb": "<html><body><p>Revenue was 1,577.</p><style>" + "a" * 2_000_000,
    "many_unclosed_styles": "<html><body><p>Revenue was 1,577.</p>" + "<style>" * 300_000,
    "many_unclosed_tags": "<p>Revenue was 1,577.</p>" + "<" * 500_000,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_style_sheets_ingest_within_a_tight_time_limit(tmp_path, name):
    # before: 10k chars of style took 2-7 s, 40k 18-25 s (quadratic), 2 MB hours; now each file is done well inside 60 s
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / f"{name}.html"
    path.write_text(PATHOLOGICAL[name])
    corpus = _open(tmp_path, ingest_timeout_s=60)
    try:
        report = ingest_paths(corpus, [path])
    finally:
        corpus.close()
    [result] = report.results
    assert "SLEUTH_CORPUS_INGEST_TIMEOUT_S" not in (result.reason or ""), result
    assert result.status in {"added", "failed"}, result


def test_style_rules_are_still_read_including_inside_media_blocks():
    sheet = ".pb{page-break-after:always} div.x , .hide {display: none} @media print { .pbb { break-before: page } } .a .b{display:none}"
    assert (".pb", "page-break-after:always") in css_rules(sheet)
    before, after, hidden = _class_rules(sheet)
    assert (before, after, hidden) == ({"pbb"}, {"pb"}, {"x", "hide"})
    pages = html_pages(
        "<html><head><style>.pb{page-break-after:always}</style></head><body><p class=pb>one</p><p>two</p></body></html>"
    )
    assert pages == ["one", "two"]


# --- item 1: every ingest runs out of process, with limits that name themselves ---


@pytest.mark.serial
def test_a_file_over_the_time_limit_fails_naming_the_limit_and_the_batch_goes_on(tmp_path):
    (tmp_path / "in").mkdir()
    slow = tmp_path / "in" / "SLOW_2023_10K.txt"
    slow.write_text(FILING.format("\n".join(f"Line {n}: revenue was {n:,} million. See Note {n % 20}." for n in range(600_000))))
    ok = tmp_path / "in" / "OK_2023_10K.txt"
    ok.write_text(FILING.format("Revenue was $2,400 million."))
    corpus = _open(tmp_path, ingest_timeout_s=0.5)
    try:
        report = ingest_paths(corpus, [slow, ok])
        by_doc = {r.doc_id: r for r in report.results}
        assert by_doc["SLOW_2023_10K"].status == "failed"
        assert "longer than the 0.5 s limit per file (SLEUTH_CORPUS_INGEST_TIMEOUT_S)" in by_doc["SLOW_2023_10K"].reason
        assert by_doc["OK_2023_10K"].status == "added"
        assert corpus.store.doc_ids() == {"OK_2023_10K"}
    finally:
        corpus.close()


def test_a_file_over_the_memory_limit_fails_naming_the_limit(tmp_path):
    (tmp_path / "in").mkdir()
    big = tmp_path / "in" / "HUGE_2023_10K.txt"
    with big.open("w") as fh:
        fh.write(FILING.format(""))
        for _ in range(5000):
            fh.write(("Revenue was 1,577 million in the year. " * 25 + "\n") * 25)  # ~120 MB
    corpus = _open(tmp_path, ingest_max_memory_mb=300, ingest_timeout_s=120)
    try:
        [result] = ingest_paths(corpus, [big]).results
    finally:
        corpus.close()
    assert result.status == "failed"
    assert "300 MB memory limit per file (SLEUTH_CORPUS_INGEST_MAX_MEMORY_MB)" in result.reason


def test_a_pdf_over_the_page_limit_is_refused_before_extraction(tmp_path):
    pdf = write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    corpus = _open(tmp_path, ingest_max_pages=3)
    try:
        [result] = ingest_paths(corpus, [pdf]).results
    finally:
        corpus.close()
    assert result.status == "failed"
    assert (
        f"PDF has {len(TEN_K_PAGES)} pages, over the limit of 3 pages per file (SLEUTH_CORPUS_INGEST_MAX_PAGES)" in result.reason
    )


def test_extraction_never_runs_in_the_calling_process(tmp_path, monkeypatch):
    import corpus.ingest as ingest_module

    def in_process(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("analysis ran in the caller's process")

    monkeypatch.setattr(ingest_module, "analyze", in_process)  # the worker has its own, untouched module
    (tmp_path / "OK_2023_10K.txt").write_text(FILING.format("Revenue was $2,400 million."))
    corpus = _open(tmp_path)
    try:
        assert ingest_paths(corpus, [tmp_path / "OK_2023_10K.txt"]).ok
    finally:
        corpus.close()


# --- item 7: two ingests of one new name ---


def _consistent(corpus: Corpus, doc_id: str) -> str:
    """The content hash of the one stored version; fails if catalog and text store disagree."""
    with corpus.sessions() as session:
        row = session.get(Document, doc_id)
    assert row is not None, f"{doc_id} was lost"
    assert corpus.store.stored_hash(doc_id) == row.content_hash
    return row.content_hash


def test_concurrent_ingests_of_one_new_name_keep_exactly_one_document(tmp_path, database_url):
    first = _open(tmp_path, database_url)
    second = _open(tmp_path, database_url)  # another process on the same data directory
    files = []
    for n, corpus in enumerate((first, second)):
        (tmp_path / f"in{n}").mkdir()
        path = tmp_path / f"in{n}" / "RACE_2023_10K.txt"
        path.write_text(FILING.format(f"Revenue was ${n + 1},000 million."))
        files.append(path)
    results: dict[int, list] = {}
    barrier = threading.Barrier(2)

    def ingest(n: int) -> None:
        barrier.wait()
        results[n] = ingest_paths((first, second)[n], [files[n]]).results

    threads = [threading.Thread(target=ingest, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        statuses = sorted(r.status for rs in results.values() for r in rs)
        assert statuses == ["added", "updated"], results  # before: one IntegrityError, and its cleanup deleted the winner
        _consistent(first, "RACE_2023_10K")
        assert first.count() == 1
    finally:
        first.close()
        second.close()


def test_a_failed_replace_undoes_only_its_own_write(tmp_path, database_url, monkeypatch):
    corpus = _open(tmp_path, database_url)
    try:
        (tmp_path / "a").mkdir()
        (tmp_path / "a" / "KEEP_2023_10K.txt").write_text(FILING.format("Revenue was $1,000 million."))
        assert ingest_paths(corpus, [tmp_path / "a" / "KEEP_2023_10K.txt"]).ok
        kept = _consistent(corpus, "KEEP_2023_10K")
        text_before = corpus.store.text_path("KEEP_2023_10K").read_bytes()

        real_write = TextStore.write

        def write_then_fail(self, doc_id, text, content_hash):  # noqa: ANN001, ANN202
            real_write(self, doc_id, text, content_hash)
            raise OSError("disk full")

        monkeypatch.setattr(TextStore, "write", write_then_fail)
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "KEEP_2023_10K.txt").write_text(FILING.format("Revenue was $9,999 million."))
        with pytest.raises(OSError):
            ingest_paths(corpus, [tmp_path / "b" / "KEEP_2023_10K.txt"])
        monkeypatch.setattr(TextStore, "write", real_write)
        assert _consistent(corpus, "KEEP_2023_10K") == kept  # before: the document was deleted outright
        assert corpus.store.text_path("KEEP_2023_10K").read_bytes() == text_before
    finally:
        corpus.close()


def test_temp_names_are_unique_per_thread(tmp_path, monkeypatch):
    import corpus.text_store as store_module

    seen: list[str] = []
    real_replace = store_module.os.replace

    def spy(src, dst):  # noqa: ANN001, ANN202
        seen.append(Path(src).name)
        return real_replace(src, dst)

    monkeypatch.setattr(store_module.os, "replace", spy)
    target = tmp_path / "x.txt"
    threads = [threading.Thread(target=store_module.atomic_write, args=(target, b"%d" % n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 8 and target.read_bytes() in {b"%d" % n for n in range(8)}


def test_opening_the_corpus_leaves_a_live_writers_temp_file_alone(tmp_path):
    import os
    import subprocess
    import sys

    text_dir = tmp_path / "data" / "text"
    text_dir.mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = text_dir / f".A.txt.tmp-{sleeper.pid}-1-ab"
        dead = text_dir / ".B.txt.tmp-999999999-1-cd"
        mine = text_dir / f".C.txt.tmp-{os.getpid()}-1-ef"  # another thread of this process may be writing it
        old = text_dir / ".D.txt.tmp-unknown"  # no pid in the name
        for path in (live, dead, mine, old):
            path.write_text("half")
        _open(tmp_path).close()
        assert live.exists() and mine.exists() and not dead.exists() and not old.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
