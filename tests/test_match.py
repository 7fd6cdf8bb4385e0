"""The matching engine on a hand-built cluster, where every score is worked out by hand.

The tiny cluster (tests/match_graphs.py::tiny_records):

* S1 (Lipetsk, cluster "agro") declares grey iron castings, capacity 1000/yr,
  lead time 30 days, already sells 300/yr of them to O4; holds ISO 9001
  (valid) and IATF 16949 (expired in 2001).
* S2 (Yelets, agro) declares nothing but holds machining + heat treatment →
  an *inferred* maker of gears. S3 (Lipetsk) declares welded frames (500/yr)
  and sells 50/yr to O4. S4 (Voronezh) declares aluminium castings (a sibling
  of grey iron castings).
* O1 (Lipetsk, agro) makes the combine P1 (100/yr): header ×1 (= 4 grey castings
  + 2 gears) and a frame — so it needs 400 castings a year at BOM level 2.
* O2 (Moscow) imports 500/yr of aluminium castings. O3 (Voronezh) explicitly
  needs 200/yr of grey castings with IATF 16949. O4 (Yelets, agro) buys
  castings from S1 and frames from S3.

With every weight 1 (``ONES``) the scores of S1's buyers are, by hand:

* O1: capability 1 + demand (BOM) 0.6 + capacity min(1, 700/400)=1 + distance
  e^0 = 1 + certs (none required) 1 + import 0 + cluster 1 + network 0 +
  relation 0 + lead time 1/(1+30/30)=0.5 + popularity 0 (nobody sells O1
  castings yet) + activity 1 (castings are all S1 sells) = 7.1
* O2: related 0.5 + import-demand 0.75 + capacity unknown 0.5 + e^(−d/300) +
  certs 1 + import 1 + 0 + 0 + 0 + lead time unknown 0.5 + 0 + activity 0
  (S1 sells no aluminium castings) = 4.25 + e^(−d/300)
* O3: 1 + need 1 + capacity min(1, 700/200)=1 + e^(−d/300) + certs 0/1 = 0 +
  0 + 0 + 0 + 0 + 0.5 + 0 + activity 1 = 4.5 + e^(−d/300)

so O1, O3 (108 km) and O2 (380 km). Popularity is checked on S3, which sells
frames to O4 only: O4 already buys castings from one supplier (S1), so for
S4 (aluminium castings, a sibling) O4 has popularity log 2 / log 2 = 1.
"""

from __future__ import annotations

import math

import pytest

from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.factors import DEFAULT_PROFILE, FACTORS, WeightProfile
from coopgraph.queries.match import rank_buyers, rank_suppliers, score_partners
from coopgraph.queries.projection import Projection
from coopgraph.queries.results import MatchFilters
from tests.match_graphs import LIPETSK, MOSCOW, VORONEZH, tiny_records

ONES = WeightProfile(name="ones", weights=dict.fromkeys(FACTORS, 1.0))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine, written out independently of the engine."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@pytest.fixture
def tiny(store) -> Projection:  # type: ignore[no-untyped-def]
    store.upsert(tiny_records())
    return Projection.from_snapshot(store.snapshot())


@pytest.fixture(scope="module")
def tiny_embedded() -> Projection:
    from coopgraph.graph.embedded import EmbeddedStore

    store = EmbeddedStore(None)
    store.upsert(tiny_records())
    return Projection.from_snapshot(store.snapshot())


def _factor(candidate, name):  # type: ignore[no-untyped-def]
    return next(f for f in candidate.factors if f.name == name)


