"""Tool calls written as text: parse the JSON that models without native tool calling put in their replies."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent.prompts import load as load_prompt

CALL_FORMAT = '<tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>'

_NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
_ARG_KEYS = ("arguments", "parameters", "args", "tool_input", "action_input", "input")
# Keys that mark an object as a call even when the name is unknown, so a misspelt tool gets an error, not silence.
_CALL_ARG_KEYS = frozenset(_ARG_KEYS) - {"input"}
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}

_THINK = re.compile(r"<(think|thinking)>.*?(?:</\1>|\Z)|\A(?:(?!<think(?:ing)?>).)*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_TAGGED = re.compile(
    r"<(?P<tag>tool_call|tools|function_call)>(?P<body>.*?)(?:</(?P=tag)>|(?=<(?P=tag)>)|\Z)"
    r"|<function=(?P<fname>[^>\s]+)>(?P<fbody>.*?)(?:</function>|(?=<function=)|\Z)"
    r"|<\|python_tag\|>(?P<pbody>.*?)(?:<\|eom_id\|>|<\|eot_id\|>|(?=<\|python_tag\|>)|\Z)",
    re.DOTALL | re.IGNORECASE,
)
_FENCE = re.compile(r"```[ \t]*(?P<lang>[\w+.-]*)[ \t]*\n?(?P<body>.*?)(?:```|\Z)", re.DOTALL)
# Where a bare call may start: a brace opening a key (or an empty object), or a list of objects.
_OPEN = re.compile(r"""\{\s*(?:["'}]|\w+\s*:)|\[\s*\{""")
_SPECIAL = re.compile(r"[\"'{}\[\]]")
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_MAX_FAILED = 50  # unparsable candidates tried per reply; each may scan to the end, so this bounds the work
_CALL_HINT = re.compile(r"""["']?\b(?:tool|tool_name|function|arguments|parameters|args|tool_input)\b["']?\s*:""")
_STRAY = re.compile(r"</?(?:tool_call|tools|function_call)>|<\|(?:python_tag|eom_id|eot_id)\|>|\[TOOL_CALLS\]", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedToolCall:
    name: str
    arguments: dict[str, Any]
    id: str  # "text_call_0", "text_call_1", ... in the order the calls appear


@dataclass
class TextToolCalls:
    calls: list[ParsedToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one per malformed call, written for the model to fix it
    remaining_text: str = ""  # the reply without tool-call blocks and <think> blocks


class _ParseError(ValueError):
    pass


# An item found in the text: a call (name, arguments) or an error message for the model.
_Item = tuple[str, dict[str, Any]] | str


def parse_tool_calls(text: str, tool_names: set[str]) -> TextToolCalls:
    """Find the tool calls a model wrote as JSON in its reply text; malformed ones become errors for the model."""
    names = set(tool_names)
    found: list[tuple[int, list[_Item]]] = []
    drop: list[tuple[int, int]] = [m.span() for m in _THINK.finditer(text)]
    work = _mask(text, drop)

    tagged = list(_TAGGED.finditer(work))
    for m in tagged:
        found.append((m.start(), _tagged_items(m, names)))
        drop.append(m.span())
    work = _mask(work, [m.span() for m in tagged])

    fenced = list(_FENCE.finditer(work))
    for m in fenced:
        body = m["body"].strip()
        if not body:  # nothing left once tagged calls inside it were taken out
            drop.append(m.span())
            continue
        items = _fenced_items(m.group(0), body, names)
        if items:
            found.append((m.start(), items))
            drop.append(m.span())
    work = _mask(work, [m.span() for m in fenced])

    bare, bare_errors = _bare_items(work, text, names)
    for start, end, items in bare:
        found.append((start, items))
        drop.append((start, end))
    taken = [(start, end) for start, end, _ in bare]
    for start, end, message in bare_errors:
        if not any(start < e and s < end for s, e in taken):
            found.append((start, [message]))
            drop.append((start, end))
            taken.append((start, end))

    calls: list[ParsedToolCall] = []
    errors: list[str] = []
    for _, items in sorted(found, key=lambda f: f[0]):
        for item in items:
            if isinstance(item, str):
                errors.append(item)
            else:
                calls.append(ParsedToolCall(item[0], item[1], f"text_call_{len(calls)}"))
    return TextToolCalls(calls, errors, _remaining(text, drop))


def tool_call_instructions(tool_schemas: list[dict[str, Any]]) -> str:
    """System-prompt text that teaches a model without native tool calling to call tools in <tool_call> tags."""
    lines = ["# Tools", "", "You can call these tools:", ""]
    example = ""
    for schema in tool_schemas:
        fn = schema.get("function", schema)
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        lines += [
            f"## {fn['name']}",
            (fn.get("description") or "").strip(),
            f"Parameters (JSON schema): {json.dumps(_compact(params), separators=(',', ':'))}",
            "",
        ]
        if not example:
            required = {p: _placeholder(p, params.get("properties", {}).get(p, {})) for p in params.get("required", [])}
            example = json.dumps({"name": fn["name"], "arguments": required})
    how = load_prompt("text_tools").format(
        call_format=CALL_FORMAT, example=f"For example: <tool_call>{example}</tool_call>" if example else ""
    )
    lines += how.splitlines()
    return "\n".join(lines)


# --- finding candidates ---


def _tagged_items(m: re.Match[str], names: set[str]) -> list[_Item]:
    if m["fname"] is not None:  # llama-3 style: <function=grep>{"pattern": "x"}</function>
        name, body = m["fname"], m["fbody"].strip()
        if not body:
            return _interpret({"name": name, "arguments": {}}, names, strict=True)
        try:
            values = _parse_values(body)
        except _ParseError as exc:
            return [_unparsable(m.group(0), str(exc))]
        if len(values) == 1 and isinstance(values[0], dict) and values[0].get("name") == name:
            return _interpret(values[0], names, strict=True)
        arguments = values[0] if len(values) == 1 else values
        return _interpret({"name": name, "arguments": arguments}, names, strict=True)
    body = m["body"] if m["body"] is not None else m["pbody"]
    try:
        values = _parse_values(body)
    except _ParseError as exc:
        return [_unparsable(m.group(0), str(exc))]
    return [item for value in values for item in _interpret(value, names, strict=True)]


def _fenced_items(block: str, body: str, names: set[str]) -> list[_Item]:
    if body[0] not in "{[":
        return []  # code or prose: part of the answer
    try:
        values = _parse_values(body)
    except _ParseError as exc:
        return [_unparsable(block, str(exc))] if _looks_like_call(body, names) else []
    return [item for value in values for item in _interpret(value, names, strict=False) or []]


def _bare_items(work: str, text: str, names: set[str]) -> tuple[list[tuple[int, int, list[_Item]]], list[tuple[int, int, str]]]:
    """JSON objects in prose: calls found, and unparsable objects that look like calls (kept unless a call overlaps)."""
    calls: list[tuple[int, int, list[_Item]]] = []
    errors: list[tuple[int, int, str]] = []
    i = failed = 0
    while failed < _MAX_FAILED and (m := _OPEN.search(work, i)):
        start = m.start()
        end = _scan(work, start)
        snippet = work[start:end]
        try:
            value = _loads(snippet)
        except _ParseError as exc:
            if _looks_like_call(snippet, names):
                errors.append((start, end, _unparsable(text[start:end], str(exc))))
            i, failed = start + 1, failed + 1
            continue
        items = _interpret(value, names, strict=False)
        if items:
            calls.append((start, end, items))
        i = end  # JSON that is no call (an answer object) is left whole: nothing inside it is a call either
    return calls, errors


def _parse_values(body: str) -> list[Any]:
    """The JSON values in a block: one value, or several written one after another."""
    body = body.strip()
    fence = re.fullmatch(r"```[\w+.-]*\s*(.*?)\s*(?:```)?", body, re.DOTALL)
    if fence:
        body = fence.group(1)
    if not body:
        raise _ParseError("the block is empty")
    try:
        return [_loads(body)]
    except _ParseError as exc:
        error = exc
    values: list[Any] = []
    pos = 0
    while True:
        while pos < len(body) and (body[pos].isspace() or body[pos] == ","):
            pos += 1
        if pos == len(body):
            return values
        if body[pos] not in "{[":
            raise error
        end = _scan(body, pos)
        try:
            values.append(_loads(body[pos:end]))
        except _ParseError:
            raise error from None
        pos = end


# --- turning JSON into calls ---


def _interpret(value: Any, names: set[str], strict: bool) -> list[_Item] | None:
    """Calls and errors in one JSON value; None when it is no call (only when not strict: tagged blocks are calls)."""
    if isinstance(value, list):
        parts = [_interpret(v, names, strict) for v in value]
        if not strict and all(p is None for p in parts):
            return None
        items = [item for part in parts for item in part or []]
        return items or [f"The tool call block holds an empty list. Write each call as {CALL_FORMAT}"]
    if not isinstance(value, dict):
        return [_no_name(value)] if strict else None
    if isinstance(value.get("tool_calls"), list):
        return _interpret(value["tool_calls"], names, strict)
    source = value
    fn = value.get("function")
    name_key: str | None = None
    if isinstance(fn, dict) and isinstance(fn.get("name"), str):  # OpenAI: {"type": "function", "function": {...}}
        source, name_key = fn, "name"
    else:
        name_key = next((k for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    if name_key is None:
        key = next(iter(value), None)
        if len(value) == 1 and key in names and isinstance(value[key], dict):  # {"grep": {"pattern": "x"}}
            return [(key, value[key])]
        return [_no_name(value)] if strict else None
    name = source[name_key].strip().removeprefix("functions.")
    arg_key = next((k for k in _ARG_KEYS if k in source), None)
    if not strict and name not in names and arg_key not in _CALL_ARG_KEYS:
        return None
    if name not in names:
        return [_unknown(name, names)]
    if arg_key is None:  # arguments written beside the name: {"name": "grep", "pattern": "x"}
        skip = {name_key, "type"} if source.get("type") in ("function", "tool_use", "tool_call") else {name_key}
        return [(name, {k: v for k, v in source.items() if k not in skip})]
    return [_arguments(name, source[arg_key])]


def _arguments(name: str, raw: Any) -> _Item:
    if raw is None:
        return (name, {})
    if isinstance(raw, str):
        if not raw.strip():
            return (name, {})
        try:
            raw = _loads(raw)
        except _ParseError as exc:
            return f"The arguments of '{name}' are a string that is not valid JSON ({exc}). Give them as a JSON object: {_format(name)}"
    if not isinstance(raw, dict):
        return f"The arguments of '{name}' must be a JSON object of parameter names to values, not {_kind(raw)} {_short(json.dumps(raw))}. Write: {_format(name)}"
    return (name, raw)


# --- JSON, read tolerantly ---


def _loads(text: str) -> Any:
    """json.loads, then a careful repair: trailing commas, single quotes, Python literals, bad escapes, missing closers."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except _NotJSON as exc:
        raise _ParseError(str(exc)) from None
    except json.JSONDecodeError as exc:
        first = exc
    try:
        return json.loads(_repair(text), parse_constant=_no_constant)
    except ValueError:
        near = text[max(0, first.pos - 20) : first.pos + 20]
        raise _ParseError(f"{first.msg} near {_short(near)}") from None


class _NotJSON(ValueError):
    pass


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: arguments holding them could not be stored or sent on."""
    raise _NotJSON(f"{name} is not a JSON value; use a number or null")


def _repair(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    prev = ""  # last character outside strings that was not whitespace
    comma: int | None = None  # index in out of a comma that may turn out to be trailing
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or (c == "'" and prev in "{[,:"):
            token, i = _json_string(text, i)
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word, i = text[i:j], j
            token = _PY_LITERALS.get(word, word)
            if token == word and prev in "{," and text[i:].lstrip().startswith(":"):
                token = json.dumps(word)  # bare key
        else:
            i += 1
            if c.isspace():
                out.append(c)
                continue
            if c in "{[":
                stack.append("}" if c == "{" else "]")
            elif c in "}]":
                if comma is not None:
                    out[comma] = ""
                if stack:
                    stack.pop()
            token = c
        comma = len(out) if token == "," else None
        out.append(token)
        prev = token[-1]
    if comma is not None:
        out[comma] = ""
    out.extend(reversed(stack))  # a reply cut off before its closing braces
    return "".join(out)


def _json_string(text: str, i: int) -> tuple[str, int]:
    """The string opening at i as a JSON literal, and the index after it."""
    end, closed = _string_end(text, i)
    if not closed:
        raise ValueError("unterminated string")  # a truncated value would run a different call than meant
    body = text[i + 1 : end - 1]
    out = ['"']
    k = 0
    while k < len(body):
        c = body[k]
        if c == "\\" and k + 1 < len(body):
            nxt = body[k + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[k + 2 : k + 6]):
                out.append(body[k : k + 6])
                k += 6
                continue
            if nxt in '"\\/bfnrt':
                out.append(c + nxt)
            elif nxt == "'":
                out.append("'")
            else:  # a regex escape like \d written with one backslash
                out.append("\\\\")
                k += 1
                continue
            k += 2
            continue
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c < " ":
            out.append(json.dumps(c)[1:-1])
        else:
            out.append(c)
        k += 1
    out.append('"')
    return "".join(out), end


def _string_end(text: str, i: int) -> tuple[int, bool]:
    """Index after the string opening at i; a single quote closes only before , : } ] so apostrophes stay inside."""
    quote, j, n = text[i], i + 1, len(text)
    if quote == '"':
        m = _DOUBLE_QUOTED.match(text, i)
        return (m.end(), True) if m else (n, False)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            rest = text[j + 1 :].lstrip()
            if not rest or rest[0] in ",:}]":
                return j + 1, True
        j += 1
    return n, False


def _scan(text: str, start: int) -> int:
    """Index after the JSON value opening at start, skipping braces inside strings; the end of text if it never closes."""
    depth = 0
    i = start
    while m := _SPECIAL.search(text, i):
        i = m.start()
        c = text[i]
        if c == '"' or (c == "'" and _prev(text, i) in "{[,:"):
            i, _ = _string_end(text, i)
            continue
        depth += 1 if c in "{[" else -1
        if depth == 0:
            return i + 1
        i += 1
    return len(text)


def _prev(text: str, i: int) -> str:
    """The last character before i that is not whitespace."""
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    return text[j] if j >= 0 else ""


# --- messages and text ---


def _looks_like_call(snippet: str, names: set[str]) -> bool:
    return bool(_CALL_HINT.search(snippet)) or any(f'"{n}"' in snippet or f"'{n}'" in snippet for n in names)


def _unparsable(block: str, reason: str) -> str:
    return f"Could not parse the tool call {_short(block)}: {reason}. Write each call as valid JSON (double quotes, no trailing commas) in exactly this format: {CALL_FORMAT}"


def _unknown(name: str, names: set[str]) -> str:
    available = ", ".join(sorted(names)) or "(none)"
    close = difflib.get_close_matches(name, sorted(names), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown tool '{name}'; available: {available}.{hint} Write each call as {CALL_FORMAT}"


def _no_name(value: Any) -> str:
    return f"The tool call {_short(json.dumps(value))} names no tool. Write each call as {CALL_FORMAT}"


def _format(name: str) -> str:
    return f'<tool_call>{{"name": "{name}", "arguments": {{...}}}}</tool_call>'


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(type(value), "null")


def _short(snippet: str, limit: int = 80) -> str:
    flat = " ".join(snippet.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out spans, keeping every other index in place."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _remaining(text: str, drop: list[tuple[int, int]]) -> str:
    if not drop:
        return text
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(drop):
        if start > pos:
            pieces.append(text[pos:start])
        pos = max(pos, end)
    pieces.append(text[pos:])
    rest = _STRAY.sub("", "".join(pieces))
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", rest).strip()


def _placeholder(name: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    return (
        {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(kind, f"<{name}>")
        if isinstance(kind, str)
        else f"<{name}>"
    )


def _compact(schema: Any) -> Any:
    """A JSON schema without pydantic's titles (but keeping a parameter that is named title)."""
    if isinstance(schema, list):
        return [_compact(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title":
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {p: _compact(s) for p, s in value.items()}
        else:
            out[key] = _compact(value)
    return out
