"""Security headers on every response, auth-off only on loopback, no server path in any answer.

The auth-off rule is checked twice: in-process through the ASGI scope's
``server`` address, and with a real uvicorn started by hand on every interface
(``--host 0.0.0.0``), reached once through 127.0.0.1 and once through this
machine's own non-loopback address (the traffic stays on this machine).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from coopgraph.api.headers import CSP, DOCS_CSP
from coopgraph.api.keys import KeyStore
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings, is_loopback
from coopgraph.graph.errors import StoreError
from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path)


def _assert_headers(response: Any, csp: str = CSP) -> None:
    for name, value in {**HEADERS, "content-security-policy": csp}.items():
        assert response.headers.get_list(name) == [value], (response.request.url, name,
                                                            response.headers)


# --- security headers ------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "role", "status"), [
    ("GET", "/companies", "admin", 200),
    ("GET", "/match/buyers?supplier=sup1", "admin", 200),
    ("GET", "/health", None, 200),
    ("GET", "/ready", None, 200),
    ("GET", "/companies", None, 401),
    ("GET", "/companies/nobody", "admin", 404),
    ("GET", "/no/such/route", "admin", 404),
    ("DELETE", "/health", "admin", 405),
    ("DELETE", "/companies/sup2", "analyst", 403),
    ("POST", "/plans", "admin", 422),
    ("GET", "/", None, 200),
    ("GET", "/favicon.ico", None, 200),
    ("GET", "/ui/app.js", None, 200),
    ("GET", "/ui/app.css", None, 200),
    ("GET", "/ui/i18n/ru.js", None, 200),
    ("GET", "/ui/nothing.js", None, 404),
    ("GET", "/openapi.json", None, 200),
])
def test_every_response_has_the_security_headers(api: ApiCase, method: str, path: str,
                                                 role: str | None, status: int) -> None:
    response = api.client.request(method, path, headers=api.h(role),
                                  json={} if method == "POST" else None)
    assert response.status_code == status, response.text
    _assert_headers(response)


def test_a_body_refused_before_the_app_has_the_headers(api: ApiCase) -> None:
    response = api.client.post("/companies", headers={**api.h("admin"),
                                                      "content-length": str(50 << 20)},
                               content=b"{}")
    assert response.status_code == 413
    _assert_headers(response)


def test_a_500_has_the_headers(api: ApiCase, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api.app.state.holder, "get", boom)
    response = api.get("/companies")
    assert response.status_code == 500
    _assert_headers(response)


def test_the_openapi_pages_get_their_own_policy(api: ApiCase) -> None:
    for path in ("/docs", "/redoc"):
        response = api.client.get(path)
        assert response.status_code == 200
        _assert_headers(response, DOCS_CSP)


def test_the_dashboard_has_no_inline_script_style_or_handler() -> None:
    """What the CSP forbids is not in the dashboard's files (the browser test runs them)."""
    import re

    folder = ROOT / "api" / "dashboard"
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    for script in folder.rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|innerHTML|insertAdjacentHTML|"
                             r"setAttribute\(\s*['\"](style|on)", text), script.name
        # style given as a string would go through setAttribute('style', …): refused by the CSP
        assert not re.search(r"\bstyle:\s*['\"`](?!percent|currency)", text), script.name


# --- auth off: loopback only -------------------------------------------------------------


def _auth_off(store: GraphStore, tmp_path: Path, base_url: str) -> TestClient:
    app = create_app(ApiSettings(auth=False, host="127.0.0.1", jobs_dir=tmp_path / "jobs"),
                     store)
    return TestClient(app, base_url=base_url, raise_server_exceptions=False)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1", "http://[::1]", "http://localhost"])
def test_auth_off_answers_on_loopback(store: GraphStore, tmp_path: Path, base_url: str) -> None:
    client = _auth_off(store, tmp_path, base_url)
    assert client.get("/companies").status_code == 200
    assert client.get("/health").json()["auth"] is False


@pytest.mark.parametrize("base_url", ["http://192.0.2.10", "http://[2001:db8::1]",
                                      "http://testserver"])
def test_auth_off_refuses_other_addresses(store: GraphStore, tmp_path: Path,
                                          base_url: str) -> None:
    client = _auth_off(store, tmp_path, base_url)
    for path in ("/companies", "/health", "/", "/ui/app.js"):
        response = client.get(path)
        body = assert_problem(response, 503, slug="auth-off-not-loopback",
                              contains="COOPGRAPH_AUTH=off")
        assert "coopgraph keys create" in body["detail"]
        _assert_headers(response)
    response = client.post("/clusters", json={"id": "c9", "name": "X"})
    assert response.status_code == 503
    assert not store.exists(*_cluster_key("c9"))


def _cluster_key(cid: str) -> tuple[Any, tuple[str, ...]]:
    from coopgraph.graph.schema import EntityKind

    return EntityKind.CLUSTER, (cid,)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("::ffff:127.0.0.1", True), ("localhost", True), ("192.0.2.2", False), ("0.0.0.0", False),
    ("::", False), ("::ffff:192.0.2.2", False), ("testserver", False), ("", False),
])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_auth_off_refuses_a_server_without_an_address(store: GraphStore, tmp_path: Path) -> None:
    import asyncio

    app = create_app(ApiSettings(auth=False, host="127.0.0.1", jobs_dir=tmp_path), store)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/companies", "raw_path": b"/companies",
             "query_string": b"", "headers": [], "server": None, "client": None,
             "root_path": "", "app": app}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 503


