"""CRUD, paging, filters and the 4xx problems of every resource, on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.schema import KINDS, EntityKind
from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case

# resource path, kind, a new record, a field to change and its new value
RESOURCES: list[tuple[str, EntityKind, dict[str, Any], str | None, Any]] = [
    ("/companies", EntityKind.COMPANY,
     {"id": "new", "name": "Новая фирма", "inn": "4826003330", "roles": ["service"]},
     "employees", 42),
    ("/clusters", EntityKind.CLUSTER, {"id": "c2", "name": "Станкокластер"}, "region",
     "Липецкая область"),
    ("/memberships", EntityKind.MEMBERSHIP, {"company_id": "sup2", "cluster_id": "c1"},
     "since", "2020-01-01"),
    ("/categories", EntityKind.CATEGORY,
     {"code": "hyd.pump", "name_ru": "Насосы", "parent": "hyd"}, "unit_price", 77.5),
    ("/processes", EntityKind.PROCESS, {"code": "painting", "name_ru": "Окраска"},
     "name_en", "Painting"),
    ("/company-processes", EntityKind.COMPANY_PROCESS,
     {"company_id": "sup2", "process": "welding"}, None, None),
    ("/certifications", EntityKind.CERTIFICATION, {"code": "IATF16949"}, "name", "IATF"),
    ("/held-certifications", EntityKind.HELD_CERTIFICATION,
     {"company_id": "sup2", "cert": "ISO9001"}, "valid_until", "2030-01-01"),
    ("/products", EntityKind.PRODUCT, {"id": "sprayer", "name": "Опрыскиватель",
                                       "maker_id": "oem"}, "annual_volume", 50.0),
    ("/bom-lines", EntityKind.BOM_LINE, {"parent": "drill", "child": "hyd", "qty": 2},
     "qty", 3.0),
    ("/capabilities", EntityKind.CAPABILITY, {"company_id": "sup1", "category": "hyd"},
     "capacity_per_year", 10.0),
    ("/supplies", EntityKind.SUPPLY,
     {"supplier_id": "sup2", "buyer_id": "oem", "category": "hyd.cyl"}, "volume_per_year", 5.0),
    ("/imports", EntityKind.IMPORT, {"company_id": "oem", "category": "hyd", "country": "DE"},
     "unit_price", 12.0),
    ("/needs", EntityKind.NEED, {"company_id": "sup1", "category": "hyd"}, "qty_per_year", 9.0),
]
IDS = [r[0].strip("/") for r in RESOURCES]


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path)


def _key_path(base: str, kind: EntityKind, record: dict[str, Any]) -> str:
    defaults = {"parent_kind": "product"}
    return base + "/" + "/".join(str(record.get(f, defaults.get(f))) for f in
                                 KINDS[kind].key_fields)


@pytest.mark.parametrize(("base", "kind", "record", "field", "value"), RESOURCES, ids=IDS)
def test_crud_round_trip(api: ApiCase, base: str, kind: EntityKind, record: dict[str, Any],
                         field: str | None, value: Any) -> None:
    created = api.post(base, json=record)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in record} == record
    assert body["source"] == "api" and body["ingested_at"]

    path = _key_path(base, kind, record)
    got = api.get(path)
    assert got.status_code == 200 and got.json() == body

    again = api.post(base, json=record)
    assert again.status_code == 200, again.text

    if field is not None:
        replaced = api.put(path, json={**record, field: value})
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()[field] == value
        assert api.get(path).json()[field] == value

    expected = record if field is None else {**record, field: value}
    listed = api.get(base, params={"limit": 1000}).json()
    assert any(all(item[k] == v for k, v in expected.items()) for item in listed["data"])

    assert api.delete(path).status_code == 204
    assert_problem(api.get(path), 404, slug="not-found")
    assert_problem(api.delete(path), 404, slug="not-found")


@pytest.mark.parametrize(("base", "kind", "record", "field", "value"), RESOURCES, ids=IDS)
def test_unknown_key_is_404(api: ApiCase, base: str, kind: EntityKind, record: dict[str, Any],
                            field: str | None, value: Any) -> None:
    missing = {f: "nope" for f in KINDS[kind].key_fields}
    if "parent_kind" in missing:
        missing["parent_kind"] = "product"
    body = assert_problem(api.get(_key_path(base, kind, missing)), 404, slug="not-found")
    assert "nope" in body["detail"]


@pytest.mark.parametrize(("base", "kind", "record", "field", "value"), RESOURCES, ids=IDS)
def test_unknown_field_is_422(api: ApiCase, base: str, kind: EntityKind, record: dict[str, Any],
                              field: str | None, value: Any) -> None:
    body = assert_problem(api.post(base, json={**record, "colour": "red"}), 422,
                          slug="validation")
    assert [e["field"] for e in body["errors"]] == ["colour"]


def test_invalid_inn_is_422_with_the_check_digit_message(api: ApiCase) -> None:
    response = api.post("/companies", json={"id": "x", "name": "X", "inn": "7707083894"})
    body = assert_problem(response, 422, slug="validation", contains="check digit")
    assert body["errors"] == [{
        "field": "inn", "in": "body",
        "message": "INN 7707083894 fails its check digit (expected 3 as the last digit)"}]
    assert_problem(api.get("/companies/x"), 404)


def test_validation_lists_every_bad_field(api: ApiCase) -> None:
    response = api.post("/capabilities", json={
        "company_id": "sup1", "category": "hyd", "capacity_per_year": -1, "unit_price": "abc"})
    body = assert_problem(response, 422, slug="validation")
    assert sorted(e["field"] for e in body["errors"]) == ["capacity_per_year", "unit_price"]


def test_domain_model_checks_run_too(api: ApiCase) -> None:
    body = assert_problem(api.post("/companies", json={"id": "x", "name": "X", "lat": 52.0}),
                          422, slug="validation")
    assert "lat and lon must be given together" in body["detail"]
    assert_problem(api.post("/supplies", json={
        "supplier_id": "oem", "buyer_id": "oem", "category": "hyd"}), 422,
        contains="cannot supply itself")


def test_missing_reference_is_422_naming_the_node(api: ApiCase) -> None:
    body = assert_problem(api.post("/capabilities", json={
        "company_id": "ghost", "category": "hyd"}), 422, slug="missing-reference")
    assert body["missing"] == ["company 'ghost'"]


def test_put_key_must_match_path(api: ApiCase) -> None:
    body = assert_problem(api.put("/companies/sup1", json={"id": "sup2", "name": "X"}), 422,
                          slug="validation")
    assert body["errors"][0]["field"] == "id"
    assert api.get("/companies/sup2").json()["name"] == "Литейный цех"


def test_paging(api: ApiCase) -> None:
    first = api.get("/companies", params={"limit": 2}).json()
    second = api.get("/companies", params={"limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == 3
    assert [c["id"] for c in first["data"]] == ["oem", "sup1"]
    assert [c["id"] for c in second["data"]] == ["sup2"]
    assert (first["offset"], first["limit"]) == (0, 2)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 5000}, {"offset": -1},
                                    {"limit": "many"}])
def test_bad_paging_is_422(api: ApiCase, params: dict[str, Any]) -> None:
    body = assert_problem(api.get("/companies", params=params), 422, slug="validation")
    assert body["errors"][0]["in"] == "query"


def test_filters(api: ApiCase) -> None:
    by_region = api.get("/companies", params={"region": "Липецкая область"}).json()
    assert [c["id"] for c in by_region["data"]] == ["oem", "sup1"]
    by_role = api.get("/companies", params={"roles": "oem"}).json()
    assert [c["id"] for c in by_role["data"]] == ["oem"]
    caps = api.get("/capabilities", params={"category": "hyd.cyl"}).json()
    assert [c["company_id"] for c in caps["data"]] == ["sup1", "sup2"]
    assert api.get("/capabilities", params={"capacity_per_year": 500}).json()["total"] == 1


def test_unknown_filter_is_400(api: ApiCase) -> None:
    body = assert_problem(api.get("/companies", params={"colour": "red"}), 400,
                          slug="invalid-query", contains="'colour'")
    assert "region" in body["detail"]


def test_bad_filter_value_is_400(api: ApiCase) -> None:
    assert_problem(api.get("/companies", params={"employees": "many"}), 400,
                   slug="invalid-query", contains="employees")


def test_unknown_route_and_method_are_problems(api: ApiCase) -> None:
    assert_problem(api.get("/nowhere"), 404, contains="/nowhere")
    assert_problem(api.client.patch("/companies", headers=api.h("admin")), 405)


def test_category_tree(api: ApiCase) -> None:
    tree = api.get("/categories/tree").json()
    assert [n["code"] for n in tree] == ["hyd"]
    assert [n["code"] for n in tree[0]["children"]] == ["hyd.cyl"]
    assert api.get("/categories/tree", params={"root": "hyd.cyl"}).json()[0]["children"] == []
    assert_problem(api.get("/categories/tree", params={"root": "zzz"}), 404, contains="zzz")


def test_category_market_aggregates(api: ApiCase) -> None:
    market = api.get("/categories/hyd.cyl/market").json()
    assert market["suppliers"] == 2 and market["capacity_total"] == 1500
    assert (market["price_min"], market["price_max"]) == (90, 95)
    assert market["demand_needs"] == 300 and market["supplied_volume"] == 200
    assert market["withheld"] is False
    assert_problem(api.get("/categories/zzz/market"), 404)


def test_product_bom(api: ApiCase) -> None:
    lines = api.get("/products/drill/bom").json()
    assert [(b["child"], b["qty"]) for b in lines] == [("hyd.cyl", 4.0)]
    assert_problem(api.get("/products/zzz/bom"), 404)


def test_deleting_a_company_takes_its_links(api: ApiCase) -> None:
    response = api.delete("/companies/sup1")
    assert response.status_code == 200, response.text
    assert response.json()["deleted"]["capability"] == [["sup1", "hyd.cyl"]]
    assert api.get("/capabilities", params={"company_id": "sup1"}).json()["total"] == 0
    assert api.get("/supplies").json()["total"] == 0
