"""The match index patched after writes instead of rebuilt (issue 16).

:func:`patch_match_index` answers the :class:`~queries.candidates.MatchIndex` of a
projection patched from an older one: only the parts whose inputs changed are redone,
and the ``decl``, ``demand`` and ``network`` parts row by row — the companies and links
written (:class:`Touched`) — with :class:`DemandPatch` telling the ranking's caches
(:func:`queries.ranking_caches.patch_ranking_caches`) how the demand rows moved.
:func:`renumber_match_index` answers it for the same projection with companies inserted
(every company index shifts, no row changes). The oracle tests
(``tests/test_projection_delta.py``) check both against a build from scratch after
random writes. How an index is built, and what each part holds, is
:mod:`queries.candidates`; the array splices are :mod:`queries.sparse_rows`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from coopgraph.queries.candidates import (
    IMPORT,
    INDEX_PARTS,
    PART_FIELDS,
    Deferred,
    MatchIndex,
    build_index,
    carry_cache,
    changed_pairs,
    demand_table,
    demand_value,
    float_csc,
    log_share,
    need_rows,
    positions_in,
    row_argmax,
    since_days,
    table_rows,
    to_csc,
    with_sentinel,
)
from coopgraph.queries.projection import PATCHABLE_MARK, Projection, same_value
from coopgraph.queries.sparse_rows import (
    insert_rows,
    insert_zero_bits,
    inserted_pointers,
    renumbered,
    renumbered_sorted,
    row_numbers,
    row_ranges,
    shared_ones,
    shifted_stretches,
    splice_csc_rows,
    splice_rows,
)

__all__ = ["DemandPatch", "Touched", "patch_match_index", "renumber_match_index"]


@dataclass(frozen=True)
class DemandPatch:
    """How a row-wise patch moved the demand table: per old row its new number (-1:
    dropped or rewritten), the new numbers of the rows written, and the buyers whose
    (buyer, category) pairs were redone (none when every pair kept its row: then the
    key and grouping arrays are the old objects and only values were written)."""

    where: np.ndarray
    fresh: np.ndarray
    buyers: np.ndarray


def patch_match_index(old_ix: MatchIndex, old: Projection, new: Projection,
                      touched: Touched | None = None,
                      notes: dict[str, Any] | None = None) -> MatchIndex:
    """The match index of ``new``, a projection patched from ``old``, reusing ``old_ix``.

    Only the parts whose input fields differ between ``old`` and ``new`` (by
    identity, else by value) are rebuilt; a part whose output equals the old one
    counts as unchanged for the parts that read it. When no part changed, ``old_ix``
    itself is answered, with its caches. Otherwise the caches (``cache``: values
    computed from the index alone; ``_cert_valid``) start empty, unless the
    certifications part is unchanged (then ``_cert_valid`` is kept) — except
    :data:`CARRIED_CACHE` (the tuned walk), kept while the network has changed
    little since it was computed (:func:`carry_cache`), also when companies were
    added or removed and the index is built afresh.
    With ``touched`` (what the writes between ``old`` and ``new`` were: capabilities,
    needs and imports of some companies, supply links), the ``decl``, ``demand`` and
    ``network`` parts are patched row by row — only the companies and pairs written —
    instead of being rebuilt; ``notes["demand"]`` then tells how the demand rows moved
    (a :class:`DemandPatch`, for the ranking's caches: ``queries.match``).
    The result equals ``build_index(new)`` field by field (the oracle test checks it).
    """
    if (old.company_ids is not new.company_ids and old.company_ids != new.company_ids) \
            or old.category_codes != new.category_codes:
        fresh_ix = build_index(new)
        # companies added or removed: the pairs changed counted from the link totals
        carry_cache(old_ix, fresh_ix, abs(fresh_ix.A.nnz - old_ix.A.nnz)
               + abs(new.n_companies - old.n_companies))
        return fresh_ix
    got: dict[str, Any] = {}
    changed: set[str] = set()
    notes = {} if notes is None else notes
    notes.pop("changed_pairs", None)
    for name, (builder, fields, needs) in INDEX_PARTS.items():
        outputs = PART_FIELDS[name]
        if any(not same_value(getattr(old, f), getattr(new, f)) for f in fields) \
                or changed.intersection(needs):
            fresh = _patch_part(name, old_ix, old, new, got, touched, changed, notes)
            patched = fresh is not None
            if fresh is None:
                fresh = builder(new, got)
            # a row-wise patch answers the old matrix itself when its rows came out the same
            if name == "decl" and (fresh["decl"] is old_ix.decl or (
                    not patched and same_value(fresh["decl"], old_ix.decl))):
                fresh["decl"] = old_ix.decl  # the demand part reads only this
            else:
                changed.add(name)
            got.update(fresh)
        else:
            got.update({f: old_ix.raw(f) for f in outputs})
    if not changed and all(got[f] is old_ix.raw(f) for f in got):
        return old_ix
    ix = MatchIndex(n=new.n_companies, ncat=new.n_categories, **got)
    if "certs" not in changed:
        ix._cert_valid.update(old_ix._cert_valid)
    # the pairs that came or went: counted by the network part's row-wise patch if any
    flipped = notes.pop("changed_pairs", None)
    carry_cache(old_ix, ix, changed_pairs(old_ix.A, ix.A) if flipped is None else flipped)
    return ix


@dataclass(frozen=True)
class Touched:
    """What a patch changed, for the row-wise patches of the match index: the companies
    whose capabilities, needs or imports were written, and the supply links written
    (supplier, buyer, category indices in the new projection's numbering)."""

    companies: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    links: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))


