"""The fast top-k's caches on a match index, and how a patch carries them.

:func:`queries.match.rank_buyers` without filters scores only the demand rows that can
still reach the top ``k`` (``_fast_buyers``). It reads two caches kept in the match
index's ``cache``: per weight profile, every category's demand rows sorted by their
static score (:class:`ProfileOrder`, :func:`profile_order`), and per category the buyers
with demand there as packed bits (:func:`category_bits`). Building them takes a pass
over the whole demand table; :func:`patch_ranking_caches` gives a patched match index
(:mod:`queries.index_patch`) the old index's caches with only the rows a write moved
redone, equal to a build (``tests/test_ranking_caches.py`` checks it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coopgraph.queries.candidates import MatchIndex
from coopgraph.queries.factors import FACTOR_INDEX
from coopgraph.queries.index_patch import DemandPatch
from coopgraph.queries.sparse_rows import packed_bit_bytes, row_ranges

__all__ = ["ProfileOrder", "build_order", "category_bits", "keys_sorted",
           "order_key", "patch_ranking_caches", "profile_order", "spans", "static_scores"]


@dataclass
class ProfileOrder:
    """Demand rows grouped by category, each group sorted by its static score ``B``."""

    rows: np.ndarray  # demand rows: category segments as ``cat_dem_indptr``, B descending
    keys: np.ndarray  # ascending: category * span + (b_max - B)
    span: float
    b_max: float


def static_scores(ix: MatchIndex, wd: float, wi: float, wp: float,
            rows: np.ndarray | None = None) -> np.ndarray:
    """The profile's static score ``B`` of the demand rows ``rows`` (all when ``None``),
    the same arithmetic for a subset as for the whole table (so equal bit for bit)."""
    if rows is None:
        return wd * ix.dem_value[:-1] + wi * ix.dem_import[:-1] + wp * ix.dem_pop[:-1]
    return wd * ix.dem_value[rows] + wi * ix.dem_import[rows] + wp * ix.dem_pop[rows]


def build_order(ix: MatchIndex, wd: float, wi: float, wp: float) -> ProfileOrder:
    """The profile's row order built from the whole demand table (:func:`profile_order`)."""
    static = static_scores(ix, wd, wi, wp)
    order = np.lexsort((-static, ix.dem_cat))
    b_max = float(static.max(initial=0.0))
    span = b_max + 1.0
    keys = ix.dem_cat[order] * span + (b_max - static[order])
    return ProfileOrder(order.astype(np.int64), keys, span, b_max)


def order_key(w: np.ndarray) -> tuple[str, float, float, float]:
    """The cache key of the profile order of weights ``w``: its static part's weights."""
    wd, wi, wp = (float(w[FACTOR_INDEX[name]]) for name in ("demand", "import", "popularity"))
    return ("order", wd, wi, wp)


def profile_order(ix: MatchIndex, w: np.ndarray) -> ProfileOrder:
    """The per-category order of demand rows by the profile's static part (cached)."""
    key = order_key(w)
    found = ix.cache.get(key)
    if found is None:
        found = build_order(ix, *key[1:])
        if len(ix.cache) > 16:
            ix.cache.clear()
        ix.cache[key] = found
    return found


def category_bits(ix: MatchIndex) -> np.ndarray:
    """category × packed company bits: the buyers with demand in the category (cached)."""
    found = ix.cache.get("bits")
    if found is None:
        # rows padded to whole 64-bit words, so that unions and counts run on uint64
        dense = np.zeros((ix.ncat, packed_bit_bytes(ix.n) * 8), dtype=bool)
        dense[ix.dem_cat, ix.dem_buyer] = True
        found = np.packbits(dense, axis=1)
        ix.cache["bits"] = found
    return found


