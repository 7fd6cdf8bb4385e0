"""The projection's own patch after one write, at the scale of an embedded store given.

Copies the embedded store ``--store-dir`` (never changed) to a temp dir, builds the
projection and its match index, then:

* ``refresh, new supply link`` (``--full`` writes): one supply link written, then
  ``cache.get()`` (the whole refresh: the projection patched, the match index and
  the ranking's caches patched) and ``rank_buyers(k=10)``, beside ``rank alone``;
* ``projection patch`` (``--writes`` per kind): the same kind of write, then
  :func:`queries.projection_delta.apply_changes` with the match-index and
  ranking-cache patches (and the index's renumbering) replaced by no-ops — what is
  left is the projection's own patch (rows re-read, the table arrays spliced,
  committed volumes, carried structures); then the structures the ranking reads
  (``capability_matrix``, ``free_capacity``) and ``capabilities_by_category`` are
  read, timed apart ("derived": what the next request computes if the patch did
  not carry them).
  Kinds: a new supply link, a new capability row, a capacity changed, a new company, a
  process held added, a company renamed.

No ``sys.path`` change: the code measured is the one installed in the interpreter's
environment, so the same file measures two checkouts (``/other/.venv/bin/python
bench/projection_patch.py``). Output: JSON lines, medians in ms.

Usage: ``.venv/bin/python bench/projection_patch.py --store-dir /tmp/store100k``
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

import coopgraph
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Company
from coopgraph.graph.schema import EntityKind
from coopgraph.queries import projection_delta
from coopgraph.queries.candidates import match_index
from coopgraph.queries.match import rank_buyers
from coopgraph.queries.projection import Projection, ProjectionCache

_DERIVED = ("capability_matrix", "free_capacity", "capabilities_by_category")


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _median_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 2)


def _run(store: EmbeddedStore, writes: int, full: int, seed: int) -> None:
    rng = random.Random(seed)
    cache = ProjectionCache(store)
    started = time.perf_counter()
    proj = cache.get()
    match_index(proj)
    _emit(what="initial build", seconds=round(time.perf_counter() - started, 1),
          companies=proj.n_companies, capabilities=len(proj.cap_company),
          supply_links=len(proj.sup_supplier))
    suppliers = sorted({proj.company_ids[int(i)] for i in proj.cap_company})
    rank_buyers(proj, suppliers[0], k=10)  # warm the profile's caches

    def supply() -> None:
        i = rng.randrange(len(proj.cap_company))
        store.upsert_rows(EntityKind.SUPPLY, [{
            "supplier_id": proj.company_ids[int(proj.cap_company[i])],
            "buyer_id": proj.company_ids[rng.randrange(proj.n_companies)],
            "category": proj.category_codes[int(proj.cap_category[i])],
            "volume_per_year": 100.0, "since": "2026-11-29"}])

    def capability() -> None:  # a new row (or, rarely, one already there)
        store.upsert_rows(EntityKind.CAPABILITY, [{
            "company_id": proj.company_ids[rng.randrange(proj.n_companies)],
            "category": proj.category_codes[rng.randrange(proj.n_categories)],
            "capacity_per_year": 5.0}])

    def company() -> None:  # a new company: every company index after it shifts
        new = f"{proj.company_ids[rng.randrange(proj.n_companies)]}-bench-{rng.random():.9f}"
        store.upsert([Company(id=new, name="Новая", region="Липецкая область",
                              roles=["supplier"])])

    def process() -> None:  # a process held added (or, rarely, one already held)
        store.upsert_rows(EntityKind.COMPANY_PROCESS, [{
            "company_id": proj.company_ids[rng.randrange(proj.n_companies)],
            "process": rng.choice(proj.process_codes)}])

    def edit() -> None:  # a company renamed
        cid = proj.company_ids[rng.randrange(proj.n_companies)]
        row = dict(store.fetch(EntityKind.COMPANY, [(cid,)])[0])
        row["name"] = f"{row['name']} {rng.randrange(1000)}"
        store.upsert_rows(EntityKind.COMPANY, [row])

    def capacity() -> None:
        i = rng.randrange(len(proj.cap_company))
        key = (proj.company_ids[int(proj.cap_company[i])],
               proj.category_codes[int(proj.cap_category[i])])
        row = dict(store.fetch(EntityKind.CAPABILITY, [key])[0])
        row["capacity_per_year"] = float(rng.randint(1, 100_000))
        store.upsert_rows(EntityKind.CAPABILITY, [row])

    if full > 0:
        alone, refresh, rank = [], [], []
        for supplier in rng.sample(suppliers, full):
            t0 = time.perf_counter()
            rank_buyers(cache.get(), supplier, k=10)
            alone.append(time.perf_counter() - t0)
        for supplier in rng.sample(suppliers, full):
            supply()
            t0 = time.perf_counter()
            fresh = cache.get()
            t1 = time.perf_counter()
            rank_buyers(fresh, supplier, k=10)
            t2 = time.perf_counter()
            refresh.append(t1 - t0)
            rank.append(t2 - t1)
        _emit(what="refresh, new supply link", n=full, rank_alone_ms=_median_ms(alone),
              refresh_ms=_median_ms(refresh), rank_after_ms=_median_ms(rank),
              deltas=cache.deltas, builds=cache.builds, load_average=os.getloadavg()[0])

    # from here the match index is left as it was (its patches are no-ops): not ranked on
    projection_delta.patch_match_index = lambda base_ix, *_a, **_k: base_ix  # type: ignore[assignment]
    projection_delta.patch_ranking_caches = lambda *_a, **_k: None  # type: ignore[assignment]
    projection_delta.renumber_match_index = lambda ix, *_a, **_k: ix  # type: ignore[assignment]
    current: Projection = cache.get()
    for name in _DERIVED:
        getattr(current, name)
    kinds: dict[str, Callable[[], None]] = {
        "new supply link": supply, "new capability": capability, "capacity changed": capacity,
        "new company": company, "process held added": process, "company renamed": edit}
    for kind, write in kinds.items():
        patch, derived = [], []
        for _ in range(writes):
            write()
            changes = store.changes_since(current.revision)
            assert changes is not None
            t0 = time.perf_counter()
            patched = projection_delta.apply_changes(current, changes, store)
            t1 = time.perf_counter()
            assert patched is not None
            for name in _DERIVED:  # what the next ranking (or gap, KPI) reads
                getattr(patched, name)
            t2 = time.perf_counter()
            patch.append(t1 - t0)
            derived.append(t2 - t1)
            current = patched
        _emit(what=f"projection patch, {kind}", n=writes, patch_ms=_median_ms(patch),
              derived_ms=_median_ms(derived),
              patch_p90_ms=round(1000 * sorted(patch)[int(0.9 * (writes - 1))], 2),
              load_average=os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-dir", required=True,
                        help="an embedded store (copied: the original is not changed)")
    parser.add_argument("--writes", type=int, default=30, help="writes per kind, patch only")
    parser.add_argument("--full", type=int, default=10,
                        help="supply-link writes with the whole refresh and a ranking")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    _emit(what="machine", cpus=os.cpu_count(), load_average=os.getloadavg()[0],
          code=str(Path(coopgraph.__file__).resolve().parent.parent))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(args.store_dir, Path(tmp) / "store")
        store = EmbeddedStore(Path(tmp) / "store")
        try:
            _run(store, args.writes, args.full, args.seed)
        finally:
            store.close()


if __name__ == "__main__":
    main()
