"""Two processes writing one local index (an upload in the server and `sleuth index` in a terminal): nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from retrieval.index import HybridIndex
from retrieval.lock import IndexBusy, holder, write_lock
from retrieval.settings import RetrievalSettings

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from corpus.settings import CorpusSettings
    from retrieval.index import HybridIndex
    from retrieval.settings import RetrievalSettings

    def main():
        data, folder = Path(sys.argv[1]), Path(sys.argv[2])
        settings = RetrievalSettings(index_dir=data / "index", chunk_tokens=64, chunk_overlap=8, embedding_model="fake")
        corpus = Corpus.open(CorpusSettings(data_dir=data, ingest_workers=1))
        count = lambda texts: [len(t.split()) for t in texts]
        for pdf in sorted(folder.glob("*.pdf")):  # one filing at a time, each followed by an index sync, as uploads do
            assert ingest_paths(corpus, [pdf], workers=1).ok
            HybridIndex.open(settings.index_dir, settings, create=True).sync(corpus, count)
        corpus.close()

    if __name__ == "__main__":  # ingest extracts in a spawned worker process, which re-imports this file
        main()
    """
)


def settings_for(data: Path) -> RetrievalSettings:
    return RetrievalSettings(index_dir=data / "index", chunk_tokens=64, chunk_overlap=8, embedding_model="fake")


@pytest.mark.slow
def test_two_processes_ingesting_and_syncing_at_once_lose_and_double_nothing(tmp_path):
    from corpus.catalog import Corpus
    from corpus.settings import CorpusSettings
    from tests.corpus.samples import ten_k, write_pdf

    data = tmp_path / "data"
    Corpus.open(CorpusSettings(data_dir=data, ingest_workers=1)).close()  # migrate once, before the writers race
    folders = []
    for side in ("upload", "cli"):
        folder = tmp_path / side
        folder.mkdir()
        for n in range(4):
            name = f"{side.upper()}{n}_2022_10K"
            write_pdf(
                folder / f"{name}.pdf",
                ten_k(f"{side} company {n} inc", 2022, f"Capital expenditures were ${n + 1}7 million at {name}."),
            )
        folders.append(folder)
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(root=str(ROOT)))
    procs = [
        subprocess.Popen([sys.executable, str(script), str(data), str(f)], stderr=subprocess.PIPE, text=True) for f in folders
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]

    index = HybridIndex.open(data / "index", settings_for(data))
    assert sorted(index.doc_ids) == sorted(f"{s}{n}_2022_10K" for s in ("UPLOAD", "CLI") for n in range(4))
    live = [c for c in index.chunks if c is not None]
    ids = [c.chunk_id for c in live]
    assert len(ids) == len(set(ids)) == sum(index.doc(d).chunks for d in index.doc_ids)  # none doubled, none lost
    manifest = json.loads((data / "index" / "manifest.json").read_text())
    assert manifest["generation"] >= 2  # both wrote (a sync may also take the other side's newly ingested filing)
    from retrieval.tokenize import tokenize

    view = index.view()
    for doc_id in index.doc_ids:
        (hit,) = view.bm25_chunks(tokenize("capital expenditures"), 1, view.scope([doc_id]))
        assert doc_id in hit.text


def test_a_busy_lock_names_its_holder(tmp_path):
    with write_lock(tmp_path, purpose="sleuth index"):
        code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from retrieval.lock import write_lock\nwith write_lock(__import__('pathlib').Path({str(tmp_path)!r}), 0.2): pass"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert f"pid {os.getpid()}" in result.stderr and "sleuth index" in result.stderr and "Wait for it" in result.stderr


@pytest.mark.serial
def test_a_writer_killed_holding_the_lock_leaves_no_stale_lock(tmp_path, caplog):
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; from retrieval.lock import write_lock\n"
        f"with write_lock(Path({str(tmp_path)!r}), purpose='crashing writer'):\n    print('held', flush=True); time.sleep(120)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(IndexBusy):
        with write_lock(tmp_path, 0.2):
            pass
    dead = proc.pid
    os.kill(dead, signal.SIGKILL)
    proc.wait(timeout=30)
    assert holder(tmp_path)["pid"] == dead  # its record stays behind ...
    started = time.monotonic()
    with caplog.at_level("WARNING"), write_lock(tmp_path, 5):
        assert holder(tmp_path)["pid"] == os.getpid()
    assert time.monotonic() - started < 5  # ... but the OS released the lock itself
    assert "died while holding the lock" in caplog.text and str(dead) in caplog.text
