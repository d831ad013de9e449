"""What the agent asks of the corpus outside tool calls: does a doc_id exist, and its pages for citation checks."""

from __future__ import annotations

from corpus.errors import CorpusError
from corpus.store import is_valid_doc_id
from corpus.text import PagedText
from tools.context import ToolContext


def is_doc(tools: ToolContext, doc_id: str) -> bool:
    return is_valid_doc_id(doc_id) and tools.corpus.store.text_path(doc_id).is_file()


def text_of(tools: ToolContext, doc_id: str) -> PagedText | None:
    if not is_valid_doc_id(doc_id):
        return None
    try:
        return tools.text(doc_id)
    except CorpusError:
        return None
