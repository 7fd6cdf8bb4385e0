"""Joint cluster projects: records, the card, the subsidy estimate, proposed participants,
the effect on the KPIs and the XLSX export (``queries.projects``).

The centre (admin) writes projects, their participants and cost items; the
centre and the project's participants read the card (a participant sees its own
cost figures; others' are withheld).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from coopgraph.api.deps import PrincipalDep, ProjectionDep, StoreDep
from coopgraph.api.params import Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.api.routes._engine import result_response
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.schema import EntityKind
from coopgraph.queries import projects as jp

__all__ = ["router"]

router = APIRouter(prefix="/projects", tags=["projects"], responses=PROBLEM_RESPONSES)

_Rules = Annotated[str | None, Query(max_length=200, description="Subsidy rules version")]


@router.get("/{id}/card")
def project_card(principal: PrincipalDep, store: StoreDep, projection: ProjectionDep, id: Id,
                 rules: _Rules = None) -> Response:
    """The project with its participants, cost items, subsidy estimate and KPI effect."""
    return result_response(jp.project_card(store, id, viewer=principal.viewer,
                                           rules=rules, projection=projection))


@router.get("/{id}/estimate")
def project_estimate(principal: PrincipalDep, store: StoreDep, id: Id,
                     rules: _Rules = None) -> Response:
    """The subsidy estimate under Resolution No. 41 (``verified: false`` when the rules
    used were not checked against the regulation's text)."""
    return result_response(jp.estimate_subsidy(store, id, viewer=principal.viewer,
                                               rules=rules))


@router.get("/{id}/proposals")
def project_proposals(principal: PrincipalDep, store: StoreDep, projection: ProjectionDep,
                      id: Id, k: Annotated[int, Query(ge=1, le=50)] = 5) -> Response:
    """Members the matching engine proposes for the project's parts, with reasons."""
    project, participants, _ = jp.load_project(store, id, principal.viewer)
    leads = [p.company_id for p in participants if p.role.value == "lead"]
    if not leads:
        raise InvalidQuery(f"project {id!r} has no lead participant to rank for")
    return result_response(jp.propose_participants(projection, project, leads[0], k=k,
                                                   viewer=principal.viewer))


@router.get("/{id}/kpi-effect")
def project_kpi_effect(principal: PrincipalDep, store: StoreDep, projection: ProjectionDep,
                       id: Id) -> Response:
    """The cluster's KPIs before and after the project: its joint-project ties, and the
    purchase share with its purchases between members (the latter for the centre)."""
    project, participants, _ = jp.load_project(store, id, principal.viewer)
    return result_response(jp.kpi_effect(projection, project, participants,
                                         principal.viewer))


@router.get("/{id}/export.xlsx")
def project_export(principal: PrincipalDep, store: StoreDep, projection: ProjectionDep,
                   id: Id, rules: _Rules = None) -> Response:
    """The project card as an XLSX workbook to attach to a subsidy application."""
    card = jp.project_card(store, id, viewer=principal.viewer, rules=rules,
                           projection=projection)
    return Response(
        jp.project_workbook(card),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="project.xlsx"'})


add_crud_routes(router, EntityKind.JOINT_PROJECT)
