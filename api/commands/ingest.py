"""``coopgraph ingest FILE_OR_DIR...``: load CSV/XLSX/JSON files into the configured store.

``coopgraph ingest --sample`` loads the sample cluster shipped with the package (with
or without other files).
``coopgraph ingest --registry FILE… [--only-inn members.csv] [--region 48]`` fills
companies from FNS registry files (SME register, EGRUL/EGRIP XML or ZIP) by INN:
see :mod:`ingest.registry_fill`. Both may be given; the CSV files load first.

Exit codes: 0 — every row loaded; 1 — some rows were rejected (the report and
the rejected rows are in the rejects directory); 2 — the input is unusable (a
missing or unreadable file, an unknown format) and nothing was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import (
    console,
    err_console,
    fail,
    friendly_errors,
    lang,
    print_json,
    store_from_settings,
    t,
)
from coopgraph.graph.i18n import count, number
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.registry import RegistryProblem
from coopgraph.ingest.registry_fill import RegistryReport, fill_from_registry, read_inn_list
from coopgraph.ingest.report import IngestReport
from coopgraph.ingest.sample import sample_dir


def _summary_table(report: IngestReport) -> Table:
    from coopgraph.graph.messages import kind_name

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
        table.add_row(f.file, kind_name(f.kind, lang()), n(f.read), n(f.loaded),
                      n(f.unchanged), n(f.merged), n(f.rejected), n(round(f.rows_per_s)))
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
                             "companies).")] = False,
        registry: Annotated[list[Path] | None, typer.Option(
            "--registry", help="An FNS registry file (SME register, EGRUL/EGRIP XML, or a ZIP "
            "of them); repeat for several.")] = None,
        only_inn: Annotated[Path | None, typer.Option(
            "--only-inn", help="With --registry: load only the INNs listed in this CSV/XLSX "
            "(an inn/ИНН column, or one INN per line).")] = None,
        region: Annotated[list[str] | None, typer.Option(
            "--region", help="With --registry: load only companies of this region code (48).")
        ] = None,
        bulk: Annotated[Path | None, typer.Option(
            "--bulk", help="First load into an EMPTY Neo4j database, offline: write the bulk "
            "importer's CSV files into this directory and run `neo4j-admin database import "
            "full` (server stopped).")
        ] = None,
        neo4j_home: Annotated[Path | None, typer.Option(
            "--neo4j-home", envvar="NEO4J_HOME",
            help="With --bulk: the Neo4j home the database is imported into.")] = None,
        neo4j_admin: Annotated[str | None, typer.Option(
            "--neo4j-admin", envvar="NEO4J_ADMIN",
            help="With --bulk: the neo4j-admin command (default: neo4j-admin on PATH; "
                 "without one the files are written and the command printed).")] = None,
    ) -> None:
        """Load files into the store: validate, de-duplicate companies, report every reject."""
        if not paths and not sample and not registry:
            fail("name files or directories to load, --sample for the sample cluster, or "
                 "--registry FILE / укажите файлы или каталоги, --sample либо --registry ФАЙЛ")
        if (only_inn or region) and not registry:
            fail("--only-inn and --region go with --registry / "
                 "--only-inn и --region указываются вместе с --registry")
        if not paths and not sample:
            assert registry is not None
            alone = _fill_registry(registry, only_inn, region, rejects_dir, as_json)
            if as_json:
                print_json(alone.to_json())
            _show_registry(alone, rejects_dir, as_json)
            if not alone.ok:
                raise typer.Exit(1)
            return
        with friendly_errors():
            inputs = [*(paths or []), *([sample_dir()] if sample else [])]
        if bulk is not None:
            if registry:
                fail("--bulk does not take --registry / --bulk не сочетается с --registry")
            _bulk(inputs, bulk, neo4j_home, neo4j_admin, rejects_dir, as_json)
            return
        with store_from_settings(create=True, as_json=as_json) as store, friendly_errors():
            report = ingest_paths(store, inputs, rejects_dir=rejects_dir, progress=not as_json,
                                  lang=lang())
        # files and registry together: ONE JSON object, the registry's report under "registry"
        filled: RegistryReport | None = (
            _fill_registry(registry, only_inn, region, rejects_dir, as_json)
            if registry and as_json else None)
        if as_json:
            data = report.to_json()
            if filled is not None:
                data = {**data, "registry": filled.to_json()}
            print_json(data)
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
        if registry and filled is None:
            filled = _fill_registry(registry, only_inn, region, rejects_dir, as_json)
        if filled is not None:
            _show_registry(filled, rejects_dir, as_json)
        if not report.ok or (filled is not None and not filled.ok):
            raise typer.Exit(1)


def _bulk(inputs: list[Path], directory: Path, home: Path | None, admin: str | None,
          rejects_dir: Path, as_json: bool) -> None:
    """``--bulk``: validate, write the importer's files, run neo4j-admin (if there is one)."""
    import shlex
    import shutil

    from coopgraph.graph.errors import ConfigError
    from coopgraph.graph.settings import Settings
    from coopgraph.ingest.bulk import bulk_ingest, refuse_existing

    database = Settings().neo4j_database
    command = shlex.split(admin) if admin else (
        ["neo4j-admin"] if shutil.which("neo4j-admin") else None)
    if command is not None and home is None:
        fail("--bulk runs neo4j-admin into a Neo4j home: give --neo4j-home (or NEO4J_HOME) / "
             "укажите --neo4j-home (или NEO4J_HOME)")
    try:
        if home is not None:
            refuse_existing(home, database)
        with friendly_errors():
            result = bulk_ingest(inputs, directory, database=database, admin=command,
                                 home=home if command else None, rejects_dir=rejects_dir,
                                 progress=not as_json)
    except ConfigError as exc:
        fail(str(exc), 2)
    files = result.files
    summary = {"bulk": {"directory": str(files.directory), "nodes": files.node_count,
                        "relationships": files.relationship_count, "imported": result.ran,
                        "database": database, "command": shlex.join(result.command)},
               **result.report.to_json()}
    if as_json:
        print_json(summary)
    else:
        console.print(_summary_table(result.report))
        if result.ran:
            console.print(t(
                f"Импортировано в базу {database!r}: узлов {number(files.node_count, 'ru')}, "
                f"связей {number(files.relationship_count, 'ru')}. Запустите Neo4j: "
                "ограничения и индексы создаются при первом подключении.",
                f"Imported into database {database!r}: {number(files.node_count, 'en')} nodes, "
                f"{number(files.relationship_count, 'en')} relationships. Start Neo4j: the "
                "constraints and indexes are created at the first connection."), highlight=False)
        else:
            console.print(t(
                f"Файлы импорта записаны в {files.directory}; остановите Neo4j и выполните:",
                f"Import files written to {files.directory}; stop Neo4j and run:"),
                highlight=False)
            console.print(shlex.join(result.command), highlight=False, soft_wrap=True)
    if not result.report.ok:
        raise typer.Exit(1)


