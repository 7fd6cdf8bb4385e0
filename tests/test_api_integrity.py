"""Deletes through the API (issue #17): 409 with the dependents, ``?cascade=true`` for
admins, 200 listing what cascaded; and ids and bounds checked in the parameters (422)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path)


def test_deleting_a_category_in_use_is_409_with_its_dependents(api: ApiCase):
    before = api.store.snapshot()
    body = assert_problem(api.delete("/categories/hyd.cyl"), 409, slug="has-dependents",
                          contains="cascade")
    assert body["total"] == len(body["dependents"]) == 6
    assert {(d["kind"], tuple(d["key"]), d["field"]) for d in body["dependents"]} == {
        ("capability", ("sup1", "hyd.cyl"), "category"),
        ("capability", ("sup2", "hyd.cyl"), "category"),
        ("supply", ("sup1", "oem", "hyd.cyl"), "category"),
        ("import", ("oem", "hyd.cyl", "IT"), "category"),
        ("need", ("oem", "hyd.cyl"), "category"),
        ("bom_line", ("product", "drill", "hyd.cyl"), "child"),
    }
    assert api.store.snapshot() == before


def test_the_issue_17_delete_no_longer_breaks_the_analytics(api: ApiCase):
    # the issue: DELETE /categories/<code> went through, supplies kept naming it, every
    # analytic route answered 500 from then on
    assert_problem(api.delete("/categories/hyd.cyl"), 409)
    assert api.get("/gaps").status_code == 200
    response = api.delete("/categories/hyd.cyl", params={"cascade": "true"})
    assert response.status_code == 200, response.text
    went = response.json()
    assert went["deleted"]["category"] == [["hyd.cyl"]]
    assert went["deleted"]["supply"] == [["sup1", "oem", "hyd.cyl"]]
    assert went["deleted"]["bom_line"] == [["product", "drill", "hyd.cyl"]]
    assert went["detached"] == {}
    assert api.get("/supplies").json()["total"] == 0
    for path in ("/gaps", "/kpis?cluster=c1", "/match/buyers?supplier=sup1",
                 "/match/suppliers?buyer=oem", "/categories/tree"):
        assert api.get(path).status_code == 200, path


def test_cascade_detaches_children_and_lists_them(api: ApiCase):
    # hyd is the parent of hyd.cyl: with cascade hyd.cyl becomes a root and stays
    assert_problem(api.delete("/categories/hyd"), 409, contains="category.parent")
    response = api.delete("/categories/hyd?cascade=true")
    assert response.status_code == 200
    assert response.json() == {"deleted": {"category": [["hyd"]]},
                               "detached": {"category": [["hyd.cyl"]]}}
    assert api.get("/categories/hyd.cyl").json()["parent"] is None


def test_a_process_and_a_certification_in_use_are_409(api: ApiCase):
    assert_problem(api.delete("/processes/machining"), 409, slug="has-dependents")
    assert api.delete("/processes/welding").status_code == 204  # nobody uses it
    assert_problem(api.delete("/certifications/ISO9001"), 409, slug="has-dependents")
    assert_problem(api.delete("/clusters/c1"), 409, slug="has-dependents")


def test_deleting_a_product_lists_its_bom_lines(api: ApiCase):
    response = api.delete("/products/drill")
    assert response.status_code == 200
    assert response.json()["deleted"]["bom_line"] == [["product", "drill", "hyd.cyl"]]


def test_a_relationship_deletes_with_204(api: ApiCase):
    assert api.delete("/supplies/sup1/oem/hyd.cyl").status_code == 204


def test_cascade_is_for_admins_only(api: ApiCase):
    assert_problem(api.delete("/categories/hyd.cyl?cascade=true", "analyst"), 403)
    # a member deletes its own records plainly (nothing refers to them) ...
    assert api.delete("/capabilities/sup1/hyd.cyl", "member_sup1").status_code == 204
    # ... and may not ask for a cascade
    assert_problem(api.delete("/company-processes/sup1/machining?cascade=true",
                              "member_sup1"), 403, contains="cascade")
    assert api.store.exists("company_process", ("sup1", "machining"))


def test_cascade_must_be_a_boolean(api: ApiCase):
    assert_problem(api.delete("/categories/hyd.cyl?cascade=maybe"), 422, slug="validation")


def test_an_upsert_naming_an_unknown_category_in_a_supply_is_422(api: ApiCase):
    response = api.post("/supplies", json={"supplier_id": "sup2", "buyer_id": "oem",
                                           "category": "elx.seed_sensor"})
    body = assert_problem(response, 422, slug="missing-reference")
    assert body["missing"] == ["category 'elx.seed_sensor'"]
    response = api.post("/needs", json={"company_id": "oem", "category": "hyd",
                                        "required_certs": ["NOPE"]})
    assert assert_problem(response, 422)["missing"] == ["certification 'NOPE'"]


# --- parameters: ids and numbers (one definition in api/params.py) --------------------


@pytest.fixture
def api1(embedded_store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(embedded_store, tmp_path)


@pytest.mark.parametrize("method, path", [
    ("GET", "/match/buyers?category=hyd.cyl&supplier="),  # the issue's 500
    ("GET", "/match/buyers?supplier=%20%20"),
    ("GET", "/match/buyers?supplier=" + "x" * 201),
    ("GET", "/match/buyers?supplier=sup1&category="),
    ("GET", "/match/buyers?supplier=sup1&required_certs=%20"),
    ("GET", "/match/suppliers?buyer="),
    ("GET", "/match/suppliers?buyer=oem&product=%09"),
    ("GET", "/gaps?cluster="),
    ("GET", "/kpis?cluster=%20"),
    ("GET", "/categories/tree?root="),
    ("GET", "/categories/%20/market"),
    ("GET", "/products/%20/bom"),
    ("GET", "/companies/%20"),
    ("DELETE", "/companies/%20"),
    ("PUT", "/capabilities/%20/hyd.cyl"),
    ("GET", "/capabilities?company_id="),
    ("GET", "/supplies?category=%20"),
])
def test_an_empty_or_blank_id_is_422(api1: ApiCase, method: str, path: str):
    response = api1.client.request(method, path, headers=api1.h("admin"),
                                   json={} if method == "PUT" else None)
    assert_problem(response, 422, slug="validation")


def test_ids_are_stripped_like_the_models_strip_them(api1: ApiCase):
    response = api1.get("/match/buyers?supplier=%20sup1%20")
    assert response.status_code == 200, response.text
    assert response.json()["company_id"] == "sup1"
    assert api1.get("/companies/%20sup1").json()["id"] == "sup1"


@pytest.mark.parametrize("query", [
    # the issue's 500
    "max_distance_km=6.5e304&min_free_capacity=1.6e308&product=W%E2%80%A6",
    "max_distance_km=0", "max_distance_km=-1", "max_distance_km=40000.5",
    "max_distance_km=1e309", "max_distance_km=inf", "max_distance_km=nan",
    "min_free_capacity=-1", "min_free_capacity=1.6e308", "min_free_capacity=1e13",
    "min_free_capacity=-inf", "min_free_capacity=NaN",
])
def test_overflowing_filters_are_422(api1: ApiCase, query: str):
    for path in ("/match/suppliers?buyer=oem&", "/match/buyers?supplier=sup1&"):
        body = assert_problem(api1.get(path + query), 422, slug="validation")
        assert body["errors"][0]["in"] == "query"


def test_filters_at_their_bounds_are_accepted(api1: ApiCase):
    for path in ("/match/suppliers?buyer=oem&", "/match/buyers?supplier=sup1&"):
        response = api1.get(path + "max_distance_km=40000&min_free_capacity=1e12")
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("body", [
    {"product": " "}, {"cluster": ""}, {"product": "drill", "volume": 1e300},
])
def test_plan_bodies_follow_the_same_rules(api1: ApiCase, body: dict[str, object]):
    assert_problem(api1.post("/plans", json=body), 422, slug="validation")
