"""Health, readiness, store outages (503), server errors (500), missing engines (501), OpenAPI."""

from __future__ import annotations

import io
import socket
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coopgraph.api.keys import KeysFile
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_reports_the_store(api: ApiCase, store: GraphStore) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["store"] == store.kind
    assert body["detail"]["store"] == store.kind and body["auth"] is True
    assert body["revision"] == store.revision()
    assert api.client.get("/ready").json() == {"ready": True}


@pytest.fixture
def dead_neo4j(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> TestClient:
    port = _closed_port()
    monkeypatch.setenv("COOPGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{port}")
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    keys_file = tmp_path / "keys.json"
    key = KeysFile(keys_file).create("admin")[1]  # migrated on first use
    app = create_app(ApiSettings(keys_file=keys_file, jobs_dir=tmp_path / "jobs"))
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["X-API-Key"] = key
    return client


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", ["/health", "/ready", "/companies", "/kpis"])
def test_neo4j_unreachable_is_503(dead_neo4j: TestClient, path: str) -> None:
    body = assert_problem(dead_neo4j.get(path), 503, slug="store-unavailable")
    assert "Neo4j" in body["detail"] and "unreachable" in body["detail"]


def test_unexpected_error_is_500_without_internals(api: ApiCase,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 12")

    monkeypatch.setattr(api.app.state.holder, "get", boom)
    response = api.get("/companies")
    body = assert_problem(response, 500, slug="internal")
    assert "secret" not in response.text and "app.py" not in response.text
    assert body["detail"] == "the server failed while handling the request; the error is logged"


def test_missing_engine_is_501(api: ApiCase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "coopgraph.queries.kpi", None)
    assert_problem(api.get("/kpis", params={"cluster": "c1"}), 501, slug="not-implemented",
                   contains="coopgraph.queries.kpi")


def test_kpis_need_a_cluster_when_there_are_several(api: ApiCase) -> None:
    api.post("/clusters", json={"id": "c2", "name": "Второй"})
    assert_problem(api.get("/kpis"), 400, slug="invalid-query", contains="c1, c2")
    assert_problem(api.get("/kpis", params={"cluster": "zz"}), 404, contains="zz")


def test_unknown_ids_in_analytics_are_404(api: ApiCase) -> None:
    assert_problem(api.get("/gaps", params={"cluster": "zz"}), 404, contains="zz")
    assert_problem(api.post("/plans", json={"product": "zz"}), 404, contains="zz")
    assert_problem(api.post("/plans", json={"cluster": "zz"}), 404, contains="zz")


@pytest.mark.parametrize("body", [{}, {"product": "drill", "cluster": "c1"},
                                  {"cluster": "c1", "volume": 5}, {"product": "drill",
                                                                    "volume": -1}])
def test_bad_plan_request_is_422(api: ApiCase, body: dict[str, object]) -> None:
    assert_problem(api.post("/plans", json=body), 422, slug="validation")


def test_bad_match_arguments(api: ApiCase) -> None:
    assert_problem(api.get("/match/buyers"), 422, contains="supplier")
    assert_problem(api.get("/match/buyers", params={"supplier": "sup1", "k": 0}), 422)
    assert_problem(api.get("/match/buyers", params={"supplier": "ghost"}), 404,
                   contains="ghost")


def test_openapi_is_complete(api: ApiCase) -> None:
    spec = api.client.get("/openapi.json").json()
    tags = {t["name"] for t in spec["tags"]}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), (method, path)
            assert op.get("tags") and set(op["tags"]) <= tags, (method, path)
    schemas = spec["components"]["schemas"]
    for name in ("CompanyCreate", "CompanyPublic", "CompaniesPublic", "CapabilityCreate",
                 "BomLinesPublic", "SuppliesPublic", "PlanRequest", "IngestJob"):
        assert name in schemas, name
    for name, schema in schemas.items():
        if name.endswith("Create"):
            assert schema.get("examples"), name
    assert "redacted" in schemas["CapabilityPublic"]["properties"]
    security = spec["components"]["securitySchemes"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(security)


def test_export_graphml_views(api: ApiCase) -> None:
    import networkx as nx

    network = api.get("/export/graphml")
    assert network.status_code == 200
    assert network.headers["content-type"].startswith("application/graphml+xml")
    graph = nx.read_graphml(io.BytesIO(network.content))
    assert graph.number_of_nodes() >= 3 and graph.number_of_edges() >= 1
    full = nx.read_graphml(io.BytesIO(api.get("/export/graphml", params={"view": "full"}
                                              ).content))
    assert "Company:sup1" in full and "Category:hyd.cyl" in full
    assert full.nodes["Category:hyd.cyl"]["processes"] == "machining"
    assert full.number_of_edges() == sum(v for k, v in api.store.stats().items()
                                         if k in ("membership", "bom_line", "capability",
                                                  "held_certification", "company_process",
                                                  "supply", "import", "need"))
    assert_problem(api.get("/export/graphml", params={"view": "bogus"}), 422)
