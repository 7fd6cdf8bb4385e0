"""Link-prediction baselines for :mod:`queries.evaluate`, each a scorer over companies.

A scorer maps one query company (index) to a dense score vector over all
companies; :func:`queries.evaluate` ranks the held-out partners in it. Every
baseline sees only the *training* projection. The baselines (``BASELINES``):

===================== =====================================================================
rule                  the engine's own rule without weights: the partner wants (buyers) or
                      can make (suppliers) a category the query company makes (wants),
                      ties broken by preferential attachment (the partner's degree)
item_cf               item-based CF, cosine between same-side companies over their partners
item_cf_log           the three-step walk with every step weighted 1/log(2 + degree)
                      (degree-normalised on both sides)
plain_cf              the three-step walk without normalisation: S·Aᵀ·A co-occurrence counts
rp3beta               P³ (each step 1/degree) divided by the candidate's degree^β, β = 0.5
recency_cf            plain_cf with links weighted 2^(−age/365 days) (age from ``since``)
preferential_attachment, adamic_adar, jaccard
                      networkx's link predictors on the undirected training graph
random                a seeded random order
===================== =====================================================================

``rp3beta``'s β and ``recency_cf``'s half-life are fixed, literature-typical
values (Paudel et al. 2017 report β ≈ 0.5–0.7), not tuned on the data scored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from coopgraph.queries.candidates import match_index
from coopgraph.queries.network import Norm, cf_buyers, cf_suppliers
from coopgraph.queries.projection import Projection

if TYPE_CHECKING:  # imported where used: the CLI's ranking commands need none of it
    import networkx as nx

__all__ = [
    "BASELINES",
    "RECENCY_HALF_LIFE_DAYS",
    "RP3_BETA",
    "Scorer",
    "baseline_scorer",
    "random_scorer",
    "undirected",
]

Direction = Literal["buyers", "suppliers"]
Scorer = Callable[[int], np.ndarray]
BASELINES = ("rule", "item_cf", "item_cf_log", "plain_cf", "rp3beta", "recency_cf",
             "preferential_attachment", "adamic_adar", "jaccard", "random")
RP3_BETA = 0.5
RECENCY_HALF_LIFE_DAYS = 365.0


def baseline_scorer(name: str, proj: Projection, direction: Direction, *, seed: int = 0,
                    graph: nx.Graph | None = None) -> Scorer:
    """The scorer of baseline ``name`` on the training projection ``proj``."""
    if name in ("preferential_attachment", "adamic_adar", "jaccard"):
        return _nx_scorer(graph if graph is not None else undirected(proj), proj.n_companies,
                          name)
    if name == "item_cf":
        return _item_cf_scorer(proj, direction)
    if name == "item_cf_log":
        return _walk_scorer(proj, direction, norm="log")
    if name == "plain_cf":
        return _walk_scorer(proj, direction, norm="none")
    if name == "rp3beta":
        return _walk_scorer(proj, direction, norm="degree", beta=RP3_BETA)
    if name == "recency_cf":
        return _walk_scorer(proj, direction, norm="none", half_life=RECENCY_HALF_LIFE_DAYS)
    if name == "rule":
        return _rule_scorer(proj, direction)
    if name == "random":
        return random_scorer(proj.n_companies, seed)
    raise ValueError(f"unknown baseline {name!r}")


def _walk_scorer(proj: Projection, direction: Direction, *, norm: Norm, beta: float = 0.0,
                 half_life: float | None = None) -> Scorer:
    ix = match_index(proj)
    walk = cf_buyers if direction == "buyers" else cf_suppliers

    def score(q: int) -> np.ndarray:
        return walk(ix, q, beta, norm=norm, half_life_days=half_life)
    return score


def _rule_scorer(proj: Projection, direction: Direction) -> Scorer:
    """capability ∧ demand, ties by degree: ``rule × (1 + max degree) + degree``."""
    ix = match_index(proj)
    deg = ix.in_deg if direction == "buyers" else ix.out_deg
    big = float(deg.max(initial=0.0)) + 1.0
    decl = ix.decl.astype(bool).astype(np.float64).tocsr()
    # buyer × category: 1 where the buyer has a demand row (BOM, need, import, buys it today)
    want = sp.csr_matrix((np.ones(len(ix.dem_keys)), (ix.dem_buyer, ix.dem_cat)),
                         shape=(ix.n, ix.ncat))

    def score(q: int) -> np.ndarray:
        if direction == "buyers":
            cats = decl.indices[decl.indptr[q]:decl.indptr[q + 1]]
            hit = np.asarray(want[:, cats].sum(axis=1)).ravel() > 0 if len(cats) \
                else np.zeros(ix.n, dtype=bool)
        else:
            cats = want.indices[want.indptr[q]:want.indptr[q + 1]]
            hit = np.asarray(decl[:, cats].sum(axis=1)).ravel() > 0 if len(cats) \
                else np.zeros(ix.n, dtype=bool)
        return hit * big + deg
    return score


def _nx_scorer(graph: nx.Graph, n: int, func: str) -> Scorer:
    import networkx

    def score(q: int) -> np.ndarray:
        out = np.zeros(n)
        if func == "preferential_attachment":
            ebunch = [(q, v) for v in range(n) if v != q]
            for _, v, p in networkx.preferential_attachment(graph, ebunch):
                out[v] = p
            return out
        # Adamic–Adar and Jaccard are 0 beyond two hops: score only the pairs that can be > 0
        two_hop = {w for u in graph[q] for w in graph[u]} - {q}
        ebunch = [(q, v) for v in sorted(two_hop)]
        fn = (networkx.adamic_adar_index if func == "adamic_adar"
              else networkx.jaccard_coefficient)
        for _, v, p in fn(graph, ebunch):
            out[v] = p
        return out
    return score


def _item_cf_scorer(proj: Projection, direction: Direction) -> Scorer:
    """Item-based CF: score(q, x) = Σ_{x' partner of q} cosine(x', x) over the other side."""
    ix = match_index(proj)
    m = ix.A if direction == "buyers" else ix.AT  # query side rows → partner columns
    mt = m.T.tocsr()  # partner → users
    deg = np.sqrt(np.maximum(np.diff(mt.indptr), 1.0))

    def score(q: int) -> np.ndarray:
        items = m.indices[m.indptr[q]:m.indptr[q + 1]]
        if len(items) == 0:
            return np.zeros(ix.n)
        users = np.asarray(mt[items].T @ (1.0 / deg[items])).ravel()
        rows = np.flatnonzero(users)
        z = np.asarray(m[rows].T @ users[rows]).ravel()
        return z / deg
    return score


def random_scorer(n: int, seed: int) -> Scorer:
    """A seeded random order."""
    rng = np.random.default_rng(seed)

    def score(q: int) -> np.ndarray:
        return rng.random(n)
    return score


def undirected(proj: Projection) -> nx.Graph:
    """The undirected training supply graph (networkx) for the networkx baselines."""
    import networkx

    graph = networkx.Graph()
    graph.add_nodes_from(range(proj.n_companies))
    coo = sp.coo_matrix(match_index(proj).A)
    graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    return graph
