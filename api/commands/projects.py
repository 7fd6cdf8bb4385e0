"""``coopgraph projects …``: a joint project's card, subsidy estimate, proposals and XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coopgraph.api.console import console, print_json, store_from_settings
from coopgraph.queries import projects as jp
from coopgraph.queries.projection import ProjectionCache

PROJECT_HELP = "The project's id."
RULES_HELP = "The subsidy rules version (default: the one the project names, else the current one)."

projects_app = typer.Typer(help="Joint cluster projects and their subsidy estimate.",
                           no_args_is_help=True)


@projects_app.command("estimate")
def estimate(project_id: Annotated[str, typer.Argument(help=PROJECT_HELP)],
             rules: Annotated[str | None, typer.Option(help=RULES_HELP)] = None,
             as_json: Annotated[bool, typer.Option("--json",
                                                   help="Print JSON for machines.")] = False
             ) -> None:
    """The subsidy estimate (Resolution No. 41; says when its rules are unverified)."""
    with store_from_settings(as_json=as_json) as store:
        result = jp.estimate_subsidy(store, project_id, rules=rules)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    mark = "" if result.verified else " — НЕ СВЕРЕНО / UNVERIFIED"
    console.print(f"{result.project_id}: {result.subsidy or 0:,.0f} ₽ of "
                  f"{result.eligible_costs or 0:,.0f} ₽ ({result.share:.0%}){mark}",
                  highlight=False)
    for ru, en in zip(result.warnings_ru, result.warnings_en, strict=True):
        console.print(f"⚠ {ru}\n  {en}", highlight=False)


@projects_app.command("proposals")
def proposals(project_id: Annotated[str, typer.Argument(help=PROJECT_HELP)],
              k: Annotated[int, typer.Option(min=1, max=50,
                                             help="Members proposed per part.")] = 5) -> None:
    """Members proposed for the project's parts by the matching engine, with reasons (JSON)."""
    with store_from_settings(as_json=True) as store:
        project, participants, _ = jp.load_project(store, project_id)
        leads = [p.company_id for p in participants if p.role.value == "lead"]
        if not leads:
            console.print("no lead participant / нет ведущего участника")
            raise typer.Exit(2)
        found = jp.propose_participants(ProjectionCache(store).get(), project, leads[0], k=k)
    print_json([p.model_dump(mode="json") for p in found])


@projects_app.command("export")
def export(project_id: Annotated[str, typer.Argument(help=PROJECT_HELP)],
           out: Annotated[Path, typer.Option("--out", help="The XLSX file to write.")],
           rules: Annotated[str | None, typer.Option(help=RULES_HELP)] = None) -> None:
    """Write the project card as an XLSX workbook."""
    with store_from_settings() as store:
        card = jp.project_card(store, project_id, rules=rules,
                               projection=ProjectionCache(store).get())
    out.write_bytes(jp.project_workbook(card))
    console.print(f"{out}")


def register(app: typer.Typer) -> None:
    """Attach ``projects`` to ``app``."""
    app.add_typer(projects_app, name="projects")
