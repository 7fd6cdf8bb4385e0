"""Dangling references written around the stores' checks: found (``graph.integrity``),
survived by the projection, repaired — on a store made inconsistent on purpose, both kinds."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.integrity import consistent_tables, find_problems, repair
from coopgraph.graph.models import BomLine, Capability, Category, Membership, Need, Product, Supply
from coopgraph.graph.store import GraphStore, Snapshot
from coopgraph.queries.projection import Projection
from tests.graph_factories import full_graph

# Records that name what does not exist, one per kind of reference, and what each is
# reported as: (kind, key, field, missing, repair)
DANGLING = [
    Supply(supplier_id="sup-1", buyer_id="oem-1", category="elx.seed_sensor"),
    Capability(company_id="ghost", category="castings"),
    Category(code="orphan", name_ru="Сирота", parent="ghost-cat", processes=["casting", "gone"]),
    Product(id="p-ghost", name="Изделие", maker_id="ghost-maker"),
    Need(company_id="oem-1", category="gearbox", required_certs=["iso9001", "ghost-cert"]),
    Membership(company_id="uni-1", cluster_id="ghost-cluster"),
    BomLine(parent="no-product", child="castings"),
]
EXPECTED = {
    ("supply", "sup-1|oem-1|elx.seed_sensor", "category", "elx.seed_sensor", "delete"),
    ("capability", "ghost|castings", "company_id", "ghost", "delete"),
    ("category", "orphan", "parent", "ghost-cat", "detach"),
    ("category", "orphan", "processes", "gone", "detach"),
    ("product", "p-ghost", "maker_id", "ghost-maker", "detach"),
    ("need", "oem-1|gearbox", "required_certs", "ghost-cert", "detach"),
    ("membership", "uni-1|ghost-cluster", "cluster_id", "ghost-cluster", "delete"),
    ("bom_line", "product|no-product|castings", "parent", "no-product", "delete"),
}


def _found(problems: list[Any]) -> set[tuple[str, str, str, str, str]]:
    return {(p.kind.value, "|".join(p.key), p.reference.field, "|".join(p.missing), p.action)
            for p in problems}


def _bad_store(store: GraphStore) -> None:
    store.upsert(full_graph())
    store.upsert(DANGLING, check_references=False)


def _assert_repaired(store: GraphStore) -> None:
    assert find_problems(store.snapshot()).ok
    assert not store.exists("supply", ("sup-1", "oem-1", "elx.seed_sensor"))
    assert not store.exists("capability", ("ghost", "castings"))
    orphan = store.get("category", "orphan")
    assert orphan.parent is None and orphan.processes == ["casting"]
    assert store.get("product", "p-ghost").maker_id is None
    assert store.get("need", ("oem-1", "gearbox")).required_certs == ["iso9001"]
    assert not store.exists("membership", ("uni-1", "ghost-cluster"))
    assert store.stats()["bom_line"] == 2
    # the good records are untouched
    assert store.exists("supply", ("sup-1", "oem-1", "castings"))


def test_consistent_snapshot_has_no_problems(sample_snapshot: Snapshot):
    report = find_problems(sample_snapshot)
    assert report.ok and report.counts() == {}
    tables, problems = consistent_tables(sample_snapshot)
    assert problems == []
    assert all(tables[k] is sample_snapshot.rows(k) for k in tables)  # nothing copied


def test_every_kind_of_dangling_reference_is_found():
    store = EmbeddedStore(None)
    _bad_store(store)
    report = find_problems(store.snapshot())
    assert _found(report.problems) == EXPECTED
    assert report.counts()["supply.category → category"] == 1
    assert not report.ok
    assert report.as_dict()["problems"][0].keys() == {
        "kind", "key", "field", "target", "missing", "repair"}


def test_projection_survives_dangling_rows_and_counts_them(caplog):
    store = EmbeddedStore(None)
    _bad_store(store)
    with caplog.at_level(logging.WARNING, logger="coopgraph.projection"):
        projection = Projection.from_snapshot(store.snapshot())
    assert projection.skipped["supply.category → category"] == 1
    assert sum(projection.skipped.values()) == len(EXPECTED)
    assert "supply.category → category" in caplog.text
    # what it holds is the repaired store's projection
    repair(store)
    clean = Projection.from_snapshot(store.snapshot())
    assert clean.skipped == {}
    for name in ("sup_supplier", "sup_category", "cap_company", "need_company",
                 "product_maker", "category_parent"):
        assert np.array_equal(getattr(projection, name), getattr(clean, name)), name
    assert projection.need_certs == clean.need_certs
    assert projection.product_bom == clean.product_bom
    assert projection.company_clusters == clean.company_clusters


def test_the_issue_17_scenario_a_supply_naming_a_deleted_category():
    # supplies name elx.seed_sensor, which is gone: every analytic read used to fail
    store = EmbeddedStore(None)
    _bad_store(store)
    projection = Projection.from_snapshot(store.snapshot())
    assert "elx.seed_sensor" not in projection.category_index
    assert len(projection.sup_category) == 1  # the good supply only
    assert projection.supply_matrix.sum() == 1


def test_repair_on_the_embedded_store_survives_a_reopen(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    _bad_store(store)
    result = repair(store)
    assert set(result.deleted) == {"supply", "capability", "membership", "bom_line"}
    assert set(result.detached) == {"category", "product", "need"}
    _assert_repaired(store)
    _assert_repaired(EmbeddedStore(tmp_path / "s"))


def test_a_journal_line_written_by_hand_is_found_and_repaired(tmp_path):
    """An old journal store (migrated into SQLite on opening) that holds a dangling delete."""
    import zlib

    import orjson

    from coopgraph.graph.journal_store import JournalStore

    store = JournalStore(tmp_path / "s")
    store.upsert(full_graph())
    store.close()
    # an old journal: a category deleted without the supplies that name it
    payload = orjson.dumps({"rev": store.revision() + 1,
                            "ops": [["delete", "category", [["castings"]]]]})
    with open(tmp_path / "s" / "journal.log", "ab") as handle:
        handle.write(b"%08x " % zlib.crc32(payload) + payload + b"\n")
    reopened = EmbeddedStore(tmp_path / "s")
    report = find_problems(reopened.snapshot())
    assert _found(report.problems) == {
        ("supply", "sup-1|oem-1|castings", "category", "castings", "delete")}
    Projection.from_snapshot(reopened.snapshot())  # builds
    repair(reopened)
    assert find_problems(reopened.snapshot()).ok


# --- Neo4j: the dangling data written with raw Cypher through the driver --------------


def _cypher(store: Any, query: str) -> None:
    store._driver.execute_query(query, database_=store.database)


@pytest.mark.neo4j
def test_neo4j_browser_edits_are_found_survived_and_repaired(neo4j_store):
    neo4j_store.upsert(full_graph())
    # a category deleted in Neo4j Browser: its supply keeps naming it
    _cypher(neo4j_store, "MATCH (c:Category {code: 'castings'}) DETACH DELETE c")
    # a relationship drawn by hand with a property naming nothing
    _cypher(neo4j_store,
            "MATCH (a:Company {id: 'uni-1'}), (b:Company {id: 'oem-1'}) "
            "CREATE (a)-[:SUPPLIES {_key: 'uni-1|oem-1|ghost', supplier_id: 'uni-1', "
            "buyer_id: 'oem-1', category: 'ghost'}]->(b)")
    # node fields naming nothing
    _cypher(neo4j_store, "CREATE (:Category {code: 'orphan', name_ru: 'Сирота', "
                         "parent: 'ghost-cat', processes: ['casting', 'gone']})")
    _cypher(neo4j_store, "MATCH (p:Product {id: 'combine-1'}) SET p.maker_id = 'ghost-maker'")
    _cypher(neo4j_store, "MATCH ()-[r:NEEDS]->() SET r.required_certs = ['iso9001', 'x']")
    report = find_problems(neo4j_store.snapshot())
    found = _found(report.problems)
    assert ("supply", "sup-1|oem-1|castings", "category", "castings", "delete") in found
    assert ("supply", "uni-1|oem-1|ghost", "category", "ghost", "delete") in found
    assert ("category", "orphan", "parent", "ghost-cat", "detach") in found
    assert ("category", "orphan", "processes", "gone", "detach") in found
    assert ("category", "gearbox", "parent", "parts", "detach") not in found
    assert ("product", "combine-1", "maker_id", "ghost-maker", "detach") in found
    projection = Projection.from_snapshot(neo4j_store.snapshot())
    assert projection.skipped["supply.category → category"] == 2
    repair(neo4j_store, report)
    assert find_problems(neo4j_store.snapshot()).ok
    assert neo4j_store.get("category", "orphan").processes == ["casting"]
    assert neo4j_store.get("product", "combine-1").maker_id is None
    assert neo4j_store.stats()["supply"] == 0


@pytest.mark.neo4j
def test_neo4j_unchecked_upsert_is_found_and_repaired(neo4j_store):
    # Neo4j cannot draw a relationship without its end nodes (such a write is refused
    # whole); every other dangling reference can be written unchecked
    drawable = [r for r in DANGLING if not isinstance(r, Capability | Membership | BomLine)]
    neo4j_store.upsert(full_graph())
    neo4j_store.upsert(drawable, check_references=False)
    assert _found(find_problems(neo4j_store.snapshot()).problems) == {
        e for e in EXPECTED if e[0] not in ("capability", "membership", "bom_line")}
    repair(neo4j_store)
    assert find_problems(neo4j_store.snapshot()).ok
    assert neo4j_store.get("need", ("oem-1", "gearbox")).required_certs == ["iso9001"]


@pytest.mark.parametrize("record, text", [
    (Membership(company_id="uni-1", cluster_id="ghost-cluster"), "membership.cluster_id → cluster"),
    (Need(company_id="oem-1", category="gearbox", required_certs=["x"]),
     "need.required_certs → certification"),
    (Product(id="p-ghost", name="И", maker_id="ghost"), "product.maker_id → company"),
    (Capability(company_id="ghost", category="castings"), "capability.company_id → company"),
    (Supply(supplier_id="sup-1", buyer_id="uni-1", category="x"), "supply.category → category"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_each_dangling_reference_alone_is_counted_and_left_out(record, text):
    # one at a time: the build's quick path (lenient references checked first) and its
    # fallback (a strict lookup failing) both count what they leave out
    store = EmbeddedStore(None)
    store.upsert(full_graph())
    store.upsert([record], check_references=False)
    projection = Projection.from_snapshot(store.snapshot())
    assert projection.skipped == {text: 1}
    repair(store)
    clean = Projection.from_snapshot(store.snapshot())
    assert clean.skipped == {}
    assert projection.company_clusters == clean.company_clusters
    assert projection.need_certs == clean.need_certs
    assert np.array_equal(projection.product_maker, clean.product_maker)
    assert np.array_equal(projection.cap_company, clean.cap_company)
    assert np.array_equal(projection.sup_category, clean.sup_category)