def _decl_rows(new: Projection, rows: np.ndarray
               ) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """``decl``, ``sell`` and ``main_category`` of the companies ``rows`` (ascending) only."""
    ncat = new.n_categories
    cap = table_rows(new, new.cap_company, rows)
    sup = table_rows(new, new.sup_supplier, rows)
    at = np.searchsorted(rows, new.cap_company[cap])
    capbin = sp.csr_matrix((np.full(len(at), 2.0), (at, new.cap_category[cap])),
                           shape=(len(rows), ncat))
    capbin.data[:] = 2.0
    supcat = sp.csr_matrix((np.ones(len(sup)),
                            (np.searchsorted(rows, new.sup_supplier[sup]), new.sup_category[sup])),
                           shape=(len(rows), ncat))
    supcat.sum_duplicates()
    supbin = supcat.copy()
    supbin.data[:] = 1.0
    decl = capbin.maximum(supbin).tocsr()
    decl.data = decl.data.astype(np.int8)
    return decl, supcat, row_argmax(supcat * 2.0 + capbin * 0.5)


def _patch_decl(old_ix: MatchIndex, new: Projection, rows: np.ndarray) -> dict[str, Any]:
    """The ``decl`` part of ``new`` from ``old_ix``'s, the rows of companies ``rows`` redone.

    A matrix whose rows came out the same is the old object (with the arrays derived from
    it); sales whose (supplier, category) pairs stayed keep their keys."""
    decl_rows, sell_rows, main_rows = _decl_rows(new, rows)
    part: dict[str, Any] = {}
    if _same_rows(old_ix.decl, rows, decl_rows):
        part.update(decl=old_ix.decl, decl_csc=old_ix.raw("decl_csc"))
    else:
        decl = splice_rows(old_ix.decl, rows, decl_rows)
        part.update(decl=decl, decl_csc=splice_csc_rows(
            old_ix.decl_csc, rows, old_ix.decl[rows], decl_rows)
            if old_ix.computed("decl_csc") else Deferred(to_csc, decl))
    if _same_rows(old_ix.sell, rows, sell_rows):
        part.update(sell=old_ix.sell, sell_keys=old_ix.sell_keys, sell_pop=old_ix.sell_pop)
    else:
        part.update(_patch_sell(old_ix, new, rows, sell_rows))
    if np.array_equal(old_ix.main_category[rows], main_rows):
        part["main_category"] = old_ix.main_category
    else:
        part["main_category"] = old_ix.main_category.copy()
        part["main_category"][rows] = main_rows
    return part


def _patch_sell(old_ix: MatchIndex, new: Projection, rows: np.ndarray,
                sell_rows: sp.csr_matrix) -> dict[str, Any]:
    """``sell``, ``sell_keys`` and ``sell_pop`` with the rows of companies ``rows`` (ascending)
    replaced by ``sell_rows``. When those rows keep their (supplier, category) pairs (a
    link to a category the supplier sells already), only the counts are written (the
    old structure and keys kept). The popularity is recomputed in the categories of the
    rows' old and new entries only: an entry's value depends on its count and its
    category's largest count, which no other category's entries change."""
    old = old_ix.sell
    sub = sell_rows.tocsr()
    sub.sum_duplicates()
    ptr = old.indptr.astype(np.int64)
    starts, stops = ptr[rows], ptr[rows + 1]
    at = row_ranges(starts, stops - starts)  # the rows' entries in the old matrix
    if np.array_equal(np.diff(sub.indptr), stops - starts) \
            and np.array_equal(sub.indices, old.indices[at]):
        values = sub.data.astype(old.data.dtype, copy=False)
        data = old.data.copy()
        data[at] = values
        sell = sp.csr_matrix((data, old.indices, old.indptr), shape=old.shape)
        keys = old_ix.sell_keys
        pop = old_ix.sell_pop.copy()
        redo = np.unique(old.indices[at[values != old.data[at]]])
    else:
        sell = splice_rows(old, rows, sub)
        owner = np.repeat(np.arange(new.n_companies, dtype=np.int64), np.diff(sell.indptr))
        keys = owner * new.n_categories + sell.indices
        # the old values moved with their entries (the rows' own entries recomputed below)
        pop = splice_rows(sp.csr_matrix((old_ix.sell_pop, old.indices, old.indptr),
                                        shape=old.shape),
                          rows, sp.csr_matrix((np.zeros(sub.nnz), sub.indices, sub.indptr),
                                              shape=sub.shape)).data
        if pop is old_ix.sell_pop:
            pop = pop.copy()
        redo = np.unique(np.concatenate([old.indices[at], sub.indices]))
    for c in redo.tolist():
        mine = np.flatnonzero(sell.indices == c)
        pop[mine] = log_share(sell.data[mine], np.zeros(len(mine), dtype=np.int64), 1)
    return dict(sell=sell, sell_keys=keys, sell_pop=pop)


