"""Where the Neo4j snapshot's time goes: the server, the driver, or Python.

In one run, on the generated set ``--data`` loaded into a Neo4j started by
``tests/neo4j_server.py`` (or ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``):

1. ``server vs wall``: every kind read by its snapshot query
   (:func:`graph.cypher.snapshot_columns_query`) one after the other in one
   session; per kind the wall time and the server's own time
   (``result_available_after + result_consumed_after``: planning, reading the
   properties, building and streaming the lists), and their sums;
2. ``python``: turning those value lists into row dicts, and sorting them into
   key order by ``KindSpec.key_of`` (before) or by an ``itemgetter`` over the key
   columns (now, :func:`graph.neo4j_store._sorted_by_key`);
3. ``properties(n)``: the same read returning ``collect(properties(n))`` (maps the
   driver decodes into dicts) with the provenance popped — the alternative to lists;
4. ``record counts``: ``stats()`` (one query, what a snapshot asks first) beside
   one query per kind (``stats_per_kind``, before);
5. ``workers``: ``Neo4jStore.snapshot()`` with 1, 2 and 4 parallel read sessions,
   ``--repeat`` rounds, the settings alternating within each round.

Output: JSON lines (seconds; medians over ``--repeat``).

Usage: ``.venv/bin/python bench/snapshot_profile.py --data /tmp/gen5k [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph import cypher  # noqa: E402
from coopgraph.graph.neo4j_store import Neo4jStore, _sorted_by_key  # noqa: E402
from coopgraph.graph.schema import KINDS, EntityKind  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def _profile(neo: Neo4jStore, repeat: int) -> None:
    driver = neo._driver  # the bench reads below the store's API on purpose
    lists: dict[EntityKind, list[list[Any]]] = {}
    for _round in range(repeat):
        wall_total, server_total = 0.0, 0
        per_kind = {}
        with driver.session(database=neo.database) as session:
            for kind in KINDS:
                started = time.perf_counter()
                result = session.run(cypher.snapshot_columns_query(kind), {"parts": 1, "part": 0})
                record = result.single()
                summary = result.consume()
                wall = time.perf_counter() - started
                server = (summary.result_available_after or 0) \
                    + (summary.result_consumed_after or 0)
                lists[kind] = list(record["rows"]) if record else []
                wall_total += wall
                server_total += server
                per_kind[kind.value] = [round(wall, 3), server / 1000]
        _emit(what="server vs wall (one session, kinds in turn)", wall_s=round(wall_total, 3),
              server_s=server_total / 1000, server_share=round(server_total / 1000 / wall_total, 2),
              per_kind_wall_server_s=per_kind, load_average=os.getloadavg()[0])

    def dicts() -> dict[EntityKind, list[dict[str, Any]]]:
        out = {}
        for kind, values in lists.items():
            fields = cypher.snapshot_fields(kind)
            out[kind] = [{f: v for f, v in zip(fields, row, strict=True) if v is not None}
                         for row in values]
        return out

    def by_key_of() -> None:
        for kind, rows in dicts().items():
            rows.sort(key=KINDS[kind].key_of)

    def by_itemgetter() -> None:
        for kind, values in lists.items():
            _sorted_by_key(kind, list(values))
        dicts()

    _emit(what="python", rows=sum(map(len, lists.values())),
          to_dicts_s=_median(dicts, repeat), to_dicts_and_sort_key_of_s=_median(by_key_of, repeat),
          sort_itemgetter_and_to_dicts_s=_median(by_itemgetter, repeat))

    def properties() -> None:
        with driver.session(database=neo.database) as session:
            for kind in KINDS:
                query = cypher.snapshot_query(kind).replace(
                    "RETURN properties(n) AS props", "RETURN collect(properties(n)) AS rows")
                record = session.run(query).single()
                for row in record["rows"] if record else []:
                    for field in ("source", "row", "ingested_at", "_key"):
                        row.pop(field, None)

    _emit(what="properties(n) maps, one session", seconds=_median(properties, repeat),
          lists_wall_s=round(wall_total, 3))

    _emit(what="record counts", stats_one_query_s=_median(neo.stats, repeat),
          stats_one_query_per_kind_s=_median(neo.stats_per_kind, repeat),
          same=neo.stats() == neo.stats_per_kind())

    default = Neo4jStore.snapshot_workers
    times: dict[int, list[float]] = {1: [], 2: [], 4: []}
    try:
        for _round in range(repeat):
            for workers in times:
                Neo4jStore.snapshot_workers = workers
                started = time.perf_counter()
                neo.snapshot()
                times[workers].append(time.perf_counter() - started)
    finally:
        Neo4jStore.snapshot_workers = default
    rows = sum(neo.stats().values())
    for workers, runs in times.items():
        median = statistics.median(runs)
        _emit(what="snapshot", workers=workers, runs=[round(t, 2) for t in runs],
              median_s=round(median, 3), rows_per_s=round(rows / median),
              load_average=os.getloadavg()[0])


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
        neo = Neo4jStore(uri, user=user, password=password)
        neo.clear()
        started = time.perf_counter()
        ingest_paths(neo, args.data)
        _emit(what="ingest", seconds=round(time.perf_counter() - started, 1),
              rows=sum(neo.stats().values()))
        _profile(neo, args.repeat)
        neo.close()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
