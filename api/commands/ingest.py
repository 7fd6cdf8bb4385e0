"""``coopgraph ingest FILE_OR_DIR...``: load CSV/XLSX/JSON files into the configured store.

Exit codes: 0 — every row loaded; 1 — some rows were rejected (the report and
the rejected rows are in the rejects directory); 2 — the input is unusable (a
missing or unreadable file, an unknown format) and nothing was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.console import console, err_console, friendly_errors, print_json, store_from_settings
from ingest.pipeline import ingest_paths
from ingest.report import IngestReport


def _summary_table(report: IngestReport) -> Table:
    table = Table(title="Ingest summary")
    table.add_column("file")
    table.add_column("kind")
    for name in ("read", "loaded", "unchanged", "merged", "rejected", "rows/s"):
        table.add_column(name, justify="right")
    for f in report.files:
        table.add_row(f.file, f.kind, f"{f.read:,}", f"{f.loaded:,}", f"{f.unchanged:,}",
                      f"{f.merged:,}", f"{f.rejected:,}", f"{round(f.rows_per_s):,}")
    s = report.summary()
    table.add_row("[b]total", "", f"{s['read']:,}", f"{s['loaded']:,}", f"{s['unchanged']:,}",
                  f"{s['merged']:,}", f"{s['rejected']:,}", f"{s['rows_per_s']:,}")
    return table


def register(app: typer.Typer) -> None:
    """Attach ``ingest`` to ``app``."""

    @app.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(
            help="CSV, XLSX, JSON or JSONL files, or directories of them.")],
        rejects_dir: Annotated[Path, typer.Option(
            "--rejects-dir", help="Where to write report.json, report.md and rejected rows.")
        ] = Path("ingest-report"),
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Load files into the store: validate, de-duplicate companies, report every reject."""
        with store_from_settings(create=True, as_json=as_json) as store, friendly_errors():
            report = ingest_paths(store, paths, rejects_dir=rejects_dir, progress=not as_json)
        if as_json:
            print_json(report.to_json())
        else:
            console.print(_summary_table(report))
            s = report.summary()
            console.print(f"Загружено {s['loaded']:,}, без изменений {s['unchanged']:,} / "
                          f"loaded {s['loaded']:,}, unchanged {s['unchanged']:,}",
                          highlight=False)
            if report.merges:
                console.print(f"{len(report.merges)} compan(y/ies) merged into another; "
                              f"{len(report.review)} pair(s) left for review.")
            for warning in report.warnings:
                err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
        if not report.ok:
            err_console.print(
                f"[bold yellow]{report.rejected_rows:,} row(s) rejected[/] "
                f"({len(report.rejects):,} problem(s)); see {rejects_dir / 'report.md'} and "
                f"the *.rejects.csv files in {rejects_dir}", highlight=False)
            raise typer.Exit(1)
