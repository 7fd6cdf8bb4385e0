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
* the result may be divided by ``in_degree(candidate) ** BETA`` so that hubs
  every supplier sells to do not top every list (RP³β); ``BETA = 0`` by
  default because on the sample and the generated networks popular buyers
  really are likelier new buyers (checked with ``coopgraph evaluate``).

The computation gathers only the rows on the path straight from the CSR
``indptr``/``indices`` arrays (:func:`gather_rows`) — never a dense company ×
company matrix, no scipy fancy indexing — so one query costs in proportion to
the edges it touches plus one ``bincount`` over the companies. The mirror
(buyer → its suppliers → their other buyers → their suppliers) ranks
suppliers for a buyer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from queries.candidates import MatchIndex

__all__ = ["BETA", "cf_buyers", "cf_suppliers", "gather_rows"]

BETA = 0.0


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


def _walk(first: sp.csr_matrix, second: sp.csr_matrix, first_deg: np.ndarray,
          second_deg: np.ndarray, q: int, n: int) -> np.ndarray:
    """Three-step CF scores from company ``q`` (see the module docstring)."""
    mine = first.indices[first.indptr[q]:first.indptr[q + 1]]
    if len(mine) == 0:
        return np.zeros(n)
    # same-side companies sharing partners with q, each shared partner weighted 1/degree
    peers, owner = gather_rows(second, mine)
    weight = 1.0 / np.maximum(first_deg[mine], 1.0)[owner]
    keep = peers != q
    peers, weight = peers[keep], weight[keep]
    if len(peers) == 0:
        return np.zeros(n)
    uniq, inverse = np.unique(peers, return_inverse=True)
    y = np.bincount(inverse, weights=weight) / np.maximum(second_deg[uniq], 1.0)
    reached, owner = gather_rows(first, uniq)
    return np.bincount(reached, weights=y[owner], minlength=n)


def cf_buyers(ix: MatchIndex, s: int, beta: float = BETA) -> np.ndarray:
    """Collaborative-filtering score of every company as a new buyer of supplier ``s``.

    Returns a dense vector of length ``ix.n`` (0 where no path); the supplier
    itself and its current buyers are not zeroed here (callers exclude them).
    """
    z = _walk(ix.A, ix.AT, ix.in_deg, ix.out_deg, s, ix.n)
    if beta:
        z /= np.maximum(ix.in_deg, 1.0) ** beta
    return z


def cf_suppliers(ix: MatchIndex, b: int, beta: float = BETA) -> np.ndarray:
    """Collaborative-filtering score of every company as a new supplier of buyer ``b``."""
    z = _walk(ix.AT, ix.A, ix.out_deg, ix.in_deg, b, ix.n)
    if beta:
        z /= np.maximum(ix.out_deg, 1.0) ** beta
    return z
