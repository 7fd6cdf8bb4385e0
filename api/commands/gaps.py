"""``coopgraph gaps``: what a cluster or region lacks, hangs on by a thread, or leaves idle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, lang, print_json, store_from_settings, t
from coopgraph.graph.i18n import number, percent
from coopgraph.queries.export import GAP_COLUMNS, gaps_rows, write_csv
from coopgraph.queries.gaps import GapReport, find_gaps
from coopgraph.queries.projection_disk import DiskProjection

_TOP = 15


def _n(x: float | None) -> str:
    """A figure for the table (the CLI runs as the centre, so ``None`` means unknown)."""
    return number(x, lang())


def _print(report: GapReport, names: dict[str, str], categories: dict[str, str]) -> None:
    ru = lang() == "ru"
    console.print(report.text_ru if ru else report.text_en, highlight=False)

    def who(ids: list[str], limit: int = 3) -> str:
        shown = ", ".join(names.get(i, i) for i in ids[:limit])
        return shown + (f" +{len(ids) - limit}" if len(ids) > limit else "")

    def cat(code: str, fallback: str) -> str:
        return categories.get(code) or fallback

    reasons = {"missing": t("нет поставщика в регионе", "no regional supplier"),
               "short": t("не хватает мощностей", "capacity short")}
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (t("Нет поставщика в регионе (зависимость от импорта)",
           "No regional supplier (import dependency)"),
         [t("категория", "category"), t("спрос, шт./год", "demand/yr"),
          t("стоимость, ₽/год", "value ₽/yr"), t("импорт, шт./год", "imported/yr"),
          t("покупатели", "buyers")],
         [[cat(g.category, g.name), _n(g.demand_qty), _n(g.demand_value), _n(g.import_qty),
           who(g.buyers)]
          for g in sorted(report.import_dependency, key=lambda g: -(g.demand_value or 0.0))]),
        (t("Единственный поставщик", "Single source"),
         [t("категория", "category"), t("поставщик", "supplier"),
          t("спрос, шт./год", "demand/yr"), t("мощность", "capacity")],
         [[cat(s.category, s.name), s.supplier_name, _n(s.demand_qty), _n(s.capacity)]
          for s in sorted(report.single_source, key=lambda s: -(s.demand_value or 0.0))]),
        (t("Спрос выше мощностей региона", "Demand above regional capacity"),
         [t("категория", "category"), t("спрос, шт./год", "demand/yr"),
          t("мощность", "capacity"), t("дефицит", "shortfall")],
         [[cat(o.category, o.name), _n(o.demand_qty), _n(o.capacity), _n(o.shortfall)]
          for o in sorted(report.over_capacity, key=lambda o: -(o.shortfall_value or 0.0))]),
        (t("Простаивающие мощности (нет покупателя)", "Idle capacity (no buyer)"),
         [t("компания", "company"), t("категория", "category"),
          t("свободно, шт./год", "free/yr"), t("спрос в охвате", "demand in scope")],
         [[i.name, cat(i.category, i.category_name), _n(i.free_capacity), _n(i.demand_in_scope)]
          for i in report.idle_capacity]),
        (t("Компании без связей", "Untied companies"), [t("компания", "company"), "id"],
         [[u.name, u.company_id] for u in report.untied]),
        (t("Критичные компании", "Critical companies"),
         [t("компания", "company"), t("посредничество (доля путей)", "betweenness (paths)"),
          t("точка сочленения", "articulation"), t("связи", "links")],
         [[c.name, percent(c.betweenness, lang(), 1), "✓" if c.articulation_point else "",
           str(c.degree)] for c in report.critical]),
        (t("Возможности, которые стоит привлечь", "Capabilities to attract"),
         ["#", t("категория", "category"), t("причина", "reason"),
          t("откроет, ₽/год", "unlocks ₽/yr"), t("могли бы освоить", "could develop")],
         [[str(a.rank), cat(a.category, a.name), reasons.get(a.reason, a.reason),
           _n(a.unlock_value), who(a.could_develop)]
          for a in report.attract]),
    ]
    for title, columns, rows in sections:
        if not rows:
            continue
        top = f" ({t('первые', 'top')} {_TOP})" if len(rows) > _TOP else ""
        table = Table(title=f"{title} — {len(rows)}{top}")
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
            "--csv", help="Also write every finding to this CSV file (for Excel: UTF-8 with "
                          "BOM; in Russian ';' and a decimal comma).")] = None,
        plain_csv: Annotated[bool, typer.Option(
            "--plain-csv", help="Write the CSV for scripts: UTF-8, ',' and '.', column ids.")
        ] = False,
    ) -> None:
        """Find gaps: missing and single-source categories, idle capacity, untied members."""
        with store_from_settings(as_json=as_json, lazy=True) as store:
            proj = DiskProjection(store).get()
            report = find_gaps(proj, cluster_id=cluster, region=region)
        names = dict(zip(proj.company_ids, proj.company_names, strict=True))
        key = "name_ru" if lang() == "ru" else "name_en"
        categories = {code: str(row.get(key) or "")
                      for code, row in zip(proj.category_codes, proj.category_rows, strict=True)}
        if csv_file is not None:
            try:
                n = write_csv(gaps_rows(report, names, lang()), GAP_COLUMNS, csv_file,
                              lang=None if plain_csv else lang())
            except OSError as exc:
                fail(t(f"не удалось записать {csv_file}: {exc.strerror}",
                       f"cannot write {csv_file}: {exc.strerror}"))
            if not as_json:
                console.print(t(f"записано строк: {number(n, 'ru')} в {csv_file}",
                                f"wrote {n} rows to {csv_file}"), highlight=False)
        if as_json:
            print_json(report.model_dump(mode="json"))
            return
        _print(report, names, categories)
