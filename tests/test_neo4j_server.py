"""The Neo4j launcher starts a real Neo4j 5.26 Community that the official driver can use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from tests.neo4j_server import Neo4jServer, Neo4jUnavailable, start_neo4j


def _start(import_dir: Path) -> Neo4jServer:
    try:
        return start_neo4j(import_dir=import_dir)
    except Neo4jUnavailable as exc:
        if os.environ.get("COOPGRAPH_REQUIRE_NEO4J") == "1":
            pytest.fail(f"Neo4j is required (COOPGRAPH_REQUIRE_NEO4J=1) but unavailable: {exc}",
                        pytrace=False)
        pytest.skip(f"Neo4j unavailable: {exc}")


@pytest.mark.neo4j
def test_start_neo4j_serves_bolt_and_load_csv(tmp_path: Path) -> None:
    import_dir = tmp_path / "import"
    server = _start(import_dir)
    try:
        assert server.uri.startswith("bolt://127.0.0.1:")
        assert server.import_dir == import_dir.resolve()
        assert server.startup_seconds > 0
        (import_dir / "x.csv").write_text("id,name\n1,Alpha\n2,Beta\n3,Gamma\n")
        with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
            driver.execute_query("CREATE (:Probe {name: $name, n: $n})",
                                 name="Завод №1", n=42, database_="neo4j")
            records, _, _ = driver.execute_query(
                "MATCH (p:Probe {name: $name}) RETURN p.name AS name, p.n AS n",
                name="Завод №1", database_="neo4j")
            assert [(r["name"], r["n"]) for r in records] == [("Завод №1", 42)]

            records, _, _ = driver.execute_query("CALL dbms.components()", database_="neo4j")
            versions = [v for r in records for v in r["versions"]]
            assert any(v.startswith("5.26.") for v in versions), versions
            assert records[0]["edition"] == "community"

            records, _, _ = driver.execute_query(
                "LOAD CSV WITH HEADERS FROM 'file:///x.csv' AS row "
                "RETURN count(*) AS n, collect(row.name) AS names", database_="neo4j")
            assert records[0]["n"] == 3
            assert records[0]["names"] == ["Alpha", "Beta", "Gamma"]
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert not server.temp_dir.exists()
    assert import_dir.exists()  # the caller's import dir is the caller's to remove
