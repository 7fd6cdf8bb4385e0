"""The incremental projection's oracle: patched with the change log == built from scratch.

After every write of a random sequence — capacities changed, capabilities, supply
links, imports, needs, processes, certifications and memberships added and
removed, company attributes edited, companies added (alone, or with their
capabilities, supply links, memberships and certifications in the same write; ids
that sort first, last and in between) and deleted with what cascades — the
projection the cache holds equals ``Projection.from_snapshot(store.snapshot())``,
field by field, on both stores, and company writes are patched, not rebuilt.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coopgraph.graph.models import (
    Capability,
    Company,
    HeldCertification,
    Membership,
    Record,
    ServerIngestJob,
    ServerKey,
    ServerRejects,
    Supply,
)
from coopgraph.graph.schema import KINDS, EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.queries import candidates, index_patch
from coopgraph.queries.candidates import match_index
from coopgraph.queries.factors import FACTORS, resolve_profile
from coopgraph.queries.match import rank_buyers
from coopgraph.queries.projection import DERIVED_INPUTS, Projection, ProjectionCache, same_value
from coopgraph.queries.projection_delta import ShiftedIndex, diff_match_indexes, diff_projections
from coopgraph.queries.ranking_caches import category_bits, profile_order
from coopgraph.queries.registry import registry_fit
from tests.graph_factories import random_graph

K = EntityKind
_TIE_TYPES = ["supply", "rnd", "training", "financing", "joint_project", "production_services",
              "other"]


def _rows(store: GraphStore, kind: EntityKind) -> list[dict[str, Any]]:
    return store.snapshot().rows(kind)


def _random_write(store: GraphStore, rng: random.Random, step: int) -> str:
    """One random write; returns what it did (printed on failure)."""
    snap = store.snapshot()
    companies = [r["id"] for r in snap.rows(K.COMPANY)]
    categories = [r["code"] for r in snap.rows(K.CATEGORY)]
    processes = [r["code"] for r in snap.rows(K.PROCESS)]
    certs = [r["code"] for r in snap.rows(K.CERTIFICATION)]
    clusters = [r["id"] for r in snap.rows(K.CLUSTER)]
    what = rng.choice(["capacity", "cap_add", "cap_del", "supply_add", "supply_del",
                       "supply_edit", "import_add", "import_del", "need_add", "need_del",
                       "company_edit", "process_add", "process_del", "cert_add", "cert_del",
                       "member_add", "member_del", "batch", "company_add", "company_del",
                       "tie_add", "tie_add", "tie_edit", "tie_del", "company_add_with",
                       "company_add_with", "companies_add"])
    c = rng.choice(companies)
    k = rng.choice(categories)
    if what == "capacity" and snap.rows(K.CAPABILITY):
        row = dict(rng.choice(snap.rows(K.CAPABILITY)))
        row["capacity_per_year"] = float(rng.randint(1, 10_000))
        store.upsert_rows(K.CAPABILITY, [row])
    elif what == "cap_add":
        store.upsert_rows(K.CAPABILITY, [{"company_id": c, "category": k,
                                          "capacity_per_year": float(step + 1),
                                          "lead_time_days": 7.0}])
    elif what in ("cap_del", "supply_del", "import_del", "need_del", "process_del",
                  "cert_del", "member_del"):
        kind = {"cap_del": K.CAPABILITY, "supply_del": K.SUPPLY, "import_del": K.IMPORT,
                "need_del": K.NEED, "process_del": K.COMPANY_PROCESS,
                "cert_del": K.HELD_CERTIFICATION, "member_del": K.MEMBERSHIP}[what]
        rows = snap.rows(kind)
        if rows:
            store.remove(kind, [KINDS[kind].key_of(rng.choice(rows))])
    elif what == "supply_add":
        store.upsert_rows(K.SUPPLY, [{"supplier_id": c, "buyer_id": rng.choice(companies),
                                      "category": k, "volume_per_year": float(step),
                                      "since": f"2024-01-0{rng.randint(1, 9)}"}])
    elif what == "supply_edit" and snap.rows(K.SUPPLY):
        row = dict(rng.choice(snap.rows(K.SUPPLY)))
        row["unit_price"] = round(rng.uniform(1, 100), 2)
        store.upsert_rows(K.SUPPLY, [row])
    elif what == "import_add":
        store.upsert_rows(K.IMPORT, [{"company_id": c, "category": k,
                                      "country": rng.choice(["DE", "CN", "TR"]),
                                      "volume_per_year": float(step)}])
    elif what == "need_add":
        store.upsert_rows(K.NEED, [{"company_id": c, "category": k,
                                    "qty_per_year": float(step + 3),
                                    "required_certs": rng.sample(certs, min(len(certs), 1))}])
    elif what == "company_edit":
        row = dict(next(r for r in snap.rows(K.COMPANY) if r["id"] == c))
        row["name"] = f"{row['name']} {step}"
        row["lat"] = round(rng.uniform(50, 55), 4)
        row["roles"] = sorted(rng.sample(["supplier", "oem", "university"], 1))
        store.upsert_rows(K.COMPANY, [row])
    elif what == "process_add" and processes:
        store.upsert_rows(K.COMPANY_PROCESS, [{"company_id": c,
                                               "process": rng.choice(processes)}])
    elif what == "cert_add" and certs:
        store.upsert_rows(K.HELD_CERTIFICATION, [{"company_id": c, "cert": rng.choice(certs),
                                                  "valid_until": "2030-01-01"}])
    elif what == "member_add" and clusters:
        store.upsert_rows(K.MEMBERSHIP, [{"company_id": c, "cluster_id": rng.choice(clusters)}])
    elif what == "batch":  # several kinds in one write
        store.upsert_rows(K.CAPABILITY, [{"company_id": rng.choice(companies), "category": kk,
                                          "capacity_per_year": float(step)}
                                         for kk in rng.sample(categories, 3)])
    elif what == "tie_add":  # a cooperation tie of any type (the KPIs read them)
        partner = rng.choice([x for x in companies if x != c])
        store.upsert_rows(K.TIE, [{"company_id": c, "partner_id": partner,
                                   "tie_type": rng.choice(_TIE_TYPES),
                                   "since": f"202{rng.randint(0, 5)}-0{rng.randint(1, 9)}-01",
                                   "contract": f"№ {step}"}])
    elif what == "tie_edit" and snap.rows(K.TIE):
        row = dict(rng.choice(snap.rows(K.TIE)))
        row["until"] = f"20{rng.randint(26, 35)}-12-31"
        store.upsert_rows(K.TIE, [row])
    elif what == "tie_del" and snap.rows(K.TIE):
        store.remove(K.TIE, [KINDS[K.TIE].key_of(rng.choice(snap.rows(K.TIE)))])
    elif what == "company_add":
        store.upsert_rows(K.COMPANY, [{"id": f"new-{step}", "name": f"Новая {step}",
                                       "roles": ["supplier"]}])
    elif what == "company_del":
        store.remove(K.COMPANY, [c])
    elif what == "company_add_with":  # a new company and its rows, in one write
        new = rng.choice(["0", "m", "~"]) + f"-new-{step}"  # sorts first, between, last
        records: list[Record] = [
            Company(id=new, name=f"Новая {step}", region=rng.choice(["Липецкая", "Новая"]),
                    lat=52.6, lon=39.6, roles=["supplier", "oem"]),
            Capability(company_id=new, category=k, capacity_per_year=float(step + 5)),
            Supply(supplier_id=new, buyer_id=c, category=k, volume_per_year=3.0,
                   since="2025-02-01"),
            Supply(supplier_id=c, buyer_id=new, category=rng.choice(categories))]
        if clusters:
            records.append(Membership(company_id=new, cluster_id=rng.choice(clusters)))
        if certs:
            records.append(HeldCertification(company_id=new, cert=rng.choice(certs),
                                              valid_until="2031-01-01"))
        store.upsert(records)
    elif what == "companies_add":  # several companies at once, and one edited
        row = dict(next(r for r in snap.rows(K.COMPANY) if r["id"] == c))
        row["region"] = f"Регион {step}"
        store.upsert_rows(K.COMPANY, [row, *({"id": f"{p}-many-{step}", "name": f"M {p}",
                                              "roles": ["buyer"]} for p in "0az")])
    return what


@pytest.mark.parametrize("seed", [0, 1])
def test_patched_projection_equals_rebuilt(store: GraphStore, seed: int):
    """The projection, its derived structures, its match index and a ranking read from
    their caches: patched after every write == built from scratch."""
    store.upsert(random_graph(seed, companies=25, categories=12))
    cache = ProjectionCache(store)
    _use(cache.get(), None)
    rng = random.Random(seed)
    done = []
    kept = 0
    for step in range(40):
        builds = cache.builds
        done.append(_random_write(store, rng, step))
        before = cache.current
        old_ix = before.extra.get("match_index") if before is not None else None
        patched = cache.get()
        scratch = Projection.from_snapshot(store.snapshot())
        assert patched.revision == store.revision()
        diff = diff_projections(patched, scratch)
        assert not diff, f"seed {seed}, after {done}: fields differ: {diff}"
        kept += patched.extra.get("match_index") is old_ix
        ix_diff = diff_match_indexes(match_index(patched), match_index(scratch))
        assert not ix_diff, f"seed {seed}, after {done}: match index differs: {ix_diff}"
        for name in DERIVED_INPUTS:  # carried over from the old projection, or computed
            assert same_value(getattr(patched, name) if name != "cooperation_graph"
                              else sorted(patched.cooperation_graph.edges),
                              getattr(scratch, name) if name != "cooperation_graph"
                              else sorted(scratch.cooperation_graph.edges)), (name, done)
        _check_carried_caches(patched, scratch, done)
        _use(patched, scratch)
        if done[-1] in ("company_add", "company_add_with", "companies_add", "company_del"):
            assert cache.builds == builds, f"seed {seed}: {done[-1]} rebuilt, after {done}"
    assert cache.deltas > 10, (cache.deltas, cache.builds, done)
    assert kept > 3, (kept, done)  # writes that change no part keep the whole index


def test_tie_writes_are_patched_not_rebuilt(store: GraphStore):
    """A tie added, edited and removed (the request workflow's agreement writes one) patches
    the projection: no rebuild, and the KPIs' input equals a build from scratch."""
    store.upsert(random_graph(3, companies=12, categories=6))
    cache = ProjectionCache(store)
    cache.get()
    builds, deltas = cache.builds, cache.deltas
    ids = [r["id"] for r in _rows(store, K.COMPANY)]
    a, b, c = ids[0], ids[1], ids[2]
    writes = [
        lambda: store.upsert_rows(K.TIE, [{"company_id": a, "partner_id": b,
                                           "tie_type": "training", "since": "2025-09-01"},
                                          {"company_id": c, "partner_id": a,
                                           "tie_type": "rnd"}]),
        lambda: store.upsert_rows(K.TIE, [{"company_id": a, "partner_id": b,
                                           "tie_type": "training", "since": "2025-09-01",
                                           "until": "2027-06-30"}]),
        lambda: store.remove(K.TIE, [(c, a, "rnd")]),
    ]
    for n, write in enumerate(writes, 1):
        write()
        patched = cache.get()
        scratch = Projection.from_snapshot(store.snapshot())
        assert not diff_projections(patched, scratch), n
        assert (cache.builds, cache.deltas) == (builds, deltas + n)
    ties = {(r["company_id"], r["partner_id"], r["tie_type"]): r for r in cache.get().tie_rows}
    assert str(ties[(a, b, "training")]["until"]) == "2027-06-30"
    assert (c, a, "rnd") not in ties


def _check_carried_caches(patched: Projection, scratch: Projection, done: list[str]) -> None:
    """What a patch carries over from the old projection and index (the registry fit, the
    ranking's caches: buyer bits per category, the profile's row orders) equals the same
    computed afresh."""
    if "registry_fit" in patched.extra:
        assert same_value(patched.extra["registry_fit"], registry_fit(scratch)), done
    ix, fresh = match_index(patched), match_index(scratch)
    for key, value in ix.cache.items():
        if key == "bits":
            assert same_value(value, category_bits(fresh)), done
        elif isinstance(key, tuple) and key[:1] == ("order",):
            want = profile_order(fresh, _order_weights(key))
            assert same_value(value.rows, want.rows), (key, done)
            assert same_value(value.keys, want.keys), (key, done)
            assert (value.span, value.b_max) == (want.span, want.b_max), (key, done)


def _order_weights(key: tuple[Any, ...]) -> Any:
    """A weight vector whose demand, import and popularity weights are those of ``key``."""
    w = resolve_profile(None).vector().copy()
    w[FACTORS.index("demand")], w[FACTORS.index("import")], w[FACTORS.index("popularity")] = \
        key[1:]
    return w


def _use(patched: Projection, scratch: Projection | None) -> None:
    """Rank on ``patched`` (filling the index's caches, which a patch may keep) and compare
    with the same rankings on ``scratch``."""
    suppliers = sorted({patched.company_ids[int(i)] for i in patched.cap_company})[:3]
    for supplier in suppliers:
        got = rank_buyers(patched, supplier, k=5).model_dump()
        if scratch is not None:
            assert got == rank_buyers(scratch, supplier, k=5).model_dump(), supplier


def test_server_state_and_workflow_writes_leave_the_analytic_revision(store: GraphStore):
    """Internal kinds (an ingest job's heartbeats, its reject chunks, an API key) and the
    workflow kinds move the store's revision but not its analytic revision: the cached
    projection stays current, with neither a patch nor a rebuild."""
    store.upsert(random_graph(7, companies=10, categories=6))
    cache = ProjectionCache(store)
    first = cache.get()
    revision, analytic = store.revision(), store.analytic_revision()
    assert analytic == revision == first.revision
    now = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)
    writes = [
        ServerIngestJob(id="job-1", status="running", created_at=now, heartbeat_at=now),
        ServerIngestJob(id="job-1", status="running", created_at=now,
                        heartbeat_at=now + dt.timedelta(seconds=10)),
        ServerRejects(id="job-1-0", job_id="job-1", n=0, rows="[]"),
        ServerKey(id="key-1", role="analyst", hash="ab" * 32, created_at=now),
    ]
    for n, record in enumerate(writes, 1):
        store.upsert([record])
        assert (store.revision(), store.analytic_revision()) == (revision + n, analytic)
        assert cache.get() is first
    store.remove(K.API_KEY, [("key-1",)])
    assert store.analytic_revision() == analytic
    assert cache.get() is first and (cache.builds, cache.deltas) == (1, 0)
    assert not [k for c in store.changes_since(revision) or [] for k in c.keys
                if KINDS[k].analytic]
    row = dict(_rows(store, K.CAPABILITY)[0])
    row["capacity_per_year"] = 1234.0
    store.upsert_rows(K.CAPABILITY, [row])  # analytic: moves both
    assert store.analytic_revision() == store.revision() == revision + len(writes) + 2
    patched = cache.get()
    assert patched.revision == store.revision() and cache.deltas == 1
    assert not diff_projections(patched, Projection.from_snapshot(store.snapshot()))