def test_auth_on_is_not_affected_by_the_address(store: GraphStore, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    key = KeyStore(store).create("admin")[1]
    app = create_app(ApiSettings(keys_file=keys, jobs_dir=tmp_path / "jobs"), store)
    client = TestClient(app, base_url="http://192.0.2.10")
    assert client.get("/companies", headers={"X-API-Key": key}).status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(120)
def test_a_hand_started_uvicorn_with_auth_off_serves_loopback_and_guards_the_rest(
        tmp_path: Path) -> None:
    """``uvicorn coopgraph.api.main:create_app --factory --host 0.0.0.0`` with auth off.

    The app cannot see uvicorn's ``--host``, so the guard reads each request's
    server address. Tests send traffic to loopback only (the workplace's rule), so
    this checks that a real server started this way still answers on 127.0.0.1 and
    carries the guard; the refusal of a non-loopback server address is checked
    through the ASGI scope above (``test_auth_off_refuses_other_addresses``).
    """
    port = _free_port()
    env = {**os.environ, "COOPGRAPH_AUTH": "off", "COOPGRAPH_STORE": "embedded",
           "COOPGRAPH_DATA_DIR": str(tmp_path / "data")}
    env.pop("COOPGRAPH_HOST", None)  # what a hand-started uvicorn leaves: the 127.0.0.1 default
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "coopgraph.api.main:create_app", "--factory",
         "--host", "0.0.0.0", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"uvicorn did not start: {output}")
                time.sleep(0.2)
        local = httpx.get(f"http://127.0.0.1:{port}/companies", timeout=10)
        assert local.status_code == 200, local.text
        _assert_headers(local)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --- no server path in any answer --------------------------------------------------------


def test_health_without_an_admin_key_shows_the_kind_only(api: ApiCase, store: GraphStore,
                                                         tmp_path: Path) -> None:
    described = store.describe()
    secrets = [str(described[k]) for k in ("uri", "data_dir") if described.get(k)]
    for role in (None, "analyst", "member_sup1"):
        response = api.get("/health", role)
        assert response.status_code == 200
        body = response.json()
        assert body["detail"] == {"store": store.kind} and body["store"] == store.kind
        assert not any(s in response.text for s in secrets), response.text
        assert str(tmp_path) not in response.text
        assert "://" not in response.text
    bad_key = api.client.get("/health", headers={"X-API-Key": "cg_nonsense"})
    assert bad_key.json()["detail"] == {"store": store.kind}
    assert api.get("/health", "admin").json()["detail"] == described
    assert api.client.get("/ready").json() == {"ready": True}


def test_a_corrupt_store_file_is_503_without_its_path(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "secret-location" / "data"
    data.mkdir(parents=True)
    (data / "graph.json").write_bytes(b"{not json")
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(data))
    app = create_app(ApiSettings(auth=False, jobs_dir=tmp_path / "jobs"))
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    for path in ("/health", "/ready", "/companies"):
        response = client.get(path)
        body = assert_problem(response, 503, slug="store-error")
        assert "secret-location" not in response.text and "graph.json" not in response.text, body
        assert body["detail"].startswith("cannot read …: "), body["detail"]


def test_a_relative_data_dir_is_not_shown_either(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var" / "data").mkdir(parents=True)
    (tmp_path / "var" / "data" / "graph.json").write_bytes(b"[]")
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", "var/data")
    app = create_app(ApiSettings(auth=False, jobs_dir=tmp_path / "jobs"))
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    response = client.get("/health")
    assert response.status_code in (500, 503), response.text
    assert "var/data" not in response.text and str(tmp_path) not in response.text


def test_an_unwritable_data_dir_is_503_without_its_path(api: ApiCase, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    where = tmp_path / "private" / "store"

    def ping() -> None:
        raise StoreError(f"the data directory {where} is not writable")

    store = api.app.state.holder.get()
    monkeypatch.setattr(store, "ping", ping)
    for path in ("/health", "/ready"):
        response = api.client.get(path)
        body = assert_problem(response, 503)
        assert "private" not in response.text and "not writable" in body["detail"]


def test_an_unreadable_keys_file_is_500_without_its_path(store: GraphStore,
                                                         tmp_path: Path) -> None:
    keys = tmp_path / "hidden-keys" / "api_keys.json"
    keys.parent.mkdir()
    keys.write_text("{broken", encoding="utf-8")
    app = create_app(ApiSettings(keys_file=keys, jobs_dir=tmp_path / "jobs"), store)
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/companies", headers={"X-API-Key": "cg_x"})
    body = assert_problem(response, 500, slug="configuration")
    assert "hidden-keys" not in response.text, body


@pytest.mark.timeout(120)
def test_an_unreachable_neo4j_is_503_without_its_uri(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("COOPGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{port}")
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    app = create_app(ApiSettings(auth=False, jobs_dir=tmp_path / "jobs"))
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    for path in ("/health", "/ready"):
        response = client.get(path)
        body = assert_problem(response, 503, slug="store-unavailable")
        assert "Neo4j" in body["detail"] and "unreachable" in body["detail"]
        assert "bolt://" not in response.text and str(port) not in response.text, body


def test_ingest_errors_name_the_uploaded_file_not_the_server_path(api: ApiCase) -> None:
    jobs_dir = api.app.state.jobs.jobs_dir
    for name, content in (("junk.xlsx", b"not a workbook"), ("bad.json", b"{oops"),
                          ("companies.csv", b"id,name,inn\na,A,123\n")):
        response = api.post("/ingest", files=[("files", (name, content, "text/csv"))])
        assert response.status_code == 202, response.text
        api.app.state.jobs.wait(timeout=60)
        job = api.get(f"/ingest/{response.json()['id']}")
        assert name in job.text
        assert str(jobs_dir) not in job.text and "/input/" not in job.text, job.text
