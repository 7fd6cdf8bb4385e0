"""Faceted company search (GET /companies/search) on the sample, on both stores.

Every expected answer is computed here from the sample's CSV files.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coopgraph.api.search import sort_name
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.sample import SAMPLE_DIR
from tests.api_support import ApiCase, assert_problem, make_case


def _csv(name: str) -> list[dict[str, str]]:
    with (Path(SAMPLE_DIR) / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def api(sample_store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(sample_store, tmp_path, seed=False)


def _all(api: ApiCase, **params: object) -> dict:
    answer = api.get("/companies/search", params={"limit": 500, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(body["data"])
    return body


def _subtree(root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for r in _csv("categories.csv"):
        children.setdefault(r["parent"], []).append(r["code"])
    out, todo = set(), [root]
    while todo:
        c = todo.pop()
        out.add(c)
        todo += children.get(c, [])
    return out


def test_free_text_finds_castings_in_russian_forms(api: ApiCase) -> None:
    casting = {r["code"] for r in _csv("categories.csv")
               if "отливк" in r["name_ru"].lower() or "castings" in r["name_en"].lower()}
    makers = {r["company_id"] for r in _csv("capabilities.csv") if r["category"] in casting}
    assert makers
    for word in ("отливки", "отливок", "Отливка", "литьё"):
        found = {c["id"] for c in _all(api, q=word)["data"]}
        assert makers <= found, (word, makers - found)
    assert _all(api, q="несуществующееслово")["total"] == 0


def test_category_facet_takes_the_subtree(api: ApiCase) -> None:
    codes = _subtree("cast")
    assert len(codes) > 1
    want = {r["company_id"] for r in _csv("capabilities.csv") if r["category"] in codes}
    body = _all(api, category="cast")
    assert {c["id"] for c in body["data"]} == want
    for c in body["data"]:
        assert c["categories"] and set(c["categories"]) <= codes


def test_facets_combine(api: ApiCase) -> None:
    members = {r["company_id"] for r in _csv("memberships.csv")}
    cluster = _csv("memberships.csv")[0]["cluster_id"]
    iso = {r["company_id"] for r in _csv("held_certifications.csv") if r["cert"] == "ISO9001"}
    casting = {r["company_id"] for r in _csv("company_processes.csv") if r["process"] == "casting"}
    want = {c["id"] for c in _csv("companies.csv")
            if c["region"] == "Липецкая область" and "supplier" in c["roles"].split("|")
            and c["id"] in members and c["id"] in iso and c["id"] in casting}
    body = _all(api, region="Липецкая область", role="supplier", cluster=cluster,
                cert="ISO9001", process="casting")
    assert {c["id"] for c in body["data"]} == want
    assert sum(body["facets"]["region"].values()) == len(want)


def _km(a: dict[str, str], b: dict[str, str]) -> float:
    p1, p2 = math.radians(float(a["lat"])), math.radians(float(b["lat"]))
    dp, dl = p2 - p1, math.radians(float(b["lon"]) - float(a["lon"]))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_distance_from_a_company_sorted(api: ApiCase) -> None:
    companies = {c["id"]: c for c in _csv("companies.csv") if c["lat"]}
    origin = companies["m-kombain"]
    want = {i for i, c in companies.items() if _km(origin, c) <= 60}
    body = _all(api, near="m-kombain", max_km=60, sort="distance")
    assert {c["id"] for c in body["data"]} == want
    kms = [c["distance_km"] for c in body["data"]]
    assert kms == sorted(kms)
    for c in body["data"]:
        assert c["distance_km"] == pytest.approx(_km(origin, companies[c["id"]]), abs=0.06)


def test_sorted_by_name_without_legal_form_and_paged(api: ApiCase) -> None:
    names = [c["name"] for c in _csv("companies.csv")]
    form = re.compile(r"^(ООО|АО|ПАО|ЗАО|ОАО|ИП)\s+")
    key = [re.sub(r"[«»\"]", "", form.sub("", n)).casefold().replace("ё", "е") for n in names]
    assert sorted(key) == sorted(sort_name(n) for n in names)
    first = api.get("/companies/search", params={"limit": 20}).json()
    assert first["total"] == len(names) and len(first["data"]) == 20
    second = api.get("/companies/search", params={"limit": 20, "offset": 20}).json()
    got = [c["name"] for c in first["data"] + second["data"]]
    assert [sort_name(n) for n in got] == sorted(sort_name(n) for n in names)[:40]
    assert not {c["id"] for c in first["data"]} & {c["id"] for c in second["data"]}


def test_search_refuses_bad_input_with_problems(api: ApiCase) -> None:
    assert_problem(api.get("/companies/search", params={"category": "no.such"}), 404)
    assert_problem(api.get("/companies/search", params={"max_km": 10}), 400)
    assert_problem(api.get("/companies/search", params={"sort": "distance"}), 400)
    assert_problem(api.get("/companies/search", params={"near": "Нигдеград"}), 404)
    assert_problem(api.get("/companies/search", params={"limit": 0}), 422)
    assert_problem(api.get("/companies/search", role="member_sup1",
                           params={"min_free_capacity": 10}), 403, contains="confidential")
    assert api.get("/companies/search", role="analyst",
                   params={"min_free_capacity": 10}).status_code == 200


_TEXT = st.text(max_size=30) | st.sampled_from(["отливки", "cast", "m-kombain", "Липецк", "",
                                               "25.50", "\u0000", "../", "'; DROP"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=_TEXT, category=_TEXT, region=_TEXT, near=_TEXT, role=_TEXT,
       max_km=st.none() | st.floats(allow_nan=True, allow_infinity=True),
       sort=st.sampled_from(["name", "-name", "distance", "x"]),
       offset=st.integers(-5, 10**12), limit=st.integers(-1, 1000))
def test_search_never_answers_a_server_error(
        api: ApiCase, q: str, category: str, region: str, near: str, role: str,
        max_km: float | None, sort: str, offset: int, limit: int) -> None:
    params: dict[str, object] = {"q": q, "category": category, "region": region, "near": near,
                                 "role": role, "sort": sort, "offset": offset, "limit": limit}
    if max_km is not None:
        params["max_km"] = str(max_km)
    answer = api.get("/companies/search", params={k: v for k, v in params.items() if v != ""})
    assert answer.status_code < 500, (params, answer.text)
    export = api.get("/gaps/export.csv", params={"region": region or None, "lang": "ru"})
    assert export.status_code < 500, (region, export.text)
