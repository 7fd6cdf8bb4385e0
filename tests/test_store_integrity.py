"""Referential integrity at the write, on both stores: every delete path cascades or is
refused as ``graph.schema.DELETE_POLICY`` says, atomically; upserts never leave a
dangling reference (issue #17)."""

from __future__ import annotations

import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import HasDependents, MissingReference
from coopgraph.graph.models import Category, Company, Need, Process, Supply
from coopgraph.graph.schema import DELETE_POLICY, KINDS, REFERENCES, EntityKind, OnDelete
from coopgraph.graph.store import GraphStore
from tests.graph_factories import full_graph


def _keys(store: GraphStore, kind: str) -> set[tuple[str, ...]]:
    spec = KINDS[EntityKind(kind)]
    return {spec.key_of(r) for r in store.snapshot().rows(kind)}


def _refused(store: GraphStore, kind: str, key: str) -> HasDependents:
    before, revision = store.snapshot(), store.revision()
    with pytest.raises(HasDependents) as info:
        store.delete(kind, [key])
    assert store.snapshot() == before
    assert store.revision() == revision
    return info.value


def _dependents(error: HasDependents) -> set[tuple[str, str, str]]:
    return {(d["kind"], "|".join(d["key"]), d["field"]) for d in error.dependents}


# --- the table --------------------------------------------------------------------


def test_every_relationship_end_is_a_declared_reference():
    declared = {(r.source, r.field) for r in REFERENCES}
    for kind, spec in KINDS.items():
        if spec.is_node:
            continue
        assert spec.start is not None and spec.end is not None
        assert (kind, spec.start.field) in declared
        assert (kind, spec.end.field) in declared
    assert (EntityKind.SUPPLY, "category") in declared
    assert (EntityKind.NEED, "required_certs") in declared
    # every node kind somebody refers to has a policy
    assert {r.target for r in REFERENCES} <= set(DELETE_POLICY)


# --- cascade kinds ------------------------------------------------------------------


def test_deleting_a_company_cascades_its_records_and_detaches_its_products(store: GraphStore):
    store.upsert(full_graph())
    revision = store.revision()
    removal = store.remove("company", ["oem-1"])
    assert store.revision() == revision + 1  # one transaction / one journal line
    assert removal.count == 1
    assert removal.deleted[EntityKind.COMPANY] == [("oem-1",)]
    # its membership, the supply it buys, its import and its need went
    assert _keys(store, "membership") == {("sup-1", "agro")}
    assert _keys(store, "supply") == set()
    assert _keys(store, "import") == set()
    assert _keys(store, "need") == set()
    assert set(removal.deleted[EntityKind.SUPPLY]) == {("sup-1", "oem-1", "castings")}
    # the product it makes stays, without a maker
    assert removal.detached == {EntityKind.PRODUCT: [("combine-1",)]}
    product = store.get("product", "combine-1")
    assert product.maker_id is None and product.annual_volume == 450.0
    assert _keys(store, "bom_line") == {("product", "combine-1", "gearbox"),
                                         ("category", "gearbox", "castings")}


def test_deleting_a_supplier_company_takes_its_own_records(store: GraphStore):
    store.upsert(full_graph())
    store.delete("company", ["sup-1"])
    for kind in ("capability", "held_certification", "company_process", "supply"):
        assert _keys(store, kind) == set(), kind
    assert store.exists("need", ("oem-1", "castings"))


def test_deleting_a_product_cascades_its_bom_lines(store: GraphStore):
    store.upsert(full_graph())
    removal = store.remove("product", ["combine-1"])
    assert removal.deleted[EntityKind.BOM_LINE] == [("product", "combine-1", "gearbox")]
    assert _keys(store, "bom_line") == {("category", "gearbox", "castings")}


# --- restrict kinds -----------------------------------------------------------------


