"""``/health`` and ``/ready``: the store's kind and whether it answers.

These two are open without a key so that a load balancer or an orchestrator
can probe them; they reveal the store's kind and revision, nothing of its data.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.problems import PROBLEM_RESPONSES
from api.schemas import Health
from api.state import StoreHolder
from graph.store import GraphStore

__all__ = ["router"]

router = APIRouter(tags=["health"], responses={503: PROBLEM_RESPONSES[503]})


def _checked_store(request: Request) -> GraphStore:
    holder: StoreHolder = request.app.state.holder
    store = holder.get()
    store.ping()
    return store


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    """The store's kind, where it is, its revision; 503 problem when it does not answer."""
    store = _checked_store(request)
    return Health(status="ok", store=store.kind, detail=store.describe(),
                  revision=store.revision(), auth=request.app.state.keys is not None)


@router.get("/ready")
def ready(request: Request) -> dict[str, bool]:
    """200 when the store answers, 503 problem otherwise."""
    _checked_store(request)
    return {"ready": True}
