"""A follow-up's research memory from its thread's stored turns: per arm, with the cited filings deleted or replaced since."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from agent.answer import Answer
from agent.memory import ThreadMemory, Turn, thread_memory
from api.models import Run
from corpus.catalog import Corpus
from corpus.models import Document

ARMS = {"agentic": ("agentic",), "rag": ("rag",), "compare": ("agentic", "rag")}


def arm_answer(run: Run, arm: str) -> Answer | None:
    """The answer an earlier turn gave for `arm`: a compare turn's arm, or a single-mode turn's answer (whatever its mode)."""
    result = run.result
    if not result:
        return None
    if run.mode == "compare":
        result = result.get(arm)
        if not result:
            return None
    try:
        return Answer.model_validate(result)
    except ValueError:  # a result stored by an older version that no longer validates: the turn is remembered without it
        return None


def turns_for(runs: Sequence[Run], arm: str, catalog: dict[str, datetime | None]) -> list[Turn]:
    """The earlier `runs` (turn order) as memory turns of `arm`; `catalog` maps cited doc_ids to their ingest time (None: gone)."""
    turns = []
    for run in runs:
        answer = arm_answer(run, arm)
        changed = {}
        asked = _aware(run.finished_at or run.created_at)
        for doc_id in {c.doc_id for c in (answer.citations if answer else [])}:
            if doc_id not in catalog or catalog[doc_id] is None:
                changed[doc_id] = "deleted from the corpus since"
            elif _aware(catalog[doc_id]) > asked:
                changed[doc_id] = f"replaced since (ingested again on {_aware(catalog[doc_id]):%Y-%m-%d %H:%M} UTC)"
        turns.append(Turn(question=run.question, answer=answer, status=run.status, changed=changed))
    return turns


def thread_memories(runs: Sequence[Run], mode: str, corpus: Corpus, budget_tokens: int) -> dict[str, ThreadMemory]:
    """The memory of each arm `mode` runs, built from the thread's earlier `runs`; {} for a first turn."""
    if not runs:
        return {}
    cited = {c["doc_id"] for run in runs for answer in _results(run) for c in answer.get("citations") or [] if "doc_id" in c}
    catalog: dict[str, datetime | None] = dict.fromkeys(cited)
    if cited:
        with corpus.sessions() as session:
            catalog |= dict(session.execute(select(Document.id, Document.ingested_at).where(Document.id.in_(cited))).all())
    return {arm: thread_memory(turns_for(runs, arm, catalog), budget_tokens) for arm in ARMS.get(mode, ())}


def _results(run: Run) -> list[dict]:
    if not run.result:
        return []
    if run.mode == "compare":
        return [run.result[arm] for arm in ("agentic", "rag") if isinstance(run.result.get(arm), dict)]
    return [run.result]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive datetimes
