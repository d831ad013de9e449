"""The text the tools and the citation checker see is the stored text now (replace, delete), and never a symlink's target."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from agent.answer import AnswerCitation
from agent.citations import check_citation
from agent.corpus_access import is_doc, text_of
from corpus.errors import DocumentNotFound
from corpus.ingest import ingest_paths
from tools import REGISTRY
from tools.context import ToolContext

FILING = "FORM 10-K\nFor the fiscal year ended December 31, 2023\nItem 7. Management's Discussion and Analysis\nRevenue was ${} million.\n"
SECRET = "TOP-SECRET-4242"


def _ingest(corpus, tmp_path: Path, figure: str) -> None:  # noqa: ANN001
    folder = tmp_path / f"v{figure.replace(',', '')}"
    folder.mkdir()
    (folder / "ACME_2023_10K.txt").write_text(FILING.format(figure))
    assert ingest_paths(corpus, [folder / "ACME_2023_10K.txt"]).ok


def _citation(figure: str) -> AnswerCitation:
    return AnswerCitation(doc_id="ACME_2023_10K", page=1, quote=f"Revenue was ${figure} million")


def test_read_and_the_citation_checker_see_a_replaced_then_deleted_document(corpus, tmp_path):
    _ingest(corpus, tmp_path, "1,000")
    context = ToolContext(corpus)  # one context for the researcher's whole life, as in the API
    check = partial(check_citation, text_of=partial(text_of, context))
    assert "$1,000 million" in REGISTRY.call("read", {"doc_id": "ACME_2023_10K", "pages": "1"}, context).text
    assert check(_citation("1,000")).verified is True

    _ingest(corpus, tmp_path, "2,222")  # replaced (same name, new content)
    text = REGISTRY.call("read", {"doc_id": "ACME_2023_10K", "pages": "1"}, context).text
    assert "$2,222 million" in text and "$1,000" not in text  # before: the cached old text
    assert check(_citation("2,222")).verified is True
    assert check(_citation("1,000")).verified is False
    grep = REGISTRY.call("grep", {"pattern": "Revenue was"}, context).text
    assert "$2,222" in grep

    corpus.remove("ACME_2023_10K")
    call = REGISTRY.call("read", {"doc_id": "ACME_2023_10K"}, context)
    assert not call.ok and "$2,222" not in call.text  # before: the deleted text was still served
    assert check(_citation("2,222")).problem == "no document 'ACME_2023_10K' in the corpus"
    assert not is_doc(context, "ACME_2023_10K")


def _plant_symlinks(corpus, tmp_path: Path) -> None:  # noqa: ANN001
    """LEAK_2020_10K: text and page map are symlinks to a file outside the store (valid-looking content)."""
    from corpus.text import PagedText

    outside = tmp_path / "outside"
    outside.mkdir()
    corpus.store.write("DECOY", PagedText.from_pages([f"FORM 10-K\n{SECRET} password=hunter2"]), "x")
    for path in (corpus.store.text_path("DECOY"), corpus.store.map_path("DECOY")):
        path.rename(outside / path.name)
    os.symlink(outside / "DECOY.txt", corpus.store.text_path("LEAK_2020_10K"))
    os.symlink(outside / "DECOY.json", corpus.store.map_path("LEAK_2020_10K"))


def test_read_outline_and_citation_checker_refuse_symlinks_in_the_store(corpus, tmp_path):
    _ingest(corpus, tmp_path, "1,000")
    _plant_symlinks(corpus, tmp_path)
    context = ToolContext(corpus)
    for name, args in (
        ("read", {"doc_id": "LEAK_2020_10K"}),
        ("read", {"doc_id": "LEAK_2020_10K", "pages": "1"}),
        ("outline", {"doc_id": "LEAK_2020_10K"}),
    ):
        call = REGISTRY.call(name, args, context)
        assert not call.ok and SECRET not in call.text, (name, call.text)
    assert text_of(context, "LEAK_2020_10K") is None
    assert not is_doc(context, "LEAK_2020_10K")
    cited = check_citation(AnswerCitation(doc_id="LEAK_2020_10K", page=1, quote=SECRET), partial(text_of, context))
    assert cited.verified is False
    with pytest.raises(DocumentNotFound):
        corpus.store.read("LEAK_2020_10K")
    assert corpus.store.stored_hash("LEAK_2020_10K") is None
    assert REGISTRY.call("read", {"doc_id": "ACME_2023_10K", "pages": "1"}, context).ok  # real documents still read


def test_a_fifo_in_the_store_does_not_hang_a_read(corpus, tmp_path):
    _ingest(corpus, tmp_path, "1,000")
    os.mkfifo(corpus.store.text_path("PIPE_2020_10K"))
    os.mkfifo(corpus.store.map_path("PIPE_2020_10K"))
    context = ToolContext(corpus)
    assert not REGISTRY.call("read", {"doc_id": "PIPE_2020_10K"}, context).ok
    with pytest.raises(DocumentNotFound):
        corpus.store.read("PIPE_2020_10K")
