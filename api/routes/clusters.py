"""Clusters: reference data (admin writes)."""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/clusters", tags=["clusters"])
add_crud_routes(router, EntityKind.CLUSTER)
