"""Supply-chain plans for one product or a whole cluster (``queries.chains``).

Admins and analysts plan anything; a member plans its own company's products
(built from what the member may see: other companies' prices, capacities and
allocated quantities are withheld), not whole clusters.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine, result_response
from coopgraph.api.schemas import PlanRequest
from coopgraph.graph.errors import AccessDenied, ValidationFailed

__all__ = ["router"]

router = APIRouter(prefix="/plans", tags=["plans"], responses=PROBLEM_RESPONSES)


def _options(body: PlanRequest) -> Any:
    """The planner's options model, built from the request's plain dict."""
    if body.options is None:
        return None
    options_model = engine("coopgraph.queries.chains", "PlanOptions")
    try:
        return options_model.model_validate(body.options)
    except ValidationError as exc:
        raise ValidationFailed("invalid planner options", [
            (".".join(["options", *map(str, e["loc"])]), e["msg"]) for e in exc.errors()
        ]) from None


@router.post("")
def create_plan(principal: PrincipalDep, projection: ProjectionDep, body: PlanRequest) -> Response:
    """Plan the chain of a product (with a volume) or of every OEM of a cluster."""
    if body.product is not None:
        index = projection.product(body.product)
        if principal.is_member:
            maker = int(projection.product_maker[index])
            if maker < 0 or projection.company_ids[maker] != principal.company_id:
                raise AccessDenied(f"a member key plans its own company's products only; "
                                   f"{body.product!r} is made by another company")
        plan_chain = engine("coopgraph.queries.chains", "plan_chain")
        return result_response(plan_chain(
            projection, body.product, volume=body.volume, options=_options(body),
            viewer=principal.viewer))
    assert body.cluster is not None
    if principal.is_member:
        raise AccessDenied("a member key may not plan a whole cluster (admin or analyst only)")
    projection.cluster(body.cluster)
    plan_cluster = engine("coopgraph.queries.chains", "plan_cluster")
    return result_response(plan_cluster(projection, body.cluster, options=_options(body)))
