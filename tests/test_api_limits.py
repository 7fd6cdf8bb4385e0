"""No input breaks the server: body limits on every route, non-finite and huge numbers refused.

A member writes its own company's record; an 80 MB name, ``Infinity`` or
``1e999`` in a capacity, ``1e308`` as a plan's volume must each get a problem
document (413 or 422), never a 500, and must never reach the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.models import MAX_AMOUNT
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path)


def _company(name: str) -> dict[str, Any]:
    return {"id": "sup1", "name": name, "inn": "4822001117", "roles": ["supplier"]}


def _raw(api: ApiCase, method: str, path: str, body: bytes | Iterator[bytes],
         role: str = "member_sup1") -> Any:
    return api.client.request(method, path, headers={**api.h(role), **JSON}, content=body)


def _name_unchanged(store: GraphStore) -> None:
    assert store.get(EntityKind.COMPANY, ("sup1",)).name == "Гидравлика"  # type: ignore[attr-defined]


def test_eighty_megabyte_name_is_413_and_not_stored(api: ApiCase, store: GraphStore) -> None:
    body = json.dumps(_company("x" * (80 * MiB))).encode()
    problem = assert_problem(_raw(api, "PUT", "/companies/sup1", body), 413,
                             slug="body-too-large", contains="COOPGRAPH_BODY_LIMIT")
    assert problem["limit"] == MiB
    _name_unchanged(store)


def test_chunked_body_past_the_limit_is_cut_off(api: ApiCase, store: GraphStore) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        nonlocal sent
        yield b'{"id": "sup1", "name": "'
        for _ in range(80):
            sent += 1
            yield b"x" * MiB
        yield b'"}'

    response = _raw(api, "POST", "/companies", chunks())
    assert_problem(response, 413, slug="body-too-large")
    _name_unchanged(store)


def test_the_body_limit_is_a_setting(store: GraphStore, tmp_path: Path) -> None:
    api = make_case(store, tmp_path, body_limit=200 * MiB)
    # Under a raised limit the models' own caps still refuse the name (422).
    body = json.dumps(_company("x" * (80 * MiB))).encode()
    problem = assert_problem(_raw(api, "PUT", "/companies/sup1", body), 422, slug="validation")
    assert problem["errors"][0]["field"] == "name"
    assert len(json.dumps(problem)) < 2000  # the input is not echoed back
    _name_unchanged(store)
    small = make_case(store, tmp_path / "small", seed=False, body_limit=2048)
    assert_problem(_raw(small, "POST", "/companies", json.dumps(_company("y" * 4000)).encode()),
                   413, slug="body-too-large", contains="2048 bytes")


def test_the_body_limit_setting_is_read_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from coopgraph.api.settings import load_api_settings
    from coopgraph.graph.errors import ConfigError

    monkeypatch.setenv("COOPGRAPH_BODY_LIMIT", "4096")
    assert load_api_settings().body_limit == 4096
    monkeypatch.setenv("COOPGRAPH_BODY_LIMIT", "lots")
    with pytest.raises(ConfigError, match="COOPGRAPH_BODY_LIMIT"):
        load_api_settings()


def test_uploads_keep_their_larger_limit(api: ApiCase) -> None:
    # 2 MiB is above the JSON limit and below the upload limit; the table is one
    # nobody knows, so that the job ends at once.
    csv = b"foo,bar\n" + b"a,b\n" * (MiB // 2)
    response = api.post("/ingest", files=[("files", ("junk.csv", csv, "text/csv"))])
    assert response.status_code == 202, response.text
    api.app.state.jobs.wait(timeout=60)


@pytest.mark.parametrize("path", ["/plans", "/capabilities", "/match/buyers?supplier=sup1"])
def test_every_route_has_the_limit(api: ApiCase, path: str) -> None:
    response = _raw(api, "POST", path, b"[" + b"1," * MiB + b"1]", role="admin")
    assert_problem(response, 413, slug="body-too-large")


# --- numbers a JSON parser turns into infinities ------------------------------------

@pytest.mark.parametrize("field", ["capacity_per_year", "unit_price"])
@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e999", "1e308"])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_capability_numbers_must_be_finite_and_bounded(
        api: ApiCase, store: GraphStore, field: str, value: str, method: str) -> None:
    body = {"company_id": "sup1", "category": "hyd.cyl", "capacity_per_year": 10,
            "unit_price": 90}
    text = json.dumps(body).replace(f'"{field}": {body[field]}', f'"{field}": {value}')
    path = "/capabilities" if method == "POST" else "/capabilities/sup1/hyd.cyl"
    problem = assert_problem(_raw(api, method, path, text.encode()), 422, slug="validation")
    assert [e["field"] for e in problem["errors"]] == [field]
    stored = store.get(EntityKind.CAPABILITY, ("sup1", "hyd.cyl"))
    assert stored.capacity_per_year == 1000 and stored.unit_price == 90  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["Infinity", "1e999", "NaN", "1e300"])
def test_bom_qty_must_be_finite_and_bounded(api: ApiCase, store: GraphStore, value: str) -> None:
    text = '{"parent": "drill", "child": "hyd.cyl", "parent_kind": "product", "qty": ' + value + "}"
    for method, path in (("POST", "/bom-lines"), ("PUT", "/bom-lines/product/drill/hyd.cyl")):
        problem = assert_problem(_raw(api, method, path, text.encode(), role="admin"), 422,
                                 slug="validation")
        assert [e["field"] for e in problem["errors"]] == ["qty"]
    assert store.get(EntityKind.BOM_LINE, ("product", "drill", "hyd.cyl")).qty == 4  # type: ignore[attr-defined]


def test_no_infinite_capability_can_be_created(api: ApiCase, store: GraphStore) -> None:
    before = store.snapshot().rows(EntityKind.CAPABILITY)
    for value in ("Infinity", "1e999", "NaN", str(MAX_AMOUNT * 10)):
        text = '{"company_id": "sup1", "category": "hyd", "capacity_per_year": ' + value + "}"
        assert_problem(_raw(api, "POST", "/capabilities", text.encode()), 422)
    assert store.snapshot().rows(EntityKind.CAPABILITY) == before
    assert not store.exists(EntityKind.CAPABILITY, ("sup1", "hyd"))


# --- plans ---------------------------------------------------------------------------


@pytest.mark.parametrize("volume", ["1e308", "1e999", "Infinity", "NaN", "-1", "0",
                                    "1" + "0" * 400])
def test_plan_volume_must_be_finite_and_bounded(api: ApiCase, volume: str) -> None:
    body = '{"product": "drill", "volume": ' + volume + "}"
    problem = assert_problem(_raw(api, "POST", "/plans", body.encode(), role="admin"), 422,
                             slug="validation")
    assert problem["errors"][0]["field"] == "volume"


@pytest.mark.parametrize("option", ['"inferred_capacity": 1e999', '"logistics_rate": NaN',
                                    '"max_distance_km": 1e300'])
def test_plan_options_must_be_finite(api: ApiCase, option: str) -> None:
    body = '{"cluster": "c1", "options": {' + option + "}}"
    problem = assert_problem(_raw(api, "POST", "/plans", body.encode(), role="admin"), 422,
                             slug="validation")
    assert problem["errors"][0]["field"] == "options"


def test_a_bounded_plan_still_plans(api: ApiCase) -> None:
    """A volume at the planner's limit plans; one above it is a 400 that names the limit."""
    from coopgraph.queries.bom import VOLUME_FLOOR

    at_limit = api.post("/plans", json={"product": "drill", "volume": VOLUME_FLOOR})
    assert at_limit.status_code == 200, at_limit.text
    above = api.post("/plans", json={"product": "drill", "volume": MAX_AMOUNT})
    assert_problem(above, 400)
    assert "planner's limit" in above.json()["detail"]


def test_an_http2_body_without_a_length_is_counted(api: ApiCase, store: GraphStore) -> None:
    """HTTP/2 may stream a body with neither Content-Length nor chunking: it is counted too."""
    import asyncio

    chunks = [b'{"id": "sup1", "name": "'] + [b"x" * (256 * 1024)] * 8 + [b'"}']
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path = "/companies/sup1"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "2", "method": "PUT",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"x-api-key", api.keys["member_sup1"].encode())],
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "root_path": "",
             "app": api.app}
    asyncio.run(api.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert b"body-too-large" in b"".join(m.get("body", b"") for m in sent[1:])
    _name_unchanged(store)
