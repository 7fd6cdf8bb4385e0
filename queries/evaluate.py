"""Offline evaluation of the matching engine against link-prediction baselines.

Protocol (``evaluate(snapshot, split=..., frac=..., seed=...)``):

1. **Split** the existing supply links at the level of (supplier, buyer) *pairs*
   — every category row of a held-out pair is removed, so the pair is truly
   new. ``random``: a seeded ``frac`` of the pairs. ``time``: pairs whose first
   link (``since``) is after the cut date (the ``1 − frac`` quantile of pair
   dates) are held out, and *every* link after the cut is removed from the
   training data (links without ``since`` stay in training).
2. **Rebuild** the projection from the snapshot without those rows. What stays
   visible: companies, taxonomy, products and BOMs, capabilities, processes,
   certificates, imports and explicit needs — side information a real user of
   the engine has. Imports and needs can encode a future link (a buyer that
   imports a category may later buy it locally); they are kept because that is
   exactly the signal the engine is for, and the report says so
   (``visible``). Supply links of held-out pairs are *not* visible anywhere:
   not in the network, not in committed capacity, not in "buys it today".
3. **Rank** for each query company (a supplier with held-out buyers, or with
   ``direction="suppliers"`` a buyer with held-out suppliers; at most
   ``max_queries``, sampled with the seed) every other company, by the engine
   and by the baselines on the same training graph: networkx's
   ``preferential_attachment``, ``adamic_adar_index`` and
   ``jaccard_coefficient`` on the undirected supply graph, plain item-based
   collaborative filtering (cosine between buyers over their suppliers, no
   side information) and a seeded random order.
4. **Measure** in the *filtered* setting (the query's training partners and its
   other held-out partners are removed from the list; ties count half):
   Hits@10, Hits@50, MRR and NDCG@10 over held-out pairs.

``fit_profile`` fits the weight profile on the *training* links only: an inner
k-fold split of the training pairs, a coordinate search over each factor's
weight on a fixed grid maximising the mean inner MRR; the fitted profile is
then scored on the outer held-out pairs it never saw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, Field

from graph.errors import InvalidQuery
from graph.schema import EntityKind
from graph.store import Snapshot
from queries.candidates import match_index
from queries.factors import DEFAULT_PROFILE, FACTORS, WeightProfile, resolve_profile
from queries.match import best_per_partner, candidate_pairs
from queries.projection import Projection

__all__ = [
    "BASELINES",
    "EvalReport",
    "MethodScores",
    "Split",
    "evaluate",
    "fit_profile",
    "split_links",
]

SplitKind = Literal["random", "time"]
Direction = Literal["buyers", "suppliers"]
VISIBLE = ("companies", "clusters and memberships", "taxonomy", "products and BOMs",
           "capabilities", "processes", "certificates", "imports", "needs",
           "training supply links")
BASELINES = ("preferential_attachment", "adamic_adar", "jaccard", "item_cf", "random")


class MethodScores(BaseModel):
    """The metrics of one method on one split."""

    hits_at_10: float
    hits_at_50: float
    mrr: float
    ndcg_at_10: float


class EvalReport(BaseModel):
    """One evaluation run: the split, the metrics per method, and the verdict."""

    split: SplitKind
    direction: Direction
    frac: float
    seed: int
    cut_date: str | None = None
    n_train_links: int
    n_test_pairs: int
    n_queries: int
    methods: dict[str, MethodScores]
    best_baseline: str
    engine_beats_best_baseline: bool = Field(
        description="The engine beats the best baseline on both Hits@10 and MRR")
    profile: str
    fitted_profile: dict[str, float] | None = None
    fit_cv_mrr: float | None = None
    visible: list[str] = Field(default_factory=lambda: list(VISIBLE))


@dataclass
class Split:
    """Training snapshot and held-out (supplier index, buyer index) pairs (company ids)."""

    train: Snapshot
    test_pairs: list[tuple[str, str]]
    cut_date: str | None
    n_train_links: int


# --- splitting ---------------------------------------------------------------------------


def split_links(snapshot: Snapshot, kind: SplitKind = "random", frac: float = 0.2,
                seed: int = 0) -> Split:
    """Hide a fraction of the supply pairs (see the module docstring)."""
    if not 0 < frac < 1:
        raise InvalidQuery(f"frac must be between 0 and 1, got {frac}")
    rows = snapshot.rows(EntityKind.SUPPLY)
    if not rows:
        raise InvalidQuery("the graph has no supply links to hide")
    pair_of = [(str(r["supplier_id"]), str(r["buyer_id"])) for r in rows]
    pairs = sorted(set(pair_of))
    cut: str | None = None
    if kind == "random":
        rng = np.random.default_rng(seed)
        n_test = max(1, round(frac * len(pairs)))
        chosen = rng.choice(len(pairs), size=n_test, replace=False)
        test = {pairs[int(i)] for i in chosen}
        keep = [r for r, p in zip(rows, pair_of, strict=True) if p not in test]
    elif kind == "time":
        first: dict[tuple[str, str], str] = {}
        for r, p in zip(rows, pair_of, strict=True):
            since = r.get("since")
            if since is not None:
                d = str(since)[:10]
                if p not in first or d < first[p]:
                    first[p] = d
        if len(first) < 10:
            raise InvalidQuery("too few supply links carry a 'since' date for a time split")
        dates = sorted(first.values())
        cut = dates[min(len(dates) - 1, math.floor((1 - frac) * len(dates)))]
        # pairs known before the cut in any row stay in training
        early = {p for r, p in zip(rows, pair_of, strict=True)
                 if r.get("since") is None or str(r["since"])[:10] <= cut}
        test = {p for p, d in first.items() if d > cut and p not in early}
        keep = [r for r in rows if r.get("since") is None or str(r["since"])[:10] <= cut]
        if not test:
            raise InvalidQuery("no supply pair starts after the cut date")
    else:
        raise InvalidQuery(f"unknown split {kind!r}; use random or time")
    tables = dict(snapshot.tables)
    tables[EntityKind.SUPPLY] = keep
    train = Snapshot(revision=snapshot.revision, tables=tables)
    return Split(train=train, test_pairs=sorted(test), cut_date=cut, n_train_links=len(keep))


# --- scorers: each returns a dense score vector over companies for one query -----------------

Scorer = Callable[[int], np.ndarray]


def _engine_scorer(proj: Projection, direction: Direction, profile: WeightProfile) -> Scorer:
    n = proj.n_companies

    def score(q: int) -> np.ndarray:
        pairs = candidate_pairs(proj, q, direction, profile=profile)
        out = np.full(n, -np.inf)
        best = best_per_partner(pairs)
        if len(best):
            assert pairs.total is not None
            out[pairs.partner[best]] = pairs.total[best]
        return out
    return score


def _nx_scorer(graph: nx.Graph, n: int, func: str) -> Scorer:
    def score(q: int) -> np.ndarray:
        out = np.zeros(n)
        if func == "preferential_attachment":
            ebunch = [(q, v) for v in range(n) if v != q]
            for _, v, p in nx.preferential_attachment(graph, ebunch):
                out[v] = p
            return out
        # Adamic–Adar and Jaccard are 0 beyond two hops: score only the pairs that can be > 0
        two_hop = {w for u in graph[q] for w in graph[u]} - {q}
        ebunch = [(q, v) for v in sorted(two_hop)]
        fn = nx.adamic_adar_index if func == "adamic_adar" else nx.jaccard_coefficient
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


def _random_scorer(n: int, seed: int) -> Scorer:
    rng = np.random.default_rng(seed)

    def score(q: int) -> np.ndarray:
        return rng.random(n)
    return score


# --- ranking and metrics ----------------------------------------------------------------------


def _ranks(scores: np.ndarray, q: int, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Filtered ranks of ``targets`` (1 = best; ties count half)."""
    mask = np.ones(len(scores), dtype=bool)
    mask[q] = False
    mask[known] = False
    mask[targets] = False
    neg = np.sort(scores[mask])
    t = scores[targets]
    right = np.searchsorted(neg, t, side="right")
    left = np.searchsorted(neg, t, side="left")
    greater = len(neg) - right
    equal = right - left
    return 1.0 + greater + equal / 2.0


