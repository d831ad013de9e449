"""Convert a GGUF model to a Hugging Face folder that vLLM loads (weights dequantized to bf16, tokenizer and chat template kept).

usage: gguf_to_hf.py MODEL.gguf OUT_DIR   (runs in vLLM's virtualenv: transformers and gguf; writes OUT_DIR atomically)
vLLM on CPU does not read GGUF files, so `make vllm` converts the embedded model once; a 1.5B model takes ~3 GB on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path


def convert(gguf: Path, out: Path) -> None:
    """Load the GGUF with transformers (dequantized) and save it as safetensors in bf16, with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        if not tokenizer.chat_template:
            raise SystemExit(f"error: {gguf} carries no chat template; vLLM's tool-call parser needs one")
        # dequantize: transformers keeps GGUF blocks packed when a matmul kernel is at hand, and vLLM cannot load those
        unpacked = GgufConfig(gguf_file=gguf.name, dequantize=True)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16, quantization_config=unpacked
        )
        model.save_pretrained(partial, safe_serialization=True)
        config = json.loads((partial / "config.json").read_text())
        if config.pop("quantization_config", None) is not None:  # the weights are plain bf16 now
            (partial / "config.json").write_text(json.dumps(config, indent=2))
        tokenizer.save_pretrained(partial)
        del model
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    gguf, out = Path(argv[0]), Path(argv[1])
    if not gguf.is_file():
        print(f"error: no GGUF file at {gguf}", file=sys.stderr)
        return 1
    started = time.monotonic()
    convert(gguf, out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"converted {gguf.name} -> {out} ({size / 1e9:.1f} GB) in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
