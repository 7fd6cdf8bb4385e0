"""``coopgraph ingest --bulk``: Neo4j's offline importer gives the graph a transactional load
gives (issue 15, part 3), and it never touches a database that exists already."""

from __future__ import annotations

import csv
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.errors import ConfigError
from coopgraph.graph.neo4j_store import Neo4jStore
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.bulk import bulk_ingest
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.sample import SAMPLE_DIR

pytestmark = pytest.mark.neo4j

# Text the importer's CSV reader must keep as it is: quotes, commas, the array
# delimiter's neighbours, a backslash before a quote.
AWKWARD_NAME = 'ООО "Кавычки, запятые; и \\" обратная черта"'


def _inputs(tmp_path: Path) -> list[Path]:
    extra = tmp_path / "extra"
    extra.mkdir()
    with (SAMPLE_DIR / "companies.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    row = dict.fromkeys(header, "")
    row.update(id="x-awkward", name=AWKWARD_NAME, region="Липецкая область", roles="supplier")
    with (extra / "companies.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerow(row)
    return [SAMPLE_DIR, extra / "companies.csv"]


def _shape(store: Neo4jStore) -> dict[str, Any]:
    """What a snapshot does not show: relationship types, labels, constraints, indexes."""
    def rows(query: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(r.values()) for r in store._query(query))

    return {
        "rels": rows("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS n"),
        "labels": rows("MATCH (n) WHERE NOT n:CoopGraphMeta AND NOT n:CoopGraphChange "
                       "RETURN labels(n) AS l, count(*) AS n"),
        "constraints": rows("SHOW CONSTRAINTS YIELD name, type RETURN name, type"),
        "indexes": rows("SHOW INDEXES YIELD name, state RETURN name, state"),
        "marks": rows("MATCH (n) WHERE n._empty IS NOT NULL RETURN count(n) AS n "
                      "UNION ALL MATCH ()-[r]->() WHERE r._empty IS NOT NULL "
                      "RETURN count(r) AS n"),
    }


def test_bulk_import_gives_the_transactional_load(tmp_path: Path, neo4j_store: GraphStore
                                                   ) -> None:
    from tests.neo4j_server import neo4j_admin_command, start_neo4j

    inputs = _inputs(tmp_path)
    home = tmp_path / "home"
    result = bulk_ingest(inputs, tmp_path / "import", admin=neo4j_admin_command(), home=home)
    assert result.ran and result.report.ok
    assert result.files.node_count > 0 and result.files.relationship_count > 0

    assert ingest_paths(neo4j_store, inputs).ok  # the transactional load, same rows
    assert isinstance(neo4j_store, Neo4jStore)
    neo4j_store.snapshot()  # waits for the indexes of the session's store to be online
    expected = neo4j_store.snapshot()

    server = start_neo4j(home=home)
    try:
        bulk_store = Neo4jStore(server.uri, user=server.user, password=server.password)
        try:
            assert bulk_store.snapshot() == expected
            assert bulk_store.get("company", "x-awkward").name == AWKWARD_NAME
            assert bulk_store.stats() == neo4j_store.stats()
            bulk_store._query("CALL db.awaitIndexes(300)")
            neo4j_store._query("CALL db.awaitIndexes(300)")
            shape = _shape(bulk_store)
            assert shape == _shape(neo4j_store)
            assert shape["marks"] == [(0,), (0,)]
            # provenance came along, and the store writes on as usual
            capability = bulk_store.list("capability", limit=1).items[0]
            assert capability.source == "capabilities.csv" and capability.ingested_at
            revision = bulk_store.revision()
            assert revision >= 1
            bulk_store.upsert([capability.model_copy(update={"capacity_per_year": 1.0})])
            assert bulk_store.revision() > revision
        finally:
            bulk_store.close()
    finally:
        server.stop()

    # the database exists now: a second bulk import refuses it and leaves it alone
    before = sorted(p.name for p in (home / "data" / "databases" / "neo4j").iterdir())
    with pytest.raises(ConfigError, match="already exists"):
        bulk_ingest([SAMPLE_DIR], tmp_path / "again", admin=neo4j_admin_command(), home=home)
    assert not (tmp_path / "again").exists()
    admin = shlex.join(neo4j_admin_command())
    done = CliRunner().invoke(app, ["ingest", "--sample", "--bulk", str(tmp_path / "again"),
                                    "--neo4j-home", str(home), "--neo4j-admin", admin])
    assert done.exit_code == 2, done.output
    assert "already exists" in done.output and "--bulk" in done.output
    assert sorted(p.name for p in (home / "data" / "databases" / "neo4j").iterdir()) == before


def test_bulk_without_neo4j_admin_writes_the_files_and_the_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_ADMIN", raising=False)
    monkeypatch.delenv("NEO4J_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no neo4j-admin to find
    assert shutil.which("neo4j-admin") is None
    done = CliRunner().invoke(app, ["ingest", "--sample", "--bulk", str(tmp_path / "files")])
    assert done.exit_code == 0, done.output
    assert "database import full neo4j" in done.output
    written = sorted(p.name for p in (tmp_path / "files").glob("*.csv"))
    assert "nodes_company.csv" in written and "meta.csv" in written
    assert any(name.startswith("rels_capability_") for name in written)
