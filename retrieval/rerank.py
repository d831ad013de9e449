"""Rerankers: a local sentence-transformers CrossEncoder, or a remote rerank endpoint (vLLM, Cohere, Jina)."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from retrieval.embed import EmbeddingError, autocast, bf16_supported, check_device, limit_threads, require, resolve_model
from retrieval.hits import Hit

if TYPE_CHECKING:
    from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)

DEFAULT_CROSS_ENCODER = "cross-encoder/ms-marco-MiniLM-L-6-v2"


class RerankError(Exception):
    """A reranker could not score the passages; the message names the model or endpoint and what to do."""


@runtime_checkable
class Reranker(Protocol):
    """Scores passages against a query; `Hit.index` points into `passages`, best first."""

    name: str

    def rerank(self, query: str, passages: list[str], top_k: int | None = None) -> list[Hit]: ...


def ranked(scores: list[float], top_k: int | None = None) -> list[Hit]:
    """Hits for per-passage scores, best first (ties by passage index), cut to top_k."""
    hits = sorted((Hit(i, float(s)) for i, s in enumerate(scores)), key=lambda h: (-h.score, h.index))
    return hits if top_k is None else hits[: max(top_k, 0)]


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder (hub name or local folder), loaded on first use; scores are raw logits.

    bf16 autocast is off by default: SLEUTH_RETRIEVAL_EMBEDDING_BF16 covers embeddings only, and rerank scores decide the final order.
    """

    def __init__(
        self,
        model: str = DEFAULT_CROSS_ENCODER,
        device: str = "cpu",
        max_length: int = 256,
        batch_size: int = 32,
        bf16: bool = False,
    ) -> None:
        self.name = model
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size
        self.bf16 = bf16
        self._model: Any = None
        self._use_bf16 = False

    def __repr__(self) -> str:
        return f"CrossEncoderReranker(model={self.name!r}, device={self.device!r}, max_length={self.max_length})"

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        st = require("sentence_transformers", "sentence-transformers", "The cross-encoder reranker")
        try:
            path = resolve_model(self.name, setting="SLEUTH_RETRIEVAL_RERANK_MODEL")
            check_device(self.device)
        except EmbeddingError as exc:
            raise RerankError(str(exc)) from exc
        limit_threads()
        import torch

        try:
            # Identity activation: raw logits rank the same as sigmoid scores but never saturate into ties.
            model = st.CrossEncoder(path, device=self.device, max_length=self.max_length, activation_fn=torch.nn.Identity())
        except OSError as exc:
            raise RerankError(
                f"could not load cross-encoder {self.name!r} ({exc}); set SLEUTH_RETRIEVAL_RERANK_MODEL to a local CrossEncoder "
                "folder, or SLEUTH_RETRIEVAL_RERANK=remote with SLEUTH_RETRIEVAL_RERANK_URL, or SLEUTH_RETRIEVAL_RERANK=none"
            ) from exc
        model.eval()
        self._model = model
        self._use_bf16 = self.bf16 and bf16_supported(self.device)
        return model

    def scores(self, query: str, passages: list[str]) -> list[float]:
        """Raw relevance logit of each passage, in passage order."""
        if not passages:
            return []
        model = self._load()
        import torch

        with torch.inference_mode(), autocast(self.device, self._use_bf16):
            out = model.predict(
                [(query, p) for p in passages], batch_size=self.batch_size, convert_to_tensor=True, show_progress_bar=False
            )
        return out.float().reshape(len(passages), -1)[:, 0].tolist()

    def rerank(self, query: str, passages: list[str], top_k: int | None = None) -> list[Hit]:
        """Passages scored by the cross-encoder, best first, cut to top_k."""
        return ranked(self.scores(query, passages), top_k)


