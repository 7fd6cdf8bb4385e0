"""Cluster KPIs (Resolution No. 779): values against a hand computation from the records."""

from __future__ import annotations

import pytest

from coopgraph.graph.models import Category, Import, Membership, Product, Supply
from coopgraph.queries.kpi import cluster_kpis
from tests.chains_graphs import projection_of, small_cluster


def _hand(records, cluster_id):
    """Independent computation straight from the record list."""
    members = {r.company_id for r in records
               if isinstance(r, Membership) and r.cluster_id == cluster_id}
    tied = set()
    for r in records:
        if isinstance(r, Supply) and r.supplier_id in members and r.buyer_id in members:
            tied |= {r.supplier_id, r.buyer_id}
    price = {r.code: r.unit_price for r in records if isinstance(r, Category)}
    makers = {r.maker_id for r in records if isinstance(r, Product)} & members
    makers |= {r.id for r in records if getattr(r, "roles", None) and "oem" in r.roles
               and r.id in members}
    intra = total = 0.0
    for r in records:
        if isinstance(r, Supply) and r.buyer_id in makers:
            v = (r.volume_per_year or 0) * (r.unit_price or price.get(r.category) or 0)
            total += v
            intra += v if r.supplier_id in members else 0
        if isinstance(r, Import) and r.company_id in makers:
            total += (r.volume_per_year or 0) * (r.unit_price or price.get(r.category) or 0)
    return len(tied) / len(members), len(members - tied), intra / total


def test_small_cluster_kpis_match_hand_computation():
    records = small_cluster()
    report = cluster_kpis(projection_of(records), "K1")
    share, untied, intra = _hand(records, "K1")
    kpis = {k.code: k for k in report.kpis}
    assert kpis["tied_share"].value == pytest.approx(share) == pytest.approx(6 / 8)
    assert kpis["untied_count"].value == untied == 2
    assert kpis["intra_purchases"].value == pytest.approx(intra)
    # by hand: (200·100 + 100·100 + 50·500) / (that + 300·55 + 100·2500)
    assert intra == pytest.approx(55_000 / 321_500)
    # one rule (at most 3 untied), so the share's threshold is derived and both agree
    assert kpis["tied_share"].threshold == pytest.approx((8 - 3) / 8)
    assert kpis["tied_share"].passed and kpis["untied_count"].passed
    assert not kpis["intra_purchases"].passed and kpis["intra_purchases"].threshold == 0.2
    assert report.untied_members == ["S5", "U1"]
    assert report.end_product_makers == ["OEM1", "OEM2"]
    assert all(k.text_ru and k.text_en for k in report.kpis)


def test_what_if_raises_failing_kpis():
    report = cluster_kpis(projection_of(small_cluster()), "K1")
    by_kpi = {w.kpi: w for w in report.what_if}
    # untied_count passes; ties are still proposed (every member should have one)
    assert set(by_kpi) == {"tied_share", "intra_purchases"}
    for w in by_kpi.values():
        assert w.links and w.after > w.before
    # the intra what-if moves OEM1's GEAR from S4 (non-member) to S3 (member, 100 free)
    link = by_kpi["intra_purchases"].links[0]
    assert (link.supplier_id, link.buyer_id, link.category, link.volume) == \
        ("S3", "OEM1", "GEAR", 100)
    # at S3's own price (60; S4 sold at 55): one price per proposed link, the total moves too
    assert link.value == 100 * 60
    assert by_kpi["intra_purchases"].after == pytest.approx(
        (55_000 + 100 * 60) / (321_500 + 100 * (60 - 55)))
    assert any("S5" in (link.supplier_id, link.buyer_id) for link in by_kpi["tied_share"].links)
    assert cluster_kpis(projection_of(small_cluster()), "K1", what_if=False).what_if == []


