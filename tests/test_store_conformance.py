"""The conformance suite: one set of tests that every GraphStore must pass, on both stores.

The embedded store is the reference; the last tests write the same random
graphs into both and compare snapshots, listings and counts.
"""

from __future__ import annotations

import datetime as dt
import gc
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import InvalidQuery, MissingReference, NotFound
from coopgraph.graph.journal_store import JournalStore
from coopgraph.graph.models import (
    BomLine,
    Capability,
    Category,
    Company,
    Import,
    Process,
    Product,
    Record,
)
from coopgraph.graph.neo4j_store import Neo4jStore
from coopgraph.graph.schema import DATA_KINDS, INTERNAL_KINDS, KINDS, EntityKind, kind_of
from coopgraph.graph.store import GraphStore, Snapshot
from coopgraph.queries.projection import Projection
from coopgraph.queries.projection_delta import diff_projections
from tests.graph_factories import INGESTED, full_graph, random_graph

ALL_KINDS = list(EntityKind)


def _key(record: Record) -> tuple[str, ...]:
    return KINDS[kind_of(record)].key_of(record.model_dump(mode="json"))


def _get_key(record: Record) -> str | tuple[str, ...]:
    key = _key(record)
    return key[0] if len(key) == 1 else key


def _zero_counts() -> dict[str, int]:
    return {k.value: 0 for k in EntityKind}


# --- round trip -------------------------------------------------------------------


def test_full_graph_covers_every_kind():
    assert {kind_of(r) for r in full_graph()} == set(EntityKind)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.value)
def test_round_trip_of_every_kind(store: GraphStore, kind: EntityKind):
    records = full_graph()
    assert store.upsert(records) == len(records)
    mine = [r for r in records if kind_of(r) is kind]
    assert mine
    for record in mine:
        got = store.get(kind, _get_key(record))
        assert type(got) is type(record)
        assert got.model_dump() == record.model_dump()
        assert store.exists(kind, _get_key(record))
    page = store.list(kind)
    assert page.total == len(mine)
    expected = sorted(mine, key=_key)
    assert [r.model_dump() for r in page.items] == [r.model_dump() for r in expected]
    assert store.stats()[kind.value] == len(mine)


def test_stats_on_empty_store_list_every_kind_with_zero(store: GraphStore):
    assert store.stats() == _zero_counts()
    assert store.snapshot().tables.keys() <= set(EntityKind)
    assert all(not rows for rows in store.snapshot().tables.values())


def _snapshots(store: GraphStore) -> dict[str, Snapshot]:
    """Every way ``store`` makes a snapshot (the Neo4j store has three)."""
    found = {"snapshot": store.snapshot(), "deferred": store.snapshot_deferred()()}
    if isinstance(store, Neo4jStore):
        found |= {"dict_rows": store.snapshot_dict_rows(), "one_tx": store.snapshot_one_tx()}
    assert gc.isenabled()  # paused while a snapshot is read, never left off
    return found


def test_snapshots_leave_out_the_servers_own_state(store: GraphStore, tmp_path):
    records = full_graph()
    assert {kind_of(r) for r in records} >= INTERNAL_KINDS  # keys, jobs, reject chunks
    store.upsert(records)
    journal = JournalStore(tmp_path / "journal")
    journal.upsert(records)
    for name, target in (("store", store), ("journal", journal)):
        counts = target.stats()
        assert all(counts[k.value] > 0 for k in INTERNAL_KINDS), name  # stored…
        for how, snap in _snapshots(target).items():
            # …but in no snapshot, whichever way it is read; every data kind is there
            assert not INTERNAL_KINDS & {k for k, rows in snap.tables.items() if rows}, how
            for kind in INTERNAL_KINDS:
                assert snap.rows(kind) == [] and snap.count(kind) == 0, (name, how, kind)
                assert list(snap.column(kind, "id")) == [], (name, how, kind)
            for kind in DATA_KINDS:
                assert len(snap.rows(kind)) == counts[kind.value], (name, how, kind)
    journal.close()


