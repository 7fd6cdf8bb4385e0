"""Cost items of joint projects `(company)-[:BEARS_COST]->(project)`, by type and year.

The centre (admin) writes them; amounts are each participant's confidential figures.
"""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/project-costs", tags=["projects"])
add_crud_routes(router, EntityKind.PROJECT_COST)
