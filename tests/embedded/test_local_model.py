"""The embedded model: GGUF assembly from part wheels, and the server manager against a stand-in server script."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from agent.settings import LLMSettings
from embedded import model_file
from embedded import supervisor as local
from embedded.endpoint import local_llm_settings
from embedded.model_file import LocalModelError, model_path
from embedded.settings import LocalModelSettings
from embedded.supervisor import LocalModel

PREFIX = "sleuth-test-model-part"
CHUNKS = [b"GGUF" + b"a" * 3000, b"b" * 2500, b"c" * 17]

# Stands in for `python -m llama_cpp.server`: answers GET /v1/models (and chat, or crashes on it), or dies, or never listens (--mode).
FAKE_SERVER = r"""
import argparse, json, os, signal, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--mode", default="serve")
parser.add_argument("--port", type=int)
parser.add_argument("--host")
parser.add_argument("--model_alias")
args, _ = parser.parse_known_args()
print("argv " + json.dumps(sys.argv[1:]), flush=True)
if args.mode == "die":
    print("error loading model: boom", flush=True)
    sys.exit(3)
if args.mode == "hang":
    time.sleep(600)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": args.model_alias, "object": "model"}]}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if args.mode == "crash_on_chat":  # what llama.cpp did on an AMX CPU: a general protection fault, i.e. SIGSEGV
            os.kill(os.getpid(), signal.SIGSEGV)
        body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": args.model_alias,
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "5"}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

