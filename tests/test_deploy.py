"""The GPU deployment: docker-compose.yml (vllm, api, postgres), the Dockerfile, .dockerignore and .env.example.

The file checks run everywhere; the `docker compose config` checks need Docker Compose v2, as the docker CLI's plugin or
a standalone `docker-compose` (no engine: `config` only parses and interpolates), and are skipped, with the reason,
where there is none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"

# docs/deployment.md's recipe for an external OpenAI-compatible endpoint: vllm is never started, api waits for postgres only.
EXTERNAL_ENDPOINT_OVERRIDE = """\
services:
  vllm:
    profiles: [local-llm]
  api:
    depends_on: !override
      postgres:
        condition: service_healthy
"""


def documented_override() -> str:
    """The override file docs/deployment.md tells readers to write (its yaml block headed '# docker-compose.override.yml')."""
    blocks = re.findall(
        r"```yaml\n# docker-compose\.override\.yml\n(.*?)```", DEPLOYMENT_DOC.read_text(encoding="utf-8"), flags=re.DOTALL
    )
    assert len(blocks) == 1, "docs/deployment.md should show one docker-compose.override.yml"
    return blocks[0]


def test_documented_override_is_the_tested_recipe() -> None:
    without_comments = "".join(re.sub(r"\s+#.*$", "", line) + "\n" for line in documented_override().splitlines())
    assert without_comments == EXTERNAL_ENDPOINT_OVERRIDE


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def check_stack(cfg: dict) -> None:
    """What the issue asks of the stack, on the raw file or on `docker compose config` output."""
    services = cfg["services"]
    assert {"vllm", "api", "postgres"} <= set(services), sorted(services)
    vllm, api, postgres = services["vllm"], services["api"], services["postgres"]

    assert "vllm/vllm-openai" in vllm["image"]
    devices = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices), devices
    vllm_volumes = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in vllm["volumes"]]
    assert any("/root/.cache/huggingface" in v for v in vllm_volumes), vllm_volumes
    assert vllm.get("ipc") == "host" or vllm.get("shm_size"), "vLLM needs shared memory: ipc: host or shm_size"
    assert "/health" in " ".join(vllm["healthcheck"]["test"])
    assert vllm["healthcheck"].get("start_period"), "model download and load take minutes: a long start_period"

    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    pg_volumes = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in postgres["volumes"]]
    assert any(v.startswith("pgdata:") for v in pg_volumes), pg_volumes

    assert api["build"] == "." or api["build"]["dockerfile"] == "Dockerfile"
    command = api["command"] if isinstance(api["command"], list) else api["command"].split()
    assert command[:3] == ["serve", "--host", "0.0.0.0"], command
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    for dep in ("vllm", "postgres"):
        assert api["depends_on"][dep]["condition"] == "service_healthy", api["depends_on"]
    api_volumes = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in api["volumes"]]
    assert any(v.startswith("sleuth-data:") and v.split(":")[1] == "/data" for v in api_volumes), api_volumes
    assert any(":/filings" in v for v in api_volumes), api_volumes
    env = api["environment"]
    for key in ("SLEUTH_DATA_DIR", "SLEUTH_DATABASE_URL", "SLEUTH_LLM_BASE_URL", "SLEUTH_LLM_MODEL", "SLEUTH_LLM_CONTEXT_TOKENS"):
        assert key in env, key

    assert {"hf-cache", "pgdata", "sleuth-data"} <= set(cfg["volumes"]), cfg["volumes"]


# --- the files themselves (no docker needed) ------------------------------------------------------------------------


def test_compose_file_structure() -> None:
    check_stack(yaml.safe_load(COMPOSE.read_text()))


def test_vllm_command_serves_with_tool_calling_and_prefix_caching() -> None:
    command = " ".join(yaml.safe_load(COMPOSE.read_text())["services"]["vllm"]["command"].split())
    for flag in (
        "--model ${MODEL",
        "--served-model-name ${SERVED_MODEL_NAME",
        "--max-model-len ${MAX_MODEL_LEN",
        "--gpu-memory-utilization ${GPU_MEMORY_UTILIZATION",
        "--enable-auto-tool-choice",
        "--tool-call-parser ${TOOL_CALL_PARSER",
        "--enable-prefix-caching",
    ):
        assert flag in command, flag


def test_every_compose_variable_has_a_default_matching_env_example() -> None:
    """`docker compose config` works in a clean clone (no .env), and .env.example says what the defaults are."""
    text = COMPOSE.read_text()
    example = env_example()
    defaults: dict[str, str] = {}
    for match in re.finditer(r"\$\{(\w+)(:?-)?", text):
        name, has_default = match.group(1), match.group(2)
        assert has_default == ":-", f"${{{name}}} has no default: `docker compose config` would warn without a .env"
        rest = text[match.end() :]
        depth, end = 1, 0
        while depth:  # the default runs to the matching brace (defaults nest: ${A:-${B:-x}}, ${X:-{}})
            depth += {"{": 1, "}": -1}.get(rest[end], 0)
            end += 1
        defaults.setdefault(name, rest[: end - 1])
    for name in (
        "VLLM_IMAGE",
        "MODEL",
        "SERVED_MODEL_NAME",
        "MAX_MODEL_LEN",
        "GPU_MEMORY_UTILIZATION",
        "TOOL_CALL_PARSER",
        "VLLM_GPU_COUNT",
        "HF_TOKEN",
        "POSTGRES_PASSWORD",
        "API_PORT",
        "FILINGS_DIR",
    ):
        assert name in example, f".env.example lacks {name}"
        assert name in defaults, f"docker-compose.yml does not use {name}"
    for name, value in example.items():
        if name in defaults and name != "POSTGRES_PASSWORD":  # the example asks for a real password
            assert defaults[name] == value, (
                f"{name}: docker-compose.yml defaults to {defaults[name]!r}, .env.example says {value!r}"
            )
    assert example["TOOL_CALL_PARSER"] == "hermes" and example["MODEL"] == "Qwen/Qwen3-30B-A3B-Instruct-2507"


def test_dockerfile_multistage_nonroot_cpu_torch() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, flags=re.MULTILINE | re.IGNORECASE)
    assert len(stages) >= 2, "multi-stage build"
    final = text[text.rfind("\nFROM ") :]
    users = re.findall(r"^USER\s+(\S+)", final, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the final stage runs as a non-root user"
    assert "COPY --from=" in final
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", final, flags=re.MULTILINE), "healthcheck on /readyz"
    assert re.search(r'^ENTRYPOINT \["sleuth"\]', final, flags=re.MULTILINE)
    # CPU torch before the project's requirements, so torch==2.13.0 is already satisfied (no CUDA wheels).
    pin = next(
        d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"] if d.startswith("torch")
    )
    torch_at = text.index(f'--index-url "${{TORCH_INDEX_URL}}" {pin}')
    assert "download.pytorch.org/whl/cpu" in text
    assert torch_at < text.index("-r /tmp/requirements.txt") < text.index("pip install --no-deps .")
    assert "[dev" not in text and "[local" not in text and ",local]" not in text


def test_dockerfile_copies_every_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    text = DOCKERFILE.read_text()
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert re.search(rf"^COPY {package} {package}$", text, flags=re.MULTILINE), f"Dockerfile does not copy {package}/"
    assert re.search(r"^COPY pyproject.toml README.md ", text, flags=re.MULTILINE)


def test_dockerignore_keeps_the_context_small_and_secret_free() -> None:
    entries = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")
    }
    for entry in (".venv", ".venv-vllm", "data", ".git", "**/__pycache__", "bench/out", ".env"):
        assert entry in entries, entry
    assert "tests" in entries or "tests/artifacts" in entries
    for needed in ("pyproject.toml", "README.md", "web", "api", "agent"):
        assert needed not in entries, needed


# --- docker compose config ---------------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """No MODEL, POSTGRES_PASSWORD ... from the caller's environment: they would override the .env under test."""
    keep = ("PATH", "HOME", "DOCKER_CONFIG", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def _find_compose() -> tuple[list[str] | None, str]:
    """`docker compose` (the CLI plugin), else a standalone Compose v2+ `docker-compose` (on PATH or beside this Python)."""
    candidates, tried = [], []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    for binary in (shutil.which("docker-compose"), Path(sys.executable).parent / "docker-compose"):
        if binary and Path(binary).is_file():
            candidates.append([str(binary)])
    for command in candidates:
        try:
            probe = subprocess.run(
                [*command, "version"], check=False, capture_output=True, text=True, timeout=60, env=_clean_env()
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            tried.append(f"`{' '.join(command)} version`: {exc}")
            continue
        out = (probe.stdout + probe.stderr).strip()
        if probe.returncode == 0 and re.search(r"\bv?([2-9]|[1-9]\d+)\.\d+\.\d+", out):
            return command, out
        tried.append(f"`{' '.join(command)} version`: {(out.splitlines() or ['no output'])[0][:150]}")
    if not candidates:
        return None, "neither the docker CLI nor a standalone docker-compose is installed"
    return None, "no Docker Compose v2 (" + "; ".join(tried) + ")"


COMPOSE_CMD, _COMPOSE_INFO = _find_compose()
requires_compose = pytest.mark.skipif(COMPOSE_CMD is None, reason=_COMPOSE_INFO)


def compose_config(workdir: Path, *, env_file: str | None, override: str | None = None, profiles: tuple[str, ...] = ()) -> dict:
    """`docker compose config --format json` on a copy of the deployment files in workdir."""
    for name in ("docker-compose.yml", "Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / name, workdir / name)
    if env_file is not None:
        (workdir / ".env").write_text(env_file)
    if override is not None:
        (workdir / "docker-compose.override.yml").write_text(override)
    flags = [arg for p in profiles for arg in ("--profile", p)]
    proc = subprocess.run(
        [*COMPOSE_CMD, *flags, "config", "--format", "json"],
        cwd=workdir,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "WARN" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def env_example_plus(*lines: str) -> str:
    """.env.example with some lines appended (later lines win in a .env)."""
    return ENV_EXAMPLE.read_text() + "".join(f"{line}\n" for line in lines)


def vllm_args(cfg: dict) -> str:
    return " ".join(cfg["services"]["vllm"]["command"])


@requires_compose
def test_compose_config_in_repo() -> None:
    """What CI checks: the repo's own file, with the example settings."""
    proc = subprocess.run(
        [*COMPOSE_CMD, "-f", "docker-compose.yml", "--env-file", ".env.example", "config", "--quiet"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
    )
    assert proc.returncode == 0, proc.stderr


@requires_compose
def test_compose_config_with_env_example(tmp_path: Path) -> None:
    cfg = compose_config(tmp_path, env_file=ENV_EXAMPLE.read_text())
    check_stack(cfg)
    args = vllm_args(cfg)
    for part in (
        "--model Qwen/Qwen3-30B-A3B-Instruct-2507",
        "--max-model-len 65536",
        "--gpu-memory-utilization 0.92",
        "--enable-auto-tool-choice --tool-call-parser hermes",
        "--enable-prefix-caching",
    ):
        assert part in args, args
    assert cfg["services"]["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]["count"] == 1
    env = cfg["services"]["api"]["environment"]
    assert env["SLEUTH_LLM_BASE_URL"] == "http://vllm:8000/v1"
    assert env["SLEUTH_LLM_MODEL"] == "Qwen/Qwen3-30B-A3B-Instruct-2507"
    assert env["SLEUTH_LLM_CONTEXT_TOKENS"] == "65536"
    assert env["SLEUTH_LLM_EXTRA_BODY"] == "{}"
    assert env["SLEUTH_DATABASE_URL"] == "postgresql+psycopg://sleuth:change-me@postgres:5432/sleuth"
    assert cfg["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "change-me"
    assert cfg["services"]["api"]["ports"][0]["published"] == "8000"


@requires_compose
def test_compose_config_without_env_file(tmp_path: Path) -> None:
    """A clean clone (no .env) still renders, on the compose file's defaults."""
    cfg = compose_config(tmp_path, env_file=None)
    check_stack(cfg)
    assert "--tool-call-parser hermes" in vllm_args(cfg)


@requires_compose
def test_compose_switch_model(tmp_path: Path) -> None:
    """gpt-oss-120b on two GPUs: the model, parser and extra flags reach vLLM; Sleuth follows the served name."""
    env = env_example_plus(
        "MODEL=openai/gpt-oss-120b",
        "SERVED_MODEL_NAME=gpt-oss-120b",
        "TOOL_CALL_PARSER=openai",
        "MAX_MODEL_LEN=131072",
        "VLLM_GPU_COUNT=2",
        "VLLM_EXTRA_ARGS=--tensor-parallel-size 2 --reasoning-parser openai_gptoss",
        'SLEUTH_LLM_EXTRA_BODY={"reasoning_effort": "low"}',
    )
    cfg = compose_config(tmp_path, env_file=env)
    args = vllm_args(cfg)
    assert "--model openai/gpt-oss-120b --served-model-name gpt-oss-120b --max-model-len 131072" in args
    assert "--tool-call-parser openai" in args
    assert args.endswith("--tensor-parallel-size 2 --reasoning-parser openai_gptoss"), args
    assert cfg["services"]["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]["count"] == 2
    api_env = cfg["services"]["api"]["environment"]
    assert api_env["SLEUTH_LLM_MODEL"] == "gpt-oss-120b" and api_env["SLEUTH_LLM_CONTEXT_TOKENS"] == "131072"
    assert json.loads(api_env["SLEUTH_LLM_EXTRA_BODY"]) == {"reasoning_effort": "low"}


@requires_compose
def test_compose_external_endpoint(tmp_path: Path) -> None:
    """Any OpenAI-compatible endpoint: SLEUTH_LLM_* in .env and the override docs/deployment.md shows; vllm is not started."""
    env = env_example_plus(
        "SLEUTH_LLM_BASE_URL=https://llm.example.com/v1",
        "SLEUTH_LLM_MODEL=some-model",
        "SLEUTH_LLM_API_KEY=sk-test",
        "SLEUTH_LLM_CONTEXT_TOKENS=128000",
    )
    cfg = compose_config(tmp_path, env_file=env, override=documented_override())
    assert "vllm" not in cfg["services"]
    api = cfg["services"]["api"]
    assert set(api["depends_on"]) == {"postgres"}
    assert api["environment"]["SLEUTH_LLM_BASE_URL"] == "https://llm.example.com/v1"
    assert api["environment"]["SLEUTH_LLM_MODEL"] == "some-model"
    assert api["environment"]["SLEUTH_LLM_API_KEY"] == "sk-test"
    assert api["environment"]["SLEUTH_LLM_CONTEXT_TOKENS"] == "128000"


@requires_compose
def test_compose_milvus_profile(tmp_path: Path) -> None:
    """Milvus Standalone with its own etcd and MinIO, volumes and health checks, only with --profile milvus."""
    plain = compose_config(tmp_path, env_file=ENV_EXAMPLE.read_text())
    assert not {"milvus", "milvus-etcd", "milvus-minio"} & set(plain["services"])  # off by default
    assert plain["services"]["api"]["environment"]["SLEUTH_RETRIEVAL_INDEX_URL"] == ""  # the local index
    older = compose_config(tmp_path, env_file=env_example_plus("SLEUTH_INDEX_URL=http://milvus:19530", "SLEUTH_INDEX_TOKEN=u:p"))
    assert (
        older["services"]["api"]["environment"]["SLEUTH_RETRIEVAL_INDEX_URL"] == "http://milvus:19530"
    )  # an older .env still works
    assert older["services"]["api"]["environment"]["SLEUTH_RETRIEVAL_INDEX_TOKEN"] == "u:p"
    cfg = compose_config(
        tmp_path, env_file=env_example_plus("SLEUTH_RETRIEVAL_INDEX_URL=http://milvus:19530"), profiles=("milvus",)
    )
    check_stack(cfg)
    services = cfg["services"]
    milvus = services["milvus"]
    assert milvus["image"].startswith("milvusdb/milvus:") and milvus["command"] == ["milvus", "run", "standalone"]
    assert (
        milvus["environment"]["ETCD_ENDPOINTS"] == "milvus-etcd:2379"
        and milvus["environment"]["MINIO_ADDRESS"] == "milvus-minio:9000"
    )
    for name, target in (("milvus", "/var/lib/milvus"), ("milvus-etcd", "/etcd"), ("milvus-minio", "/minio_data")):
        assert any(v["type"] == "volume" and v["target"] == target for v in services[name]["volumes"]), name
        assert services[name]["healthcheck"]["test"], name
    assert set(milvus["depends_on"]) == {"milvus-etcd", "milvus-minio"}
    api = services["api"]
    assert api["environment"]["SLEUTH_RETRIEVAL_INDEX_URL"] == "http://milvus:19530"
    assert api["depends_on"]["milvus"]["condition"] == "service_healthy"
