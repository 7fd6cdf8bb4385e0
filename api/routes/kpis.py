"""The cluster's KPIs against the thresholds of Resolution No. 779 (``queries.kpi``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.params import Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine, result_response
from coopgraph.graph.errors import InvalidQuery

__all__ = ["WhatIfRequest", "router"]

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=PROBLEM_RESPONSES)


class WhatIfLink(BaseModel):
    """A proposed link the user keeps, with the volume it carries."""

    model_config = ConfigDict(extra="forbid")

    supplier_id: Id
    buyer_id: Id
    category: str | None = Field(default=None, max_length=64)
    volume: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False,
                                 description="Units per year, within the supplier's free "
                                 "capacity (admin or analyst only)")


class WhatIfRequest(BaseModel):
    """The links chosen on the KPI page."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"cluster": "agromash48", "links": [
            {"supplier_id": "s-1", "buyer_id": "oem-1", "category": "1.2", "volume": 100}]}]})

    cluster: Id
    links: list[WhatIfLink] = Field(max_length=500)


@router.post("/what-if")
def what_if_links(principal: PrincipalDep, projection: ProjectionDep,
                  body: WhatIfRequest) -> Response:
    """The KPIs recomputed with a chosen set of links (and volumes) added."""
    projection.cluster(body.cluster)
    evaluate = engine("coopgraph.queries.kpi", "evaluate_links")
    chosen = engine("coopgraph.queries.kpi", "ChosenLink")
    return result_response(evaluate(
        projection, body.cluster, [chosen(**link.model_dump()) for link in body.links],
        viewer=principal.viewer))


@router.get("")
def kpis(
    principal: PrincipalDep,
    projection: ProjectionDep,
    cluster: Annotated[Id | None, Query(
        description="Cluster id (may be left out when the store holds one cluster)")] = None,
    what_if: Annotated[bool, Query(
        description="Also show which recommended links would move each KPI")] = True,
) -> Response:
    """A cluster's KPIs, their thresholds, and the links that would move them."""
    if cluster is None:
        clusters = sorted(projection.cluster_rows)
        if len(clusters) != 1:
            raise InvalidQuery(f"name a cluster with ?cluster=…; the store holds "
                               f"{len(clusters)}: {', '.join(clusters[:20]) or 'none'}")
        cluster = clusters[0]
    projection.cluster(cluster)
    cluster_kpis = engine("coopgraph.queries.kpi", "cluster_kpis")
    return result_response(cluster_kpis(projection, cluster, what_if=what_if,
                                        viewer=principal.viewer))
