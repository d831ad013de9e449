"""Dependencies of the routes: the shared services and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import Caller, authenticate
from api.services import Services


def services(request: Request) -> Services:
    return request.app.state.services


def caller(request: Request, svc: Annotated[Services, Depends(services)]) -> Caller:
    return authenticate(request, svc.store, svc.limiter)


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Caller, Depends(caller)]
