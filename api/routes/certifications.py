"""Certifications: the schemes (``/certifications``, admin writes) and who holds which
(``/held-certifications``, a member writes its own company's)."""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(tags=["certifications"])
router.include_router(
    add_crud_routes(APIRouter(prefix="/certifications"), EntityKind.CERTIFICATION))
router.include_router(
    add_crud_routes(APIRouter(prefix="/held-certifications"), EntityKind.HELD_CERTIFICATION))
