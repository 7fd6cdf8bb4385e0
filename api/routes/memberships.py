"""Cluster memberships `(Company)-[:MEMBER_OF]->(Cluster)` (admin writes)."""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/memberships", tags=["clusters"])
add_crud_routes(router, EntityKind.MEMBERSHIP)
