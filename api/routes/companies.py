"""Companies: list, get, create/replace, delete (members write only their own record)."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes._crud import add_crud_routes
from graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/companies", tags=["companies"])
add_crud_routes(router, EntityKind.COMPANY)
