"""``coopgraph stats``: how many records of each kind the store holds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import (
    console,
    err_console,
    lang,
    print_json,
    store_from_settings,
    t,
)


def register(app: typer.Typer) -> None:
    """Attach ``stats`` to ``app``."""

    @app.command()
    def stats(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """Count the records of each kind in the configured store."""
        with store_from_settings(as_json=as_json) as store:
            counts = store.stats()
            info = {**store.describe(), "revision": store.revision(), "counts": counts}
        if as_json:
            print_json(info)
            return
        from coopgraph.graph.i18n import number
        from coopgraph.graph.messages import kind_name, render

        revision = number(info["revision"], lang())
        table = Table(title=t(f"Хранилище CoopGraph ({info['store']}), ревизия {revision}",
                              f"CoopGraph store ({info['store']}), revision {revision}"))
        table.add_column(t("вид записей", "kind"))
        table.add_column(t("записей", "records"), justify="right")
        for kind, n in counts.items():
            table.add_row(kind_name(kind, lang()), number(n, lang()))
        console.print(table)
        for warning in info.get("warnings", []):
            err_console.print(f"[yellow]{t('предупреждение', 'warning')}:[/] "
                              f"{render(warning, lang())}", highlight=False)
