"""Experiment: matrix factorisation (``implicit`` ALS and BPR) beside the engine, Willems chains.

``implicit`` is **not** a dependency (it did not win: see BENCHMARKS.md); install it to
re-run: ``.venv/bin/pip install implicit`` (0.7.3 was measured). For each chain, five
random 20 % splits (:func:`queries.evaluate.split_links`, seeds 0–4), the same
queries and filtered ranks as ``coopgraph evaluate``; printed: mean MRR and the 95 %
half-width (Student's t over the seeds) of the engine (its automatic profile), RP3β,
ALS (64 factors, regularisation 0.05, 15 iterations, confidence 20) and BPR (64
factors, 100 iterations). One BLAS thread.

Usage: ``.venv/bin/python bench/implicit_als.py [chain ...]`` (default: 21 24 26 31 36)
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from willems_network import _chains, _snapshot  # noqa: E402

from coopgraph.queries.baselines import baseline_scorer  # noqa: E402
from coopgraph.queries.candidates import match_index  # noqa: E402
from coopgraph.queries.evaluate import (  # noqa: E402
    _engine_scorer,
    _known,
    _metrics,
    _queries,
    _ranks,
    split_links,
)
from coopgraph.queries.factors import resolve_profile  # noqa: E402
from coopgraph.queries.projection import Projection  # noqa: E402


def _mf_scorer(proj: Projection, kind: str, seed: int) -> Any:
    a = match_index(proj).A.tocsr().astype(np.float32)
    if kind == "als":
        model = importlib.import_module("implicit.als").AlternatingLeastSquares(
            factors=64, regularization=0.05, iterations=15, random_state=seed)
        model.fit(a * 20.0, show_progress=False)
    else:
        model = importlib.import_module("implicit.bpr").BayesianPersonalizedRanking(
            factors=64, iterations=100, random_state=seed)
        model.fit(a, show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda q: items @ users[q]


def main() -> None:
    chains = [int(c) for c in sys.argv[1:]] or [21, 24, 26, 31, 36]
    limits = importlib.import_module("threadpoolctl").threadpool_limits
    with limits(1):
        for chain, (stages, arcs) in _chains(300, chains).items():
            snap = _snapshot(stages, arcs)
            mrr: dict[str, list[float]] = {}
            for seed in range(5):
                split = split_links(snap, "random", 0.2, seed)
                proj = Projection.from_snapshot(split.train)
                queries = _queries(proj, split.test_pairs, "buyers", 300, seed)
                scorers = {
                    "engine": _engine_scorer(proj, "buyers", resolve_profile(None, proj)),
                    "rp3beta": baseline_scorer("rp3beta", proj, "buyers", seed=seed),
                    "als": _mf_scorer(proj, "als", seed), "bpr": _mf_scorer(proj, "bpr", seed)}
                for name, score in scorers.items():
                    ranks = np.concatenate([_ranks(score(q), q, _known(proj, q, "buyers"), t)
                                            for q, t in queries.items()])
                    mrr.setdefault(name, []).append(_metrics(ranks).mrr)
            half = float(stats.t.ppf(0.975, 4)) / np.sqrt(5)
            print(json.dumps({"chain": chain, **{
                k: f"{np.mean(v):.3f} ± {half * np.std(v, ddof=1):.3f}" for k, v in mrr.items()}}),
                flush=True)


if __name__ == "__main__":
    main()
