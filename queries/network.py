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

from typing import Literal

import numpy as np
import scipy.sparse as sp

from queries.candidates import MatchIndex

__all__ = ["BETA", "Norm", "QueryPaths", "cf_buyers", "cf_suppliers", "degree_weight",
           "gather_rows",
           "peers_behind", "recency_matrices"]

BETA = 0.0
Norm = Literal["degree", "log", "none"]


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
    reached, owner, w_link = _gather(first, uniq)
    return np.bincount(reached, weights=y[owner] * w_link, minlength=n)


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

    def behind(self, partner: int, *, limit: int = 3, norm: Norm = "degree"
               ) -> tuple[list[int], list[int], int]:
        """Peers that deal with ``partner`` (strongest first), the partners they share
        with ``q``, at most ``limit`` of each, and how many such peers in all."""
        lo, hi = self.second.indptr[partner], self.second.indptr[partner + 1]
        if hi == lo or len(self.peer) == 0:
            return [], [], 0
        theirs = np.zeros(self.ix.n, dtype=bool)
        theirs[self.second.indices[lo:hi]] = True
        hit = theirs[self.peer]
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