def test_buyers_of_the_foundry_ranked_and_scored_as_worked_out_by_hand(tiny):
    result = rank_buyers(tiny, "S1", k=10, profile=ONES)
    ids = [c.company_id for c in result.candidates]
    o2 = 4.25 + math.exp(-_km(LIPETSK, MOSCOW) / 300)
    o3 = 4.5 + math.exp(-_km(LIPETSK, VORONEZH) / 300)
    assert ids == ["O1", "O3", "O2"]  # O4 already buys castings from S1: excluded
    scores = {c.company_id: c.score for c in result.candidates}
    assert scores["O1"] == pytest.approx(7.1, abs=1e-5)
    assert scores["O2"] == pytest.approx(o2, abs=1e-5)
    assert scores["O3"] == pytest.approx(o3, abs=1e-5)
    o1, o3c, o2c = result.candidates
    assert o1.category == "CAST-GREY" and o1.fit == "declared" and not o1.related
    assert o2c.category == "CAST-AL" and o2c.fit == "related" and o2c.related
    assert _factor(o3c, "certs").value == 0.0  # IATF 16949 of S1 expired in 2001
    assert _factor(o1, "capacity").raw == pytest.approx(700)  # 1000 − 300 committed to O4
    assert _factor(o3c, "distance").raw == pytest.approx(_km(LIPETSK, VORONEZH), rel=1e-4)
    assert _factor(o2c, "import").value == 1.0
    for c in result.candidates:
        for f in c.factors:
            assert 0.0 <= f.value <= 1.0
            assert f.contribution == pytest.approx(f.weight * f.value, abs=1e-6)
            assert f.text_ru and f.text_en
        assert c.score == pytest.approx(sum(f.contribution for f in c.factors), abs=1e-5)


def test_default_profile_prefers_the_explicit_need_over_the_related_import(tiny):
    # default weights, by hand: O3 = 0.8 fit + 0.8 need + 0.02·e^(−108/300) + 0 certs
    # + 0.05 lead + 0.4 activity ≈ 2.064; O1 = 0.8 + 0.8·0.6 BOM + 0.02 + 0.1 certs
    # + 0.2 cluster + 0.05 + 0.4 = 2.05; O2 (a related category it imports) ≈ 1.2
    ids = [c.company_id for c in rank_buyers(tiny, "S1").candidates]
    assert ids == ["O3", "O1", "O2"]
    assert rank_buyers(tiny, "S1").profile == DEFAULT_PROFILE.name


def test_suppliers_for_the_combine_maker_include_the_inferred_gear_maker(tiny):
    result = rank_suppliers(tiny, "O1", k=10)
    by_id = {c.company_id: c for c in result.candidates}
    assert set(by_id) == {"S1", "S2", "S3", "S4"}
    assert by_id["S2"].fit == "inferred" and by_id["S2"].inferred
    assert by_id["S2"].category == "GEAR"
    assert by_id["S4"].fit == "related" and by_id["S4"].category == "CAST-GREY"
    assert by_id["S1"].fit == "declared"
    assert "выведено" in _factor(by_id["S2"], "capability").text_ru


def test_product_query_expands_the_bom_through_the_header(tiny):
    result = rank_suppliers(tiny, "O1", product="P1", k=10)
    cats = {c.company_id: c.category for c in result.candidates}
    assert cats["S1"] == "CAST-GREY"  # two levels down: P1 → HEADER → CAST-GREY
    s1 = next(c for c in result.candidates if c.company_id == "S1")
    # demand from the product: 100 combines × 4 castings
    assert _factor(s1, "capacity").text_en.endswith("400")


def test_single_source_component_gets_an_alternative(tiny):
    result = rank_suppliers(tiny, "O4", category="CAST-GREY")
    ids = [c.company_id for c in result.candidates]
    assert "S1" not in ids  # the current (single) source is not proposed again
    assert ids == ["S4"] and result.candidates[0].fit == "related"


@pytest.mark.parametrize(("filters", "expected"), [
    ({"max_distance_km": 50}, ["O1"]),
    ({"region": "Липецкая"}, ["O1"]),
    ({"cluster_only": True}, ["O1"]),
    ({"cluster_only": "other"}, []),
    ({"required_certs": ["iso9001"]}, ["O3", "O1", "O2"]),
    ({"required_certs": ["iatf16949"]}, []),  # held but expired
    ({"min_free_capacity": 500}, ["O3", "O1"]),  # O2's category has no capacity on record
    ({"min_free_capacity": 800}, []),
])
def test_filters(tiny_embedded, filters, expected):
    result = rank_buyers(tiny_embedded, "S1", filters=MatchFilters(**filters))
    assert [c.company_id for c in result.candidates] == expected
    assert result.n_candidates == len(expected)