def test_a_columnar_snapshot_reads_as_its_rows():
    columns = {EntityKind.COMPANY: {"id": ("a", "b"), "name": ("A", "B"), "lat": (None, 1.5)}}
    snap = Snapshot(3, columns=columns)
    assert snap.count("company") == 2 and snap.column("company", "lat") == (None, 1.5)
    assert list(snap.column("company", "region")) == [None, None]  # a field nobody has
    assert snap.column("capability", "company_id") == [] and snap.count("capability") == 0
    rows = [{"id": "a", "name": "A"}, {"id": "b", "name": "B", "lat": 1.5}]  # no None values
    assert snap == Snapshot(1, {EntityKind.COMPANY: rows})
    assert snap.rows("company") == rows and snap.rows("company") is snap.rows("company")
    assert snap.column("company", "lat") == [None, 1.5]  # now read from the rows
    replaced = Snapshot(3, columns=columns).replaced({EntityKind.COMPANY: rows[:1]})
    assert replaced.rows("company") == rows[:1] and replaced.revision == 3


def test_bom_line_with_a_category_parent_is_stored_apart_from_a_product_parent(store):
    records = full_graph()
    # the same parent code as a product and as a category: two different lines
    records += [Category(code="combine-1", name_ru="Категория с кодом изделия"),
                BomLine(parent="combine-1", child="castings", qty=7, parent_kind="category")]
    store.upsert(records)
    as_category = store.get("bom_line", ("category", "combine-1", "castings"))
    assert as_category.qty == 7
    with pytest.raises(NotFound):
        store.get("bom_line", ("product", "combine-1", "castings"))
    assert store.stats()["bom_line"] == 3


def test_keys_with_separator_characters_stay_distinct(store: GraphStore):
    store.upsert([
        Company(id="x", name="X"),
        Category(code="a|b", name_ru="AB"), Category(code="a", name_ru="A"),
        Import(company_id="x", category="a|b", country="c", volume_per_year=1),
        Import(company_id="x", category="a", country="b|c", volume_per_year=2),
    ])
    assert store.stats()["import"] == 2
    assert store.get("import", ("x", "a|b", "c")).volume_per_year == 1
    assert store.get("import", ("x", "a", "b|c")).volume_per_year == 2


# --- idempotence and replacement --------------------------------------------------


def test_upsert_is_idempotent(store: GraphStore):
    seed = 20240501
    records = random_graph(seed)
    store.upsert(records)
    counts, snap = store.stats(), store.snapshot()
    store.upsert(random_graph(seed))
    assert store.stats() == counts, f"seed={seed}"
    assert store.snapshot() == snap, f"seed={seed}"
    assert sum(counts.values()) == len({(kind_of(r), _key(r)) for r in records})


def test_upsert_replaces_the_whole_record(store: GraphStore):
    store.upsert([
        Company(id="a", name="A", region="Липецкая область", employees=10, roles=["oem"]),
        Category(code="k", name_ru="K", okpd2="25.1"),
        Capability(company_id="a", category="k", unit_price=5.0, lead_time_days=3.0),
    ])
    store.upsert([
        Company(id="a", name="A2", region=None, roles=[]),
        Capability(company_id="a", category="k", unit_price=None, lead_time_days=4.0),
    ])
    company = store.get("company", "a")
    assert (company.name, company.region, company.employees) == ("A2", None, None)
    assert company.roles == []
    capability = store.get("capability", ("a", "k"))
    assert (capability.unit_price, capability.lead_time_days) == (None, 4.0)
    rows = {r["id"]: r for r in store.snapshot().rows("company")}
    assert "region" not in rows["a"] and "employees" not in rows["a"]
    cap_row = store.snapshot().rows("capability")[0]
    assert "unit_price" not in cap_row
    # the relationship survived the replacement of its start node
    assert store.stats()["capability"] == 1


