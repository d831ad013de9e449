"""The one exception a tool raises on purpose: its message goes back to the model as an observation."""

from __future__ import annotations


class ToolError(Exception):
    """Bad arguments or nothing found; the message says what would work ("try a shorter pattern or search()")."""
