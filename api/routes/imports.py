"""What companies import from outside the region; a member writes its own."""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/imports", tags=["imports"])
add_crud_routes(router, EntityKind.IMPORT)