def test_last_duplicate_in_one_call_wins(store: GraphStore):
    store.upsert([Company(id="a", name="first"), Company(id="a", name="second")])
    assert store.get("company", "a").name == "second"
    assert store.stats()["company"] == 1


# --- delete -----------------------------------------------------------------------


def test_delete_node_removes_its_relationships(store: GraphStore):
    store.upsert(full_graph())
    before = store.stats()
    assert store.delete("company", ["sup-1", "nobody"]) == 1
    after = store.stats()
    with pytest.raises(NotFound):
        store.get("company", "sup-1")
    assert after["company"] == before["company"] - 1
    # sup-1 had one membership, capability, held cert, process and supply
    for kind in ("capability", "held_certification", "company_process", "supply"):
        assert after[kind] == before[kind] - 1 == 0, kind
    assert after["membership"] == before["membership"] - 1
    assert after["need"] == before["need"]  # oem-1's need stays
    snap = store.snapshot()
    assert all("sup-1" not in row.values() for kind in EntityKind for row in snap.rows(kind))


def test_delete_relationship_by_key(store: GraphStore):
    store.upsert(full_graph())
    assert store.delete("bom_line", [("category", "gearbox", "castings")]) == 1
    assert store.delete("bom_line", [("category", "gearbox", "castings")]) == 0
    assert store.stats()["bom_line"] == 1
    assert store.exists("bom_line", ("product", "combine-1", "gearbox"))
    assert store.exists("category", "gearbox")


def test_delete_with_a_bad_key_is_refused(store: GraphStore):
    with pytest.raises(InvalidQuery):
        store.delete("capability", ["only-one-part"])
    with pytest.raises(InvalidQuery):
        store.delete("no-such-kind", ["x"])


def test_clear_empties_the_store(store: GraphStore):
    store.upsert(full_graph())
    store.clear()
    assert store.stats() == _zero_counts()
    store.upsert([Company(id="again", name="Again")])
    assert store.stats()["company"] == 1


# --- reads: paging, filters, errors -----------------------------------------------


def test_paging_walks_every_record_once_in_key_order(store: GraphStore):
    rng = random.Random(7)
    ids = [f"c{rng.randrange(10**6):06d}" for _ in range(37)]
    store.upsert([Company(id=i, name=f"N{i}") for i in ids])
    unique = sorted(set(ids))
    seen = []
    offset = 0
    while True:
        page = store.list("company", offset=offset, limit=10)
        assert page.total == len(unique)
        if not page.items:
            break
        seen += [c.id for c in page.items]
        offset += 10
    assert seen == unique
    assert [c.id for c in store.iter_all("company", page_size=4)] == unique
    assert store.list("company", offset=1000).items == []


@pytest.mark.parametrize("offset, limit", [(-1, 10), (0, 0), (0, 10_001)])
def test_bad_paging_is_an_invalid_query(store: GraphStore, offset: int, limit: int):
    with pytest.raises(InvalidQuery):
        store.list("company", offset=offset, limit=limit)


def test_filters(store: GraphStore):
    store.upsert(full_graph())
    oems = store.list("company", filters={"roles": "oem"})
    assert sorted(c.id for c in oems.items) == ["oem-1", "sup-1"] and oems.total == 2
    assert [c.id for c in store.list("company", filters={"roles": "university"}).items] == ["uni-1"]
    lipetsk = store.list("company", filters={"region": "Липецкая область", "roles": "supplier"})
    assert [c.id for c in lipetsk.items] == ["sup-1"]
    assert store.list("company", filters={"employees": 300}).total == 1
    assert store.list("company", filters={"employees": "300"}).total == 1  # coerced to int
    assert store.list("company", filters={"region": None}).total == 3  # None: no filter
    caps = store.list("capability", filters={"category": "castings"})
    assert [c.company_id for c in caps.items] == ["sup-1"]
    assert store.list("bom_line", filters={"parent_kind": "category"}).total == 1
    assert store.list("membership", filters={"since": dt.date(2018, 3, 1)}).total == 1
    assert store.list("category", filters={"processes": "machining"}).total == 2
    assert store.list("company", filters={"region": "Марс"}).total == 0


