"""Re-fit the default weight profile from uniform weights, on data no evaluation uses.

``DEFAULT_PROFILE`` (queries/factors.py) must be reproducible from the
repository: this script generates ``coopgraph generate --companies 3000 --seed
2`` (a set that neither BENCHMARKS.md nor the tests score) and runs
:func:`queries.evaluate.fit_profile` on *all* its links — coordinate search
from uniform weights over the factor weights and the network walk's settings
(degree penalty, RP3β, recency), on the mean MRR of inner random folds — and
prints the fitted profile and its report as JSON.

Usage: ``.venv/bin/python bench/fit_default.py [--companies 3000] [--seed 2] [--folds 3]
[--max-queries 200] [--compare-full]`` (``--compare-full``: the earlier full search per walk
setting too, in the same run, as the speed baseline)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.ingest.generate import generate  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402
from coopgraph.queries.evaluate import fit_profile  # noqa: E402
from coopgraph.queries.factors import DEFAULT_PROFILE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2, help="generator seed (never evaluated)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--max-queries", type=int, default=200)
    parser.add_argument("--compare-full", action="store_true",
                        help="also time the earlier full search per walk setting (the baseline)")
    args = parser.parse_args()
    if args.seed in (0, 1, 42):
        parser.error("seeds 0, 1 and 42 are evaluated in BENCHMARKS.md: fit on another")
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, companies=args.companies, seed=args.seed)
        store = EmbeddedStore(None)
        ingest_paths(store, [tmp])
        snapshot = store.snapshot()
    started = time.perf_counter()
    result = fit_profile(snapshot, folds=args.folds, max_queries=args.max_queries,
                         base=DEFAULT_PROFILE)
    out = result.model_dump(mode="json")
    out["seconds"] = round(time.perf_counter() - started, 1)
    if args.compare_full:
        started = time.perf_counter()
        full = fit_profile(snapshot, folds=args.folds, max_queries=args.max_queries,
                           base=DEFAULT_PROFILE, search="full")
        out["full_search"] = {"seconds": round(time.perf_counter() - started, 1),
                              "cv_mrr": full.cv_mrr, "evaluations": full.evaluations,
                              "profile": full.profile.model_dump(mode="json")}
    out["data"] = f"coopgraph generate --companies {args.companies} --seed {args.seed}"
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
