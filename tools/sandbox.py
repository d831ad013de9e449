"""The fence around the text store: no tool reads or lists anything outside it.

Documents are named, never addressed by path: a doc_id must be a valid store name, a glob pattern
matches doc_ids (the store is one flat folder), and only regular files whose resolved path stays
inside the resolved store root are ever listed or handed to ripgrep (symlinks are skipped outright).
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from corpus.text_store import TextStore, is_valid_doc_id
from tools.errors import ToolError

TEXT_SUFFIX = ".txt"
_DRIVE = re.compile(r"^[A-Za-z]:")
_BRACES = re.compile(r"\{([^{}]*)\}")
_MAX_PATTERN = 200
_MAX_ALTERNATIVES = 64


def check_doc_id(doc_id: str) -> str:
    """`doc_id` itself if it is a valid store name; ToolError otherwise (paths, '..', NUL, odd characters)."""
    if not is_valid_doc_id(doc_id):
        raise ToolError(
            f"{doc_id!r} is not a doc_id: doc_ids are names like 3M_2018_10K (letters, digits, '_', '.', '-'), "
            "never paths; find them with glob() or list_documents()"
        )
    return doc_id


def check_glob(pattern: str) -> list[str]:
    """The doc_id patterns a glob stands for (leading './' and '**/' dropped, {a,b} expanded); ToolError if it could leave the store."""
    if not pattern or not pattern.strip():
        raise ToolError("empty glob pattern; use one like '3M_*', '*2022*10K*' or '**/PFIZER_*'")
    if "\x00" in pattern:
        raise ToolError("glob pattern contains a NUL byte; use a pattern like '3M_*'")
    if len(pattern) > _MAX_PATTERN:
        raise ToolError(f"glob pattern is {len(pattern)} characters long; keep it under {_MAX_PATTERN}, like '3M_*'")
    if "\\" in pattern or _DRIVE.match(pattern):
        raise ToolError(f"glob {pattern!r} refused: backslashes and drive letters are paths; patterns match doc_ids, like '3M_*'")
    if pattern.startswith(("/", "~")):
        raise ToolError(
            f"glob {pattern!r} refused: only the filings' text store can be searched, not absolute or home paths; use a pattern like '3M_*'"
        )
    if ".." in pattern.split("/"):
        raise ToolError(
            f"glob {pattern!r} refused: '..' would leave the filings' text store; use a pattern like '3M_*' or '**/3M_*'"
        )
    rest = pattern.strip()
    while True:
        if rest.startswith("./"):
            rest = rest[2:]
        elif rest.startswith("**/"):
            rest = rest[3:]
        else:
            break
    if rest in ("", "**"):
        rest = "*"
    if "/" in rest:
        raise ToolError(
            f"glob {pattern!r} has folders, but the text store is one flat folder of documents; "
            "match doc_ids instead, like '3M_*', '*2022*10K*' or '**/PFIZER_*'"
        )
    alternatives = _expand_braces(rest)
    if len(alternatives) > _MAX_ALTERNATIVES:
        raise ToolError(f"glob {pattern!r} expands to {len(alternatives)} patterns; use at most {_MAX_ALTERNATIVES}")
    return alternatives


def _expand_braces(pattern: str) -> list[str]:
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    out: list[str] = []
    for option in match.group(1).split(","):
        out.extend(_expand_braces(head + option + tail))
        if len(out) > _MAX_ALTERNATIVES:
            break
    return out


def glob_matches(pattern: str, doc_ids: list[str]) -> list[str]:
    """Those of `doc_ids` (in their order) whose name or `<doc_id>.txt` matches `pattern`, ignoring case."""
    alternatives = [p.lower() for p in check_glob(pattern)]
    out = []
    for doc_id in doc_ids:
        names = (doc_id.lower(), doc_id.lower() + TEXT_SUFFIX)
        if any(fnmatch.fnmatchcase(name, alt) for alt in alternatives for name in names):
            out.append(doc_id)
    return out


def store_files(store: TextStore) -> dict[str, Path]:
    """doc_id -> path of every safe text file, sorted by doc_id: regular files inside the root, no symlinks, no temp files."""
    folder = store.text_dir
    if not folder.is_dir():
        return {}
    root = folder.resolve()
    found: dict[str, Path] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.endswith(TEXT_SUFFIX):
                continue
            doc_id = entry.name[: -len(TEXT_SUFFIX)]
            if not is_valid_doc_id(doc_id) or entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                continue
            found[doc_id] = root / entry.name  # a regular file, not a symlink, directly under the resolved root
    return dict(sorted(found.items()))


def store_file(store: TextStore, doc_id: str) -> Path:
    """Path of one document's text after all sandbox checks; ToolError if it is not a safe file in the store."""
    check_doc_id(doc_id)
    root = store.text_dir.resolve()
    path = root / f"{doc_id}{TEXT_SUFFIX}"
    if not store.has(doc_id) or not path.resolve().is_relative_to(root):  # text and page map: regular files, no symlinks
        raise ToolError(f"no document {doc_id!r} in the text store; find doc_ids with glob() or list_documents()")
    return path
