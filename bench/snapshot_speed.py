"""Snapshot speed of both stores, side by side, and the projections they give.

In one run, on the generated set ``--data`` (``coopgraph generate --companies N``):

1. ingests it into an embedded store (temp dir) and into a Neo4j started by
   ``tests/neo4j_server.py`` (or ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``) —
   or, with ``--stores DIR``, reuses the stores ``--prepare DIR`` loaded beforehand
   (the embedded store in ``DIR/embedded``, a Neo4j home bulk-imported into
   ``DIR/home``), so that a timed run does not include the ingest;
2. times ``store.snapshot()`` ``--repeat`` times on each: the embedded store's and
   the Neo4j store's by each ``--method`` (``batches``: one list of value lists per kind or part,
   straight into columns, what ``snapshot()`` does; ``dict_rows``: a list of
   value lists per kind made into dict rows, the third pass of issue 16;
   ``one_tx``: one transaction of ``properties(n)``, before issue 16);
3. builds ``Projection.from_snapshot`` from each and checks that they are equal
   field by field (``queries.projection_delta.diff_projections``).

Output: JSON lines on stdout (medians, rows/s, ratios).

Usage::

    .venv/bin/python bench/snapshot_speed.py --prepare /tmp/snap20k --data /tmp/gen20k
    /tmp/run-bench .venv/bin/python bench/snapshot_speed.py --stores /tmp/snap20k --repeat 3
    .venv/bin/python bench/snapshot_speed.py --data /tmp/gen5k   # ingest, then time
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.graph.neo4j_store import Neo4jStore  # noqa: E402
from coopgraph.graph.schema import EntityKind  # noqa: E402
from coopgraph.graph.store import Snapshot  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402
from coopgraph.queries.projection import Projection  # noqa: E402
from coopgraph.queries.projection_delta import diff_projections  # noqa: E402

METHODS = ("batches", "dict_rows", "one_tx")


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


@contextlib.contextmanager
def _neo4j(home: Path | None) -> Iterator[tuple[str, str, str]]:
    if os.environ.get("NEO4J_URI") and home is None:
        yield (os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"),
               os.environ.get("NEO4J_PASSWORD", ""))
        return
    from tests.neo4j_server import start_neo4j

    server = start_neo4j(home=home)
    try:
        yield server.uri, server.user, server.password
    finally:
        server.stop()


def _prepare(directory: Path, data: str) -> None:
    """Load ``data`` into ``directory/embedded`` and bulk-import it into ``directory/home``."""
    from coopgraph.ingest.bulk import bulk_ingest
    from tests.neo4j_server import neo4j_admin_command

    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    embedded = EmbeddedStore(directory / "embedded")
    report = ingest_paths(embedded, data)
    _emit(what="prepare", store="embedded", ok=report.ok, rows=sum(embedded.stats().values()),
          seconds=round(time.perf_counter() - started, 1))
    embedded.close()
    started = time.perf_counter()
    bulk_ingest([data], directory / "import", admin=neo4j_admin_command(),
                home=directory / "home")
    with _neo4j(directory / "home") as (uri, user, password):
        neo = Neo4jStore(uri, user=user, password=password)  # first open: constraints
        neo._query("CALL db.awaitIndexes(3600)")
        _emit(what="prepare", store="neo4j", rows=sum(neo.stats().values()),
              seconds=round(time.perf_counter() - started, 1))
        neo.close()


def _time_all(embedded: EmbeddedStore, neo: Neo4jStore, methods: list[str],
              repeat: int) -> None:
    rows = sum(embedded.stats().values())
    neo_rows = sum(neo.stats().values())
    _emit(what="stores", embedded_rows=rows, neo4j_rows=neo_rows)
    functions: dict[str, Callable[[], Snapshot]] = {
        "batches": neo.snapshot, "dict_rows": neo.snapshot_dict_rows,
        "one_tx": neo.snapshot_one_tx}
    runs = [("embedded", embedded.snapshot)] + [(f"neo4j {m}", functions[m]) for m in methods]
    results: dict[str, float] = {}
    snapshots: dict[str, Snapshot] = {}
    timings: dict[str, list[float]] = {}
    for _round in range(repeat):  # interleaved: each method once per round
        for name, fn in runs:
            times, snap = _timed(fn, 1)
            snapshots[name] = snap
            _emit(what="run", store=name, seconds=round(times[0], 3),
                  load_average=os.getloadavg()[0])
            timings.setdefault(name, []).append(times[0])
    for name, _fn in runs:
        median = statistics.median(timings[name])
        results[name] = median
        snap_rows = sum(snapshots[name].count(k) for k in EntityKind)  # rows left unmade
        _emit(what="snapshot", store=name, rows=snap_rows,
              runs=[round(t, 2) for t in timings[name]], median_s=round(median, 3),
              rows_per_s=round(snap_rows / median))
    for name in results:
        if name != "embedded":
            _emit(what="ratio", of=name, vs_embedded=round(results[name] / results["embedded"], 2))
    projections = {}
    for name in ("embedded", *(n for n, _ in runs[1:])):
        started = time.perf_counter()
        projections[name] = Projection.from_snapshot(snapshots[name])
        _emit(what="projection", store=name, seconds=round(time.perf_counter() - started, 2))
    for name in projections:
        if name != "embedded":
            diff = diff_projections(projections["embedded"], projections[name])
            _emit(what="projections_identical", of=name, identical=not diff,
                  differing_fields=diff, snapshots_equal=snapshots["embedded"] == snapshots[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a generated set (CSV files)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prepare", type=Path, metavar="DIR",
                        help="only load --data into DIR/embedded and DIR/home (no timing)")
    parser.add_argument("--stores", type=Path, metavar="DIR",
                        help="time the stores --prepare DIR loaded (no ingest)")
    parser.add_argument("--method", action="append", choices=METHODS,
                        help="Neo4j snapshot method(s) to time (default: all)")
    args = parser.parse_args()
    methods = args.method or list(METHODS)
    _emit(what="machine", cpus=os.cpu_count(), load_average=os.getloadavg()[0])
    if args.prepare is not None:
        if not args.data:
            parser.error("--prepare needs --data")
        _prepare(args.prepare, args.data)
        return
    if args.stores is not None:
        embedded = EmbeddedStore(args.stores / "embedded")
        with _neo4j(args.stores / "home") as (uri, user, password):
            neo = Neo4jStore(uri, user=user, password=password)
            neo.snapshot()  # warm the page cache once (not timed)
            _time_all(embedded, neo, methods, args.repeat)
            neo.close()
        embedded.close()
        return
    if not args.data:
        parser.error("give --data (or --stores)")
    with tempfile.TemporaryDirectory() as tmp, _neo4j(None) as (uri, user, password):
        embedded = EmbeddedStore(Path(tmp) / "store")
        neo = Neo4jStore(uri, user=user, password=password)
        neo.clear()
        for name, store in (("embedded", embedded), ("neo4j", neo)):
            started = time.perf_counter()
            report = ingest_paths(store, args.data)
            _emit(what="ingest", store=name, seconds=round(time.perf_counter() - started, 1),
                  rows=sum(store.stats().values()), ok=report.ok)
        _time_all(embedded, neo, methods, args.repeat)
        neo.close()
        embedded.close()


if __name__ == "__main__":
    main()
