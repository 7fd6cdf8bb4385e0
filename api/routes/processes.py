"""Processes: the catalogue (``/processes``, admin writes) and who holds which
(``/company-processes``, a member writes its own company's)."""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(tags=["processes"])
router.include_router(add_crud_routes(APIRouter(prefix="/processes"), EntityKind.PROCESS))
router.include_router(
    add_crud_routes(APIRouter(prefix="/company-processes"), EntityKind.COMPANY_PROCESS))
