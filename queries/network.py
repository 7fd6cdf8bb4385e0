"""Network signals over the supply graph that work on real buyer–supplier networks.

Buyer–supplier networks are nearly bipartite: a supplier's buyers rarely buy
from each other, so triangle-based scores (common neighbours, Adamic–Adar on the
undirected graph) are mostly zero. What does carry signal is the three-step
path *supplier → its buyers → their other suppliers → their buyers*: "suppliers
that share buyers with you also sell to b" — item-to-item collaborative
filtering on the bipartite graph, a random walk of length three (P³ in the
recommender literature). Each step is degree-normalised:

* step 1→2 weighs a shared buyer by ``1 / in_degree(buyer)`` (a buyer that buys
  from everyone says little about similarity — the resource-allocation idea),
* step 2→3 spreads a similar supplier's weight over its ``out_degree`` buyers,
* the result may be divided by ``in_degree(candidate) ** beta`` so that hubs
  every supplier sells to do not top every list (RP³β); ``beta = 0`` by
  default because on the sample and the generated networks popular buyers
  really are likelier new buyers (checked with ``coopgraph evaluate``).

How strongly a step penalises degree (1/deg or 1/log(2 + deg)), ``beta`` and a
recency half-life on the links (from their ``since`` dates) are parameters of
the weight profile (:class:`queries.factors.WeightProfile`), chosen for a
network by ``coopgraph fit``: one fixed choice does not fit both sparse and
dense networks.

The computation gathers only the rows on the path straight from the CSR
``indptr``/``indices`` arrays (:func:`gather_rows`) — never a dense company ×
company matrix, no scipy fancy indexing — so one query costs in proportion to
the edges it touches plus one ``bincount`` over the companies. The mirror
(buyer → its suppliers → their other buyers → their suppliers) ranks
suppliers for a buyer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from coopgraph.queries.candidates import MatchIndex

__all__ = ["BETA", "TUNE_GRID", "FallbackDegree", "Norm", "QueryPaths", "WalkTuning", "cf_buyers",
           "cf_suppliers", "degree_weight", "gather_rows", "peers_behind", "recency_matrices",
           "setting_label", "tune_walk"]

BETA = 0.0
Norm = Literal["degree", "log", "none"]
#: which degree orders companies the walk does not tell apart (and the fallback): the one on
#: the side ranked, or buying and selling together (preferential attachment's); ``"flat"`` is
#: the latter without the fallback's category and region tiers — preferential attachment's
#: order over the whole graph
FallbackDegree = Literal["side", "both", "flat"]


def gather_rows(m: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column indices of ``m[rows]`` concatenated, and for each the position in ``rows``.

    Plain numpy over ``indptr``/``indices`` (much cheaper than ``m[rows]`` for
    the short row lists of one query).
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = m.indptr[rows].astype(np.int64)
    lens = m.indptr[rows + 1].astype(np.int64) - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(rows)), lens)
    offsets = np.arange(total, dtype=np.int64) + (starts - (np.cumsum(lens) - lens))[owner]
    return m.indices[offsets].astype(np.int64), owner


def _gather(m: sp.csr_matrix, rows: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gather_rows` plus the stored values (link weights) of the gathered entries."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = m.indptr[rows].astype(np.int64)
    lens = m.indptr[rows + 1].astype(np.int64) - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    owner = np.repeat(np.arange(len(rows)), lens)
    offsets = np.arange(total, dtype=np.int64) + (starts - (np.cumsum(lens) - lens))[owner]
    return m.indices[offsets].astype(np.int64), owner, m.data[offsets]


def degree_weight(deg: np.ndarray, norm: Norm = "degree") -> np.ndarray:
    """How much one step through a company of degree ``deg`` counts.

    ``"degree"``: 1/deg (resource allocation: a hub says little); ``"log"``:
    1/log(2 + deg), a gentler penalty that suits sparse networks where most
    companies have one or two partners; ``"none"``: 1 (plain co-occurrence
    counts, S·Aᵀ·A — a baseline).
    """
    deg = np.asarray(deg, dtype=float)
    if norm == "none":
        return np.ones(deg.shape)
    if norm == "log":
        return 1.0 / np.log(2.0 + deg)
    return 1.0 / np.maximum(deg, 1.0)


def _walk(first: sp.csr_matrix, second: sp.csr_matrix, first_deg: np.ndarray,
          second_deg: np.ndarray, q: int, n: int, norm: Norm = "degree") -> np.ndarray:
    """Three-step CF scores from company ``q`` (see the module docstring).

    The matrices' stored values weigh each link (1, or its recency weight).
    """
    lo, hi = first.indptr[q], first.indptr[q + 1]
    mine = first.indices[lo:hi]
    if len(mine) == 0:
        return np.zeros(n)
    w_mine = first.data[lo:hi] * degree_weight(first_deg[mine], norm)
    # same-side companies sharing partners with q, each shared partner weighted by its degree
    peers, owner, w_link = _gather(second, mine)
    weight = w_mine[owner] * w_link
    keep = peers != q
    peers, weight = peers[keep], weight[keep]
    if len(peers) == 0:
        return np.zeros(n)
    uniq, inverse = np.unique(peers, return_inverse=True)
    y = np.bincount(inverse, weights=weight) * degree_weight(second_deg[uniq], norm)
    # step three, the widest: each peer's weight spread over its partners (one repeat per
    # array instead of gathering through an owner index)
    starts = first.indptr[uniq].astype(np.int64)
    lens = first.indptr[uniq + 1].astype(np.int64) - starts
    offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    offsets += np.arange(len(offsets), dtype=np.int64)
    weights = np.repeat(y, lens)
    weights *= first.data[offsets]
    return np.bincount(first.indices[offsets], weights=weights, minlength=n)


def recency_matrices(ix: MatchIndex, half_life_days: float | None
                     ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(A, Aᵀ)`` with each link weighted 2^(−age / half-life) (cached per half-life).

    A link's age is the time from its pair's latest ``since`` to the newest
    ``since`` in the data; a link without a date weighs 1. ``None``: every link 1.
    """
    if not half_life_days or not np.isfinite(half_life_days):
        return ix.A, ix.AT
    key = ("recency", float(half_life_days))
    found = ix.cache.get(key)
    if found is None:
        a = ix.A.copy()
        age = ix.A_age
        a.data = np.where(np.isfinite(age), np.exp2(-np.nan_to_num(age) / half_life_days), 1.0)
        found = (a, a.T.tocsr())
        ix.cache[key] = found
    return found


