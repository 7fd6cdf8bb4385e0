"""Companies: search, list, get, create/replace, delete (members write only their own record)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.params import Amount, DistanceKm, Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/companies", tags=["companies"])

_Text = Annotated[str | None, Query(max_length=200)]


@router.get("/search", responses=PROBLEM_RESPONSES)
def search(
    principal: PrincipalDep,
    projection: ProjectionDep,
    q: Annotated[str | None, Query(
        max_length=200, description="Free text over names and what companies make "
        "(Russian morphology: 'отливки' finds castings)")] = None,
    category: Annotated[str | None, Query(
        max_length=200, description="A category code (its sub-tree included) or an OKPD2 "
        "prefix")] = None,
    process: Annotated[Id | None, Query(description="A process the company holds")] = None,
    cert: Annotated[Id | None, Query(description="A certification the company holds")] = None,
    region: _Text = None,
    near: Annotated[str | None, Query(
        max_length=200, description="Distances from this company id or town")] = None,
    max_km: Annotated[DistanceKm | None, Query(description="At most this far from near")
                      ] = None,
    role: Annotated[str | None, Query(max_length=40, description="oem, supplier, …")] = None,
    cluster: Annotated[Id | None, Query(description="Members of this cluster")] = None,
    min_free_capacity: Annotated[Amount | None, Query(
        description="Free yearly capacity (in the category, if given); centre only")] = None,
    okved: Annotated[str | None, Query(
        max_length=20, description="An OKVED2 code from the registries: companies registered "
        "for it or a finer code (24.51 finds 24.51.1)")] = None,
    sort: Annotated[Literal["name", "-name", "distance"], Query(
        description="By name without the legal form, or by distance")] = "name",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONResponse:
    """Faceted company search: text, category, process, certificate, region, distance…"""
    from coopgraph.api.search import search_companies

    result = search_companies(
        projection, text=q, category=category, process=process, cert=cert, region=region,
        near=near, max_km=max_km, role=role, cluster=cluster,
        min_free_capacity=min_free_capacity, okved=okved, sort=sort, offset=offset, limit=limit,
        viewer=principal.viewer)
    return JSONResponse(dataclasses.asdict(result))


add_crud_routes(router, EntityKind.COMPANY)
