"""The matching engine on the sample cluster (data/sample), on both stores.

Expectations come from the patterns planted in the sample (data/sample/README.md),
read back from the records rather than hard-coded where possible.
"""

from __future__ import annotations

import pytest

from coopgraph.graph.schema import EntityKind
from coopgraph.queries.match import rank_buyers, rank_suppliers
from coopgraph.queries.projection import Projection, ProjectionCache

CLUSTER = "lipetsk-agromash"


@pytest.fixture
def proj(sample_store) -> Projection:  # type: ignore[no-untyped-def]
    return ProjectionCache(sample_store).get()


@pytest.fixture(scope="module")
def reference(sample_snapshot) -> Projection:  # type: ignore[no-untyped-def]
    return Projection.from_snapshot(sample_snapshot)


@pytest.mark.parametrize(("supplier", "category", "oem"), [
    ("m-dankov-lit", "cast.counterweight", "m-traktor"),
    ("m-disk", "till.disc", "m-borona"),
    ("s-elets-elektronika", "elx.sensor_speed", "m-kombain"),
])
def test_idle_capacity_supplier_finds_the_oem_that_imports_its_category(
        proj, supplier, category, oem):
    assert any(r["company_id"] == oem and r["category"] == category
               for r in _rows(proj, EntityKind.IMPORT))  # the planted import is there
    result = rank_buyers(proj, supplier, k=5)
    top = {(c.company_id, c.category): c for c in result.candidates}
    assert (oem, category) in top
    hit = top[(oem, category)]
    assert next(f for f in hit.factors if f.name == "import").value == 1.0
    assert hit.rank <= 3


def test_single_source_component_gets_alternatives(proj):
    sources = {r["buyer_id"] for r in _rows(proj, EntityKind.SUPPLY)
               if r["supplier_id"] == "m-gidro" and r["category"] == "hyd.cylinder"}
    assert sources, "the sample should have buyers of hydraulic cylinders from m-gidro"
    for buyer in sorted(sources):
        result = rank_suppliers(proj, buyer, category="hyd.cylinder", k=10)
        ids = [c.company_id for c in result.candidates]
        assert ids and "m-gidro" not in ids
        assert all(c.category == "hyd.cylinder" for c in result.candidates)


def test_inferred_capability_is_flagged(proj):
    result = rank_buyers(proj, "m-gidroservis", category="hyd.hose", k=20)
    assert result.candidates
    assert all(c.fit == "inferred" and c.inferred for c in result.candidates)


def test_cluster_only_and_distance_filters(proj):
    members = set(proj.company_ids[int(i)] for i in proj.cluster(CLUSTER))
    result = rank_buyers(proj, "m-dankov-lit", k=50, filters={"cluster_only": True})
    assert result.candidates
    assert {c.company_id for c in result.candidates} <= members
    result = rank_suppliers(proj, "m-kombain", k=50, filters={"max_distance_km": 100})
    assert result.candidates
    assert all(c.distance_km is not None and c.distance_km <= 100 for c in result.candidates)
    named = rank_buyers(proj, "m-dankov-lit", k=50, filters={"cluster_only": CLUSTER})
    assert {c.company_id for c in named.candidates} <= members


def test_existing_links_are_never_proposed(proj):
    existing = {(r["supplier_id"], r["buyer_id"], r["category"])
                for r in _rows(proj, EntityKind.SUPPLY)}
    suppliers = sorted({s for s, _, _ in existing})[:15]
    for s in suppliers:
        for c in rank_buyers(proj, s, k=30).candidates:
            assert (s, c.company_id, c.category) not in existing


def test_same_answers_on_both_stores(proj, reference):
    for supplier in ("m-dankov-lit", "m-gidroservis", "m-gidro"):
        got = rank_buyers(proj, supplier, k=10).model_dump(exclude={"revision"})
        want = rank_buyers(reference, supplier, k=10).model_dump(exclude={"revision"})
        assert got == want
    got = rank_suppliers(proj, "m-kombain", k=10).model_dump(exclude={"revision"})
    assert got == rank_suppliers(reference, "m-kombain", k=10).model_dump(exclude={"revision"})


def _rows(proj: Projection, kind: EntityKind) -> list[dict]:
    """Rebuild simple rows from the projection's arrays (the store is read only)."""
    ids, cats = proj.company_ids, proj.category_codes
    if kind is EntityKind.SUPPLY:
        return [{"supplier_id": ids[s], "buyer_id": ids[b], "category": cats[c]}
                for s, b, c in zip(proj.sup_supplier, proj.sup_buyer, proj.sup_category,
                                   strict=True)]
    return [{"company_id": ids[i], "category": cats[c]}
            for i, c in zip(proj.imp_company, proj.imp_category, strict=True)]