def _metrics(ranks: np.ndarray) -> MethodScores:
    if len(ranks) == 0:
        return MethodScores(hits_at_10=0, hits_at_50=0, mrr=0, ndcg_at_10=0)
    return MethodScores(
        hits_at_10=round(float(np.mean(ranks <= 10)), 4),
        hits_at_50=round(float(np.mean(ranks <= 50)), 4),
        mrr=round(float(np.mean(1.0 / ranks)), 4),
        ndcg_at_10=round(float(np.mean(np.where(ranks <= 10, 1.0 / np.log2(ranks + 1), 0.0))), 4),
    )


def _queries(proj: Projection, test_pairs: list[tuple[str, str]], direction: Direction,
             max_queries: int, seed: int) -> dict[int, np.ndarray]:
    """query company → its held-out partners (indices), sampled to ``max_queries``."""
    groups: dict[int, list[int]] = {}
    for s_id, b_id in test_pairs:
        s, b = proj.company_index.get(s_id), proj.company_index.get(b_id)
        if s is None or b is None:
            continue
        q, t = (s, b) if direction == "buyers" else (b, s)
        groups.setdefault(q, []).append(t)
    keys = sorted(groups)
    if len(keys) > max_queries:
        rng = np.random.default_rng(seed)
        keys = sorted(int(k) for k in rng.choice(keys, size=max_queries, replace=False))
    return {q: np.array(sorted(groups[q]), dtype=np.int64) for q in keys}


