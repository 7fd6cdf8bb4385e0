"""Existing cooperation links `(supplier)-[:SUPPLIES]->(buyer)`.

A member writes the links it is a party to (as supplier or buyer).
"""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/supplies", tags=["supplies"])
add_crud_routes(router, EntityKind.SUPPLY)
