"""The cluster's gaps (``queries.gaps``): categories nobody or one company makes locally,
demand above capacity, idle capacity, unconnected members, critical suppliers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import PrincipalDep, ProjectionDep
from api.params import Id
from api.problems import PROBLEM_RESPONSES
from api.routes._engine import engine, result_response

__all__ = ["router"]

router = APIRouter(prefix="/gaps", tags=["gaps"], responses=PROBLEM_RESPONSES)


@router.get("")
def gaps(
    principal: PrincipalDep,
    projection: ProjectionDep,
    cluster: Annotated[Id | None, Query(description="Only this cluster's members")] = None,
    region: Annotated[str | None, Query(description="Only companies in this region")] = None,
) -> Response:
    """Gaps in the cluster's supply (members see other companies' figures aggregated)."""
    if cluster is not None:
        projection.cluster(cluster)
    find_gaps = engine("queries.gaps", "find_gaps")
    return result_response(find_gaps(projection, cluster_id=cluster, region=region,
                                     viewer=principal.viewer))
