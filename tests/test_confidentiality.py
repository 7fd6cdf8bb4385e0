"""Leak tests: a member never gets another company's confidential figures, through any route.

The sample cluster is loaded into each store (embedded and the real Neo4j), and
every confidential field (``graph.schema.confidential_fields``: nothing is
listed here) of every record the member does not own gets a unique sentinel
number — not round, far from any real figure of the sample. Then every route
of the app's OpenAPI document is called as the member (so a new route is
covered without editing this file), and no response may carry a sentinel, a
figure derived from one (a free capacity, a buyer's demand), or a ratio that
gives one back (a capacity factor against the member's own, deliberately huge,
need; a value divided by the category's public price), in any number format:
``987654``, ``987 654`` (normal or narrow no-break spaces), ``987,654``,
``987654.0``, ``9.87654e+05``, a decimal comma. The same calls as admin and
analyst (the cluster centre) must show the sentinels, so the detector is
known to work.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coopgraph.api.keys import KeyStore
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.confidentiality import CENTRE, Viewer, can_see_record
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import KINDS, EntityKind, confidential_fields, spec
from coopgraph.graph.store import MAX_PAGE, GraphStore, Snapshot
from coopgraph.queries.bom import total_demand
from coopgraph.queries.projection import Projection
from coopgraph.queries.results import MatchResult

MEMBERS = ("m-lityo", "m-traktor")  # a component maker and an end-product maker
CLUSTER = "lipetsk-agromash"
OWN_NEED = 3.0e8  # the member's own need per category: makes capacity ratios informative
ROLES = ("admin", "analyst", "member")


# --- sentinels -------------------------------------------------------------------------

# Each kind of figure has its own band, so that capacities exceed the volumes sold
# from them (free capacity stays a distinct secret) and prices stay apart from both.
_BANDS = {"capacity_per_year": (2.1e7, 7919.37), "unit_price": (7.3e7, 6271.13)}
_QUANTITY_BAND = (1.37e6, 3571.29)


def _round_nearby(x: float) -> bool:
    """True when ``x`` is within 1e-5 of a number with at most 4 significant digits."""
    digits = 3 - math.floor(math.log10(abs(x)))
    return abs(x - round(x, digits)) < abs(x) * 1e-5


class _Sentinels:
    """Hands out distinct, non-round numbers per field band."""

    def __init__(self) -> None:
        self._next: dict[str, int] = defaultdict(int)
        self.values: list[float] = []

    def take(self, name: str) -> float:
        base, step = _BANDS.get(name, _QUANTITY_BAND)
        while True:
            i = self._next[name]
            self._next[name] += 1
            value = round(base + step * i + 0.37, 2)
            if not _round_nearby(value):
                self.values.append(value)
                return value


def _plant(store: GraphStore, member: str) -> list[float]:
    """Put a sentinel in every confidential field of every record ``member`` may not see."""
    sentinels = _Sentinels()
    viewer = Viewer(member)
    snapshot = store.snapshot()
    records = []
    for kind in KINDS:
        secret = confidential_fields(kind)
        if not secret:
            continue
        model = spec(kind).model
        for row in snapshot.rows(kind):
            if can_see_record(viewer, kind, row):
                continue
            records.append(model.model_validate({**row, **{f: sentinels.take(f)
                                                           for f in secret}}))
    # the member's own needs, deliberately huge (its own record: its right)
    for row in snapshot.rows(EntityKind.NEED):
        if row["company_id"] == member:
            records.append(spec(EntityKind.NEED).model.model_validate(
                {**row, "qty_per_year": OWN_NEED}))
    store.upsert(records)
    return sentinels.values


def _derived_secrets(proj: Projection, member: str) -> list[float]:
    """Figures made from one other company's sentinels: free capacities and demands."""
    out = [float(v) for v, c in zip(proj.free_capacity.tolist(), proj.cap_company.tolist(),
                                    strict=True) if proj.company_ids[c] != member]
    for p in range(len(proj.product_ids)):
        maker = int(proj.product_maker[p])
        if maker < 0 or proj.company_ids[maker] == member or not proj.product_bom[p]:
            continue
        volume = proj.product_rows[p].get("annual_volume") or 1.0
        out += total_demand(proj, p, float(volume)).values()
    by: dict[tuple[int, int], float] = defaultdict(float)
    for m, c, v in zip(proj.imp_company.tolist(), proj.imp_category.tolist(),
                       proj.imp_volume.tolist(), strict=True):
        by[(m, c)] += v
    out += [v for (m, _), v in by.items() if proj.company_ids[m] != member]
    by.clear()
    for s, b, c, v in zip(proj.sup_supplier.tolist(), proj.sup_buyer.tolist(),
                          proj.sup_category.tolist(), proj.sup_volume.tolist(), strict=True):
        if member not in (proj.company_ids[s], proj.company_ids[b]):
            by[(b, c)] += v
    out += list(by.values())
    return [v for v in out if math.isfinite(v) and v >= 1e5 and not _round_nearby(v)]