def spans(ptr: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """The rows ``ptr[o]:ptr[o + 1]`` of every owner in ``owners``, concatenated."""
    return row_ranges(ptr[owners], ptr[owners + 1] - ptr[owners])


_MERGE_MAX = 48  # a category with more rows written than this is re-sorted, not merged


@dataclass
class _Rewrite:
    """How a row-wise demand patch changed the rows (shared by every profile's patch)."""

    removed: np.ndarray  # old rows written whose key or static inputs changed, ascending
    inserted: np.ndarray  # new rows written whose key or static inputs changed, ascending
    dirty: list[int]  # categories with a removed or inserted row, ascending
    resort: set[int]  # dirty categories with too many of them to merge
    bounds: np.ndarray  # kept old rows ≥ bounds[i] move by steps[i] (summed)
    steps: np.ndarray
    buyers: np.ndarray  # buyers that gained or lost a (buyer, category) pair


def _removed(old_ix: MatchIndex, ix: MatchIndex, moved: DemandPatch, inserted: np.ndarray
             ) -> np.ndarray:
    """The old rows dropped or written (``moved.where < 0``), ascending: looked for among the
    old rows of the written keys and of ``moved.buyers`` — complete when there are as many
    as the row counts say (each new row is kept or written) — else found by a scan."""
    want = len(old_ix.dem_keys) - len(ix.dem_keys) + len(inserted)
    keys = ix.dem_keys[inserted]
    at = np.minimum(np.searchsorted(old_ix.dem_keys, keys), max(len(old_ix.dem_keys) - 1, 0))
    same = at[old_ix.dem_keys[at] == keys] if len(old_ix.dem_keys) else at[:0]
    near = np.union1d(same, spans(old_ix.buyer_dem_indptr,
                                   np.asarray(moved.buyers, dtype=np.int64)))
    near = near[moved.where[near] < 0]
    return near if len(near) == want else np.flatnonzero(moved.where < 0)


def _rewrite(old_ix: MatchIndex, ix: MatchIndex, moved: DemandPatch) -> _Rewrite:
    """What the patch changed for the caches. A written row (``moved``: dropped or written
    in the old numbering, written in the new) with its old key and the same demand value,
    import and popularity (the static score's inputs) counts as kept. A kept row keeps
    its key, so its new number is its old one less the removed rows before it plus the
    inserted keys below its key: piecewise constant (``bounds``, ``steps``)."""
    inserted = np.unique(np.asarray(moved.fresh, dtype=np.int64))
    removed = _removed(old_ix, ix, moved, inserted)
    old_keys, new_keys = old_ix.dem_keys[removed], ix.dem_keys[inserted]
    _, gi, fi = np.intersect1d(old_keys, new_keys, assume_unique=True, return_indices=True)
    paired_old = np.zeros(len(removed), dtype=bool)
    paired_new = np.zeros(len(inserted), dtype=bool)
    paired_old[gi] = paired_new[fi] = True
    buyers = np.union1d(old_ix.dem_buyer[removed[~paired_old]],
                        ix.dem_buyer[inserted[~paired_new]]).astype(np.int64)
    g, f = removed[gi], inserted[fi]
    same = np.ones(len(g), dtype=bool)
    for name in ("dem_value", "dem_import", "dem_pop"):
        same &= getattr(old_ix, name)[g] == getattr(ix, name)[f]
    paired_old[gi[~same]] = paired_new[fi[~same]] = False
    removed, inserted = removed[~paired_old], inserted[~paired_new]
    at = np.concatenate([removed + 1, np.searchsorted(old_ix.dem_keys, ix.dem_keys[inserted],
                                                      "right")])
    step = np.concatenate([np.full(len(removed), -1), np.ones(len(inserted), dtype=np.int64)])
    bounds, which = np.unique(at, return_inverse=True)
    steps = np.bincount(which, weights=step, minlength=len(bounds)).astype(np.int64)
    rem_cat, ins_cat = old_ix.dem_cat[removed], ix.dem_cat[inserted]
    cats = np.concatenate([rem_cat, ins_cat]).astype(np.int64)
    dirty, counts = np.unique(cats, return_counts=True)
    return _Rewrite(removed, inserted, dirty.tolist(),
                    set(dirty[counts > _MERGE_MAX].tolist()), bounds[steps != 0],
                    steps[steps != 0], buyers)


def keys_sorted(po: ProfileOrder, ptr: np.ndarray) -> bool:
    """Whether ``po.keys`` (category slices ``ptr``, each ascending) ascend throughout."""
    full = np.flatnonzero(ptr[1:] > ptr[:-1])
    return bool(np.all(po.keys[ptr[full[1:]]] >= po.keys[ptr[full[:-1] + 1] - 1]))


def _before(old_ix: MatchIndex, po: ProfileOrder, lo_c: np.ndarray, hi_c: np.ndarray,
            keys: np.ndarray, b: np.ndarray, row: np.ndarray, w3: tuple[float, float, float],
            sorted_keys: bool) -> np.ndarray:
    """Per item (key ``keys``, static score ``b``, row number ``row`` of ``old_ix``), the
    position in ``po`` — within its category's slice ``lo_c:hi_c`` — of the first entry
    that does not come before it in ``(-B, row)`` order.

    The keys are non-decreasing in ``-B``, so only the run of equal keys needs the
    scores; when its two ends have one score (long runs of ties are common), so has every
    entry between them, and the run is ordered by row alone."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    if sorted_keys:  # one search over all keys (each lands in its category)
        lo = np.clip(np.searchsorted(po.keys, keys, "left"), lo_c, hi_c)
        hi = np.clip(np.searchsorted(po.keys, keys, "right"), lo_c, hi_c)
    else:  # negative weights: categories' key ranges may overlap
        lo = np.array([lo_c[j] + np.searchsorted(po.keys[lo_c[j]:hi_c[j]], keys[j], "left")
                       for j in range(len(keys))], dtype=np.int64)
        hi = np.array([lo_c[j] + np.searchsorted(po.keys[lo_c[j]:hi_c[j]], keys[j], "right")
                       for j in range(len(keys))], dtype=np.int64)
    pos = lo.copy()
    run = np.flatnonzero(hi > lo)
    if len(run) == 0:
        return pos
    first = static_scores(old_ix, *w3, po.rows[lo[run]])
    last = static_scores(old_ix, *w3, po.rows[hi[run] - 1])
    for j, e0, e1 in zip(run.tolist(), first.tolist(), last.tolist(), strict=True):
        a, z, bj = int(lo[j]), int(hi[j]), float(b[j])
        if e0 == e1:  # B non-increasing between the ends: one score throughout
            pos[j] = a if bj > e0 else z if bj < e0 \
                else a + int(np.searchsorted(po.rows[a:z], row[j]))
        else:
            rows = po.rows[a:z]
            rst = static_scores(old_ix, *w3, rows)
            pos[j] = a + int(np.count_nonzero((rst > bj) | ((rst == bj) & (rows < row[j]))))
    return pos


_Edit = tuple[int, int, np.ndarray, np.ndarray | None, np.ndarray | None]


def _merge_edits(old_ix: MatchIndex, ix: MatchIndex, po: ProfileOrder, rw: _Rewrite,
                 cats: list[int], w3: tuple[float, float, float]
                 ) -> tuple[list[tuple[int, int, _Edit]], dict[int, float], set[int]]:
    """The edits of categories ``cats``, whose kept rows keep their static score: the
    removed rows taken out of the old order and the inserted ones put in where they sort
    (positions of the old order; keys under the old ``b_max``); each with its sort key
    (position, category); per category its largest new score; and the categories where a
    removed row was not where its key says (to re-sort)."""
    ptr = old_ix.cat_dem_indptr
    mine = np.zeros(ix.ncat, dtype=bool)
    mine[cats] = True
    out: list[tuple[int, int, _Edit]] = []
    empty = np.zeros(0, dtype=np.int64)
    gone = rw.removed[mine[old_ix.dem_cat[rw.removed]]]
    gc = old_ix.dem_cat[gone].astype(np.int64)
    st = static_scores(old_ix, *w3, gone)
    sorted_keys = keys_sorted(po, ptr)
    at = _before(old_ix, po, ptr[gc], ptr[gc + 1], old_ix.dem_cat[gone] * po.span
                 + (po.b_max - st), st, gone, w3, sorted_keys)
    ok = (at < ptr[gc + 1]) & (po.rows[np.minimum(at, len(po.rows) - 1)] == gone)
    failed = set(gc[~ok].tolist())
    deleted = set(at[ok].tolist())
    for a, c in zip(at[ok].tolist(), gc[ok].tolist(), strict=True):
        out.append((a, c, (a, a + 1, empty, None, None)))
    new = rw.inserted[mine[ix.dem_cat[rw.inserted]]]
    st = static_scores(ix, *w3, new)
    order = np.lexsort((new, -st))  # ties at one spot: by (-B, row)
    new, st = new[order], st[order]
    nc = ix.dem_cat[new].astype(np.int64)
    keys = ix.dem_cat[new] * po.span + (po.b_max - st)
    # among equal scores a new row sorts by its key: before the old rows of larger keys
    put = _before(old_ix, po, ptr[nc], ptr[nc + 1], keys, st,
                  np.searchsorted(old_ix.dem_keys, ix.dem_keys[new]), w3, sorted_keys)
    for j, (p, c) in enumerate(zip(put.tolist(), nc.tolist(), strict=True)):
        out.append((p, c, (p, p, new[j:j + 1], keys[j:j + 1], None)))
    tops: dict[int, float] = {}
    for c in cats:
        first = next((i for i in range(int(ptr[c]), int(ptr[c + 1])) if i not in deleted),
                     None)
        if first is not None:
            tops[c] = float(static_scores(old_ix, *w3, po.rows[first:first + 1])[0])
    for c, b in zip(nc.tolist(), st.tolist(), strict=True):
        tops[c] = max(tops.get(c, b), b)
    return out, tops, failed


def _renumbered(rw: _Rewrite, src: np.ndarray, dst: np.ndarray) -> None:
    """``dst[:] =`` the new numbers of the old kept rows ``src`` (one pass per moved stretch)."""
    if len(rw.bounds) == 0:
        dst[:] = src
    elif len(rw.bounds) <= 3:
        for i, (bound, step) in enumerate(zip(rw.bounds.tolist(), rw.steps.tolist(),
                                              strict=True)):
            base = src if i == 0 else dst
            if step == 1:
                np.add(base, src >= bound, out=dst)
            elif step == -1:
                np.subtract(base, src >= bound, out=dst)
            else:
                np.add(base, (src >= bound) * step, out=dst)
    else:
        cum = np.concatenate([[0], np.cumsum(rw.steps)])
        np.add(src, cum[np.searchsorted(rw.bounds, src, "right")], out=dst)


def _patched_order(old_ix: MatchIndex, ix: MatchIndex, po: ProfileOrder, rw: _Rewrite,
                   w3: tuple[float, float, float]) -> ProfileOrder:
    """``po`` (built from ``old_ix``) patched for ``ix``: the dirty categories merged (or
    re-sorted), the old order copied around them with its keys while ``b_max`` stays."""
    if not math.isfinite(po.b_max):
        return build_order(ix, *w3)
    old_ptr = old_ix.cat_dem_indptr
    if not rw.dirty and len(rw.bounds) == 0:  # no row moved or changed its score: the
        return po  # same order (never written in place), not a 9 MB copy of it
    merged = [c for c in rw.dirty if c not in rw.resort]
    merge_set = set(merged)
    found, tops, failed = _merge_edits(old_ix, ix, po, rw, merged, w3)
    edits = [e for e in found if e[1] not in failed]
    for c in rw.dirty:
        if c in merge_set and c not in failed:
            continue
        # re-sorted: many rows written (a category's popularity moved), or a row not found
        mine = ix.cat_dem_rows[ix.cat_dem_indptr[c]:ix.cat_dem_indptr[c + 1]]
        st = static_scores(ix, *w3, mine)
        order = np.argsort(-st, kind="stable")
        start, stop = int(old_ptr[c]), int(old_ptr[c + 1])
        edits.append((start, c, (start, stop, mine[order], None, st[order])))
        tops[c] = float(st.max(initial=0.0))
    clean = np.ones(ix.ncat, dtype=bool)
    clean[rw.dirty] = False
    clean &= np.diff(old_ptr) > 0
    firsts = po.rows[old_ptr[:-1][clean]]  # each clean category's largest B, unchanged
    b_max = max([0.0, *tops.values(), float(static_scores(old_ix, *w3, firsts).max(initial=0.0))])
    if not math.isfinite(b_max):
        return build_order(ix, *w3)
    same = b_max == po.b_max
    span = po.span if same else b_max + 1.0
    # by position, then category (a spot may end one category and start the next), then
    # insertions before the removal at the same spot; stable: insertions keep their order
    edits.sort(key=lambda e: (e[0], e[1], e[2][0] != e[2][1]))
    out = np.empty(int(ix.cat_dem_indptr[-1]), dtype=np.int64)
    out_keys = np.empty(len(out)) if same else None
    at = n = 0
    for _, _, (start, stop, rows, given, scores) in edits:
        m = start - at
        _renumbered(rw, po.rows[at:start], out[n:n + m])
        if out_keys is not None:
            out_keys[n:n + m] = po.keys[at:start]
        n += m
        if len(rows):
            out[n:n + len(rows)] = rows
            if out_keys is not None:
                if given is None:
                    assert scores is not None
                    given = ix.dem_cat[rows] * span + (b_max - scores)
                out_keys[n:n + len(rows)] = given
            n += len(rows)
        at = stop
    assert n + len(po.rows) - at == len(out)
    _renumbered(rw, po.rows[at:], out[n:])
    if out_keys is not None:
        out_keys[n:] = po.keys[at:]
    if out_keys is None:  # b_max moved: every key moves (the order does not)
        out_keys = ix.dem_cat[out] * span + (b_max - static_scores(ix, *w3)[out])
    return ProfileOrder(out, out_keys, span, b_max)


def patch_ranking_caches(old_ix: MatchIndex, ix: MatchIndex, moved: DemandPatch) -> None:
    """Give ``ix`` (``old_ix``'s demand table with the rows ``moved`` says written, nothing
    else changed) the ranking caches of ``old_ix`` patched: the buyer bits per category
    and every profile's row order. Each equals its build from ``ix``.

    Only the written rows are read (those with their old key and static inputs count
    as kept), and the categories they are in (dirty): the other rows of a dirty category
    keep their static score, so its order is the old one with the changed rows taken out
    and put back in (binary searches on the keys), or it is re-sorted when many rows
    changed. The rest of the old order is copied, row numbers moved by a constant
    between changed rows, with its keys while the largest static score ``b_max`` stays
    (else every key is recomputed). The bits are the same object when no buyer gained
    or lost a category, else only those buyers' columns are redone."""
    if ix.n != old_ix.n or ix.ncat != old_ix.ncat:
        return
    found = dict(old_ix.cache)  # readers add entries meanwhile
    orders = {key: po for key, po in found.items()
              if isinstance(key, tuple) and key[:1] == ("order",)
              and isinstance(po, ProfileOrder)}
    rw = _rewrite(old_ix, ix, moved)
    bits = found.get("bits")
    if isinstance(bits, np.ndarray):
        if len(rw.buyers):
            bits = bits.copy()
            for b in rw.buyers.tolist():
                bits[:, b >> 3] &= np.uint8(0xFF ^ (0x80 >> (b & 7)))
            rows = spans(ix.buyer_dem_indptr, rw.buyers)
            buyer = ix.dem_buyer[rows].astype(np.int64)
            np.bitwise_or.at(bits, (ix.dem_cat[rows], buyer >> 3),
                             (0x80 >> (buyer & 7)).astype(np.uint8))
        ix.cache["bits"] = bits
    for key, po in orders.items():
        w3 = (float(key[1]), float(key[2]), float(key[3]))
        ix.cache[key] = _patched_order(old_ix, ix, po, rw, w3)