def test_change_log_lists_a_cascade(store: GraphStore):
    store.upsert(random_graph(3, companies=10, categories=6))
    revision = store.revision()
    victim = _rows(store, K.CAPABILITY)[0]["company_id"]
    removal = store.remove(K.COMPANY, [victim])
    changes = store.changes_since(revision)
    assert changes is not None and [c.revision for c in changes] == [store.revision()]
    logged = {k: set(v) for k, v in changes[0].keys.items()}
    for kind, keys in removal.deleted.items():
        assert set(keys) <= logged[kind]
    for kind, keys in removal.detached.items():
        assert set(keys) <= logged[kind]


def test_a_large_write_rebuilds(store: GraphStore):
    store.upsert(random_graph(4, companies=10, categories=6))
    cache = ProjectionCache(store)
    cache.get()
    # a load of at most MAX_KEYS rows lists its keys on both stores, and a delta larger
    # than max(50, MAX_FRACTION of the rows) is rebuilt rather than patched
    with store.load() as load:
        load.upsert_rows(K.COMPANY, [{"id": f"bulk-{i}", "name": "Bulk", "roles": []}
                                     for i in range(60)])
    assert cache.get().revision == store.revision()
    assert cache.builds == 2 and cache.deltas == 0


def _ingest_csv(store: GraphStore, path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as a CSV file and ingest it through the pipeline (one staged load)."""
    from coopgraph.ingest.pipeline import ingest_paths

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = ingest_paths(store, [path])
    assert report.ok and report.total("read") == len(rows), report.rejects


def test_a_one_row_ingest_is_patched_not_rebuilt(store: GraphStore, tmp_path: Path):
    """An ingest of a small CSV — one capability's capacity changed, then one supply link
    added — is a load (staged, committed at once; on Neo4j chunk by chunk) of at most
    MAX_KEYS rows: both stores log its keys, and the next refresh patches the projection
    (the build counter does not move) to what a build from scratch gives."""
    store.upsert(random_graph(5, companies=12, categories=6))
    cache = ProjectionCache(store)
    first = cache.get()
    builds, deltas = cache.builds, cache.deltas
    cap = dict(_rows(store, K.CAPABILITY)[0])
    capacity = float(cap.get("capacity_per_year") or 0) + 777.0
    links = {KINDS[K.SUPPLY].key_of(r) for r in _rows(store, K.SUPPLY)}
    ids = sorted(r["id"] for r in _rows(store, K.COMPANY))
    category = cap["category"]
    supplier, buyer = next((a, b) for a in ids for b in ids
                           if a != b and (a, b, category) not in links)
    ingests = [
        ("capabilities.csv", K.CAPABILITY, (cap["company_id"], category),
         [{"company_id": cap["company_id"], "category": category,
           "capacity_per_year": capacity}]),
        ("supplies.csv", K.SUPPLY, (supplier, buyer, category),
         [{"supplier_id": supplier, "buyer_id": buyer, "category": category,
           "volume_per_year": 4321.0, "since": "2026-01-15"}]),
    ]
    before = first
    for n, (name, kind, key, rows) in enumerate(ingests, 1):
        revision = store.revision()
        _ingest_csv(store, tmp_path / name, rows)
        changes = store.changes_since(revision)
        assert changes, name
        assert not any(c.full for c in changes), (name, changes)
        assert key in {k for c in changes for k in c.keys.get(kind, ())}, (name, changes)
        patched = cache.get()
        assert patched.revision == store.revision()
        assert (cache.builds, cache.deltas) == (builds, deltas + n), name
        scratch = Projection.from_snapshot(store.snapshot())
        assert not diff_projections(patched, scratch), name
        assert diff_projections(before, scratch), name  # the ingest did change it
        before = patched
    assert any(float(c) == capacity for c in cache.get().cap_capacity)


def test_serving_cache_answers_the_old_projection_during_a_rebuild(store: GraphStore):
    store.upsert(random_graph(5, companies=10, categories=6))
    release = threading.Event()

    def slow_builder(snapshot):  # type: ignore[no-untyped-def]
        if cache.builds:  # the first build is quick, the rebuilds wait
            release.wait(10)
        return Projection.from_snapshot(snapshot)

    cache = ProjectionCache(store, slow_builder, max_wait=0.05)
    first = cache.get()
    store.upsert_rows(K.CATEGORY, [{"code": "zz-new", "name_ru": "Новая"}])  # taxonomy: a rebuild
    started = time.perf_counter()
    assert cache.get() is first  # not blocked: the previous projection
    assert time.perf_counter() - started < 2
    release.set()
    # Readers keep asking: refreshes are spaced by the time the last one took, so on a
    # loaded machine the first get() after the write may not have started one yet.
    deadline = time.monotonic() + 120
    while cache.get().revision != store.revision() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get().revision == store.revision(), cache.last_error


def test_analytic_responses_carry_their_revision(store: GraphStore, tmp_path):  # type: ignore[no-untyped-def]
    from coopgraph.api.state import REVISION_HEADER
    from tests.api_support import (
        first_capability_with_new_capacity,
        make_case,
        rank_at_current_revision,
    )

    store.upsert(random_graph(6, companies=12, categories=6))
    api = make_case(store, tmp_path, seed=False)
    supplier, _revision = rank_at_current_revision(api, store)
    row = first_capability_with_new_capacity(store)
    store.upsert_rows(K.CAPABILITY, [row])  # patched, not rebuilt: the answer is fresh
    got = api.get("/match/buyers", "analyst", params={"supplier": supplier, "k": 3})
    assert int(got.headers[REVISION_HEADER]) == store.revision()
    assert REVISION_HEADER not in api.get("/health", None).headers


def test_a_deferred_snapshot_is_the_revision_it_was_taken_at(store: GraphStore):
    """``snapshot_deferred()`` fixes the content; writes before its rows are made (an
    update, a delete, an insert, of a node and of a relationship) do not show in them."""
    store.upsert(random_graph(7, companies=12, categories=6))
    expected = store.snapshot()
    make = store.snapshot_deferred()
    cap = dict(_rows(store, K.CAPABILITY)[0])
    cap["capacity_per_year"] = 98765.0
    company = dict(_rows(store, K.COMPANY)[0])
    company["name"] = "Переименована"
    store.upsert_rows(K.CAPABILITY, [cap])
    store.upsert_rows(K.COMPANY, [company])
    store.remove(K.SUPPLY, [KINDS[K.SUPPLY].key_of(_rows(store, K.SUPPLY)[0])])
    store.upsert_rows(K.COMPANY, [{"id": "zz-later", "name": "Later", "roles": []}])
    got = make()
    assert got.revision == expected.revision < store.revision()
    assert got == expected
    assert store.snapshot() != expected  # the writes did happen


def test_a_write_does_not_wait_for_the_rows_of_a_snapshot(tmp_path):  # type: ignore[no-untyped-def]
    """Behind the API's lock (SerializedStore), a snapshot holds the lock only while it
    captures the records: a write goes through while the rows are still being made."""
    from coopgraph.api.state import SerializedStore
    from coopgraph.graph.embedded import EmbeddedStore

    making, release = threading.Event(), threading.Event()

    class SlowRows(EmbeddedStore):
        def snapshot_deferred(self):  # type: ignore[no-untyped-def]
            make = super().snapshot_deferred()

            def slow():  # type: ignore[no-untyped-def]
                making.set()
                release.wait(30)
                return make()
            return slow

    inner = SlowRows(tmp_path / "store")
    inner.upsert(random_graph(8, companies=10, categories=6))
    store = SerializedStore(inner)
    expected = inner.snapshot()
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(store.snapshot()))
    reader.start()
    assert making.wait(30)
    writer = threading.Thread(target=lambda: store.upsert_rows(
        K.COMPANY, [{"id": "zz-during", "name": "Во время", "roles": []}]))
    writer.start()
    writer.join(20)
    done = not writer.is_alive()  # the write returned while the snapshot's rows wait
    release.set()
    reader.join(30)
    writer.join(30)
    assert done, "the write waited for the snapshot"
    assert got == [expected] and store.revision() == expected.revision + 1


def test_shifted_company_index_equals_a_fresh_dict():
    """Companies inserted again and again (one or several at a time, anywhere): the
    shifted index answers what a dict built from the new id list answers."""
    rng = random.Random(5)
    ids = sorted(f"c{rng.randrange(10**6):07d}" for _ in range(40))
    ids = sorted(set(ids))
    index: Any = {c: i for i, c in enumerate(ids)}
    for step in range(30):
        new = sorted({f"c{rng.randrange(10**6):07d}-{step}" for _ in range(rng.randint(1, 4))})
        merged = sorted(ids + new)
        final = [merged.index(c) for c in new]
        index = ShiftedIndex.over(index, [f - n for n, f in enumerate(final)],
                                  dict(zip(new, final, strict=True)))
        ids = merged
        assert dict(index.items()) == {c: i for i, c in enumerate(ids)}, step
        assert len(index) == len(ids) and "missing" not in index
        assert index.get("missing") is None


def _patched_without_rebuilding_parts(cache: ProjectionCache, monkeypatch: pytest.MonkeyPatch,
                                      whole: dict[str, Any]) -> tuple[Projection, Any]:
    """The cache's patched projection and its match index, failing if the index builds its
    declared-category, demand or network part whole instead of patching it."""
    with monkeypatch.context() as m:
        def refused(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
            raise AssertionError("part built whole")
        parts = {name: ((refused, *spec[1:]) if name in ("decl", "demand", "network")
                        else spec) for name, spec in whole.items()}
        m.setattr(candidates, "INDEX_PARTS", parts)  # a build from scratch
        m.setattr(index_patch, "INDEX_PARTS", parts)  # a part the patch would redo whole
        patched = cache.get()
        return patched, match_index(patched)


def test_links_and_capabilities_patch_the_match_index_row_by_row(store: GraphStore,
                                                                 monkeypatch: pytest.MonkeyPatch):
    """A new supply link, a new capability, a new need and a new company with a capability:
    the match index's decl, demand and network parts are patched row by row (building them
    whole is not allowed here), the ranking's caches carried, and all equal a build."""

    store.upsert(random_graph(11, companies=30, categories=10))
    cache = ProjectionCache(store)
    first = cache.get()
    _use(first, None)
    ids = [r["id"] for r in _rows(store, K.COMPANY)]
    cats = [r["code"] for r in _rows(store, K.CATEGORY)]
    writes = [
        lambda: store.upsert_rows(K.SUPPLY, [{"supplier_id": ids[3], "buyer_id": ids[7],
                                              "category": cats[2], "volume_per_year": 5.0,
                                              "since": "2031-01-01"}]),
        lambda: store.upsert_rows(K.CAPABILITY, [{"company_id": ids[5], "category": cats[4],
                                                  "capacity_per_year": 50.0}]),
        lambda: store.upsert_rows(K.NEED, [{"company_id": ids[9], "category": cats[1],
                                            "qty_per_year": 12.0}]),
        lambda: store.upsert([Company(id="m-new", name="Новая", roles=["supplier"]),
                              Capability(company_id="m-new", category=cats[3],
                                         capacity_per_year=10.0)]),
    ]
    whole = dict(candidates.INDEX_PARTS)
    for n, write in enumerate(writes):
        write()
        patched, ix = _patched_without_rebuilding_parts(cache, monkeypatch, whole)
        scratch = Projection.from_snapshot(store.snapshot())
        assert not diff_match_indexes(ix, match_index(scratch)), n
        assert cache.builds == 1
        _check_carried_caches(patched, scratch, [str(n)])
        assert "bits" in ix.cache and any(isinstance(k, tuple) for k in ix.cache), n
        _use(patched, scratch)


