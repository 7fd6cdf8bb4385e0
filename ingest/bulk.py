"""``coopgraph ingest --bulk``: a first load into an empty Neo4j database, offline.

The files go through the same pipeline as any load (reading, validation, entity
resolution, reference checks, rejects) into an in-memory store; its rows are then
written as the CSV files of Neo4j's bulk importer (:mod:`graph.neo4j_import`), and
``neo4j-admin database import full`` turns them into a new database. The server
must be stopped (the importer writes store files) and the database must not exist
yet: the importer makes new databases only. When the server next starts,
:class:`~graph.neo4j_store.Neo4jStore` creates the constraints and indexes, as it
does on any database.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import ConfigError
from coopgraph.graph.neo4j_import import (
    ImportFiles,
    admin_arguments,
    database_exists,
    write_import_files,
)
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.report import IngestReport

__all__ = ["BulkResult", "bulk_ingest", "refuse_existing"]


@dataclass
class BulkResult:
    """What a bulk ingest did: the pipeline's report, the files, the importer's run."""

    report: IngestReport
    files: ImportFiles
    command: list[str]
    ran: bool = False
    output: str = ""


def refuse_existing(home: Path, database: str) -> None:
    """Raise :class:`ConfigError` when ``home`` already holds ``database``."""
    if database_exists(home, database):
        raise ConfigError(
            f"Neo4j database {database!r} already exists in {home} — a bulk import writes a "
            "new database only (a first load); load into an existing database with "
            "`coopgraph ingest` without --bulk / база Neo4j "
            f"{database!r} уже есть в {home}: массовый импорт создаёт только новую базу; "
            "в существующую загружайте `coopgraph ingest` без --bulk")


def bulk_ingest(paths: Sequence[str | Path], directory: Path, *, database: str = "neo4j",
                admin: Sequence[str] | None = None, home: Path | None = None,
                rejects_dir: str | Path | None = None, progress: bool = False) -> BulkResult:
    """Validate ``paths``, write the importer's files into ``directory`` and, when
    ``admin`` (the ``neo4j-admin`` command, as argv) is given, run the import into
    ``home`` (``NEO4J_HOME``; the server stopped).

    Raises
    ------
    ConfigError
        ``database`` exists already in ``home``, or the importer failed (its output
        is in the message).
    """
    if home is not None:
        refuse_existing(home, database)
    staging = EmbeddedStore(None)
    report = ingest_paths(staging, paths, rejects_dir=rejects_dir, progress=progress)
    files = write_import_files(staging.export_rows, directory)
    staging.close()
    command = [*(admin or ["neo4j-admin"]), *admin_arguments(files, database)]
    result = BulkResult(report, files, command)
    if admin is None:
        return result
    env = dict(os.environ)
    if home is not None:
        env["NEO4J_HOME"] = str(home)
        env.setdefault("NEO4J_CONF", str(home / "conf"))
        (home / "conf").mkdir(parents=True, exist_ok=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    result.output = done.stdout + done.stderr
    # neo4j-admin exits 0 even when the import failed; its last lines say which
    if done.returncode != 0 or "IMPORT DONE" not in result.output:
        tail = "\n".join(result.output.strip().splitlines()[-12:])
        raise ConfigError(f"neo4j-admin import failed (exit {done.returncode}):\n{tail}")
    result.ran = True
    return result
