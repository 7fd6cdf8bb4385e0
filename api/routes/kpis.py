"""The cluster's KPIs against the thresholds of Resolution No. 779 (``queries.kpi``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.params import Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine, result_response
from coopgraph.graph.errors import InvalidQuery

__all__ = ["router"]

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=PROBLEM_RESPONSES)


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
