"""Rerankers: a tiny CrossEncoder built in tmp_path, and RemoteReranker against a scripted local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from retrieval.hits import Hit
from retrieval.rerank import (
    CrossEncoderReranker,
    RemoteReranker,
    Reranker,
    RerankError,
    make_reranker,
)
from retrieval.settings import RetrievalSettings

QUERY = "how much debt did the company have"
PASSAGES = [
    "total debt was 14.6 billion at year end",
    "net sales rose 5 % in the year",
    "risk factors",
    "cash and cash equivalents were 2.9 billion",
    "the company repurchased 10 million shares",
]

# ---------------------------------------------------------------- tiny local CrossEncoder

WORDS = (
    "how much did the have company debt was at year end net sales rose in risk factors cash and equivalents "
    "were repurchased shares billion million total"
)


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with a one-logit head and its WordPiece tokenizer, saved like any CrossEncoder."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        PreTrainedTokenizerFast,
    )

    chars = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS.split(), *chars, *".,%$", *(f"##{c}" for c in chars)]
    ids = {token: i for i, token in enumerate(dict.fromkeys(vocab))}
    backend = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(ids),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
        initializer_range=0.5,  # wide weights, so passages get clearly different logits
    )
    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    BertForSequenceClassification(config).eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def direct_logits(path: Path, query: str, passages: list[str], max_length: int) -> list[float]:
    """The model's own logits, computed with transformers alone."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    batch = tokenizer(
        [query] * len(passages), passages, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    with torch.no_grad():
        return model(**batch).logits[:, 0].tolist()


def test_cross_encoder_ranks_all_passages_by_the_models_logits(tiny_cross_encoder: Path):
    reranker = CrossEncoderReranker(str(tiny_cross_encoder), max_length=12, bf16=False)  # 12: long pairs are truncated
    assert isinstance(reranker, Reranker) and reranker.name == str(tiny_cross_encoder)
    hits = reranker.rerank(QUERY, PASSAGES)
    assert sorted(h.index for h in hits) == list(range(len(PASSAGES)))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    logits = direct_logits(tiny_cross_encoder, QUERY, PASSAGES, max_length=12)
    assert reranker.scores(QUERY, PASSAGES) == pytest.approx(logits, abs=1e-5)
    assert [h.index for h in hits] == sorted(range(len(PASSAGES)), key=lambda i: -logits[i])
    assert max(logits) - min(logits) > 0.05  # the model, not padding, decides the order


def test_cross_encoder_top_k_determinism_and_empty(tiny_cross_encoder: Path):
    reranker = CrossEncoderReranker(str(tiny_cross_encoder), bf16=False)
    full = reranker.rerank(QUERY, PASSAGES)
    assert reranker.rerank(QUERY, PASSAGES, top_k=2) == full[:2]
    assert reranker.rerank(QUERY, PASSAGES) == full
    batched = CrossEncoderReranker(str(tiny_cross_encoder), bf16=False, batch_size=2).rerank(QUERY, PASSAGES)
    assert [h.index for h in batched] == [h.index for h in full]
    assert [h.score for h in batched] == pytest.approx([h.score for h in full], abs=1e-5)
    assert reranker.rerank(QUERY, []) == []


def test_cross_encoder_bf16_runs(tiny_cross_encoder: Path):
    hits = CrossEncoderReranker(str(tiny_cross_encoder), bf16=True).rerank(QUERY, PASSAGES)
    assert sorted(h.index for h in hits) == list(range(len(PASSAGES)))


def test_cross_encoder_missing_model_names_the_setting(tmp_path: Path):
    with pytest.raises(RerankError, match="SLEUTH_RETRIEVAL_RERANK_MODEL"):
        CrossEncoderReranker(str(tmp_path / "nope")).rerank(QUERY, PASSAGES)


# ---------------------------------------------------------------- remote endpoint


class ScriptedServer:
    """A local HTTP server answering each POST with the next scripted (status, body, delay_s, headers)."""

    def __init__(self, script: list[tuple[int, bytes | dict, float, dict[str, str]]]) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(self.rfile.read(length))}
                )
                status, body, delay, headers = outer.script.pop(0) if outer.script else (500, b"script exhausted", 0, {})
                time.sleep(delay)
                data = json.dumps(body).encode() if isinstance(body, dict) else body
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/rerank"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ok(pairs: list[tuple[int, float]], **extra) -> tuple[int, dict, float, dict]:
    return 200, {"results": [{"index": i, "relevance_score": s, **extra} for i, s in pairs]}, 0.0, {}


def remote(url: str, **kwargs) -> RemoteReranker:
    kwargs.setdefault("backoff_s", 0.01)
    return RemoteReranker(url, "BAAI/bge-reranker-v2-m3", **kwargs)


def test_remote_success_sends_vllm_request_and_sorts_results():
    with ScriptedServer([ok([(2, 0.1), (0, 0.9), (1, 0.5)])]) as server:
        hits = remote(server.url, api_key="sk-test").rerank("q", ["a", "b", "c"])
    assert hits == [Hit(0, 0.9), Hit(1, 0.5), Hit(2, 0.1)]
    (request,) = server.requests
    assert request["path"] == "/v1/rerank"
    assert request["json"] == {"model": "BAAI/bge-reranker-v2-m3", "query": "q", "documents": ["a", "b", "c"], "top_n": 3}
    assert request["headers"]["Authorization"] == "Bearer sk-test"