time.sleep(0.3)  # a model takes a moment to load: the manager must poll, not give up
HTTPServer((args.host, args.port), Handler).serve_forever()
"""


def make_parts(site: Path, chunks: list[bytes], version: str = "0.2.0", prefix: str = PREFIX) -> None:
    """Fake installed part wheels: a dist-info with a RECORD naming one data file per part."""
    for i, chunk in enumerate(chunks, 1):
        package = f"{prefix}{i}".replace("-", "_")
        data = site / package / "data" / f"part{i:02d}.bin"
        data.parent.mkdir(parents=True, exist_ok=True)
        data.write_bytes(chunk)
        info = site / f"{package}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {prefix}{i}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"{package}/__init__.py,,\n{package}/data/part{i:02d}.bin,,\n{info.name}/METADATA,,\n")


def part_settings(**overrides) -> LocalModelSettings:
    values = {
        "parts_package": PREFIX,
        "parts_count": len(CHUNKS),
        "parts_version": "0.2.0",
        "sha256": hashlib.sha256(b"".join(CHUNKS)).hexdigest(),
        "filename": "tiny.gguf",
        **overrides,
    }
    return LocalModelSettings(**values)


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def test_parts_are_assembled_in_order_verified_and_reused(site, tmp_path, monkeypatch):
    make_parts(site, CHUNKS)
    path = model_path(part_settings(), tmp_path / "data")
    assert path == tmp_path / "data" / "models" / "tiny.gguf" and path.read_bytes() == b"".join(CHUNKS)
    assert not [p for p in path.parent.iterdir() if "partial" in p.name]
    mtime = path.stat().st_mtime_ns
    monkeypatch.setattr(model_file, "_sha256", lambda p: pytest.fail("a verified file is not hashed again"))
    assert model_path(part_settings(), tmp_path / "data") == path and path.stat().st_mtime_ns == mtime


def test_a_damaged_model_file_is_reassembled(site, tmp_path):
    make_parts(site, CHUNKS)
    path = model_path(part_settings(), tmp_path)
    path.write_bytes(b"x" * path.stat().st_size)  # same size, other bytes, stamp now stale
    assert model_path(part_settings(), tmp_path).read_bytes() == b"".join(CHUNKS)


def test_checksum_mismatch_fails_and_leaves_nothing(site, tmp_path):
    make_parts(site, CHUNKS)
    with pytest.raises(LocalModelError, match=f"expected {'0' * 64}.*--force-reinstall"):
        model_path(part_settings(sha256="0" * 64), tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_or_wrong_version_parts_name_the_pip_command(site, tmp_path):
    make_parts(site, CHUNKS[:2])
    with pytest.raises(
        LocalModelError, match=r"sleuth-test-model-part3 missing.*pip install sleuth-test-model-part\{1\.\.3\}==0\.2\.0"
    ) as err:
        model_path(part_settings(), tmp_path)
    assert "SLEUTH_LLM_BASE_URL" in str(err.value)
    with pytest.raises(LocalModelError, match="version 0.2.0, Sleuth needs 0.3.0"):
        model_path(part_settings(parts_version="0.3.0"), tmp_path)


def test_missing_llama_cpp_tells_what_to_install(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        local.importlib.util, "find_spec", lambda name: None if name in ("llama_cpp", "xllamacpp") else real(name)
    )
    with pytest.raises(LocalModelError) as err:
        LocalModel(part_settings(), tmp_path).start()  # fails before looking for the model
    message = str(err.value)
    assert (
        "pip install 'llama-cpp-python[server]==0.3.36'" in message and "make run" in message and "SLEUTH_LLM_BASE_URL" in message
    )
    assert "pip install xllamacpp==2026.10.11549" in message
    assert err.value.kind == "local_model"


def test_the_compiled_server_runs_where_installed_else_the_prebuilt_one(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        local.importlib.util, "find_spec", lambda name: object() if name in ("llama_cpp", "xllamacpp") else real(name)
    )
    if all(real(m) for m in local._SERVER_MODULES[1:]):
        assert local.server_launcher() == ["-m", "embedded.llama_server"]
    monkeypatch.setattr(local.importlib.util, "find_spec", lambda name: None if name == "llama_cpp" else object())
    assert local.server_launcher() == ["-m", "embedded.xllama_server"]
    model = LocalModel(part_settings(threads=3, context_tokens=4096), tmp_path)
    command = model.command(tmp_path / "m.gguf", 8123)
    assert command[3:5] == ["-m", "embedded.xllama_server"]


@pytest.mark.skipif(importlib.util.find_spec("xllamacpp") is None, reason="xllamacpp is not installed (the local extra)")
def test_the_prebuilt_server_gets_the_same_parameters():
    from embedded.xllama_server import params, parse

    argv = [
        "--model",
        "/m.gguf",
        "--model_alias",
        "qwen",
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--n_ctx",
        "8192",
        "--n_threads",
        "3",
        "--n_threads_batch",
        "3",
        "--flash_attn",
        "false",
        "--use_extra_bufts",
        "false",
    ]
    p = params(parse(argv))
    assert (p.model.path, p.model_alias, p.hostnames, p.port, p.n_ctx, p.n_parallel) == (
        "/m.gguf",
        {"qwen"},
        ["127.0.0.1"],
        8123,
        8192,
        1,
    )
    assert (p.cpuparams.n_threads, p.cpuparams_batch.n_threads, p.no_extra_bufts, p.use_jinja) == (3, 3, True, True)
    with pytest.raises(SystemExit):
        parse(argv[:-1] + ["maybe"])  # a flag that is neither true nor false


def fake_model(tmp_path: Path, mode: str = "serve", **overrides) -> LocalModel:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    settings = part_settings(**{"threads": 3, "context_tokens": 4096, "startup_timeout_s": 20, **overrides})
    return LocalModel(settings, tmp_path / "data", launcher=[str(script), "--mode", mode], model_file=model)


def get_models(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
        return json.loads(response.read())


def test_server_starts_answers_and_stops(tmp_path):
    with fake_model(tmp_path) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1" and server.port > 0
        assert get_models(server.base_url)["data"][0]["id"] == server.model_name == "qwen2.5-coder-1.5b-instruct"
        proc = server._proc
    assert proc.poll() is not None and not server.running
    with pytest.raises(OSError):
        get_models(f"http://127.0.0.1:{server.port}/v1")
    argv = json.loads(server.log_path.read_text().splitlines()[0].removeprefix("argv "))
    assert argv[argv.index("--n_ctx") + 1] == "4096" and argv[argv.index("--n_threads") + 1] == "3"
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--model") + 1] == str(tmp_path / "m.gguf")
    assert argv[argv.index("--use_extra_bufts") + 1] == str(server.extra_buffers).lower()
    server.stop()  # twice is fine


def test_async_context_manager_and_llm_settings(tmp_path):
    async def scenario():
        async with fake_model(tmp_path) as server:
            settings = local_llm_settings(server, LLMSettings(base_url=None, max_retries=3, timeout_s=60))
            assert settings.base_url == server.base_url and settings.model == server.model_name
            assert settings.tool_mode == "text" and settings.constrain_text_calls and settings.context_tokens == 4096
            assert settings.timeout_s >= 900 and settings.max_retries == 0 and settings.extra_body == {}
            assert await asyncio.to_thread(get_models, server.base_url)
            return server

    server = asyncio.run(scenario())
    assert not server.running


@pytest.mark.skipif(sys.platform != "linux", reason="checks processes through /proc")
def test_server_dies_with_a_killed_parent(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from tests.embedded.test_local_model import fake_model\n"
        "from pathlib import Path\n"
        "server = fake_model(Path(sys.argv[1])).start()\n"
        "print(server._proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, str(driver), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)  # no atexit, no finalizers: only the pipe closing tells the server
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def test_server_that_dies_reports_its_log(tmp_path):
    server = fake_model(tmp_path, mode="die")
    with pytest.raises(LocalModelError, match=r"exited with code 3(.|\n)*error loading model: boom") as err:
        server.start()
    assert str(server.log_path) in str(err.value) and not server.running


def test_server_that_never_answers_times_out_and_is_killed(tmp_path):
    server = fake_model(tmp_path, mode="hang", startup_timeout_s=1)
    with pytest.raises(LocalModelError, match="SLEUTH_LOCAL_STARTUP_TIMEOUT_S"):
        server.start()
    assert server._proc is None


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("SLEUTH_LOCAL_THREADS", "1")
    monkeypatch.setenv("SLEUTH_LOCAL_CONTEXT_TOKENS", "4096")
    settings = LocalModelSettings()
    assert (settings.threads, settings.context_tokens, settings.port) == (1, 4096, 0)
    monkeypatch.delenv("SLEUTH_LOCAL_THREADS")
    assert LocalModelSettings().threads >= 1


@pytest.mark.local_model
@pytest.mark.skipif(
    os.environ.get("SLEUTH_TEST_LOCAL_MODEL") != "1", reason="set SLEUTH_TEST_LOCAL_MODEL=1 to start the real embedded model"
)
def test_real_embedded_model_answers(tmp_path_factory):
    from agent.llm import LLMClient

    data_dir = Path(os.environ.get("SLEUTH_DATA_DIR", tmp_path_factory.mktemp("local-model")))

    async def scenario():
        async with LocalModel(LocalModelSettings(context_tokens=2048), data_dir) as server:
            client = LLMClient(local_llm_settings(server))
            reply = await client.complete(
                [{"role": "user", "content": "What is 2 + 3? Answer with the number only."}], max_tokens=8
            )
            await client.close()
            return reply

    reply = asyncio.run(scenario())
    assert "5" in reply.content and reply.usage.completion_tokens > 0


# --- the fast path off where it crashed, and supervision ---


def test_extra_buffer_types_are_off_on_amx_cpus_and_can_be_forced(tmp_path):
    from embedded.supervisor import cpu_flags, use_extra_buffers

    assert use_extra_buffers("auto", {"avx2", "avx512f", "amx_tile", "amx_int8"}) is False  # the CPU it crashed on
    assert use_extra_buffers("auto", {"avx2", "fma"}) is True
    assert use_extra_buffers("off", {"avx2"}) is False and use_extra_buffers("on", {"amx_int8"}) is True
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n")
    assert cpu_flags(info) == {"fpu", "avx2", "amx_bf16", "amx_tile"} and cpu_flags(tmp_path / "missing") == set()
    model = fake_model(tmp_path, extra_buffers="off")
    assert model.command(tmp_path / "m.gguf", 1)[-2:] == ["--use_extra_bufts", "false"]


def test_llama_server_wrapper_takes_its_flag_and_passes_the_rest():
    from embedded.llama_server import split_flag

    assert split_flag(["--model", "m", "--use_extra_bufts", "false", "--port", "1"]) == (False, ["--model", "m", "--port", "1"])
    assert split_flag(["--model", "m"]) == (None, ["--model", "m"])
    with pytest.raises(SystemExit, match="true or false"):
        split_flag(["--use_extra_bufts"])


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed (the local extra)")
def test_llama_server_wrapper_sets_the_model_parameter_llama_cpp_python_uses():
    code = (
        "import llama_cpp.llama_cpp as lib; from embedded.llama_server import set_extra_buffers; "
        "assert lib.llama_model_default_params().use_extra_bufts is True; "
        "set_extra_buffers(False); assert lib.llama_model_default_params().use_extra_bufts is False; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


def wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_server_that_dies_is_restarted_on_its_port(tmp_path):
    with fake_model(tmp_path) as server:
        first, url = server._proc.pid, server.base_url
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: server.state == "running" and server._proc is not None and server._proc.pid != first)
        assert server.base_url == url and get_models(url)["data"]
        status = server.status()
        assert (
            status["restarts"] == 1 and status["last_crash"]["reason"] == "was killed by SIGKILL" and status["state"] == "running"
        )
        assert "restarting it" in server.log_path.read_text()  # the log keeps the crashed server's lines, then the new one's
        proc = server._proc
    assert proc.poll() is not None and server.state == "stopped" and len(server.crashes) == 1  # a stop is not a crash


def test_the_call_in_flight_fails_saying_the_server_crashed_and_restarts_are_bounded(tmp_path):
    from agent.llm import LLMClient, LLMError

    async def ask(client):
        return await client.complete([{"role": "user", "content": "What is 2 + 3?"}], max_tokens=8)

    with fake_model(tmp_path, mode="crash_on_chat", max_restarts=1) as server:
        client = LLMClient(local_llm_settings(server), explain=server.explain_failure)
        with pytest.raises(LLMError) as err:
            asyncio.run(ask(client))
        message = str(err.value)
        assert (
            err.value.kind == "crashed" and "server was killed by SIGSEGV (a crash inside llama.cpp) during this call" in message
        )
        assert "restart" in message and str(server.log_path) in message and "SLEUTH_LLM_BASE_URL" in message
        wait_until(lambda: server.state == "running")
        with pytest.raises(LLMError) as err:  # restarted once; the second crash is the last one allowed
            asyncio.run(ask(client))
        assert "stopped restarting it after 1 restarts" in str(err.value) and "restart `sleuth serve`" in str(err.value)
        assert server.status()["state"] == "failed" and not server.running and len(server.crashes) == 2
        with pytest.raises(LLMError) as err:  # later calls say the same, instead of 'connection refused'
            asyncio.run(ask(client))
        assert err.value.kind == "crashed" and "is down: it was killed by SIGSEGV" in str(err.value)


def test_a_healthy_server_failing_a_call_is_not_blamed_on_a_crash(tmp_path):
    with fake_model(tmp_path) as server:
        assert server.explain_failure(time.time()) is None
