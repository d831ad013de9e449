"""What the agent asks of the corpus outside tool calls: does a doc_id exist, and its pages for citation checks."""

from __future__ import annotations

from corpus.errors import CorpusError
from corpus.text import PagedText
from corpus.text_store import is_valid_doc_id
from tools.context import ToolContext
from tools.errors import ToolError


def is_doc(tools: ToolContext, doc_id: str) -> bool:
    return tools.corpus.store.has(doc_id)  # regular files only: a symlink in the store is no document


def text_of(tools: ToolContext, doc_id: str) -> PagedText | None:
    if not is_valid_doc_id(doc_id):
        return None
    try:
        return tools.text(doc_id)
    except (CorpusError, ToolError):  # missing, damaged, or not a safe file of the store
        return None
