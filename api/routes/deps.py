"""Dependencies of the routes: the shared services, the authenticated caller, and the admin-only guard."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.auth import Caller, authenticated
from api.services import Services


# Async, all three: FastAPI runs a plain `def` dependency on anyio's shared thread pool, which slow work can fill.
async def services(request: Request) -> Services:
    return request.app.state.services


async def caller(request: Request, svc: Annotated[Services, Depends(services)]) -> Caller:
    return await authenticated(request, svc.store, svc.limiter)


async def require_admin(who: Annotated[Caller, Depends(caller)]) -> Caller:
    """The caller, if its key is an admin key (the open server's one user is); 403 otherwise.

    Use it on any route that changes what every user sees (documents: upload, replace, delete, fetch):
    `async def route(who: AdminDep, ...)`.
    """
    if not who.admin:
        raise HTTPException(
            403,
            f"this needs an admin key; key {who.name!r} is not one (an admin creates one with `sleuth keys create NAME --admin`)",
        )
    return who


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[Caller, Depends(require_admin)]
