"""The embedded store on SQLite against the journal store before it, in one run (issue 15).

For each store — ``journal`` (:class:`graph.journal_store.JournalStore`, the
embedded store until now) and ``sqlite`` (:class:`graph.sqlite_store.SqliteStore`,
the embedded store now) — each step in a child process of its own:

1. ``ingest``: ``ingest_paths`` of the generated set (``coopgraph generate
   --companies N --seed S``, 1.9M rows at 100k companies) into a fresh directory,
   end to end: rows/s, wall time, the child's peak RSS (``ru_maxrss``);
2. ``write``: the store alone — every row of that set (read back from the
   ingested store first, not timed) written again into a fresh store through one
   ``store.load()`` in chunks of 20,000 rows, the rows read frozen out of the
   cyclic collector's scans first (``gc.freeze``): rows/s;
3. ``reopen``: opening the ingested store and reading its counts (``stats()``) in
   a fresh process: seconds with the store module's import (``wall_s``), without
   it (``open_s``), and a second open in the same process (``warm_s``); peak RSS;
4. ``snapshot``: opening it and taking ``snapshot()``: rows/s.

Output: JSON lines (the first says the machine and its load), then a Markdown
table. Usage::

    .venv/bin/python bench/sqlite_store.py [--companies 100000] [--seed 42]
        [--data /tmp/gen100k] [--work /tmp/bench-sqlite] [--repeat 1]
        [--stores journal,sqlite] [--steps ingest,reopen,snapshot,write]

``--stores``/``--steps`` run a part (e.g. one store per call when a whole run would
not fit in one benchmark slot); the table then shows what was measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 20_000
STORES = ("journal", "sqlite")


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _open(kind: str, path: Path) -> Any:
    if kind == "journal":
        from coopgraph.graph.journal_store import JournalStore

        return JournalStore(path)
    from coopgraph.graph.sqlite_store import SqliteStore

    return SqliteStore(path)


def _rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _child(args: argparse.Namespace) -> None:
    kind, step, store_dir = args.child, args.step, Path(args.store_dir)
    out: dict[str, Any] = {"store": kind, "step": step}
    if step == "ingest":
        from coopgraph.ingest.pipeline import ingest_paths

        shutil.rmtree(store_dir, ignore_errors=True)
        store = _open(kind, store_dir)
        started = time.perf_counter()
        report = ingest_paths(store, [Path(args.data)])
        wall = time.perf_counter() - started
        out.update(rows=report.total("read"), loaded=report.total("loaded"), wall_s=wall,
                   rows_per_s=report.total("read") / wall, stored=sum(store.stats().values()))
        store.close()
    elif step == "write":
        from coopgraph.graph.schema import KINDS

        source = _open("sqlite", Path(args.source_dir))
        tables = {k: [dict(r) for r in rows] for k, rows in source.snapshot().tables.items()}
        source.close()
        # the source rows are long-lived: out of the cyclic collector's scans, as the
        # ingest pipeline leaves what it loads (gc.freeze), so the write alone is timed
        gc.freeze()
        target_dir = store_dir.with_name(store_dir.name + "-write")
        shutil.rmtree(target_dir, ignore_errors=True)
        store = _open(kind, target_dir)
        rows = sum(len(v) for v in tables.values())
        started = time.perf_counter()
        with store.load() as load:
            for k in KINDS:
                part = tables.pop(k, [])
                for start in range(0, len(part), CHUNK):
                    load.upsert_rows(k, part[start:start + CHUNK])
        wall = time.perf_counter() - started
        out.update(rows=rows, wall_s=wall, rows_per_s=rows / wall)
        store.close()
        shutil.rmtree(target_dir, ignore_errors=True)
    elif step == "reopen":
        started = time.perf_counter()
        _open(kind, store_dir.with_name(store_dir.name + "-import")).close()  # the import
        shutil.rmtree(store_dir.with_name(store_dir.name + "-import"), ignore_errors=True)
        imported = time.perf_counter()
        store = _open(kind, store_dir)
        rows = sum(store.stats().values())
        opened = time.perf_counter()
        store.close()
        again = time.perf_counter()
        store = _open(kind, store_dir)
        sum(store.stats().values())
        warm = time.perf_counter() - again
        store.close()
        out.update(rows=rows, wall_s=opened - started, open_s=opened - imported, warm_s=warm)
    else:  # snapshot
        store = _open(kind, store_dir)
        started = time.perf_counter()
        snap = store.snapshot()
        wall = time.perf_counter() - started
        rows = sum(len(v) for v in snap.tables.values())
        out.update(rows=rows, wall_s=wall, rows_per_s=rows / wall)
        store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.update(peak_rss_mib=_rss_mib(), cpu_s=usage.ru_utime + usage.ru_stime)
    print(json.dumps(out))


def _run(kind: str, step: str, args: argparse.Namespace) -> dict[str, Any]:
    store_dir = Path(args.work) / kind
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--step", step,
               "--store-dir", str(store_dir), "--data", str(args.data),
               "--source-dir", str(Path(args.work) / "sqlite")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {step} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    _emit(**result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default="/tmp/gen100k")
    parser.add_argument("--work", default="/tmp/bench-sqlite")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--steps", default="ingest,reopen,snapshot,write")
    parser.add_argument("--child")
    parser.add_argument("--step")
    parser.add_argument("--store-dir")
    parser.add_argument("--source-dir")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    _emit(what="machine", cpus=os.cpu_count(), python=sys.version.split()[0],
          load_average=[round(x, 2) for x in os.getloadavg()])
    data = Path(args.data)
    if not (data / "companies.csv").exists():
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "coopgraph"), "generate",
                        "--companies", str(args.companies), "--seed", str(args.seed),
                        "--out", str(data), "--quiet"], check=True, stdout=subprocess.DEVNULL)
        _emit(what="data", generated=True, seconds=round(time.perf_counter() - started, 1))
    Path(args.work).mkdir(parents=True, exist_ok=True)
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        # interleaved, so that both stores see the same load on the machine
        for step in args.steps.split(","):
            for kind in args.stores.split(","):
                results.setdefault((kind, step), []).append(_run(kind, step, args))

    def median(kind: str, step: str, field: str) -> float:
        return statistics.median(r[field] for r in results[(kind, step)])

    stores = [k for k in STORES if any(key[0] == k for key in results)]
    names = {"journal": "journal store", "sqlite": "SQLite store"}
    print("\n| measure | " + " | ".join(names[k] for k in stores)
          + (" | ratio |" if len(stores) == 2 else " |"))
    print("|---|" + "---:|" * (len(stores) + (len(stores) == 2)))
    rows = [("ingest rows/s (end to end)", "ingest", "rows_per_s", "{:,.0f}"),
            ("ingest wall s", "ingest", "wall_s", "{:,.1f}"),
            ("ingest child CPU s", "ingest", "cpu_s", "{:,.1f}"),
            ("ingest peak RSS MiB", "ingest", "peak_rss_mib", "{:,.0f}"),
            ("store-only write rows/s (one load)", "write", "rows_per_s", "{:,.0f}"),
            ("reopen + stats s, fresh process, with import", "reopen", "wall_s", "{:.3f}"),
            ("reopen + stats s, fresh process, without import", "reopen", "open_s", "{:.3f}"),
            ("reopen + stats s, again in that process", "reopen", "warm_s", "{:.3f}"),
            ("reopen peak RSS MiB", "reopen", "peak_rss_mib", "{:,.0f}"),
            ("snapshot rows/s", "snapshot", "rows_per_s", "{:,.0f}")]
    for label, step, field, fmt in rows:
        if not all((k, step) in results for k in stores):
            continue
        values = [median(k, step, field) for k in stores]
        ratio = f" {values[1] / values[0]:.2f}× |" if len(values) == 2 else ""
        print(f"| {label} | " + " | ".join(fmt.format(v) for v in values) + " |" + ratio)
    any_rows = next(iter(results.values()))[0]["rows"]
    print(f"\nrows: {any_rows:,}; repeats: {args.repeat}; load average at the end: "
          f"{[round(x, 2) for x in os.getloadavg()]}")


if __name__ == "__main__":
    main()
