"""Speed of the matching engine on a country-sized graph, beside networkx link prediction.

Usage::

    .venv/bin/python bench/match_speed.py [--companies 100000] [--seed 7]
        [--queries 200] [--nx-queries 20] [--data DIR] [--out bench/out]

The graph is ``--data DIR`` — the CSV files of ``coopgraph generate`` — read
with ``ingest.sample.read_records`` (the strict reader of files this package
writes: pydantic records, ``to_props``, sorted by key — the same rows a store
snapshot holds) straight into a :class:`graph.store.Snapshot`, because loading
100k companies through ``ingest_paths`` into a store is slow and is not what
this benchmark measures; or, without ``--data``,
``tests/match_graphs.synthetic_snapshot`` (a tiered supply network generated
straight into a snapshot). Measured:

* projection build: ``Projection.from_snapshot`` + the matching index (what a
  query needs precomputed), wall time, and the process's peak RSS growth;
* ``rank_buyers(k=10)`` warm latency over ``--queries`` *different* random
  suppliers (p50/p95, wall and CPU time; no query is repeated, so nothing is a
  cache hit of the same query — the per-profile row order and the category
  bitsets are built by the one warm-up query before timing);
* side by side on ``--nx-queries`` suppliers: the engine's full top-10 query
  versus networkx's ``adamic_adar_index``, ``preferential_attachment`` and
  ``jaccard_coefficient`` over the *same candidate pairs* the engine scored
  (the networkx graph is built beforehand and not timed), reported per networkx
  function (the engine does all three jobs — candidates, scores, top 10 — in
  its one query, so the per-function ratio is the fair one).

``--profile-file F`` ranks with a fitted profile (a ``fitted_profile.json``
of ``coopgraph fit`` or the output of ``bench/fit_default.py``);
``--fitted`` ranks with the costliest profile ``coopgraph fit`` can choose: the
default weights with the network walk's 1/log degree penalty, RP3β (β 0.5) and
a 365-day recency half-life (the recency-weighted matrices are built with the
index and counted in the build time).

Results go to ``<out>/match.json`` and ``<out>/match.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import sys
import threading
import time
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.store import Snapshot  # noqa: E402
from coopgraph.queries.candidates import match_index  # noqa: E402
from coopgraph.queries.factors import DEFAULT_PROFILE, WeightProfile  # noqa: E402
from coopgraph.queries.match import rank_buyers, score_partners  # noqa: E402
from coopgraph.queries.network import recency_matrices  # noqa: E402
from coopgraph.queries.projection import Projection  # noqa: E402
from coopgraph.queries.ranking_caches import category_bits, profile_order  # noqa: E402


def _current_rss_mb() -> float:
    """The process's resident memory now (Linux /proc), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


class _PeakSampler:
    """Samples the current RSS every 5 ms in a thread; ``stop()`` returns the peak (MB)."""

    def __init__(self) -> None:
        self.peak = _current_rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.005):
            self.peak = max(self.peak, _current_rss_mb())

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self.peak, _current_rss_mb())


