"""Entity resolution speed and memory: companies with only a name (no municipality, no ids).

The worst case for blocking: every company sits in one place block. Names are
made from the real names of tests/data/er (Forbes Global 2000, SPB Exchange),
each given a distinguishing word and sometimes a plant number, and one in ten
repeated with another legal form or spelling — so there is something to find.

Compared in the same run, each in a fresh child process (its own peak RSS):

* ``new``: :func:`ingest.resolve.resolve` (blocking rules + comparison levels);
* ``old``: the implementation it replaced — per place block, every query name
  against every other name with ``rapidfuzz.process.extract`` (quadratic inside
  a block); run only up to ``--old-max`` companies;
* ``exact``: exact match on normalised names (a dictionary): the floor.

Usage::

    .venv/bin/python bench/er_speed.py [--sizes 4000 16000 100000] [--old-max 4000]
        [--repeat 3]

Output: JSON lines (the first describes the machine), then a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's ``ingest`` package, not bench/ingest.py
ER = ROOT / "tests" / "data" / "er"
_FORMS = ["", "Inc.", "Co. Ltd.", "Company Limited", "GmbH", "LLC", "ООО", "АО", "S.A.", "PLC"]
_WORDS = ["Steel", "Foods", "Energy", "Logistics", "Castings", "Hydraulics", "Agro", "Machinery",
          "Литейный", "Гидравлика", "Трактор", "Сервис", "Pumps", "Gears", "Cabins", "Paint"]


def make_names(n: int, seed: int) -> list[str]:
    """``n`` company names, one in ten a respelling of an earlier one."""
    rng = random.Random(seed)
    with (ER / "records.csv").open(encoding="utf-8") as f:
        base = [r["name"] for r in csv.DictReader(f)]
    names: list[str] = []
    while len(names) < n:
        if names and rng.random() < 0.1:
            earlier = rng.choice(names)
            names.append(f"{earlier.upper()} {rng.choice(_FORMS)}".strip())
            continue
        name = f"{rng.choice(base)} {rng.choice(_WORDS)} {rng.choice(_WORDS)}"
        if rng.random() < 0.3:
            name += f" {rng.randint(1, 999)}"
        names.append(f"{rng.choice(_FORMS)} {name}".strip())
    return names


def _old(names: list[str]) -> tuple[int, int]:
    """The replaced algorithm's name step: every name against all others of its block."""
    from rapidfuzz import fuzz, process

    from coopgraph.ingest.resolve import normalize_name
    norms = [normalize_name(x) for x in names]
    merges = review = 0
    parent = list(range(len(norms)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i, q in enumerate(norms):
        choices = {j: norms[j] for j in range(len(norms)) if j != i and find(j) != find(i)}
        for _t, score, j in process.extract(q, choices, scorer=fuzz.token_sort_ratio,
                                            score_cutoff=80, limit=5):
            if score >= 92:
                parent[max(find(i), find(j))] = min(find(i), find(j))
                merges += 1
            else:
                review += 1
    return merges, review


def _new(names: list[Any]) -> tuple[int, int]:
    from coopgraph.ingest.resolve import Candidate, resolve
    cands = [Candidate(c) for c in names]  # normalising is timed, as in the others
    res = resolve(cands)
    return len(res.merges), len(res.review)


def _exact(names: list[str]) -> tuple[int, int]:
    from coopgraph.ingest.resolve import normalize_name
    seen: dict[str, int] = {}
    merges = 0
    for i, x in enumerate(names):
        if seen.setdefault(normalize_name(x), i) != i:
            merges += 1
    return merges, 0


_RUN = {"new": _new, "old": _old, "exact": _exact}


def _child(method: str, n: int, seed: int, out: Any) -> None:
    names: list[Any] = make_names(n, seed)
    if method == "new":  # a load has its Company records before resolution: not timed
        from coopgraph.graph.models import Company
        names = [Company(id=f"c{i}", name=x) for i, x in enumerate(names)]
    started = time.perf_counter()
    merges, review = _RUN[method](names)
    seconds = time.perf_counter() - started
    out.send({"seconds": seconds, "merges": merges, "review": review,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run(method: str, n: int, seed: int) -> dict[str, Any]:
    """One timed run in a fresh process."""
    ctx = mp.get_context("fork")  # a fresh child per run: its peak RSS is its own
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(method, n, seed, child))
    proc.start()
    child.close()
    try:
        result: dict[str, Any] = parent.recv()
    except EOFError:
        raise SystemExit(f"{method} at {n} companies: the child died "
                         f"(exit code {proc.exitcode})") from None
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 100000])
    parser.add_argument("--old-max", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                      "cpus": os.cpu_count()}))
    rows = []
    for n in args.sizes:
        for method in ("exact", "old", "new"):
            if method == "old" and n > args.old_max:
                continue
            runs = [run(method, n, args.seed) for _ in range(args.repeat)]
            row = {"method": method, "companies": n,
                   "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
                   "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
                   "merges": runs[0]["merges"], "review": runs[0]["review"]}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print("\n| companies | method | seconds (median) | peak RSS, MB | merges | review |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['companies']:,} | {r['method']} | {r['seconds_median']} | "
              f"{r['peak_rss_mb']} | {r['merges']:,} | {r['review']:,} |")


if __name__ == "__main__":
    main()
