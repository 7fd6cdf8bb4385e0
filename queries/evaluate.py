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

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.answers import Answer, answers_from, before_answers
from coopgraph.queries.baselines import BASELINES, Scorer, baseline_scorer, undirected
from coopgraph.queries.candidates import match_index
from coopgraph.queries.factors import DEFAULT_PROFILE, FACTORS, WeightProfile, resolve_profile
from coopgraph.queries.match import best_per_partner, candidate_pairs, fallback_scores
from coopgraph.queries.network import cf_buyers, cf_suppliers
from coopgraph.queries.projection import Projection

__all__ = [
    "BASELINES",
    "AnswersReport",
    "EvalReport",
    "FitResult",
    "MethodScores",
    "SeedsReport",
    "Split",
    "answers_precision",
    "evaluate",
    "evaluate_seeds",
    "fit_profile",
    "fresh_revision",
    "split_links",
]

SplitKind = Literal["random", "time"]
Direction = Literal["buyers", "suppliers"]
VISIBLE = ("companies", "clusters and memberships", "taxonomy", "products and BOMs",
           "capabilities", "processes", "certificates", "imports", "needs",
           "training supply links")
#: a time split needs a ``since`` date on at least this share of the supplier–buyer pairs
MIN_DATED_SHARE = 0.5
_REVISIONS = itertools.count(1)


def fresh_revision() -> int:
    """A revision no store reports (negative): a training snapshot is never mistaken for the
    full graph by a cache keyed on revisions."""
    return -next(_REVISIONS)


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
        if len(first) < max(10, MIN_DATED_SHARE * len(pairs)) or len(set(first.values())) < 2:
            raise InvalidQuery(
                f"a time split needs real 'since' dates: {len(first)} of {len(pairs)} supplier–"
                f"buyer pairs carry one ({len(set(first.values()))} distinct); at least "
                f"{MIN_DATED_SHARE:.0%} and two distinct dates are needed")
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
    train = Snapshot(revision=fresh_revision(), tables=tables)
    return Split(train=train, test_pairs=sorted(test), cut_date=cut, n_train_links=len(keep))


# --- scorers: each returns a dense score vector over companies for one query -----------------

def _engine_scorer(proj: Projection, direction: Direction, profile: WeightProfile) -> Scorer:
    ix = match_index(proj)

    def score(q: int) -> np.ndarray:
        pairs = candidate_pairs(proj, q, direction, profile=profile)
        # below the candidates: the popularity fallback rank_buyers fills a short list with
        out = fallback_scores(ix, q, direction, degree=profile.fallback_degree)
        best = best_per_partner(pairs)
        if len(best):
            assert pairs.total is not None
            out[pairs.partner[best]] = pairs.total[best]
        return out
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
#: the network walk's parameters the fitter tries (degree penalty, RP3β, recency half-life)
NETWORK_GRID: tuple[tuple[str, float, float | None], ...] = tuple(
    (norm, beta, half) for norm in ("degree", "log") for beta in (0.0, 0.5)
    for half in (None, 365.0))
#: the fallback orders the fitter tries (queries.match.fallback_scores ``degree``)
FALLBACK_DEGREES: tuple[str, ...] = ("side", "both", "flat")
#: below this many supplier–buyer pairs the history is too small to fit: the default is kept
MIN_FIT_PAIRS = 200
UNIFORM_WEIGHT = 0.2


@dataclass
class _Prepared:
    """One inner fold's candidates, stacked over its queries, ready for any weight vector.

    Pairs are sorted by (query, partner) so that a partner's best pair is one
    ``np.maximum.reduceat`` over ``starts``; each partner group knows its query
    and whether it counts as a negative (not the query, not a training partner,
    not a held-out one); each held-out partner knows its group (−1: not a
    candidate, scored −∞) and the number of companies it is ranked among.
    ``pair_query``/``pair_partner`` let the network column be recomputed for
    other walk parameters (:func:`_network_column`).
    """

    values: np.ndarray  # pairs × FACTORS
    starts: np.ndarray  # first pair of each (query, partner) group
    group_query: np.ndarray
    negative: np.ndarray  # per group
    target_group: np.ndarray  # per held-out partner
    target_query: np.ndarray
    remaining: np.ndarray  # per non-candidate held-out partner: its ties in the fallback order
    n_queries: int
    pair_query: np.ndarray | None = None
    pair_partner: np.ndarray | None = None
    proj: Projection | None = None
    query_ids: list[int] | None = None
    direction: Direction = "buyers"
    fallback_above: np.ndarray | None = None  # per non-candidate target: fallback ranks above
    #: (fallback_above, remaining) under each fallback degree (queries.match.fallback_scores)
    fallback_by: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def use_fallback(self, degree: str) -> None:
        """Rank the non-candidate targets in the fallback order by ``degree``."""
        if self.fallback_by is not None:
            self.fallback_above, self.remaining = self.fallback_by[degree]