def test_renumbered_company_numbers_equal_the_gathered_map():
    """``renumbered`` (a comparison per insertion when there are few) and
    ``renumbered_sorted`` (a run per insertion) equal the map's gather, for one to eight
    companies inserted anywhere, ends included."""
    from coopgraph.queries.sparse_rows import renumbered, renumbered_sorted

    rng = np.random.default_rng(5)
    n_old = 40
    values = rng.integers(0, n_old, 500).astype(np.int32)
    for k in range(1, 9):
        inserted = np.sort(rng.choice(n_old + k, size=k, replace=False))
        if k == 2:
            inserted = np.array([0, n_old + 1])  # before the first and after the last
        kept = np.setdiff1d(np.arange(n_old + k), inserted)
        mapped = kept.astype(np.int64)  # old company i -> its new index
        got = renumbered(values, mapped, inserted)
        assert got.dtype == values.dtype
        assert np.array_equal(got, mapped[values]), (k, inserted)
        ascending = np.sort(values)
        got = renumbered_sorted(ascending, mapped, inserted)
        assert got.dtype == values.dtype
        assert np.array_equal(got, mapped[ascending]), (k, inserted)


def test_splice_applies_inserts_replaces_and_deletes_anywhere():
    """``_splice`` (one copy of a column, the edits spliced in) gives what editing a list
    row by row gives: inserts (several at one spot, at both ends), replaced and deleted
    rows, for arrays and lists, a few edits (edited in place) and many (runs copied)."""
    from coopgraph.queries.projection_delta import _DELETE, _INSERT, _REPLACE, _splice

    rng = random.Random(7)
    for trial in range(200):
        n = rng.randint(0, 40)
        old = [float(i) for i in range(n)]
        edits: list[tuple[int, int, list[Any] | None]] = []
        for pos in range(n + 1):  # inserts before row pos, then row pos replaced or deleted
            for _ in range(rng.choice([0, 0, 0, 1, 2])):
                edits.append((pos, _INSERT, [-(trial * 1000.0 + len(edits))]))
            if pos < n and rng.random() < 0.2:
                what = rng.choice([_REPLACE, _DELETE])
                edits.append((pos, what, [1e6 + pos] if what == _REPLACE else None))
        want: list[float] = []
        for pos in range(n + 1):
            want += [v[0] for p, w, v in edits if p == pos and w == _INSERT and v]
            what = next((w for p, w, _v in edits if p == pos and w != _INSERT), None)
            if pos < n and what is None:
                want.append(old[pos])
            elif what == _REPLACE:
                want.append(1e6 + pos)
        got_list = _splice(list(old), edits, 0)
        got_array = _splice(np.array(old), edits, 0)
        assert got_list == want, (trial, edits)
        assert isinstance(got_array, np.ndarray) and got_array.tolist() == want, (trial, edits)