def _known(proj: Projection, q: int, direction: Direction) -> np.ndarray:
    ix = match_index(proj)
    m = ix.A if direction == "buyers" else ix.AT
    return m.indices[m.indptr[q]:m.indptr[q + 1]]


def _run(proj: Projection, queries: dict[int, np.ndarray], direction: Direction,
         scorer: Scorer) -> np.ndarray:
    ranks = [_ranks(scorer(q), q, _known(proj, q, direction), t) for q, t in queries.items()]
    return np.concatenate(ranks) if ranks else np.zeros(0)


# --- fitting --------------------------------------------------------------------------------

_GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


@dataclass
class _Prepared:
    """One inner fold's candidates, stacked over its queries, ready for any weight vector.

    Pairs are sorted by (query, partner) so that a partner's best pair is one
    ``np.maximum.reduceat`` over ``starts``; each partner group knows its query
    and whether it counts as a negative (not the query, not a training partner,
    not a held-out one); each held-out partner knows its group (−1: not a
    candidate, scored −∞) and the number of companies it is ranked among.
    """

    values: np.ndarray  # pairs × FACTORS
    starts: np.ndarray  # first pair of each (query, partner) group
    group_query: np.ndarray
    negative: np.ndarray  # per group
    target_group: np.ndarray  # per held-out partner
    target_query: np.ndarray
    remaining: np.ndarray  # per held-out partner: companies left in its ranking
    n_queries: int


def _prepare(proj: Projection, queries: dict[int, np.ndarray], direction: Direction
             ) -> _Prepared:
    values, starts, gq, neg, tg, tq, rem = [], [], [], [], [], [], []
    offset = n_groups = 0
    n = proj.n_companies
    for qi, (q, targets) in enumerate(queries.items()):
        pairs = candidate_pairs(proj, q, direction, profile=DEFAULT_PROFILE)
        assert pairs.values is not None
        order = np.argsort(pairs.partner, kind="stable")
        partner = pairs.partner[order]
        head = np.flatnonzero(np.r_[True, partner[1:] != partner[:-1]]) if len(partner) \
            else np.zeros(0, dtype=np.int64)
        groups = partner[head]
        excluded = np.zeros(n, dtype=bool)
        excluded[q] = True
        excluded[_known(proj, q, direction)] = True
        excluded[targets] = True
        values.append(pairs.values[order])
        starts.append(head + offset)
        gq.append(np.full(len(groups), qi))
        neg.append(~excluded[groups])
        where = np.searchsorted(groups, targets)
        found = (where < len(groups)) & (groups[np.minimum(where, max(len(groups) - 1, 0))]
                                         == targets) if len(groups) else \
            np.zeros(len(targets), dtype=bool)
        tg.append(np.where(found, where + n_groups, -1))
        tq.append(np.full(len(targets), qi))
        rem.append(np.full(len(targets), n - int(excluded.sum())))
        offset += len(partner)
        n_groups += len(groups)
    cat = np.concatenate
    return _Prepared(cat(values) if values else np.zeros((0, len(FACTORS))),
                     cat(starts).astype(np.int64), cat(gq), cat(neg).astype(bool),
                     cat(tg).astype(np.int64), cat(tq), cat(rem), len(queries))


def _mrr_for(prep: _Prepared, w: np.ndarray) -> float:
    """Mean filtered reciprocal rank (ties count half) of the held-out partners under ``w``."""
    if len(prep.target_group) == 0:
        return 0.0
    total = prep.values @ w
    best = np.maximum.reduceat(total, prep.starts) if len(prep.starts) else np.zeros(0)
    # negatives sorted by (query, score); a target's rank counts the higher ones in its query
    span = float(np.abs(best).max(initial=0.0)) * 2 + 1.0
    nq = prep.group_query[prep.negative]
    key = np.sort(nq * span + best[prep.negative])
    seg_end = np.searchsorted(key, np.arange(prep.n_queries) * span + span / 2, side="right")
    seg_len = np.diff(np.r_[0, seg_end]) if prep.n_queries else np.zeros(0, dtype=np.int64)
    tq = prep.target_query
    found = prep.target_group >= 0
    t_key = tq * span + np.where(found, best[np.maximum(prep.target_group, 0)], 0.0)
    right = np.searchsorted(key, t_key, side="right")
    left = np.searchsorted(key, t_key, side="left")
    greater = np.where(found, seg_end[tq] - right, seg_len[tq])
    equal = np.where(found, right - left, prep.remaining - seg_len[tq])
    ranks = 1.0 + greater + equal / 2.0
    return float(np.mean(1.0 / ranks))


