"""Ingest twice: what loading the same files again costs (issue 10: "unchanged N").

Generates ``coopgraph generate --companies N --seed S`` into ``--data`` (reused when
present), then, ``--repeat`` times, in a fresh embedded store in this process:
the first load (everything new) and a second load of the same files (everything
``unchanged``: each chunk compared with the store in one bulk read). Prints JSON
lines and a Markdown table of medians: wall and CPU seconds, and the ratio of the
second load to the first — the first load is the baseline of the same run.

To compare two versions of the code, copy this file into the other checkout's
``bench/`` and run it there on the same ``--data``; BENCHMARKS.md says how.

Usage::

    .venv/bin/python bench/reload.py [--companies 20000] [--seed 42]
        [--data /tmp/gen20k] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout this script is in, not bench/ingest.py


def _generate(companies: int, seed: int, data: Path) -> None:
    if (data / "companies.csv").exists():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "coopgraph.api.cli",
            "generate",
            "--companies",
            str(companies),
            "--seed",
            str(seed),
            "--out",
            str(data),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _timed(store: object, data: Path) -> tuple[float, float, dict[str, object]]:
    from coopgraph.ingest.pipeline import ingest_paths

    wall, cpu = time.perf_counter(), time.process_time()
    report = ingest_paths(store, [data])  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu, report.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "gen20k")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _generate(args.companies, args.seed, args.data)
    from coopgraph.graph.embedded import EmbeddedStore

    print(json.dumps({"what": "machine", "cpus": os.cpu_count(),
                      "load_average": os.getloadavg()[0], "python": sys.version.split()[0]}))
    runs = []
    for run in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            store = EmbeddedStore(Path(folder) / "store")
            first = _timed(store, args.data)
            second = _timed(store, args.data)
            store.close()
        row = {"what": "reload", "run": run, "first_wall_s": round(first[0], 2),
               "first_cpu_s": round(first[1], 2), "second_wall_s": round(second[0], 2),
               "second_cpu_s": round(second[1], 2), "first": first[2], "second": second[2],
               "load_average": os.getloadavg()[0]}
        print(json.dumps(row, ensure_ascii=False), flush=True)
        runs.append(row)

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

    print()
    print("| load | rows | wall s (median) | CPU s (median) |")
    print("|---|---:|---:|---:|")
    rows = runs[0]["first"]["read"]  # type: ignore[index]
    print(f"| first (all new) | {rows:,} | {med('first_wall_s')} | {med('first_cpu_s')} |")
    print(f"| second (all unchanged) | {rows:,} | {med('second_wall_s')} | "
          f"{med('second_cpu_s')} |")
    print(f"| second / first | | {med('second_wall_s') / med('first_wall_s'):.2f} | "
          f"{med('second_cpu_s') / med('first_cpu_s'):.2f} |")


if __name__ == "__main__":
    main()