def test_supplier_side_filters_on_rank_suppliers(tiny_embedded):
    got = rank_suppliers(tiny_embedded, "O1", filters={"required_certs": ["iso9001"]})
    assert [c.company_id for c in got.candidates] == ["S1"]
    got = rank_suppliers(tiny_embedded, "O1", filters={"max_distance_km": 1})
    assert {c.company_id for c in got.candidates} == {"S1", "S3"}


def test_category_restricts_the_ranking(tiny_embedded):
    got = rank_buyers(tiny_embedded, "S1", category="CAST-AL")
    assert [(c.company_id, c.category) for c in got.candidates] == [("O2", "CAST-AL")]


@pytest.mark.parametrize(("call", "error"), [
    (lambda p: rank_buyers(p, "nobody"), NotFound),
    (lambda p: rank_buyers(p, "S1", category="NOPE"), NotFound),
    (lambda p: rank_suppliers(p, "O1", product="NOPE"), NotFound),
    (lambda p: rank_suppliers(p, "O4", product="P1"), InvalidQuery),  # P1 is O1's
    (lambda p: rank_suppliers(p, "O1", product="P1", category="GEAR"), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", k=0), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", k=10_000), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"max_distance_km": -5}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"max_distance_km": float("nan")}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"cluster_only": "nope"}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"required_certs": ["gost-x"]}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"region": "Марс"}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"min_free_capacity": -1}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", filters={"colour": "red"}), InvalidQuery),
    (lambda p: rank_buyers(p, "S1", profile="nope"), InvalidQuery),
])
def test_bad_input_gets_a_clear_error(tiny_embedded, call, error):
    with pytest.raises(error):
        call(tiny_embedded)


def test_profile_validation():
    with pytest.raises(ValueError):
        WeightProfile(name="x", weights={"colour": 1.0})
    with pytest.raises(ValueError):
        WeightProfile(name="x", weights={"network": -1.0})


def _network_only() -> Snapshot:
    companies = [{"id": c, "name": c} for c in ("S1", "S2", "S3", "B1", "B2", "B3")]
    links = [("S1", "B1"), ("S2", "B1"), ("S2", "B2"), ("S3", "B2"), ("S3", "B3")]
    return Snapshot(revision=1, tables={
        EntityKind.COMPANY: companies,
        EntityKind.CATEGORY: [{"code": "X", "name_ru": "Икс"}],
        EntityKind.SUPPLY: [{"supplier_id": s, "buyer_id": b, "category": "X"}
                            for s, b in links],
    })


def test_ranking_works_on_the_supply_network_alone():
    proj = Projection.from_snapshot(_network_only())
    result = rank_buyers(proj, "S1", profile=ONES)
    # S1 shares buyer B1 with S2, which also sells to B2: B2 is reached by the CF path;
    # B3 only buys X from S3 (demand without a path), B1 is already S1's buyer.
    assert [c.company_id for c in result.candidates] == ["B2", "B3"]
    net = {c.company_id: _factor(c, "network").value for c in result.candidates}
    assert net == {"B2": 1.0, "B3": 0.0}
    assert result.candidates[0].fit == "supplied"


def test_network_only_candidates_come_from_the_paths_when_nothing_else_is_known():
    snap = _network_only()
    snap.tables[EntityKind.SUPPLY] = [r for r in snap.tables[EntityKind.SUPPLY]
                                      if r["buyer_id"] != "B3"]
    proj = Projection.from_snapshot(snap)
    scored = score_partners(proj, proj.company("S1"), "buyers")
    assert [proj.company_ids[int(i)] for i in scored.partners] == ["B2"]


def test_results_serialise_to_json(tiny_embedded):
    data = rank_buyers(tiny_embedded, "S1").model_dump(mode="json")
    assert data["candidates"][0]["factors"][0]["name"] == FACTORS[0]
    assert data["filters"]["required_certs"] == []


