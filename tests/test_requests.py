"""Cooperation requests on both stores: the workflow, its checks, who sees what, the change
feed, and a recommendation walked through a request and an agreement to a KPI change."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from coopgraph.api.keys import KeyStore
from coopgraph.graph.confidentiality import Viewer
from coopgraph.graph.errors import IllegalTransition, VersionConflict
from coopgraph.graph.models import Company, Membership
from coopgraph.graph.store import GraphStore
from coopgraph.queries import requests as wf
from tests.api_support import ApiCase, assert_problem, make_case


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    case = make_case(store, tmp_path)
    # sup2 joins the cluster: a member without any tie (the KPI's untied member)
    store.upsert([Membership(company_id="sup2", cluster_id="c1")])
    case.keys["member_sup2"] = KeyStore(store).create(
        "member", company_id="sup2")[1]
    return case


def _open(api: ApiCase, role: str = "member_oem", **body: Any) -> dict[str, Any]:
    payload = {"to_id": "sup2", "category": "hyd.cyl", "volume_per_year": 150,
               "origin": "recommendation", **body}
    response = api.post("/requests", role=role, json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _move(api: ApiCase, rid: str, role: str, **body: Any) -> Any:
    return api.post(f"/requests/{rid}/transitions", role=role, json=body)


def _kpi(api: ApiCase, code: str) -> Any:
    body = api.get("/kpis?cluster=c1&what_if=false", role="analyst").json()
    return next(k for k in body["kpis"] if k["code"] == code)


def test_a_recommendation_becomes_a_request_an_agreement_and_a_kpi_change(api: ApiCase):
    untied = _kpi(api, "untied_count")
    assert untied["details"]["untied"] == ["sup2"]  # sup1 and oem are tied by their supply
    ranked = api.get("/match/suppliers?buyer=oem&category=hyd.cyl", role="member_oem").json()
    best = next(c for c in ranked["candidates"] if c["company_id"] == "sup2")
    created = _open(api, to_id=best["company_id"], category=best["category"], send=True)
    assert (created["state"], created["version"], created["from_id"]) == ("sent", 2, "oem")
    talks = _move(api, created["id"], "member_sup2", to="in_talks", version=2)
    assert talks.status_code == 200, talks.text
    assert _kpi(api, "untied_count")["value"] == 1.0  # talks are not a contract
    agreed = _move(api, created["id"], "member_sup2", to="agreed", version=3,
                   agreed_on="2026-03-01", agreed_price=93, record_supply=True)
    assert agreed.status_code == 200, agreed.text
    assert (agreed.json()["state"], agreed.json()["version"]) == ("agreed", 4)
    tie = api.get("/ties/oem/sup2/supply").json()
    assert (tie["since"], tie["request_id"]) == ("2026-03-01", created["id"])
    supply = api.get("/supplies/sup2/oem/hyd.cyl").json()
    assert (supply["volume_per_year"], supply["unit_price"]) == (150, 93)
    after = _kpi(api, "untied_count")
    assert after["value"] == 0.0 and after["passed"]
    assert _kpi(api, "tied_share")["value"] == 1.0


def test_workflow_writes_leave_the_analytic_revision_alone(api: ApiCase):
    store = api.store
    revision, analytic = store.revision(), store.analytic_revision()
    created = _open(api)
    assert _move(api, created["id"], "member_oem", to="sent", version=1).status_code == 200
    assert store.revision() == revision + 2
    assert store.analytic_revision() == analytic
    _move(api, created["id"], "member_sup2", to="agreed", version=2)
    assert store.analytic_revision() == store.revision()  # the tie is analytic


def test_illegal_moves_stale_versions_and_bad_input_are_problems(api: ApiCase):
    created = _open(api)
    rid = created["id"]
    assert_problem(_move(api, rid, "member_sup2", to="agreed", version=1), 409,
                   slug="conflict", contains="legal moves: expired, sent")
    assert_problem(_move(api, rid, "member_sup2", to="sent", version=1), 403)  # not the sender
    assert _move(api, rid, "member_oem", to="sent", version=1).status_code == 200
    assert_problem(_move(api, rid, "member_sup2", to="in_talks", version=1), 409,
                   slug="conflict", contains="changed by someone else")
    assert_problem(_move(api, rid, "member_sup2", to="declined", version=2), 422,
                   contains="reason")
    assert_problem(_move(api, rid, "member_sup2", to="declined", version=2,
                         reason="cheap"), 422)
    declined = _move(api, rid, "member_sup2", to="declined", version=2, reason="price",
                     text="Ниже себестоимости")
    assert declined.json()["decline_reason"] == "price"
    assert_problem(_move(api, rid, "admin", to="in_talks", version=3), 409,
                   contains="none (final)")
    assert_problem(api.post("/requests", role="member_oem", json={"to_id": "oem"}), 422,
                   contains="itself")
    assert_problem(api.post("/requests", role="member_oem", json={"to_id": "nobody"}), 422,
                   slug="missing-reference")
    assert_problem(api.post("/requests", role="member_oem",
                            json={"to_id": "sup2", "volume_per_year": -5}), 422)
    assert_problem(api.post("/requests", role="member_oem",
                            json={"to_id": "sup2", "from_id": "sup1"}), 403)
    assert_problem(api.post("/requests", role="analyst", json={"to_id": "sup2",
                                                                "from_id": "oem"}), 403)


def test_only_the_parties_and_the_centre_see_a_request(api: ApiCase):
    created = _open(api, message="Секретное предложение", target_price=88, send=True)
    rid = created["id"]
    for role in ("member_oem", "member_sup2", "admin", "analyst"):
        assert api.get(f"/requests/{rid}", role=role).json()["message"] == "Секретное предложение"
    assert_problem(api.get(f"/requests/{rid}", role="member_sup1"), 404)
    assert_problem(_move(api, rid, "member_sup1", to="in_talks", version=2), 404)
    assert api.get("/requests", role="member_sup1").json() == []
    assert api.get("/events", role="member_sup1").json()["events"] == []
    assert "88" not in api.get("/events", role="member_sup1").text
    inbox = api.get("/requests?box=inbox", role="member_sup2").json()
    assert [r["id"] for r in inbox] == [rid]
    assert api.get("/requests?box=inbox", role="member_oem").json() == []
    assert_problem(api.get("/requests?company=sup2", role="member_oem"), 403)
    assert_problem(api.get("/requests/pipeline", role="member_oem"), 403)


def test_the_change_feed_lists_state_changes_after_a_cursor(api: ApiCase):
    first = _open(api, send=True)
    page = api.get("/events", role="member_oem").json()
    assert [(e["from_state"], e["to_state"]) for e in page["events"]] == [
        (None, "proposed"), ("proposed", "sent")]
    cursor = page["next"]
    _move(api, first["id"], "member_sup2", to="in_talks", version=2)
    _move(api, first["id"], "member_sup2", to="declined", version=3, reason="capacity")
    later = api.get("/events", role="member_oem", params={"since": cursor}).json()
    assert [(e["to_state"], e["version"], e["actor"]) for e in later["events"]] == [
        ("in_talks", 3, "sup2"), ("declined", 4, "sup2")]
    assert api.get("/events", role="admin", params={"since": later["next"]}).json()[
        "events"] == []
    assert_problem(api.get("/events", params={"since": "yesterday"}), 400)
    pipeline = api.get("/requests/pipeline", role="analyst").json()
    assert pipeline["by_state"] == {"declined": 1}
    assert pipeline["decline_reasons"] == {"capacity": 1}
    assert pipeline["agree_rate"] == 0.0


def test_concurrent_moves_of_one_request_never_lose_one(store: GraphStore):
    store.upsert([Company(id="a", name="A"), Company(id="b", name="B")])
    request = wf.open_request(store, wf.RequestDraft(from_id="a", to_id="b", send=True))
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(target: str) -> None:
        barrier.wait()
        try:
            wf.move(store, request.id, target, version=2, viewer=Viewer("b"),
                    reason="other" if target == "declined" else None)
            outcomes.append(target)
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(t,))
               for t in ("in_talks", "agreed", "declined") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("conflict") == 5, outcomes
    winner = next(o for o in outcomes if o != "conflict")
    stored = wf.get_request(store, request.id)
    assert (stored.state.value, stored.version) == (winner, 3)
    assert len(stored.history) == 3
    with pytest.raises(IllegalTransition if winner != "in_talks" else VersionConflict):
        wf.move(store, request.id, "expired", version=2 if winner == "in_talks" else 3)


def test_overdue_requests_expire(store: GraphStore):
    import datetime as dt

    store.upsert([Company(id="a", name="A"), Company(id="b", name="B")])
    late = wf.open_request(store, wf.RequestDraft(from_id="a", to_id="b",
                                                  due_date=dt.date(2026, 1, 1)))
    timely = wf.open_request(store, wf.RequestDraft(from_id="a", to_id="b",
                                                    due_date=dt.date(2027, 1, 1)))
    done = wf.expire_overdue(store, dt.date(2026, 6, 1))
    assert [r.id for r in done] == [late.id]
    assert wf.get_request(store, late.id).state.value == "expired"
    assert wf.get_request(store, timely.id).state.value == "proposed"


def test_declined_answers_lower_later_rankings_and_say_why(api: ApiCase):
    from coopgraph.graph.models import Capability

    api.store.upsert([Company(id="sup3", name="Цилиндры-3", region="Липецкая область",
                              lat=52.62, lon=39.6, roles=["supplier"]),
                      Capability(company_id="sup3", category="hyd.cyl",
                                 capacity_per_year=900, unit_price=94)])
    url = "/requests/suggestions?company=oem&category=hyd.cyl"
    before = api.get(url, role="member_oem").json()["candidates"]
    assert len(before) >= 2
    top, second = before[0], before[1]
    assert second["score"] > 0.5 * top["score"]  # one decline is enough to swap them
    created = _open(api, to_id=top["company_id"], send=True)
    declined = _move(api, created["id"], "admin", to="declined", version=2, reason="price")
    assert declined.status_code == 200, declined.text
    after = api.get(url, role="member_oem").json()["candidates"]
    scores = {c["company_id"]: c["score"] for c in before}
    scores[top["company_id"]] *= 0.5  # PENALTIES["same_partner_and_category"], by hand
    expected = sorted(scores, key=lambda c: (-scores[c], c))
    assert [c["company_id"] for c in after] == expected
    assert after[0]["company_id"] == second["company_id"]
    lowered = next(c for c in after if c["company_id"] == top["company_id"])
    assert lowered["score"] == pytest.approx(0.5 * top["score"])
    assert lowered["reasons_ru"][0].startswith("Понижено ×0.50") and "цена ×1" in \
        lowered["reasons_ru"][0]
    assert "declined requests before" in lowered["reasons_en"][0]
    # another company's ranking learns nothing from oem's requests
    assert api.get("/requests/suggestions?company=sup1&direction=buyers",
                   role="member_sup1").status_code == 200
    assert_problem(api.get("/requests/suggestions?company=oem", role="member_sup1"), 403)


def test_the_decline_index_is_read_again_only_after_a_request_write(api: ApiCase):
    """Writes that touch no request (a company, a job's heartbeat) keep the index's table;
    a declined request is read at the next ranking."""
    from coopgraph.queries.feedback import DeclineIndex

    index = DeclineIndex()
    assert not index.get(api.store, "oem")
    table = index._by_company
    api.store.upsert([Company(id="zz-other", name="Другая")])
    assert not index.get(api.store, "oem") and index._by_company is table
    created = _open(api, to_id="sup1", send=True)
    assert _move(api, created["id"], "admin", to="declined", version=2,
                 reason="price").status_code == 200
    assert index.get(api.store, "oem") and index._by_company is not table


def test_plain_match_and_the_cli_apply_declines_as_the_suggestions_do(api: ApiCase,
                                                                      tmp_path: Path,
                                                                      monkeypatch):
    from coopgraph.graph.models import Capability

    api.store.upsert([Company(id="sup3", name="Цилиндры-3", region="Липецкая область",
                              lat=52.62, lon=39.6, roles=["supplier"]),
                      Capability(company_id="sup3", category="hyd.cyl",
                                 capacity_per_year=900, unit_price=94)])
    url = "/match/suppliers?buyer=oem&category=hyd.cyl"
    before = api.get(url, role="member_oem").json()["candidates"]
    top = before[0]
    buyers_url = f"/match/buyers?supplier={top['company_id']}"
    buyers_before = {c["company_id"]: c for c in api.get(buyers_url).json()["candidates"]}
    assert "oem" in buyers_before
    created = _open(api, to_id=top["company_id"], send=True)
    assert _move(api, created["id"], "admin", to="declined", version=2,
                 reason="capacity").status_code == 200
    after = api.get(url, role="member_oem").json()["candidates"]
    suggested = api.get("/requests/suggestions?company=oem&category=hyd.cyl",
                        role="member_oem").json()["candidates"]
    # the plain ranking and the cooperation-aware one agree, order and scores
    assert [(c["company_id"], c["score"]) for c in after] == \
        [(c["company_id"], c["score"]) for c in suggested]
    scores = {c["company_id"]: c["score"] for c in before}
    scores[top["company_id"]] *= 0.5  # PENALTIES["same_partner_and_category"], by hand
    assert [c["company_id"] for c in after] == sorted(scores, key=lambda c: (-scores[c], c))
    lowered = next(c for c in after if c["company_id"] == top["company_id"])
    assert lowered["rank"] > top["rank"]
    assert lowered["reasons_ru"][0].startswith("Понижено ×0.50")
    assert "мощности ×1" in lowered["reasons_ru"][0]
    assert "capacity ×1" in lowered["reasons_en"][0]
    untouched = next(c for c in after if c["company_id"] != top["company_id"])
    assert not untouched["reasons_en"][0].startswith("Lowered")
    # the other party's ranking of buyers learns it too: oem is lowered for the supplier
    buyers_after = {c["company_id"]: c for c in api.get(buyers_url).json()["candidates"]}
    assert buyers_after["oem"]["score"] < buyers_before["oem"]["score"]
    assert buyers_after["oem"]["reasons_en"][0].startswith("Lowered ×")
    # another company's ranking learns nothing from oem's requests
    other = api.get("/match/buyers?supplier=sup1", role="member_sup1").json()["candidates"]
    assert not any(c["reasons_en"][0].startswith("Lowered") for c in other)


def test_the_cli_match_applies_declines(tmp_path: Path, monkeypatch):
    from typer.testing import CliRunner

    from coopgraph.api.cli import app
    from coopgraph.graph.embedded import EmbeddedStore
    from coopgraph.graph.models import Capability, Category

    store = EmbeddedStore(tmp_path / "store")
    store.upsert([Category(code="c", name_ru="C", unit_price=10),
                  Company(id="buyer", name="B", lat=55.0, lon=37.0),
                  Company(id="near", name="Near", lat=55.01, lon=37.0),
                  Company(id="far", name="Far", lat=55.2, lon=37.0),
                  *[Capability(company_id=s, category="c", capacity_per_year=100,
                               unit_price=10) for s in ("near", "far")]])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    run = CliRunner().invoke
    args = ["match", "suppliers", "--buyer", "buyer", "--category", "c", "--json"]
    before = json.loads(run(app, args).stdout)["candidates"]
    first = before[0]["company_id"]
    for _ in range(2):  # declined again and again
        opened = run(app, ["requests", "open", "--from", "buyer", "--to", first,
                           "--category", "c", "--send", "--json"])
        assert opened.exit_code == 0, opened.output
        rid = json.loads(opened.stdout)["id"]
        moved = run(app, ["requests", "move", rid, "declined", "--version", "2",
                          "--reason", "price"])
        assert moved.exit_code == 0, moved.output
    after = json.loads(run(app, args).stdout)["candidates"]
    lowered = next(c for c in after if c["company_id"] == first)
    assert lowered["score"] == pytest.approx(before[0]["score"] * 0.5 ** 2)
    assert "цена ×2" in lowered["reasons_ru"][0] and "price ×2" in lowered["reasons_en"][0]
    assert after[0]["company_id"] != first


def test_a_decline_holds_in_the_very_next_ranking_when_readers_never_wait(
        store: GraphStore, tmp_path: Path):
    """With ``projection_wait=0`` (the API's default) the rankings may lag the writes,
    but the declines are the member's own write: its next ranking shows them at once,
    on both stores (before the fix it showed the declines read before the write)."""
    from coopgraph.graph.models import Capability

    api = make_case(store, tmp_path, projection_wait=0.0)
    store.upsert([Company(id="sup3", name="Цилиндры-3", region="Липецкая область",
                          lat=52.62, lon=39.6, roles=["supplier"]),
                  Capability(company_id="sup3", category="hyd.cyl",
                             capacity_per_year=900, unit_price=94)])
    buyers_url = "/match/buyers?supplier=sup3"
    before: dict[str, Any] = {}
    for _ in range(200):  # the background worker brings sup3 in (readers never wait)
        answer = api.get(buyers_url)
        if answer.status_code == 200:
            before = {c["company_id"]: c for c in answer.json()["candidates"]}
            if "oem" in before:
                break
        time.sleep(0.05)
    assert "oem" in before
    assert not before["oem"]["reasons_en"][0].startswith("Lowered")
    created = _open(api, to_id="sup3", send=True)
    assert _move(api, created["id"], "admin", to="declined", version=2,
                 reason="capacity").status_code == 200
    after = {c["company_id"]: c for c in api.get(buyers_url).json()["candidates"]}
    assert after["oem"]["reasons_en"][0].startswith("Lowered ×")
    assert after["oem"]["score"] < before["oem"]["score"]
