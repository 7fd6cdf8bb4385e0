"""Stateful fuzzing of the whole HTTP API with schemathesis, on both stores.

One long-lived server per store (the embedded store and the real Neo4j), loaded
with the sample cluster, is fuzzed by schemathesis' own command line — examples,
coverage, fuzzing and the stateful phase (sequences of calls linked through the
OpenAPI document) — with an admin, an analyst and a member key in turn, on the
same server, so what one role's run leaves behind (deletes included) is what the
next one meets. That order is the one that once took the analytics down: an
admin's ``DELETE /categories/…`` left supplies naming the category, and every
analytic route answered 500 from then on.

The run is bounded in cases (``--max-examples``) and time (``--max-time``), uses a
fixed seed so that a failure can be replayed, and talks to 127.0.0.1 only. After
each role's run:

* ``coopgraph check`` finds no integrity problem in the store;
* every analytic route answers 200 for every role.

Failing cases found by earlier runs are kept as plain regression tests in
``tests/test_fuzz_regressions.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from coopgraph.api.keys import KeysFile
from tests.live_server import COOPGRAPH, LiveServer, live_server, store_env

pytestmark = pytest.mark.slow

SEED = 20261129
# Per role: cases per operation and seconds for the whole run. About a minute per
# role and store keeps the test command inside CI's budget on two cores.
MAX_EXAMPLES = int(os.environ.get("COOPGRAPH_FUZZ_EXAMPLES", "12"))
MAX_TIME = int(os.environ.get("COOPGRAPH_FUZZ_SECONDS", "70"))
MEMBER_COMPANY = "m-lityo"  # a foundry of the sample cluster
ROLES = ("admin", "analyst", "member")
SCHEMATHESIS = Path(sys.executable).with_name("st")


def _run(args: list[str], env: dict[str, str], timeout: float,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False, stdin=subprocess.DEVNULL, cwd=cwd)


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def fuzz_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, LiveServer,
                                                                                 dict[str, str]]]:
    """A server over the sample in one store, and a key per role."""
    kind = request.param
    neo4j = None
    if kind == "neo4j":
        from tests import conftest

        session_store = request.getfixturevalue("_neo4j_session_store")
        session_store.clear()
        conftest._Neo4jState.loaded = None
        neo4j = request.getfixturevalue("neo4j_server")
    env = {**os.environ, **store_env(kind, data_dir=tmp_path / "data", neo4j=neo4j),
           "COOPGRAPH_KEYS_FILE": str(tmp_path / "keys.json"),
           "COOPGRAPH_JOBS_DIR": str(tmp_path / "jobs")}
    loaded = _run([str(COOPGRAPH), "ingest", str(Path(__file__).parents[1] / "data" / "sample")],
                  env, timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    keys = KeysFile(tmp_path / "keys.json")  # the server migrates it on first use
    secrets = {
        "admin": keys.create("admin")[1],
        "analyst": keys.create("analyst")[1],
        "member": keys.create("member", company_id=MEMBER_COMPANY)[1],
    }
    with live_server(env, tmp_path / "server.log") as server:
        yield kind, server, secrets


Call = tuple[str, str, dict[str, str], Any]


def _analytic_calls(server: LiveServer, admin: dict[str, str]) -> list[Call]:
    """Every analytic route, with ids that exist in the store right now.

    The fuzzers store ids with control characters, slashes and non-BMP letters, so query
    values travel as parameters and path segments percent-encoded, never pasted into a URL.
    """
    def first(path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        page = httpx.get(server.url + path, headers=admin, params={"limit": "50", **(params or {})},
                         timeout=60).json()
        # A key with "/" or a dot segment is stored but is no single URL path segment.
        addressable = [item for item in page.get("data") or []
                       if not any("/" in str(item.get(f, "")) or str(item.get(f)) in {".", ".."}
                                  for f in ("id", "code"))]
        return addressable[0] if addressable else None

    calls: list[Call] = [
        ("GET", "/gaps", {}, None), ("GET", "/categories/tree", {}, None),
        ("GET", "/export/graphml", {}, None),
    ]
    cluster = first("/clusters")  # the fuzzers add clusters: KPIs then need one named
    if cluster:
        calls.append(("GET", "/kpis", {"cluster": cluster["id"]}, None))
    category = first("/categories")
    if category:
        calls.append(("GET", f"/categories/{quote(category['code'], safe='')}/market", {}, None))
    supplier = first("/capabilities")
    if supplier:
        calls.append(("GET", "/match/buyers", {"supplier": supplier["company_id"]}, None))
    oem = first("/companies", {"roles": "oem"})
    if oem:
        calls.append(("GET", "/match/suppliers", {"buyer": oem["id"]}, None))
    product = first("/products")
    if product:
        calls.append(("POST", "/plans", {}, {"product": product["id"], "volume": 10}))
    return calls


def _write_back_missing(server: LiveServer, admin: dict[str, str], called: set[str]) -> None:
    """Write, as the admin, one record for each analytic route that found no ids."""
    def post(path: str, body: dict[str, Any]) -> None:
        response = httpx.post(server.url + path, json=body, headers=admin, timeout=60)
        assert response.status_code in (200, 201), (path, response.status_code, response.text)

    category = "fuzz-check.part"
    post("/categories", {"code": category, "name_ru": "Деталь для проверки",
                         "name_en": "A part for the check"})
    oem = "fuzz-check-oem"
    if "/match/suppliers" not in called or "/plans" not in called:
        post("/companies", {"id": oem, "name": "АО «Проверочный завод»", "roles": ["oem"],
                            "region": "Липецкая область"})
    if "/match/buyers" not in called:
        post("/companies", {"id": "fuzz-check-supplier", "name": "ООО «Проверочная литейка»",
                            "roles": ["supplier"], "region": "Липецкая область"})
        post("/capabilities", {"company_id": "fuzz-check-supplier", "category": category,
                               "capacity_per_year": 1000})
    if "/plans" not in called:
        post("/products", {"id": "fuzz-check-product", "name": "Проверочная сеялка",
                           "maker_id": oem})
        post("/bom-lines", {"parent": "fuzz-check-product", "child": category, "qty": 2,
                            "parent_kind": "product"})
    if "/kpis" not in called:
        post("/clusters", {"id": "fuzz-check-cluster", "name": "Проверочный кластер",
                           "region": "Липецкая область"})


def _check_after(kind: str, server: LiveServer, secrets: dict[str, str], after: str) -> None:
    checked = _run([str(COOPGRAPH), "check", "--json"], server.env, timeout=300)
    assert checked.returncode == 0, (
        f"{kind}: `coopgraph check` after the {after} run found problems:\n"
        f"{checked.stdout}\n{checked.stderr}")
    admin = {"X-API-Key": secrets["admin"]}
    member_owns = httpx.get(server.url + f"/companies/{MEMBER_COMPANY}", headers=admin,
                            timeout=60).status_code == 200
    calls = _analytic_calls(server, admin)
    called = {path for _m, path, _p, _b in calls}
    if not {"/kpis", "/match/buyers", "/match/suppliers", "/plans"} <= called:
        # An admin's run may delete every record of a kind (companies cascade to their
        # products): write the missing ones back, so every analytic route still runs over
        # what the fuzzer left.
        _write_back_missing(server, admin, called)
        calls = _analytic_calls(server, admin)
        called = {path for _m, path, _p, _b in calls}
    assert {"/gaps", "/kpis", "/match/buyers", "/match/suppliers", "/plans"} <= called, called
    for method, path, params, body in calls:
        for role, secret in secrets.items():
            query = params
            if role == "member":
                if not member_owns:
                    continue  # the admin's run deleted the member's own company
                if path == "/match/buyers":
                    query = {"supplier": MEMBER_COMPANY}
                if path.startswith(("/match/suppliers", "/plans", "/export")):
                    continue  # a member ranks and plans for its own company only; no export
            target = path + (f" {query}" if query else "")
            response = httpx.request(method, server.url + path, params=query, json=body,
                                     headers={"X-API-Key": secret}, timeout=120)
            assert response.status_code == 200, (
                f"{kind}: {method} {target} as {role} after the {after} run answered "
                f"{response.status_code}: {response.text[:500]}\n{server.log_tail(30)}")


def test_schemathesis_finds_no_server_error_for_any_role(
    fuzz_target: tuple[str, LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    kind, server, secrets = fuzz_target
    for role in ROLES:
        report = tmp_path / f"report-{role}"
        run = _run([
            str(SCHEMATHESIS), "--no-color", "run", server.url + "/openapi.json",
            "--checks", "not_a_server_error",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_TIME),
            "--seed", str(SEED), "--workers", "1",
            "--request-timeout", "60",
            "-H", f"X-API-Key: {secrets[role]}",
            # the stateful phase lists keys and revokes them (DELETE /keys/{id}): the run
            # would lock itself and the later roles out; /keys has its own tests
            "--exclude-path", "/keys/{key_id}",
            "--report", "junit", "--report-dir", str(report),
        ], {**server.env, "SCHEMATHESIS_TELEMETRY": "false"}, timeout=MAX_TIME * 4 + 300,
            cwd=tmp_path)  # schemathesis keeps its cache (.schemathesis/) in the working dir
        assert run.returncode == 0, (
            f"{kind}: schemathesis as {role} (seed {SEED}) found failures:\n"
            + run.stdout[-12_000:] + run.stderr[-3_000:] + "\nserver:\n" + server.log_tail())
        _check_after(kind, server, secrets, role)


def test_the_post_check_still_calls_every_route_when_a_run_deleted_their_records(
    fuzz_target: tuple[str, LiveServer, dict[str, str]]
) -> None:
    """An admin's fuzz run may delete every product and cluster (a company's delete
    cascades to its products); the post-check then writes one back and still calls
    every analytic route, instead of failing on what the fuzzer was allowed to do."""
    kind, server, secrets = fuzz_target
    admin = {"X-API-Key": secrets["admin"]}
    for listing, path in (("/products", "/products/{}"), ("/clusters", "/clusters/{}")):
        page = httpx.get(server.url + listing, headers=admin, params={"limit": "500"},
                         timeout=60).json()
        assert page["data"], listing
        for item in page["data"]:
            gone = httpx.delete(server.url + path.format(quote(item["id"], safe="")),
                                params={"cascade": "true"}, headers=admin, timeout=60)
            assert gone.status_code in (200, 204), gone.text
    called = {p for _m, p, _q, _b in _analytic_calls(server, admin)}
    assert "/plans" not in called and "/kpis" not in called, called
    _check_after(kind, server, secrets, "deleting")  # writes them back, calls every route
    called = {p for _m, p, _q, _b in _analytic_calls(server, admin)}
    assert {"/plans", "/kpis"} <= called, called
