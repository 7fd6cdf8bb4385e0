"""``coopgraph plan``: plan a product's cooperation chain, or a whole cluster's at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from coopgraph.api.console import console, fail, lang, print_json, store_from_settings, t
from coopgraph.graph.i18n import number, percent, rub
from coopgraph.queries.chains import ChainPlan, ClusterPlan, PlanOptions, plan_chain, plan_cluster
from coopgraph.queries.export import PLAN_COLUMNS, plan_rows, write_csv
from coopgraph.queries.projection_disk import DiskProjection


def _print_plan(plan: ChainPlan, categories: dict[str, str], sort: str = "cost") -> None:
    lg = lang()
    rows = list(plan.categories)  # the planner's order: the dearest first, or by name
    if sort == "name":  # by the name shown, in the CLI's language
        rows.sort(key=lambda c: ((categories.get(c.category) or c.name).casefold(), c.category))

    def n(x: float | None, digits: int = 0) -> str:
        return number(x, lg, digits, unknown="—")

    def p(x: float | None) -> str:
        return percent(x, lg, unknown="—")

    table = Table(title=f"{plan.product_name} — {n(plan.volume)} "
                        + t("шт./год", "units/yr"), highlight=False)
    for col, justify in ((t("категория", "category"), "left"), (t("потребность", "demand"),
                                                               "right"),
                         (t("поставщик", "supplier"), "left"), (t("кол-во", "qty"), "right"),
                         (t("₽/шт.", "₽/unit"), "right"), (t("км", "km"), "right"),
                         (t("в регионе", "local"), "center"), (t("в кластере", "cluster"),
                                                              "center"),
                         (t("сейчас", "now"), "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for cat in rows:
        now = {link.supplier_id: link.qty for link in cat.current}
        for i, a in enumerate(cat.allocations):
            supplier = t("[red]импорт[/]", "[red]import[/]") if a.imported else (
                a.supplier_name + (t(" [dim](по процессам)[/]", " [dim](inferred)[/]")
                                   if a.inferred else ""))
            first = i == 0
            table.add_row((categories.get(cat.category) or cat.name) if first else "",
                          n(cat.demand) if first else "",
                          supplier, n(a.qty), n(a.unit_cost, 2),
                          "" if a.distance_km is None else n(a.distance_km),
                          "✓" if a.local else "", "✓" if a.in_cluster else "",
                          n(now.get(a.supplier_id, 0)))
    console.print(table)
    console.print(t(
        f"итого {rub(plan.total_cost, lg, per_year=True)} · в регионе закупается "
        f"{p(plan.localization_share_value)} по стоимости (сейчас "
        f"{p(plan.current_localization_share_value)}), {p(plan.localization_share_count)} по "
        f"числу категорий · внутри кластера {p(plan.intra_cluster_share)} (сейчас "
        f"{p(plan.current_intra_cluster_share)})",
        f"total {rub(plan.total_cost, lg, per_year=True)} · bought in the region "
        f"{p(plan.localization_share_value)} by value (now "
        f"{p(plan.current_localization_share_value)}), {p(plan.localization_share_count)} by "
        f"count · intra-cluster {p(plan.intra_cluster_share)} (now "
        f"{p(plan.current_intra_cluster_share)})"), highlight=False)
    names = {cat.category: categories.get(cat.category) or cat.name for cat in plan.categories}
    if plan.uncovered:
        console.print(f"[red]{t('импорт', 'imported')}:[/] "
                      + ", ".join(names.get(c, c) for c in plan.uncovered), highlight=False)
    if plan.single_source:
        console.print(f"[yellow]{t('единственный поставщик', 'single source')}:[/] "
                      + ", ".join(names.get(c, c) for c in plan.single_source), highlight=False)
    console.print(plan.text_ru if lg == "ru" else plan.text_en, highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``plan`` to ``app``."""

    @app.command()
    def plan(
        product: Annotated[str | None, typer.Option("--product", help="Product id.")] = None,
        cluster: Annotated[str | None, typer.Option(
            "--cluster", help="Plan every end product of this cluster at once.")] = None,
        volume: Annotated[float | None, typer.Option(
            "--volume", help="Units per year (default: the product's annual volume).")] = None,
        max_suppliers: Annotated[int | None, typer.Option(
            "--max-suppliers", help="At most this many suppliers per category.")] = None,
        dual: Annotated[list[str] | None, typer.Option(
            "--dual", help="Dual-source this category (repeatable).")] = None,
        inferred: Annotated[bool, typer.Option(
            "--inferred", help="Allow inferred capabilities.")] = False,
        local_only: Annotated[bool, typer.Option(
            "--local-only", help="Only suppliers in the maker's region.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
        csv_file: Annotated[Path | None, typer.Option(
            "--csv", help="Also write the allocations to this CSV file.")] = None,
        sort: Annotated[str, typer.Option(
            "--sort", help="Order of the categories: cost (the dearest first) or name.")]
        = "cost",
    ) -> None:
        """Plan who should supply what: an LP over suppliers' free capacities (HiGHS)."""
        if (product is None) == (cluster is None):
            fail("give exactly one of --product or --cluster")
        if cluster is not None and volume is not None:
            fail("--volume applies to --product only")
        if sort not in ("cost", "name"):
            fail(f"--sort must be cost or name, got {sort!r}")
        try:
            options = PlanOptions(max_suppliers_per_category=max_suppliers,
                                  critical_categories=list(dual or []),
                                  allow_inferred=inferred, local_only=local_only,
                                  sort="name" if sort == "name" else "cost")
        except ValidationError as exc:
            fail(f"bad option: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
        result: ChainPlan | ClusterPlan
        with store_from_settings(as_json=as_json, lazy=True) as store:
            proj = DiskProjection(store).get()
            if product is not None:
                result = plan_chain(proj, product, volume=volume, options=options)
            else:
                result = plan_cluster(proj, str(cluster), options=options)
        if csv_file is not None:
            try:
                n = write_csv(plan_rows(result), PLAN_COLUMNS, csv_file, lang=lang())
            except OSError as exc:
                fail(f"cannot write {csv_file}: {exc.strerror}")
            if not as_json:
                console.print(f"wrote {n} rows to {csv_file}")
        if as_json:
            print_json(result.model_dump(mode="json"))
            return
        key = "name_ru" if lang() == "ru" else "name_en"
        categories = {code: str(row.get(key) or "")
                      for code, row in zip(proj.category_codes, proj.category_rows, strict=True)}
        if isinstance(result, ChainPlan):
            _print_plan(result, categories, sort)
            return
        for p in result.plans:
            _print_plan(p, categories, sort)
        console.print(result.text_ru if lang() == "ru" else result.text_en, highlight=False)