def test_a_category_in_use_is_refused_with_its_dependents(store: GraphStore):
    store.upsert(full_graph())
    error = _refused(store, "category", "castings")
    assert _dependents(error) == {
        ("capability", "sup-1|castings", "category"),
        ("supply", "sup-1|oem-1|castings", "category"),
        ("need", "oem-1|castings", "category"),
        ("bom_line", "category|gearbox|castings", "child"),
    }
    assert error.total == 4
    assert "supply.category → category" in str(error)
    error = _refused(store, "category", "parts")  # a parent of two categories
    assert _dependents(error) == {("category", "castings", "parent"),
                                  ("category", "gearbox", "parent")}


def test_a_category_deleted_with_cascade_takes_its_records_and_frees_its_children(
        store: GraphStore):
    store.upsert(full_graph())
    revision = store.revision()
    removal = store.remove("category", ["castings"], cascade=True)
    assert store.revision() == revision + 1
    assert not store.exists("category", "castings")
    for kind in ("capability", "supply", "need"):
        assert _keys(store, kind) == set(), kind
    assert _keys(store, "bom_line") == {("product", "combine-1", "gearbox")}
    assert set(removal.deleted) == {EntityKind.CATEGORY, EntityKind.CAPABILITY,
                                    EntityKind.SUPPLY, EntityKind.NEED, EntityKind.BOM_LINE}
    removal = store.remove("category", ["parts"], cascade=True)
    assert removal.detached == {EntityKind.CATEGORY: [("gearbox",)]}
    assert store.get("category", "gearbox").parent is None  # a root now, kept
    assert store.get("category", "gearbox").processes == ["machining"]


def test_a_category_nobody_names_is_deleted(store: GraphStore):
    store.upsert([Category(code="lonely", name_ru="Одинокая")])
    assert store.delete("category", ["lonely", "absent"]) == 1


def test_a_process_in_use_is_refused_then_dropped_from_lists_with_cascade(store: GraphStore):
    store.upsert(full_graph())
    error = _refused(store, "process", "casting")
    assert _dependents(error) == {("category", "castings", "processes"),
                                  ("company_process", "sup-1|casting", "process")}
    removal = store.remove("process", ["casting"], cascade=True)
    assert removal.deleted[EntityKind.COMPANY_PROCESS] == [("sup-1", "casting")]
    assert removal.detached == {EntityKind.CATEGORY: [("castings",)]}
    castings = store.get("category", "castings")
    assert castings.processes == ["machining"]
    assert castings.parent == "parts" and castings.unit_price == 150000.0


def test_a_certification_in_use_is_refused_then_cascades(store: GraphStore):
    store.upsert(full_graph())
    error = _refused(store, "certification", "iso9001")
    assert _dependents(error) == {("held_certification", "sup-1|iso9001", "cert"),
                                  ("need", "oem-1|castings", "required_certs")}
    store.delete("certification", ["iso9001"], cascade=True)
    assert _keys(store, "held_certification") == set()
    need = store.get("need", ("oem-1", "castings"))
    assert need.required_certs == [] and need.qty_per_year == 300.0


def test_a_cluster_with_members_is_refused_then_cascades(store: GraphStore):
    store.upsert(full_graph())
    error = _refused(store, "cluster", "agro")
    assert {d["kind"] for d in error.dependents} == {"membership"}
    assert store.delete("cluster", ["agro"], cascade=True) == 1
    assert _keys(store, "membership") == set()
    assert store.stats()["company"] == 3


def test_deleting_several_nodes_that_name_each_other_is_not_refused(store: GraphStore):
    store.upsert([Category(code="root", name_ru="Корень"),
                  Category(code="leaf", name_ru="Лист", parent="root")])
    assert store.delete("category", ["root", "leaf"]) == 2
    assert store.stats()["category"] == 0


def test_relationships_delete_plainly(store: GraphStore):
    store.upsert(full_graph())
    removal = store.remove("supply", [("sup-1", "oem-1", "castings")])
    assert removal.count == 1 and not removal.cascaded


def test_refusal_lists_at_most_fifty_dependents_but_counts_all(store: GraphStore):
    store.upsert([Category(code="k", name_ru="К")]
                 + [Company(id=f"c{i:03d}", name=f"C{i}") for i in range(61)]
                 + [Supply(supplier_id=f"c{i:03d}", buyer_id=f"c{i + 1:03d}", category="k")
                    for i in range(60)])
    error = _refused(store, "category", "k")
    assert error.total == 60
    assert len(error.dependents) == 50


