"""Issue 11, third round: the category tier of the fallback, the PA-like fallback order the
walk tuning may choose, and the tuned walk carried across match-index rebuilds.

* a supplier with no sales gets a non-empty list whose first companies trade in its
  taxonomy branch, labelled ``popular_in_category`` and explained in both languages;
* ``fallback_scores(degree="both")`` orders by the whole degree (buying and selling);
* the automatic network-only profile survives a small write (patched index) and a
  rebuild from the store, and is tuned again once the network has drifted.
"""

from __future__ import annotations

import numpy as np

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.candidates import CARRY_DRIFT, match_index
from coopgraph.queries.factors import resolve_profile
from coopgraph.queries.index_patch import patch_match_index
from coopgraph.queries.match import category_pool, fallback_scores, rank_buyers, rank_suppliers
from coopgraph.queries.projection import Projection
from tests.test_match_adapt import _network


def _branch_snapshot() -> Snapshot:
    # taxonomy: P → X, P → Q → W; Z a root of its own. "new" can make W and sells nothing;
    # nobody buys W or its relatives (Q, P): no demand candidate, no walk; X is W's "uncle"
    return Snapshot(revision=1, tables={
        EntityKind.COMPANY: [{"id": c, "name": c.upper(), "roles": [],
                              "region": "R1" if c in ("b3", "new") else "R2"}
                             for c in ("s0", "s1", "new", "b0", "b1", "b2", "b3")],
        EntityKind.CATEGORY: [{"code": "P", "name_ru": "Пэ"},
                              {"code": "X", "name_ru": "Икс", "parent": "P"},
                              {"code": "Q", "name_ru": "Ку", "parent": "P"},
                              {"code": "W", "name_ru": "Ве", "parent": "Q"},
                              {"code": "Z", "name_ru": "Зет"}],
        EntityKind.CAPABILITY: [{"company_id": "new", "category": "W"}],
        EntityKind.SUPPLY: [{"supplier_id": s, "buyer_id": b, "category": c} for s, b, c in
                            [("s0", "b0", "X"), ("s1", "b0", "X"), ("s0", "b1", "X"),
                             ("s1", "b2", "Z"), ("s0", "b3", "Z"), ("s1", "b3", "Z")]],
    })


def test_a_supplier_without_sales_gets_buyers_of_its_branch_first_labelled_so() -> None:
    proj = Projection.from_snapshot(_branch_snapshot())
    result = rank_buyers(proj, "new", k=4)
    got = [(c.company_id, c.source) for c in result.candidates]
    # the branch's buyers (b0 has two suppliers, first), then the region's, then the rest
    assert got == [("b0", "popular_in_category"), ("b1", "popular_in_category"),
                   ("b3", "popular_in_region"), ("b2", "popular")]
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True) and max(scores) < 0
    assert result.note_en is not None and result.note_ru is not None
    assert "taxonomy branches of the categories the company makes or sells" in result.note_en
    assert "разделах классификатора" in result.note_ru and "«R1»" in result.note_ru
    assert "popularity fallback" in result.note_en and "по популярности" in result.note_ru
    ix = match_index(proj)
    pool = category_pool(ix, proj.company_index["new"], "buyers")
    assert sorted(proj.company_ids[i] for i in pool) == ["b0", "b1"]


def test_a_buyer_with_needs_only_gets_sellers_of_its_branch_first() -> None:
    snap = _branch_snapshot()
    tables = dict(snap.tables)
    tables[EntityKind.COMPANY] = [*tables[EntityKind.COMPANY],
                                  {"id": "nb", "name": "NB", "roles": []}]
    tables[EntityKind.NEED] = [{"company_id": "nb", "category": "W"}]
    proj = Projection.from_snapshot(Snapshot(revision=2, tables=tables))
    result = rank_suppliers(proj, "nb", k=3)
    got = [(c.company_id, c.source) for c in result.candidates]
    # "new" can make W: the one real candidate; s0 and s1 sell X (W's branch, not W or its
    # relatives): no candidate, but the first of the fallback, labelled so
    assert got[0] == ("new", "demand")
    assert sorted(got[1:]) == [("s0", "popular_in_category"), ("s1", "popular_in_category")]
    assert result.note_en is not None and "categories the company buys or needs" in result.note_en


def test_the_both_degrees_fallback_ranks_by_buying_and_selling_together() -> None:
    proj = Projection.from_snapshot(_branch_snapshot())
    ix = match_index(proj)
    me = proj.company_index["new"]
    side = fallback_scores(ix, me, "buyers")
    both = fallback_scores(ix, me, "buyers", degree="both")
    s0, b2 = proj.company_index["s0"], proj.company_index["b2"]
    # s0 buys nothing (in-degree 0) but sells to four; b2 buys from one: both outside the
    # branch and the region, so one tier
    assert both[s0] > both[b2] and side[s0] < side[b2]
    assert np.isneginf(both[me]) and np.isneginf(side[me])


def _with_links(snap: Snapshot, extra: list[tuple[str, str]]) -> Snapshot:
    tables = dict(snap.tables)
    tables[EntityKind.SUPPLY] = [*tables[EntityKind.SUPPLY],
                                 *({"supplier_id": s, "buyer_id": b, "category": "X"}
                                   for s, b in extra)]
    return Snapshot(revision=snap.revision + 1, tables=tables)


def _new_pairs(snap: Snapshot, n: int) -> list[tuple[str, str]]:
    have = {(r["supplier_id"], r["buyer_id"]) for r in snap.rows(EntityKind.SUPPLY)}
    out = [(f"s{i}", f"b{j}") for i in range(120) for j in range(200)
           if (f"s{i}", f"b{j}") not in have]
    return out[:n]


def test_the_tuned_walk_survives_a_small_write_and_is_tuned_again_after_drift() -> None:
    base = _network(120, 200, 900, seed=3)
    old = Projection.from_snapshot(base)
    tuned = resolve_profile(None, old)
    assert tuned.name.startswith("network (auto")
    # one new link: the patched index keeps the tuned profile (no new tuning)
    one = Projection.from_snapshot(_with_links(base, _new_pairs(base, 1)))
    patched = patch_match_index(match_index(old), old, one)
    assert patched is not match_index(old)
    assert patched.cache.get("network_only_profile") is tuned
    one.extra["match_index"] = patched
    assert resolve_profile(None, one) is tuned
    # a rebuild from the store (a fresh projection) keeps it too, when told the old index
    rebuilt = Projection.from_snapshot(_with_links(base, _new_pairs(base, 1)))
    rebuilt.extra["previous_match_index"] = patched
    assert resolve_profile(None, rebuilt) is tuned
    # more than CARRY_DRIFT of the pairs changed: nothing carried, the walk is tuned afresh
    many = int(CARRY_DRIFT * 900) + 5
    drifted = Projection.from_snapshot(_with_links(base, _new_pairs(base, many)))
    fresh = patch_match_index(match_index(old), old, drifted)
    assert "network_only_profile" not in fresh.cache
    drifted.extra["match_index"] = fresh
    again = resolve_profile(None, drifted)
    assert again is not tuned and again.name.startswith("network (auto")