def _fill_registry(files: list[Path], only_inn: Path | None, region: list[str] | None,
                   rejects_dir: Path, as_json: bool) -> RegistryReport:
    """Fill companies from registry files; the report is also written to the rejects dir."""
    with store_from_settings(create=True, as_json=as_json) as store, friendly_errors():
        listed = None
        listed_problems: list[RegistryProblem] = []
        if only_inn is not None:
            listed, listed_problems = read_inn_list(only_inn)
        report = fill_from_registry(store, files, only_inn=listed, regions=region)
    report.problems[:0] = listed_problems
    rejects_dir.mkdir(parents=True, exist_ok=True)
    (rejects_dir / "registry-report.json").write_text(
        json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _show_registry(report: RegistryReport, rejects_dir: Path, as_json: bool) -> None:
    """The registry report for people (JSON is printed by the caller), and what was rejected."""
    if not as_json:
        console.print(_registry_table(report))
        for problem in report.problems:
            label = t("отклонено", "rejected") if problem.rejected else t("замечание", "note")
            err_console.print(f"[yellow]{label}:[/] {problem.text(lang())}", highlight=False)
        for conflict in report.conflicts:
            ru, en = conflict.text()
            err_console.print(f"[cyan]{t('расхождение', 'conflict')}:[/] {t(ru, en)}",
                              highlight=False)
        for inn in report.not_found:
            err_console.print(f"[yellow]{t('не найден', 'not found')}:[/] "
                              f"{t('ИНН', 'INN')} {inn}", highlight=False)
    if not report.ok:
        rejected = count(report.rejected, lang(), ("запись отклонена", "записи отклонены",
                                                   "записей отклонено"),
                         ("record rejected", "records rejected"))
        missing = count(len(report.not_found), lang(), ("ИНН не найден", "ИНН не найдены",
                                                         "ИНН не найдены"),
                        ("INN not found", "INNs not found"))
        err_console.print(f"[bold yellow]{rejected}, {missing}[/]; "
                          + t("см. ", "see ") + str(rejects_dir / "registry-report.json"),
                          highlight=False)


def _registry_table(report: RegistryReport) -> Table:
    table = Table(title=t("Загрузка из реестра", "Registry fill"))
    names = (t("файлы", "files"), t("прочитано", "read"), t("отобрано", "selected"),
             t("создано", "created"), t("обновлено", "updated"), t("отклонено", "rejected"),
             t("расхождений", "conflicts"))
    for i, name in enumerate(names):
        table.add_column(name, justify="right" if i else "left")

    def n(x: float) -> str:
        return number(x, lang())

    table.add_row(", ".join(report.files), n(report.read), n(report.selected),
                  n(report.created), n(report.updated), n(report.rejected),
                  n(len(report.conflicts)))
    return table
