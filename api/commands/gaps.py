"""``coopgraph gaps``: what a cluster or region lacks, hangs on by a thread, or leaves idle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.console import console, fail, print_json, store_from_settings
from queries.export import GAP_COLUMNS, gaps_rows, write_csv
from queries.gaps import GapReport, find_gaps
from queries.projection import ProjectionCache

_TOP = 15


def _n(x: float | None) -> str:
    """A figure for the table (the CLI runs as the centre, so ``None`` means unknown)."""
    return "?" if x is None else f"{x:,.0f}"


def _print(report: GapReport) -> None:
    console.print(report.text_ru, highlight=False)
    console.print(report.text_en, highlight=False)
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        ("No regional supplier (import dependency)", ["category", "demand/yr", "value ₽/yr",
                                                      "buyers"],
         [[g.category, _n(g.demand_qty), _n(g.demand_value), ", ".join(g.buyers)]
          for g in sorted(report.import_dependency, key=lambda g: -(g.demand_value or 0.0))]),
        ("Single source", ["category", "supplier", "demand/yr", "capacity"],
         [[s.category, s.supplier_id, _n(s.demand_qty),
           _n(s.capacity)]
          for s in sorted(report.single_source, key=lambda s: -(s.demand_value or 0.0))]),
        ("Demand above regional capacity", ["category", "demand/yr", "capacity", "shortfall"],
         [[o.category, _n(o.demand_qty), _n(o.capacity), _n(o.shortfall)]
          for o in sorted(report.over_capacity, key=lambda o: -(o.shortfall_value or 0.0))]),
        ("Idle capacity (no buyer)", ["company", "category", "free/yr", "demand in scope"],
         [[i.company_id, i.category, _n(i.free_capacity), _n(i.demand_in_scope)]
          for i in report.idle_capacity]),
        ("Untied companies", ["company", "name"],
         [[u.company_id, u.name] for u in report.untied]),
        ("Critical companies", ["company", "betweenness", "articulation", "links"],
         [[c.company_id, f"{c.betweenness:.3f}", "✓" if c.articulation_point else "",
           str(c.degree)] for c in report.critical]),
        ("Capabilities to attract", ["#", "category", "reason", "unlocks ₽/yr", "could develop"],
         [[str(a.rank), a.category, a.reason, _n(a.unlock_value),
           ", ".join(a.could_develop[:3])] for a in report.attract]),
    ]
    for title, columns, rows in sections:
        if not rows:
            continue
        table = Table(title=f"{title} — {len(rows)}" + (f" (top {_TOP})" if len(rows) > _TOP
                                                         else ""))
        for col in columns:
            table.add_column(col)
        for row in rows[:_TOP]:
            table.add_row(*row)
        console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``gaps`` to ``app``."""

    @app.command()
    def gaps(
        cluster: Annotated[str | None, typer.Option(
            "--cluster", help="Scope: this cluster's members.")] = None,
        region: Annotated[str | None, typer.Option(
            "--region", help="Suppliers (and, without a cluster, the scope): this region.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
        csv_file: Annotated[Path | None, typer.Option(
            "--csv", help="Also write every finding to this CSV file.")] = None,
    ) -> None:
        """Find gaps: missing and single-source categories, idle capacity, untied members."""
        with store_from_settings(as_json=as_json) as store:
            report = find_gaps(ProjectionCache(store).get(), cluster_id=cluster, region=region)
        if csv_file is not None:
            try:
                n = write_csv(gaps_rows(report), GAP_COLUMNS, csv_file)
            except OSError as exc:
                fail(f"cannot write {csv_file}: {exc.strerror}")
            if not as_json:
                console.print(f"wrote {n} rows to {csv_file}")
        if as_json:
            print_json(report.model_dump(mode="json"))
            return
        _print(report)
