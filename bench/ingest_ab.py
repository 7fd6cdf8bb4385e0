"""Ingest end to end into a fresh embedded store: two checkouts side by side (issue 15).

Runs ``ingest_paths`` of a data set into a fresh embedded (SQLite) store in a child
process per run, alternating the baseline's interpreter (``--before-python``: the
``.venv/bin/python`` of another worktree, whose editable install is the baseline
code) and this one's, ``--repeat`` times. Per run: wall seconds, rows/s, the CPU
seconds of the loading process and of its own children (the prefetch worker of
``ingest.prefetch``), the peak RSS of each, and the load average. Then medians and
after/before ratios. Usage::

    .venv/bin/python bench/ingest_ab.py --data DIR \\
        --before-python BASELINE_CHECKOUT/.venv/bin/python [--repeat 2] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _child(data: str, work: str) -> None:
    import resource

    from coopgraph.graph.embedded import EmbeddedStore
    from coopgraph.ingest.pipeline import ingest_paths

    where = Path(work) / "store"  # only what this bench made is ever removed
    shutil.rmtree(where, ignore_errors=True)
    store = EmbeddedStore(where)
    wall, cpu = time.perf_counter(), time.process_time()
    report = ingest_paths(store, [Path(data)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"rows": report.total("read"), "loaded": report.total("loaded"),
           "rejected": report.total("rejected"), "wall_s": round(wall, 2),
           "cpu_s": round(cpu, 2), "worker_cpu_s": round(kids.ru_utime + kids.ru_stime, 2),
           "rows_per_s": round(report.total("read") / wall),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "worker_peak_rss_mib": round(kids.ru_maxrss / 1024),
           "stored": sum(store.stats().values())}
    store.close()
    shutil.rmtree(where, ignore_errors=True)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a generated set (a directory)")
    parser.add_argument("--before-python", help="the interpreter of the baseline checkout")
    parser.add_argument("--after-python", default=sys.executable)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--work", help="where the stores are made (its 'store' subfolder; "
                        "default: a new temporary folder)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.data, args.work)
        return
    if not args.before_python:
        parser.error("--before-python is required")
    made = not args.work
    args.work = args.work or tempfile.mkdtemp(prefix="coopgraph-ingest-ab-")
    print(json.dumps({"what": "machine", "cpus": os.cpu_count(), "data": args.data,
                      "load_average": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for name, python in (("before", args.before_python), ("after", args.after_python)):
            done = subprocess.run([python, __file__, "--child", "--data", args.data,
                                   "--work", args.work], capture_output=True, text=True,
                                  check=True)
            out = json.loads(done.stdout.strip().splitlines()[-1])
            out["version"] = name
            out["load_average"] = [round(x, 2) for x in os.getloadavg()]
            results.setdefault(name, []).append(out)
            print(json.dumps(out), flush=True)
    summary: dict[str, Any] = {"what": "medians"}
    for name, runs in results.items():
        for field in ("wall_s", "cpu_s", "worker_cpu_s", "rows_per_s", "peak_rss_mib",
                      "worker_peak_rss_mib"):
            summary[f"{name}_{field}"] = statistics.median(r[field] for r in runs)
    summary["after/before wall"] = round(summary["after_wall_s"] / summary["before_wall_s"], 3)
    summary["after/before cpu (own)"] = round(summary["after_cpu_s"] / summary["before_cpu_s"], 3)
    summary["after/before cpu (own + worker)"] = round(
        (summary["after_cpu_s"] + summary["after_worker_cpu_s"])
        / (summary["before_cpu_s"] + summary["before_worker_cpu_s"]), 3)
    print(json.dumps(summary), flush=True)
    if made:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
