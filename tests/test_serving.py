"""Serving analytics while writes come in, without a reader ever waiting (issue 16, item 3).

With ``projection_wait=0`` (the API's default) a reader is answered from the
projection held now; the background worker, poked by readers and by every write
through the API, brings it up to the store meanwhile. On both stores.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from coopgraph.api.state import REVISION_HEADER
from coopgraph.graph.schema import EntityKind as K
from coopgraph.graph.store import GraphStore
from coopgraph.queries.projection import Projection, ProjectionCache
from tests.api_support import make_case
from tests.graph_factories import random_graph


def _rows(store: GraphStore, kind: K) -> list[dict[str, Any]]:
    return store.snapshot().rows(kind)


def _until(check: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not caught up in time"
        time.sleep(0.05)


def test_serve_answers_at_once_while_the_refresh_runs_then_catches_up(store: GraphStore):
    store.upsert(random_graph(11, companies=10, categories=6))
    building, release = threading.Event(), threading.Event()

    def slow_builder(snapshot):  # type: ignore[no-untyped-def]
        if cache.builds:  # the first build is quick, the rebuild waits for the test
            building.set()
            release.wait(30)
        return Projection.from_snapshot(snapshot)

    cache = ProjectionCache(store, slow_builder, max_wait=0)
    first = cache.get()
    store.upsert_rows(K.CATEGORY, [{"code": "zz-new", "name_ru": "Новая"}])  # taxonomy: rebuild
    try:
        assert cache.serve() is first  # pokes the worker, answers what is held
        assert building.wait(30), cache.last_error  # the worker is inside the rebuild now
        for _ in range(20):
            started = time.perf_counter()
            assert cache.serve() is first
            assert time.perf_counter() - started < 0.5
    finally:
        release.set()
    _until(lambda: cache.current is not None and cache.current.revision == store.revision())
    assert cache.builds == 2, cache.last_error
    assert cache.serve() is not first


def test_a_write_through_the_api_is_picked_up_without_a_reader(store: GraphStore, tmp_path):  # type: ignore[no-untyped-def]
    store.upsert(random_graph(12, companies=12, categories=6))
    api = make_case(store, tmp_path, seed=False, projection_wait=0.0)
    supplier = _rows(store, K.CAPABILITY)[0]["company_id"]
    got = api.get("/match/buyers", "analyst", params={"supplier": supplier, "k": 3})
    assert got.status_code == 200, got.text
    assert int(got.headers[REVISION_HEADER]) == store.revision()
    row = dict(_rows(store, K.CAPABILITY)[0])
    row["capacity_per_year"] = 4321.0
    written = api.put(f"/capabilities/{row['company_id']}/{row['category']}", "admin", json=row)
    assert written.status_code == 200, written.text
    moved = store.analytic_revision()
    assert moved > int(got.headers[REVISION_HEADER])
    cache = api.app.state.holder.projections()
    # no request reads the projection meanwhile: the write itself poked the worker
    _until(lambda: cache.current is not None and cache.current.revision >= moved)
    got = api.get("/match/buyers", "analyst", params={"supplier": supplier, "k": 3})
    assert got.status_code == 200, got.text
    assert int(got.headers[REVISION_HEADER]) >= moved
