"""The interactive what-if: KPIs with a chosen set of links, checked against a hand computation."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopgraph.graph.confidentiality import Viewer
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import ValidationFailed
from coopgraph.queries.kpi import ChosenLink, cluster_kpis, evaluate_links
from tests.api_support import assert_problem, make_case
from tests.chains_graphs import projection_of, small_cluster


@pytest.fixture(scope="module")
def proj():
    return projection_of(small_cluster())


def _kpis(result):
    return {k.code: k for k in result.after}


def test_no_link_changes_nothing(proj) -> None:
    result = evaluate_links(proj, "K1", [])
    before = {k.code: k.value for k in cluster_kpis(proj, "K1", what_if=False).kpis}
    assert {k.code: k.value for k in result.after} == pytest.approx(before)
    assert {k.code: k.value for k in result.before} == pytest.approx(before)


def test_a_moved_purchase_and_a_tie_by_hand(proj) -> None:
    # S3 (member, GEAR capacity 100 at 60) takes 100 of OEM1's 300 GEAR bought from S4
    # (non-member, 55); S5 → U1 ties the two untied members.
    result = evaluate_links(proj, "K1", [
        ChosenLink(supplier_id="S3", buyer_id="OEM1", category="GEAR", volume=100),
        ChosenLink(supplier_id="S5", buyer_id="U1", category="PAINT")])
    k = _kpis(result)
    # before: intra 55,000 of 321,500 (tests/test_kpi.py); the moved 100 join intra at 60,
    # the total changes by 100 × (60 − 55)
    assert k["intra_purchases"].value == pytest.approx((55_000 + 6_000) / (321_500 + 500))
    assert k["untied_count"].value == 0 and k["tied_share"].value == 1.0
    assert result.newly_tied == ["S5", "U1"]
    assert [link.value for link in result.links] == [6_000, 0]
    assert result.links[0].free_capacity == 100


def test_an_import_moved_leaves_the_imports(proj) -> None:
    # nobody in K1 declares CABIN; S5's PAINT to OEM1 is a new purchase from a member
    result = evaluate_links(proj, "K1", [
        ChosenLink(supplier_id="S5", buyer_id="OEM1", category="PAINT", volume=500)])
    k = _kpis(result)["intra_purchases"]
    assert k.value == pytest.approx((55_000 + 5_000) / (321_500 + 5_000))
    assert k.details["import_value"] == pytest.approx(250_000)


def test_volumes_above_free_capacity_are_refused(proj) -> None:
    with pytest.raises(ValidationFailed) as one:
        evaluate_links(proj, "K1", [
            ChosenLink(supplier_id="S3", buyer_id="OEM1", category="GEAR", volume=101)])
    assert "free capacity 100" in one.value.problems[0][1]
    # two links of the same supplier and category share its free capacity
    with pytest.raises(ValidationFailed):
        evaluate_links(proj, "K1", [
            ChosenLink(supplier_id="S3", buyer_id="OEM1", category="GEAR", volume=60),
            ChosenLink(supplier_id="S3", buyer_id="OEM2", category="GEAR", volume=50)])
    evaluate_links(proj, "K1", [
        ChosenLink(supplier_id="S3", buyer_id="OEM1", category="GEAR", volume=60),
        ChosenLink(supplier_id="S3", buyer_id="OEM2", category="GEAR", volume=40)])


def test_bad_links_are_named(proj) -> None:
    with pytest.raises(ValidationFailed) as info:
        evaluate_links(proj, "K1", [
            ChosenLink(supplier_id="S2", buyer_id="OEM1", category="CAST"),  # not a member
            ChosenLink(supplier_id="S1", buyer_id="S1"),
            ChosenLink(supplier_id="S1", buyer_id="OEM1", category="NOPE")])
    fields = [f for f, _ in info.value.problems]
    assert fields == ["links.0.supplier_id", "links.1", "links.2.category"]


def test_a_member_chooses_ties_but_sets_no_volume(proj) -> None:
    member = Viewer("S5")
    result = evaluate_links(proj, "K1", [
        ChosenLink(supplier_id="S5", buyer_id="U1", category="PAINT")], viewer=member)
    assert _kpis(result)["untied_count"].value == 0
    # the purchase share stays what the member saw before (aggregated, never a capacity)
    before = {k.code: k for k in result.before}
    assert _kpis(result)["intra_purchases"].value == before["intra_purchases"].value
    assert result.links[0].free_capacity is not None  # its own capability
    other = evaluate_links(proj, "K1", [
        ChosenLink(supplier_id="S3", buyer_id="OEM1", category="GEAR")], viewer=member)
    assert other.links[0].free_capacity is None and other.links[0].volume is None
    with pytest.raises(ValidationFailed):
        evaluate_links(proj, "K1", [
            ChosenLink(supplier_id="S3", buyer_id="OEM1", category="GEAR", volume=10)],
            viewer=member)


def test_proposals_carry_the_suppliers_free_capacity(proj) -> None:
    report = cluster_kpis(proj, "K1")
    rooms = {(link.supplier_id, link.category): link.free_capacity
             for w in report.what_if for link in w.links}
    for (s, c), room in rooms.items():
        if (s, c) == ("S3", "GEAR"):
            assert room == 100
        if (s, c) == ("S1", "CAST"):
            assert room == 500 - 300


def test_api_what_if(tmp_path: Path) -> None:
    case = make_case(EmbeddedStore(None), tmp_path)
    link = {"supplier_id": "sup1", "buyer_id": "oem", "category": "hyd.cyl", "volume": 100}
    ok = case.post("/kpis/what-if", json={"cluster": "c1", "links": [link]}, role="analyst")
    assert ok.status_code == 200, ok.text
    after = {k["code"]: k for k in ok.json()["after"]}
    # oem buys 200 from sup1 (member, 92) and imports 100 at 150: intra 18,400 of 33,400;
    # 100 moved from the import at sup1's 90
    assert after["intra_purchases"]["value"] == pytest.approx(
        (18_400 + 9_000) / (33_400 + 100 * (90 - 150)))
    too_much = case.post("/kpis/what-if", json={"cluster": "c1", "links": [
        {**link, "volume": 801}]}, role="analyst")  # free: 1000 − 200
    assert_problem(too_much, 422, contains="free capacity")
    member = case.post("/kpis/what-if", json={"cluster": "c1", "links": [link]},
                       role="member_oem")
    assert_problem(member, 422, contains="member")
    assert_problem(case.post("/kpis/what-if", json={"cluster": "nope", "links": []}), 404)
    assert_problem(case.post("/kpis/what-if", json={"cluster": "c1", "links": [
        {**link, "volume": -1}]}), 422)
