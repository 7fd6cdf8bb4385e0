"""The analysts' Cypher library: documented, parameterised, and equal to the Python answers.

The cross-checks run the ``.cypher`` files on the real Neo4j (the ``neo4j_store``
fixture loaded with the hand-built cluster, and ``sample_store``'s Neo4j side) and
compare with ``queries.gaps`` / ``queries.kpi`` / ``queries.bom`` on the same data.
"""

from __future__ import annotations

import pytest

from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.graph.schema import EntityKind
from coopgraph.queries.bom import expand_bom
from coopgraph.queries.cypher_library import list_queries, load_query, run_query
from coopgraph.queries.gaps import find_gaps
from coopgraph.queries.kpi import cluster_kpis
from coopgraph.queries.projection import Projection, ProjectionCache
from tests.chains_graphs import small_cluster

EXPECTED = {"gaps", "single_source", "untied_members", "product_chain"}


def test_every_query_documented_and_parameterised():
    queries = {q.name: q for q in list_queries()}
    assert set(queries) >= EXPECTED
    for q in queries.values():
        assert len(q.doc) > 80, q.name
        declared = {p.name for p in q.params}
        assert declared == q.used_params, q.name  # every $param documented, none unused
        assert all(p.doc for p in q.params)
    assert [p.name for p in queries["product_chain"].params if p.required] == ["product_id"]


def test_bind_checks_parameters():
    q = load_query("untied_members")
    assert q.bind({"cluster_id": "K1"}) == {"cluster_id": "K1"}
    with pytest.raises(InvalidQuery, match="needs cluster_id"):
        q.bind({})
    with pytest.raises(InvalidQuery, match="no parameter"):
        q.bind({"cluster_id": "K1", "evil": "x"})
    assert load_query("gaps").bind({}) == {"cluster_id": None, "region": None}


@pytest.mark.parametrize("name", ["nope", "../projection", "GAPS", "gaps.cypher", ""])
def test_unknown_or_unsafe_names(name):
    with pytest.raises(NotFound):
        load_query(name)


def test_embedded_store_is_refused(embedded_store):
    with pytest.raises(InvalidQuery, match="Neo4j"):
        run_query(embedded_store, "untied_members", {"cluster_id": "K1"})


# --- cross-checks on the real Neo4j ------------------------------------------------------


def _cross_check(store, proj: Projection, cluster_id: str | None, region: str | None) -> None:
    params = {"cluster_id": cluster_id, "region": region}
    report = find_gaps(proj, cluster_id=cluster_id, region=region)
    rows = run_query(store, "gaps", params)
    assert [r["category"] for r in rows] == [g.category for g in report.import_dependency]
    for row, gap in zip(rows, report.import_dependency, strict=True):
        assert row["demand"] == pytest.approx(gap.demand_qty)
        assert sorted(row["buyers"]) == gap.buyers
        assert sorted(row["importers"]) == gap.importers
    rows = run_query(store, "single_source", params)
    assert [(r["category"], r["supplier_id"]) for r in rows] == [
        (s.category, s.supplier_id) for s in report.single_source]
    for row, s in zip(rows, report.single_source, strict=True):
        assert row["demand"] == pytest.approx(s.demand_qty)
    if cluster_id is not None:
        rows = run_query(store, "untied_members", {"cluster_id": cluster_id})
        assert [r["company_id"] for r in rows] == cluster_kpis(
            proj, cluster_id, what_if=False).untied_members
        assert [r["company_id"] for r in rows] == [u.company_id for u in report.untied]


def _chain_check(store, proj: Projection, product_id: str) -> None:
    rows = run_query(store, "product_chain", {"product_id": product_id})
    exp = expand_bom(proj, product_id)
    assert [r["category"] for r in rows] == [e.category for e in exp.entries]
    indptr, caps = proj.capabilities_by_category
    for row, e in zip(rows, exp.entries, strict=True):
        assert row["total_qty"] == pytest.approx(e.total_qty)
        assert row["level"] == e.level and row["is_leaf"] == e.is_leaf
        c = proj.category(e.category)
        declared = sorted(proj.company_ids[int(proj.cap_company[j])]
                          for j in caps[indptr[c]:indptr[c + 1]])
        assert sorted(s["id"] for s in row["suppliers"]) == declared


@pytest.mark.neo4j
def test_small_cluster_cypher_equals_python(neo4j_store):
    neo4j_store.upsert(small_cluster())
    proj = ProjectionCache(neo4j_store).get()
    _cross_check(neo4j_store, proj, "K1", None)
    _cross_check(neo4j_store, proj, None, "Lipetsk Oblast")
    _cross_check(neo4j_store, proj, None, None)
    for product in ("P1", "P2"):
        _chain_check(neo4j_store, proj, product)
    rows = run_query(neo4j_store, "product_chain", {"product_id": "P1", "volume": 3})
    assert {r["category"]: r["total_qty"] for r in rows}["CAST"] == pytest.approx(12)
    assert run_query(neo4j_store, "gaps", {"cluster_id": "nope"}) == []


def test_sample_cypher_equals_python(sample_store):
    if sample_store.kind != "neo4j":
        pytest.skip("the Cypher library runs on Neo4j only")
    proj = ProjectionCache(sample_store).get()
    snap = sample_store.snapshot()
    for cluster in snap.rows(EntityKind.CLUSTER):
        _cross_check(sample_store, proj, cluster["id"], None)
    regions = sorted({r["region"] for r in snap.rows(EntityKind.COMPANY) if r.get("region")})
    _cross_check(sample_store, proj, None, regions[0])
    for product in snap.rows(EntityKind.PRODUCT)[:5]:
        _chain_check(sample_store, proj, product["id"])
