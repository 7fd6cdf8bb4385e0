"""The ranking's caches patched after a row-wise demand patch equal their fresh builds.

``queries.ranking_caches.patch_ranking_caches`` gives a patched match index the buyer bits per
category and every cached profile order of the old index, reading only the rewritten
buyers' rows. Each of its paths is driven here by a write on a small hand-made graph and
checked against ``category_bits`` / ``profile_order`` of an index built from scratch:
the keys unchanged (bits kept as the same object), ``b_max`` moved (every key
recomputed), a category's popularity scale moved (all its rows written), rows inserted
and removed (kept rows renumbered by one or more stretches), and a profile with a
negative weight (categories' key ranges overlap: searched category by category) — each
with the dirty categories merged (few rows changed) and re-sorted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Capability, Category, Company, Record, Supply
from coopgraph.graph.schema import EntityKind
from coopgraph.queries import projection_delta, ranking_caches
from coopgraph.queries.candidates import MatchIndex, match_index
from coopgraph.queries.factors import FACTORS, resolve_profile
from coopgraph.queries.index_patch import DemandPatch
from coopgraph.queries.projection import Projection, ProjectionCache
from coopgraph.queries.ranking_caches import (
    ProfileOrder,
    category_bits,
    keys_sorted,
    patch_ranking_caches,
    profile_order,
)

K = EntityKind
CATS = ["k0", "k1", "k2", "k3"]
# (demand, import, popularity) weights of the profiles whose orders are cached
PROFILES = [None, (1.0, 0.0, 0.0), (-5.0, 0.0, 3.0)]


def _weights(w3: tuple[float, float, float] | None) -> np.ndarray:
    w = resolve_profile(None).vector().copy()
    if w3 is not None:
        w[FACTORS.index("demand")], w[FACTORS.index("import")], \
            w[FACTORS.index("popularity")] = w3
    return w


def _graph() -> list[Record]:
    """Suppliers s0..s7 selling every category, buyers b0..b5 buying from some; in k0 buyer
    b2 has the most suppliers (4), b1 two."""
    records: list[Record] = [Category(code=c, name_ru=c.upper()) for c in CATS]
    records += [Company(id=f"b{i}", name=f"Покупатель {i}", roles=["oem"]) for i in range(6)]
    records += [Company(id=f"s{i}", name=f"Поставщик {i}", roles=["supplier"])
                for i in range(8)]
    records += [Capability(company_id=f"s{i}", category=c, capacity_per_year=100.0)
                for i in range(8) for c in CATS]
    links = [("s0", "b1", "k0"), ("s1", "b1", "k0"), ("s0", "b2", "k0"), ("s1", "b2", "k0"),
             ("s2", "b2", "k0"), ("s3", "b2", "k0"), ("s0", "b0", "k1"), ("s2", "b3", "k1"),
             ("s4", "b4", "k2"), ("s5", "b5", "k3"), ("s6", "b0", "k3"), ("s7", "b4", "k0")]
    records += [Supply(supplier_id=s, buyer_id=b, category=c, volume_per_year=10.0)
                for s, b, c in links]
    return records


Call = tuple[MatchIndex, dict[Any, Any], MatchIndex, DemandPatch]


@pytest.fixture(params=[ranking_caches._MERGE_MAX, 0], ids=["merged", "re-sorted"])
def patched(embedded_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch,
            request: pytest.FixtureRequest) -> Callable[[Callable[[], Any]], Call]:
    """Run a write and answer the one ``patch_ranking_caches`` call of the refresh after
    it (old index, its caches then, new index, the demand patch), the caches checked;
    dirty categories merged when few rows changed (the default), or always re-sorted."""
    monkeypatch.setattr(ranking_caches, "_MERGE_MAX", request.param)
    store = embedded_store
    store.upsert(_graph())
    cache = ProjectionCache(store)
    ix = match_index(cache.get())
    category_bits(ix)
    for w3 in PROFILES:
        profile_order(ix, _weights(w3))
    calls: list[Call] = []

    def recording(old_ix: MatchIndex, new_ix: MatchIndex, moved: DemandPatch) -> None:
        calls.append((old_ix, dict(old_ix.cache), new_ix, moved))
        patch_ranking_caches(old_ix, new_ix, moved)

    monkeypatch.setattr(projection_delta, "patch_ranking_caches", recording)

    def run(write: Callable[[], Any]) -> Call:
        builds, before = cache.builds, len(calls)
        write()
        got = match_index(cache.get())
        assert cache.builds == builds and len(calls) == before + 1, "not patched"
        assert calls[-1][2] is got
        _check(got, Projection.from_snapshot(store.snapshot()))
        return calls[-1]

    return run


def _check(ix: MatchIndex, scratch: Projection) -> None:
    """Every cache of ``ix`` equals its build on an index built from scratch."""
    fresh = match_index(scratch)
    assert np.array_equal(ix.cache["bits"], category_bits(fresh))
    orders = [k for k in ix.cache if isinstance(k, tuple) and k[:1] == ("order",)]
    assert len(orders) == len(PROFILES)
    for key in orders:
        got: ProfileOrder = ix.cache[key]
        want = profile_order(fresh, _weights(key[1:]))
        assert got.rows.dtype == want.rows.dtype and np.array_equal(got.rows, want.rows), key
        assert np.array_equal(got.keys, want.keys), key
        assert (got.span, got.b_max) == (want.span, want.b_max), key


def _link(supplier: str, buyer: str, category: str) -> dict[str, Any]:
    return {"supplier_id": supplier, "buyer_id": buyer, "category": category,
            "volume_per_year": 5.0}


def _order(cache: dict[Any, Any], w3: tuple[float, float, float] | None) -> ProfileOrder:
    w = _weights(w3)
    return cache[("order", float(w[FACTORS.index("demand")]), float(w[FACTORS.index("import")]),
                  float(w[FACTORS.index("popularity")]))]


def test_same_keys_keep_the_bits_and_merge_the_order(embedded_store: EmbeddedStore,
                                                     patched: Any) -> None:
    """A third supplier for b1 in k0 (b2 keeps the most): no row is added or dropped (the
    key arrays are the old objects), so the bits stay the same object; b1's row is
    written and moves within k0, whose scale stayed."""
    old_ix, old_cache, ix, moved = patched(
        lambda: embedded_store.upsert_rows(K.SUPPLY, [_link("s2", "b1", "k0")]))
    assert ix.dem_keys is old_ix.dem_keys and len(moved.buyers) == 0
    assert ix.cache["bits"] is old_cache["bits"]
    b1 = int(np.searchsorted(ix.dem_keys, 1 * ix.ncat))  # b1's first row: k0
    assert b1 in moved.fresh.tolist()
    assert ix.dem_suppliers[b1] == old_ix.dem_suppliers[b1] + 1 == 3
    for w3 in PROFILES:
        assert _order(ix.cache, w3).b_max == _order(old_cache, w3).b_max


def test_b_max_moved_recomputes_every_key(embedded_store: EmbeddedStore, patched: Any
                                          ) -> None:
    """A fifth supplier for b2 in k0: its demand value is the largest, so ``b_max`` of the
    demand-only profile rises (every key moves) and k0's largest count moves (every row of
    k0 written)."""
    _, old_cache, ix, moved = patched(
        lambda: embedded_store.upsert_rows(K.SUPPLY, [_link("s4", "b2", "k0")]))
    assert _order(ix.cache, (1.0, 0.0, 0.0)).b_max > _order(old_cache, (1.0, 0.0, 0.0)).b_max
    assert ix.cache["bits"] is old_cache["bits"]
    k0 = ix.cat_dem_rows[ix.cat_dem_indptr[0]:ix.cat_dem_indptr[1]]
    assert set(k0.tolist()) <= set(moved.fresh.tolist())  # k0's popularity scale moved
    # ... and back down when that link goes
    _, old_cache, ix, _ = patched(
        lambda: embedded_store.delete(K.SUPPLY, [("s4", "b2", "k0")]))
    assert _order(ix.cache, (1.0, 0.0, 0.0)).b_max < _order(old_cache, (1.0, 0.0, 0.0)).b_max


def test_rows_inserted_and_removed_renumber_the_kept_rows(embedded_store: EmbeddedStore,
                                                          patched: Any) -> None:
    """A new category for b1 (a row inserted before b2..b5's rows), then that link removed
    (the row dropped), then links to four buyers in one write (four stretches moved)."""
    old_ix, old_cache, ix, _ = patched(
        lambda: embedded_store.upsert_rows(K.SUPPLY, [_link("s3", "b1", "k2")]))
    assert len(ix.dem_keys) == len(old_ix.dem_keys) + 1
    assert ix.cache["bits"] is not old_cache["bits"]
    old_ix, old_cache, ix, moved = patched(
        lambda: embedded_store.delete(K.SUPPLY, [("s3", "b1", "k2")]))
    assert len(ix.dem_keys) == len(old_ix.dem_keys) - 1
    # without the buyers (whose old rows it looks among), the dropped row is found by a scan
    again = dataclasses.replace(ix, cache={})
    old_ix.cache.clear()
    old_ix.cache.update(old_cache)
    patch_ranking_caches(old_ix, again, DemandPatch(moved.where, moved.fresh,
                                                    np.zeros(0, dtype=np.int64)))
    for key, value in ix.cache.items():
        if isinstance(key, tuple):
            assert np.array_equal(again.cache[key].rows, value.rows), key
            assert np.array_equal(again.cache[key].keys, value.keys), key
    old_ix, _, ix, moved = patched(lambda: embedded_store.upsert_rows(K.SUPPLY, [
        _link("s5", "b0", "k2"), _link("s5", "b1", "k3"), _link("s6", "b3", "k2"),
        _link("s6", "b4", "k3")]))
    assert len(ix.dem_keys) == len(old_ix.dem_keys) + 4
    grew = np.diff(ix.buyer_dem_indptr) - np.diff(old_ix.buyer_dem_indptr)
    assert np.flatnonzero(grew).tolist() == [0, 1, 3, 4]
    assert set(moved.buyers.tolist()) >= {0, 1, 3, 4}


def test_a_negative_weight_searches_category_by_category(embedded_store: EmbeddedStore,
                                                         patched: Any) -> None:
    """With a negative demand weight the categories' key ranges overlap; the patch still
    equals the build (checked by the fixture) for a moved and an inserted row."""
    old_ix, old_cache, _, _ = patched(
        lambda: embedded_store.upsert_rows(K.SUPPLY, [_link("s3", "b1", "k0"),
                                                      _link("s3", "b5", "k1")]))
    assert not keys_sorted(_order(old_cache, (-5.0, 0.0, 3.0)), old_ix.cat_dem_indptr)
    assert keys_sorted(_order(old_cache, None), old_ix.cat_dem_indptr)
