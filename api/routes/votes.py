"""Votes on compare runs and the Elo leaderboard per mode and model."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException

from api.leaderboard import elo
from api.routes.deps import CallerDep, ServicesDep
from api.routes.runs import get_owned
from api.schemas import Leaderboard, LeaderboardRow, VoteCreate, VotePublic

router = APIRouter(tags=["votes"])
FINISHED = frozenset({"answered", "unsure", "truncated"})  # an arm that gave an answer; failed and cancelled ones did not


@router.post(
    "/runs/{run_id}/vote",
    status_code=201,
    response_model=VotePublic,
    summary="Vote on a finished compare run (one vote per run and key)",
)
async def vote(run_id: str, body: VoteCreate, svc: ServicesDep, who: CallerDep) -> VotePublic:
    """Your vote on one of your compare runs (an admin may vote on any); a second vote replaces the first."""
    run = await asyncio.to_thread(get_owned, svc, run_id, who)
    if run.mode != "compare":
        raise HTTPException(409, f"run {run_id} is a {run.mode} run; votes are for compare runs (agentic vs rag)")
    if run.result is None:
        raise HTTPException(409, f"run {run_id} is {run.status}; vote once both answers are in")
    ended = {arm: (run.result.get(arm) or {}).get("status", "missing") for arm in ("agentic", "rag")}
    if not all(status in FINISHED for status in ended.values()):
        arms = ", ".join(f"{arm} {status}" for arm, status in ended.items())
        raise HTTPException(
            409, f"run {run_id} has no two answers to compare ({arms}); votes count only runs whose arms both finished"
        )
    v = await asyncio.to_thread(svc.store.vote, run_id, body.winner, body.note, run.model, who.key_id)
    return VotePublic(id=v.id, run_id=v.run_id, winner=v.winner, note=v.note, created_at=v.created_at)


@router.get("/leaderboard", response_model=Leaderboard, summary="Elo ratings over votes, per mode and model")
async def leaderboard(svc: ServicesDep, who: CallerDep) -> Leaderboard:
    votes = await asyncio.to_thread(svc.store.votes)
    rows = [
        LeaderboardRow(
            mode=p.mode,
            model=p.model,
            rating=round(p.rating, 1),
            wins=p.wins,
            losses=p.losses,
            ties=p.ties,
            votes=p.wins + p.losses + p.ties,
        )
        for p in elo((v.model, v.winner) for v in votes)
    ]
    return Leaderboard(data=rows, votes=len(votes))
