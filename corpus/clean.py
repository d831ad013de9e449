"""Text cleaning: make extracted text plain UTF-8 that ripgrep treats as text."""

from __future__ import annotations

import re

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200b": "",
        "\u00ad": "",
        "\ufeff": "",
        "\t": " ",
    }
)
# C0 controls except newline, DEL, C1 controls, and unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_SPACES = re.compile(r"[ ]{2,}")


def clean_page(text: str) -> str:
    """Clean one page: no control characters, no edge spaces, no runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = _CONTROL.sub(" ", text)
    out: list[str] = []
    for raw in text.split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if not line.strip():
            line = ""
            if out and out[-1] == "":
                continue
        out.append(line)
    while out and out[0] == "":
        out.pop(0)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