def _prepare(proj: Projection, queries: dict[int, np.ndarray], direction: Direction
             ) -> _Prepared:
    values, starts, gq, neg, tg, tq, pq, pp = [], [], [], [], [], [], [], []
    fb_parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {
        d: ([], []) for d in FALLBACK_DEGREES}
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
        # a target that is not a candidate is ranked below every candidate in the fallback
        # order (as the engine fills a short list)
        others = ~excluded
        others[groups] = False
        for degree, (fbg, rem) in fb_parts.items():
            fb = fallback_scores(match_index(proj), q, direction,
                                 degree=degree)  # type: ignore[arg-type]
            tail = np.sort(fb[others])
            t_fb = fb[targets]
            right = np.searchsorted(tail, t_fb, side="right")
            left = np.searchsorted(tail, t_fb, side="left")
            fbg.append(len(tail) - right)
            rem.append(right - left)
        pq.append(np.full(len(partner), qi))
        pp.append(partner)
        offset += len(partner)
        n_groups += len(groups)
    cat = np.concatenate
    empty = np.zeros(0, dtype=np.int64)
    by = {d: (cat(fbg) if fbg else empty, cat(rem) if rem else empty)
          for d, (fbg, rem) in fb_parts.items()}
    return _Prepared(cat(values) if values else np.zeros((0, len(FACTORS))),
                     cat(starts).astype(np.int64) if starts else empty,
                     cat(gq) if gq else empty, cat(neg).astype(bool) if neg else empty,
                     cat(tg).astype(np.int64) if tg else empty, cat(tq) if tq else empty,
                     by["side"][1], len(queries),
                     cat(pq) if pq else empty, cat(pp) if pp else empty, proj,
                     list(queries), direction, by["side"][0], by)


def _network_column(prep: _Prepared, norm: str, beta: float, half: float | None
                    ) -> np.ndarray:
    """The ``network`` factor of every prepared pair under other walk parameters.

    As the engine computes it: the walk's score over the strongest candidate's
    (neither the query company nor a current partner).
    """
    assert prep.proj is not None and prep.query_ids is not None
    assert prep.pair_query is not None and prep.pair_partner is not None
    ix = match_index(prep.proj)
    walk = cf_buyers if prep.direction == "buyers" else cf_suppliers
    out = np.zeros(len(prep.pair_partner))
    bounds = np.searchsorted(prep.pair_query, np.arange(prep.n_queries + 1))
    for qi, q in enumerate(prep.query_ids):
        lo, hi = bounds[qi], bounds[qi + 1]
        if lo == hi:
            continue
        z = walk(ix, q, beta, norm=norm, half_life_days=half)  # type: ignore[arg-type]
        others = z.copy()
        others[q] = 0.0
        others[_known(prep.proj, q, prep.direction)] = 0.0
        zmax = float(others.max(initial=0.0))
        if zmax > 0:
            out[lo:hi] = np.minimum(z[prep.pair_partner[lo:hi]] / zmax, 1.0)
    return out


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
    above = prep.fallback_above if prep.fallback_above is not None else 0
    greater = np.where(found, seg_end[tq] - right, seg_len[tq] + above)
    equal = np.where(found, right - left, prep.remaining)
    ranks = 1.0 + greater + equal / 2.0
    return float(np.mean(1.0 / ranks))


class FitResult(BaseModel):
    """What ``coopgraph fit`` chose, and why (stored beside the fitted profile)."""

    profile: WeightProfile
    cv_mrr: float = Field(description="Mean inner-fold MRR of the chosen profile")
    default_cv_mrr: float = Field(description="The same folds scored by the default profile")
    used_default: bool
    reason: str
    n_pairs: int
    folds: int
    n_held_out: int = Field(description="Held-out pairs over the inner folds")
    tried: list[dict[str, float | str | None]] = Field(
        default_factory=list, description="Each network setting tried, with its inner MRR")
    evaluations: int = Field(default=0, description="Weight vectors scored on the folds")
    n_answers_agreed: int = Field(
        default=0, description="Agreed supply requests used as positives (--use-answers)")
    n_answers_declined: int = Field(
        default=0, description="Declined supply requests used as negatives (--use-answers)")