def test_many_writes_to_one_table_patched_at_once(store: GraphStore):
    """Writes collected between two refreshes — supply links added (more than the few a
    list column is edited in place for), edited and removed, capabilities, imports and
    needs added and removed, in one delta — patch the projection and the structures
    derived from it (committed volumes, the capability matrix…) to what a build gives."""
    store.upsert(random_graph(21, companies=60, categories=12))
    cache = ProjectionCache(store)
    cache.get()
    rng = random.Random(21)
    companies = [r["id"] for r in _rows(store, K.COMPANY)]
    categories = [r["code"] for r in _rows(store, K.CATEGORY)]
    for round_ in range(3):
        deltas = cache.deltas
        before = cache.get()
        for name in DERIVED_INPUTS:  # computed: the patch carries or patches them
            if name != "cooperation_graph":
                getattr(before, name)
        sups = _rows(store, K.SUPPLY)
        store.remove(K.SUPPLY, [KINDS[K.SUPPLY].key_of(r) for r in rng.sample(sups, 4)])
        edited = [dict(r, since=f"2030-0{round_ + 1}-01") for r in rng.sample(sups, 3)]
        store.upsert_rows(K.SUPPLY, edited)
        store.upsert_rows(K.SUPPLY, [{"supplier_id": rng.choice(companies),
                                      "buyer_id": rng.choice(companies),
                                      "category": rng.choice(categories),
                                      "volume_per_year": float(i),
                                      "since": f"2029-0{rng.randint(1, 9)}-01"}
                                     for i in range(20)])
        caps = _rows(store, K.CAPABILITY)
        store.remove(K.CAPABILITY, [KINDS[K.CAPABILITY].key_of(rng.choice(caps))])
        store.upsert_rows(K.CAPABILITY, [{"company_id": rng.choice(companies),
                                          "category": rng.choice(categories),
                                          "capacity_per_year": 9.0} for _ in range(3)])
        for kind in (K.IMPORT, K.NEED):
            rows = _rows(store, kind)
            if rows:
                store.remove(kind, [KINDS[kind].key_of(rng.choice(rows))])
        store.upsert_rows(K.IMPORT, [{"company_id": rng.choice(companies),
                                      "category": rng.choice(categories), "country": country,
                                      "volume_per_year": 4.0} for country in ("AA", "ZZ")])
        store.upsert_rows(K.NEED, [{"company_id": rng.choice(companies),
                                    "category": rng.choice(categories), "qty_per_year": 2.0,
                                    "required_certs": []}])
        patched = cache.get()
        assert cache.deltas == deltas + 1, round_  # patched, not rebuilt
        scratch = Projection.from_snapshot(store.snapshot())
        assert not diff_projections(patched, scratch), round_
        for name in DERIVED_INPUTS:
            if name != "cooperation_graph":
                assert same_value(getattr(patched, name), getattr(scratch, name)), (name, round_)


