"""The agent's tools: typed functions whose docstrings are their prompts, in one registry."""

from tools import documents, facts, glob, grep, outline, read, redline, search  # noqa: F401 - importing registers each tool
from tools.base import Citation
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.registry import REGISTRY, ToolOutcome

__all__ = ["REGISTRY", "Citation", "ToolOutcome", "ToolContext", "ToolError", "use_context"]