def _coordinate_search(objective: Callable[[np.ndarray], float], start: np.ndarray,
                       passes: int, only: tuple[int, ...] | None = None
                       ) -> tuple[np.ndarray, float]:
    w = start.copy()
    best = objective(w)
    for _ in range(passes):
        improved = False
        for f in only if only is not None else range(len(FACTORS)):
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
    return w, best


def fit_profile(train: Snapshot, *, direction: Direction = "buyers", folds: int = 3,
                frac: float = 0.2, seed: int = 0, max_queries: int = 200,
                passes: int = 2, base: WeightProfile | None = None,
                search: Literal["staged", "full"] = "staged",
                answers: list[Answer] | None = None) -> FitResult:
    """Fit weights and the network walk's parameters on ``train`` by an inner split.

    The training pairs are split ``folds`` times at random (seeds ``seed +
    1000 + fold``), each fold ranked for at most ``max_queries`` sampled
    queries. Three stages maximise the mean inner MRR: (1) a coordinate
    search over each factor's weight on a fixed grid, starting from uniform
    weights (:data:`UNIFORM_WEIGHT`, not from the current default), under the
    default's network walk; (2) each network setting of :data:`NETWORK_GRID`
    (degree penalty, β, recency half-life — recency only when links carry
    dates) with those weights, the network weight searched again; (3) one more
    pass over every weight under the best setting. ``search="full"`` is the
    earlier way — a full coordinate search from uniform weights per setting,
    ~4× the work (``bench/fit_default.py --compare-full`` times both). The best
    setting wins when it beats the default profile (``base``, by default the
    one the engine would pick) on the same folds; otherwise the default is
    kept, and ``reason`` says so. With fewer than :data:`MIN_FIT_PAIRS` pairs nothing is fitted.

    ``answers`` (answered supply requests, :func:`queries.answers.answers_from`)
    add one more term to the objective, weighted as one inner fold: on the
    graph without the answered pairs' links, the MRR of the agreed partners
    minus the MRR of the declined ones (each query company ranking every
    company) — agreed pairs pull their partners up, declined ones push them down.
    """
    rows = train.rows(EntityKind.SUPPLY)
    n_pairs = len({(str(r["supplier_id"]), str(r["buyer_id"])) for r in rows})
    full = Projection.from_snapshot(train)
    default = base or resolve_profile(None, full)
    if n_pairs < MIN_FIT_PAIRS:
        return FitResult(profile=default, cv_mrr=0.0, default_cv_mrr=0.0, used_default=True,
                         reason=f"history too small to fit: {n_pairs} supplier–buyer pairs, "
                                f"at least {MIN_FIT_PAIRS} needed; the default profile is used",
                         n_pairs=n_pairs, folds=0, n_held_out=0)
    dated = sum(1 for r in rows if r.get("since")) >= MIN_DATED_SHARE * len(rows)
    prepared = []
    for fold in range(folds):
        inner = split_links(train, "random", frac, seed + 1000 + fold)
        proj = Projection.from_snapshot(inner.train)
        qs = _queries(proj, inner.test_pairs, direction, max_queries, seed + fold)
        prepared.append(_prepare(proj, qs, direction))
    n_held = int(sum(len(p.target_group) for p in prepared))
    net = FACTORS.index("network")
    answer_preps = _answer_folds(train, answers or [], direction)
    n_answers = {sign: len(p.target_group) for p, sign in answer_preps}

    def with_network(norm: str, beta: float, half: float | None, fb: str = "side") -> None:
        for p in [*prepared, *(a for a, _ in answer_preps)]:
            p.values[:, net] = _network_column(p, norm, beta, half)
            p.use_fallback(fb)

    evaluations = 0

    def objective(vec: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        inner = sum(_mrr_for(p, vec) for p in prepared)
        if not answer_preps:
            return float(inner / len(prepared))
        extra = sum(sign * _mrr_for(p, vec) for p, sign in answer_preps)
        return float((inner + extra) / (len(prepared) + 1))

    with_network(default.network_norm, default.beta, default.half_life_days,
                 default.fallback_degree)
    default_mrr = objective(default.vector())
    uniform = np.full(len(FACTORS), UNIFORM_WEIGHT)
    # stage 1: the weights, by coordinate search from uniform, under the default's walk
    w0 = _coordinate_search(objective, uniform, passes)[0] if search == "staged" else uniform
    # stage 2: every walk setting with those weights, the network weight searched again
    # (each with either fallback order: the degree on the side ranked, or both degrees)
    tried: list[dict[str, float | str | None]] = []
    best: tuple[float, np.ndarray, tuple[str, float, float | None, str]] | None = None
    for (norm, beta, half), fb in itertools.product(NETWORK_GRID, FALLBACK_DEGREES):
        if half is not None and not dated:
            continue
        with_network(norm, beta, half, fb)
        w, got = _coordinate_search(objective, w0, 1, only=(net,)) if search == "staged" \
            else _coordinate_search(objective, uniform, passes)
        tried.append({"network_norm": norm, "beta": beta, "half_life_days": half,
                      "fallback_degree": fb, "cv_mrr": round(got, 4)})
        if best is None or got > best[0] + 1e-9:
            best = (got, w, (norm, beta, half, fb))
    assert best is not None
    if search == "staged":
        # stage 3: one more pass over every weight under the best walk
        with_network(*best[2])
        w, got = _coordinate_search(objective, best[1], 1)
        best = (max(got, best[0]), w if got > best[0] else best[1], best[2])
    assert best is not None
    got, w, (norm, beta, half, fb) = best
    used = {"n_answers_agreed": n_answers.get(1.0, 0), "n_answers_declined": n_answers.get(-1.0, 0)}
    if got <= default_mrr + 1e-9:
        return FitResult(
            profile=default, cv_mrr=round(default_mrr, 4), default_cv_mrr=round(default_mrr, 4),
            used_default=True, n_pairs=n_pairs, folds=folds, n_held_out=n_held, tried=tried,
            evaluations=evaluations, **used,
            reason=f"the best fitted setting ({norm}, β {beta}, half-life {half}) reached inner "
                   f"MRR {got:.4f}, not above the default profile's {default_mrr:.4f}: the "
                   f"default is kept")
    weights = {f: round(float(x), 4) for f, x in zip(FACTORS, w, strict=True) if x > 0}
    profile = WeightProfile(
        name="fitted", weights=weights, network_norm=norm,  # type: ignore[arg-type]
        beta=beta, half_life_days=half, fallback_degree=fb,  # type: ignore[arg-type]
        description=f"coordinate search from uniform weights on {folds}-fold inner MRR over "
                    f"{n_pairs} supplier–buyer pairs (coopgraph.queries.evaluate.fit_profile)")
    return FitResult(
        profile=profile, cv_mrr=round(got, 4), default_cv_mrr=round(default_mrr, 4),
        used_default=False, n_pairs=n_pairs, folds=folds, n_held_out=n_held, tried=tried,
        evaluations=evaluations, **used,
        reason=f"inner MRR {got:.4f} against the default profile's {default_mrr:.4f} on the same "
               f"{folds} folds ({n_held} held-out pairs)"
               + (f" and the answered requests ({used['n_answers_agreed']} agreed, "
                  f"{used['n_answers_declined']} declined: agreed minus declined MRR as one "
                  f"more fold)" if answer_preps else ""))


def _answer_folds(train: Snapshot, answers: list[Answer], direction: Direction
                  ) -> list[tuple[_Prepared, float]]:
    """The agreed (+1) and declined (−1) pairs ranked on ``train`` without their links."""
    if not answers:
        return []
    proj = Projection.from_snapshot(before_answers(train, answers, fresh_revision()))
    out: list[tuple[_Prepared, float]] = []
    for agreed, sign in ((True, 1.0), (False, -1.0)):
        groups: dict[int, set[int]] = {}
        for a in answers:
            s, b = proj.company_index.get(a.supplier_id), proj.company_index.get(a.buyer_id)
            if a.agreed != agreed or s is None or b is None:
                continue
            q, t = (s, b) if direction == "buyers" else (b, s)
            groups.setdefault(q, set()).add(t)
        if groups:
            qs = {q: np.array(sorted(t), dtype=np.int64) for q, t in sorted(groups.items())}
            out.append((_prepare(proj, qs, direction), sign))
    return out


# --- the whole run ---------------------------------------------------------------------------


def _check(direction: str, max_queries: int, baselines: tuple[str, ...]) -> None:
    if direction not in ("buyers", "suppliers"):
        raise InvalidQuery(f"direction must be buyers or suppliers, got {direction!r}")
    if max_queries < 1:
        raise InvalidQuery("max_queries must be at least 1")
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise InvalidQuery(f"unknown baseline(s) {unknown}; known: {', '.join(BASELINES)}")


@dataclass
class _SplitRanks:
    """Per method, per query: the filtered ranks of its held-out partners."""

    ranks: dict[str, list[np.ndarray]]
    n_train_links: int
    cut_date: str | None
    profile: str
    fitted: WeightProfile | None = None
    cv: float | None = None


def _rank_split(sp_: Split, *, direction: Direction, max_queries: int, seed: int,
                profile: WeightProfile | str | None, fit: bool,
                baselines: tuple[str, ...]) -> _SplitRanks:
    proj = Projection.from_snapshot(sp_.train)
    prof = resolve_profile(profile, proj)
    queries = _queries(proj, sp_.test_pairs, direction, max_queries, seed)

    def run(scorer: Scorer) -> list[np.ndarray]:
        return [_ranks(scorer(q), q, _known(proj, q, direction), t) for q, t in queries.items()]

    out: dict[str, list[np.ndarray]] = {"engine": run(_engine_scorer(proj, direction, prof))}
    fitted: WeightProfile | None = None
    cv = None
    if fit:
        result = fit_profile(sp_.train, direction=direction, seed=seed,
                             max_queries=min(max_queries, 300))
        fitted, cv = result.profile, result.cv_mrr
        out["engine_fitted"] = run(_engine_scorer(proj, direction, fitted))
    graph = undirected(proj) if {"preferential_attachment", "adamic_adar", "jaccard"} \
        & set(baselines) else None
    for name in baselines:
        out[name] = run(baseline_scorer(name, proj, direction, seed=seed, graph=graph))
    return _SplitRanks(out, sp_.n_train_links, sp_.cut_date, prof.name, fitted, cv)


def _cat(ranks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(ranks) if ranks else np.zeros(0)


def evaluate(snapshot: Snapshot, *, split: SplitKind = "random", frac: float = 0.2,
             seed: int = 0, direction: Direction = "buyers", max_queries: int = 500,
             profile: WeightProfile | str | None = None, fit: bool = False,
             baselines: tuple[str, ...] = BASELINES) -> EvalReport:
    """Hide links, rank, and compare the engine with the baselines: one seed.

    :func:`evaluate_seeds` is the report to quote (means and intervals over seeds).

    Raises
    ------
    InvalidQuery
        bad ``frac``/``split``/``direction``, no supply links, or no dates for a time split.
    """
    _check(direction, max_queries, baselines)
    sp_ = split_links(snapshot, split, frac, seed)
    got = _rank_split(sp_, direction=direction, max_queries=max_queries, seed=seed,
                      profile=profile, fit=fit, baselines=baselines)
    methods = {name: _metrics(_cat(r)) for name, r in got.ranks.items()}
    base = [b for b in baselines if b in methods]
    best = max(base, key=lambda b: (methods[b].mrr, methods[b].hits_at_10)) if base else ""
    beats = bool(base) and all(
        methods["engine"].hits_at_10 > methods[b].hits_at_10
        and methods["engine"].mrr > methods[b].mrr for b in base)
    return EvalReport(
        split=split, direction=direction, frac=frac, seed=seed, cut_date=sp_.cut_date,
        n_train_links=sp_.n_train_links, n_test_pairs=len(_cat(got.ranks["engine"])),
        n_queries=len(got.ranks["engine"]),
        methods=methods, best_baseline=best, engine_beats_best_baseline=beats,
        profile=got.profile, fitted_profile=dict(got.fitted.weights) if got.fitted else None,
        fit_cv_mrr=round(got.cv, 4) if got.cv is not None else None)


# --- several seeds, with intervals ----------------------------------------------------------

METRICS = ("hits_at_10", "hits_at_50", "mrr", "ndcg_at_10")


class Interval(BaseModel):
    """A mean over seeds and its 95 % interval."""

    mean: float
    lo: float
    hi: float


class MethodSummary(BaseModel):
    """One method's metrics over the seeds."""

    hits_at_10: Interval
    hits_at_50: Interval
    mrr: Interval
    ndcg_at_10: Interval


class SeedsReport(BaseModel):
    """One split evaluated over several seeds: every figure a mean with a 95 % interval."""

    split: SplitKind
    direction: Direction
    frac: float
    seeds: list[int]
    interval: str = Field(description="How the intervals are made")
    cut_date: str | None = None
    n_train_links: int
    n_test_pairs: float = Field(description="Held-out pairs ranked, mean per seed")
    n_queries: float
    profile: str
    methods: dict[str, MethodSummary]
    best_baseline: str = Field(description="The baseline with the best mean MRR")
    engine_minus_best: MethodSummary = Field(
        description="Paired difference engine − best baseline, per seed")
    verdict: Literal["wins", "level", "loses"] = Field(
        description="On MRR against the best baseline: wins when the paired interval is above "
        "0, loses when below, else level")
    visible: list[str] = Field(default_factory=lambda: list(VISIBLE))


def _interval(values: np.ndarray) -> Interval:
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return Interval(mean=round(mean, 4), lo=round(mean, 4), hi=round(mean, 4))
    from scipy import stats  # here: importing scipy.stats costs ~1 s every CLI call pays

    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return Interval(mean=round(mean, 4), lo=round(mean - half, 4), hi=round(mean + half, 4))


def _summary(per_seed: list[MethodScores]) -> MethodSummary:
    return MethodSummary(**{m: _interval(np.array([getattr(x, m) for x in per_seed]))
                            for m in METRICS})


def evaluate_seeds(snapshot: Snapshot, *, split: SplitKind = "random", seeds: int = 5,
                   frac: float = 0.2, direction: Direction = "buyers", max_queries: int = 500,
                   profile: WeightProfile | str | None = None, fit: bool = False,
                   baselines: tuple[str, ...] = BASELINES) -> SeedsReport:
    """The engine against every baseline over ``seeds`` seeds, with 95 % intervals.

    Random split: each seed draws its own split and query sample; the interval
    is Student's t over the seeds. Time split: the split is the same for every
    seed (the dates fix it), so each seed is a bootstrap resample of the query
    companies (with replacement) of one ranking; the interval is the t interval
    over those resamples. The engine-minus-best-baseline difference is paired
    (same seed, same queries). ``fit`` adds ``engine_fitted``: the profile
    fitted (:func:`fit_profile`) on each seed's training links only.

    Raises
    ------
    InvalidQuery
        as :func:`evaluate`; ``seeds`` below 1.
    """
    _check(direction, max_queries, baselines)
    if seeds < 1:
        raise InvalidQuery("seeds must be at least 1")
    per_seed: list[dict[str, MethodScores]] = []
    n_test: list[int] = []
    n_q: list[int] = []
    if split == "time":
        sp_ = split_links(snapshot, "time", frac, 0)
        got = _rank_split(sp_, direction=direction, max_queries=max_queries, seed=0,
                          profile=profile, fit=fit, baselines=baselines)
        nq = len(got.ranks["engine"])
        for seed in range(seeds):
            pick = np.random.default_rng(seed).integers(0, nq, size=nq) if nq else \
                np.zeros(0, dtype=np.int64)
            per_seed.append({name: _metrics(_cat([r[int(i)] for i in pick]))
                             for name, r in got.ranks.items()})
            n_test.append(sum(len(got.ranks["engine"][int(i)]) for i in pick))
            n_q.append(nq)
        how = f"t over {seeds} bootstrap resamples of the query companies (one time split)"
        cut, n_train, prof_name = got.cut_date, got.n_train_links, got.profile
    else:
        cut, n_train, prof_name = None, 0, ""
        for seed in range(seeds):
            sp_ = split_links(snapshot, split, frac, seed)
            got = _rank_split(sp_, direction=direction, max_queries=max_queries, seed=seed,
                              profile=profile, fit=fit, baselines=baselines)
            per_seed.append({name: _metrics(_cat(r)) for name, r in got.ranks.items()})
            n_test.append(len(_cat(got.ranks["engine"])))
            n_q.append(len(got.ranks["engine"]))
            n_train, prof_name = got.n_train_links, got.profile
        how = f"t over {seeds} seeds (each its own random split and query sample)"
    methods = {name: _summary([x[name] for x in per_seed]) for name in per_seed[0]}
    base = [b for b in baselines if b in methods]
    best = max(base, key=lambda b: (methods[b].mrr.mean, methods[b].hits_at_10.mean)) \
        if base else "engine"
    diff = [MethodScores(**{m: getattr(x["engine"], m) - getattr(x[best], m) for m in METRICS})
            for x in per_seed]
    gap = _summary(diff)
    verdict: Literal["wins", "level", "loses"] = (
        "wins" if gap.mrr.lo > 0 else "loses" if gap.mrr.hi < 0 else "level")
    return SeedsReport(
        split=split, direction=direction, frac=frac, seeds=list(range(seeds)), interval=how,
        cut_date=cut, n_train_links=n_train, n_test_pairs=float(np.mean(n_test)),
        n_queries=float(np.mean(n_q)), profile=prof_name, methods=methods,
        best_baseline=best, engine_minus_best=gap, verdict=verdict)


# --- answered requests as labels (issue 13, item 4) ------------------------------------------


class AnswersReport(BaseModel):
    """The engine's precision on answered supply requests (agreed = positive, declined = not)."""

    direction: Direction
    k: int
    profile: str
    n_agreed: int = Field(description="Agreed supply requests whose two companies are in the graph")
    n_declined: int
    agreed_in_top_k: int = Field(description="Agreed pairs the engine ranks in its top k")
    declined_in_top_k: int
    precision_at_k: float | None = Field(
        description="Of the answered pairs the engine ranks in its top k, the share agreed "
        "(None when it ranks none of them there)")
    base_rate: float | None = Field(description="The share agreed among all answered pairs")
    mrr_agreed: float | None = None
    mrr_declined: float | None = None
    note: str = Field(description="How the figures are made and what they cannot say")


def answers_precision(snapshot: Snapshot, *, direction: Direction = "buyers", k: int = 10,
                      profile: WeightProfile | str | None = None) -> AnswersReport | None:
    """Rank each answered pair on the graph before its answer; ``None`` without answers.

    For every agreed or declined supply request (:func:`queries.answers.answers_from`)
    the query company (the supplier; with ``direction="suppliers"`` the buyer)
    ranks every company on the graph without the answered pairs' supply links
    (:func:`queries.answers.before_answers`), as ``rank_buyers`` would (the
    popularity fallback included). A pair is *in the top k* when its partner is
    among the first ``k`` (its other answered partners compete, its current
    partners do not; ties count half). Precision@k: agreed ÷ (agreed + declined)
    in the top k.
    """
    _check(direction, 1, ())
    if k < 1:
        raise InvalidQuery(f"k must be at least 1, got {k}")
    answers = answers_from(snapshot)
    if not answers:
        return None
    proj = Projection.from_snapshot(before_answers(snapshot, answers, fresh_revision()))
    prof = resolve_profile(profile, proj)
    scorer = _engine_scorer(proj, direction, prof)
    by_query: dict[int, list[tuple[int, bool]]] = {}
    for a in answers:
        s, b = proj.company_index.get(a.supplier_id), proj.company_index.get(a.buyer_id)
        if s is None or b is None:
            continue
        q, t = (s, b) if direction == "buyers" else (b, s)
        by_query.setdefault(q, []).append((t, a.agreed))
    rr: dict[bool, list[float]] = {True: [], False: []}
    top: dict[bool, int] = {True: 0, False: 0}
    for q, pairs in sorted(by_query.items()):
        scores = scorer(q)
        known = _known(proj, q, direction)
        for t, agreed in pairs:
            rank = float(_ranks(scores, q, known, np.array([t], dtype=np.int64))[0])
            rr[agreed].append(1.0 / rank)
            top[agreed] += rank <= k
    n_agreed, n_declined = len(rr[True]), len(rr[False])
    if n_agreed + n_declined == 0:
        return None
    in_top = top[True] + top[False]
    return AnswersReport(
        direction=direction, k=k, profile=prof.name, n_agreed=n_agreed, n_declined=n_declined,
        agreed_in_top_k=top[True], declined_in_top_k=top[False],
        precision_at_k=round(top[True] / in_top, 4) if in_top else None,
        base_rate=round(n_agreed / (n_agreed + n_declined), 4),
        mrr_agreed=round(float(np.mean(rr[True])), 4) if rr[True] else None,
        mrr_declined=round(float(np.mean(rr[False])), 4) if rr[False] else None,
        note="each answered pair ranked on the graph without the answered pairs' supply links; "
             "requests mostly start from recommendations, so these pairs are a biased sample: "
             "the figure says how often the engine's top-k picks were agreed, not how it ranks "
             "pairs nobody asked about")
