"""``coopgraph plan``: plan a product's cooperation chain, or a whole cluster's at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from api.console import console, fail, print_json, store_from_settings
from queries.chains import ChainPlan, ClusterPlan, PlanOptions, plan_chain, plan_cluster
from queries.export import PLAN_COLUMNS, plan_rows, write_csv
from queries.projection import ProjectionCache


def _print_plan(plan: ChainPlan) -> None:
    table = Table(title=f"{plan.product_name} ({plan.product_id}) — {plan.volume:,.0f} units/yr, "
                        f"maker {plan.maker_id}")
    for col, justify in (("category", "left"), ("demand", "right"), ("supplier", "left"),
                         ("qty", "right"), ("₽/unit", "right"), ("km", "right"),
                         ("local", "center"), ("cluster", "center"), ("now", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for cat in plan.categories:
        now = {link.supplier_id: link.qty for link in cat.current}
        for i, a in enumerate(cat.allocations):
            supplier = "[red]import[/]" if a.imported else (
                str(a.supplier_id) + (" [dim](inferred)[/]" if a.inferred else ""))
            table.add_row(cat.category if i == 0 else "", f"{cat.demand:,.0f}" if i == 0 else "",
                          supplier, f"{a.qty:,.0f}", f"{a.unit_cost:,.2f}",
                          "" if a.distance_km is None else f"{a.distance_km:,.0f}",
                          "✓" if a.local else "", "✓" if a.in_cluster else "",
                          f"{now.get(a.supplier_id, 0):,.0f}")
    console.print(table)
    console.print(
        f"total {plan.total_cost:,.0f} ₽/yr · localization {plan.localization_share_value:.0%} "
        f"by value (now {plan.current_localization_share_value:.0%}), "
        f"{plan.localization_share_count:.0%} by count · intra-cluster "
        f"{plan.intra_cluster_share:.0%} (now {plan.current_intra_cluster_share:.0%})")
    if plan.uncovered:
        console.print(f"[red]imported:[/] {', '.join(plan.uncovered)}")
    if plan.single_source:
        console.print(f"[yellow]single source:[/] {', '.join(plan.single_source)}")
    console.print(plan.text_ru, highlight=False)


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
    ) -> None:
        """Plan who should supply what: an LP over suppliers' free capacities (HiGHS)."""
        if (product is None) == (cluster is None):
            fail("give exactly one of --product or --cluster")
        if cluster is not None and volume is not None:
            fail("--volume applies to --product only")
        try:
            options = PlanOptions(max_suppliers_per_category=max_suppliers,
                                  critical_categories=list(dual or []),
                                  allow_inferred=inferred, local_only=local_only)
        except ValidationError as exc:
            fail(f"bad option: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
        result: ChainPlan | ClusterPlan
        with store_from_settings(as_json=as_json) as store:
            proj = ProjectionCache(store).get()
            if product is not None:
                result = plan_chain(proj, product, volume=volume, options=options)
            else:
                result = plan_cluster(proj, str(cluster), options=options)
        if csv_file is not None:
            try:
                n = write_csv(plan_rows(result), PLAN_COLUMNS, csv_file)
            except OSError as exc:
                fail(f"cannot write {csv_file}: {exc.strerror}")
            if not as_json:
                console.print(f"wrote {n} rows to {csv_file}")
        if as_json:
            print_json(result.model_dump(mode="json"))
            return
        if isinstance(result, ChainPlan):
            _print_plan(result)
            return
        for p in result.plans:
            _print_plan(p)
        console.print(result.text_ru, highlight=False)
        console.print(result.text_en, highlight=False)
