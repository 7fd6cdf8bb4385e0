"""The change feed of cooperation requests: ``GET /events?since=…`` (``queries.requests``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from coopgraph.api.deps import PrincipalDep, StoreDep
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import result_response
from coopgraph.queries import requests as workflow

__all__ = ["router"]

router = APIRouter(prefix="/events", tags=["events"], responses=PROBLEM_RESPONSES)


@router.get("")
def list_events(
    principal: PrincipalDep, store: StoreDep,
    since: Annotated[str | None, Query(
        max_length=300, description="A time (2026-01-31T12:00:00Z) or the `next` cursor of "
                                    "the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> Response:
    """State changes of the requests the caller may see, after ``since``, oldest first."""
    return result_response(workflow.events(store, principal.viewer, since=since, limit=limit))