def test_policy_table_matches_the_tests():
    assert DELETE_POLICY[EntityKind.COMPANY] is OnDelete.CASCADE
    assert DELETE_POLICY[EntityKind.PRODUCT] is OnDelete.CASCADE
    for kind in ("category", "process", "certification", "cluster"):
        assert DELETE_POLICY[EntityKind(kind)] is OnDelete.RESTRICT


def test_embedded_cascade_is_one_transaction(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.upsert(full_graph())
    revision = store.revision()
    store.delete("category", ["castings"], cascade=True)
    assert store.revision() == revision + 1  # one write: one revision, one change
    changes = store.changes_since(revision)
    assert changes is not None and len(changes) == 1
    assert {k.value for k in changes[0].keys} >= {"category", "supply"}
    again = EmbeddedStore(tmp_path / "s")  # another connection reads the same state
    assert again.snapshot() == store.snapshot()


# --- upserts ------------------------------------------------------------------------


@pytest.mark.parametrize("dangling, missing", [
    (Supply(supplier_id="sup-1", buyer_id="oem-1", category="ghost"), "category 'ghost'"),
    (Need(company_id="oem-1", category="castings", required_certs=["iso9001", "ghost"]),
     "certification 'ghost'"),
])
def test_property_references_are_checked_on_upsert(store: GraphStore, dangling, missing):
    store.upsert(full_graph())
    before = store.snapshot()
    with pytest.raises(MissingReference) as info:
        store.upsert([dangling])
    assert info.value.missing == [missing]
    assert store.snapshot() == before


def test_a_new_process_and_category_may_arrive_with_their_referrers(store: GraphStore):
    store.upsert([Process(code="p", name_ru="П"),
                  Category(code="c", name_ru="К", processes=["p"])])
    assert store.get("category", "c").processes == ["p"]


@pytest.mark.neo4j
def test_neo4j_reference_relationships_follow_a_cascade(neo4j_store):
    neo4j_store.upsert(full_graph())
    neo4j_store.delete("category", ["parts"], cascade=True)
    neo4j_store.delete("process", ["casting"], cascade=True)
    rows = neo4j_store.run_read(
        "MATCH (c:Category)-[r]->(t) WHERE type(r) IN ['CHILD_OF', 'NEEDS_PROCESS'] "
        "RETURN c.code AS c, type(r) AS r, coalesce(t.code, t.id) AS t ORDER BY c, r, t")
    assert rows == [{"c": "castings", "r": "NEEDS_PROCESS", "t": "machining"},
                    {"c": "gearbox", "r": "NEEDS_PROCESS", "t": "machining"}]


def test_embedded_reference_check_and_write_hold_one_lock(tmp_path, monkeypatch):
    # A delete from another process cannot slip in between an upsert's reference check
    # and its write: it waits for the lock, then finds the new supply and is refused.
    import threading

    writer, deleter = EmbeddedStore(tmp_path / "s"), EmbeddedStore(tmp_path / "s")
    writer.upsert([Company(id="a", name="A"), Company(id="b", name="B"),
                   Category(code="k", name_ru="К")])
    outcome: list[object] = []

    def delete() -> None:
        try:
            outcome.append(deleter.delete("category", ["k"]))
        except HasDependents as exc:
            outcome.append(exc)

    thread = threading.Thread(target=delete)
    check = writer._check_references

    def check_then_race(groups):  # type: ignore[no-untyped-def]
        check(groups)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive(), "the delete ran between the check and the write"

    monkeypatch.setattr(writer, "_check_references", check_then_race)
    writer.upsert([Supply(supplier_id="a", buyer_id="b", category="k")])
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], HasDependents)
    assert _consistent(writer)


def _consistent(store: GraphStore) -> bool:
    from coopgraph.graph.integrity import find_problems

    return find_problems(store.snapshot()).ok
