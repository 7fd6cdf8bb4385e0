"""``/health`` and ``/ready``: the store's kind and whether it answers.

These two are open without a key so that a load balancer or an orchestrator
can probe them; without a key they reveal the store's kind and revision (to
compare replicas), nothing of its data and no path or URI. An admin key (or
auth off, on loopback) adds where the store is: its directory or Neo4j URI.
Errors say what failed without the server's paths (see :mod:`api.problems`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from coopgraph.api.auth import AuthRequired, authenticate
from coopgraph.api.keys import KeyRole
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.schemas import Health
from coopgraph.api.state import StoreHolder
from coopgraph.graph.store import GraphStore

__all__ = ["router"]

router = APIRouter(tags=["health"], responses={503: PROBLEM_RESPONSES[503]})


def _checked_store(request: Request) -> GraphStore:
    holder: StoreHolder = request.app.state.holder
    store = holder.get()
    store.ping()
    return store


def _is_admin(request: Request) -> bool:
    """True when the request carries an admin key; a missing or bad key is no error here."""
    try:
        principal = authenticate(request.app.state.keys, request.headers, request.cookies)
    except AuthRequired:
        return False
    return principal.role is KeyRole.ADMIN


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    """The store's kind and revision (where it is: admin key only); 503 problem when it is down."""
    store = _checked_store(request)
    detail = store.describe() if _is_admin(request) else {"store": store.kind}
    return Health(status="ok", store=store.kind, detail=detail,
                  revision=store.revision(), auth=request.app.state.keys is not None)


@router.get("/ready")
def ready(request: Request) -> dict[str, bool]:
    """200 when the store answers, 503 problem otherwise."""
    _checked_store(request)
    return {"ready": True}
