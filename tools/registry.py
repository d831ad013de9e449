"""One registry maps tool names to typed functions; JSON schemas come from the signatures, prompts from docstrings."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from corpus.errors import validation_problems
from tools.base import Citation
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.tokens import cap


@dataclass
class Tool:
    name: str
    func: Callable[..., Any]
    description: str
    params: type[BaseModel]
    _schema: dict[str, Any] | None = None

    def schema(self) -> dict[str, Any]:
        """OpenAI-style function tool schema, built once and shared (every agent turn sends it): do not mutate it."""
        if self._schema is None:
            self._schema = self._build_schema()
        return self._schema

    def _build_schema(self) -> dict[str, Any]:
        parameters = self.params.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": parameters}}


@dataclass
class ToolOutcome:
    """The outcome of one call as the agent records it: text for the model, structured result, citations."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    text: str
    result: Any = None
    citations: list[Citation] | None = None
    seconds: float = 0.0


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: the function's name is the tool name, its docstring the prompt, its signature the schema."""
        hints = get_type_hints(func, include_extras=True)
        fields: dict[str, Any] = {}
        for name, param in inspect.signature(func).parameters.items():
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[name] = (hints[name], default)
        params = create_model(f"{func.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields)
        description = inspect.cleandoc(func.__doc__ or "").strip()
        if not description:
            raise ValueError(f"tool {func.__name__} needs a docstring: it is the model's prompt")
        self._tools[func.__name__] = Tool(func.__name__, func, description, params)
        return func

    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool:
        return self._tools[name]

    def schemas(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        return [self._tools[n].schema() for n in (names or self._tools)]

    def call(self, name: str, arguments: dict[str, Any] | str | None, context: ToolContext) -> ToolOutcome:
        """Validate and run one call; ToolErrors and bad arguments become observations, other exceptions propagate."""
        started = time.perf_counter()
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                return ToolOutcome(
                    name, {}, False, f"Error: arguments are not valid JSON ({exc.msg}); send a JSON object", seconds=0.0
                )
        arguments = arguments or {}
        if name not in self._tools:
            known = ", ".join(self._tools)
            return ToolOutcome(name, arguments, False, f"Error: no tool named '{name}'; the tools are: {known}")
        if not isinstance(arguments, dict):
            return ToolOutcome(name, {}, False, "Error: arguments must be a JSON object of parameter names to values")
        tool = self._tools[name]
        try:
            validated = tool.params.model_validate(arguments)
        except ValidationError as exc:
            problems = validation_problems(exc.errors(), "arguments")
            return ToolOutcome(
                name, arguments, False, f"Error: invalid arguments for {name}: {problems}", seconds=time.perf_counter() - started
            )
        context.deadline = time.monotonic() + context.settings.timeout_s
        try:
            with use_context(context):
                result = tool.func(**validated.model_dump())
        except ToolError as exc:
            return ToolOutcome(name, arguments, False, f"Error: {exc}", seconds=time.perf_counter() - started)
        finally:
            context.deadline = None
        text = cap(
            result.render(), context.settings.max_output_tokens, "narrow the request (filters, offset, smaller page range)"
        )
        return ToolOutcome(name, arguments, True, text, result, result.citations(), time.perf_counter() - started)


REGISTRY = ToolRegistry()
tool = REGISTRY.register
