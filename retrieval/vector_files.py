"""An index's vector files: `embeddings/{doc_id}.{version}.npy` (float16 rows) beside `.json` (each row's chunk hash)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from retrieval.chunking import Chunk
from retrieval.manifest import DocEntry, indexed_text, write_json


def vectors_ok(folder: Path, entry: DocEntry, dim: int) -> bool:
    """Whether a document's vector file is there, readable and of its shape (the header only: no read of the rows)."""
    path = folder / f"{entry.doc_id}.{entry.version}.npy"
    try:
        vectors = np.load(path, mmap_mode="r")
        return vectors.shape == (entry.chunks, dim) and path.stat().st_size >= vectors.nbytes
    except (OSError, ValueError):
        return False


def reuse_vectors(folder: Path, old: DocEntry | None, entry: DocEntry, chunks: list[Chunk]) -> bool:
    """Give a re-chunked document its previous version's vectors when every chunk text is unchanged (re-ingest, rebuild)."""
    if old is None or not old.embedded:
        return False
    stem = folder / f"{old.doc_id}.{old.version}"
    try:
        known = dict(zip(json.loads(Path(f"{stem}.json").read_text()), np.load(f"{stem}.npy"), strict=True))
    except (OSError, ValueError):
        return False
    hashes = [hashlib.sha1(indexed_text(entry, c).encode()).hexdigest() for c in chunks]
    if not hashes or any(h not in known for h in hashes):
        return False
    key = f"{entry.doc_id}.{entry.version}"
    write_npy(folder / f"{key}.npy", np.stack([known[h] for h in hashes]).astype(np.float16))
    write_json(folder / f"{key}.json", hashes)
    return True


def vector_cache(folder: Path) -> dict[str, np.ndarray]:
    """Chunk content hash -> vector, from every embedded document's files."""
    cache: dict[str, np.ndarray] = {}
    for hashes_path in folder.glob("*.json") if folder.is_dir() else []:
        vectors_path = hashes_path.with_suffix(".npy")
        try:
            hashes = json.loads(hashes_path.read_text())
            vectors = np.load(vectors_path)
        except (OSError, ValueError):
            continue
        if len(hashes) == len(vectors):
            cache.update(zip(hashes, vectors, strict=True))
    return cache


def write_npy(path: Path, array: np.ndarray) -> None:
    """Write an array as .npy atomically (readers see the old file or the new one)."""
    from corpus.text_store import atomic_write

    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write(path, buffer.getvalue())
