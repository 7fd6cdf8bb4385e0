"""Benchmark: how long the test Neo4j (5.26 Community, embedded + Bolt) takes to start.

Builds the launcher first (timed separately: ~0 s once built), then starts and stops a fresh
server ``--runs`` times (default 3) and prints JSON lines: the machine, each run, and the
summary with the median start-up time (process start to the READY line), the first query's
latency and the stop time.

Run from the repository root: ``.venv/bin/python bench/neo4j_startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for `tests.`

from tests.neo4j_server import (
    HEAP,
    PAGE_CACHE_MB,
    launcher_build,
    start_neo4j,
)


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def _java_version() -> str:
    done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else "unknown"


def _mvn_version() -> str:
    done = subprocess.run(["mvn", "-B", "--version"], capture_output=True, text=True,
                          check=False)
    lines = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", done.stdout).strip().splitlines()
    return lines[0] if lines else "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from neo4j import GraphDatabase

    load = os.getloadavg()
    _emit({"kind": "machine", "nproc": os.cpu_count(), "python": platform.python_version(),
           "java": _java_version(), "maven": _mvn_version(), "platform": platform.platform(),
           "heap": HEAP, "page_cache_mb": PAGE_CACHE_MB,
           "loadavg_1m_at_start": round(load[0], 2)})

    t0 = time.monotonic()
    launcher_build()
    _emit({"kind": "build", "seconds": round(time.monotonic() - t0, 2)})

    startups: list[float] = []
    first_queries: list[float] = []
    stops: list[float] = []
    version = "unknown"
    for run in range(1, args.runs + 1):
        server = start_neo4j()
        try:
            t1 = time.monotonic()
            with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
                records, _, _ = driver.execute_query("CALL dbms.components()",
                                                     database_="neo4j")
            first_query = time.monotonic() - t1
            version = f"{records[0]['name']} {records[0]['versions'][0]} {records[0]['edition']}"
        finally:
            t2 = time.monotonic()
            server.stop()
            stop = time.monotonic() - t2
        startups.append(server.startup_seconds)
        first_queries.append(first_query)
        stops.append(stop)
        _emit({"kind": "run", "run": run, "startup_seconds": round(server.startup_seconds, 2),
               "first_query_seconds": round(first_query, 3), "stop_seconds": round(stop, 2),
               "loadavg_1m": round(os.getloadavg()[0], 2)})

    _emit({"kind": "summary", "neo4j": version, "runs": args.runs,
           "median_startup_seconds": round(statistics.median(startups), 2),
           "min_startup_seconds": round(min(startups), 2),
           "max_startup_seconds": round(max(startups), 2),
           "median_first_query_seconds": round(statistics.median(first_queries), 3),
           "median_stop_seconds": round(statistics.median(stops), 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