@pytest.mark.parametrize("filters", [
    {"colour": "red"},           # no such field
    {"source": "companies.csv"},  # provenance is not filterable
    {"employees": "many"},       # not an integer
    {"roles": "pilot"},          # not a role
])
def test_bad_filter_is_an_invalid_query(store: GraphStore, filters):
    with pytest.raises(InvalidQuery):
        store.list("company", filters=filters)


def test_get_unknown_is_not_found(store: GraphStore):
    store.upsert(full_graph())
    with pytest.raises(NotFound):
        store.get("company", "nobody")
    with pytest.raises(NotFound):
        store.get("capability", ("sup-1", "gearbox"))
    assert not store.exists("company", "nobody")
    with pytest.raises(InvalidQuery):
        store.get("capability", "sup-1")  # a relationship key has two parts
    with pytest.raises(InvalidQuery):
        store.get("widget", "x")


# --- references -------------------------------------------------------------------


@pytest.mark.parametrize("dangling, missing", [
    (Capability(company_id="ghost", category="castings"), "company 'ghost'"),
    (Capability(company_id="sup-1", category="ghost"), "category 'ghost'"),
    (BomLine(parent="ghost", child="castings", parent_kind="category"), "category 'ghost'"),
    (BomLine(parent="gearbox", child="castings"), "product 'gearbox'"),  # a category, not a product
    (Category(code="orphan", name_ru="Сирота", parent="ghost"), "category 'ghost'"),
    (Category(code="orphan", name_ru="Сирота", processes=["casting", "ghost"]), "process 'ghost'"),
    (Product(id="p-ghost", name="Изделие", maker_id="ghost"), "company 'ghost'"),
], ids=lambda r: type(r).__name__ if isinstance(r, Record) else "")
def test_dangling_reference_writes_nothing(store: GraphStore, dangling: Record, missing: str):
    store.upsert(full_graph())
    counts, revision, snap = store.stats(), store.revision(), store.snapshot()
    with pytest.raises(MissingReference) as info:
        store.upsert([Company(id="new", name="Новая"), dangling])
    assert missing in str(info.value)
    assert info.value.missing == [missing]
    assert store.stats() == counts
    assert store.revision() == revision
    assert store.snapshot() == snap


def test_references_may_be_satisfied_in_the_same_call(store: GraphStore):
    # relationships before nodes, a child category before its parent: order does not matter
    store.upsert([
        Capability(company_id="s", category="child"),
        Category(code="child", name_ru="Ребёнок", parent="root", processes=["p"]),
        Category(code="root", name_ru="Корень"),
        Process(code="p", name_ru="П"),
        Company(id="s", name="S"),
    ])
    assert store.get("category", "child").parent == "root"
    assert store.stats()["capability"] == 1


# --- provenance and revision ------------------------------------------------------


def test_fetch_gives_the_stored_rows_as_a_snapshot_does(store: GraphStore):
    """What the ingest compares a row with to call it unchanged: every stored field,
    no provenance, only the keys that exist, on every kind."""
    store.upsert(full_graph())
    snap = store.snapshot()
    for kind in DATA_KINDS:
        spec = KINDS[kind]
        rows = snap.rows(kind)
        keys = [spec.key_of(r) for r in rows]
        missing = tuple("no such key" for _ in spec.key_fields)
        fetched = store.fetch(kind, [*keys, missing])
        assert sorted(fetched, key=spec.key_of) == rows, kind
    assert store.fetch("company", []) == []


