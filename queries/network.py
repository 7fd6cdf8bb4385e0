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

The computation slices only the rows on the path (``A_out[rows]``, ``AT_in[rows]``)
— never a dense company × company matrix — so one query costs in proportion to
the edges it touches. The mirror (buyer → its suppliers → their other buyers →
their suppliers) ranks suppliers for a buyer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from queries.candidates import MatchIndex

__all__ = ["BETA", "cf_buyers", "cf_suppliers"]

BETA = 0.0


def _spread(m_rows_matrix: sp.csr_matrix, weights: np.ndarray, n: int) -> np.ndarray:
    """``weights @ matrix[rows]`` as a dense length-``n`` vector."""
    if m_rows_matrix.shape[0] == 0:
        return np.zeros(n)
    return np.asarray(m_rows_matrix.T @ weights).ravel()


def cf_buyers(ix: MatchIndex, s: int, beta: float = BETA) -> np.ndarray:
    """Collaborative-filtering score of every company as a new buyer of supplier ``s``.

    Returns a dense vector of length ``ix.n`` (0 where no path); the supplier
    itself and its current buyers are not zeroed here (callers exclude them).
    """
    buyers = ix.A.indices[ix.A.indptr[s]:ix.A.indptr[s + 1]]
    if len(buyers) == 0:
        return np.zeros(ix.n)
    # suppliers sharing buyers with s, each shared buyer weighted 1/in_degree
    y = _spread(ix.AT_in[buyers], np.ones(len(buyers)), ix.n)
    y[s] = 0.0
    rows = np.flatnonzero(y)
    z = _spread(ix.A_out[rows], y[rows], ix.n)
    if beta:
        z /= np.maximum(ix.in_deg, 1.0) ** beta
    return z


def cf_suppliers(ix: MatchIndex, b: int, beta: float = BETA) -> np.ndarray:
    """Collaborative-filtering score of every company as a new supplier of buyer ``b``."""
    suppliers = ix.AT.indices[ix.AT.indptr[b]:ix.AT.indptr[b + 1]]
    if len(suppliers) == 0:
        return np.zeros(ix.n)
    # buyers sharing suppliers with b, each shared supplier weighted 1/out_degree
    y = _spread(ix.A_out[suppliers], np.ones(len(suppliers)), ix.n)
    y[b] = 0.0
    rows = np.flatnonzero(y)
    z = _spread(ix.AT_in[rows], y[rows], ix.n)
    if beta:
        z /= np.maximum(ix.out_deg, 1.0) ** beta
    return z
