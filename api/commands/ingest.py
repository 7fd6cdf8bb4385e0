"""``coopgraph ingest FILE_OR_DIR...``: load CSV/XLSX/JSON files into the configured store.

``coopgraph ingest --sample`` loads the sample cluster shipped with the package (with
or without other files).

Exit codes: 0 — every row loaded; 1 — some rows were rejected (the report and
the rejected rows are in the rejects directory); 2 — the input is unusable (a
missing or unreadable file, an unknown format) and nothing was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.console import (
    console,
    err_console,
    fail,
    friendly_errors,
    lang,
    print_json,
    store_from_settings,
    t,
)
from graph.i18n import count, number
from ingest.pipeline import ingest_paths
from ingest.report import IngestReport
from ingest.sample import sample_dir


def _summary_table(report: IngestReport) -> Table:
    table = Table(title=t("Итоги загрузки", "Ingest summary"))
    table.add_column(t("файл", "file"))
    table.add_column(t("вид", "kind"))
    for name in (t("прочитано", "read"), t("загружено", "loaded"),
                 t("без изменений", "unchanged"), t("слито", "merged"),
                 t("отклонено", "rejected"), t("строк/с", "rows/s")):
        table.add_column(name, justify="right")

    def n(x: float) -> str:
        return number(x, lang())

    for f in report.files:
        table.add_row(f.file, f.kind, n(f.read), n(f.loaded), n(f.unchanged), n(f.merged),
                      n(f.rejected), n(round(f.rows_per_s)))
    s = report.summary()
    table.add_row(t("[b]всего", "[b]total"), "", n(s["read"]), n(s["loaded"]),
                  n(s["unchanged"]), n(s["merged"]), n(s["rejected"]), n(s["rows_per_s"]))
    return table


def register(app: typer.Typer) -> None:
    """Attach ``ingest`` to ``app``."""

    @app.command()
    def ingest(
        paths: Annotated[list[Path] | None, typer.Argument(
            help="CSV, XLSX, JSON or JSONL files, or directories of them.")] = None,
        rejects_dir: Annotated[Path, typer.Option(
            "--rejects-dir", help="Where to write report.json, report.md and rejected rows.")
        ] = Path("ingest-report"),
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
        sample: Annotated[bool, typer.Option(
            "--sample", help="Load the sample cluster shipped with CoopGraph (fictional "
                             "companies). / Загрузить пример кластера.")] = False,
    ) -> None:
        """Load files into the store: validate, de-duplicate companies, report every reject."""
        if not paths and not sample:
            fail("name files or directories to load, or --sample for the sample cluster / "
                 "укажите файлы или каталоги, либо --sample")
        with friendly_errors():
            inputs = [*(paths or []), *([sample_dir()] if sample else [])]
        with store_from_settings(create=True, as_json=as_json) as store, friendly_errors():
            report = ingest_paths(store, inputs, rejects_dir=rejects_dir, progress=not as_json)
        if as_json:
            print_json(report.to_json())
        else:
            console.print(_summary_table(report))
            s = report.summary()
            console.print(t(f"Загружено {number(s['loaded'], 'ru')}, "
                            f"без изменений {number(s['unchanged'], 'ru')}",
                            f"Loaded {number(s['loaded'], 'en')}, "
                            f"unchanged {number(s['unchanged'], 'en')}"), highlight=False)
            if report.merges:
                console.print(t(
                    count(len(report.merges), "ru", ("компания слита", "компании слиты",
                                                     "компаний слиты"), ("", ""))
                    + " с другими; " + count(len(report.review), "ru", (
                        "пара оставлена", "пары оставлены", "пар оставлено"), ("", ""))
                    + " на проверку.",
                    count(len(report.merges), "en", ("", "", ""), ("company", "companies"))
                    + " merged into another; " + count(len(report.review), "en", ("", "", ""), (
                        "pair", "pairs")) + " left for review."), highlight=False)
            for warning in report.warnings:
                err_console.print(f"[yellow]{t('предупреждение', 'warning')}:[/] {warning}",
                                  highlight=False)
        if not report.ok:
            rows = count(report.rejected_rows, lang(), ("строка отклонена", "строки отклонены",
                                                        "строк отклонено"),
                         ("row rejected", "rows rejected"))
            problems = count(len(report.rejects), lang(), ("замечание", "замечания",
                                                           "замечаний"),
                             ("problem", "problems"))
            err_console.print(
                f"[bold yellow]{rows}[/] ({problems}); "
                + t(f"см. {rejects_dir / 'report.md'} и файлы *.rejects.csv в {rejects_dir}",
                    f"see {rejects_dir / 'report.md'} and the *.rejects.csv files in "
                    f"{rejects_dir}"), highlight=False)
            raise typer.Exit(1)