def cf_buyers(ix: MatchIndex, s: int, beta: float = BETA, *, norm: Norm = "degree",
              half_life_days: float | None = None) -> np.ndarray:
    """Collaborative-filtering score of every company as a new buyer of supplier ``s``.

    Returns a dense vector of length ``ix.n`` (0 where no path); the supplier
    itself and its current buyers are not zeroed here (callers exclude them).
    ``beta`` divides by the candidate's in-degree to that power (RP3β), ``norm``
    chooses the degree penalty of each step (:func:`degree_weight`) and
    ``half_life_days`` weighs links by recency (:func:`recency_matrices`).
    """
    a, at = recency_matrices(ix, half_life_days)
    z = _walk(a, at, ix.in_deg, ix.out_deg, s, ix.n, norm)
    if beta:
        z /= np.maximum(ix.in_deg, 1.0) ** beta
    return z


def cf_suppliers(ix: MatchIndex, b: int, beta: float = BETA, *, norm: Norm = "degree",
                 half_life_days: float | None = None) -> np.ndarray:
    """Collaborative-filtering score of every company as a new supplier of buyer ``b``."""
    a, at = recency_matrices(ix, half_life_days)
    z = _walk(at, a, ix.out_deg, ix.in_deg, b, ix.n, norm)
    if beta:
        z /= np.maximum(ix.out_deg, 1.0) ** beta
    return z