def test_specified_territory_threshold_and_more_untied():
    records = small_cluster()
    records[0] = records[0].model_copy(update={"intra_share_threshold": 0.1})
    records += [Membership(company_id=c, cluster_id="K1") for c in ("S2", "S4")]
    report = cluster_kpis(projection_of(records), "K1")
    kpis = {k.code: k for k in report.kpis}
    _share, untied, intra = _hand(records, "K1")
    assert kpis["intra_purchases"].threshold == 0.1
    assert kpis["intra_purchases"].value == pytest.approx(intra) and kpis["intra_purchases"].passed
    assert kpis["untied_count"].value == untied == 3 and kpis["untied_count"].passed


def test_unknown_cluster():
    from coopgraph.graph.errors import NotFound

    with pytest.raises(NotFound):
        cluster_kpis(projection_of(small_cluster()), "nope")


def _hand_from_snapshot(snap, cluster_id):
    """Independent computation from the snapshot's rows."""
    from coopgraph.graph.schema import EntityKind

    members = {r["company_id"] for r in snap.rows(EntityKind.MEMBERSHIP)
               if r["cluster_id"] == cluster_id}
    price = {r["code"]: r.get("unit_price") for r in snap.rows(EntityKind.CATEGORY)}
    makers = {r.get("maker_id") for r in snap.rows(EntityKind.PRODUCT)} & members
    makers |= {r["id"] for r in snap.rows(EntityKind.COMPANY)
               if "oem" in r.get("roles", []) and r["id"] in members}
    tied, intra, total, imports = set(), 0.0, 0.0, 0.0
    for r in snap.rows(EntityKind.SUPPLY):
        if r["supplier_id"] in members and r["buyer_id"] in members:
            tied |= {r["supplier_id"], r["buyer_id"]}
        if r["buyer_id"] in makers:
            v = (r.get("volume_per_year") or 0) * (r.get("unit_price")
                                                   or price.get(r["category"]) or 0)
            total += v
            intra += v if r["supplier_id"] in members else 0
    for r in snap.rows(EntityKind.IMPORT):
        if r["company_id"] in makers:
            imports += (r.get("volume_per_year") or 0) * (r.get("unit_price")
                                                          or price.get(r["category"]) or 0)
    return members, tied, intra, total, imports


def _links_only_no_fallback(snap, members):
    from coopgraph.graph.schema import EntityKind

    oems = {r["id"] for r in snap.rows(EntityKind.COMPANY)
            if "oem" in r.get("roles", []) and r["id"] in members}
    intra = total = 0.0
    for r in snap.rows(EntityKind.SUPPLY):
        if r["buyer_id"] in oems:
            v = (r.get("volume_per_year") or 0) * (r.get("unit_price") or 0)
            total += v
            intra += v if r["supplier_id"] in members else 0
    return intra / total


def test_sample_kpis_match_hand_computation_and_what_if(sample_store):
    from coopgraph.queries.projection import ProjectionCache

    cluster = "lipetsk-agromash"
    report = cluster_kpis(ProjectionCache(sample_store).get(), cluster)
    members, tied, intra, total, imports = _hand_from_snapshot(sample_store.snapshot(), cluster)
    kpis = {k.code: k for k in report.kpis}
    assert kpis["tied_share"].value == pytest.approx(len(tied) / len(members))
    assert kpis["untied_count"].value == len(members - tied) == 8
    assert not kpis["untied_count"].passed  # the planted failure: more than 3
    assert kpis["intra_purchases"].value == pytest.approx(intra / (total + imports))
    # links only, a missing price as 0 (the README's way) is lower than the threshold too
    assert _links_only_no_fallback(sample_store.snapshot(), members) < 0.2
    assert kpis["intra_purchases"].details["share_without_imports"] == pytest.approx(
        intra / total)
    assert not kpis["intra_purchases"].passed
    by_kpi = {w.kpi: w for w in report.what_if}
    assert set(by_kpi) == {"tied_share", "untied_count", "intra_purchases"}
    for w in by_kpi.values():
        assert w.links and (w.after > w.before if w.kpi != "untied_count"
                            else w.after < w.before)
    proposed = {(link.supplier_id, link.buyer_id) for link in by_kpi["intra_purchases"].links}
    assert ("m-disk", "m-borona") in proposed  # idle member capacity vs a member's import
