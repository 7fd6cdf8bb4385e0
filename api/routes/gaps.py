"""The cluster's gaps (``queries.gaps``): categories nobody or one company makes locally,
demand above capacity, idle capacity, unconnected members, critical suppliers."""

from __future__ import annotations

import io
import re
from typing import Annotated, Any, Literal

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
    rows, columns = _gap_table(principal, projection, cluster, region, lang)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: Excel reads the file as UTF-8
    engine("coopgraph.queries.export", "write_csv")(rows, columns, buffer, lang=lang)
    return Response(buffer.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers=_attachment(cluster or region, "csv"))


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
    rows, columns = _gap_table(principal, projection, cluster, region, lang)
    content = engine("coopgraph.queries.workbook", "workbook_bytes")(
        [("Разрывы" if lang == "ru" else "Gaps", rows, columns)], lang)
    return Response(content, media_type=XLSX, headers=_attachment(cluster or region, "xlsx"))


def _gap_table(principal: Any, projection: Any, cluster: str | None, region: str | None,
               lang: str) -> tuple[list[dict[str, Any]], Any]:
    """The gap findings as export rows (names and ids; what the viewer may see) and columns."""
    if cluster is not None:
        projection.cluster(cluster)
    report = engine("coopgraph.queries.gaps", "find_gaps")(
        projection, cluster_id=cluster, region=region, viewer=principal.viewer)
    names = dict(zip(projection.company_ids, projection.company_names, strict=True))
    rows = engine("coopgraph.queries.export", "gaps_rows")(report, names, lang)
    return rows, engine("coopgraph.queries.export", "GAP_COLUMNS")


def _attachment(scope: str | None, extension: str) -> dict[str, str]:
    """The download header: ``gaps-<cluster, region or all>.<extension>``, ASCII-safe."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"gaps-{scope or 'all'}.{extension}")
    return {"Content-Disposition": f'attachment; filename="{name}"'}