@pytest.mark.parametrize("categories", [6, 300])
def test_capabilities_by_category_lists_each_category_in_row_order(embedded_store: GraphStore,
                                                                     categories: int):
    """``capabilities_by_category`` (a radix sort of narrow integers, 8- or 16-bit by the
    number of categories) gives each category's capability rows, ascending, and the
    capability matrix built directly from rows in key order equals the coo build."""
    from coopgraph.queries.projection_delta import _capability_matrix

    embedded_store.upsert(random_graph(8, companies=30, categories=categories))
    proj = Projection.from_snapshot(embedded_store.snapshot())
    indptr, rows = proj.capabilities_by_category
    assert len(indptr) == proj.n_categories + 1 and len(rows) == len(proj.cap_category) > 0
    for c in range(proj.n_categories):
        want = np.flatnonzero(proj.cap_category == c)
        assert rows[indptr[c]:indptr[c + 1]].tolist() == want.tolist(), c
    assert same_value(_capability_matrix(proj), proj.capability_matrix)


def test_rows_out_of_key_order_are_not_patched(embedded_store: GraphStore):
    """The patch finds rows by binary search on their index columns: a projection whose
    rows are not in key order (not what a build makes) is not marked patchable, and a
    write then answers ``None`` (rebuild) rather than a wrong patch."""
    import dataclasses

    from coopgraph.queries.projection_delta import PATCHABLE_MARK, apply_changes, mark_patchable

    embedded_store.upsert(random_graph(9, companies=15, categories=6))
    built = Projection.from_snapshot(embedded_store.snapshot())
    assert mark_patchable(built).extra.get(PATCHABLE_MARK)
    for swapped in (["sup_supplier", "sup_buyer", "sup_category"], ["company_ids"]):
        shuffled = dataclasses.replace(built, extra={},
                                       **{f: getattr(built, f)[::-1] for f in swapped})
        assert PATCHABLE_MARK not in mark_patchable(shuffled).extra, swapped
        revision = embedded_store.revision()
        embedded_store.upsert_rows(K.CAPABILITY, [{"company_id": built.company_ids[0],
                                                   "category": built.category_codes[0],
                                                   "capacity_per_year": 3.0}])
        changes = embedded_store.changes_since(revision)
        assert changes and apply_changes(shuffled, changes, embedded_store) is None


