"""Gap analytics on the hand-built cluster (answers checked by hand) and on the sample."""

from __future__ import annotations

import pytest

from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.queries.gaps import find_gaps
from coopgraph.queries.resilience import remove_supplier
from tests.chains_graphs import projection_of, small_cluster


@pytest.fixture(scope="module")
def proj():
    return projection_of(small_cluster())


def test_small_cluster_gaps(proj):
    report = find_gaps(proj, cluster_id="K1")
    assert report.region == "Lipetsk Oblast" and report.scope_size == 8
    gaps = {g.category: g for g in report.import_dependency}
    assert set(gaps) == {"CABIN", "FRAME", "WELD"}  # every BOM level is demanded
    assert gaps["FRAME"].demand_qty == 100 + 50 * 2
    assert gaps["CABIN"].demand_qty == 100 and gaps["CABIN"].importers == ["OEM1"]
    # WELD: P1 100×1×1 + P2 50×2×1
    assert gaps["WELD"].demand_qty == 200 and gaps["WELD"].demand_value == 200 * 300
    single = {s.category: s.supplier_id for s in report.single_source}
    assert single == {"HYD": "S3", "PAINT": "S5", "GEAR": "S3"}
    over = {o.category: o for o in report.over_capacity}
    # GEAR: OEM1 300 (BOM) + OEM2 40 (need) against S3's 100 (S4 is in Voronezh)
    assert set(over) == {"GEAR"} and over["GEAR"].shortfall == pytest.approx(240)
    idle = {(i.company_id, i.category) for i in report.idle_capacity}
    assert idle == {("S2", "CAST"), ("S5", "PAINT"), ("S3", "GEAR")}
    assert [u.company_id for u in report.untied] == ["S5", "U1"]
    critical = {c.company_id: c for c in report.critical}
    assert critical["S1"].articulation_point and critical["OEM2"].articulation_point
    # FRAME 200 × 20,000 ₽ first, then CABIN 100 × 2,000, WELD 200 × 300, GEAR 240 × 50
    assert [a.category for a in report.attract] == ["FRAME", "CABIN", "WELD", "GEAR"]
    assert report.attract[2].could_develop == ["S2"]
    assert report.attract[1].unlock_value == pytest.approx(100 * 2000)
    assert report.model_dump(mode="json")["cluster_id"] == "K1"


def test_region_scope_and_everyone(proj):
    voronezh = find_gaps(proj, region="Voronezh Oblast")
    assert voronezh.scope_size == 1 and voronezh.import_dependency == []
    everyone = find_gaps(proj)
    assert everyone.region is None
    # with every company a supplier, GEAR has two (S3, S4) and is no longer single-source
    assert "GEAR" not in {s.category for s in everyone.single_source}


def test_bad_input(proj):
    with pytest.raises(NotFound):
        find_gaps(proj, cluster_id="nope")
    with pytest.raises(InvalidQuery):
        find_gaps(proj, region="  ")


def test_remove_supplier(proj):
    report = remove_supplier(proj, "S3")
    lost = [(link.buyer_id, link.category, link.volume) for link in report.lost_links]
    assert lost == [("OEM2", "HYD", 50)]
    assert report.lost_links[0].replacements == []
    assert report.uncovered_volume == 50
    broken = {b.product_id: b for b in report.broken_chains}
    assert broken["P1"].reasons == {"HYD": "only declared supplier"}
    assert broken["P2"].reasons == {"HYD": "only current supplier"}
    s1 = remove_supplier(proj, "S1")
    lost = {link.buyer_id: link for link in s1.lost_links}
    assert lost["OEM1"].replacements[0].company_id == "S2"
    assert lost["OEM1"].covered_by_replacements == 200
    with pytest.raises(NotFound):
        remove_supplier(proj, "nope")


# --- the sample cluster: the planted patterns of data/sample/README.md ----------------------

SAMPLE_CLUSTER = "lipetsk-agromash"


@pytest.fixture
def sample_gaps(sample_store):
    from coopgraph.queries.projection import ProjectionCache

    return find_gaps(ProjectionCache(sample_store).get(), cluster_id=SAMPLE_CLUSTER)


def test_sample_planted_gaps(sample_gaps):
    found = {g.category for g in sample_gaps.import_dependency}
    assert {"elx.gnss", "spray.nozzle", "hyd.steering_unit", "bear.ball", "bear.tapered",
            "eng.fuel_injection"} <= found
    assert sample_gaps.region == "Липецкая область"
    assert len(found) == 37  # the README's full list, computed by the generator