def fit_profile(train: Snapshot, *, direction: Direction = "buyers", folds: int = 3,
                frac: float = 0.2, seed: int = 0, max_queries: int = 300,
                passes: int = 2) -> tuple[WeightProfile, float]:
    """Fit weights on ``train`` by coordinate search on the inner-fold MRR.

    Returns the fitted profile and its mean MRR over the inner folds.
    """
    prepared = []
    for fold in range(folds):
        inner = split_links(train, "random", frac, seed + 1000 + fold)
        proj = Projection.from_snapshot(inner.train)
        qs = _queries(proj, inner.test_pairs, direction, max_queries, seed + fold)
        prepared.append(_prepare(proj, qs, direction))
    w = DEFAULT_PROFILE.vector().copy()

    def objective(vec: np.ndarray) -> float:
        return float(np.mean([_mrr_for(p, vec) for p in prepared]))

    best = objective(w)
    for _ in range(passes):
        improved = False
        for f in range(len(FACTORS)):
            for value in _GRID:
                if value == w[f]:
                    continue
                trial = w.copy()
                trial[f] = value
                if not trial.any():
                    continue
                got = objective(trial)
                if got > best + 1e-9:
                    best, w, improved = got, trial, True
        if not improved:
            break
    weights = {f: round(float(x), 4) for f, x in zip(FACTORS, w, strict=True) if x > 0}
    return WeightProfile(name="fitted", weights=weights,
                         description=f"coordinate search on {folds}-fold inner MRR"), best


# --- the whole run ---------------------------------------------------------------------------


def evaluate(snapshot: Snapshot, *, split: SplitKind = "random", frac: float = 0.2,
             seed: int = 0, direction: Direction = "buyers", max_queries: int = 500,
             profile: WeightProfile | str | None = None, fit: bool = False,
             baselines: tuple[str, ...] = BASELINES) -> EvalReport:
    """Hide links, rank, and compare the engine with the baselines (module docstring).

    Raises
    ------
    InvalidQuery
        bad ``frac``/``split``/``direction``, no supply links, or no dates for a time split.
    """
    if direction not in ("buyers", "suppliers"):
        raise InvalidQuery(f"direction must be buyers or suppliers, got {direction!r}")
    if max_queries < 1:
        raise InvalidQuery("max_queries must be at least 1")
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise InvalidQuery(f"unknown baseline(s) {unknown}; known: {', '.join(BASELINES)}")
    sp_ = split_links(snapshot, split, frac, seed)
    proj = Projection.from_snapshot(sp_.train)
    prof = resolve_profile(profile, proj)
    queries = _queries(proj, sp_.test_pairs, direction, max_queries, seed)
    n_test = sum(len(t) for t in queries.values())
    methods: dict[str, MethodScores] = {}
    methods["engine"] = _metrics(_run(proj, queries, direction,
                                      _engine_scorer(proj, direction, prof)))
    fitted: WeightProfile | None = None
    cv = None
    if fit:
        fitted, cv = fit_profile(sp_.train, direction=direction, seed=seed,
                                 max_queries=min(max_queries, 300))
        methods["engine_fitted"] = _metrics(_run(proj, queries, direction,
                                                 _engine_scorer(proj, direction, fitted)))
    graph = _undirected(proj)
    for name in baselines:
        if name in ("preferential_attachment", "adamic_adar", "jaccard"):
            scorer = _nx_scorer(graph, proj.n_companies, name)
        elif name == "item_cf":
            scorer = _item_cf_scorer(proj, direction)
        else:
            scorer = _random_scorer(proj.n_companies, seed)
        methods[name] = _metrics(_run(proj, queries, direction, scorer))
    base = [b for b in baselines if b in methods]
    best = max(base, key=lambda b: (methods[b].mrr, methods[b].hits_at_10)) if base else ""
    beats = bool(base) and all(
        methods["engine"].hits_at_10 > methods[b].hits_at_10
        and methods["engine"].mrr > methods[b].mrr for b in base)
    return EvalReport(
        split=split, direction=direction, frac=frac, seed=seed, cut_date=sp_.cut_date,
        n_train_links=sp_.n_train_links, n_test_pairs=n_test, n_queries=len(queries),
        methods=methods, best_baseline=best, engine_beats_best_baseline=beats,
        profile=prof.name, fitted_profile=dict(fitted.weights) if fitted else None,
        fit_cv_mrr=round(cv, 4) if cv is not None else None)


def _undirected(proj: Projection) -> nx.Graph:
    """The undirected training supply graph (networkx) for the baselines."""
    graph = nx.Graph()
    graph.add_nodes_from(range(proj.n_companies))
    coo = sp.coo_matrix(match_index(proj).A)
    graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    return graph