def _load(args: argparse.Namespace) -> Snapshot:
    if args.data:
        from coopgraph.graph.schema import KINDS, PROVENANCE_FIELDS, kind_of, to_props
        from coopgraph.ingest.sample import read_records

        tables: dict = {}
        for record in read_records(args.data):
            props = to_props(record)
            for name in PROVENANCE_FIELDS:
                props.pop(name, None)
            tables.setdefault(kind_of(record), []).append(props)
        for kind, rows in tables.items():
            rows.sort(key=KINDS[kind].key_of)
        return Snapshot(1, tables)
    from tests.match_graphs import synthetic_snapshot

    return synthetic_snapshot(args.companies, args.seed, links_per_supplier=12.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nx-queries", type=int, default=20)
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--fitted", action="store_true",
                        help="rank with the costliest fitted profile (log, β 0.5, recency)")
    parser.add_argument("--profile-file", default=None,
                        help="rank with a fitted profile: a fitted_profile.json of `coopgraph "
                             "fit`, or the JSON bench/fit_default.py prints")
    args = parser.parse_args()
    profile = DEFAULT_PROFILE.model_copy(update={
        "name": "fitted-costliest", "network_norm": "log", "beta": 0.5,
        "half_life_days": 365.0}) if args.fitted else DEFAULT_PROFILE
    if args.profile_file:
        data = json.loads(Path(args.profile_file).read_text(encoding="utf-8"))
        profile = WeightProfile.model_validate(
            data["result"]["profile"] if "result" in data else data["profile"])

    t0 = time.perf_counter()
    snap = _load(args)
    gen_s = time.perf_counter() - t0
    sizes = {k.value: len(v) for k, v in snap.tables.items()}
    edges = sum(v for k, v in sizes.items() if k not in (
        "company", "cluster", "category", "process", "product", "certification"))
    gc.collect()
    rss0 = _current_rss_mb()
    sampler = _PeakSampler()
    t0 = time.perf_counter()
    proj = Projection.from_snapshot(snap)
    t1 = time.perf_counter()
    ix = match_index(proj)
    _ = proj.free_capacity, proj.capability_matrix
    profile_order(ix, profile.vector())  # what the first query would build
    category_bits(ix)
    recency_matrices(ix, profile.half_life_days)
    build_s = time.perf_counter() - t0
    peak = sampler.stop()
    gc.collect()
    rss1 = _current_rss_mb()
    print(f"graph: {sizes}  ({edges} relationships; made in {gen_s:.1f}s)")
    print(f"projection {t1 - t0:.2f}s + match index {build_s - (t1 - t0):.2f}s = {build_s:.2f}s;"
          f" RSS kept +{rss1 - rss0:.0f} MB, peak during the build +{peak - rss0:.0f} MB "
          f"(process {rss1:.0f} MB with the snapshot)")

    rng = np.random.default_rng(args.seed)
    suppliers = np.flatnonzero(ix.out_deg > 0)
    picks = rng.choice(suppliers, size=min(args.queries, len(suppliers)), replace=False)
    others = np.setdiff1d(suppliers, picks)
    rank_buyers(proj, proj.company_ids[int(others[0] if len(others) else picks[0])],
                profile=profile)  # warm-up
    times, cpu = [], []
    n_cand = []
    json_bytes = []
    for s in picks:
        t, c = time.perf_counter(), time.process_time()
        r = rank_buyers(proj, proj.company_ids[int(s)], k=10, profile=profile)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        n_cand.append(r.n_candidates)
        json_bytes.append(len(r.model_dump_json()))
    ms = np.array(times) * 1e3
    cpu_ms = np.array(cpu) * 1e3
    p50, p95 = float(np.percentile(ms, 50)), float(np.percentile(ms, 95))
    print(f"rank_buyers k=10 over {len(picks)} suppliers: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
          f"max {ms.max():.2f} ms (CPU p50 {np.percentile(cpu_ms, 50):.2f} ms); candidates "
          f"per query median {int(np.median(n_cand))}; JSON {int(np.median(json_bytes))} B")

    graph = nx.Graph()
    graph.add_nodes_from(range(proj.n_companies))
    coo = ix.A.tocoo()
    graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    eng_t, pairs_total = 0.0, 0
    funcs = (nx.adamic_adar_index, nx.preferential_attachment, nx.jaccard_coefficient)
    per_fn = {fn.__name__: 0.0 for fn in funcs}
    for s in picks[: args.nx_queries]:
        s = int(s)
        t = time.perf_counter()
        rank_buyers(proj, proj.company_ids[s], k=10, profile=profile)
        eng_t += time.perf_counter() - t
        ebunch = [(s, int(b)) for b in score_partners(proj, s, "buyers",
                                                      profile=profile).partners]
        pairs_total += len(ebunch)
        for fn in funcs:
            t = time.perf_counter()
            for _ in fn(graph, ebunch):
                pass
            per_fn[fn.__name__] += time.perf_counter() - t
    nx_t = sum(per_fn.values())
    speedup = nx_t / eng_t if eng_t else float("inf")
    ratios = {name: round(v / eng_t, 1) if eng_t else float("inf") for name, v in per_fn.items()}
    nq = min(args.nx_queries, len(picks))
    print(f"side by side on {nq} suppliers ({pairs_total} candidate pairs): engine "
          f"{eng_t / nq * 1e3:.2f} ms/query; networkx per function (ms/query, ratio): "
          + ", ".join(f"{n} {per_fn[n] / nq * 1e3:.1f} ({ratios[n]}×)" for n in per_fn)
          + f"; all three {nx_t / nq * 1e3:.1f} ({speedup:.0f}×)")

    out = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()} "
                   f"{platform.release()}, Python {platform.python_version()}",
        "command": " ".join(["python", *sys.argv]),
        "graph": sizes, "relationships": edges,
        "build_seconds": round(build_s, 3), "projection_seconds": round(t1 - t0, 3),
        "projection_rss_kept_mb": round(rss1 - rss0, 1),
        "build_peak_rss_growth_mb": round(peak - rss0, 1), "rss_total_mb": round(rss1, 1),
        "query_p50_ms": round(p50, 3), "query_p95_ms": round(p95, 3),
        "query_max_ms": round(float(ms.max()), 3),
        "query_cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 3),
        "query_cpu_p95_ms": round(float(np.percentile(cpu_ms, 95)), 3),
        "result_json_bytes_median": int(np.median(json_bytes)),
        "queries": len(picks), "median_candidates": int(np.median(n_cand)),
        "nx_queries": nq, "nx_pairs": pairs_total,
        "engine_ms_per_query": round(eng_t / nq * 1e3, 3),
        "networkx_ms_per_query": round(nx_t / nq * 1e3, 3), "speedup": round(speedup, 1),
        "networkx_ms_per_query_per_function": {n: round(v / nq * 1e3, 3)
                                               for n, v in per_fn.items()},
        "speedup_per_function": ratios, "profile": profile.model_dump(mode="json"),
    }
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    (target / "match.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
