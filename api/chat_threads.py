"""Which research thread a chat continues (placeholder until the threads backend lands)."""

from __future__ import annotations

from api.auth import Caller
from api.chat import Conversation
from api.services import Services


async def thread_for(svc: Services, who: Caller, talk: Conversation, mode: str) -> str | None:
    return None