# --- finding numbers in any format -----------------------------------------------------

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_GROUP_SEP = re.compile(r"(?<=\d)[ \u00a0\u202f,](?=\d{3}(?!\d))")


def numbers_in(text: str) -> list[float]:
    """Every number ``text`` could be read as: plain, grouped with spaces, no-break spaces
    or commas, with a decimal comma, in exponent form."""
    variants = {text}
    ungrouped = text
    while True:
        joined = _GROUP_SEP.sub("", ungrouped)
        if joined == ungrouped:
            break
        ungrouped = joined
    variants.add(ungrouped)
    variants.add(re.sub(r"(?<=\d),(?=\d)", ".", ungrouped))
    variants.add(re.sub(r"(?<=\d),(?=\d)", ".", text))
    found: list[float] = []
    for variant in variants:
        for token in _NUMBER.findall(variant):
            try:
                number = float(token)
            except ValueError:  # pragma: no cover - the pattern only matches numbers
                continue
            # "5e4021" inside a hex id reads as infinity: no figure is that large
            if math.isfinite(number) and number < 1e15:
                found.append(number)
    return found


@dataclass
class _Secrets:
    """Sorted secret figures and a lookup with a tolerance that covers any rounding
    to whole units (and the 6 significant digits of an exponent form)."""

    values: list[float]

    def __post_init__(self) -> None:
        self.values = sorted(set(self.values))

    def find(self, x: float) -> float | None:
        if x < 1e5:
            return None
        tolerance = max(0.51, x * 5e-6 if x >= 1e6 else 0.0)
        i = bisect.bisect_left(self.values, x - tolerance)
        if i < len(self.values) and abs(self.values[i] - x) <= tolerance:
            return self.values[i]
        return None

    def in_text(self, text: str) -> list[tuple[float, float]]:
        return [(x, s) for x in numbers_in(text) if (s := self.find(x)) is not None]


def test_the_detector_reads_every_format() -> None:
    secrets = _Secrets([987654.25, 12345678.37])
    for text in ("987654", "987 654", "987\u00a0654", "987\u202f654", "987,654", "987654.0",
                 "9.87654e5", "9.87654e+05", "987654,25", "12 345 678", "1.23457e+07",
                 '{"x": 987654.25}', "свободная мощность 987 654 при потребности"):
        assert secrets.in_text(text), text
    for text in ("990000", "987 000", "0.987654", "98765", "1 000 000",
                 "cg_5e4021ab", "job-7e1200f"):  # hex ids are not figures (nor infinity)
        assert not secrets.in_text(text), text


# --- the planted app ---------------------------------------------------------------------


@dataclass
class Planted:
    """The sample with sentinels planted for ``member``, served with a key per role."""

    kind: str
    member: str
    store: GraphStore
    client: TestClient
    keys: dict[str, str]
    secrets: _Secrets
    proj: Projection
    snapshot: Snapshot
    sentinels: list[float]
    bodies: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)

    def call(self, role: str, method: str, url: str, body: Any = None) -> tuple[int, str]:
        response = self.client.request(method, url, json=body,
                                       headers={"X-API-Key": self.keys[role]})
        return response.status_code, response.text


def _load_sample(store: GraphStore) -> None:
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    report = ingest_paths(store, [SAMPLE_DIR])
    assert report.ok, report.rejects[:5]


