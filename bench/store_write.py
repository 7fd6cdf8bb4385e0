"""Write throughput of both stores: batched upserts beside one transaction per row.

In one run, for the Neo4j store and the embedded store (on a temp directory):

* ``batched``: 100k Capability rows upserted in calls of 10k rows (one
  transaction each: ``batch_size=10_000``), rows/s, the median of 3 runs;
* ``per_row``: 2k Capability rows upserted one call — one transaction — per
  row, rows/s.

The companies and categories the rows point at are written beforehand and not
timed. Neo4j is ``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``) when set,
otherwise one started by ``tests/neo4j_server.py`` (its start-up time is
reported). Output: JSON lines on stdout, the first one describing the machine.

Usage: ``.venv/bin/python bench/store_write.py [--rows 100000] [--single 2000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.graph.models import Capability, Category, Company, Record  # noqa: E402
from coopgraph.graph.store import GraphStore  # noqa: E402

BATCH = 10_000


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _machine() -> dict[str, Any]:
    import neo4j

    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True,
                              timeout=30).stderr.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        java = None
    try:
        import neo4j._rust  # what the neo4j-rust-ext package installs

        rust_ext = True
    except ImportError:
        rust_ext = False
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "what": "machine", "cpus": os.cpu_count(), "memory_gib": round(mem_gib, 1),
        "platform": platform.platform(), "python": platform.python_version(),
        "neo4j_driver": neo4j.__version__, "neo4j_rust_ext": rust_ext, "java": java,
    }


def _nodes(companies: int, categories: int) -> list[Record]:
    return [*(Company(id=f"c{i:05d}", name=f"Компания {i}") for i in range(companies)),
            *(Category(code=f"k{j:03d}", name_ru=f"Категория {j}") for j in range(categories))]


def _capabilities(n: int, categories: int, offset: int = 0) -> list[Record]:
    rows: list[Record] = []
    for i in range(offset, offset + n):
        company, category = divmod(i, categories)
        rows.append(Capability(company_id=f"c{company:05d}", category=f"k{category:03d}",
                               capacity_per_year=float(100 + i % 900), lead_time_days=14.0,
                               min_order=5.0, unit_price=1000.0 + i % 100, source="bench",
                               row=i))
    return rows


def _measure(store: GraphStore, name: str, rows: int, single: int, repeat: int) -> None:
    categories = 50
    companies = (rows + single) // categories + 1
    nodes = _nodes(companies, categories)
    batched_rows = _capabilities(rows, categories)
    single_rows = _capabilities(single, categories, offset=rows)

    def fresh() -> None:
        store.clear()
        store.upsert(nodes)

    def timed(work: Callable[[], None]) -> float:
        fresh()
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    def batched() -> None:
        for i in range(0, len(batched_rows), BATCH):
            store.upsert(batched_rows[i:i + BATCH])

    def per_row() -> None:
        for record in single_rows:
            store.upsert([record])

    times = [timed(batched) for _ in range(repeat)]
    assert store.stats()["capability"] == rows
    median = statistics.median(times)
    _emit(what="write", store=name, mode="batched", rows=rows, batch=BATCH, runs=repeat,
          seconds=[round(t, 3) for t in times], rows_per_s=round(rows / median))
    seconds = timed(per_row)
    assert store.stats()["capability"] == single
    _emit(what="write", store=name, mode="per_row", rows=single, runs=1,
          seconds=round(seconds, 3), rows_per_s=round(single / seconds))
    store.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-neo4j", action="store_true")
    args = parser.parse_args()
    _emit(**_machine())

    with tempfile.TemporaryDirectory(prefix="coopgraph-bench-") as tmp:
        embedded = EmbeddedStore(Path(tmp) / "store")
        _measure(embedded, "embedded", args.rows, args.single, args.repeat)
        embedded.close()

    if args.skip_neo4j:
        return
    from coopgraph.graph.neo4j_store import Neo4jStore

    server = None
    uri = os.environ.get("NEO4J_URI")
    if uri:
        user, password = os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "")
    else:
        from tests.neo4j_server import start_neo4j

        start = time.perf_counter()
        server = start_neo4j()
        _emit(what="neo4j_startup", seconds=round(time.perf_counter() - start, 2),
              launcher_startup_seconds=getattr(server, "startup_seconds", None))
        uri, user, password = server.uri, server.user, server.password
    try:
        store = Neo4jStore(uri, user=user, password=password, batch_size=BATCH)
        version = store.run_read("CALL dbms.components() YIELD name, versions, edition "
                                 "RETURN name, versions[0] AS version, edition")
        _emit(what="neo4j_server", uri=uri, components=version)
        _measure(store, "neo4j", args.rows, args.single, args.repeat)
        store.close()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