class QueryPaths:
    """The walk's first two steps from one query company, kept to explain its candidates.

    ``peer[i]`` shares partner ``via[i]`` with the query company ``q`` — the
    same entries the walk gathers, so building this costs what one walk costs;
    :meth:`behind` then explains any candidate from them.
    """

    def __init__(self, ix: MatchIndex, q: int, direction: str) -> None:
        self.ix = ix
        self.q = q
        self.first, self.second = (ix.A, ix.AT) if direction == "buyers" else (ix.AT, ix.A)
        self.first_deg = ix.in_deg if direction == "buyers" else ix.out_deg
        mine = self.first.indices[self.first.indptr[q]:self.first.indptr[q + 1]]
        peer, owner = gather_rows(self.second, mine)
        keep = peer != q
        self.peer = peer[keep]
        self.via = mine[owner[keep]].astype(np.int64)
        self._theirs: np.ndarray | None = None

    def behind(self, partner: int, *, limit: int = 3, norm: Norm = "degree"
               ) -> tuple[list[int], list[int], int]:
        """Peers that deal with ``partner`` (strongest first), the partners they share
        with ``q``, at most ``limit`` of each, and how many such peers in all."""
        lo, hi = self.second.indptr[partner], self.second.indptr[partner + 1]
        if hi == lo or len(self.peer) == 0:
            return [], [], 0
        if self._theirs is None:  # one mask per query, cleared after each candidate
            self._theirs = np.zeros(self.ix.n, dtype=bool)
        theirs = self._theirs
        cols = self.second.indices[lo:hi]
        theirs[cols] = True
        hit = theirs[self.peer]
        theirs[cols] = False
        peer, via = self.peer[hit], self.via[hit]
        if len(peer) == 0:
            return [], [], 0
        uniq, inverse = np.unique(peer, return_inverse=True)
        strength = np.bincount(inverse, weights=degree_weight(self.first_deg[via], norm))
        ranked = np.lexsort((uniq, -strength))
        peers = uniq[ranked[:limit]].tolist()
        shared: list[int] = []
        for p in peers:
            for c in via[peer == p].tolist():
                if c not in shared:
                    shared.append(c)
        return peers, shared[:limit], len(uniq)


def peers_behind(ix: MatchIndex, q: int, partner: int, direction: str, *, limit: int = 3,
                 norm: Norm = "degree") -> tuple[list[int], list[int], int]:
    """The same-side peers and shared partners behind ``partner``'s network score for ``q``.

    For ``direction="buyers"`` (``q`` a supplier): suppliers that sell to
    ``partner`` and share buyers with ``q``, strongest first, and the buyers they
    share with ``q`` — at most ``limit`` of each (for a sentence a person can
    check) — and how many such peers there are in all. (One candidate; for
    several of one query build :class:`QueryPaths` once.)
    """
    return QueryPaths(ix, q, direction).behind(partner, limit=limit, norm=norm)


# --- choosing the walk's degree penalty and β on the network itself ---------------------------

#: the (degree penalty, β, fallback degree) settings :func:`tune_walk` compares; the first wins
#: ties. They hold the strongest simple baselines' configurations: RP3β (1/deg, β 0.5), item CF
#: with 1/log weights (log, β 0), and preferential attachment's order (``"both"`` degrees) for
#: the companies the walk does not reach — within the fallback's category and region tiers,
#: or over the whole graph (``"flat"``: preferential attachment itself for those companies).
_FB: tuple[FallbackDegree, ...] = ("side", "both", "flat")
_WALKS: tuple[tuple[Norm, float], ...] = (("degree", 0.0), ("degree", 0.5), ("log", 0.0),
                                          ("log", 0.5))
TUNE_GRID: tuple[tuple[Norm, float, FallbackDegree], ...] = tuple(
    (norm, beta, fb) for fb in _FB for norm, beta in _WALKS)
#: below this many supplier–buyer pairs, or this many query suppliers, nothing is tuned
TUNE_MIN_PAIRS = 200
TUNE_MIN_QUERIES = 20
#: from this many pairs on, 2 folds of 100 queries (not 3 of 200): each walk costs more, and
#: each query holds out more pairs
TUNE_LARGE_PAIRS = 100_000


def setting_label(norm: Norm, beta: float, fallback: FallbackDegree) -> str:
    """How :attr:`WalkTuning.mrr` names one setting of :data:`TUNE_GRID`."""
    return f"{norm}, β {beta:g}, fallback {fallback}"


@dataclass(frozen=True)
class WalkTuning:
    """What :func:`tune_walk` chose and on what evidence (inner MRR per setting)."""

    norm: Norm
    beta: float
    mrr: dict[str, float]
    n_queries: int
    n_held_out: int
    fallback_degree: FallbackDegree = "side"


