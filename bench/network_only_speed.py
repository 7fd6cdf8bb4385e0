"""Speed of ranking on a network that holds nothing but supply links (the automatic profile).

Usage::

    .venv/bin/python bench/network_only_speed.py --data DIR [--queries 200] [--out bench/out]

``DIR`` holds the ``companies.csv`` and ``supplies.csv`` of ``coopgraph
generate``; only the company ids and the supplier → buyer links (with their
category) are kept, as for a real links-only network. Measured in one run:

* projection + matching index build;
* :func:`queries.network.tune_walk` — the inner split that chooses the walk's
  degree penalty and β on the network's own links (what the first ranking of a
  links-only projection pays, once per index);
* ``rank_buyers(k=10)`` warm over ``--queries`` random suppliers with the tuned
  profile (p50/p95 wall), beside the baseline in the same run: the bare RP3β
  walk (:func:`queries.network.cf_buyers`, β 0.5) and its top 10 by
  ``argpartition`` for the same suppliers — scores only, no candidates, factors
  or sentences.

Results go to ``<out>/network_only.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.schema import EntityKind  # noqa: E402
from coopgraph.graph.store import Snapshot  # noqa: E402
from coopgraph.queries.candidates import match_index  # noqa: E402
from coopgraph.queries.factors import resolve_profile  # noqa: E402
from coopgraph.queries.match import rank_buyers  # noqa: E402
from coopgraph.queries.network import cf_buyers, tune_walk  # noqa: E402
from coopgraph.queries.projection import Projection  # noqa: E402


def _snapshot(data: Path) -> Snapshot:
    with (data / "companies.csv").open(encoding="utf-8") as f:
        companies = [{"id": r["id"], "name": r["id"], "roles": []} for r in csv.DictReader(f)]
    with (data / "supplies.csv").open(encoding="utf-8") as f:
        supplies = [{"supplier_id": r["supplier_id"], "buyer_id": r["buyer_id"],
                     "category": r["category"]} for r in csv.DictReader(f)]
    cats = sorted({r["category"] for r in supplies})
    supplies.sort(key=lambda r: (r["supplier_id"], r["buyer_id"], r["category"]))
    companies.sort(key=lambda r: r["id"])
    return Snapshot(revision=1, tables={
        EntityKind.COMPANY: companies,
        EntityKind.CATEGORY: [{"code": c, "name_ru": c} for c in cats],
        EntityKind.SUPPLY: supplies})


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args()
    snap = _snapshot(Path(args.data))
    t0 = time.perf_counter()
    proj = Projection.from_snapshot(snap)
    ix = match_index(proj)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    tuning = tune_walk(ix)
    tune = time.perf_counter() - t0
    prof = resolve_profile(None, proj)  # tunes again, as the first ranking does (cached after)
    sellers = np.flatnonzero(ix.out_deg > 0)
    rng = np.random.default_rng(args.seed)
    picked = [proj.company_ids[int(i)] for i in
              rng.choice(sellers, size=min(args.queries, len(sellers)), replace=False)]
    rank_buyers(proj, picked[0], k=10)  # warm: the per-profile order and bitsets
    engine: list[float] = []
    for sid in picked:
        t0 = time.perf_counter()
        rank_buyers(proj, sid, k=10)
        engine.append(time.perf_counter() - t0)
    walk: list[float] = []
    for sid in picked:
        s = proj.company_index[sid]
        t0 = time.perf_counter()
        z = cf_buyers(ix, s, 0.5)
        z[s] = -np.inf
        np.argpartition(-z, 10)[:10]
        walk.append(time.perf_counter() - t0)
    out = {
        "machine": f"{platform.machine()} {platform.system()} {platform.release()}, "
                   f"Python {platform.python_version()}",
        "companies": proj.n_companies, "supply_links": len(snap.rows(EntityKind.SUPPLY)),
        "build_s": round(build, 2), "tune_s": round(tune, 2),
        "tuning": None if tuning is None else {
            "norm": tuning.norm, "beta": tuning.beta, "mrr": tuning.mrr,
            "queries": tuning.n_queries, "held_out": tuning.n_held_out},
        "profile": prof.name, "queries": len(picked),
        "rank_buyers_ms": {"p50": _pct(engine, 50), "p95": _pct(engine, 95)},
        "rp3beta_walk_top10_ms": {"p50": _pct(walk, 50), "p95": _pct(walk, 95)},
    }
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "network_only.json").write_text(json.dumps(out, indent=2,
                                                                 ensure_ascii=False))
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