@pytest.mark.parametrize("reads", [0, 10**9])
def test_inserted_list_equals_the_list_with_the_companies_inserted(monkeypatch, reads: int):
    """``InsertedList`` (a company list with companies inserted, the old list not copied)
    gives every item, slice, comparison and pickle that inserting into a copy gives, over
    successive insertions (composed over one base, then made into a list past
    ``MAX_INSERTED``), ends included, items read by bisect or from the made list (past
    ``MAX_READS``); the base list stays as it was."""
    import pickle

    from coopgraph.queries.projection import InsertedList, same_value

    monkeypatch.setattr(InsertedList, "MAX_READS", reads)

    rng = np.random.default_rng(11)
    base = [f"c{i}" for i in range(30)]
    kept = list(base)
    current: Any = base
    expected = list(base)
    for step in range(40):
        k = int(rng.integers(1, 4))
        n = len(expected) + k
        final = sorted(rng.choice(n, size=k, replace=False).tolist())
        if step == 3:
            final = [0, n - 1][:k] if k <= 2 else [0, 1, n - 1]
            k = len(final)
        values = [f"new{step}.{j}" for j in range(k)]
        for p, v in zip(final, values, strict=True):
            expected.insert(p, v)
        current = InsertedList.over(current, final, values)
        assert len(current) == len(expected)
        assert [current[i] for i in range(len(expected))] == expected, step
        assert current[-1] == expected[-1] and current[np.int64(2)] == expected[2]
        with pytest.raises(IndexError):
            current[len(expected)]
        if step % 7 == 0:  # read whole now and then: the next insertion starts from it
            assert list(current) == expected and current[2:9] == expected[2:9]
    assert isinstance(current, InsertedList | list)
    assert current == expected and same_value(current, expected)
    assert same_value(expected, current) and not same_value(current, expected[:-1])
    assert pickle.loads(pickle.dumps(current)) == expected
    assert base == kept
    folded = InsertedList.over(base, list(range(InsertedList.MAX_INSERTED + 1)),
                               ["x"] * (InsertedList.MAX_INSERTED + 1))
    assert isinstance(folded, list) and folded[:3] == ["x"] * 3 and folded[-1] == base[-1]


