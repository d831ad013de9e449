"""Runs llama.cpp's own OpenAI server from the prebuilt xllamacpp wheel (no compile), with embedded.llama_server's arguments.

`python -m embedded.xllama_server --model M --model_alias A --host H --port P --n_ctx N --n_threads T --n_threads_batch T
--flash_attn true|false --use_extra_bufts true|false` serves /v1/chat/completions (response_format json_schema
constrained by llama.cpp's grammar) until it is killed. xllamacpp (github.com/xorbitsai/xllamacpp, MIT) ships manylinux
x86-64 CPU wheels built without -march=native (AVX2/FMA/F16C, no AVX-512 or AMX kernels); where llama-cpp-python is
compiled here, that build runs instead (embedded.supervisor.server_launcher).
"""

from __future__ import annotations

import argparse
import signal
import sys


def _bool(text: str) -> bool:
    if text.lower() not in {"true", "false"}:
        raise argparse.ArgumentTypeError(f"{text!r}: use true or false")
    return text.lower() == "true"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="embedded.xllama_server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--model_alias", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n_ctx", type=int, required=True)
    parser.add_argument("--n_threads", type=int, required=True)
    parser.add_argument("--n_threads_batch", type=int, required=True)
    parser.add_argument("--flash_attn", type=_bool, default=False)
    parser.add_argument("--use_extra_bufts", type=_bool, default=True)
    return parser.parse_args(argv)


def params(args: argparse.Namespace):  # noqa: ANN201 - xllamacpp.CommonParams
    """llama.cpp's server parameters for these arguments: one slot, the model's own chat template (jinja)."""
    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = args.model
    p.model_alias = {args.model_alias}
    p.hostnames = [args.host]
    p.port = args.port
    p.n_ctx = args.n_ctx
    p.n_parallel = 1
    p.cpuparams.n_threads = args.n_threads
    p.cpuparams_batch.n_threads = args.n_threads_batch
    kinds = xlc.llama_flash_attn_type
    p.flash_attn_type = kinds.LLAMA_FLASH_ATTN_TYPE_ENABLED if args.flash_attn else kinds.LLAMA_FLASH_ATTN_TYPE_DISABLED
    p.no_extra_bufts = not args.use_extra_bufts
    p.use_jinja = True
    return p


def main(argv: list[str]) -> None:
    import xllamacpp as xlc

    args = parse(argv)
    server = xlc.Server(params(args))  # loads the model and starts the HTTP server on its own threads
    print(f"sleuth: llama.cpp server (xllamacpp {xlc.__version__}) at {server.listening_address}", file=sys.stderr, flush=True)
    while True:
        signal.pause()  # until SIGTERM (the default action ends the process) or the watchdog's exit


if __name__ == "__main__":
    main(sys.argv[1:])