def test_popularity_counts_the_partners_current_links_in_the_category(tiny_embedded):
    by_id = {c.company_id: c for c in rank_buyers(tiny_embedded, "S4", profile=ONES).candidates}
    o4 = by_id["O4"]  # buys grey castings from S1 today: the one active buyer of the category
    assert o4.category == "CAST-GREY" and o4.fit == "related"
    assert _factor(o4, "popularity").value == pytest.approx(1.0)
    assert _factor(o4, "popularity").raw == 1.0
    assert _factor(by_id["O1"], "popularity").value == 0.0
    assert _factor(o4, "activity").value == 0.0  # S4 sells nothing yet
    suppliers = {c.company_id: c for c in rank_suppliers(tiny_embedded, "O1",
                                                         profile=ONES).candidates}
    assert _factor(suppliers["S1"], "popularity").value == pytest.approx(1.0)
    assert _factor(suppliers["S4"], "popularity").value == 0.0
    for c in suppliers.values():
        assert all(f.text_ru and f.text_en for f in c.factors)


@pytest.mark.parametrize(("profile", "k"), [(None, 10), (ONES, 1), (ONES, 25)])
def test_fast_top_k_equals_scoring_every_candidate(profile, k):
    """rank_buyers prunes (queries.match._fast_buyers); it must equal the full scoring."""
    from coopgraph.queries.candidates import CheckedFilters, match_index
    from coopgraph.queries.factors import resolve_profile
    from coopgraph.queries.match import _buyer_pairs
    from coopgraph.queries.match_render import match_result
    from tests.match_graphs import synthetic_snapshot

    proj = Projection.from_snapshot(synthetic_snapshot(3000, 3, links_per_supplier=12.0))
    ix = match_index(proj)
    prof = resolve_profile(profile)
    suppliers = [i for i in range(proj.n_companies) if ix.out_deg[i] > 0][::25][:40]
    assert len(suppliers) >= 20
    for s in suppliers:
        sid = proj.company_ids[s]
        fast = rank_buyers(proj, sid, k=k, profile=prof)
        full = match_result(proj, ix, "buyers", s,
                            _buyer_pairs(proj, ix, s, None, CheckedFilters(), prof, None),
                            k, prof, None, None, None)
        assert fast.n_candidates == full.n_candidates
        assert [(c.company_id, c.score, c.category, c.categories) for c in fast.candidates] \
            == [(c.company_id, c.score, c.category, c.categories) for c in full.candidates]


def test_rank_buyers_is_fast_only_once_the_index_is_built_and_without_filters():
    from coopgraph.graph.embedded import EmbeddedStore
    from coopgraph.queries.factors import explain
    from coopgraph.queries.match import rank_buyers_is_fast

    store = EmbeddedStore(None)
    store.upsert(tiny_records())
    proj = Projection.from_snapshot(store.snapshot())
    supplier = proj.company_ids[0]
    assert not rank_buyers_is_fast(proj)  # nothing built yet: the first call builds the index
    result = rank_buyers(proj, supplier, k=3)
    assert rank_buyers_is_fast(proj)
    assert not rank_buyers_is_fast(proj, filters={"region": "X"})
    assert not rank_buyers_is_fast(proj, profile=ONES)  # its row order is not built yet
    assert not rank_buyers_is_fast(proj, profile="no-such-profile")
    rank_buyers(proj, supplier, k=3, profile=ONES)
    assert rank_buyers_is_fast(proj, profile=ONES)
    # the vectorised result builder says what explain() says, factor by factor
    for c in result.candidates:
        for f in c.factors:
            assert f.text_ru and f.text_en
        assert c.reasons_en == [f.text_en for f in sorted(
            (f for f in c.factors if f.contribution > 0), key=lambda f: -f.contribution)[:3]]
    assert explain("demand", 0.7, 5.0, cat="x", demand_src="supplied", extra=5.0)[1] == \
        "the buyer buys it from others: ~5 a year"  # CLDR figures: no raw ".0"
