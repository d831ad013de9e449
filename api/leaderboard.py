"""Elo ratings from votes on compare runs: each vote is one game between a model's agentic arm and its RAG arm."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

START, K = 1000.0, 32.0


@dataclass
class Player:
    mode: str
    model: str
    rating: float = START
    wins: int = 0
    losses: int = 0
    ties: int = 0


def elo(votes: Iterable[tuple[str, str]]) -> list[Player]:
    """Players sorted by rating, from (model, winner) pairs in the order the votes were cast; winner: agentic, rag or tie."""
    players: dict[tuple[str, str], Player] = {}
    for model, winner in votes:
        a = players.setdefault(("agentic", model), Player("agentic", model))
        b = players.setdefault(("rag", model), Player("rag", model))
        expected_a = 1 / (1 + 10 ** ((b.rating - a.rating) / 400))
        score_a = {"agentic": 1.0, "rag": 0.0, "tie": 0.5}[winner]
        a.rating += K * (score_a - expected_a)
        b.rating += K * ((1 - score_a) - (1 - expected_a))
        if winner == "tie":
            a.ties, b.ties = a.ties + 1, b.ties + 1
        elif winner == "agentic":
            a.wins, b.losses = a.wins + 1, b.losses + 1
        else:
            b.wins, a.losses = b.wins + 1, a.losses + 1
    return sorted(players.values(), key=lambda p: -p.rating)