def test_provenance_is_kept_and_stamped(store: GraphStore):
    store.upsert([Company(id="a", name="A", source="companies.csv", row=17, ingested_at=INGESTED),
                  Company(id="b", name="B")])
    a = store.get("company", "a")
    assert (a.source, a.row, a.ingested_at) == ("companies.csv", 17, INGESTED)
    b = store.get("company", "b")
    assert b.source is None and b.row is None
    assert b.ingested_at is not None
    assert abs((dt.datetime.now(dt.UTC) - b.ingested_at).total_seconds()) < 600
    # analytics do not see provenance
    assert all(set(row) & {"source", "row", "ingested_at"} == set()
               for row in store.snapshot().rows("company"))


def test_revision_changes_on_every_write_and_only_then(store: GraphStore):
    seen = [store.revision()]

    def changed() -> None:
        now = store.revision()
        assert now not in seen, f"revision {now} repeats after a write ({seen})"
        seen.append(now)

    store.upsert([Company(id="a", name="A")])
    changed()
    store.upsert([Company(id="a", name="A")])  # same content: still a committed write
    changed()
    store.delete("company", ["a"])
    changed()
    store.clear()
    changed()
    # reads, empty writes and deletes of nothing commit nothing
    store.stats(), store.snapshot(), store.list("company")
    assert store.upsert([]) == 0
    assert store.delete("company", ["nobody"]) == 0
    assert store.revision() == seen[-1]
    assert store.snapshot().revision == seen[-1]


# --- both stores agree ------------------------------------------------------------


#: how far apart two stores' stamps of one write may be (written one after the other)
_STAMP_SKEW = dt.timedelta(minutes=2)


def _compare_stores(reference: GraphStore, other: GraphStore, seed: int) -> None:
    snap_ref, snap_other = reference.snapshot(), other.snapshot()
    # the projections built from either store are the same, field by field (built first,
    # while the Neo4j snapshot is still columns: the projection reads them as they are)
    projection_ref = Projection.from_snapshot(snap_ref)
    diff = diff_projections(projection_ref, Projection.from_snapshot(snap_other))
    assert not diff, f"seed={seed}: projections differ in {diff}"
    columnar = other.snapshot()
    for kind in DATA_KINDS:
        for name in KINDS[kind].model.model_fields:  # each column is the rows' values
            assert list(columnar.column(kind, name)) == [
                r.get(name) for r in snap_ref.rows(kind)], f"seed={seed} {kind.value}.{name}"
    for kind in EntityKind:
        assert snap_other.rows(kind) == snap_ref.rows(kind), f"seed={seed} kind={kind.value}"
    assert snap_other == snap_ref, f"seed={seed}"
    for how, snap in _snapshots(other).items():  # each way of reading: the same data
        assert snap == snap_ref, f"seed={seed} {how}"
        diff = diff_projections(projection_ref, Projection.from_snapshot(snap))
        assert not diff, f"seed={seed} {how}: projections differ in {diff}"
    assert other.stats() == reference.stats(), f"seed={seed}"
    for kind in EntityKind:
        for offset in (0, 7):
            a = reference.list(kind, offset=offset, limit=9)
            b = other.list(kind, offset=offset, limit=9)
            # each store stamps a write with its own clock, a moment apart (the same
            # records go to one store, then the other): equal but for that stamp
            assert [r.model_dump(exclude={"ingested_at"}) for r in b.items] == [
                r.model_dump(exclude={"ingested_at"}) for r in a.items], (
                f"seed={seed} kind={kind.value} offset={offset}")
            for ra, rb in zip(a.items, b.items, strict=True):
                stamps = (getattr(ra, "ingested_at", None), getattr(rb, "ingested_at", None))
                if stamps[0] is not None or stamps[1] is not None:
                    assert None not in stamps and abs(stamps[0] - stamps[1]) <= _STAMP_SKEW, (
                        f"seed={seed} kind={kind.value}: {stamps}")
            assert a.total == b.total