def _ranks_with_ties(score: np.ndarray, pop: np.ndarray, excluded: np.ndarray,
                     targets: np.ndarray, pop_sorted: np.ndarray,
                     reached: np.ndarray | None = None) -> np.ndarray:
    """Filtered ranks of ``targets`` by ``score`` (≥ 0, mostly 0), ties broken by ``pop``.

    Negatives are every company not in ``excluded`` (the query, its partners,
    the targets). Only the companies the walk reached (``reached``: where
    ``score`` > 0, if known) are looked at one by one; the unreached (score 0)
    are counted from ``pop_sorted`` (every company's ``pop``, sorted) minus the
    reached and the excluded ones.
    """
    if reached is None:
        reached = np.flatnonzero(score)
    ex_hit = score[excluded] > 0
    is_neg = np.ones(len(reached), dtype=bool)
    is_neg[np.searchsorted(reached, excluded[ex_hit])] = False
    s_r, p_r = score[reached[is_neg]], pop[reached[is_neg]]
    # companies with score 0 that are no negative: excluded ones the walk did not reach
    p_off = np.sort(np.concatenate([pop[reached], pop[excluded[~ex_hit]]]))
    n_all = len(pop_sorted)
    ranks = np.empty(len(targets))
    for i, t in enumerate(targets.tolist()):
        st, pt = score[t], pop[t]
        if st > 0:
            same = s_r == st
            above = np.count_nonzero(s_r > st) + np.count_nonzero(same & (p_r > pt))
            ties = np.count_nonzero(same & (p_r == pt))
        else:
            hi_all = np.searchsorted(pop_sorted, pt, side="right")
            hi_off = np.searchsorted(p_off, pt, side="right")
            above = len(s_r) + (n_all - hi_all) - (len(p_off) - hi_off)
            ties = (hi_all - np.searchsorted(pop_sorted, pt, side="left")) \
                - (hi_off - np.searchsorted(p_off, pt, side="left"))
        ranks[i] = 1.0 + above + ties / 2.0
    return ranks


_TIER = 1e3  # above any log-degree: one fallback tier above the next


def _fold_pools(ix: MatchIndex, a: sp.coo_matrix, keep: np.ndarray
                ) -> Callable[[int], np.ndarray]:
    """Per query supplier: the buyers in its fallback category pool on one fold's links.

    As :func:`queries.match.category_pool` on a graph of supply links only: the
    buyers that buy (on the kept links) in the taxonomy branches of what the
    supplier sells on the kept links. Link categories come from
    ``ix.supply_keys``; a held-out link tells nothing.
    """
    n, ncat = ix.n, max(ix.ncat, 1)
    keys = ix.supply_keys.astype(np.int64)
    pair = keys // ncat
    cat = keys % ncat
    pair_keys = a.row.astype(np.int64) * n + a.col.astype(np.int64)
    order = np.argsort(pair_keys, kind="stable")
    where = np.searchsorted(pair_keys[order], pair)
    ok = where < len(order)
    ok[ok] &= pair_keys[order][where[ok]] == pair[ok]
    kept = np.zeros(len(keys), dtype=bool)
    kept[ok] = keep[order[where[ok]]]
    roots = ix.cat_root[cat[kept]].astype(np.int64) if len(ix.cat_root) else cat[kept]
    nroot = int(roots.max(initial=-1)) + 1
    sup, buy = pair[kept] // n, pair[kept] % n
    ones = np.ones(len(roots))
    sells = sp.csr_matrix((ones, (sup, roots)), shape=(n, max(nroot, 1)))
    buys = sp.csc_matrix((ones, (buy, roots)), shape=(n, max(nroot, 1)))

    def pool(q: int) -> np.ndarray:
        mine = sells.indices[sells.indptr[q]:sells.indptr[q + 1]]
        if len(mine) == 0 or nroot == 0:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(
            [buys.indices[buys.indptr[r]:buys.indptr[r + 1]] for r in mine.tolist()]))
    return pool


