"""The cluster's gaps (``queries.gaps``): categories nobody or one company makes locally,
demand above capacity, idle capacity, unconnected members, critical suppliers."""

from __future__ import annotations

import io
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.params import Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine, result_response

__all__ = ["XLSX", "router"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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
    find_gaps = engine("coopgraph.queries.gaps", "find_gaps")
    return result_response(find_gaps(projection, cluster_id=cluster, region=region,
                                     viewer=principal.viewer))


@router.get("/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "The gaps as CSV"}})
def gaps_csv(
    principal: PrincipalDep,
    projection: ProjectionDep,
    cluster: Annotated[Id | None, Query(description="Only this cluster's members")] = None,
    region: Annotated[str | None, Query(description="Only companies in this region")] = None,
    lang: Annotated[Literal["ru", "en"], Query(
        description="ru: Russian Excel (';', decimal comma, Russian headers); en: ','")] = "ru",
) -> Response:
    """Every gap finding as CSV for Excel (UTF-8 with BOM), with names and ids."""
    if cluster is not None:
        projection.cluster(cluster)
    report = engine("coopgraph.queries.gaps", "find_gaps")(
        projection, cluster_id=cluster, region=region, viewer=principal.viewer
    )
    gap_columns = engine("coopgraph.queries.export", "GAP_COLUMNS")
    gaps_rows = engine("coopgraph.queries.export", "gaps_rows")
    write_csv = engine("coopgraph.queries.export", "write_csv")
    names = dict(zip(projection.company_ids, projection.company_names, strict=True))
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: Excel reads the file as UTF-8
    write_csv(gaps_rows(report, names, lang), gap_columns, buffer, lang=lang)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"gaps-{cluster or region or 'all'}.csv")
    return Response(buffer.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/export.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The gaps as XLSX"}})
def gaps_xlsx(
    principal: PrincipalDep,
    projection: ProjectionDep,
    cluster: Annotated[Id | None, Query(description="Only this cluster's members")] = None,
    region: Annotated[str | None, Query(description="Only companies in this region")] = None,
    lang: Annotated[Literal["ru", "en"], Query(
        description="Language of the headers, kinds and explanations")] = "ru",
) -> Response:
    """Every gap finding as an XLSX workbook, with names and ids (members: aggregates)."""
    if cluster is not None:
        projection.cluster(cluster)
    report = engine("coopgraph.queries.gaps", "find_gaps")(
        projection, cluster_id=cluster, region=region, viewer=principal.viewer
    )
    gap_columns = engine("coopgraph.queries.export", "GAP_COLUMNS")
    gaps_rows = engine("coopgraph.queries.export", "gaps_rows")
    workbook_bytes = engine("coopgraph.queries.workbook", "workbook_bytes")
    names = dict(zip(projection.company_ids, projection.company_names, strict=True))
    content = workbook_bytes(
        [("Разрывы" if lang == "ru" else "Gaps", gaps_rows(report, names, lang), gap_columns)],
        lang)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"gaps-{cluster or region or 'all'}.xlsx")
    return Response(content, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
