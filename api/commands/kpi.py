"""``coopgraph kpi``: a cluster's KPIs (Resolution No. 779) and the links that would fix them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, lang, print_json, store_from_settings, t
from coopgraph.graph.i18n import count, number, percent
from coopgraph.queries.kpi import cluster_kpis
from coopgraph.queries.projection_disk import DiskProjection


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
        with store_from_settings(as_json=as_json, lazy=True) as store:
            proj = DiskProjection(store).get()
            report = cluster_kpis(proj, cluster, what_if=what_if)
        if as_json:
            print_json(report.model_dump(mode="json"))
            return
        ru = lang() == "ru"
        names = dict(zip(proj.company_ids, proj.company_names, strict=True))
        key = "name_ru" if ru else "name_en"
        categories = {code: str(row.get(key) or code)
                      for code, row in zip(proj.category_codes, proj.category_rows, strict=True)}
        members = count(report.members, lang(), ("участник", "участника", "участников"),
                        ("member", "members"))
        table = Table(title=f"{report.cluster_name}: {members} — "
                            + t("ПП № 779", "Resolution No. 779"))
        for col in (t("показатель", "KPI"), t("значение", "value"), t("порог", "threshold"), ""):
            table.add_column(col)
        for k in report.kpis:
            def fmt(v: float | None, code: str = k.code) -> str:
                return number(v, lang()) if code == "untied_count" else percent(v, lang(), 1)
            threshold = f"{'≥' if k.comparison == '>=' else '≤'} {fmt(k.threshold)}"
            if k.details.get("threshold_from") == "untied_count":
                threshold += t(" (из правила «без связей ≤ 3»)", " (from “untied ≤ 3”)")
            table.add_row(k.name_ru if ru else k.name_en, fmt(k.value), threshold,
                          t("[green]выполнен[/]", "[green]pass[/]") if k.passed
                          else t("[red]не выполнен[/]", "[red]fail[/]"))
        console.print(table)
        for k in report.kpis:
            console.print(f"• {k.text_ru if ru else k.text_en}", highlight=False)
        sources = {"match": t("подбор", "match"), "capabilities": t("возможности", "capabilities")}
        for w in report.what_if:
            links = Table(title=w.text_ru if ru else w.text_en)
            for col in (t("поставщик", "supplier"), t("покупатель", "buyer"),
                        t("категория", "category"), t("шт./год", "volume/yr"),
                        t("₽/год", "value ₽/yr"), t("источник", "source")):
                links.add_column(col)
            for link in w.links:
                links.add_row(names.get(link.supplier_id, link.supplier_id),
                              names.get(link.buyer_id, link.buyer_id),
                              categories.get(link.category or "", link.category or ""),
                              number(link.volume, lang()), number(link.value, lang()),
                              sources.get(link.source, link.source))
            console.print(links)