def _stores() -> list[Any]:
    return [(kind, member) if kind == "embedded" else
            pytest.param((kind, member), marks=pytest.mark.neo4j)
            for kind in ("embedded", "neo4j") for member in MEMBERS]


@pytest.fixture(scope="module", params=_stores(), ids=lambda p: f"{p[0]}-{p[1]}")
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Planted]:
    kind, member = request.param
    tmp = tmp_path_factory.mktemp(f"conf-{kind}-{member}")
    store: GraphStore
    if kind == "embedded":
        store = EmbeddedStore(tmp / "store")
    else:
        from tests.conftest import _Neo4jState

        store = request.getfixturevalue("_neo4j_session_store")
        _Neo4jState.loaded = None
        store.clear()
    _load_sample(store)
    sentinels = _plant(store, member)
    snapshot = store.snapshot()
    proj = Projection.from_snapshot(snapshot)
    keys_file = tmp / "keys.json"
    ks = KeyStore(store)
    keys = {"admin": ks.create("admin")[1], "analyst": ks.create("analyst")[1],
            "member": ks.create("member", company_id=member)[1]}
    app = create_app(ApiSettings(keys_file=keys_file, jobs_dir=tmp / "jobs"), store)
    case = Planted(kind, member, store, TestClient(app, raise_server_exceptions=False), keys,
                   _Secrets(sentinels + _derived_secrets(proj, member)), proj, snapshot,
                   sentinels)
    try:
        case.bodies = _call_every_route(case, app.openapi())
        yield case
    finally:
        if kind == "embedded":
            store.close()
        else:
            store.clear()


# --- calling every route -----------------------------------------------------------------


def _plural(kind: EntityKind) -> str:
    name = kind.value.replace("_", "-")
    if name.endswith("y"):
        return name[:-1] + "ies"
    return name + ("es" if name.endswith("s") else "s")


_KIND_OF_SEGMENT = {_plural(k): k for k in EntityKind} | {
    "requests": EntityKind.COOP_REQUEST, "projects": EntityKind.JOINT_PROJECT}


def _sample_rows(case: Planted, kind: EntityKind) -> list[dict[str, Any]]:
    """A few records of ``kind``: the member's own and others' (where the secrets are).

    Categories: the member's own, and one with each number of suppliers from 1 to 6
    (the market's thresholds lie there).
    """
    rows = case.snapshot.rows(kind)
    if kind is EntityKind.CATEGORY:
        suppliers: dict[str, set[str]] = defaultdict(set)
        for cap in case.snapshot.rows(EntityKind.CAPABILITY):
            suppliers[cap["category"]].add(cap["company_id"])
        by_count = {len(companies): code for code, companies in sorted(suppliers.items())}
        wanted = set(_member_categories(case)) | {by_count[n] for n in range(1, 7)
                                                  if n in by_count}
        return [r for r in rows if r["code"] in wanted]
    viewer = Viewer(case.member)
    own = [r for r in rows if can_see_record(viewer, kind, r) and any(
        v == case.member for v in r.values())]
    others = [r for r in rows if not can_see_record(viewer, kind, r)]
    return (own[:1] + others[:3]) or rows[:2]


def _member_product(case: Planted) -> str | None:
    for row in case.snapshot.rows(EntityKind.PRODUCT):
        if row.get("maker_id") == case.member:
            return str(row["id"])
    return None


def _member_categories(case: Planted) -> list[str]:
    snap = case.snapshot
    cats = {r["category"] for kind in (EntityKind.CAPABILITY, EntityKind.NEED, EntityKind.IMPORT)
            for r in snap.rows(kind) if r["company_id"] == case.member}
    return sorted(cats)[:3]


def _query_values(case: Planted, name: str) -> list[Any]:
    """Values to try for a query parameter (the first is used when it is required)."""
    region = case.proj.company_regions[case.proj.company_index[case.member]]
    product = _member_product(case)
    return {
        "supplier": [case.member], "buyer": [case.member], "cluster": [CLUSTER],
        "category": _member_categories(case), "product": [product] if product else [],
        "region": [region] if region else [], "k": [50], "what_if": ["true"],
        "view": ["network", "full"],
    }.get(name, [])