def tune_walk(ix: MatchIndex, *, frac: float = 0.2, folds: int | None = None,
              max_queries: int | None = None, seed: int = 0) -> WalkTuning | None:
    """Choose the walk's degree penalty and β for this network by inner splits of its links.

    In each of ``folds`` seeded splits (default 3; 2 from :data:`TUNE_LARGE_PAIRS`
    pairs on) a ``frac`` of the supplier–buyer pairs is hidden; for up to
    ``max_queries`` suppliers (default 200; 100 on large graphs) with a hidden
    buyer and a visible one, every non-partner is ranked by the walk over the
    visible links under each setting of :data:`TUNE_GRID` (ties broken by the
    buyer's number of suppliers, as the engine's popularity does), and the
    setting with the best mean reciprocal rank of the hidden buyers over all
    folds wins (the first of the grid on a tie). The held-out pairs are the
    network's own: nothing is fitted to any other data. One walk per query and
    penalty (β only rescales it). ``None`` when the network is too small
    (:data:`TUNE_MIN_PAIRS`, :data:`TUNE_MIN_QUERIES` over the folds).
    """
    a = ix.A.tocoo()
    if a.nnz < TUNE_MIN_PAIRS:
        return None
    large = a.nnz >= TUNE_LARGE_PAIRS
    folds = folds if folds is not None else (2 if large else 3)
    max_queries = max_queries if max_queries is not None else (100 if large else 200)
    shape = a.shape
    total = dict.fromkeys(TUNE_GRID, 0.0)
    n_held = n_queries = 0
    for fold in range(folds):
        rng = np.random.default_rng(seed + fold)
        held = np.zeros(a.nnz, dtype=bool)
        held[rng.choice(a.nnz, size=max(1, round(frac * a.nnz)), replace=False)] = True
        keep = ~held
        train = sp.csr_matrix((np.ones(int(keep.sum())), (a.row[keep], a.col[keep])),
                              shape=shape)
        train_t = train.T.tocsr()
        hidden = sp.csr_matrix((np.ones(int(held.sum())), (a.row[held], a.col[held])),
                               shape=shape)
        out_deg = np.diff(train.indptr).astype(float)
        in_deg = np.diff(train_t.indptr).astype(float)
        qs = np.unique(a.row[held])
        qs = qs[out_deg[qs] > 0]
        if len(qs) > max_queries:
            qs = np.sort(rng.choice(qs, size=max_queries, replace=False))
        # the order of what the walk does not tell apart, as the engine's fallback
        # (queries.match.fallback_scores): the degree on the side ranked, or both sides;
        # "side" and "both" within the fallback's tiers (this fold's category pool, then the
        # region), "flat" without them
        base = {"side": np.log1p(in_deg) + 1e-4 * np.log1p(out_deg),
                "both": np.log1p(in_deg + out_deg) + 1e-4 * np.log1p(in_deg)}
        base["flat"] = np.log1p(in_deg + out_deg)  # no tie-break: preferential attachment
        pool_of = _fold_pools(ix, a, keep)
        flat_sorted = np.sort(base["flat"])
        # each tiered order sorted per query in O(n): the fold's sorted order, split by tier
        orders = {fb: np.argsort(base[fb], kind="stable") for fb in ("side", "both")}
        sorted_base = {fb: base[fb][o] for fb, o in orders.items()}
        region = ix.region_code
        penalty = {beta: np.maximum(in_deg, 1.0) ** beta for _, beta, _ in TUNE_GRID if beta}
        n_queries += len(qs)
        for q in qs.tolist():
            targets = hidden.indices[hidden.indptr[q]:hidden.indptr[q + 1]]
            known = train.indices[train.indptr[q]:train.indptr[q + 1]]
            excluded = np.unique(np.r_[q, known, targets]).astype(np.int64)
            n_held += len(targets)
            level = np.zeros(ix.n, dtype=np.int8)
            if region[q] >= 0:
                level[region == region[q]] = 1
            level[pool_of(q)] = 2
            pops = {fb: base[fb] + level * _TIER for fb in ("side", "both")}
            pops_sorted = {}
            for fb, o in orders.items():
                lv = level[o]
                pops_sorted[fb] = np.concatenate(
                    [sorted_base[fb][lv == t] + t * _TIER for t in (0, 1, 2)])
            pops["flat"], pops_sorted["flat"] = base["flat"], flat_sorted
            for norm in dict.fromkeys(nm for nm, _, _ in TUNE_GRID):
                z = _walk(train, train_t, in_deg, out_deg, q, ix.n, norm)
                reached = np.flatnonzero(z)
                for setting in TUNE_GRID:
                    if setting[0] != norm:
                        continue
                    score = z / penalty[setting[1]] if setting[1] else z
                    total[setting] += float(np.sum(1.0 / _ranks_with_ties(
                        score, pops[setting[2]], excluded, targets, pops_sorted[setting[2]],
                        reached)))
    if n_queries < TUNE_MIN_QUERIES:
        return None
    mrr = {setting_label(*st): round(v / n_held, 4) for st, v in total.items()}
    norm, beta, fb = max(TUNE_GRID, key=lambda st: (total[st], -TUNE_GRID.index(st)))
    return WalkTuning(norm, beta, mrr, n_queries, n_held, fb)
