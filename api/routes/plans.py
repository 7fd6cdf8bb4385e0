"""Supply-chain plans for one product or a whole cluster (``queries.chains``).

Admins and analysts plan anything; a member plans its own company's products
(built from what the member may see: other companies' prices, capacities and
allocated quantities are withheld), not whole clusters.
"""

from __future__ import annotations

import io
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from coopgraph.api.auth import Principal
from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine, result_response
from coopgraph.api.schemas import PlanRequest
from coopgraph.graph.errors import AccessDenied, ValidationFailed
from coopgraph.queries.projection import Projection

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


Lang = Annotated[Literal["ru", "en"], Query(
    description="ru: Russian Excel (';', decimal comma, Russian headers); en: ','")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("")
def create_plan(principal: PrincipalDep, projection: ProjectionDep, body: PlanRequest) -> Response:
    """Plan the chain of a product (with a volume) or of every OEM of a cluster."""
    return result_response(_plan(principal, projection, body))


def _filename(body: PlanRequest, suffix: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"plan-{body.product or body.cluster}.{suffix}")


@router.post("/export.csv", response_class=Response,
             responses={200: {"content": {"text/csv": {}}, "description": "The plan as CSV"}})
def plan_csv(principal: PrincipalDep, projection: ProjectionDep, body: PlanRequest,
             lang: Lang = "ru") -> Response:
    """The plan's allocations as CSV for Excel (UTF-8 with BOM; ';' in Russian)."""
    plan = _plan(principal, projection, body)
    plan_columns = engine("coopgraph.queries.export", "PLAN_COLUMNS")
    plan_rows = engine("coopgraph.queries.export", "plan_rows")
    write_csv = engine("coopgraph.queries.export", "write_csv")
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: Excel reads the file as UTF-8
    write_csv(plan_rows(plan), plan_columns, buffer, lang=lang)
    return Response(buffer.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{_filename(body, "csv")}"'})


@router.post("/export.xlsx", response_class=Response,
             responses={200: {"content": {XLSX: {}}, "description": "The plan as XLSX"}})
def plan_xlsx(principal: PrincipalDep, projection: ProjectionDep, body: PlanRequest,
              lang: Lang = "ru") -> Response:
    """The plan as an XLSX workbook: its allocations, and its totals per product."""
    plan = _plan(principal, projection, body)
    plan_columns = engine("coopgraph.queries.export", "PLAN_COLUMNS")
    plan_rows = engine("coopgraph.queries.export", "plan_rows")
    summary_columns = engine("coopgraph.queries.workbook", "PLAN_SUMMARY_COLUMNS")
    summary_rows = engine("coopgraph.queries.workbook", "plan_summary_rows")
    workbook_bytes = engine("coopgraph.queries.workbook", "workbook_bytes")
    ru = lang == "ru"
    content = workbook_bytes([
        ("Итоги" if ru else "Totals", summary_rows(plan), summary_columns),
        ("Поставки" if ru else "Allocations", plan_rows(plan), plan_columns)], lang)
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{_filename(body, "xlsx")}"'})


def _plan(principal: Principal, projection: Projection, body: PlanRequest) -> Any:
    """The plan the request asks for, as the caller may see it."""
    if body.product is not None:
        index = projection.product(body.product)
        if principal.is_member:
            maker = int(projection.product_maker[index])
            if maker < 0 or projection.company_ids[maker] != principal.company_id:
                raise AccessDenied(f"a member key plans its own company's products only; "
                                   f"{body.product!r} is made by another company")
        plan_chain = engine("coopgraph.queries.chains", "plan_chain")
        return plan_chain(projection, body.product, volume=body.volume, options=_options(body),
                          viewer=principal.viewer)
    assert body.cluster is not None
    if principal.is_member:
        raise AccessDenied("a member key may not plan a whole cluster (admin or analyst only)")
    projection.cluster(body.cluster)
    plan_cluster = engine("coopgraph.queries.chains", "plan_cluster")
    return plan_cluster(projection, body.cluster, options=_options(body))
