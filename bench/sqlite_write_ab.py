"""The SQLite store's write path against an earlier version of it, in one process (issue 15).

Loads ``graph/sqlite_store.py`` as it was at a git revision (``--before``, default
``main``) beside the current one, reads every row of an ingested store once, then
writes them all into a fresh store through one ``store.load()`` (chunks of 20,000
rows, as ``bench/sqlite_store.py``'s ``write`` step), the two versions interleaved
``--repeat`` times. Prints wall and CPU seconds per run, then the medians and
their ratio. With ``--ingest DATA``: instead, ``ingest_paths`` of a generated set
into a fresh store, end to end, each run in a child process of its own (the
pipeline is the same code; only the store module differs). Usage::

    .venv/bin/python bench/sqlite_write_ab.py --source /tmp/bench-sqlite/sqlite
        [--before main] [--repeat 3] [--work /tmp/bench-sqlite-ab]
    .venv/bin/python bench/sqlite_write_ab.py --ingest /tmp/gen100k [--repeat 1]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 20_000


def _module(name: str, file: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"coopgraph.graph.{name}", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _ingest_child(store_class: Any, args: argparse.Namespace) -> None:
    import resource

    from coopgraph.ingest.pipeline import ingest_paths

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    store = store_class(work)
    wall, cpu = time.perf_counter(), time.process_time()
    report = ingest_paths(store, [Path(args.ingest)])
    out = {"version": args.child, "rows": report.total("read"),
           "wall_s": round(time.perf_counter() - wall, 2),
           "cpu_s": round(time.process_time() - cpu, 2),
           "stored": sum(store.stats().values()),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out))


def _ingest_runs(args: argparse.Namespace) -> None:
    print(json.dumps({"what": "machine", "cpus": os.cpu_count(), "data": args.ingest,
                      "before": args.before,
                      "load_average": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for name in ("before", "after"):
            done = subprocess.run([sys.executable, __file__, "--child", name, "--ingest",
                                   args.ingest, "--before", args.before, "--work", args.work],
                                  capture_output=True, text=True, check=True)
            out = json.loads(done.stdout.strip().splitlines()[-1])
            out["load_average"] = [round(x, 2) for x in os.getloadavg()]
            results.setdefault(name, []).append(out)
            print(json.dumps(out), flush=True)
    rows = results["after"][0]["rows"]
    print("\n| ingest end to end | before | after | after / before |\n|---|---:|---:|---:|")
    for field in ("wall_s", "cpu_s"):
        a, b = (statistics.median(r[field] for r in results[v]) for v in ("before", "after"))
        print(f"| {field} (rows/s) | {a:.2f} ({rows / a:,.0f}) | {b:.2f} ({rows / b:,.0f}) "
              f"| {b / a:.2f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="an ingested embedded store")
    parser.add_argument("--ingest", help="a generated set: time ingest_paths instead")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--before", default="main", help="git revision of the baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", default="/tmp/bench-sqlite-ab")
    args = parser.parse_args()
    from coopgraph.graph.schema import KINDS
    from coopgraph.graph.sqlite_store import SqliteStore

    before_src = subprocess.run(["git", "-C", str(ROOT), "show",
                                 f"{args.before}:graph/sqlite_store.py"],
                                capture_output=True, text=True, check=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(before_src)
    versions = {"before": _module("sqlite_store_before", Path(handle.name)).SqliteStore,
                "after": SqliteStore}
    os.unlink(handle.name)
    if args.child:
        _ingest_child(versions[args.child], args)
        return
    if args.ingest:
        _ingest_runs(args)
        return
    source = SqliteStore(args.source)
    tables = source.snapshot().tables
    source.close()
    rows = sum(len(v) for v in tables.values())
    print(json.dumps({"what": "machine", "cpus": os.cpu_count(), "rows": rows,
                      "before": args.before,
                      "load_average": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    work = Path(args.work)
    gc.disable()  # as the ingest pipeline does during a load
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for name, store_class in versions.items():
            copy = {k: [dict(r) for r in v] for k, v in tables.items()}
            shutil.rmtree(work, ignore_errors=True)
            store = store_class(work)
            wall, cpu = time.perf_counter(), time.process_time()
            with store.load() as load:
                for kind in KINDS:
                    part = copy.get(kind, [])
                    for start in range(0, len(part), CHUNK):
                        load.upsert_rows(kind, part[start:start + CHUNK])
            out = {"version": name, "wall_s": round(time.perf_counter() - wall, 2),
                   "cpu_s": round(time.process_time() - cpu, 2),
                   "stored": sum(store.stats().values()),
                   "load_average": [round(x, 2) for x in os.getloadavg()]}
            store.close()
            del copy
            gc.collect()
            results.setdefault(name, []).append(out)
            print(json.dumps(out), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print("\n| store-only write, one load | before | after | after / before |\n"
          "|---|---:|---:|---:|")
    for field in ("wall_s", "cpu_s"):
        a, b = (statistics.median(r[field] for r in results[v]) for v in ("before", "after"))
        print(f"| {field} (rows/s) | {a:.2f} ({rows / a:,.0f}) | {b:.2f} ({rows / b:,.0f}) "
              f"| {b / a:.2f}× |")


if __name__ == "__main__":
    main()