def _same_rows(m: sp.csr_matrix, rows: np.ndarray, sub: sp.csr_matrix) -> bool:
    """Rows ``rows`` of the canonical CSR ``m`` equal the rows of ``sub`` (same dtype)."""
    sub = sub.tocsr()
    sub.sum_duplicates()
    old = m[rows]
    return bool(np.array_equal(old.indptr, sub.indptr) and np.array_equal(old.indices, sub.indices)
                and np.array_equal(old.data, sub.data.astype(old.data.dtype)))


def _same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per position: ``a`` equals ``b`` (NaN equals NaN)."""
    same = a == b
    if a.dtype.kind == "f":
        same |= np.isnan(a) & np.isnan(b)
    return same


def _demand_pop(pop: np.ndarray, n_sup: np.ndarray, cat_indptr: np.ndarray,
                cat_rows: np.ndarray, dirty: np.ndarray, *, own: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """``dem_pop`` with the rows of the categories ``dirty`` recomputed, and the rows whose
    value changed. ``pop`` itself is answered when nothing changed; it is written in
    place only when ``own`` (a fresh copy), else copied first."""
    moved: list[np.ndarray] = []
    out = pop
    for c in np.flatnonzero(dirty).tolist():
        rows = cat_rows[cat_indptr[c]:cat_indptr[c + 1]]
        values = log_share(n_sup[rows], np.zeros(len(rows), dtype=np.int64), 1)
        differs = ~_same_values(out[rows], values)
        if differs.any():
            if out is pop and not own:
                out = pop.copy()
            out[rows] = values
            moved.append(rows[differs])
    return out, np.sort(np.concatenate(moved)) if moved else np.zeros(0, dtype=np.int64)


def _demand_rows(new: Projection, got: dict[str, Any], buyers: np.ndarray
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The demand keys of ``buyers`` (ascending) in ``new``, and their per-row values by
    field name (the value arrays a patch writes; each of the index's ends with a sentinel)."""
    keys, flags, qty, n_sup = demand_table(new, got["closure"], got["decl"], buyers)
    return keys, {"dem_flags": flags, "dem_qty": qty, "dem_suppliers": n_sup,
                  "dem_value": demand_value(flags, n_sup),
                  "dem_import": ((flags & IMPORT) > 0).astype(float),
                  "dem_need": need_rows(new, keys)}


