"""Runs llama-cpp-python's OpenAI server with the one model parameter its command line lacks: extra buffer types.

`python -m embedded.llama_server --use_extra_bufts false ARGS...` is `python -m llama_cpp.server ARGS...` with
llama.cpp's `use_extra_bufts` model parameter set. Extra buffer types are where llama.cpp repacks weights for a
CPU's fast paths (AMX tiles on Intel Xeons since Sapphire Rapids, interleaved Q4 blocks on AVX2/AVX-512); with them
off, every weight stays in a plain CPU buffer and the generic kernels run. llama-cpp-python 0.3.36 sets every
model parameter from `llama_model_default_params()` (llama_cpp/llama.py) and exposes no flag for this one, so the
default is wrapped before the server builds its model.
"""

from __future__ import annotations

import runpy
import sys

FLAG = "--use_extra_bufts"


def split_flag(argv: list[str]) -> tuple[bool | None, list[str]]:
    """(the flag's value, the other arguments); None when the flag is absent (llama.cpp's default: on)."""
    rest: list[str] = []
    value: bool | None = None
    i = 0
    while i < len(argv):
        if argv[i] == FLAG:
            if i + 1 >= len(argv) or argv[i + 1].lower() not in {"true", "false"}:
                raise SystemExit(f"{FLAG} needs true or false")
            value = argv[i + 1].lower() == "true"
            i += 2
            continue
        rest.append(argv[i])
        i += 1
    return value, rest


def set_extra_buffers(enabled: bool) -> None:
    """Make every llama_model_params llama-cpp-python creates carry use_extra_bufts=`enabled`."""
    import llama_cpp.llama_cpp as lib

    default = lib.llama_model_default_params
    if "use_extra_bufts" not in {name for name, _ in lib.llama_model_params._fields_}:
        raise SystemExit("this llama-cpp-python has no use_extra_bufts model parameter; install llama-cpp-python==0.3.36")

    def params() -> object:
        p = default()
        p.use_extra_bufts = enabled
        return p

    lib.llama_model_default_params = params


def main(argv: list[str]) -> None:
    enabled, rest = split_flag(argv)
    if enabled is not None:
        set_extra_buffers(enabled)
        print(
            f"sleuth: llama.cpp extra buffer types (weight repacking, AMX) {'on' if enabled else 'off'}",
            file=sys.stderr,
            flush=True,
        )
    sys.argv = ["llama_cpp.server", *rest]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