def test_sample_planted_single_source_and_capacity(sample_gaps):
    single = {s.category: s.supplier_id for s in sample_gaps.single_source}
    for cat, sup in {"hyd.cylinder": "m-gidro", "elec.harness": "m-provod",
                     "trans.gear_bevel": "m-reduktor", "cab.glass": "s-steklo"}.items():
        assert single[cat] == sup
    # 47 from BOMs, needs and imports (the generator's count) + 1 that only the
    # sample's supply links show, marked as such (issue 10)
    declared = {s.category for s in sample_gaps.single_source if s.evidence != ["supply"]}
    assert len(declared) == 47 and len(single) == 48
    by_supply = [s for s in sample_gaps.single_source if s.evidence == ["supply"]]
    assert [s.category for s in by_supply] == ["forge.gear_blank"]
    assert "supply links only" in by_supply[0].text_en and "поставкам" in by_supply[0].text_ru
    over = {o.category: o for o in sample_gaps.over_capacity}
    assert "supply" in over["fast.bolts"].evidence
    assert over["fast.bolts"].capacity == pytest.approx(1_500_000)
    assert over["hyd.cylinder"].demand_qty == pytest.approx(23_100)
    assert over["hyd.cylinder"].capacity == pytest.approx(8_000)


def test_sample_demand_counts_supply_links_as_evidence(sample_store, sample_gaps):
    """Per buyer, demand is the largest estimate: BOM/needs/imports or what it buys now."""
    from coopgraph.graph.schema import EntityKind
    from coopgraph.queries.gaps import category_demand
    from coopgraph.queries.projection import ProjectionCache

    proj = ProjectionCache(sample_store).get()
    scope = proj.cluster(SAMPLE_CLUSTER)
    c = proj.category_index["fast.bolts"]
    declared = category_demand(proj, scope)[c]  # without supply links
    assert sum(declared.values()) == pytest.approx(6_850_800)  # the generator's BOM figure
    members = {proj.company_ids[i] for i in scope}
    bought: dict[str, float] = {}
    for row in sample_store.snapshot().rows(EntityKind.SUPPLY):
        if row["buyer_id"] in members and row.get("category") == "fast.bolts":
            bought[row["buyer_id"]] = bought.get(row["buyer_id"], 0.0) + \
                (row.get("volume_per_year") or 0.0)
    assert bought  # the sample has supply links of bolts
    expected = {m: declared.get(proj.company_index[m], 0.0) for m in bought} | {
        proj.company_ids[i]: q for i, q in declared.items()}
    for m, q in bought.items():
        expected[m] = max(expected[m], q)
    over = {o.category: o for o in sample_gaps.over_capacity}
    assert over["fast.bolts"].demand_qty == pytest.approx(sum(expected.values()))
    assert {"bom", "supply"} <= set(over["fast.bolts"].evidence)


def test_sample_planted_idle_and_untied(sample_gaps):
    idle = {(i.company_id, i.category) for i in sample_gaps.idle_capacity}
    assert {("m-dankov-lit", "cast.counterweight"), ("m-disk", "till.disc"),
            ("s-elets-elektronika", "elx.sensor_speed")} <= idle
    assert [u.company_id for u in sample_gaps.untied] == [
        "m-dankov-lit", "m-disk", "m-fond", "m-kosilka", "m-krepezh", "m-lizing",
        "m-univ-elets", "m-univ-lipetsk"]
    assert sample_gaps.critical and any(c.articulation_point for c in sample_gaps.critical)
    values = [a.unlock_value for a in sample_gaps.attract]
    assert values == sorted(values, reverse=True) and values[0] > 0


def test_sample_closing_a_single_source_breaks_chains(sample_store):
    from coopgraph.graph.schema import EntityKind
    from coopgraph.queries.projection import ProjectionCache

    proj = ProjectionCache(sample_store).get()
    report = remove_supplier(proj, "m-gidro")
    snap = sample_store.snapshot()
    sold = [r for r in snap.rows(EntityKind.SUPPLY) if r["supplier_id"] == "m-gidro"]
    assert len(report.lost_links) == len(sold)
    assert sum(link.volume for link in report.lost_links) == pytest.approx(
        sum(r.get("volume_per_year") or 0 for r in sold))
    assert report.broken_chains  # hyd.cylinder has no other regional maker…
    for link in report.lost_links:
        frees = [r.free_capacity for r in link.replacements]
        assert all(f > 0 for f in frees) and "m-gidro" not in {
            r.company_id for r in link.replacements}