@pytest.mark.neo4j
@pytest.mark.parametrize("seed", [random.Random(2024).randrange(10**6) for _ in range(3)])
def test_snapshot_equality_between_stores(neo4j_store: GraphStore, seed: int):
    print(f"random graph seed: {seed}")
    rng = random.Random(seed)
    embedded = EmbeddedStore(None)
    first = random_graph(seed, companies=rng.randrange(5, 40), categories=rng.randrange(3, 30))
    for target in (embedded, neo4j_store):
        target.upsert(first)
    _compare_stores(embedded, neo4j_store, seed)
    # change a third, delete some nodes and relationships, compare again
    second = random_graph(seed + 1, companies=10, categories=12)
    some = rng.sample(second, len(second) // 3)
    nodes_first = sorted(some, key=lambda r: not KINDS[kind_of(r)].is_node)
    doomed_companies = [f"c{i:03d}" for i in rng.sample(range(5), 2)]
    for target in (embedded, neo4j_store):
        try:
            target.upsert(nodes_first)
        except MissingReference:
            target.upsert([r for r in nodes_first if KINDS[kind_of(r)].is_node])
        target.delete("company", doomed_companies)
        target.delete("bom_line", [("category", "k00", "k01"), ("product", "p0", "k00")])
    _compare_stores(embedded, neo4j_store, seed)


def test_sample_store_matches_sample_snapshot(sample_store: GraphStore, sample_snapshot):
    assert sample_store.snapshot() == sample_snapshot
    assert sum(sample_store.stats().values()) > 0


# --- property tests: upsert idempotency -------------------------------------------

_names = st.text(alphabet="абвгдеёжзAbcXyz0123456789 -«»\"'.,", min_size=1, max_size=12).filter(
    lambda s: s.strip() != "")
_keys = st.text(alphabet="abcxyz019-_.ёж", min_size=1, max_size=6)
_money = st.one_of(st.none(), st.floats(min_value=0, max_value=1e9, allow_nan=False))


@st.composite
def _graphs(draw: st.DrawFn) -> list[Record]:
    company_ids = draw(st.lists(_keys, min_size=1, max_size=5, unique=True))
    codes = draw(st.lists(_keys, min_size=1, max_size=5, unique=True))
    records: list[Record] = [
        Company(id=c, name=draw(_names),
                employees=draw(st.one_of(st.none(), st.integers(0, 10**6))),
                roles=draw(st.lists(st.sampled_from(["oem", "supplier", "finance"]), unique=True)),
                region=draw(st.one_of(st.none(), _names)))
        for c in company_ids
    ]
    for i, code in enumerate(codes):
        parent = draw(st.one_of(st.none(), st.sampled_from(codes[:i]))) if i else None
        records.append(Category(code=code, name_ru=draw(_names), parent=parent,
                                synonyms=draw(st.lists(_names, max_size=3)),
                                unit_price=draw(_money)))
    for _ in range(draw(st.integers(0, 8))):
        records.append(Capability(company_id=draw(st.sampled_from(company_ids)),
                                  category=draw(st.sampled_from(codes)),
                                  capacity_per_year=draw(_money), unit_price=draw(_money)))
    return records


def _check_idempotent(target: GraphStore, records: list[Record]) -> None:
    target.upsert(records)
    counts, snap = target.stats(), target.snapshot()
    target.upsert(records)
    unique = len({(kind_of(r), _key(r)) for r in records}) == len(records)
    target.upsert(list(reversed(records)) if unique else records)
    assert target.stats() == counts
    assert target.snapshot() == snap


@settings(max_examples=60, deadline=None)
@given(records=_graphs())
def test_upsert_idempotency_property_embedded(records: list[Record]):
    _check_idempotent(EmbeddedStore(None), records)


@pytest.mark.neo4j
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_graphs())
def test_upsert_idempotency_property_neo4j(neo4j_store: GraphStore, records: list[Record]):
    neo4j_store.clear()
    embedded = EmbeddedStore(None)
    _check_idempotent(neo4j_store, records)
    embedded.upsert(records)
    assert neo4j_store.snapshot() == embedded.snapshot()
