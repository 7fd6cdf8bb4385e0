"""Declared capabilities `(Company)-[:CAN_SUPPLY]->(Category)`.

A member writes its own and sees others' capacities and prices only aggregated.
"""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/capabilities", tags=["capabilities"])
add_crud_routes(router, EntityKind.CAPABILITY)
