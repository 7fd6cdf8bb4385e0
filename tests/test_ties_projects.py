"""Ties of every type in the Resolution 779 KPIs, and joint projects with their subsidy
estimate, proposals, KPI effect and XLSX export — on both stores, figures by hand."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from coopgraph.graph.models import (
    Capability,
    Cluster,
    Company,
    JointProject,
    Membership,
    ProjectCost,
    ProjectParticipant,
    Tie,
)
from coopgraph.graph.store import GraphStore
from coopgraph.queries.kpi import cluster_kpis
from coopgraph.queries.projection import Projection
from coopgraph.queries.regulations import TIE_RULES, counted_tie_types
from tests.api_support import ApiCase, assert_problem, make_case

TODAY = dt.date(2026, 6, 1)


def _cluster() -> list:
    ids = {"a": "oem", "s": "supplier", "u": "university", "f": "finance", "r": "service"}
    return [Cluster(id="k", name="К"),
            *[Company(id=i, name=i.upper(), roles=[role]) for i, role in ids.items()],
            *[Membership(company_id=i, cluster_id="k") for i in ids],
            Tie(company_id="a", partner_id="s", tie_type="supply", since=dt.date(2020, 1, 1)),
            Tie(company_id="u", partner_id="a", tie_type="training",
                since=dt.date(2025, 9, 1), until=dt.date(2027, 6, 30)),
            Tie(company_id="f", partner_id="a", tie_type="production_services",
                since=dt.date(2018, 1, 1), until=dt.date(2020, 1, 1)),  # ended
            Tie(company_id="r", partner_id="a", tie_type="rnd")]


def test_the_rule_counts_what_the_regulation_names():
    assert counted_tie_types() == {"supply", "joint_project", "production_services"}
    assert counted_tie_types(include_unclear=True) == counted_tie_types() | {"rnd"}
    assert all(rule.citation.point for rule in TIE_RULES.values())


def test_kpis_count_the_tie_types_the_regulation_counts(store: GraphStore):
    store.upsert(_cluster())
    report = cluster_kpis(Projection.from_snapshot(store.snapshot()), "k", what_if=False,
                          today=TODAY)
    assert report.untied_members == ["f", "r", "u"]
    tied_share, untied = report.kpis[0], report.kpis[1]
    assert tied_share.value == pytest.approx(2 / 5)
    assert untied.details["untied_if_unclear_counted"] == ["f", "u"]
    assert [t["tie_type"] for t in untied.details["uncounted_ties"]["u"]] == ["training"]
    assert "f" not in untied.details["uncounted_ties"]  # its tie ended: not in force
    store.upsert([Tie(company_id="u", partner_id="s", tie_type="production_services",
                      since=dt.date(2026, 1, 1))])
    again = cluster_kpis(Projection.from_snapshot(store.snapshot()), "k", what_if=False,
                         today=TODAY)
    assert again.untied_members == ["f", "r"]
    assert again.kpis[1].passed  # 2 ≤ 3


# --- joint projects -------------------------------------------------------------------


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    case = make_case(store, tmp_path)
    store.upsert([
        Company(id="uni", name="Университет", roles=["university"]),
        Company(id="sup3", name="Цилиндры", region="Липецкая область", lat=52.61, lon=39.58,
                roles=["supplier"]),
        Membership(company_id="uni", cluster_id="c1"),
        Membership(company_id="sup3", cluster_id="c1"),
        Capability(company_id="sup3", category="hyd.cyl", capacity_per_year=800,
                   unit_price=91),
        JointProject(id="jp", name="Гидроцилиндры для сеялки", cluster_id="c1",
                     category="hyd.cyl", import_country="IT", import_volume=100,
                     import_value=15000, start_year=2026, end_year=2027),
        ProjectParticipant(company_id="oem", project_id="jp", role="lead"),
        ProjectParticipant(company_id="sup1", project_id="jp", role="component_maker"),
        ProjectParticipant(company_id="sup2", project_id="jp", role="component_maker"),
        ProjectParticipant(company_id="uni", project_id="jp", role="rnd_partner"),
        ProjectCost(company_id="oem", project_id="jp", item="line", cost_type="equipment",
                    year=2026, amount=10_000_000),
        ProjectCost(company_id="oem", project_id="jp", item="design", cost_type="rnd",
                    year=2027, amount=2_000_000),
        ProjectCost(company_id="sup1", project_id="jp", item="dies", cost_type="tooling",
                    year=2026, amount=4_000_000),
        ProjectCost(company_id="sup2", project_id="jp", item="cnc", cost_type="equipment",
                    year=2026, amount=1_000_000),  # sup2 is not a member of c1
        JointProject(id="solo", name="Только головной", cluster_id="c1"),
        ProjectParticipant(company_id="oem", project_id="solo", role="lead"),
        JointProject(id="empty", name="Без участников", cluster_id="c1"),
    ])
    return case


def test_the_subsidy_estimate_by_hand_and_marked_unverified(api: ApiCase):
    est = api.get("/projects/jp/estimate").json()
    members_costs = 10_000_000 + 2_000_000 + 4_000_000  # sup2's 1e6 left out
    assert est["total_costs"] == 17_000_000
    assert est["eligible_costs"] == members_costs
    assert est["subsidy"] == members_costs * 0.5
    assert est["by_year"] == {"2026": 7_000_000, "2027": 1_000_000}
    assert est["verified"] is False
    assert any("sup2" in w for w in est["warnings_en"])
    assert any("не сверена" in w for w in est["warnings_ru"])
    sup2 = next(p for p in est["participants"] if p["company_id"] == "sup2")
    assert (sup2["member"], sup2["subsidy"]) == (False, 0)


def test_a_participant_sees_its_own_figures_only(api: ApiCase):
    card = api.get("/projects/jp/card", role="member_sup1").json()
    mine = {p["company_id"]: p for p in card["estimate"]["participants"]}
    assert mine["sup1"]["subsidy"] == 2_000_000
    assert mine["oem"]["costs"] is None and mine["oem"]["subsidy"] is None
    assert card["estimate"]["total_costs"] is None  # the others are fewer than 3 companies
    assert card["project"]["import_value"] is None  # the centre's figure
    assert {c["amount"] for c in card["costs"] if c["company_id"] != "sup1"} == {None}
    assert "10000000" not in api.get("/projects/jp/card", role="member_sup1").text
    assert api.get("/projects/jp/card", role="analyst").json()["project"][
        "import_value"] == 15000
    assert_problem(api.get("/projects/solo/card", role="member_sup1"), 403)
    assert_problem(api.get("/projects/empty/estimate"), 400, contains="no participants")
    assert_problem(api.get("/projects/jp/estimate?rules=made-up"), 400)
    assert_problem(api.get("/projects/nope/estimate"), 404)


def test_proposals_kpi_effect_and_xlsx(api: ApiCase):
    proposals = api.get("/projects/jp/proposals").json()
    assert proposals and proposals[0]["company_id"] == "sup3"
    assert proposals[0]["reasons_ru"] and proposals[0]["reasons_en"]
    effect = api.get("/projects/jp/kpi-effect", role="analyst").json()
    assert effect["newly_tied"] == ["uni"]  # sup2 is no member; sup3 takes no part
    assert (effect["before"]["untied_count"], effect["after"]["untied_count"]) == (2.0, 1.0)
    response = api.get("/projects/jp/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = {r[0]: r[1] for r in book["Субсидия"].iter_rows(values_only=True) if r}
    assert rows["Оценка субсидии / Subsidy estimate"] == 8_000_000
    assert rows["Сверено с текстом / Verified"] == "НЕТ / NO"
    member_book = load_workbook(io.BytesIO(
        api.get("/projects/jp/export.xlsx", role="member_sup1").content))
    amounts = [r[4] for r in member_book["Затраты"].iter_rows(min_row=2, values_only=True)]
    assert sorted(a for a in amounts if a is not None) == [4_000_000]


def test_the_cli_walks_a_request_and_estimates_a_project(tmp_path: Path, monkeypatch):
    from coopgraph.api.cli import app
    from coopgraph.graph.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path / "store")
    store.upsert([Company(id="a", name="A"), Company(id="b", name="B"),
                  JointProject(id="p", name="P"),
                  ProjectParticipant(company_id="a", project_id="p", role="lead"),
                  ProjectCost(company_id="a", project_id="p", item="i",
                              cost_type="equipment", year=2026, amount=100)])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    run = CliRunner().invoke
    opened = run(app, ["requests", "open", "--from", "a", "--to", "b", "--send", "--json"])
    assert opened.exit_code == 0, opened.output
    rid = json.loads(opened.stdout)["id"]
    stale = run(app, ["requests", "move", rid, "agreed", "--version", "1"])
    assert stale.exit_code == 3 and "changed by someone else" in stale.output
    moved = run(app, ["requests", "move", rid, "agreed", "--version", "2"])
    assert moved.exit_code == 0 and "agreed (version 3)" in moved.output
    listed = json.loads(run(app, ["requests", "list", "--json"]).stdout)
    assert [(r["id"], r["state"]) for r in listed] == [(rid, "agreed")]
    estimate = json.loads(run(app, ["projects", "estimate", "p", "--json"]).stdout)
    assert (estimate["subsidy"], estimate["verified"]) == (50, False)
    bad = run(app, ["requests", "open", "--from", "a", "--to", "a"])
    assert bad.exit_code == 3 and "itself" in bad.output


def test_the_project_moves_the_purchase_share_on_card_api_and_xlsx(api: ApiCase):
    base = api.get("/projects/jp/kpi-effect").json()
    # no expected purchases given: the share does not move, and the text says why
    assert base["after"]["intra_purchases"] == base["before"]["intra_purchases"]
    assert "gives no purchases" in base["purchases_text_en"]
    api.store.upsert([JointProject(
        id="jp", name="Гидроцилиндры для сеялки", cluster_id="c1", category="hyd.cyl",
        import_country="IT", import_volume=100, import_value=15000, start_year=2026,
        end_year=2027, expected_intra_purchases=10_000, expected_import_replaced=50_000)])
    # by hand: oem (the lead, an end-product maker) buys 200 × 92 from sup1 (a member)
    # and imports 100 × 150 of hyd.cyl; the project adds 10 000 bought from members and
    # replaces its imports — at most the 15 000 it imports, not the 50 000 claimed
    intra, total = 200 * 92, 200 * 92 + 100 * 150
    after = (intra + 10_000) / (total + 10_000 - 15_000)
    effect = api.get("/projects/jp/kpi-effect").json()
    assert effect["before"]["intra_purchases"] == pytest.approx(intra / total)
    assert effect["after"]["intra_purchases"] == pytest.approx(after)
    assert (effect["intra_added"], effect["imports_replaced"]) == (10_000, 15_000)
    assert effect["threshold"] == 0.2
    assert "→" in effect["purchases_text_ru"] and "замещённый импорт" in \
        effect["purchases_text_ru"]
    assert "import replaced" in effect["purchases_text_en"]
    card = api.get("/projects/jp/card").json()
    assert card["kpi_effect"]["after"]["intra_purchases"] == pytest.approx(after)
    assert card["kpi_effect"]["newly_tied"] == effect["newly_tied"]
    # a participant sees the tie effect, not the centre's purchase figures
    mine = api.get("/projects/jp/card", role="member_sup1").json()["kpi_effect"]
    assert mine["after"]["intra_purchases"] is None and mine["intra_added"] is None
    assert "centre" in mine["purchases_text_en"]
    assert mine["newly_tied"] == effect["newly_tied"]
    book = load_workbook(io.BytesIO(api.get("/projects/jp/export.xlsx").content))
    rows = {r[0]: r[1:] for r in book["KPI"].iter_rows(values_only=True) if r and r[0]}
    assert rows["intra_purchases"][0] == pytest.approx(intra / total)
    assert rows["intra_purchases"][1] == pytest.approx(after)
    assert rows["Замещённый импорт / Import replaced"][0] == 15_000
    assert rows["untied_count"] == (effect["before"]["untied_count"],
                                    effect["after"]["untied_count"])


def test_the_2023_regime_counts_starter_batches_only_and_caps_each_applicant(store: GraphStore):
    """The second version of the rules (secondary sources, unverified): 50 % of the
    starter batches bought from other members, at most 150 million rubles per applicant."""
    from coopgraph.queries.projects import estimate_subsidy
    from coopgraph.queries.subsidy import SUBSIDY_RULES

    store.upsert([
        Cluster(id="k", name="К"),
        *[Company(id=i, name=i.upper()) for i in ("a", "b", "x")],
        *[Membership(company_id=i, cluster_id="k") for i in ("a", "b")],
        JointProject(id="p", name="P", cluster_id="k", rules_version="rf-41-2016/secondary-2023"),
        *[ProjectParticipant(company_id=i, project_id="p") for i in ("a", "b", "x")],
        ProjectCost(company_id="a", project_id="p", item="batch", cost_type="starter_batch",
                    year=2024, amount=400_000_000),
        ProjectCost(company_id="a", project_id="p", item="line", cost_type="equipment",
                    year=2024, amount=100_000_000),
        ProjectCost(company_id="b", project_id="p", item="batch", cost_type="starter_batch",
                    year=2025, amount=60_000_000),
        ProjectCost(company_id="x", project_id="p", item="batch", cost_type="starter_batch",
                    year=2025, amount=10_000_000),  # x is no member
    ])
    est = estimate_subsidy(store, "p")  # the project names the version
    assert est.rules_version == "rf-41-2016/secondary-2023"
    assert est.eligible_costs == 400_000_000 + 60_000_000
    by = {p.company_id: p.subsidy for p in est.participants}
    assert by == {"a": 150_000_000, "b": 30_000_000, "x": 0}  # a: min(200e6, 150e6)
    assert est.subsidy == 180_000_000
    assert est.verified is False
    assert any("150 000 000" in w for w in est.warnings_ru)
    assert any("secondary sources" in w for w in est.warnings_en)
    # the same project under the other version: every member cost at 50 %, no cap
    other = estimate_subsidy(store, "p", rules="rf-41-2016/unverified-2026-11")
    assert other.subsidy == 0.5 * (400_000_000 + 100_000_000 + 60_000_000)
    assert all(r.point is None for r in SUBSIDY_RULES[est.rules_version].costs.values())
