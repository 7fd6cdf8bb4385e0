"""Cooperation ties of every type `(company)-[:TIED_WITH]->(partner)`.

Supply, works of a production nature, R&D, training, financing, joint projects:
the KPIs of Resolution No. 779 count the types ``queries.regulations`` says.
A member writes the ties it is a party to.
"""

from __future__ import annotations

from fastapi import APIRouter

from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/ties", tags=["ties"])
add_crud_routes(router, EntityKind.TIE)
