"""Breaking loops: small models repeat a call verbatim, after its error or after its result, turn after turn."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

REPEAT_LIMIT = 2  # a call that failed this many times identically is not run again
_CALL = re.compile(r"\b([a-z_]+)\(((?:[^()]|\([^()]*\))*)\)")


def call_key(name: str, arguments: dict[str, Any] | None) -> str:
    return f"{name} {json.dumps(arguments or {}, sort_keys=True, default=str)}"


def suggested_call(error: str, tools: set[str], failed: str) -> tuple[str, dict[str, Any]] | None:
    """The first call an error message suggests ("... use read(doc_id='X', section='Cash Flows')") other than the failed one."""
    for m in _CALL.finditer(error):
        name, args = m.group(1), m.group(2)
        if name not in tools:
            continue
        try:
            node = ast.parse(f"f({args})", mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(node, ast.Call) or node.args:
            continue
        try:
            arguments = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        except (ValueError, SyntaxError):
            continue  # a template such as grep(pattern=..., ...)
        if arguments and call_key(name, arguments) != failed:
            return name, arguments
    return None


def refusal(name: str, error: str, count: int, redirect: tuple[str, dict[str, Any]] | None) -> str:
    """What the model is told instead of running its failing call again."""
    first = error.removeprefix("Error: ").splitlines()[0][:400] if error else "an error"
    said = f"This exact {name} call has failed {count} times with: {first}\nIt was not run again."
    if redirect is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in redirect[1].items())
        return f"{said} Ran the call that error suggests instead, {redirect[0]}({args}):\n"
    return (
        f"{said} Change the arguments as the error says, or use another tool "
        "(list_documents, outline, facts, grep, search), or answer with what you have."
    )


def repeated(name: str, count: int) -> str:
    """What the model is told instead of running a call again whose result is still in the transcript."""
    if name == "facts":
        use = "To finish, call answer citing the doc_id and page shown there and quoting the row as printed"
    else:
        use = "To finish, call answer citing the doc_id and page of what you found"
    times = "once" if count == 1 else f"{count} times"
    return (
        f"Error: not run again: you made exactly this {name} call {times} already and its result is above. {use}; "
        "or call another tool (read a page to confirm, outline, grep, search) for what is still missing."
    )