def _urls(case: Planted, path: str, operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    path_params = [p["name"] for p in params if p["in"] == "path"]
    urls: list[str] = []
    if path_params:
        segment = path.strip("/").split("/")[0]
        kind = _KIND_OF_SEGMENT.get(segment)
        key_fields = list(spec(kind).key_fields) if kind else []
        if kind is not None and set(path_params) <= set(key_fields) | {"code", "id"}:
            for row in _sample_rows(case, kind):
                url = path
                for name in path_params:
                    url = url.replace("{" + name + "}", str(row.get(name, "")), 1)
                urls.append(url)
        elif path_params == ["job_id"]:
            urls.append(path.replace("{job_id}", "000000000000"))
        elif path == "/codes/{code}":  # an OKVED2/OKPD2 code, not a record key
            urls.append("/codes/24.51")
        else:  # an unknown kind of path: try the member's own id
            url = path
            for name in path_params:
                url = url.replace("{" + name + "}", case.member)
            urls.append(url)
    else:
        urls.append(path)
    query = [p for p in params if p["in"] == "query"]
    required = {p["name"]: _query_values(case, p["name"]) for p in query if p.get("required")}
    if any(not v for v in required.values()):
        return []
    base = {name: values[0] for name, values in required.items()}
    variants = [base]
    for p in query:
        if p.get("required"):
            continue
        values = _query_values(case, p["name"])
        if p["name"] == "limit":  # one page holds every record
            values = [p.get("schema", {}).get("maximum", MAX_PAGE)]
        variants += [{**base, p["name"]: v} for v in values]
    return [u + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")
            for u in urls for q in variants]


def _bodies(case: Planted, path: str, method: str) -> list[Any]:
    """JSON bodies for the POST routes that compute (writes are not reads: skipped)."""
    if path == "/kpis/what-if" and method == "post":
        members = [r["company_id"] for r in case.snapshot.rows(EntityKind.MEMBERSHIP)
                   if r.get("cluster_id") == CLUSTER]
        pairs = [{"supplier_id": a, "buyer_id": b} for a, b in itertools.pairwise(members)]
        return [{"cluster": CLUSTER, "links": []}, {"cluster": CLUSTER, "links": pairs[:5]}]
    if path in ("/plans", "/plans/export.csv") and method == "post":
        product = _member_product(case)
        other = next(r["id"] for r in case.snapshot.rows(EntityKind.PRODUCT)
                     if r.get("maker_id") != case.member)
        return ([{"product": product}, {"product": product, "volume": 777}] if product else []) \
            + [{"product": other}, {"cluster": CLUSTER}]
    return []


def _call_every_route(case: Planted, openapi: dict[str, Any]
                      ) -> dict[str, dict[str, tuple[int, str]]]:
    """``{role: {"METHOD url [body]": (status, body text)}}`` over every route."""
    out: dict[str, dict[str, tuple[int, str]]] = {role: {} for role in ROLES}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if method == "get":
                calls = [(url, None) for url in _urls(case, path, operation)]
            else:
                calls = [(path, body) for body in _bodies(case, path, method)]
            for url, body in calls:
                label = f"{method.upper()} {url}" + (f" {body}" if body is not None else "")
                for role in ROLES:
                    out[role][label] = case.call(role, method.upper(), url, body)
    return out


# --- the tests ---------------------------------------------------------------------------


def test_routes_outside_the_openapi_document_serve_no_data(planted: Planted) -> None:
    from fastapi.routing import APIRoute

    hidden = {r.endpoint.__module__ for r in planted.client.app.routes  # type: ignore[attr-defined]
              if isinstance(r, APIRoute) and not r.include_in_schema}
    assert hidden <= {"coopgraph.api.routes.dashboard"}, hidden  # the dashboard's static files


def test_every_route_was_called(planted: Planted) -> None:
    labels = " ".join(planted.bodies["member"])
    for needle in ("/match/buyers", "/match/suppliers", "/gaps", "/kpis", "/plans",
                   "/categories/", "/market", "/capabilities/", "/supplies", "/export/graphml"):
        assert needle in labels, needle
    assert len(planted.bodies["member"]) > 60


def test_no_sentinel_reaches_a_member(planted: Planted) -> None:
    leaks = []
    for label, (status, text) in planted.bodies["member"].items():
        assert status < 500, (label, text[:500])
        found = planted.secrets.in_text(text)
        if found:
            x, s = found[0]
            at = text.find(str(int(x)))
            leaks.append(f"{label}: {x} ≈ secret {s} … {text[max(at - 200, 0):at + 80]!r}")
    assert not leaks, f"{len(leaks)} response(s) leak:\n" + "\n".join(leaks[:15])


def test_the_centre_sees_the_sentinels(planted: Planted) -> None:
    for role in ("admin", "analyst"):
        leaking = {label.split("?")[0].split(" ")[1].rstrip("/")
                   for label, (status, text) in planted.bodies[role].items()
                   if status == 200 and planted.secrets.in_text(text)}
        for route in ("/capabilities", "/supplies", "/gaps", "/kpis", "/plans",
                      "/export/graphml"):
            assert route in leaking, (role, route, sorted(leaking)[:20])
        assert any(r.startswith("/match/") for r in leaking), (role, sorted(leaking))
        assert any(r.endswith("/market") for r in leaking), (role, sorted(leaking))


# member-only refusals; everything else a reader may read answers 200 for every role
_ANALYST_ONLY = ("/export/", "/ingest/")


def _expected(case: Planted, label: str, role: str) -> set[int]:
    method, url = label.split(" ", 2)[:2]
    if url.startswith("/ingest/"):
        return {403} if role == "member" else {404}
    if role == "member" and url.startswith(_ANALYST_ONLY):
        return {403}
    if role == "member" and url.startswith("/requests/pipeline"):
        return {403}
    path = url.split("?", 1)[0]
    if path in ("/review", "/keys"):  # the ER queue names members' pairs; keys: admins only
        return {200} if role == "admin" else {403}
    if role == "member" and (found := re.fullmatch(r"/requests/([^/]+)", path)):
        # a request exists only for its two parties (and the centre)
        row = next(r for r in case.snapshot.rows(EntityKind.COOP_REQUEST)
                   if r["id"] == found[1])
        return {200} if case.member in (row["from_id"], row["to_id"]) else {404}
    if role == "member" and (found := re.fullmatch(r"/projects/([^/]+)/[^/]+", path)):
        participants = {r["company_id"] for r in case.snapshot.rows(
            EntityKind.PROJECT_PARTICIPANT) if r["project_id"] == found[1]}
        return {200} if case.member in participants else {403}
    if method == "POST" and url in ("/plans", "/plans/export.csv") and role == "member":
        product = _member_product(case)
        return {200} if product and f"'product': '{product}'" in label else {403}
    return {200}


def test_role_by_route_matrix(planted: Planted) -> None:
    wrong = []
    for role in ROLES:
        for label, (status, text) in planted.bodies[role].items():
            if status not in _expected(planted, label, role):
                wrong.append(f"{role} {label}: {status} {text[:200]}")
    assert not wrong, "\n".join(wrong[:20])


def _capacity_ratio_leaks(case: Planted, result: dict[str, Any]) -> list[str]:
    """Capacity factors whose value × the member's own need gives a free capacity back."""
    p = case.proj
    free = {(p.company_ids[c], p.category_codes[k]): float(f) for c, k, f in zip(
        p.cap_company.tolist(), p.cap_category.tolist(), p.free_capacity.tolist(), strict=True)}
    out = []
    for cand in MatchResult.model_validate(result).candidates:
        for f in cand.factors:
            secret = free.get((cand.company_id, cand.category or ""))
            if f.name == "capacity" and secret is not None and 0 < secret < OWN_NEED \
                    and abs(f.value - secret / OWN_NEED) < 2e-6:
                out.append(f"{cand.company_id}/{cand.category}: {f.value} = {secret}/{OWN_NEED}")
    return out


def test_capacity_factor_is_a_band_for_a_member(planted: Planted) -> None:
    # the buyer's view (the partner's free capacity) or the supplier's (the partner's demand)
    direction = "suppliers?buyer" if planted.member == "m-traktor" else "buyers?supplier"
    url = f"/match/{direction}={planted.member}&k=100"
    status, text = planted.call("member", "GET", url)
    assert status == 200, text
    result = json.loads(text)
    factors = [f for c in result["candidates"] for f in c["factors"] if f["name"] == "capacity"]
    assert factors
    assert {f["value"] for f in factors} <= {0.0, 0.5, 1.0}
    assert not _capacity_ratio_leaks(planted, result)
    assert all(any(w in f["text_en"] for w in ("short of the demand", "enough free capacity",
                                                "capacity or demand unknown"))
               for f in factors), [f["text_en"] for f in factors]
    partner = "capacity" if planted.member == "m-traktor" else "demand"
    assert all(f["raw"] is None for c in result["candidates"] for f in c["factors"]
               if f["name"] == partner)
    # the centre gets the exact ratio (informative, with the huge own need) and the raws
    centre = json.loads(planted.call("admin", "GET", url)[1])
    assert {f["value"] for c in centre["candidates"] for f in c["factors"]
            if f["name"] == "capacity"} - {0.0, 0.5, 1.0}
    assert any(f["raw"] is not None for c in centre["candidates"] for f in c["factors"]
               if f["name"] == partner)


def test_plans_withhold_suppliers_prices_for_a_member(planted: Planted) -> None:
    product = _member_product(planted)
    if product is None:
        pytest.skip("the member makes no product")
    status, text = planted.call("member", "POST", "/plans", {"product": product})
    assert status == 200, text
    plan = json.loads(text)
    allocations = [a for c in plan["categories"] for a in c["allocations"]
                   if a["supplier_id"] is not None]
    assert allocations
    for a in allocations:
        assert a["supplier_id"] != planted.member
        assert (a["qty"], a["unit_price"], a["unit_cost"], a["value"], a["capacity"]) == (
            None,) * 5, a
    centre = json.loads(planted.call("analyst", "POST", "/plans", {"product": product})[1])
    priced = [a for c in centre["categories"] for a in c["allocations"] if a["supplier_id"]]
    assert all(a["unit_cost"] is not None for a in priced)
    assert any(planted.secrets.find(a["unit_price"]) for a in priced)


def test_kpis_per_maker_and_what_if_for_a_member(planted: Planted) -> None:
    report = json.loads(planted.call("member", "GET", f"/kpis?cluster={CLUSTER}")[1])
    intra = next(k for k in report["kpis"] if k["code"] == "intra_purchases")
    assert set(intra["details"]["per_maker"]) <= {planted.member}
    for scenario in report["what_if"]:
        for link in scenario["links"]:
            if planted.member not in (link["buyer_id"],):
                assert link["volume"] is None and link["value"] is None, link
    centre = json.loads(planted.call("admin", "GET", f"/kpis?cluster={CLUSTER}")[1])
    intra = next(k for k in centre["kpis"] if k["code"] == "intra_purchases")
    assert set(intra["details"]["per_maker"]) == set(centre["end_product_makers"])
    assert all(v["total"] is not None for v in intra["details"]["per_maker"].values())


def test_gaps_show_one_other_company_only_withheld(planted: Planted) -> None:
    report = json.loads(planted.call("member", "GET", f"/gaps?cluster={CLUSTER}")[1])
    for row in report["over_capacity"]:
        if len(row["suppliers"]) < 3 and planted.member not in row["suppliers"]:
            assert row["capacity"] is None, row
    for row in report["import_dependency"]:
        if len(row["buyers"]) < 3 and planted.member not in row["buyers"]:
            assert row["demand_qty"] is None and row["demand_value"] is None, row
    for row in report["idle_capacity"]:
        if row["company_id"] != planted.member:
            assert row["capacity"] is None and row["free_capacity"] is None, row
    centre = json.loads(planted.call("analyst", "GET", f"/gaps?cluster={CLUSTER}")[1])
    assert all(r["capacity"] is not None for r in centre["over_capacity"])


def test_policy_defaults_to_the_centre() -> None:
    assert CENTRE.is_centre and not Viewer("x").is_centre
