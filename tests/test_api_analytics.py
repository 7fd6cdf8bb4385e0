"""The analytic endpoints over the real engines and the sample dataset, on both stores.

Each answer must equal the engine's own answer on the sample snapshot: the API
adds access control and JSON, nothing else, and both stores give the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore, Snapshot
from coopgraph.queries.projection import Projection
from tests.api_support import ApiCase, assert_problem, make_case


@pytest.fixture
def api(sample_store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(sample_store, tmp_path, seed=False)


@pytest.fixture(scope="module")
def reference(sample_snapshot: Snapshot) -> Projection:
    return Projection.from_snapshot(sample_snapshot)


def _json(model: Any) -> Any:
    return json.loads(model.model_dump_json())


def _without_revision(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_revision(v) for k, v in data.items() if k != "revision"}
    if isinstance(data, list):
        return [_without_revision(v) for v in data]
    return data


def _first(snapshot: Snapshot, kind: EntityKind, field: str) -> str:
    return str(snapshot.rows(kind)[0][field])


def test_match_buyers_equals_the_engine(api: ApiCase, reference: Projection,
                                        sample_snapshot: Snapshot) -> None:
    from coopgraph.queries.match import rank_buyers

    supplier = _first(sample_snapshot, EntityKind.CAPABILITY, "company_id")
    got = api.get("/match/buyers", "analyst", params={"supplier": supplier, "k": 5})
    assert got.status_code == 200, got.text
    want = _json(rank_buyers(reference, supplier, k=5))
    assert _without_revision(got.json()) == _without_revision(want)
    assert got.json()["candidates"], "the sample supplier should have candidates"


def test_match_suppliers_with_filters(api: ApiCase, reference: Projection,
                                      sample_snapshot: Snapshot) -> None:
    from coopgraph.queries.match import rank_suppliers

    buyer = _first(sample_snapshot, EntityKind.NEED, "company_id")
    got = api.get("/match/suppliers", params={"buyer": buyer, "k": 3, "max_distance_km": 300})
    assert got.status_code == 200, got.text
    want = _json(rank_suppliers(reference, buyer, k=3, filters={"max_distance_km": 300}))
    assert _without_revision(got.json()) == _without_revision(want)


def test_gaps_equal_the_engine(api: ApiCase, reference: Projection,
                               sample_snapshot: Snapshot) -> None:
    from coopgraph.queries.gaps import find_gaps

    cluster = _first(sample_snapshot, EntityKind.CLUSTER, "id")
    got = api.get("/gaps", "analyst", params={"cluster": cluster})
    assert got.status_code == 200, got.text
    assert _without_revision(got.json()) == _without_revision(
        _json(find_gaps(reference, cluster_id=cluster)))


def test_kpis_equal_the_engine(api: ApiCase, reference: Projection,
                               sample_snapshot: Snapshot) -> None:
    kpi = pytest.importorskip("coopgraph.queries.kpi")
    cluster = _first(sample_snapshot, EntityKind.CLUSTER, "id")
    got = api.get("/kpis", "analyst", params={"cluster": cluster})
    assert got.status_code == 200, got.text
    assert _without_revision(got.json()) == _without_revision(
        _json(kpi.cluster_kpis(reference, cluster)))


def test_plan_product_equals_the_engine(api: ApiCase, reference: Projection,
                                        sample_snapshot: Snapshot) -> None:
    from coopgraph.queries.chains import plan_chain

    with_bom = {b["parent"] for b in sample_snapshot.rows(EntityKind.BOM_LINE)}
    product = next(r["id"] for r in sample_snapshot.rows(EntityKind.PRODUCT)
                   if r["id"] in with_bom)
    got = api.post("/plans", "analyst", json={"product": product, "volume": 50})
    assert got.status_code == 200, got.text
    want = _json(plan_chain(reference, product, volume=50))
    assert _without_revision(got.json()) == _without_revision(want)
    costs = [sum(a["qty"] * a["unit_cost"] for a in c["allocations"])
             for c in got.json()["categories"]]
    assert costs == sorted(costs, reverse=True)  # the dearest category first
    by_name = api.post("/plans", "analyst", json={"product": product, "volume": 50,
                                                  "options": {"sort": "name"}})
    assert by_name.status_code == 200, by_name.text
    names = [c["name"].casefold() for c in by_name.json()["categories"]]
    assert names == sorted(names)


def test_plan_options_are_checked(api: ApiCase, sample_snapshot: Snapshot) -> None:
    product = _first(sample_snapshot, EntityKind.PRODUCT, "id")
    body = assert_problem(api.post("/plans", json={"product": product,
                                                   "options": {"max_share": 5, "bogus": 1}}),
                          422, slug="validation")
    assert sorted(e["field"] for e in body["errors"]) == ["options.bogus", "options.max_share"]


def test_match_labels_popularity_fillers_by_their_source(store: GraphStore,
                                                        tmp_path: Path) -> None:
    """A supplier with no sales gets popularity candidates, and the JSON says so: their
    ``fit`` is their source (as the CLI shows it), never "network", in RU and EN alike."""
    from coopgraph.graph.models import Company
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    assert ingest_paths(store, [SAMPLE_DIR]).ok
    store.upsert([Company(id="new-co", name="ООО «Новая фирма»", region="Липецкая область")])
    case = make_case(store, tmp_path, seed=False)
    got = case.get("/match/buyers", "analyst", params={"supplier": "new-co", "k": 5})
    assert got.status_code == 200, got.text
    data = got.json()
    assert "popularity fallback" in data["note_en"] and "запасной список" in data["note_ru"]
    candidates = data["candidates"]
    assert len(candidates) == 5
    sources = {c["source"] for c in candidates}
    assert sources <= {"popular_in_category", "popular_in_region", "popular"}
    assert "popular_in_region" in sources  # the sample has companies of the supplier's region
    for c in candidates:
        assert c["fit"] == c["source"] and not c["related"] and not c["inferred"]
        capability = next(f for f in c["factors"] if f["name"] == "capability")
        assert "popularity fallback" in capability["text_en"], capability
        assert "запасной список" in capability["text_ru"], capability
        assert "network" not in capability["text_en"] and "сет" not in capability["text_ru"]