def test_splice_csc_rows_equals_the_conversion_of_the_spliced_rows():
    """``splice_csc_rows`` (the changed rows' entries taken out of a CSC and put back where
    they sort) equals ``tocsc`` of the CSR with those rows replaced: rows emptied, filled,
    rewritten, at both ends, entries at a column's start and end."""
    import scipy.sparse as sp

    from coopgraph.queries.sparse_rows import splice_csc_rows, splice_rows

    rng = np.random.default_rng(7)
    for trial in range(30):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 8))
        a = sp.random(n, m, density=0.3, format="csr", random_state=trial,
                      data_rvs=lambda k: rng.integers(1, 3, k)).astype(np.int8)
        a.sort_indices()
        rows = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
        if trial == 0:
            rows = np.array([0, n - 1]) if n > 1 else np.array([0])
        sub = sp.random(len(rows), m, density=float(rng.choice([0.0, 0.4, 1.0])),
                        format="csr", random_state=100 + trial,
                        data_rvs=lambda k: rng.integers(1, 3, k)).astype(np.int8)
        want = splice_rows(a, rows, sub).tocsc()
        got = splice_csc_rows(a.tocsc(), rows, a[rows], sub)
        assert got.dtype == want.dtype and got.shape == want.shape
        got_sorted = got.copy()
        got_sorted.sort_indices()
        assert np.array_equal(got.indices, got_sorted.indices), trial  # sorted already
        assert np.array_equal(got.indptr, want.indptr), trial
        assert np.array_equal(got.indices, want.indices), trial
        assert np.array_equal(got.data, want.data), trial


