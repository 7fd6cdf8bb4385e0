"""Participants of joint projects `(company)-[:PARTICIPATES_IN {role}]->(project)`.

The centre (admin) writes them.
"""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/project-participants", tags=["projects"])
add_crud_routes(router, EntityKind.PROJECT_PARTICIPANT)
