"""The ranking caches' patch after a supply-link write: ``patch_ranking_caches`` alone.

On a copy of an embedded store (``--store-dir``, copied to a temporary folder and
removed after), with the match index built and its caches filled by a ranking (the
category × buyer bits and the default profile's row order): ``--writes`` times, one
new supply link (a random capability's company and category, a random buyer), then the
refresh (the projection and match index patched, which calls
``queries.ranking_caches.patch_ranking_caches``) and a top-10 ranking. Each call of
``patch_ranking_caches`` is timed (wall clock and the calling thread's CPU time), and
its caches are compared with their builds from the same index (``profile_order``,
``category_bits`` on the index with an empty cache). Nothing keeps an old index alive,
so memory is reused as in a server.

The writes depend on ``--seed`` only, so two checkouts run on the same store make the
same writes (run one after the other with each checkout's interpreter).

Output: one JSON line (medians and 90th percentiles in ms, how many equal their builds).

Usage: ``.venv/bin/python bench/ranking_caches_patch.py --store-dir /tmp/store100k``
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import EntityKind
from coopgraph.queries import projection_delta
from coopgraph.queries.candidates import MatchIndex, match_index
from coopgraph.queries.factors import FACTORS, resolve_profile
from coopgraph.queries.match import rank_buyers
from coopgraph.queries.projection import ProjectionCache
from coopgraph.queries.ranking_caches import category_bits, profile_order


def _equal_to_build(ix: MatchIndex) -> bool:
    """Every cache entry equals its build from ``ix`` (a copy with an empty cache)."""
    bare = copy.copy(ix)
    bare.cache = {}
    ok = True
    for key, value in list(ix.cache.items()):
        if key == "bits":
            ok &= bool(np.array_equal(value, category_bits(bare)))
        elif isinstance(key, tuple) and key[:1] == ("order",):
            w = resolve_profile(None).vector().copy()
            for name, x in zip(("demand", "import", "popularity"), key[1:], strict=True):
                w[FACTORS.index(name)] = x
            want = profile_order(bare, w)
            ok &= bool(np.array_equal(value.rows, want.rows)
                       and np.array_equal(value.keys, want.keys)
                       and (value.span, value.b_max) == (want.span, want.b_max))
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store-dir", required=True, help="an embedded store (copied, not changed)")
    ap.add_argument("--writes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="caches-bench-"))
    try:
        shutil.copytree(args.store_dir, tmp / "s")
        store = EmbeddedStore(tmp / "s")
        cache = ProjectionCache(store)
        proj = cache.get()
        match_index(proj)
        rng = random.Random(args.seed)
        suppliers = sorted({proj.company_ids[int(i)] for i in proj.cap_company})
        rank_buyers(proj, suppliers[0], k=10)  # fills the bits and the default order
        timings: list[tuple[float, float]] = []
        equal: list[bool] = []
        patched: list[MatchIndex] = []  # the index of the last refresh, checked after it
        real = projection_delta.patch_ranking_caches

        def timed(old_ix: MatchIndex, ix: MatchIndex, moved: Any) -> None:
            c0, t0 = time.thread_time(), time.perf_counter()
            real(old_ix, ix, moved)
            timings.append(((time.perf_counter() - t0) * 1e3, (time.thread_time() - c0) * 1e3))
            patched.append(ix)

        projection_delta.patch_ranking_caches = timed  # type: ignore[assignment]
        refresh: list[float] = []
        for _ in range(args.writes):
            i = rng.randrange(len(proj.cap_company))
            store.upsert_rows(EntityKind.SUPPLY, [{
                "supplier_id": proj.company_ids[int(proj.cap_company[i])],
                "buyer_id": proj.company_ids[rng.randrange(proj.n_companies)],
                "category": proj.category_codes[int(proj.cap_category[i])],
                "volume_per_year": 100.0, "since": "2026-11-29"}])
            t0 = time.perf_counter()
            fresh = cache.get()
            match_index(fresh)
            refresh.append((time.perf_counter() - t0) * 1e3)
            rank_buyers(fresh, rng.choice(suppliers), k=10)
            equal += [_equal_to_build(ix) for ix in patched]
            patched.clear()
        projection_delta.patch_ranking_caches = real
        wall = [w for w, _ in timings]
        cpu = [c for _, c in timings]

        def p90(x: list[float]) -> float:
            return round(float(np.percentile(x, 90)), 2) if x else float("nan")

        sys.stdout.write(json.dumps({
            "label": args.label, "writes": args.writes, "calls": len(timings),
            "patch_wall_median_ms": round(statistics.median(wall), 2) if wall else None,
            "patch_wall_p90_ms": p90(wall),
            "patch_cpu_median_ms": round(statistics.median(cpu), 2) if cpu else None,
            "patch_cpu_p90_ms": p90(cpu),
            "refresh_median_ms": round(statistics.median(refresh), 1),
            "equal_to_build": sum(equal), "builds": cache.builds,
            "demand_rows": len(match_index(cache.get()).dem_cat)}) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
