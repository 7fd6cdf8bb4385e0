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

__all__ = ["BETA", "Norm", "cf_buyers", "cf_suppliers", "degree_weight", "gather_rows",
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


def peers_behind(ix: MatchIndex, q: int, partner: int, direction: str, *, limit: int = 3,
                 norm: Norm = "degree") -> tuple[list[int], list[int], int]:
    """The same-side peers and shared partners behind ``partner``'s network score for ``q``.

    For ``direction="buyers"`` (``q`` a supplier): suppliers that sell to
    ``partner`` and share buyers with ``q``, strongest first, and the buyers they
    share with ``q``. At most ``limit`` of each (for a sentence a person can check).
    """
    first, second = (ix.A, ix.AT) if direction == "buyers" else (ix.AT, ix.A)
    first_deg = ix.in_deg if direction == "buyers" else ix.out_deg
    mine = first.indices[first.indptr[q]:first.indptr[q + 1]]
    peers_of_partner = second.indices[second.indptr[partner]:second.indptr[partner + 1]]
    if len(mine) == 0 or len(peers_of_partner) == 0:
        return [], [], 0
    mine_set = np.zeros(ix.n, dtype=bool)
    mine_set[mine] = True
    mine_set[q] = False
    peers_of_partner = peers_of_partner[peers_of_partner != q]
    theirs, owner = gather_rows(first, peers_of_partner)
    hit = mine_set[theirs]
    strength = np.bincount(owner[hit], weights=degree_weight(first_deg[theirs[hit]], norm),
                           minlength=len(peers_of_partner))
    ranked = np.lexsort((peers_of_partner, -strength))
    ranked = ranked[strength[ranked] > 0]
    n_peers = len(ranked)
    ranked = ranked[:limit]
    peers = peers_of_partner[ranked].tolist()
    shared: list[int] = []
    for i in ranked.tolist():
        for c in theirs[hit & (owner == i)].tolist():
            if c not in shared:
                shared.append(c)
    return peers, shared[:limit], n_peers
