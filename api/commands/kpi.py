"""``coopgraph kpi``: a cluster's KPIs (Resolution No. 779) and the links that would fix them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.console import console, print_json, store_from_settings
from queries.kpi import cluster_kpis
from queries.projection import ProjectionCache


def register(app: typer.Typer) -> None:
    """Attach ``kpi`` to ``app``."""

    @app.command()
    def kpi(
        cluster: Annotated[str, typer.Option("--cluster", help="Cluster id.")],
        what_if: Annotated[bool, typer.Option(
            "--what-if/--no-what-if", help="Propose links that raise failing KPIs.")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """Show the cluster's KPIs (value, threshold, pass/fail) and what-if links."""
        with store_from_settings(as_json=as_json) as store:
            report = cluster_kpis(ProjectionCache(store).get(), cluster, what_if=what_if)
        if as_json:
            print_json(report.model_dump(mode="json"))
            return
        table = Table(title=f"{report.cluster_name} ({report.cluster_id}): "
                            f"{report.members} members — Resolution No. 779")
        for col in ("KPI", "value", "threshold", ""):
            table.add_column(col)
        for k in report.kpis:
            fmt = (lambda v: f"{v:.0f}") if k.code == "untied_count" else (lambda v: f"{v:.1%}")
            table.add_row(k.name_en, fmt(k.value), f"{k.comparison} {fmt(k.threshold)}",
                          "[green]pass[/]" if k.passed else "[red]fail[/]")
        console.print(table)
        for k in report.kpis:
            console.print(f"• {k.text_ru}", highlight=False)
        for w in report.what_if:
            links = Table(title=w.text_en)
            for col in ("supplier", "buyer", "category", "volume/yr", "value ₽/yr", "source"):
                links.add_column(col)
            for link in w.links:
                links.add_row(link.supplier_id, link.buyer_id, link.category or "",
                              f"{link.volume:,.0f}", f"{link.value:,.0f}", link.source)
            console.print(links)
            console.print(w.text_ru, highlight=False)
