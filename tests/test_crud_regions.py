"""Companies written through the API are placed as a load places them (issue #10, part 4).

``POST``/``PUT /companies`` store the region under its official name (graph/regions.py)
and fill missing coordinates from the gazetteer, flagged approximate — on both stores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coopgraph.graph.models import Company
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.gazetteer import locate
from tests.api_support import ApiCase, make_case

_OFFICIAL = "Липецкая область"


@pytest.mark.parametrize("written", ["Липецкая обл.", "Lipetsk Oblast", "48", _OFFICIAL])
def test_post_stores_the_official_region_and_approximate_coordinates(
        store: GraphStore, tmp_path: Path, written: str) -> None:
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    made = api.post("/companies", json={"id": "c1", "name": "Литмаш", "region": written,
                                        "municipality": "Елец"})
    assert made.status_code == 201, made.text
    stored = store.get(EntityKind.COMPANY, "c1")
    assert isinstance(stored, Company)
    assert stored.region == _OFFICIAL
    place = locate("Елец", _OFFICIAL)
    assert place is not None
    assert (stored.lat, stored.lon, stored.coords_source) == (place.lat, place.lon, "gazetteer")
    assert made.json()["region"] == _OFFICIAL
    # the search by the official name finds it, as it finds a loaded company
    found = api.get("/companies", params={"region": _OFFICIAL}).json()
    assert [c["id"] for c in found["data"]] == ["c1"]


def test_put_normalises_and_keeps_given_coordinates(store: GraphStore, tmp_path: Path) -> None:
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    body = {"id": "c2", "name": "Кронос", "region": "Lipetsk Oblast", "municipality": "Елец",
            "lat": 52.6, "lon": 38.5}
    assert api.post("/companies", json=body).status_code == 201
    replaced = api.put("/companies/c2", json=body | {"region": "48"})
    assert replaced.status_code == 200, replaced.text
    stored = store.get(EntityKind.COMPANY, "c2")
    assert isinstance(stored, Company)
    # surveyed coordinates are the user's: kept, not flagged
    assert (stored.region, stored.lat, stored.lon, stored.coords_source) == (
        _OFFICIAL, 52.6, 38.5, None)


def test_an_unknown_region_is_kept_as_written(store: GraphStore, tmp_path: Path) -> None:
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    made = api.post("/companies", json={"id": "c3", "name": "Acme", "region": "Bavaria",
                                        "municipality": "Нигденет"})
    assert made.status_code == 201, made.text
    stored = store.get(EntityKind.COMPANY, "c3")
    assert isinstance(stored, Company)
    assert (stored.region, stored.lat, stored.coords_source) == ("Bavaria", None, None)


def test_a_cluster_region_is_normalised_too(store: GraphStore, tmp_path: Path) -> None:
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    made = api.post("/clusters", json={"id": "k1", "name": "Кластер", "region": "Липецкая обл."})
    assert made.status_code == 201, made.text
    assert store.get(EntityKind.CLUSTER, "k1").region == _OFFICIAL  # type: ignore[union-attr]


def test_companies_placed_by_town_have_distances(store: GraphStore, tmp_path: Path) -> None:
    """The repro "the town never gives coordinates, so every distance shows —"."""
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    for cid, town in (("elets", "г. Елец"), ("lip", "Липецк")):
        made = api.post("/companies", json={"id": cid, "name": f"Завод {cid}",
                                            "region": "48", "municipality": town})
        assert made.status_code == 201, made.text
    found = api.get("/companies/search", params={"near": "elets", "sort": "distance"})
    assert found.status_code == 200, found.text
    km = {c["id"]: c["distance_km"] for c in found.json()["data"]}
    assert km["elets"] == 0 and 60 < km["lip"] < 80  # the centres are ≈ 70 km apart
