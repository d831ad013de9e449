"""The sandbox: nothing outside the text store is read or listed, whatever the model sends."""

from __future__ import annotations

import os

import pytest

from tools import REGISTRY
from tools.context import ToolContext
from tools.errors import ToolError
from tools.sandbox import (
    check_doc_id,
    check_glob,
    glob_matches,
    store_file,
    store_files,
)

SECRET = "TOPSECRET-7f3a"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("/etc/*", "absolute"),
        ("/", "absolute"),
        ("~/.ssh/*", "absolute or home"),
        ("../*", "'..'"),
        ("**/../..", "'..'"),
        ("ACME_*/../../secret", "'..'"),
        ("..", "'..'"),
        ("C:\\Windows\\*", "backslashes and drive letters"),
        ("C:/Windows/*", "backslashes and drive letters"),
        ("..\\..\\x", "backslashes"),
        ("ACME\x00*", "NUL"),
        ("text/ACME_*", "one flat folder"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_globs_that_could_leave_the_store_are_refused(pattern, reason):
    with pytest.raises(ToolError) as caught:
        check_glob(pattern)
    assert reason in str(caught.value)
    assert "'3M_*'" in str(caught.value)  # and it says what would work


def test_globs_name_documents():
    assert check_glob("**/3M_*10K*") == ["3M_*10K*"]
    assert check_glob("./**/**/PFIZER_*") == ["PFIZER_*"]
    assert check_glob("**") == check_glob("**/*") == ["*"]
    assert check_glob("{PEPSICO,COCACOLA}_2022_{10K,10Q}") == [
        "PEPSICO_2022_10K",
        "PEPSICO_2022_10Q",
        "COCACOLA_2022_10K",
        "COCACOLA_2022_10Q",
    ]
    ids = ["3M_2018_10K", "3M_2022_10K", "ADOBE_2022Q2_10Q", "PFIZER_2021_10K"]
    assert glob_matches("*2022*", ids) == ["3M_2022_10K", "ADOBE_2022Q2_10Q"]
    assert glob_matches("3m_*.txt", ids) == ["3M_2018_10K", "3M_2022_10K"]
    assert glob_matches("PFIZER_202?_10[KQ]", ids) == ["PFIZER_2021_10K"]
    with pytest.raises(ToolError, match="expands to"):
        check_glob("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}")


@pytest.mark.parametrize("doc_id", ["/etc/passwd", "../sleuth", "a/b", "..", "x\x00y", "", "C:\\x", "~root", ".hidden", "a..b"])
def test_doc_ids_that_are_not_store_names_are_refused(doc_id):
    with pytest.raises(ToolError, match="not a doc_id"):
        check_doc_id(doc_id)


def test_only_regular_files_inside_the_store_are_listed(own_corpus, tmp_path):
    text_dir = own_corpus.store.text_dir
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "INNER_2020_10K.txt").write_text(f"{SECRET}\n")
    os.symlink(outside / "secret.txt", text_dir / "LEAK_2020_10K.txt")  # points outside
    os.symlink(text_dir / "ACME_2021_10K.txt", text_dir / "ALIAS_2021_10K.txt")  # points inside: still a symlink
    os.symlink(outside, text_dir / "sub")  # a linked folder
    (text_dir / "DIR_2020_10K.txt").mkdir()
    (text_dir / ".ACME_2021_10K.txt.tmp-123").write_text(f"{SECRET}\n")  # half-written file
    files = store_files(own_corpus.store)
    assert list(files) == ["ACME_2021_10K", "ACME_2022_10K", "BIGCO_2023_10K", "GLOBEX_2022_10K"]
    root = text_dir.resolve()
    assert all(p.resolve().is_relative_to(root) and not p.is_symlink() for p in files.values())
    with pytest.raises(ToolError, match="no document 'LEAK_2020_10K'"):
        store_file(own_corpus.store, "LEAK_2020_10K")
    assert store_file(own_corpus.store, "ACME_2021_10K") == root / "ACME_2021_10K.txt"


def test_a_symlink_planted_in_the_store_is_neither_grepped_nor_listed(own_corpus, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"FORM 10-K\n{SECRET} password=hunter2\n")
    os.symlink(secret, own_corpus.store.text_dir / "LEAK_2020_10K.txt")
    os.symlink(secret, own_corpus.store.pages_dir / "LEAK_2020_10K.json")
    context = ToolContext(own_corpus)
    for args in ({"pattern": SECRET}, {"pattern": SECRET, "glob": "LEAK*"}, {"pattern": "hunter2", "case_insensitive": True}):
        call = REGISTRY.call("grep", args, context)
        assert not call.ok and SECRET not in call.text.replace(f"'{SECRET}'", ""), call.text
    call = REGISTRY.call("grep", {"pattern": SECRET, "doc_ids": ["LEAK_2020_10K"]}, context)
    assert not call.ok and call.text.startswith("Error: unknown doc_ids: LEAK_2020_10K")
    call = REGISTRY.call("grep", {"pattern": ".", "output_mode": "files_with_matches"}, context)
    assert call.ok and "LEAK" not in call.text
    call = REGISTRY.call("glob", {"pattern": "*"}, context)
    assert call.ok and "LEAK" not in call.text and call.text.startswith("4 documents")
    call = REGISTRY.call("glob", {"pattern": "LEAK*"}, context)
    assert not call.ok and "No document matches 'LEAK*'" in call.text


@pytest.mark.parametrize(
    "arguments",
    [
        {"pattern": "root", "glob": "/etc/*"},
        {"pattern": "root", "glob": "../*"},
        {"pattern": "root", "glob": "**/../.."},
        {"pattern": "root", "glob": "..\\*"},
        {"pattern": "root", "glob": "*\u0000"},
        {"pattern": "root", "doc_ids": ["/etc/passwd"]},
        {"pattern": "root", "doc_ids": ["../../etc/passwd"]},
        {"pattern": "root", "doc_ids": ["ACME_2021_10K\u0000"]},
    ],
)
def test_grep_refuses_paths_out_of_the_store(tool_context, arguments):
    call = REGISTRY.call("grep", arguments, tool_context)
    assert not call.ok and ("refused" in call.text or "not a doc_id" in call.text or "NUL" in call.text), call.text


@pytest.mark.parametrize("pattern", ["/etc/*", "../*", "**/../..", "../../*.txt", "C:\\*", "*\u0000"])
def test_glob_refuses_paths_out_of_the_store(tool_context, pattern):
    call = REGISTRY.call("glob", {"pattern": pattern}, tool_context)
    assert not call.ok and call.text.startswith("Error: glob"), call.text
