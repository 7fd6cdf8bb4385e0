"""Benchmark: what a ``coopgraph`` call costs before it starts working.

Times, each ``--runs`` times (default 9), in fresh processes, interleaved so that
load on the machine hits every variant alike:

- ``baseline``: ``python -c pass`` (the interpreter alone);
- ``help``: ``coopgraph --help`` as shipped (commands imported on use);
- ``help_eager``: the same help after importing every command module up front — what
  ``--help`` cost before the lazy loading (the earlier ``register_all``);
- ``cold_help``: ``coopgraph --help`` with an empty bytecode cache (``PYTHONPYCACHEPREFIX``
  pointing at a new directory each run), the first call after an install or upgrade;
- ``command_help``: ``coopgraph gaps --help`` (imports one command and its engines).

With ``--store DIR`` (an embedded store, e.g. ``coopgraph generate -n 77000`` then
``coopgraph ingest``), also ``coopgraph match buyers --supplier ID``:

- ``match_cold``: the projection cache file removed first (opening the store,
  replaying it, building the projection and the match index, writing the cache);
- ``match_warm``: the cache current (the lazily opened store reads its revision
  from its files' ends, the projection is read back from the cache file).

Every variant reports wall-clock seconds and the CPU seconds (user + system) the
child used: on a machine shared with other work, wall time is inflated by waiting
for a core, CPU time much less so.

Prints JSON lines: the machine, then one summary per variant (median, min, max in
seconds, and the median's ratio to the baseline).

Run from the repository root: ``.venv/bin/python bench/cli_speed.py [--runs N]
[--store DIR --supplier ID --cold-runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

EAGER = ("import importlib, sys\nfrom coopgraph.api.cli import app\n"
         "from coopgraph.api.commands import COMMAND_MODULES\n"
         "for n in COMMAND_MODULES: importlib.import_module('coopgraph.api.commands.' + n)\n"
         "sys.argv = ['coopgraph', '--help']\napp()\n")
LAZY = "import sys\nfrom coopgraph.api.cli import app\nsys.argv = ['coopgraph', '--help']\napp()\n"
ONE = ("import sys\nfrom coopgraph.api.cli import app\n"
       "sys.argv = ['coopgraph', 'gaps', '--help']\napp()\n")


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


CPU: dict[str, list[float]] = {}


def _run(code: str, env: dict[str, str], name: str | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if name is not None:
        CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime
                                        + after.ru_stime - before.ru_stime)
    return wall


def _match(supplier: str) -> str:
    return ("import sys\nfrom coopgraph.api.cli import app\n"
            f"sys.argv = ['coopgraph', 'match', 'buyers', '--supplier', {supplier!r}]\napp()\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--store", type=Path, help="an embedded store for the match variants")
    parser.add_argument("--supplier", help="the supplier id to match (with --store)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--only-match", action="store_true", help="skip the help variants")
    args = parser.parse_args()
    env = {**os.environ, "COOPGRAPH_LANG": "en"}
    _emit({"machine": platform.platform(), "python": platform.python_version(),
           "cpus": os.cpu_count(), "load": os.getloadavg()})
    for code in (LAZY, EAGER, ONE):  # warm the bytecode cache once
        _run(code, env)
    if args.store is not None and not args.supplier:
        parser.error("--store needs --supplier")
    times: dict[str, list[float]] = {"baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            times["baseline"].append(_run("pass", env, "baseline"))
            if args.only_match:
                continue
            for name, code in (("help", LAZY), ("help_eager", EAGER), ("command_help", ONE)):
                times.setdefault(name, []).append(_run(code, env, name))
            cold = {**env, "PYTHONPYCACHEPREFIX": str(Path(tmp) / f"cold{i}")}
            times.setdefault("cold_help", []).append(_run(LAZY, cold, "cold_help"))
    if args.store is not None:
        _bench_match(args, env, times)
    base = statistics.median(times["baseline"])
    for name, values in times.items():
        med = statistics.median(values)
        cpu = statistics.median(CPU[name])
        _emit({"variant": name, "runs": len(values), "median_s": round(med, 3),
               "min_s": round(min(values), 3), "max_s": round(max(values), 3),
               "cpu_median_s": round(cpu, 3), "x_baseline": round(med / base, 1)})
    _emit({"load_after": os.getloadavg()})


def _bench_match(args: argparse.Namespace, env: dict[str, str],
                 times: dict[str, list[float]]) -> None:
    """``match_cold`` (cache file removed) and ``match_warm`` (cache current), interleaved
    with the baseline."""
    from coopgraph.queries.projection_disk import CACHE_FILE

    store_env = {**env, "COOPGRAPH_STORE": "embedded",
                 "COOPGRAPH_DATA_DIR": str(args.store.resolve())}
    cache = args.store / CACHE_FILE
    code = _match(args.supplier)
    for _ in range(args.cold_runs):
        cache.unlink(missing_ok=True)
        times.setdefault("match_cold", []).append(_run(code, store_env, "match_cold"))
        times["baseline"].append(_run("pass", env, "baseline"))
    for _ in range(args.runs):
        times.setdefault("match_warm", []).append(_run(code, store_env, "match_warm"))
        times["baseline"].append(_run("pass", env, "baseline"))


if __name__ == "__main__":
    main()
