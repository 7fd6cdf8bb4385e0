"""``coopgraph codes CODE``: what an OKVED2/OKPD2 code finds — its names, companies, categories.

A class or finer code (``24.51``, ``24.51.2``) matches by prefix: companies whose
OKVED codes fall under it (main activity first), categories whose OKPD2 code is
under it or above it.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, friendly_errors, print_json, store_from_settings
from coopgraph.queries.projection_disk import DiskProjection
from coopgraph.queries.registry import find_by_code


def register(app: typer.Typer) -> None:
    """Attach ``codes`` to ``app``."""

    @app.command()
    def codes(
        code: Annotated[str, typer.Argument(help="An OKVED2 or OKPD2 code, e.g. 24.51")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Find companies by OKVED2 code and categories by OKPD2 code."""
        with store_from_settings(as_json=as_json, lazy=True) as store, friendly_errors():
            found = find_by_code(DiskProjection(store).get(), code)
        if as_json:
            print_json({
                "code": found.code, "okved_name": found.okved_name,
                "okpd2_name": found.okpd2_name,
                "companies": [{"id": i, "name": n, "okved": c, "main": m}
                              for i, n, c, m in found.companies],
                "categories": [{"code": c, "name_ru": n, "okpd2": o}
                               for c, n, o in found.categories]})
            return
        console.print(f"ОКВЭД2 {found.code}: {found.okved_name or '—'}", highlight=False)
        console.print(f"ОКПД2 {found.code}: {found.okpd2_name or '—'}", highlight=False)
        companies = Table(title=f"Компании / companies ({len(found.companies)})")
        for name in ("id", "name", "OKVED", "main / основной"):
            companies.add_column(name)
        for i, n, c, m in found.companies:
            companies.add_row(i, n, c, "да / yes" if m else "")
        console.print(companies)
        categories = Table(title=f"Категории / categories ({len(found.categories)})")
        for name in ("code", "name", "OKPD2"):
            categories.add_column(name)
        for c, n, o in found.categories:
            categories.add_row(c, n, o)
        console.print(categories)
