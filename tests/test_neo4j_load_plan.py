"""A Neo4j load chunk's plan (issue 15 part 3): relationships whose key is not stored are
CREATEd, the others MERGEd, each group in start-node order; pure, no server."""

from __future__ import annotations

from coopgraph.graph import cypher
from coopgraph.graph.neo4j_store import _rel_load_steps, rel_key
from coopgraph.graph.schema import EntityKind


def _cap(company: str, category: str, capacity: float) -> dict[str, object]:
    return {"company_id": company, "category": category, "capacity_per_year": capacity}


def test_new_relationships_are_created_known_ones_merged_in_start_order() -> None:
    rows = [_cap("c3", "k1", 1.0), _cap("c1", "k1", 2.0), _cap("c2", "k2", 3.0),
            _cap("c1", "k1", 4.0)]  # c1|k1 twice: the last row wins, as MERGE + SET would
    asked: list[list[str]] = []

    def present(keys: list[str]) -> set[str]:
        asked.append(keys)
        return {rel_key(("c2", "k2"))}

    steps = _rel_load_steps(EntityKind.CAPABILITY, rows, present)
    assert len(asked) == 1 and sorted(asked[0]) == sorted(
        rel_key(k) for k in [("c3", "k1"), ("c1", "k1"), ("c2", "k2")])
    create = cypher.create_query(EntityKind.CAPABILITY, EntityKind.COMPANY, EntityKind.CATEGORY)
    merge = cypher.upsert_query(EntityKind.CAPABILITY, EntityKind.COMPANY, EntityKind.CATEGORY)
    assert [s.query for s in steps] == [create, merge]
    created, merged = steps
    assert [r["start"] for r in created.params["rows"]] == ["c1", "c3"]
    assert created.params["rows"][0]["props"]["capacity_per_year"] == 4.0
    assert created.expect == 2 and created.keys == [("c1", "k1"), ("c3", "k1")]
    assert [r["key"] for r in merged.params["rows"]] == [rel_key(("c2", "k2"))]
    assert merged.expect == 1 and merged.kind is EntityKind.CAPABILITY
    assert "CREATE (a)-[r:CAN_SUPPLY]->(b)" in create and "MERGE" not in create


def test_nothing_stored_means_nothing_merged() -> None:
    steps = _rel_load_steps(EntityKind.CAPABILITY, [_cap("c1", "k1", 1.0)], lambda keys: set())
    assert len(steps) == 1 and "CREATE" in steps[0].query