def _patch_demand(old_ix: MatchIndex, new: Projection, got: dict[str, Any], buyers: np.ndarray,
                  needs_changed: bool) -> tuple[dict[str, Any], DemandPatch]:
    """The ``demand`` part of ``new`` from ``old_ix``'s, the rows of ``buyers`` (ascending)
    recomputed, and how the rows moved (:class:`DemandPatch`, for the ranking's caches).

    A buyer whose (buyer, category) pairs stay the same keeps its rows' numbers (a
    capacity, a quantity, a link to a category it already wants). When every buyer
    does, the key and grouping arrays are the old objects and each value array is the
    old object or a copy with the changed rows written. Otherwise the rows after a
    buyer that gained or lost pairs move: every per-row array is the old one's
    stretches between the buyers joined with the buyers' new rows (a copy, no sort),
    and the category grouping is the old one renumbered, with only the categories that
    gained or lost rows regrouped. ``dem_pop`` is recomputed in the categories whose
    supplier counts or rows changed only (the others keep their largest count, hence
    their values). Written, for the caches: every row of a buyer whose pairs changed,
    and the other rows whose values changed."""
    ncat = max(new.n_categories, 1)
    buyers = np.asarray(buyers, dtype=np.int64)
    keys, values = _demand_rows(new, got, buyers)
    if needs_changed:  # need rows renumbered: every row's need is looked up again below
        del values["dem_need"]
    ptr = old_ix.buyer_dem_indptr
    starts, stops = ptr[buyers], ptr[buyers + 1]
    old_rows = row_ranges(starts, stops - starts)
    old_keys = old_ix.dem_keys[old_rows]  # ascending, like ``keys``
    new_counts = np.bincount(np.searchsorted(buyers, keys // ncat), minlength=len(buyers))
    # per new row: the old row of the same pair, -1 for a new pair
    at = np.minimum(np.searchsorted(old_keys, keys), max(len(old_keys) - 1, 0))
    kept = (old_keys[at] == keys) if len(old_keys) else np.zeros(len(keys), dtype=bool)
    before = np.where(kept, old_rows[at] if len(old_rows) else 0, -1)
    same_pairs = np.zeros(len(buyers), dtype=bool)  # per buyer
    kept_count = np.bincount(np.searchsorted(buyers, keys[kept] // ncat),
                             minlength=len(buyers))
    same_pairs[(new_counts == stops - starts) & (kept_count == new_counts)] = True
    # rows whose values changed, among the kept pairs
    changed = ~kept
    for name, sub in values.items():
        old = getattr(old_ix, name)
        changed[kept] |= ~_same_values(old[before[kept]], sub[kept].astype(old.dtype))
    if same_pairs.all():
        return _patch_demand_values(old_ix, new, before, values, changed, needs_changed)
    return _patch_demand_moved(old_ix, new, buyers, keys, values, before, changed,
                               same_pairs, needs_changed, old_rows, new_counts)


def _patch_demand_values(old_ix: MatchIndex, new: Projection, before: np.ndarray,
                         values: dict[str, np.ndarray], changed: np.ndarray,
                         needs_changed: bool) -> tuple[dict[str, Any], DemandPatch]:
    """:func:`_patch_demand` when no pair came or went: the value arrays patched at the
    rows ``before`` (per recomputed row its number) whose values ``changed``."""
    rows = before[changed]
    part: dict[str, Any] = {}
    for name, sub in values.items():
        old = getattr(old_ix, name)
        sub = sub[changed].astype(old.dtype, copy=False)
        if len(rows) and not _same_values(old[rows], sub).all():
            part[name] = old.copy()
            part[name][rows] = sub
        else:
            part[name] = old
    if needs_changed:
        need = with_sentinel(need_rows(new, old_ix.dem_keys), -1).astype(np.int64)
        part["dem_need"] = old_ix.dem_need if np.array_equal(need, old_ix.dem_need) else need
    dirty = np.zeros(new.n_categories, dtype=bool)
    if part["dem_suppliers"] is not old_ix.dem_suppliers:
        dirty[old_ix.dem_cat[rows]] = True
    pop, pop_rows = _demand_pop(old_ix.dem_pop, part["dem_suppliers"], old_ix.cat_dem_indptr,
                                old_ix.cat_dem_rows, dirty)
    part.update(dem_keys=old_ix.dem_keys, dem_buyer=old_ix.dem_buyer, dem_cat=old_ix.dem_cat,
                buyer_dem_indptr=old_ix.buyer_dem_indptr, cat_dem_indptr=old_ix.cat_dem_indptr,
                cat_dem_rows=old_ix.cat_dem_rows, dem_pop=pop)
    written = np.union1d(rows, pop_rows)  # a row whose popularity moved is written too
    where = np.arange(len(old_ix.dem_keys), dtype=np.int64)
    where[written] = -1
    return part, DemandPatch(where, written, np.zeros(0, dtype=np.int64))


def _patch_demand_moved(old_ix: MatchIndex, new: Projection, buyers: np.ndarray,
                        keys: np.ndarray, values: dict[str, np.ndarray], before: np.ndarray,
                        changed: np.ndarray, same_pairs: np.ndarray, needs_changed: bool,
                        old_rows: np.ndarray, new_counts: np.ndarray
                        ) -> tuple[dict[str, Any], DemandPatch]:
    """:func:`_patch_demand` when some buyer gained or lost pairs (``~same_pairs``);
    ``old_rows``: the buyers' old rows, ``new_counts``: per buyer its rows now."""
    ncat = max(new.n_categories, 1)
    ptr = old_ix.buyer_dem_indptr
    starts, stops = ptr[buyers], ptr[buyers + 1]
    d_old = len(old_ix.dem_keys)
    sub_ptr = np.zeros(len(buyers) + 1, dtype=np.int64)
    np.cumsum(new_counts, out=sub_ptr[1:])
    shift = np.cumsum(new_counts - (stops - starts))  # rows gained up to each buyer
    new_starts = starts + np.r_[0, shift[:-1]]
    fresh = row_ranges(new_starts, new_counts)  # the new number of each recomputed row
    # old row -> new row: the stretch after each buyer moves by the rows gained before
    pos = shifted_stretches(row_numbers(d_old), [0, *stops.tolist(), d_old],
                            [0, *shift.tolist()])
    pos[old_rows] = -1
    pos[before[before >= 0]] = fresh[before >= 0]

    def merged(values: np.ndarray, sub: np.ndarray) -> np.ndarray:
        sub = sub.astype(values.dtype, copy=False)
        pieces, last = [], 0
        for j in range(len(buyers)):
            pieces += [values[last:starts[j]], sub[sub_ptr[j]:sub_ptr[j + 1]]]
            last = int(stops[j])
        pieces.append(values[last:])  # the sentinel too, where the array has one
        return np.concatenate(pieces)

    part: dict[str, Any] = {name: merged(getattr(old_ix, name), sub)
                            for name, sub in values.items()}
    dem_cat = merged(old_ix.dem_cat, keys % ncat)
    part.update(dem_keys=merged(old_ix.dem_keys, keys),
                dem_buyer=merged(old_ix.dem_buyer, keys // ncat), dem_cat=dem_cat)
    counts = np.diff(ptr)
    counts[buyers] = new_counts
    part["buyer_dem_indptr"] = np.zeros(len(ptr), dtype=np.int64)
    np.cumsum(counts, out=part["buyer_dem_indptr"][1:])
    # categories that gained or lost rows are regrouped; the others renumbered
    gone = old_rows[pos[old_rows] < 0]
    added = fresh[before < 0]
    regroup = np.zeros(new.n_categories, dtype=bool)
    regroup[old_ix.dem_cat[gone]] = True
    regroup[dem_cat[added]] = True
    steps = [(int(stops[j]), int(d)) for j, d in
             enumerate((new_counts - (stops - starts)).tolist()) if d]
    cat_indptr, cat_rows = _regroup(old_ix, dem_cat, pos, added, regroup, steps, old_rows)
    part.update(cat_dem_indptr=cat_indptr, cat_dem_rows=cat_rows)
    if needs_changed:
        part["dem_need"] = with_sentinel(need_rows(new, part["dem_keys"]), -1).astype(np.int64)
    # popularity: kept pairs keep theirs until their category is recomputed
    kept = before >= 0
    pop = merged(old_ix.dem_pop, np.where(kept, old_ix.dem_pop[np.maximum(before, 0)], 0.0))
    dirty = regroup.copy()
    sup_moved = kept & ~_same_values(old_ix.dem_suppliers[np.maximum(before, 0)],
                                     values["dem_suppliers"])
    dirty[dem_cat[fresh[sup_moved]]] = True
    part["dem_pop"], pop_rows = _demand_pop(pop, part["dem_suppliers"], cat_indptr, cat_rows,
                                            dirty, own=True)
    # written: every row of a buyer whose pairs changed, the changed rows of the others,
    # and the rows whose popularity moved (their old numbers dropped from ``where``)
    moved_buyer = ~same_pairs[np.searchsorted(buyers, keys // ncat)]
    written = np.union1d(fresh[moved_buyer | changed], pop_rows)
    if len(pop_rows):
        cats = np.flatnonzero(dirty)
        olds = np.concatenate([old_ix.cat_dem_rows[old_ix.cat_dem_indptr[c]:
                                                   old_ix.cat_dem_indptr[c + 1]]
                               for c in cats.tolist()])
        pos[olds[np.isin(pos[olds], pop_rows)]] = -1
    where = pos  # no longer read as the renumbering: marked in place
    where[old_rows[~same_pairs[np.repeat(np.arange(len(buyers)), stops - starts)]]] = -1
    where[before[changed & kept]] = -1
    return part, DemandPatch(where, written, buyers[~same_pairs])


def _regroup(old_ix: MatchIndex, dem_cat: np.ndarray, pos: np.ndarray, added: np.ndarray,
             dirty: np.ndarray, steps: list[tuple[int, int]], fixed: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(cat_dem_indptr, cat_dem_rows)`` of the moved table: each clean category's rows
    are its old rows renumbered by ``pos`` (which keeps their order); each ``dirty`` one's
    its kept rows (``pos >= 0``) and its ``added`` rows, sorted.

    ``pos`` moves an old row ``r`` by the ``delta`` of each ``(boundary, delta)`` of
    ``steps`` with ``boundary <= r``, except the rows ``fixed`` (the rewritten buyers'
    rows): the clean stretches are renumbered by a comparison and an add per step,
    written once into the result (a gather through ``pos`` reads it at random), and the
    fixed rows of clean categories are then looked up in ``pos``."""
    ncat = len(dirty)
    old_ptr, old_rows = old_ix.cat_dem_indptr, old_ix.cat_dem_rows
    counts = np.diff(old_ptr)
    added_cat = dem_cat[added]
    regrouped = {}
    for c in np.flatnonzero(dirty).tolist():
        mine = pos[old_rows[old_ptr[c]:old_ptr[c + 1]]]
        mine = np.sort(np.concatenate([mine[mine >= 0], added[added_cat == c]]))
        counts[c] = len(mine)
        regrouped[c] = mine
    cat_indptr = np.zeros(ncat + 1, dtype=np.int64)
    np.cumsum(counts, out=cat_indptr[1:])
    out = np.empty(int(cat_indptr[-1]), dtype=np.int64)

    def clean(lo: int, hi: int) -> None:  # categories lo..hi-1, none dirty
        src = old_rows[old_ptr[lo]:old_ptr[hi]]
        dest = out[cat_indptr[lo]:cat_indptr[hi]]
        if not steps:
            dest[:] = src
        for j, (boundary, delta) in enumerate(steps):
            base = src if j == 0 else dest
            if delta == 1:
                np.add(base, src >= boundary, out=dest, casting="unsafe")
            elif delta == -1:
                np.subtract(base, src >= boundary, out=dest, casting="unsafe")
            else:
                np.add(base, (src >= boundary) * np.int64(delta), out=dest)

    last = 0
    for c, mine in regrouped.items():
        clean(last, c)
        out[cat_indptr[c]:cat_indptr[c + 1]] = mine
        last = c + 1
    clean(last, ncat)
    fixed_cat = old_ix.dem_cat[fixed]
    for r, c in zip(fixed.tolist(), fixed_cat.tolist(), strict=True):
        if not dirty[c]:  # its place in the category: the old rows there are ascending
            k = int(np.searchsorted(old_rows[old_ptr[c]:old_ptr[c + 1]], r))
            out[cat_indptr[c] + k] = pos[r]
    return cat_indptr, out


def _pair_values(a: sp.csr_matrix, data: np.ndarray, pairs: np.ndarray, n: int
                 ) -> np.ndarray:
    """``data`` (one value per stored entry of the sorted CSR ``a``) at each supplier–buyer
    pair ``supplier * n + buyer``; NaN where ``a`` has no entry."""
    out = np.full(len(pairs), np.nan)
    for j, (s, b) in enumerate(zip((pairs // n).tolist(), (pairs % n).tolist(), strict=True)):
        lo, hi = int(a.indptr[s]), int(a.indptr[s + 1])
        at = lo + int(np.searchsorted(a.indices[lo:hi], b))
        if at < hi and a.indices[at] == b:
            out[j] = data[at]
    return out


def _patch_network(old_ix: MatchIndex, new: Projection, links: np.ndarray
                   ) -> tuple[dict[str, Any], int] | None:
    """The ``network`` part of ``new`` from ``old_ix``'s, the supplier–buyer pairs of the
    written ``links`` redone, and how many pairs came or went; ``None`` when the newest
    link date may have gone back."""
    n, ncat = new.n_companies, new.n_categories
    pairs = np.unique(links[:, 0] * n + links[:, 1])
    # the new rows of each pair: its supplier's rows to its buyer (a table in key order,
    # as snapshots and patches leave it, is searched; any other is scanned)
    sup = new.sup_supplier
    if new.extra.get(PATCHABLE_MARK) or len(sup) < 2 or bool((sup[1:] >= sup[:-1]).all()):
        who = (pairs // n).astype(sup.dtype)  # the column's own type: no copy of it
        lo = np.searchsorted(sup, who, side="left")
        hi = np.searchsorted(sup, who, side="right")
        hits = [a + np.flatnonzero(new.sup_buyer[a:z] == b)
                for a, z, b in zip(lo.tolist(), hi.tolist(), (pairs % n).tolist(), strict=True)]
        new_hit = np.concatenate([*hits, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    else:
        new_hit = np.flatnonzero(np.isin(sup.astype(np.int64) * n + new.sup_buyer, pairs))
    new_pair = sup[new_hit].astype(np.int64) * n + new.sup_buyer[new_hit]
    new_days = since_days([new.sup_since[i] for i in new_hit.tolist()])
    newest = old_ix.A_newest
    top_new = float(np.nanmax(new_days)) if np.isfinite(new_days).any() else float("nan")
    # a pair held the newest date before when its age was 0
    if (_pair_values(old_ix.A, old_ix.A_age, pairs, n) <= 0).any() and not top_new >= newest:
        return None  # the newest dated link was among those rewritten: rebuild the part
    shift = 0.0
    if top_new > newest or (not np.isfinite(newest) and np.isfinite(top_new)):
        shift = top_new - newest if np.isfinite(newest) else 0.0
        newest = top_new
    age_all = old_ix.A_age + shift if shift else old_ix.A_age
    if not np.isfinite(old_ix.A_newest) and np.isfinite(newest):
        age_all = old_ix.A_age  # no link was dated before: every old pair stays undated
    # per pair: does it exist now, and its latest date
    exists = np.isin(pairs, new_pair)
    flipped = int((np.isfinite(_pair_values(old_ix.A, old_ix.A.data, pairs, n)) != exists).sum())
    latest = np.full(len(pairs), np.nan)
    for j, pair in enumerate(pairs.tolist()):
        days = new_days[new_pair == pair]
        if np.isfinite(days).any():
            latest[j] = float(np.nanmax(days))
    # rows of A (suppliers) and of AT (buyers) redone
    age_m = sp.csr_matrix((age_all, old_ix.A.indices, old_ix.A.indptr), shape=old_ix.A.shape)
    sup_rows = np.unique(pairs // n)
    buy_rows = np.unique(pairs % n)
    sub_a, sub_age, sub_at = [], [], []
    for s in sup_rows.tolist():
        lo, hi = old_ix.A.indptr[s], old_ix.A.indptr[s + 1]
        cols = dict(zip(old_ix.A.indices[lo:hi].tolist(), age_m.data[lo:hi].tolist(),
                        strict=True))
        for j in np.flatnonzero(pairs // n == s).tolist():
            b = int(pairs[j] % n)
            if exists[j]:
                cols[b] = newest - latest[j] if np.isfinite(latest[j]) else np.nan
            else:
                cols.pop(b, None)
        order = sorted(cols)
        sub_a.append(order)
        sub_age.append([cols[b] for b in order])
    for b in buy_rows.tolist():
        lo, hi = old_ix.AT.indptr[b], old_ix.AT.indptr[b + 1]
        have = set(old_ix.AT.indices[lo:hi].tolist())
        for j in np.flatnonzero(pairs % n == b).tolist():
            (have.add if exists[j] else have.discard)(int(pairs[j] // n))
        sub_at.append(sorted(have))

    def sub(rows: list[list[int]], data: list[list[float]] | None) -> sp.csr_matrix:
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=indptr[1:])
        cols = np.array([c for r in rows for c in r], dtype=np.int64)
        values = np.ones(len(cols)) if data is None \
            else np.array([v for r in data for v in r], dtype=float)
        return sp.csr_matrix((values, cols, indptr), shape=(len(rows), n))

    ages = splice_rows(age_m, sup_rows, sub(sub_a, sub_age))
    # 0/1 matrices: their data a shared read-only array of ones, not 4.6 MB written per write
    A = sp.csr_matrix((shared_ones(ages.nnz), ages.indices, ages.indptr), shape=ages.shape)
    AT = splice_rows(old_ix.AT, buy_rows, sub(sub_at, None), ones=True)
    # the link keys: the written ones in or out
    keys = np.unique(links[:, 0] * n * ncat + links[:, 1] * ncat + links[:, 2])
    now = np.isin(keys, new.sup_supplier[new_hit].astype(np.int64) * n * ncat
                  + new.sup_buyer[new_hit].astype(np.int64) * ncat + new.sup_category[new_hit])
    supply_keys = old_ix.supply_keys
    was = positions_in(supply_keys, keys) >= 0
    if (was & ~now).any():
        supply_keys = np.delete(supply_keys, positions_in(supply_keys, keys[was & ~now]))
    if (now & ~was).any():
        supply_keys = np.insert(supply_keys, np.searchsorted(supply_keys, keys[now & ~was]),
                                keys[now & ~was])
    out_deg, in_deg = old_ix.out_deg.copy(), old_ix.in_deg.copy()
    out_deg[sup_rows] = np.diff(A.indptr)[sup_rows]
    in_deg[buy_rows] = np.diff(AT.indptr)[buy_rows]
    return dict(supply_keys=supply_keys, A=A, AT=AT, A_age=ages.data.astype(float, copy=False),
                A_newest=newest, out_deg=out_deg, in_deg=in_deg), flipped


def _patch_part(name: str, old_ix: MatchIndex, old: Projection, new: Projection,
                got: dict[str, Any], touched: Touched | None, changed: set[str],
                notes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Part ``name`` of ``new`` patched row by row from ``old_ix`` (see
    :func:`patch_match_index`), or ``None``: build it whole."""
    if touched is None or old.n_companies != new.n_companies:
        return None
    suppliers, buyers = touched.links[:, 0], touched.links[:, 1]
    if name == "decl":
        return _patch_decl(old_ix, new, np.unique(np.concatenate([touched.companies,
                                                                  suppliers])))
    if name == "demand":
        if "closure" in changed or any(
                not same_value(getattr(old, f), getattr(new, f))
                for f in ("product_maker", "product_rows", "product_ids", "category_bom")):
            return None
        rows = np.unique(np.concatenate([touched.companies, suppliers, buyers]))
        needs_changed = not (same_value(old.need_company, new.need_company)
                             and same_value(old.need_category, new.need_category))
        part, moved = _patch_demand(old_ix, new, got, rows, needs_changed)
        if notes is not None:
            notes["demand"] = moved
        return part
    if name == "network" and len(touched.links):
        patched = _patch_network(old_ix, new, touched.links)
        if patched is None:
            return None
        if notes is not None:
            notes["changed_pairs"] = patched[1]
        return patched[0]
    return None


def _insert_regions(old_ix: MatchIndex, proj: Projection, inserted: np.ndarray
                    ) -> dict[str, Any]:
    """The regions part of ``proj`` (``region_code``, ``region_names``) from ``old_ix``'s,
    companies inserted at ``inserted``: the codes stay numbered in order of each region's
    first company, as a build numbers them."""
    names = dict(old_ix.region_names)
    added = []
    for i in inserted.tolist():
        region = proj.company_regions[i]
        added.append(names.setdefault(str(region), len(names)) if region else -1)
    code = np.insert(old_ix.region_code, inserted - np.arange(len(inserted)),
                     np.array(added, dtype=old_ix.region_code.dtype))
    if len(names) == 0:
        return dict(region_code=code, region_names=names)
    first = np.full(len(names), len(code), dtype=np.int64)
    known = np.flatnonzero(code >= 0)
    np.minimum.at(first, code[known], known)
    order = np.argsort(first, kind="stable")
    if (order == np.arange(len(names))).all():
        return dict(region_code=code, region_names=names)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    code = np.where(code >= 0, rank[np.maximum(code, 0)], -1).astype(old_ix.region_code.dtype)
    return dict(region_code=code, region_names={name: int(rank[c]) for name, c in sorted(
        names.items(), key=lambda item: rank[item[1]])})


def renumber_match_index(old_ix: MatchIndex, proj: Projection, old_to_new: np.ndarray,
                         inserted: np.ndarray) -> MatchIndex | None:
    """``old_ix`` for ``proj``, the same projection with companies (no rows) inserted at
    the indices ``inserted`` (``old_to_new``: each old company's new index, none removed).

    Every part is the old one with its company indices mapped (an order-keeping map,
    so sorted keys stay sorted): equal to a build of ``proj``, milliseconds instead
    of seconds. The caches that depend on company numbers are dropped; the demand
    rows' orders (they are numbered by demand row) and the carried walk are kept.
    """
    if (old_to_new < 0).any() or len(inserted) == 0:
        return None
    n, ncat, n_old = proj.n_companies, proj.n_categories, old_ix.n
    mapped = old_to_new.astype(np.int64)

    # the old company indices before which companies were inserted, and how many
    at_old = inserted - np.arange(len(inserted))

    def keys_of(keys: np.ndarray) -> np.ndarray:  # company * ncat + category, sorted
        # the map keeps the order: each key moves by ncat per company inserted before its
        # company, a run of keys per insertion point (no division over the whole array)
        cuts = np.searchsorted(keys, at_old.astype(np.int64) * ncat).tolist()
        return shifted_stretches(keys, [0, *cuts, len(keys)],
                                 [j * ncat for j in range(len(cuts) + 1)])

    def grow(values: np.ndarray, fill: Any) -> np.ndarray:
        return np.insert(values, inserted - np.arange(len(inserted)), fill)

    sk = old_ix.supply_keys  # (supplier * n + buyer) * ncat + category
    if proj.extra.get(PATCHABLE_MARK) and len(sk) == len(proj.sup_supplier):
        # the link table is in key order, its company columns renumbered already: its keys
        # are these (a build takes them so), in one array written in place
        supply_keys = proj.sup_supplier.astype(np.int64)
        supply_keys *= n
        supply_keys += proj.sup_buyer
        supply_keys *= ncat
        supply_keys += proj.sup_category
    else:
        supplier = sk // (n_old * max(ncat, 1))
        buyer = sk // max(ncat, 1) - supplier * n_old
        supply_keys = sk + ((renumbered_sorted(supplier, mapped, inserted) * n
                             - supplier * n_old)
                            + (renumbered(buyer, mapped, inserted) - buyer)) * ncat
    got: dict[str, Any] = {f.name: old_ix.raw(f.name) for f in dataclasses.fields(MatchIndex)
                           if f.name not in ("n", "ncat", "cache", "_cert_valid")}
    got.update(
        decl=insert_rows(old_ix.decl, inserted, mapped),
        main_category=grow(old_ix.main_category, -1).astype(old_ix.main_category.dtype),
        sell=insert_rows(old_ix.sell, inserted, mapped),
        sell_keys=keys_of(old_ix.sell_keys),
        dem_keys=keys_of(old_ix.dem_keys),
        dem_buyer=renumbered_sorted(old_ix.dem_buyer, mapped, inserted),
        buyer_dem_indptr=inserted_pointers(old_ix.buyer_dem_indptr, inserted),
        supply_keys=supply_keys,
        A=insert_rows(old_ix.A, inserted, mapped, columns_too=True),
        AT=insert_rows(old_ix.AT, inserted, mapped, columns_too=True),
        out_deg=grow(old_ix.out_deg, 0.0), in_deg=grow(old_ix.in_deg, 0.0),
        cap_keys=keys_of(old_ix.cap_keys),
        membership=insert_rows(old_ix.membership, inserted, mapped),
        **_insert_regions(old_ix, proj, inserted))
    # the column-major copies renumbered where computed, else left to their first read
    for name, source in (("decl_csc", got["decl"]), ("membership_csc", got["membership"]),
                         ("company_process_csc", proj.company_process)):
        got[name] = insert_rows(getattr(old_ix, name), inserted, mapped) \
            if old_ix.computed(name) else Deferred(
                float_csc if name == "company_process_csc" else to_csc, source)
    ix = MatchIndex(n=n, ncat=ncat, **got)
    ix.cache.update({k: v for k, v in list(old_ix.cache.items())
                     if isinstance(k, tuple) and k[:1] == ("order",)})
    bits = old_ix.cache.get("bits")  # category × packed company bits (queries.match)
    if isinstance(bits, np.ndarray):
        ix.cache["bits"] = insert_zero_bits(bits, n, inserted)
    carry_cache(old_ix, ix, len(inserted))
    for day, m in old_ix._cert_valid.items():
        ix._cert_valid[day] = (np.insert(m, inserted - np.arange(len(inserted)), False, axis=0)
                               if isinstance(m, np.ndarray)
                               else insert_rows(m.tocsr(), inserted, mapped))
    return ix
