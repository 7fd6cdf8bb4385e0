"""Snapshot speed of both stores, side by side, and the projections they give.

In one run, on the generated set ``--data`` (``coopgraph generate --companies N``):

1. ingests it into an embedded store (temp dir) and into a Neo4j started by
   ``tests/neo4j_server.py`` (or ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``);
2. times ``store.snapshot()`` ``--repeat`` times on each: the embedded store's,
   the Neo4j store's (columns of primitives, parallel read sessions) and, as the
   baseline, the Neo4j one-transaction ``properties(n)`` snapshot it replaced
   (``snapshot_one_tx``);
3. builds ``Projection.from_snapshot`` from each and checks that they are equal
   field by field (``queries.projection_delta.diff_projections``).

Output: JSON lines on stdout (medians, rows/s, ratios).

Usage: ``.venv/bin/python bench/snapshot_speed.py --data /tmp/gen20k [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.graph.neo4j_store import Neo4jStore  # noqa: E402
from coopgraph.graph.store import Snapshot  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402
from coopgraph.queries.projection import Projection  # noqa: E402
from coopgraph.queries.projection_delta import diff_projections  # noqa: E402


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _timed(fn: Callable[[], Snapshot], repeat: int) -> tuple[list[float], Snapshot]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    assert result is not None
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a generated set (CSV files)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _emit(what="machine", cpus=os.cpu_count(), load_average=os.getloadavg()[0])

    server = None
    if os.environ.get("NEO4J_URI"):
        uri, user, password = (os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"),
                               os.environ.get("NEO4J_PASSWORD", ""))
    else:
        from tests.neo4j_server import start_neo4j

        server = start_neo4j()
        uri, user, password = server.uri, server.user, server.password
    try:
        with tempfile.TemporaryDirectory() as tmp:
            embedded = EmbeddedStore(Path(tmp) / "store")
            neo = Neo4jStore(uri, user=user, password=password)
            neo.clear()
            for name, store in (("embedded", embedded), ("neo4j", neo)):
                started = time.perf_counter()
                report = ingest_paths(store, args.data)
                _emit(what="ingest", store=name, seconds=round(time.perf_counter() - started, 1),
                      rows=sum(store.stats().values()), ok=report.ok)
            rows = sum(embedded.stats().values())
            results: dict[str, Any] = {}
            snapshots: dict[str, Snapshot] = {}
            for name, fn in (("embedded", embedded.snapshot), ("neo4j", neo.snapshot),
                             ("neo4j_one_tx (before)", neo.snapshot_one_tx)):
                times, snap = _timed(fn, args.repeat)
                median = statistics.median(times)
                results[name] = median
                snapshots[name] = snap
                _emit(what="snapshot", store=name, rows=rows, runs=[round(t, 2) for t in times],
                      median_s=round(median, 2), rows_per_s=round(rows / median),
                      load_average=os.getloadavg()[0])
            _emit(what="ratio", neo4j_vs_embedded=round(results["neo4j"] / results["embedded"], 2),
                  before_vs_after=round(results["neo4j_one_tx (before)"] / results["neo4j"], 2))
            projections = {}
            for name in ("embedded", "neo4j"):
                started = time.perf_counter()
                projections[name] = Projection.from_snapshot(snapshots[name])
                _emit(what="projection", store=name,
                      seconds=round(time.perf_counter() - started, 2))
            diff = diff_projections(projections["embedded"], projections["neo4j"])
            _emit(what="projections_identical", identical=not diff, differing_fields=diff,
                  snapshots_equal=snapshots["embedded"] == snapshots["neo4j"])
            neo.close()
            embedded.close()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
