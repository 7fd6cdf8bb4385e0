"""Write → ranking latency: a projection patched from the change log, beside a rebuild.

In one run, on the generated set ``--data`` loaded into an embedded store
(``--store embedded``, temp dir, fsynced journal) or into a Neo4j started by
``tests/neo4j_server.py`` (``--store neo4j``):

* ``rank alone``: ``rank_buyers(k=10)`` for ``--queries`` different suppliers
  on a warm projection (match index built);
* ``write → rank, incremental``: ``--queries`` times: change one capability's
  capacity (one write, one transaction), then ``cache.get()`` (patched by
  :mod:`queries.projection_delta`) and ``rank_buyers(k=10)``; the time is
  split into the write, the refresh (which now patches the match index too),
  the match index of the new projection (already there after a patch) and the
  ranking;
* ``write → rank, incremental, new supply link``: the same with a write that
  adds a supply link to any company (``--supply-links`` times), which patches the
  match index's decl, demand and network parts and the ranking's caches — a
  buyer that did not want the category gains a demand row, so the rows after
  it move;
* ``… new supply link to a buyer wanting the category``: a link such as a
  followed recommendation writes (the buyer already has a demand row there):
  no demand row moves, only values are patched;
* ``write → rank, incremental, new company`` (and ``… with a capability``): a write
  of a new company alone, or with one capability (``--new-companies`` times each):
  every company index shifts, so the projection and its match index are
  renumbered, then patched;
* ``write → rank, rebuild``: the same with ``ProjectionCache(incremental=False)``
  (the behaviour before: a snapshot and a full build after every write),
  ``--rebuilds`` times.

Output: JSON lines (medians in ms; "extra" = write→rank minus rank alone).

Usage: ``.venv/bin/python bench/write_then_rank.py --data /tmp/gen100k [--store embedded]``

The script puts its own checkout first on ``sys.path``: to time another checkout (a
baseline), run a copy of it placed outside both checkouts with that checkout's
interpreter, which then imports its own code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.graph.models import Capability, Company, Record  # noqa: E402
from coopgraph.graph.schema import EntityKind  # noqa: E402
from coopgraph.graph.store import GraphStore  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402
from coopgraph.queries.candidates import match_index  # noqa: E402
from coopgraph.queries.match import rank_buyers  # noqa: E402
from coopgraph.queries.projection import ProjectionCache  # noqa: E402


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(1000 * statistics.median(values), 1),
            "p90_ms": round(1000 * sorted(values)[int(0.9 * (len(values) - 1))], 1),
            "n": len(values)}


def _run(store: GraphStore, queries: int, rebuilds: int, supply_links: int, new_companies: int,
         seed: int) -> None:
    rng = random.Random(seed)
    cache = ProjectionCache(store)
    started = time.perf_counter()
    proj = cache.get()
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    match_index(proj)
    _emit(what="initial build", snapshot_and_projection_s=round(build_s, 2),
          match_index_s=round(time.perf_counter() - started, 2),
          companies=proj.n_companies, capabilities=len(proj.cap_company))
    suppliers = sorted({proj.company_ids[int(i)] for i in proj.cap_company})
    rank_buyers(proj, suppliers[0], k=10)  # warm the profile's caches

    alone = []
    for supplier in rng.sample(suppliers, min(queries, len(suppliers))):
        t0 = time.perf_counter()
        rank_buyers(cache.get(), supplier, k=10)
        alone.append(time.perf_counter() - t0)
    _emit(what="rank alone", **_ms(alone))

    def capacity_write() -> None:
        i = rng.randrange(len(proj.cap_company))
        key = (proj.company_ids[int(proj.cap_company[i])],
               proj.category_codes[int(proj.cap_category[i])])
        row = dict(store.fetch(EntityKind.CAPABILITY, [key])[0])
        row["capacity_per_year"] = float(rng.randint(1, 100_000))
        store.upsert_rows(EntityKind.CAPABILITY, [row])

    def company_write(capability: bool) -> Callable[[], None]:
        def write() -> None:  # a new company (every index shifts), with a capability or not
            i = rng.randrange(len(proj.cap_company))
            new = f"{proj.company_ids[rng.randrange(proj.n_companies)]}-bench-{rng.random():.9f}"
            records: list[Record] = [Company(id=new, name="Новая", region="Липецкая область",
                                             roles=["supplier"])]
            if capability:
                records.append(Capability(
                    company_id=new, category=proj.category_codes[int(proj.cap_category[i])],
                    capacity_per_year=100.0))
            store.upsert(records)
        return write

    def supply_write() -> None:  # a new supply link: the match index's demand and network
        i = rng.randrange(len(proj.cap_company))
        store.upsert_rows(EntityKind.SUPPLY, [{
            "supplier_id": proj.company_ids[int(proj.cap_company[i])],
            "buyer_id": proj.company_ids[rng.randrange(proj.n_companies)],
            "category": proj.category_codes[int(proj.cap_category[i])],
            "volume_per_year": 100.0, "since": "2026-11-29"}])

    pick = random.Random(seed + 1)  # its own draws: the other writes' stay as before

    def supply_to_demand_write() -> None:  # a new link to a buyer that wants the category:
        current = cache.get()  # what a followed recommendation writes (no demand row moves)
        ix = match_index(current)
        for _ in range(1000):
            i = pick.randrange(len(current.cap_company))
            s, c = int(current.cap_company[i]), int(current.cap_category[i])
            wanting = ix.cat_dem_rows[ix.cat_dem_indptr[c]:ix.cat_dem_indptr[c + 1]]
            if len(wanting) == 0:
                continue
            b = int(ix.dem_buyer[int(wanting[pick.randrange(len(wanting))])])
            if b != s and not ix.existing(s, b, np.array([c]))[0]:
                store.upsert_rows(EntityKind.SUPPLY, [{
                    "supplier_id": current.company_ids[s], "buyer_id": current.company_ids[b],
                    "category": current.category_codes[c], "volume_per_year": 100.0,
                    "since": "2026-11-29"}])
                return
        raise SystemExit("no (supplier, buyer wanting the category) pair without a link found")

    for name, the_cache, n, one_write in (
            ("incremental", cache, queries, capacity_write),
            ("incremental, new supply link", cache, supply_links, supply_write),
            ("incremental, new supply link to a buyer wanting the category", cache,
             supply_links, supply_to_demand_write),
            ("incremental, new company", cache, new_companies, company_write(False)),
            ("incremental, new company with a capability", cache, new_companies,
             company_write(True)),
            ("rebuild", ProjectionCache(store, incremental=False), rebuilds, capacity_write)):
        if n <= 0:
            continue
        the_cache.get()
        parts: dict[str, list[float]] = {"write": [], "refresh": [], "match_index": [],
                                         "rank": [], "write_to_rank": [], "refresh_to_rank": []}
        for supplier in rng.sample(suppliers, min(n, len(suppliers))):
            t0 = time.perf_counter()
            one_write()
            t1 = time.perf_counter()
            fresh = the_cache.get()
            t2 = time.perf_counter()
            match_index(fresh)
            t3 = time.perf_counter()
            rank_buyers(fresh, supplier, k=10)
            t4 = time.perf_counter()
            assert fresh.revision == store.revision()
            for key, value in (("write", t1 - t0), ("refresh", t2 - t1),
                               ("match_index", t3 - t2), ("rank", t4 - t3),
                               ("write_to_rank", t4 - t0), ("refresh_to_rank", t4 - t1)):
                parts[key].append(value)
        summary = {k: _ms(v)["median_ms"] for k, v in parts.items()}
        _emit(what=f"write -> rank, {name}", n=n, **summary,
              extra_over_rank_alone_ms=round(summary["write_to_rank"]
                                             - 1000 * statistics.median(alone), 1),
              deltas=the_cache.deltas, builds=the_cache.builds,
              load_average=os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--supply-links", type=int, default=5,
                        help="writes of a new supply link (parts of the match index rebuilt)")
    parser.add_argument("--new-companies", type=int, default=5,
                        help="writes of a new company with a capability (renumbered)")
    parser.add_argument("--store-dir", help="an embedded store of --data ingested beforehand "
                        "(copied; the run then skips the ingest)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    _emit(what="machine", cpus=os.cpu_count(), load_average=os.getloadavg()[0],
          store=args.store, data=args.data)
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        store: GraphStore
        if args.store == "embedded":
            if args.store_dir:  # ingested beforehand (outside the benchmark lock): a copy
                shutil.copytree(args.store_dir, Path(tmp) / "store")
            store = EmbeddedStore(Path(tmp) / "store")
        else:
            from coopgraph.graph.neo4j_store import Neo4jStore
            from tests.neo4j_server import start_neo4j

            server = start_neo4j()
            store = Neo4jStore(server.uri, user=server.user, password=server.password)
        try:
            started = time.perf_counter()
            if not args.store_dir:
                ingest_paths(store, args.data)
            _emit(what="ingest", seconds=round(time.perf_counter() - started, 1),
                  rows=sum(store.stats().values()))
            _run(store, args.queries, args.rebuilds, args.supply_links, args.new_companies,
                 args.seed)
        finally:
            store.close()
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
