"""The embedded model's GGUF: assembled from pinned data-only part wheels into <data_dir>/models, checked by sha256."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
from pathlib import Path

from agent.llm import LLMError
from embedded.settings import LocalModelSettings

_CHUNK = 1 << 20


class LocalModelError(LLMError):
    """The embedded model could not be prepared or started; the message says what to run."""

    def __init__(self, message: str) -> None:
        super().__init__("local_model", message)


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


def assembled(settings: LocalModelSettings, data_dir: Path) -> bool:
    """The GGUF is already assembled and verified (so starting needs no minute of copying)."""
    target = Path(data_dir) / "models" / settings.filename
    return target.is_file() and _stamp_matches(target.with_name(target.name + ".sha256"), target, settings.sha256)


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
