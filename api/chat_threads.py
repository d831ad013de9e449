"""Which research thread a chat continues: a chat client sends the whole conversation each time, Sleuth keeps threads.

The rule (docs/api.md#which-thread-a-chat-continues): a thread of the caller continues the chat when its turns are the
chat's earlier exchanges, in order: as many turns as exchanges, each turn's question equal to the exchange's user message
(whitespace aside), and each turn's answer found at the start of the assistant's reply (Sleuth's own reply, which the
client sends back). The thread a reply links to (`#/threads/<id>`) is tried first, then the caller's threads asked that
first question, newest first. No match: the earlier exchanges are replayed into a new thread as `imported` turns (their
answers as the client shows them; the oldest folded into one turn past SLEUTH_API_CHAT_REPLAY_TURNS), so the question
starts from their memory.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from agent.answer import Answer
from api.auth import Caller
from api.chat import SOURCES_RULE, Conversation, Exchange, normalized
from api.models import Run
from api.services import Services
from api.thread_store import ThreadStore

IMPORTED = "imported"  # the status of a turn replayed from a chat client's history (not researched here)
CANDIDATES = 20  # threads compared at most per request
ANSWER_PREFIX_CHARS = 200  # a stored answer matches when this much of its start is in the client's copy
IMPORTED_ANSWER_CHARS = 20_000
FOLDED = re.compile(r"^The (\d+) earliest exchanges of this chat, folded:")
FOLD_EACH_CHARS = 400
WARNING = "replayed from a chat client's history: not researched by Sleuth, its citations not checked"


async def thread_for(svc: Services, who: Caller, talk: Conversation, mode: str) -> tuple[str | None, str | None]:
    """(the thread the chat's question continues, the same id when it was seeded just now): a matching thread of the
    caller, a new one seeded from the earlier exchanges, or None (a first question: the run starts a new thread)."""
    if not talk.earlier:
        return None, None
    found = await asyncio.to_thread(find_thread, ThreadStore(svc.store.sessions), who, talk)
    if found is not None:
        return found, None
    seeded = await asyncio.to_thread(seed_thread, svc, who, talk, mode)
    return seeded, seeded


def find_thread(threads: ThreadStore, who: Caller, talk: Conversation) -> str | None:
    """The newest thread of the caller whose turns are the chat's earlier exchanges (the rule above), or None."""
    candidates: list[str] = []
    if talk.thread_hint:
        hinted = threads.get(talk.thread_hint)
        if hinted is not None and hinted.key_id == who.key_id:  # only the caller's own: an admin's chat never lands elsewhere
            candidates.append(hinted.id)
    listed, _ = threads.list(limit=CANDIDATES, offset=0, q=talk.earlier[0].question[:500], key_id=who.key_id)
    candidates += [s.thread.id for s in listed if s.thread.key_id == who.key_id and s.thread.id not in candidates]
    for thread_id in candidates[:CANDIDATES]:
        if matches(threads.runs(thread_id), talk.earlier):
            return thread_id
    return None


def matches(runs: Sequence[Run], earlier: list[Exchange]) -> bool:
    """Whether the thread's turns are these exchanges (a folded first turn stands for the exchanges it folded)."""
    folded = FOLDED.match(runs[0].question) if runs else None
    skip = int(folded.group(1)) if folded and runs[0].status == IMPORTED else 0
    turns = list(runs[1:] if skip else runs)
    chat = earlier[skip:] if skip else earlier
    if len(turns) != len(chat) or (skip and skip + len(chat) != len(earlier)):
        return False
    return all(_same_turn(run, exchange) for run, exchange in zip(turns, chat, strict=True))


def _same_turn(run: Run, exchange: Exchange) -> bool:
    if normalized(run.question) != normalized(exchange.question):
        return False
    texts = _answer_texts(run)
    reply = normalized(exchange.answer)
    return all(normalized(text)[:ANSWER_PREFIX_CHARS] in reply for text in texts if text.strip())


def _answer_texts(run: Run) -> list[str]:
    result = run.result or {}
    answers = [result[arm] for arm in ("agentic", "rag") if isinstance(result.get(arm), dict)] or [result]
    return [str(a.get("text") or "") for a in answers if a]


def seed_thread(svc: Services, who: Caller, talk: Conversation, mode: str) -> str:
    """A new thread of the caller holding the chat's earlier exchanges as finished `imported` turns; its id."""
    keep = svc.settings.chat_replay_turns
    exchanges = list(talk.earlier)
    if len(exchanges) > keep:
        exchanges = [fold(exchanges[: len(exchanges) - keep + 1]), *exchanges[len(exchanges) - keep + 1 :]]
    thread_id = None
    limit = svc.settings.question_max_chars
    for exchange in exchanges:
        question = exchange.question if len(exchange.question) <= limit else exchange.question[: limit - 1] + "…"
        run = svc.store.create_run(
            mode=mode,
            question=question,
            filters=None,
            model="chat history",
            budgets=None,
            key_id=who.key_id,
            threaded=True,
            thread_id=thread_id,
        )
        thread_id = run.thread_id
        svc.store.finish(
            run.id, status=IMPORTED, result=imported_result(mode, question, exchange.answer), error=None, latency_s=0
        )
    assert thread_id is not None
    return thread_id


def fold(exchanges: list[Exchange]) -> Exchange:
    """The oldest exchanges as one: each question and the start of its answer (the memory summarizes further)."""
    lines = [
        f"Q: {normalized(e.question)[:FOLD_EACH_CHARS]}\nA: {normalized(_without_sources(e.answer))[:FOLD_EACH_CHARS]}"
        for e in exchanges
    ]
    return Exchange(f"The {len(exchanges)} earliest exchanges of this chat, folded:", "\n\n".join(lines))


def imported_result(mode: str, question: str, text: str) -> dict:
    """The stored result of an imported turn: the client's answer (no citations: none were checked here)."""
    text = text.strip() or "(no answer in the chat)"
    text = text if len(text) <= IMPORTED_ANSWER_CHARS else text[: IMPORTED_ANSWER_CHARS - 1] + "…"
    arms = ("agentic", "rag") if mode == "compare" else (mode,)
    answers = {arm: Answer(mode=arm, question=question, text=text, status="answered", warnings=[WARNING]) for arm in arms}
    if mode == "compare":
        return {"question": question, **{arm: a.model_dump(mode="json") for arm, a in answers.items()}}
    return answers[mode].model_dump(mode="json")


def _without_sources(answer: str) -> str:
    return answer.split(SOURCES_RULE, 1)[0]
