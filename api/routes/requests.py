"""Cooperation requests between companies and their workflow (``queries.requests``).

Only the two parties and the cluster centre see a request; to anyone else it
does not exist (404). Admins and members (for their own company) write;
analysts read. Every move names the ``version`` the caller read: a stale one
is a 409 (``conflict``), as is a move the current state does not allow.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from coopgraph.api.auth import Principal
from coopgraph.api.deps import PrincipalDep, ProjectionDep, StoreDep
from coopgraph.api.keys import KeyRole
from coopgraph.api.params import Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import result_response
from coopgraph.graph.errors import AccessDenied
from coopgraph.graph.models import DeclineReason, RequestState
from coopgraph.queries import requests as workflow

__all__ = ["router"]

router = APIRouter(prefix="/requests", tags=["requests"], responses=PROBLEM_RESPONSES)


class Transition(BaseModel):
    """A move of one request to another state."""

    to: RequestState
    version: int = Field(ge=1, description="The version the caller read (409 when stale)")
    reason: DeclineReason | None = Field(default=None, description="Required to decline")
    text: str | None = Field(default=None, max_length=500)
    agreed_on: dt.date | None = None
    agreed_volume: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    agreed_price: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    record_supply: bool = Field(default=False,
                                description="On agreement, also record the supply link")


def _writer(principal: Principal) -> None:
    if principal.role is KeyRole.ANALYST:
        raise AccessDenied("an analyst key reads requests but may not open or move them")


@router.get("")
def list_requests(
    principal: PrincipalDep, store: StoreDep,
    box: Annotated[Literal["all", "inbox", "outbox"], Query(
        description="inbox: addressed to the company; outbox: opened by it")] = "all",
    state: Annotated[RequestState | None, Query()] = None,
    company: Annotated[Id | None, Query(description="Centre only: either party")] = None,
) -> Response:
    """The requests the caller may see (a member: its own inbox and outbox), newest first."""
    if principal.is_member and company not in (None, principal.company_id):
        raise AccessDenied("a member key lists its own company's requests only")
    return result_response(workflow.list_requests(store, principal.viewer, box=box,
                                                  state=state, company=company))


@router.get("/pipeline")
def request_pipeline(
    principal: PrincipalDep, store: StoreDep,
    company: Annotated[Id | None, Query()] = None,
) -> Response:
    """How recommendations became talks and contracts, by state, category and member."""
    principal.require(KeyRole.ADMIN, KeyRole.ANALYST, action="see the cluster's pipeline")
    return result_response(workflow.pipeline(store, company=company))


@router.get("/suggestions")
def request_suggestions(
    principal: PrincipalDep, store: StoreDep, projection: ProjectionDep,
    company: Annotated[Id, Query(description="The company to rank partners for")],
    direction: Annotated[Literal["suppliers", "buyers"], Query()] = "suppliers",
    category: Annotated[Id | None, Query()] = None,
    k: Annotated[int, Query(ge=1, le=200)] = 10,
) -> Response:
    """Ranked partners to send requests to, lowered where partners declined before (says why)."""
    if principal.is_member and company != principal.company_id:
        raise AccessDenied("a member key ranks partners for its own company only")
    return result_response(workflow.suggest(projection, store, company, direction=direction,
                                            k=k, category=category, viewer=principal.viewer))


@router.post("", status_code=201)
def open_request(principal: PrincipalDep, store: StoreDep,
                 body: workflow.RequestDraft) -> Response:
    """Open a request to a company (``send: true`` sends it at once)."""
    _writer(principal)
    created = workflow.open_request(store, body, principal.viewer)
    response = result_response(created)
    response.status_code = 201
    return response


@router.get("/{id}")
def get_request(principal: PrincipalDep, store: StoreDep, id: Id) -> Response:
    """One request with its history (404 unless the caller is a party or the centre)."""
    return result_response(workflow.get_request(store, id, principal.viewer))


@router.post("/{id}/transitions")
def move_request(principal: PrincipalDep, store: StoreDep, id: Id,
                 body: Transition) -> Response:
    """Move a request: sent, in talks, agreed (records the tie), declined (with a reason)…"""
    _writer(principal)
    return result_response(workflow.move(
        store, id, body.to, version=body.version, viewer=principal.viewer,
        reason=body.reason, text=body.text, agreed_on=body.agreed_on,
        agreed_volume=body.agreed_volume, agreed_price=body.agreed_price,
        record_supply=body.record_supply))
