"""What only the Neo4j store does: batching, schema, materialised references, errors, run_read."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from neo4j import exceptions as nx

from coopgraph.graph.errors import (
    ConfigError,
    InvalidQuery,
    MissingReference,
    StoreError,
    StoreUnavailable,
)
from coopgraph.graph.models import BomLine, Category, Company, Process, Product, ServerKey
from coopgraph.graph.neo4j_store import Neo4jStore, plan_write, rel_key
from coopgraph.graph.schema import KINDS, EntityKind
from coopgraph.graph.store import GraphStore
from tests.graph_factories import full_graph, random_graph

# --- pure parts -------------------------------------------------------------------


def _groups(records):
    return GraphStore._group(records)


@pytest.mark.parametrize("batch_size", [1, 7, 50, 10_000])
def test_plan_write_packs_batches_in_dependency_order(batch_size: int):
    groups = _groups(random_graph(3))
    units = plan_write(groups, batch_size)
    rows_per_unit = [sum(len(s.params.get("rows", [])) for s in unit) for unit in units]
    assert all(0 < n <= batch_size for n in rows_per_unit[:-1])
    upserted = sum(len(s.params.get("rows", [])) for unit in units for s in unit)
    assert upserted == sum(len(rows) for rows in groups.values())
    # node upserts (each followed by its reference statements) precede relationship upserts
    phase = [2 if step.expect is not None else 0 for unit in units for step in unit]
    assert phase == sorted(phase)
    for unit in units:
        for i, step in enumerate(unit):
            if "keys" in step.params:  # a reference statement follows its nodes' upsert
                upsert = next(s for s in reversed(unit[:i]) if "rows" in s.params)
                assert step.params["keys"] == [r["key"] for r in upsert.params["rows"]]
    if batch_size == 10_000:
        assert len(units) == 1


def test_rel_key_escapes_the_separator():
    assert rel_key(["a|b", "c"]) != rel_key(["a", "b|c"])
    assert rel_key(["a\\", "|b"]) != rel_key(["a\\|", "b"])
    assert rel_key(["x", "y"]) == "x|y"


def test_unreachable_server_is_store_unavailable_without_a_driver_traceback():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailable) as info:
        Neo4jStore(f"bolt://127.0.0.1:{port}", user="neo4j", password="x", connection_timeout=3)
    assert f"127.0.0.1:{port}" in str(info.value) and "unreachable" in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("raised, expected, words", [
    (nx.AuthError("The client is unauthorized due to authentication failure."),
     StoreUnavailable, "refused the credentials of user 'neo4j'"),
    (nx.ServiceUnavailable("Couldn't connect to h:1 (resolved to ()):\nFailed to establish "
                           "connection to h:1 (reason [Errno 111] Connection refused)"),
     StoreUnavailable, "is unreachable ([Errno 111] Connection refused)"),
    (nx.SessionExpired("gone"), StoreUnavailable, "unreachable (gone)"),
    (nx.Neo4jError("boom"), StoreError, "(database 'neo4j') failed: "),
])
def test_driver_errors_become_one_line_coopgraph_errors(raised, expected, words):
    store = Neo4jStore.__new__(Neo4jStore)  # no connection needed to translate errors
    store.uri, store.user, store.database = "bolt://h:1", "neo4j", "neo4j"
    with pytest.raises(expected) as info, store._translating():
        raise raised
    assert words in str(info.value)
    assert "\n" not in str(info.value) and info.value.__cause__ is None


@pytest.mark.parametrize("uri", ["http://127.0.0.1:7474", "bolt://127.0.0.1:port", "localhost"])
def test_unusable_uri_is_a_config_error(uri: str):
    with pytest.raises(ConfigError, match="URI"):
        Neo4jStore(uri, user="neo4j", password="x")


# --- against the server -----------------------------------------------------------

@pytest.mark.neo4j
def test_bad_credentials_are_store_unavailable(neo4j_server):
    try:
        store = Neo4jStore(neo4j_server.uri, user=neo4j_server.user,
                           password=neo4j_server.password + "-wrong")
    except StoreUnavailable as exc:
        assert "credentials" in str(exc)
        return
    store.close()
    pytest.skip("this Neo4j does not check passwords (auth disabled)")


@pytest.mark.neo4j
def test_unknown_database_is_store_unavailable(neo4j_server):
    with pytest.raises(StoreUnavailable, match="nosuchdb"):
        Neo4jStore(neo4j_server.uri, user=neo4j_server.user, password=neo4j_server.password,
                   database="nosuchdb")


@pytest.mark.neo4j
def test_constraints_exist_and_start_up_is_idempotent(neo4j_store: Neo4jStore, neo4j_server):
    again = Neo4jStore(neo4j_server.uri, user=neo4j_server.user, password=neo4j_server.password)
    again.close()
    rows = neo4j_store.run_read(
        "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties "
        "WHERE name STARTS WITH 'coopgraph_' RETURN name, type, labelsOrTypes, properties")
    by_name = {r["name"]: r for r in rows}
    version = neo4j_store.run_read("CALL dbms.components() YIELD versions "
                                   "RETURN versions[0] AS v")[0]["v"]
    if version.startswith("5.26"):  # relationship uniqueness constraints: Community ≥ 5.7
        assert neo4j_store.rel_key_constraint == "unique"
    for kind, kind_spec in KINDS.items():
        row = by_name.get(f"coopgraph_{kind.value}_key")
        if kind_spec.is_node:
            assert row and row["type"] == "UNIQUENESS"
            assert row["labelsOrTypes"] == [kind_spec.label]
            assert row["properties"] == [kind_spec.key_fields[0]]
        elif neo4j_store.rel_key_constraint == "unique":
            assert row and row["type"] == "RELATIONSHIP_UNIQUENESS"
            assert row["labelsOrTypes"] == [kind_spec.rel_type]


@pytest.mark.neo4j
def test_small_batches_commit_one_revision_each(neo4j_server, neo4j_store: Neo4jStore):
    small = Neo4jStore(neo4j_server.uri, user=neo4j_server.user, password=neo4j_server.password,
                       batch_size=3)
    try:
        before = small.revision()
        small.upsert([Company(id=f"c{i:02d}", name=f"C{i}") for i in range(10)])
        assert small.revision() - before == 4  # ceil(10 / 3) transactions
        assert small.stats()["company"] == 10
        assert small.delete("company", [f"c{i:02d}" for i in range(7)]) == 7
        assert small.revision() - before == 4 + 1  # a delete is one transaction, cascade and all
        # one row per transaction, referring nodes before the nodes they refer to:
        # the reference relationships are drawn all the same
        one = Neo4jStore(neo4j_server.uri, user=neo4j_server.user,
                         password=neo4j_server.password, batch_size=1)
        one.upsert([Product(id="p", name="P", maker_id="m"),
                    Category(code="child", name_ru="Ребёнок", parent="root", processes=["x"]),
                    Company(id="m", name="M"), Category(code="root", name_ru="Корень"),
                    Process(code="x", name_ru="X")])
        rows = one.run_read("MATCH (a)-[r:MAKES|CHILD_OF|NEEDS_PROCESS]->(b) "
                            "RETURN type(r) AS t, coalesce(a.id, a.code) AS a, "
                            "coalesce(b.id, b.code) AS b ORDER BY t")
        one.close()
        assert rows == [{"t": "CHILD_OF", "a": "child", "b": "root"},
                        {"t": "MAKES", "a": "m", "b": "p"},
                        {"t": "NEEDS_PROCESS", "a": "child", "b": "x"}]
    finally:
        small.close()


@pytest.mark.neo4j
def test_references_are_materialised_as_relationships(neo4j_store: Neo4jStore):
    store = neo4j_store
    store.upsert(full_graph())

    def edges(rel: str) -> list[tuple[str, str]]:
        rows = store.run_read(
            "MATCH (a)-[r]->(b) WHERE type(r) = $rel "
            "RETURN coalesce(a.id, a.code) AS a, coalesce(b.id, b.code) AS b ORDER BY a, b",
            {"rel": rel})
        return [(r["a"], r["b"]) for r in rows]

    assert edges("CHILD_OF") == [("castings", "parts"), ("gearbox", "parts")]
    assert edges("NEEDS_PROCESS") == [("castings", "casting"), ("castings", "machining"),
                                      ("gearbox", "machining")]
    assert edges("MAKES") == [("oem-1", "combine-1")]
    # a BOM line with a category parent starts at the Category node
    rows = store.run_read("MATCH (a:Category)-[r:REQUIRES]->(b:Category) "
                          "RETURN a.code AS a, b.code AS b, r.qty AS qty")
    assert rows == [{"a": "gearbox", "b": "castings", "qty": 3.5}]
    # changing a reference moves the relationship
    store.upsert([Category(code="gearbox", name_ru="Редуктор", parent="castings",
                           processes=["casting"]),
                  Product(id="combine-1", name="К-1", maker_id="sup-1")])
    assert edges("CHILD_OF") == [("castings", "parts"), ("gearbox", "castings")]
    assert ("gearbox", "casting") in edges("NEEDS_PROCESS")
    assert ("gearbox", "machining") not in edges("NEEDS_PROCESS")
    assert edges("MAKES") == [("sup-1", "combine-1")]
    # a referenced node deleted and stored again gets its incoming references back
    # (deleted around the store, as in Neo4j Browser: the store's own delete refuses
    # while categories name it, or detaches them with cascade)
    for query in ("MATCH (c:Category {code: 'parts'}) DETACH DELETE c",
                  "MATCH (p:Process {code: 'casting'}) DETACH DELETE p"):
        store._driver.execute_query(query, database_=store.database)
    assert ("castings", "parts") not in edges("CHILD_OF")
    store.upsert([Category(code="parts", name_ru="Детали"), Process(code="casting", name_ru="Л")])
    assert ("castings", "parts") in edges("CHILD_OF")
    assert ("gearbox", "casting") in edges("NEEDS_PROCESS")
    # these relationships are not records: counts and snapshots ignore them
    assert store.stats()["bom_line"] == 2


@pytest.mark.neo4j
def test_a_relationship_whose_end_vanished_rolls_back_its_batch(neo4j_store: Neo4jStore):
    neo4j_store.upsert([Company(id="a", name="A"), Category(code="k", name_ru="K")])
    revision = neo4j_store.revision()
    groups = _groups([Company(id="b", name="B"),
                      BomLine(parent="nope", child="k"), BomLine(parent="k2", child="k",
                                                                  parent_kind="category")])
    with pytest.raises(MissingReference):
        neo4j_store._write(groups)  # skips the reference check, as a race would
    assert neo4j_store.revision() == revision
    assert not neo4j_store.exists(EntityKind.COMPANY, "b")


@pytest.mark.neo4j
def test_run_read_takes_parameters_and_refuses_writes(neo4j_store: Neo4jStore):
    neo4j_store.upsert(full_graph())
    rows = neo4j_store.run_read("MATCH (c:Company) WHERE $role IN c.roles RETURN c.id AS id "
                                "ORDER BY id", {"role": "oem"})
    assert rows == [{"id": "oem-1"}, {"id": "sup-1"}]
    revision = neo4j_store.revision()
    with pytest.raises(InvalidQuery):
        neo4j_store.run_read("CREATE (x:Intruder) RETURN x")
    with pytest.raises(InvalidQuery):
        neo4j_store.run_read("MATCH (c:Company) DETACH DELETE c")
    with pytest.raises(InvalidQuery):
        neo4j_store.run_read("CREATE INDEX intruder IF NOT EXISTS FOR (x:Intruder) ON (x.id)")
    with pytest.raises(InvalidQuery):
        neo4j_store.run_read("MATC (n) RETURN n")
    assert neo4j_store.run_read("SHOW INDEXES YIELD name WHERE name = 'intruder' "
                                "RETURN count(*) AS n") == [{"n": 0}]
    assert neo4j_store.run_read("CALL db.labels() YIELD label RETURN count(*) > 0 AS some") == [
        {"some": True}]
    assert neo4j_store.revision() == revision
    assert neo4j_store.stats()["company"] == 3
    assert neo4j_store.run_read("MATCH (x:Intruder) RETURN count(x) AS n") == [{"n": 0}]


@pytest.mark.neo4j
def test_clear_keeps_the_revision_moving_and_removes_foreign_nodes(neo4j_store: Neo4jStore):
    neo4j_store.upsert(full_graph())
    revision = neo4j_store.revision()
    neo4j_store.clear()
    assert neo4j_store.revision() > revision
    assert neo4j_store.count_all_nodes() == 0


@pytest.mark.neo4j
def test_an_old_database_keeps_its_analytic_revision_on_a_server_state_write(
        neo4j_store: Neo4jStore):
    """A database from before the analytic revision (no ``analytic`` on its revision
    node) counted every write as analytic; its first write of a kind no analytic reads
    (an API key) leaves the analytic revision at the revision before it, not at 0."""
    neo4j_store.upsert([Company(id="old-1", name="Старая")])
    neo4j_store._driver.execute_query("MATCH (m:CoopGraphMeta {id: 'revision'}) "
                                      "REMOVE m.analytic", database_=neo4j_store.database)
    revision = neo4j_store.revision()
    assert neo4j_store.analytic_revision() == revision
    neo4j_store.upsert([ServerKey(id="k-1", role="analyst", hash="cd" * 32,
                                  created_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC))])
    assert (neo4j_store.revision(), neo4j_store.analytic_revision()) == (revision + 1, revision)
    neo4j_store.upsert([Company(id="old-2", name="Новая")])
    assert neo4j_store.analytic_revision() == neo4j_store.revision() == revision + 2


@pytest.mark.neo4j
def test_describe_and_ping(neo4j_store: Neo4jStore, neo4j_server):
    neo4j_store.ping()
    assert neo4j_store.describe() == {"store": "neo4j", "uri": neo4j_server.uri,
                                      "database": "neo4j"}
