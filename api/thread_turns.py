"""A follow-up's research memory from its thread's stored turns: per arm, with the cited filings deleted or replaced since.

A finished turn's answer never changes, so each is kept once per process (a bounded cache: the answer of a run this
process ran, or parsed once from the database): a follow-up in a long thread reads the light columns of its earlier
turns, the stored answer of only the turns this process has not seen yet, and the cited filings' ingest times from the
catalog (a filing replaced since is noticed on every follow-up).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.answer import Answer, Comparison
from agent.memory import ThreadMemory, Turn, thread_memory
from api.models import Run
from api.run_store import ACTIVE
from corpus.catalog import Corpus
from corpus.models import Document

ARMS = {"agentic": ("agentic",), "rag": ("rag",), "compare": ("agentic", "rag")}
CACHE_SIZE = 512  # finished turns' answers kept per process (a few MB: enough for the long threads in use)


@dataclass
class StoredTurn:
    """What memory needs of an earlier run: its question, status, when it ended, and its answer per arm."""

    question: str
    status: str
    ended: datetime
    answers: dict[str, Answer | None]


_cache: OrderedDict[str, dict[str, Answer | None]] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget the parsed answers (benchmarks measure the first follow-up after a start)."""
    with _lock:
        _cache.clear()


def remember(run_id: str, result: Answer | Comparison) -> None:
    """Keep a run's answers as it finishes (the process that ran it then never parses them for a follow-up)."""
    answers = (
        {"agentic": result.agentic, "rag": result.rag} if isinstance(result, Comparison) else {"agentic": result, "rag": result}
    )
    with _lock:
        _cache[run_id] = answers
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def arm_answers(mode: str, result: dict[str, Any] | None) -> dict[str, Answer | None]:
    """A stored result's answer for each arm: a compare turn's arms, or a single-mode turn's answer for both."""
    if not result:
        return {"agentic": None, "rag": None}
    if mode == "compare":
        return {arm: _answer(result.get(arm)) for arm in ("agentic", "rag")}
    answer = _answer(result)
    return {"agentic": answer, "rag": answer}


def _answer(data: Any) -> Answer | None:
    if not isinstance(data, dict):
        return None
    try:
        return Answer.model_validate(data)
    except ValueError:  # a result stored by an older version that no longer validates: the turn is remembered without it
        return None


def stored_turns(sessions: sessionmaker[Session], thread_id: str, before_turn: int) -> list[StoredTurn]:
    """The thread's turns before `before_turn`, oldest first; answers parsed once per process."""
    with sessions() as session:
        rows = session.execute(
            select(Run.id, Run.question, Run.status, Run.mode, Run.created_at, Run.finished_at)
            .where(Run.thread_id == thread_id, Run.turn < before_turn)
            .order_by(Run.turn)
        ).all()
        with _lock:
            known = {r.id: _cache[r.id] for r in rows if r.id in _cache}
        missing = [r.id for r in rows if r.id not in known]
        results = dict(session.execute(select(Run.id, Run.result).where(Run.id.in_(missing))).all()) if missing else {}
    turns = []
    for row in rows:
        answers = known.get(row.id)
        if answers is None:
            answers = arm_answers(row.mode, results.get(row.id))
            if row.status not in ACTIVE:  # finished: its answer is final
                with _lock:
                    _cache[row.id] = answers
                    while len(_cache) > CACHE_SIZE:
                        _cache.popitem(last=False)
        turns.append(StoredTurn(row.question, row.status, _aware(row.finished_at or row.created_at), answers))
    return turns


def turns_for(stored: Sequence[StoredTurn], arm: str, catalog: dict[str, datetime | None]) -> list[Turn]:
    """The earlier turns as memory turns of `arm`; `catalog` maps cited doc_ids to their ingest time (None: gone)."""
    turns = []
    for st in stored:
        answer = st.answers.get(arm)
        changed = {}
        for doc_id in {c.doc_id for c in (answer.citations if answer else [])}:
            ingested = catalog.get(doc_id)
            if ingested is None:
                changed[doc_id] = "deleted from the corpus since"
            elif _aware(ingested) > st.ended:
                changed[doc_id] = f"replaced since (ingested again on {_aware(ingested):%Y-%m-%d %H:%M} UTC)"
        turns.append(Turn(question=st.question, answer=answer, status=st.status, changed=changed))
    return turns


def thread_memories(
    sessions: sessionmaker[Session], thread_id: str, turn: int, mode: str, corpus: Corpus, budget_tokens: int
) -> dict[str, ThreadMemory]:
    """The memory of each arm `mode` runs for turn `turn` of the thread, built from its earlier turns; {} for a first turn."""
    stored = stored_turns(sessions, thread_id, turn)
    if not stored:
        return {}
    cited = {c.doc_id for st in stored for a in st.answers.values() if a for c in a.citations}
    catalog: dict[str, datetime | None] = dict.fromkeys(cited)
    if cited:
        with corpus.sessions() as session:
            catalog |= dict(session.execute(select(Document.id, Document.ingested_at).where(Document.id.in_(cited))).all())
    return {arm: thread_memory(turns_for(stored, arm, catalog), budget_tokens) for arm in ARMS.get(mode, ())}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive datetimes
