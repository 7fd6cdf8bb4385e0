"""Access control: each role on each kind of endpoint, ownership, confidential fields.

The analytic engines are the real ones (gaps, KPIs, match, plans, export), so
what a member gets here is what it gets in production; only the ingest
pipeline is a fake (loading files is not what these tests check). Leak tests
with planted sentinel figures over every route are in tests/test_confidentiality.py.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from coopgraph.api.keys import KeyStore
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.errors import ConfigError
from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case


def _fake_ingest(store: GraphStore, paths: list[Path], **kw: Any) -> Any:
    return types.SimpleNamespace(ok=True, rejects=[], files={p.name: {} for p in paths})


@pytest.fixture
def fake_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("coopgraph.ingest.pipeline")
    module.ingest_paths = _fake_ingest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "coopgraph.ingest.pipeline", module)


@pytest.fixture
def api(store: GraphStore, tmp_path: Path, fake_engines: None) -> ApiCase:
    return make_case(store, tmp_path)


_CSV = ("companies.csv", b"id,name\nz,Z\n", "text/csv")

# endpoint kind -> (method, path, json body or files)
ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "read-list": ("GET", "/companies", None),
    "read-record": ("GET", "/capabilities/sup2/hyd.cyl", None),
    "write-own": ("POST", "/capabilities", {"company_id": "sup1", "category": "hyd"}),
    "write-reference": ("POST", "/categories", {"code": "new", "name_ru": "Новое"}),
    "delete-company": ("DELETE", "/companies/sup2", None),
    "market": ("GET", "/categories/hyd.cyl/market", None),
    "gaps": ("GET", "/gaps", None),
    "kpis": ("GET", "/kpis?cluster=c1", None),
    "match-for-sup1": ("GET", "/match/buyers?supplier=sup1", None),
    "plan-cluster": ("POST", "/plans", {"cluster": "c1"}),
    "plan-oem-product": ("POST", "/plans", {"product": "drill", "volume": 10}),
    "export": ("GET", "/export/graphml", None),
    "ingest-upload": ("POST", "/ingest", [("files", _CSV)]),
    "ingest-status": ("GET", "/ingest/000000000000", None),
}

#                    no key admin analyst member_sup1 member_oem
EXPECTED: dict[str, tuple[int, int, int, int, int]] = {
    "read-list":        (401, 200, 200, 200, 200),
    "read-record":      (401, 200, 200, 200, 200),
    "write-own":        (401, 201, 403, 201, 403),
    "write-reference":  (401, 201, 403, 403, 403),
    "delete-company":   (401, 200, 403, 403, 403),  # 200: it lists what cascaded
    "market":           (401, 200, 200, 200, 200),
    "gaps":             (401, 200, 200, 200, 200),
    "kpis":             (401, 200, 200, 200, 200),
    "match-for-sup1":   (401, 200, 200, 200, 403),
    "plan-cluster":     (401, 200, 200, 403, 403),
    "plan-oem-product": (401, 200, 200, 403, 200),
    "export":           (401, 200, 200, 403, 403),
    "ingest-upload":    (401, 202, 403, 403, 403),
    "ingest-status":    (401, 404, 404, 403, 403),
}
ROLE_COLUMNS = (None, "admin", "analyst", "member_sup1", "member_oem")
MATRIX = [(kind, role, EXPECTED[kind][i]) for kind in ENDPOINTS
          for i, role in enumerate(ROLE_COLUMNS)]


def _call(api: ApiCase, method: str, path: str, payload: Any, role: str | None) -> Any:
    headers = api.h(role)
    if isinstance(payload, list):
        return api.client.request(method, path, headers=headers, files=payload)
    return api.client.request(method, path, headers=headers, json=payload)


@pytest.mark.parametrize(("kind", "role", "status"), MATRIX,
                         ids=[f"{k}-{r or 'nokey'}" for k, r, _ in MATRIX])
def test_role_matrix(api: ApiCase, kind: str, role: str | None, status: int) -> None:
    method, path, payload = ENDPOINTS[kind]
    response = _call(api, method, path, payload, role)
    assert response.status_code == status, response.text
    if status == 401:
        assert_problem(response, 401, slug="unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
    elif status == 403:
        assert_problem(response, 403, slug="forbidden")


def test_every_route_needs_a_key(api: ApiCase) -> None:
    open_paths = {"/health", "/ready"}
    checked = 0
    for template, operations in api.app.openapi()["paths"].items():
        if template in open_paths:
            continue
        path = re.sub(r"\{[^}]+\}", "000000000000", template)
        for method in operations:
            response = api.client.request(method.upper(), path)
            assert_problem(response, 401, slug="unauthorized")
            checked += 1
    assert checked > 60


def test_bearer_header_and_cookie_work(api: ApiCase) -> None:
    key = api.keys["analyst"]
    assert api.client.get("/companies", headers={"Authorization": f"Bearer {key}"}
                          ).status_code == 200
    api.client.cookies.set("coopgraph_key", key)
    assert api.client.get("/companies").status_code == 200


@pytest.mark.parametrize("key", ["cg_00000000_wrong", "nonsense", "Bearer x"])
def test_wrong_key_is_401(api: ApiCase, key: str) -> None:
    body = assert_problem(api.client.get("/companies", headers={"X-API-Key": key}), 401)
    assert "unknown or revoked" in body["detail"]


def test_tampered_secret_is_401(api: ApiCase) -> None:
    key = api.keys["admin"]
    assert_problem(api.client.get("/companies", headers={"X-API-Key": key[:-2] + "xx"}), 401)


def test_revoked_key_is_refused_while_running(api: ApiCase, tmp_path: Path) -> None:
    ks = KeyStore(api.store)
    analyst = next(k for k in ks.list() if k.role == "analyst")
    assert api.get("/companies", "analyst").status_code == 200
    ks.revoke(analyst.id)
    assert_problem(api.get("/companies", "analyst"), 401, contains="revoked")


def test_member_writing_another_companys_capability_is_403(api: ApiCase) -> None:
    body = assert_problem(api.post("/capabilities", "member_sup1", json={
        "company_id": "sup2", "category": "hyd", "capacity_per_year": 1}), 403,
        slug="forbidden")
    assert "'sup1'" in body["detail"] and "'sup2'" in body["detail"]
    assert_problem(api.get("/capabilities/sup2/hyd"), 404)
    assert_problem(api.put("/capabilities/sup2/hyd.cyl", "member_sup1", json={
        "company_id": "sup2", "category": "hyd.cyl"}), 403)
    assert_problem(api.delete("/capabilities/sup2/hyd.cyl", "member_sup1"), 403)
    assert api.get("/capabilities/sup2/hyd.cyl").json()["capacity_per_year"] == 500


def test_member_writes_its_own_data(api: ApiCase) -> None:
    own = api.put("/companies/sup1", "member_sup1", json={"id": "sup1", "name": "Гидравлика+"})
    assert own.status_code == 200 and own.json()["name"] == "Гидравлика+"
    assert_problem(api.put("/companies/sup2", "member_sup1",
                           json={"id": "sup2", "name": "x"}), 403)
    assert_problem(api.delete("/companies/sup1", "member_sup1"), 403, contains="admin")
    for path, body in [
        ("/company-processes", {"company_id": "sup1", "process": "welding"}),
        ("/held-certifications", {"company_id": "sup1", "cert": "ISO9001",
                                  "valid_until": "2030-01-01"}),
        ("/imports", {"company_id": "sup1", "category": "hyd", "country": "CN"}),
        ("/needs", {"company_id": "sup1", "category": "hyd", "qty_per_year": 3}),
    ]:
        assert api.post(path, "member_sup1", json=body).status_code in (200, 201), path
    assert api.delete("/company-processes/sup1/welding", "member_sup1").status_code == 204


def test_member_writes_supplies_as_supplier_or_buyer(api: ApiCase) -> None:
    as_buyer = {"supplier_id": "sup2", "buyer_id": "oem", "category": "hyd.cyl",
                "volume_per_year": 10}
    assert api.post("/supplies", "member_oem", json=as_buyer).status_code == 201
    assert api.post("/supplies", "member_sup1", json={
        "supplier_id": "sup1", "buyer_id": "oem", "category": "hyd"}).status_code == 201
    assert_problem(api.post("/supplies", "member_sup1", json=as_buyer), 403)


def test_member_may_not_write_reference_data(api: ApiCase) -> None:
    for path, body in [("/products", {"id": "p", "name": "P", "maker_id": "sup1"}),
                       ("/memberships", {"company_id": "sup1", "cluster_id": "c1"}),
                       ("/processes", {"code": "x", "name_ru": "X"})]:
        assert_problem(api.post(path, "member_sup1", json=body), 403,
                       contains="reference data")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_analyst_writes_are_403(api: ApiCase, method: str) -> None:
    body = {"id": "sup1", "name": "X"}
    path = "/companies" if method == "POST" else "/companies/sup1"
    response = api.client.request(method, path, headers=api.h("analyst"),
                                  json=None if method == "DELETE" else body)
    assert_problem(response, 403, slug="forbidden", contains="analyst")
    assert api.get("/companies/sup1").json()["name"] == "Гидравлика"


def test_member_sees_other_companies_confidential_fields_hidden(api: ApiCase) -> None:
    other = api.get("/capabilities/sup2/hyd.cyl", "member_sup1").json()
    assert other["capacity_per_year"] is None and other["unit_price"] is None
    assert other["min_order"] is None
    assert sorted(other["redacted"]) == ["capacity_per_year", "min_order", "unit_price"]
    own = api.get("/capabilities/sup1/hyd.cyl", "member_sup1").json()
    assert (own["capacity_per_year"], own["unit_price"], own["redacted"]) == (1000, 90, [])
    full = api.get("/capabilities/sup2/hyd.cyl", "analyst").json()
    assert (full["capacity_per_year"], full["redacted"]) == (500, [])


def test_member_listing_hides_others_and_keeps_own(api: ApiCase) -> None:
    rows = api.get("/capabilities", "member_sup1").json()["data"]
    assert {r["company_id"]: r["capacity_per_year"] for r in rows} == {"sup1": 1000,
                                                                        "sup2": None}
    supplies = api.get("/supplies", "member_oem").json()["data"]
    assert supplies[0]["volume_per_year"] == 200  # oem is the buyer: its own link
    supplies = api.get("/supplies", "member_sup1").json()["data"]
    assert supplies[0]["volume_per_year"] == 200
    imports = api.get("/imports", "member_sup1").json()["data"]
    assert imports[0]["volume_per_year"] is None and imports[0]["unit_price"] is None
    needs = api.get("/needs/oem/hyd.cyl", "member_sup1").json()
    assert needs["qty_per_year"] is None and needs["redacted"] == ["qty_per_year"]
    product = api.get("/products/drill", "member_sup1").json()
    assert product["annual_volume"] is None and product["unit_price"] is None


def test_member_may_not_filter_by_confidential_fields(api: ApiCase) -> None:
    assert_problem(api.get("/capabilities", "member_sup1", params={"capacity_per_year": 500}),
                   403, contains="capacity_per_year")


def _add_supplier(api: ApiCase, company: str, capacity: float, price: float) -> None:
    assert api.post("/companies", json={"id": company, "name": company}).status_code == 201
    assert api.post("/capabilities", json={
        "company_id": company, "category": "hyd.cyl", "capacity_per_year": capacity,
        "unit_price": price}).status_code == 201


def test_member_market_counts_only_other_companies(api: ApiCase) -> None:
    market = api.get("/categories/hyd.cyl/market", "member_sup1").json()
    assert market["suppliers"] == 2 and market["capacity_total"] is None
    assert market["price_median"] is None and market["withheld"] is True
    # two competitors and the member's own zero capability do not make three
    _add_supplier(api, "sup3", 100, 99)
    assert api.put("/capabilities/sup1/hyd.cyl", "member_sup1", json={
        "company_id": "sup1", "category": "hyd.cyl", "capacity_per_year": 0,
        "unit_price": 0}).status_code == 200
    market = api.get("/categories/hyd.cyl/market", "member_sup1").json()
    assert market["suppliers"] == 3 and market["capacity_total"] is None
    assert (market["price_min"], market["price_median"], market["price_max"]) == (None,) * 3
    # three other companies: their rounded sum, but no price range (fewer than five)
    _add_supplier(api, "sup4", 1234, 97)
    market = api.get("/categories/hyd.cyl/market", "member_sup1").json()
    assert market["capacity_total"] == 1800  # 500 + 100 + 1234, two significant digits
    assert (market["price_min"], market["price_median"], market["price_max"]) == (None,) * 3
    assert market["withheld"] is True
    full = api.get("/categories/hyd.cyl/market", "analyst").json()
    assert full["capacity_total"] == 1834 and full["withheld"] is False
    assert (full["price_min"], full["price_median"], full["price_max"]) == (0, 96, 99)


def test_member_gaps_hide_other_companies_figures(api: ApiCase) -> None:
    idle = {r["company_id"]: r for r in api.get("/gaps", "member_sup1").json()["idle_capacity"]}
    assert idle["sup2"]["capacity"] is None and idle["sup2"]["free_capacity"] is None
    assert "500" not in idle["sup2"]["text_en"] and "500" not in idle["sup2"]["text_ru"]
    assert "withheld" in idle["sup2"]["text_en"]
    full = {r["company_id"]: r for r in api.get("/gaps", "analyst").json()["idle_capacity"]}
    assert full["sup2"]["capacity"] == 500 and "500" in full["sup2"]["text_en"]


def test_member_rankings_hide_the_partners_figures(api: ApiCase) -> None:
    result = api.get("/match/suppliers?buyer=oem", "member_oem").json()
    candidate = next(c for c in result["candidates"] if c["company_id"] == "sup2")
    capacity = next(f for f in candidate["factors"] if f["name"] == "capacity")
    assert capacity["raw"] is None and capacity["value"] in (0.0, 0.5, 1.0)
    assert "500" not in capacity["text_en"] and "500" not in capacity["text_ru"]
    full = api.get("/match/suppliers?buyer=oem", "admin").json()
    candidate = next(c for c in full["candidates"] if c["company_id"] == "sup2")
    assert next(f for f in candidate["factors"] if f["name"] == "capacity")["raw"] == 500


def test_member_ranks_only_for_itself(api: ApiCase) -> None:
    assert_problem(api.get("/match/suppliers?buyer=oem", "member_sup1"), 403,
                   contains="own company")
    assert_problem(api.get("/match/suppliers?buyer=oem&min_free_capacity=5", "member_oem"),
                   403, contains="free capacity")


def test_auth_off_on_localhost_makes_everyone_admin(store: GraphStore, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(ApiSettings(auth=False, host="127.0.0.1", jobs_dir=tmp_path), store)
    client = TestClient(app, base_url="http://127.0.0.1")  # the address the request arrives on
    assert client.post("/clusters", json={"id": "c9", "name": "X"}).status_code == 201
    assert client.get("/health").json()["auth"] is False


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.org"])
def test_auth_off_elsewhere_is_refused_at_start(store: GraphStore, host: str) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        create_app(ApiSettings(auth=False, host=host), store)