class RemoteReranker:
    """A rerank HTTP endpoint: vLLM serves reranker models at /v1/rerank (and /rerank); Cohere and Jina use the same shape.

    Request: POST {url} {"model", "query", "documents", "top_n"}; response: {"results": [{"index", "relevance_score"}, ...]}.
    429, 5xx and connection errors are retried with exponential backoff; other failures raise RerankError at once.
    """

    RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.5,
    ) -> None:
        self.url = url
        self.name = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._client: Any = None

    def __repr__(self) -> str:
        return f"RemoteReranker(url={self.url!r}, model={self.name!r})"

    def _http(self) -> Any:
        if self._client is None:
            httpx = require("httpx", "httpx", "The remote reranker")
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(timeout=self.timeout_s, headers=headers)
        return self._client

    def close(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def rerank(self, query: str, passages: list[str], top_k: int | None = None) -> list[Hit]:
        """Passages scored by the endpoint, best first, cut to top_k."""
        if not passages:
            return []
        top_n = len(passages) if top_k is None else max(0, min(top_k, len(passages)))
        if top_n == 0:
            return []
        body = self._post({"model": self.name, "query": query, "documents": list(passages), "top_n": top_n})
        return self._parse(body, len(passages))[:top_n]

    def _post(self, payload: dict[str, Any]) -> Any:
        import httpx

        client = self._http()
        attempt = 0
        while True:
            try:
                response = client.post(self.url, json=payload)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and attempt < self.retries:
                    attempt = self._wait(attempt, f"connect timeout ({exc})")
                    continue
                raise RerankError(
                    f"rerank endpoint {self.url} did not answer within {self.timeout_s:g}s ({type(exc).__name__}); "
                    "raise SLEUTH_RETRIEVAL_RERANK_TIMEOUT_S, rerank fewer candidates (SLEUTH_RETRIEVAL_RERANK_TOP_N), or check the server"
                ) from exc
            except httpx.TransportError as exc:
                if attempt < self.retries:
                    attempt = self._wait(attempt, f"connection error ({exc})")
                    continue
                raise RerankError(
                    f"cannot reach rerank endpoint {self.url} after {attempt + 1} tries ({type(exc).__name__}: {exc}); "
                    "is the server running? check SLEUTH_RETRIEVAL_RERANK_URL"
                ) from exc
            if response.status_code in self.RETRY_STATUSES and attempt < self.retries:
                attempt = self._wait(attempt, f"HTTP {response.status_code}", response.headers.get("retry-after"))
                continue
            if response.status_code >= 400:
                raise RerankError(self._status_message(response, attempt))
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
                raise RerankError(
                    f"rerank endpoint {self.url} returned HTTP {response.status_code} with a body that is not JSON "
                    f"({_snippet(response.text)!r}); is SLEUTH_RETRIEVAL_RERANK_URL the rerank route (vLLM: /v1/rerank)?"
                ) from exc

    def _wait(self, attempt: int, why: str, retry_after: str | None = None) -> int:
        delay = self.backoff_s * (2**attempt)
        if retry_after:
            try:
                delay = min(max(delay, float(retry_after)), 30.0)
            except ValueError:
                pass
        log.warning("rerank endpoint %s: %s; retrying in %.1fs (%d/%d)", self.url, why, delay, attempt + 1, self.retries)
        time.sleep(delay)
        return attempt + 1

    def _status_message(self, response: Any, attempt: int) -> str:
        status = response.status_code
        where = f"rerank endpoint {self.url} answered HTTP {status}"
        detail = _snippet(response.text)
        if status in (401, 403):
            return f"{where}: the API key was rejected ({detail!r}); set SLEUTH_RETRIEVAL_RERANK_API_KEY to a valid key"
        if status == 404:
            return (
                f"{where}: no such route or model {self.name!r} ({detail!r}); "
                "vLLM serves rerankers at /v1/rerank, check SLEUTH_RETRIEVAL_RERANK_URL and SLEUTH_RETRIEVAL_RERANK_MODEL"
            )
        if status in self.RETRY_STATUSES:
            return (
                f"{where} after {attempt + 1} tries ({detail!r}); "
                "the server is overloaded or failing, try again later or set SLEUTH_RETRIEVAL_RERANK=none"
            )
        return f"{where} ({detail!r}); check SLEUTH_RETRIEVAL_RERANK_MODEL and that passages fit the model's context"

    def _parse(self, body: Any, n: int) -> list[Hit]:
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise RerankError(
                f"rerank endpoint {self.url} answered without a 'results' list ({_snippet(json.dumps(body))!r}); "
                "it must speak the vLLM/Cohere/Jina rerank API (POST /v1/rerank)"
            )
        scores: dict[int, float] = {}
        for item in results:
            try:
                index, score = item["index"], item["relevance_score"]
                if isinstance(index, bool) or not isinstance(index, int) or not isinstance(score, (int, float)):
                    raise TypeError
            except (KeyError, TypeError) as exc:
                raise RerankError(
                    f"rerank endpoint {self.url} returned a result without an integer 'index' and a numeric "
                    f"'relevance_score': {_snippet(json.dumps(item))!r}"
                ) from exc
            if not 0 <= index < n:
                raise RerankError(f"rerank endpoint {self.url} returned index {index} for {n} passages")
            scores[index] = max(float(score), scores.get(index, float("-inf")))
        return sorted((Hit(i, s) for i, s in scores.items()), key=lambda h: (-h.score, h.index))


def _snippet(text: str, limit: int = 200) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."


def make_reranker(settings: RetrievalSettings) -> Reranker | None:
    """The reranker SLEUTH_RETRIEVAL_RERANK selects: None for 'none', else a CrossEncoderReranker or a RemoteReranker."""
    if settings.rerank == "none":
        return None
    if settings.rerank == "cross-encoder":
        return CrossEncoderReranker(
            settings.rerank_model,
            device=settings.embedding_device,
            max_length=settings.rerank_max_tokens,
        )
    if settings.rerank == "remote":
        if not settings.rerank_url:
            raise RerankError(
                "SLEUTH_RETRIEVAL_RERANK=remote needs SLEUTH_RETRIEVAL_RERANK_URL, e.g. http://vllm-rerank:8000/v1/rerank"
            )
        return RemoteReranker(
            settings.rerank_url, settings.rerank_model, api_key=settings.rerank_api_key, timeout_s=settings.rerank_timeout_s
        )
    raise RerankError(f"unknown SLEUTH_RETRIEVAL_RERANK={settings.rerank!r}; use none, cross-encoder or remote")