def test_remote_accepts_cohere_and_jina_shapes_and_top_k():
    jina = {
        "model": "jina-reranker-v2",
        "usage": {"total_tokens": 9},
        "results": [{"index": 1, "relevance_score": 0.7, "document": {"text": "b"}}, {"index": 0, "relevance_score": 0.2}],
    }
    with ScriptedServer([ok([(1, 3.0), (2, -1.0)], document={"text": "x"}), (200, jina, 0.0, {})]) as server:
        reranker = remote(server.url)
        assert reranker.rerank("q", ["a", "b", "c"], top_k=2) == [Hit(1, 3.0), Hit(2, -1.0)]
        assert reranker.rerank("q", ["a", "b", "c"], top_k=2) == [Hit(1, 0.7), Hit(0, 0.2)]
    assert [r["json"]["top_n"] for r in server.requests] == [2, 2]
    assert "Authorization" not in server.requests[0]["headers"]


def test_remote_retries_a_500_then_succeeds():
    with ScriptedServer([(500, b"boom", 0.0, {}), ok([(0, 0.3), (1, 0.8)])]) as server:
        assert remote(server.url).rerank("q", ["a", "b"]) == [Hit(1, 0.8), Hit(0, 0.3)]
    assert len(server.requests) == 2


def test_remote_gives_up_after_two_retries():
    script = [(503, b"overloaded", 0.0, {}), (429, b"slow down", 0.0, {"retry-after": "0"}), (503, b"overloaded", 0.0, {})]
    with ScriptedServer(script) as server:
        with pytest.raises(RerankError, match=r"HTTP 503 after 3 tries") as info:
            remote(server.url).rerank("q", ["a"])
    assert server.url in str(info.value)
    assert len(server.requests) == 3


def test_remote_401_is_explained_and_not_retried():
    with ScriptedServer([(401, b'{"error": "invalid api key"}', 0.0, {})]) as server:
        with pytest.raises(RerankError, match="SLEUTH_RETRIEVAL_RERANK_API_KEY") as info:
            remote(server.url, api_key="wrong").rerank("q", ["a"])
    assert "401" in str(info.value) and server.url in str(info.value)
    assert len(server.requests) == 1


@pytest.mark.serial
def test_remote_timeout_is_explained():
    with ScriptedServer([(200, {"results": []}, 1.0, {})]) as server:
        start = time.monotonic()
        with pytest.raises(RerankError, match="did not answer within 0.2s.*SLEUTH_RETRIEVAL_RERANK_TIMEOUT_S"):
            remote(server.url, timeout_s=0.2).rerank("q", ["a"])
        assert time.monotonic() - start < 0.9
    assert len(server.requests) == 1  # a slow server is not hammered with retries


def test_remote_malformed_json_is_explained():
    with ScriptedServer([(200, b"<html>not json", 0.0, {})]) as server:
        with pytest.raises(RerankError, match="not JSON.*/v1/rerank"):
            remote(server.url).rerank("q", ["a"])


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"results": [{"index": 0}]},
        {"results": [{"index": "0", "relevance_score": 1}]},
        {"results": [{"index": 5, "relevance_score": 1}]},
    ],
)
def test_remote_unexpected_shapes_are_explained(body):
    with ScriptedServer([(200, body, 0.0, {})]) as server:
        with pytest.raises(RerankError, match=server.url.replace(".", r"\.")):
            remote(server.url).rerank("q", ["a", "b"])


def test_remote_unreachable_is_retried_then_explained():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(RerankError, match="cannot reach .* after 3 tries.*SLEUTH_RETRIEVAL_RERANK_URL"):
        remote(f"http://127.0.0.1:{port}/v1/rerank").rerank("q", ["a"])


def test_remote_no_passages_makes_no_request():
    assert remote("http://127.0.0.1:9/v1/rerank").rerank("q", []) == []


# ---------------------------------------------------------------- settings


def test_make_reranker_follows_settings(tiny_cross_encoder: Path):
    assert make_reranker(RetrievalSettings(rerank="none")) is None
    local = make_reranker(RetrievalSettings(rerank="cross-encoder", rerank_model=str(tiny_cross_encoder), rerank_max_tokens=64))
    assert isinstance(local, CrossEncoderReranker) and local.max_length == 64
    assert len(local.rerank(QUERY, PASSAGES)) == len(PASSAGES)
    with pytest.raises(RerankError, match="SLEUTH_RETRIEVAL_RERANK_URL"):
        make_reranker(RetrievalSettings(rerank="remote"))
    settings = RetrievalSettings(rerank="remote", rerank_url="http://x:8000/v1/rerank", rerank_api_key="k", rerank_timeout_s=5)
    far = make_reranker(settings)
    assert isinstance(far, RemoteReranker) and isinstance(far, Reranker)
    assert (far.url, far.name, far.api_key, far.timeout_s) == ("http://x:8000/v1/rerank", settings.rerank_model, "k", 5)
