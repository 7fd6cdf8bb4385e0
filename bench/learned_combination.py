"""A learned combination of the factors against the fitted linear profile (issue 11).

For each seed: hide 20 % of the supplier–buyer pairs (the evaluation's random
split), fit the linear profile on the training links (``fit_profile``, as
``coopgraph fit`` does), and train on an inner split *of the training links*:

* **LightGBM lambdarank** (``LGBMRanker``): one query group per supplier, its
  candidates (``candidate_pairs`` under the fitted profile, each partner's best
  pair) as rows, the 12 factor values as features, label 1 for a hidden buyer;
* **scikit-learn HistGradientBoostingClassifier** on the same rows (pointwise).

Both then re-rank the candidates of the outer held-out queries; companies that
are no candidate keep the engine's fallback order below them, so the three
rankers differ only in how they combine the factors. Metrics are the
evaluation's (filtered ranks, ties half), mean ± 95 % t half-width over the
seeds, and the paired difference against the linear profile.

Speed: a learned model cannot use the engine's pruned top-k (it needs every
candidate's features), so its cost per query is measured as ``predict`` on
``--speed-rows`` rows (the median candidate count at 100k companies: 24,652).

Needs the bench-only extra: ``pip install lightgbm scikit-learn`` (not a runtime
requirement of CoopGraph).

Usage: ``.venv/bin/python bench/learned_combination.py --data /tmp/gen3k [--seeds 5]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402
from coopgraph.queries.candidates import match_index  # noqa: E402
from coopgraph.queries.evaluate import (  # noqa: E402
    _known,
    _queries,
    _ranks,
    fit_profile,
    split_links,
)
from coopgraph.queries.factors import WeightProfile  # noqa: E402
from coopgraph.queries.match import best_per_partner, candidate_pairs, fallback_scores  # noqa: E402
from coopgraph.queries.projection import Projection  # noqa: E402


def _rows(proj: Projection, q: int, prof: WeightProfile) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Each candidate partner's best pair: partner, linear total, factor values."""
    pairs = candidate_pairs(proj, q, "buyers", profile=prof)
    best = best_per_partner(pairs)
    if len(best) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 12))
    assert pairs.total is not None and pairs.values is not None
    return pairs.partner[best], pairs.total[best], pairs.values[best]


def _training(proj: Projection, queries: dict[int, np.ndarray], prof: WeightProfile
              ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    xs, ys, groups = [], [], []
    for q, targets in queries.items():
        partner, _, values = _rows(proj, q, prof)
        label = np.isin(partner, targets).astype(int)
        if len(partner) < 2 or not label.any():
            continue  # a group without a positive teaches lambdarank nothing
        xs.append(values)
        ys.append(label)
        groups.append(len(partner))
    return np.vstack(xs), np.concatenate(ys), groups


def _mean_pm(v: list[float]) -> str:
    a = np.asarray(v)
    half = float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a))) \
        if len(a) > 1 else 0.0
    return f"{a.mean():.4f} ± {half:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-queries", type=int, default=200)
    parser.add_argument("--fit-queries", type=int, default=100)
    parser.add_argument("--speed-rows", type=int, default=24_652)
    args = parser.parse_args()
    import lightgbm as lgb
    from sklearn.ensemble import HistGradientBoostingClassifier

    store = EmbeddedStore(None)
    ingest_paths(store, [str(args.data)])
    snap = store.snapshot()
    scores: dict[str, dict[str, list[float]]] = {
        m: {"mrr": [], "hits10": []} for m in ("linear", "lgbm_lambdarank", "hgb")}
    models: dict[str, Any] = {}
    for seed in range(args.seeds):
        started = time.perf_counter()
        sp_ = split_links(snap, "random", 0.2, seed)
        fitted = fit_profile(sp_.train, folds=2, seed=seed, max_queries=args.fit_queries).profile
        inner = split_links(sp_.train, "random", 0.2, seed + 2000)
        iproj = Projection.from_snapshot(inner.train)
        x, y, groups = _training(iproj, _queries(iproj, inner.test_pairs, "buyers", 400, seed),
                                 fitted)
        ranker = lgb.LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.05,
                                num_leaves=15, min_child_samples=20, verbose=-1,
                                random_state=seed)
        ranker.fit(x, y, group=groups)
        hgb = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                             random_state=seed).fit(x, y)
        models = {"lgbm_lambdarank": ranker.predict,
                  "hgb": lambda v, m=hgb: m.predict_proba(v)[:, 1]}
        proj = Projection.from_snapshot(sp_.train)
        ix = match_index(proj)
        ranks: dict[str, list[np.ndarray]] = {m: [] for m in scores}
        for q, targets in _queries(proj, sp_.test_pairs, "buyers", args.max_queries,
                                   seed).items():
            partner, total, values = _rows(proj, q, fitted)
            base = fallback_scores(ix, q, "buyers", degree=fitted.fallback_degree)
            known = _known(proj, q, "buyers")
            for name in scores:
                out = base.copy()
                if len(partner):
                    if name == "linear":
                        got = total
                    else:
                        pred = models[name](values)
                        got = pred - pred.min()  # every candidate above the fallback (< 0)
                    out[partner] = got
                ranks[name].append(_ranks(out, q, known, targets))
        for name, r in ranks.items():
            cat = np.concatenate(r)
            scores[name]["mrr"].append(float(np.mean(1.0 / cat)))
            scores[name]["hits10"].append(float(np.mean(cat <= 10)))
        print(json.dumps({"seed": seed, "fitted_walk": [fitted.network_norm, fitted.beta,
                                                        fitted.fallback_degree],
                          "train_rows": len(y), "positives": int(y.sum()),
                          **{m: round(scores[m]["mrr"][-1], 4) for m in scores},
                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    for name in scores:
        diff = np.array(scores[name]["mrr"]) - np.array(scores["linear"]["mrr"])
        print(f"{name}: MRR {_mean_pm(scores[name]['mrr'])}, Hits@10 "
              f"{_mean_pm(scores[name]['hits10'])}, MRR − linear {_mean_pm(list(diff))}")
    rng = np.random.default_rng(0)
    rows = rng.random((args.speed_rows, 12))
    for name, predict in models.items():
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            predict(rows)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"{name}: predict on {args.speed_rows} rows: p50 {np.median(times):.1f} ms, "
              f"p95 {np.percentile(times, 95):.1f} ms")


if __name__ == "__main__":
    main()
