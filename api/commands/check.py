"""``coopgraph check``: list the store's dangling references, and repair them on request.

Exit codes: 0 the store is consistent (or ``--repair`` made it so), 1 problems
found and not repaired, 2 unusable setup or arguments, 3 the store failed.
What a repair does to each kind of reference is in :mod:`graph.integrity`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, friendly_errors, print_json, store_from_settings
from coopgraph.graph.integrity import IntegrityReport, find_problems, repair

_SHOWN = 50  # problems listed in the table (all of them in --json)
_REPAIR_RU = {"delete": "удалить запись", "detach": "убрать ссылку"}


def _print(report: IntegrityReport) -> None:
    if report.ok:
        console.print(f"Ссылочная целостность в порядке (ревизия {report.revision}).\n"
                      f"No dangling references (revision {report.revision}).", highlight=False)
        return
    n = len(report.problems)
    console.print(f"Висячих ссылок: {n} — записи ссылаются на то, чего нет в хранилище.\n"
                  f"{n} dangling reference(s): records name what the store does not hold.",
                  highlight=False)
    counts = Table(title="by reference / по видам ссылок")
    counts.add_column("reference / ссылка")
    counts.add_column("records / записей", justify="right")
    for text, count in report.counts().items():
        counts.add_row(text, f"{count:,}")
    console.print(counts)
    table = Table(title=f"problems / проблемы (first {min(n, _SHOWN)} of {n})")
    for column in ("kind", "key", "field", "missing", "repair / исправление"):
        table.add_column(column)
    for problem in report.problems[:_SHOWN]:
        table.add_row(problem.kind.value, "|".join(problem.key), problem.reference.field,
                      ", ".join(problem.missing) or "(empty)",
                      f"{problem.action} / {_REPAIR_RU[problem.action]}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``check`` to ``app``."""

    @app.command()
    def check(
        fix: Annotated[bool, typer.Option(
            "--repair", help="Repair what is found: delete the records whose required "
            "reference dangles, clear optional references (Category.parent, "
            "Product.maker_id, list entries).")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """Check referential integrity: list dangling references (exit 1), or --repair them."""
        with store_from_settings(as_json=as_json) as store, friendly_errors():
            report = find_problems(store.snapshot())
            repaired = repair(store, report) if fix and not report.ok else None
            after = find_problems(store.snapshot()) if repaired is not None else None
        if as_json:
            out = report.as_dict()
            if repaired is not None and after is not None:
                out["repaired"] = repaired.as_dict()
                out["after"] = after.as_dict()
            print_json(out)
        else:
            _print(report)
            if repaired is not None and after is not None:
                gone = sum(len(v) for v in repaired.deleted.values())
                changed = sum(len(v) for v in repaired.detached.values())
                console.print(f"Исправлено: удалено записей {gone}, изменено {changed}.\n"
                              f"Repaired: {gone} record(s) deleted, {changed} changed.",
                              highlight=False)
                if not after.ok:
                    _print(after)
        remaining = after if after is not None else report
        raise typer.Exit(0 if remaining.ok else 1)