def test_splice_rows_equals_the_rows_replaced_one_by_one():
    """``splice_rows`` (slices joined, the row pointers moved by a stretch per row) equals
    the matrix rebuilt with those rows replaced: rows emptied, filled, grown and shrunk,
    at both ends; with ``ones`` (its data taken from the shared array of ones) the same."""
    import scipy.sparse as sp

    from coopgraph.queries.sparse_rows import splice_rows

    rng = np.random.default_rng(11)
    for trial in range(40):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 9))
        a = sp.random(n, m, density=0.3, format="csr", random_state=trial)
        a.data[:] = 1.0
        a.sort_indices()
        rows = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
        if trial == 0:
            rows = np.array([0, n - 1]) if n > 1 else np.array([0])
        sub = sp.random(len(rows), m, density=float(rng.choice([0.0, 0.4, 1.0])),
                        format="csr", random_state=100 + trial)
        sub.data[:] = 1.0
        want = a.tolil()
        for j, r in enumerate(rows.tolist()):
            want[r, :] = sub[j].toarray()
        want = want.tocsr()
        want.sort_indices()
        for ones in (False, True):
            got = splice_rows(a, rows, sub, ones=ones)
            assert got.shape == want.shape and got.indptr.dtype == a.indptr.dtype, trial
            assert np.array_equal(got.indptr, want.indptr), (trial, ones)
            assert np.array_equal(got.indices, want.indices), (trial, ones)
            assert np.array_equal(got.data, want.data), (trial, ones)


def test_link_writes_patch_sales_groups_and_lists_row_by_row(store: GraphStore,
                                                           monkeypatch: pytest.MonkeyPatch):
    """Links that keep a supplier's (supplier, category) pairs (its sales count and the
    category's popularity move), that add a pair, that give one buyer two new demand rows
    and another one fewer, in one delta and alone: the decl, demand and network parts are
    patched row by row (building them whole is not allowed here) and equal a build; the
    links' dates gain the new rows without a copy of the list (InsertedList)."""
    from coopgraph.queries.projection import InsertedList

    store.upsert(random_graph(17, companies=40, categories=12))
    cache = ProjectionCache(store)
    _use(cache.get(), None)
    ids = [r["id"] for r in _rows(store, K.COMPANY)]
    cats = [r["code"] for r in _rows(store, K.CATEGORY)]
    links = _rows(store, K.SUPPLY)
    have = {(r["supplier_id"], r["buyer_id"], r["category"]) for r in links}
    seller, sold = links[0]["supplier_id"], links[0]["category"]
    new_buyer = next(b for b in ids if b != seller and (seller, b, sold) not in have)
    unsold = next(c for c in cats if not any(r["supplier_id"] == seller and r["category"] == c
                                             for r in links))
    buyer = next(b for b in ids if b not in (seller, new_buyer))

    def link(s: str, b: str, c: str) -> dict[str, Any]:
        return {"supplier_id": s, "buyer_id": b, "category": c, "volume_per_year": 2.0,
                "since": "2030-05-01"}

    writes = [
        lambda: store.upsert_rows(K.SUPPLY, [link(seller, new_buyer, sold)]),  # same pairs
        lambda: store.upsert_rows(K.SUPPLY, [link(seller, buyer, unsold)]),  # a new pair
        lambda: (store.upsert_rows(K.SUPPLY, [link(ids[1], ids[2], cats[0]),
                                              link(ids[3], ids[2], cats[5]),
                                              link(ids[4], ids[6], cats[7])]),
                 store.remove(K.SUPPLY, [KINDS[K.SUPPLY].key_of(links[-1])])),
    ]
    whole = dict(candidates.INDEX_PARTS)
    for n, write in enumerate(writes):
        old_since = cache.get().sup_since
        write()
        patched, ix = _patched_without_rebuilding_parts(cache, monkeypatch, whole)
        scratch = Projection.from_snapshot(store.snapshot())
        assert not diff_projections(patched, scratch), n
        assert not diff_match_indexes(ix, match_index(scratch)), n
        assert cache.builds == 1, n
        if n < 2:  # rows only added: the dates' list is the old one with them inserted
            assert isinstance(patched.sup_since, InsertedList), n
            assert list(patched.sup_since) == list(scratch.sup_since), n
            assert len(patched.sup_since) == len(old_since) + 1, n
        _check_carried_caches(patched, scratch, [str(n)])
        _use(patched, scratch)


def test_column_major_copies_wait_for_their_first_read(embedded_store: GraphStore):
    """``decl_csc``, ``company_process_csc`` and ``membership_csc`` (read by the rankings of
    suppliers only) are computed on first read and then kept; an index pickles with them
    still deferred; a new company leaves them deferred when nobody read them and
    renumbers them when someone did — equal to a build either way."""
    import pickle

    from coopgraph.queries.candidates import DEFERRED_FIELDS

    embedded_store.upsert(random_graph(5, companies=30, categories=8))
    cache = ProjectionCache(embedded_store)
    ix = match_index(cache.get())
    assert not any(ix.computed(name) for name in DEFERRED_FIELDS)
    again = pickle.loads(pickle.dumps(ix))
    assert not any(again.computed(name) for name in DEFERRED_FIELDS)
    assert same_value(again.decl_csc, ix.decl.tocsc()) and again.computed("decl_csc")
    with pytest.raises(AttributeError):
        _ = ix.no_such_field  # type: ignore[attr-defined]
    for step, read in enumerate((False, True)):
        if read:
            for name in DEFERRED_FIELDS:
                getattr(ix, name)
        category = _rows(embedded_store, K.CATEGORY)[step]["code"]
        embedded_store.upsert([Company(id=f"m-new-{step}", name="Новая", roles=["supplier"]),
                               Capability(company_id=f"m-new-{step}", category=category,
                                          capacity_per_year=5.0)])
        patched = cache.get()
        assert cache.builds == 1
        new_ix = match_index(patched)
        assert all(new_ix.computed(name) is read for name in DEFERRED_FIELDS), step
        scratch = match_index(Projection.from_snapshot(embedded_store.snapshot()))
        assert not diff_match_indexes(new_ix, scratch), step
        ix = new_ix
