"""Atomic loads (``store.load()``): all of a load is visible, or none of it — on both stores.

A load that raises is rolled back, modified records included; a load whose process
was SIGKILLed is rolled back when the store is opened again (or the next load
begins), and a Neo4j load killed after its commit began is completed. The before
and after states are compared as whole snapshots.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph import changelog
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.i18n import Lang
from coopgraph.graph.loads import owner_alive, this_owner
from coopgraph.graph.messages import render
from coopgraph.graph.models import Capability, Category, Company
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import ingest_paths

ROOT = Path(__file__).resolve().parents[1]

# A child that begins a load, stages rows, optionally starts to commit, then dies.
CHILD = """
import json, os, signal, sys
from coopgraph.graph.models import Capability, Company
config, mode = json.loads(sys.argv[1]), sys.argv[2]
if config["kind"] == "embedded":
    from coopgraph.graph.embedded import EmbeddedStore
    store = EmbeddedStore(config["path"])
else:
    from coopgraph.graph.neo4j_store import Neo4jStore
    store = Neo4jStore(config["uri"], user=config["user"], password=config["password"],
                       batch_size=2)
from coopgraph.graph.loads import Load
load = Load(store, "child0load01")
store._begin_load(load)
load.upsert([Company(id="a", name="Changed"), Company(id="n1", name="New 1"),
             Company(id="n2", name="New 2"), Company(id="n3", name="New 3")])
load.upsert([Capability(company_id="n1", category="k", unit_price=2.0)])
if mode == "direct":  # Neo4j: the one transaction that commits a small load is under way
    from coopgraph.graph import cypher
    tx = store._session(read=False).begin_transaction()
    tx.run(cypher.LOAD_FINISH_STAGED, {"id": load.id}).consume()
    store._run_unit(tx, store._load_steps(tx, load.state.groups, creates=True))
    tx.run("MATCH (c:Company {id: 'n3'}) RETURN c.id").consume()  # written, not committed
if mode == "committing":  # Neo4j: the commit has begun and applied its first chunk
    from coopgraph.graph import cypher
    store._stage_held(load)  # the rows it holds go to chunks first, as in _commit_load
    store._write_tx(lambda tx: tx.run(cypher.LOAD_MARK_COMMITTING,
                                      {"id": load.id, "now": "x"}).consume())
    store._write_tx(lambda tx: store._apply_next_chunk(tx, load.id))
print("staged", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _before(store: GraphStore) -> None:
    store.upsert([Category(code="k", name_ru="K"), Company(id="a", name="A")])


def _config(store: GraphStore, request: pytest.FixtureRequest) -> dict[str, Any]:
    if isinstance(store, EmbeddedStore):
        return {"kind": "embedded", "path": str(store.path)}
    server = request.getfixturevalue("neo4j_server")
    return {"kind": "neo4j", "uri": server.uri, "user": server.user,
            "password": server.password}


def _reopen(config: dict[str, Any]) -> GraphStore:
    if config["kind"] == "embedded":
        return EmbeddedStore(config["path"])
    from coopgraph.graph.neo4j_store import Neo4jStore

    return Neo4jStore(config["uri"], user=config["user"], password=config["password"])


def _kill_mid_load(tmp_path: Path, config: dict[str, Any], mode: str = "staged") -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), json.dumps(config), mode],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "staged"


def test_a_load_is_visible_only_when_it_commits(store: GraphStore) -> None:
    _before(store)
    before, revision = store.snapshot(), store.revision()
    with store.load() as load:
        load.upsert([Company(id="a", name="Changed"), Company(id="b", name="B")])
        load.upsert_rows("capability", [{"company_id": "b", "category": "k"}])
        assert store.snapshot() == before  # nothing shows while the load is open
        assert store.get("company", "a").name == "A"
        assert load.rows == 3
    assert store.get("company", "a").name == "Changed"
    assert store.exists("capability", ("b", "k"))
    assert store.revision() > revision


def test_a_load_that_raises_keeps_nothing_not_even_changes(store: GraphStore) -> None:
    _before(store)
    before = store.snapshot()
    with pytest.raises(RuntimeError), store.load() as load:
        load.upsert([Company(id="a", name="Changed"), Company(id="b", name="B")])
        load.upsert([Capability(company_id="b", category="k")])
        raise RuntimeError("the pipeline failed")
    assert store.snapshot() == before
    assert store.get("company", "a").name == "A"
    with store.load() as load:  # the store still loads
        load.upsert([Company(id="c", name="C")])
    assert store.exists("company", "c")


def _logged(store: GraphStore, revision: int) -> tuple[set[tuple[str, str]], list[bool]]:
    """The (kind, first key part) pairs the changes after ``revision`` list, and their
    ``full`` flags (``[True]`` when the log cannot tell, as after a ``full`` change)."""
    changes = store.changes_since(revision)
    if changes is None:
        return set(), [True]
    assert changes, revision
    return ({(k.value, key[0]) for c in changes for k, keys in c.keys.items() for key in keys},
            [c.full for c in changes])


def test_a_loads_change_log_lists_its_keys_up_to_max_keys(
        store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A load of at most MAX_KEYS rows logs every key it wrote — on Neo4j in each of its
    chunks (one transaction each) — so that the projection patches after it; a bigger
    load is logged as ``full`` (rebuild), on both stores alike (``changelog.keyed``)."""
    monkeypatch.setattr(changelog, "MAX_KEYS", 4)
    if not isinstance(store, EmbeddedStore):
        monkeypatch.setattr(store, "batch_size", 2)  # several chunks per load
    _before(store)
    revision = store.revision()
    with store.load() as load:
        load.upsert([Company(id="a", name="Changed"), Company(id="b", name="B"),
                     Company(id="c", name="C")])
        load.upsert([Capability(company_id="b", category="k")])
    keys, full = _logged(store, revision)
    assert not any(full)
    assert keys == {("company", "a"), ("company", "b"), ("company", "c"), ("capability", "b")}
    revision = store.revision()
    with store.load() as load:  # 5 rows > MAX_KEYS
        load.upsert([Company(id=f"big{i}", name="Big") for i in range(4)])
        load.upsert([Capability(company_id="big0", category="k")])
    assert store.exists(EntityKind.CAPABILITY, ("big0", "k"))
    keys, full = _logged(store, revision)
    assert all(full) and not keys


def test_a_killed_load_is_rolled_back_at_the_next_start(
        store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _before(store)
    before = store.snapshot()
    config = _config(store, request)
    _kill_mid_load(tmp_path, config)
    assert store.snapshot() == before  # never visible, even before the recovery
    reopened = _reopen(config)
    try:
        assert reopened.snapshot() == before
        assert _reopen(config).load_warnings() == reopened.load_warnings()  # told to others
        warnings = reopened.load_warnings()
        assert len(warnings) == 1 and "child0load01" in warnings[0]
        assert "rolled back" in warnings[0] and "staged rows (5)" in warnings[0]
        russian = render(warnings[0], "ru")  # and in Russian, with the same facts
        assert "child0load01" in russian and "откачена" in russian and "всего 5" in russian
        assert not re.search(r"\b(?!child0load01)[A-Za-z]{3,}", russian), russian
        assert reopened.describe()["warnings"] == warnings
        # a load after it reports nothing more, and commits
        with reopened.load() as load:
            assert load.recovered == reopened.load_recoveries()
            load.upsert([Company(id="n1", name="New 1")])
        assert reopened.exists("company", "n1")
        assert not reopened.exists("company", "n2")
        with reopened.load() as load:
            assert load.recovered == []
    finally:
        reopened.close()


def test_a_killed_load_is_rolled_back_when_the_next_load_begins(
        store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _before(store)
    before = store.snapshot()
    _kill_mid_load(tmp_path, _config(store, request))
    with store.load() as load:  # the store object was open before the kill
        assert [r.load_id for r in load.recovered] == ["child0load01"]
    assert store.snapshot() == before


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_ingest_report_tells_of_a_rolled_back_load_in_its_language(
        store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest, lang: Lang) -> None:
    _before(store)
    _kill_mid_load(tmp_path, _config(store, request))
    data = tmp_path / "companies.csv"  # an unknown column: a warning of its own, planned first
    data.write_text("id,name,zzz\nz1,ООО Зет,1\n", encoding="utf-8")
    report = ingest_paths(store, [data], rejects_dir=tmp_path / "rej", lang=lang)
    in_report = [w for w in report.warnings if "child0load01" in w]
    if isinstance(store, EmbeddedStore):
        assert len(in_report) == 1, report.warnings
        # each warning beside its own code (the recovery's was put first, the codes not)
        assert [c.code for c in report.warning_codes] == ["load.rolled_back", "h.unknown"]
    # Neo4j: the recovery may be found before the pipeline's load begins; then the store
    # tells it (stats, /health) — in the reader's language too
    (told,) = in_report or [render(w, lang) for w in store.load_warnings()
                            if "child0load01" in w]
    if lang == "ru":
        assert told.startswith("прерванная загрузка (child0load01") and "откачена" in told
        assert "всего 5" in told and "rolled" not in told
    else:
        assert told.startswith("an interrupted load (child0load01") and "rolled back" in told
        assert "staged rows (5)" in told
    assert store.exists("company", "z1") and not store.exists("company", "n1")


@pytest.mark.neo4j
def test_a_neo4j_load_killed_while_committing_is_completed(
        neo4j_store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _before(neo4j_store)
    revision = neo4j_store.revision()
    config = _config(neo4j_store, request)
    _kill_mid_load(tmp_path, config, mode="committing")
    reopened = _reopen(config)
    try:
        assert [(r.load_id, r.action) for r in reopened.load_recoveries()] == [
            ("child0load01", "completed")]
        # the chunks the dead process applied and those the recovery applied list their
        # keys (a load of 5 rows): the projection patches after a completed load too
        keys, full = _logged(reopened, revision)
        assert not any(full) and len(full) == 3  # 3 chunks of at most 2 rows
        assert keys == {("company", "a"), ("company", "n1"), ("company", "n2"),
                        ("company", "n3"), ("capability", "n1")}
        assert reopened.get("company", "a").name == "Changed"
        assert reopened.stats()["company"] == 4 and reopened.stats()["capability"] == 1
        # + the category, + the load's node kept as a marker; no chunk left
        assert reopened.count_all_nodes() == 4 + 1 + 1
        again = _reopen(config)  # another process reports it too…
        assert again.load_warnings() == reopened.load_warnings()
        with again.load() as load:
            load.upsert([Company(id="n9", name="N9")])
        again.close()
        assert _reopen(config).load_warnings() == []  # …until a load commits
        assert reopened.count_all_nodes() == 4 + 1 + 1
    finally:
        reopened.close()


@pytest.mark.neo4j
def test_a_neo4j_load_killed_inside_its_one_commit_transaction_is_rolled_back(
        neo4j_store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A load small enough for one transaction is never staged: killed while that
    transaction is open (its rows written in it), the server rolls the transaction back
    and the next start-up rolls the load back."""
    _before(neo4j_store)
    before = neo4j_store.snapshot()
    config = _config(neo4j_store, request)
    _kill_mid_load(tmp_path, config, mode="direct")
    reopened = _reopen(config)
    try:
        assert reopened.snapshot() == before
        assert [(r.load_id, r.action, r.rows) for r in reopened.load_recoveries()] == [
            ("child0load01", "rolled back", 5)]
        assert reopened.count_all_nodes() == 2 + 1  # + the load's node, kept as a marker
    finally:
        reopened.close()


@pytest.mark.neo4j
def test_a_neo4j_load_that_fits_one_transaction_is_written_in_one(
        neo4j_store: GraphStore) -> None:
    """Several kinds, one load of fewer rows than a transaction holds: no chunk is ever
    staged, and the commit is one write — one revision, one change listing every key."""
    from coopgraph.graph import cypher

    _before(neo4j_store)
    revision = neo4j_store.revision()
    with neo4j_store.load() as load:
        load.upsert([Company(id="a", name="Changed"), Company(id="b", name="B")])
        load.upsert([Category(code="k2", name_ru="K2", parent="k")])
        load.upsert_rows("capability", [{"company_id": "b", "category": "k2"}])
        assert neo4j_store._query(f"MATCH (c:{cypher.LOAD_CHUNK_LABEL}) RETURN c") == []
    assert neo4j_store.revision() == revision + 1
    keys, full = _logged(neo4j_store, revision)
    assert full == [False]
    assert keys == {("company", "a"), ("company", "b"), ("category", "k2"),
                    ("capability", "b")}
    assert neo4j_store.get("company", "a").name == "Changed"
    assert neo4j_store.exists("capability", ("b", "k2"))
    assert neo4j_store.count_all_nodes() == 2 + 2  # companies, categories: no load, no chunk


@pytest.mark.neo4j
def test_a_big_neo4j_load_packs_small_kinds_into_shared_chunks(
        neo4j_store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past one transaction's rows a load is staged in chunks of ``batch_size`` rows that
    may span kinds (nodes of the next kind written before relationships of the last):
    7 rows of four kinds in chunks of 3 → 3 chunks, 3 revisions, the same records."""
    monkeypatch.setattr(neo4j_store, "batch_size", 3)
    monkeypatch.setattr(neo4j_store, "load_direct_rows", 0)
    _before(neo4j_store)
    revision = neo4j_store.revision()
    with neo4j_store.load() as load:
        load.upsert([Company(id="b", name="B"), Company(id="c", name="C")])
        load.upsert([Capability(company_id="b", category="k")])
        load.upsert([Category(code="k2", name_ru="K2", parent="k")])
        load.upsert([Capability(company_id="c", category="k2"),
                     Capability(company_id="a", category="k2")])
        load.upsert([Company(id="d", name="D")])
        assert load.chunks == 2  # the 7th row waits for the commit
    assert neo4j_store.revision() == revision + 3
    assert neo4j_store.stats()["company"] == 4 and neo4j_store.stats()["capability"] == 3
    assert neo4j_store.get("category", "k2").parent == "k"
    assert neo4j_store.exists("capability", ("c", "k2"))
    assert neo4j_store.exists("capability", ("a", "k2"))
    keys, full = _logged(neo4j_store, revision)
    assert ("company", "d") in keys or all(full)


def test_another_process_running_load_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    _before(store)
    with store.load() as load:
        load.upsert([Company(id="b", name="B")])
        other = EmbeddedStore(path)  # opens while the load runs: must not roll it back
        assert other.load_warnings() == [] and not other.exists("company", "b")
        other.upsert([Company(id="c", name="C")])  # other writes go on meanwhile
    assert other.exists("company", "b") and other.exists("company", "c")
    assert EmbeddedStore(path).stats()["company"] == 3


def test_writes_between_a_loads_stages_leave_it_staged(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    _before(store)
    with store.load() as load:
        for i in range(5):
            load.upsert([Company(id=f"n{i}", name=f"N{i}")])
        assert not store.exists("company", "n0")
        store.upsert([Company(id="x", name="X")])  # committed at once; the load stays staged
        assert store.exists("company", "x") and not store.exists("company", "n4")
    reopened = EmbeddedStore(path)
    assert reopened.stats()["company"] == 7
    assert reopened.snapshot() == store.snapshot()


def test_a_load_owner_is_told_from_a_later_process_with_its_id() -> None:
    host, pid, started = this_owner()
    assert owner_alive(host, pid, started) is True
    assert owner_alive(host, pid, "0" if started != "0" else "1") is (started is None)
    assert owner_alive("another-host", pid, started) is None  # judged by the load's age
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    assert owner_alive(host, int(dead.stdout), None) is False


@pytest.mark.neo4j
def test_neo4j_load_reads_and_writes_seek_the_key_indexes(neo4j_store: GraphStore) -> None:
    """The read-back of a load (``fetch``), its key check and its relationship writes name
    the key index they seek (``USING INDEX``): accepted by the server for every kind (a
    hint naming a missing index is an error), and the plan seeks it."""
    from coopgraph.graph import cypher
    from coopgraph.graph.schema import KINDS

    def operators(plan: Any) -> set[str]:
        return {plan["operatorType"].split("@")[0],
                *(op for child in plan.get("children", []) for op in operators(child))}

    driver = neo4j_store._driver  # type: ignore[attr-defined]
    for kind, kind_spec in KINDS.items():
        queries = [cypher.fetch_columns_query(kind), cypher.present_query(kind)]
        if not kind_spec.is_node:
            assert kind_spec.start is not None and kind_spec.end is not None
            ends = (kind_spec.start.kind, kind_spec.end.kind)
            queries += [cypher.upsert_query(kind, *ends), cypher.create_query(kind, *ends)]
        for query in queries:
            _records, summary, _keys = driver.execute_query(
                "EXPLAIN " + query, {"keys": [], "rows": []}, database_="neo4j")
            assert any("IndexSeek" in op for op in operators(summary.plan)), (kind, query)


@pytest.mark.neo4j
def test_a_neo4j_load_whose_one_transaction_fails_ends_at_once(
        neo4j_store: GraphStore) -> None:
    """A load held for one transaction whose commit is refused (here: a capability of a
    company deleted after the load took its row) writes nothing and leaves no load behind
    — not a `staged` marker that the next start-up would report as an interruption."""
    from coopgraph.graph.errors import CoopGraphError

    _before(neo4j_store)
    neo4j_store.upsert([Company(id="gone", name="Gone")])
    before_nodes = neo4j_store.count_all_nodes()
    with pytest.raises(CoopGraphError), neo4j_store.load() as load:
        load.upsert_rows("capability", [{"company_id": "gone", "category": "k"}])
        neo4j_store.delete("company", ["gone"])
    assert neo4j_store.count_all_nodes() == before_nodes - 1  # the company, no load node
    assert not neo4j_store.exists("capability", ("gone", "k"))


# --- a first load into an empty embedded store (graph.sqlite_store._DirectLoad) -----------


def _stage_files(path: Path) -> list[Path]:
    return sorted(path.glob("load-*.stage"))


def test_a_first_load_into_an_empty_store_is_written_straight_into_it(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    revision = store.revision()
    with store.load() as load:
        load.upsert([Category(code="k", name_ru="K"), Company(id="a", name="A"),
                     Company(id="b", name="B")])
        load.upsert([Capability(company_id="a", category="k", unit_price=2.0)])
        load.upsert([Company(id="b", name="B again")])  # a key written twice: the last wins
        assert _stage_files(path) == []  # no stage file: the rows go straight in
        other = EmbeddedStore(path)  # another process's view: still empty, no warning
        assert other.stats()["company"] == 0 and other.load_warnings() == []
        assert not store.exists("company", "a")  # nor through the store's own connection
    assert store.revision() == revision + 1  # one revision, one change
    stats = EmbeddedStore(path).stats()
    assert (stats["company"], stats["category"], stats["capability"]) == (2, 1, 1)
    assert store.get("company", "b").name == "B again"
    keys, full = _logged(store, revision)
    assert keys == {("category", "k"), ("company", "a"), ("company", "b"),
                    ("capability", "a")} and not any(full)
    # the same rows staged (an in-memory store stages; so does a store holding records)
    staged = EmbeddedStore(None)
    with staged.load() as load:
        load.upsert([Category(code="k", name_ru="K"), Company(id="a", name="A"),
                     Company(id="b", name="B")])
        load.upsert([Capability(company_id="a", category="k", unit_price=2.0)])
        load.upsert([Company(id="b", name="B again")])
    assert staged.snapshot() == store.snapshot() and staged.stats() == store.stats()
    # the store holds records now: the next load is staged
    with store.load() as load:
        load.upsert([Company(id="c", name="C")])
        assert len(_stage_files(path)) == 1
        store.upsert([Company(id="d", name="D")])  # and other writes go on meanwhile
    assert store.exists("company", "c") and store.exists("company", "d")


def test_a_first_load_that_repeats_a_key_keeps_the_last_row_its_provenance_and_counts(
        tmp_path: Path) -> None:
    """Rows go in as new until a key repeats; that chunk is upserted instead (the last row
    wins) and its kind counted at the commit — the caller's rows keep their provenance."""
    store = EmbeddedStore(tmp_path / "store")
    first = [{"id": "a", "name": "A", "source": "f.csv", "row": 2},
             {"id": "b", "name": "B", "source": "f.csv", "row": 3}]
    again = [{"id": "c", "name": "C", "source": "g.csv", "row": 2},
             {"id": "b", "name": "B again", "source": "g.csv", "row": 3}]
    with store.load() as load:
        load.upsert_rows("company", first)
        load.upsert_rows("company", again)  # "b" is stored already: the insert fails
        load.upsert_rows("category", [{"code": "k", "name_ru": "K"}])
    assert all("source" in r and "row" in r for r in first + again)
    stats = store.stats()
    assert (stats["company"], stats["category"]) == (3, 1)
    stored = {r["id"]: r for r in store.export_rows("company")}
    assert (stored["b"]["name"], stored["b"]["source"], stored["b"]["row"]) == \
        ("B again", "g.csv", 3)
    assert (stored["c"]["source"], stored["c"]["row"]) == ("g.csv", 2)


def test_a_big_first_load_is_logged_as_full(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changelog, "MAX_KEYS", 3)
    store = EmbeddedStore(tmp_path / "store")
    revision = store.revision()
    with store.load() as load:
        load.upsert([Company(id="a", name="A"), Company(id="b", name="B")])
        load.upsert([Company(id="c", name="C"), Company(id="d", name="D")])
    assert store.stats()["company"] == 4
    keys, full = _logged(store, revision)
    assert all(full) and not keys


def test_a_first_load_that_raises_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    revision = store.revision()
    with pytest.raises(RuntimeError), store.load() as load:
        load.upsert([Company(id="a", name="A")])
        raise RuntimeError("the ingest failed")
    assert store.stats()["company"] == 0 and store.revision() == revision
    assert EmbeddedStore(path).load_warnings() == []  # nothing to report: it was rolled back
    with store.load() as load:  # and the next load into the still empty store goes through
        load.upsert([Company(id="b", name="B")])
    assert store.exists("company", "b") and not store.exists("company", "a")


def test_other_writes_are_refused_at_once_during_a_first_load(tmp_path: Path) -> None:
    """Waiting for the load's write lock would hold the writer's store object (and so its
    readers) for up to 60 s: the write is refused at once, in both languages."""
    import time

    from coopgraph.graph.errors import StoreUnavailable

    path = tmp_path / "store"
    store = EmbeddedStore(path)
    other = EmbeddedStore(path)
    with store.load() as load:
        load.upsert([Company(id="a", name="A")])
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as refused:
            other.upsert([Company(id="w", name="Written meanwhile")])
        assert time.monotonic() - started < 5
        assert "first load into the empty store" in str(refused.value)
        assert "первая загрузка в пустое хранилище" in render(refused.value.args[0], "ru")
        assert other.stats()["company"] == 0  # readers are answered meanwhile
        with pytest.raises(StoreUnavailable), other.load() as second:  # a second load too
            second.upsert([Company(id="x", name="X")])
    other.upsert([Company(id="w", name="Written after")])  # and once it has committed
    assert EmbeddedStore(path).stats()["company"] == 2


def test_a_failed_write_inside_a_first_load_keeps_none_of_its_rows(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    with store.load() as load:
        load.upsert([Company(id="a", name="A")])
        with pytest.raises(TypeError):  # orjson cannot write the second row: mid-chunk
            load.upsert_rows("company", [{"id": "b", "name": "B"},
                                         {"id": "c", "name": object()}])
        load.upsert([Company(id="d", name="D")])
    assert store.exists("company", "a") and store.exists("company", "d")
    assert not store.exists("company", "b") and store.stats()["company"] == 2


def test_a_store_cleared_takes_a_direct_load_and_one_written_meanwhile_a_staged_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.upsert([Company(id="a", name="A")])
    store.clear()
    with store.load() as load:
        load.upsert([Company(id="b", name="B")])
        assert _stage_files(path) == []  # empty again: written straight in
    assert store.stats()["company"] == 1
    # records written between the emptiness check and the write lock: staged instead
    monkeypatch.setattr(type(store), "_empty", lambda self: True)
    with store.load() as load:
        load.upsert([Company(id="c", name="C")])
        assert len(_stage_files(path)) == 1
    assert store.stats()["company"] == 2
    assert EmbeddedStore(path).load_warnings() == []  # its direct attempt left nothing


def test_a_killed_first_load_is_rolled_back_and_told(tmp_path: Path) -> None:
    path = tmp_path / "store"
    EmbeddedStore(path).close()  # empty: the child's load is written straight in
    _kill_mid_load(tmp_path, {"kind": "embedded", "path": str(path)})
    reopened = EmbeddedStore(path)
    assert reopened.stats()["company"] == 0
    (warning,) = reopened.load_warnings()
    assert "child0load01" in warning and "into the empty store was rolled back" in warning
    russian = render(warning, "ru")
    assert "child0load01" in russian and "в пустое хранилище откачена" in russian
    assert not re.search(r"\b(?!child0load01)[A-Za-z]{3,}", russian), russian
    with reopened.load() as load:  # the next load: told once, then nothing more
        assert [r.load_id for r in load.recovered] == ["child0load01"]
        load.upsert([Company(id="n1", name="New 1")])
    assert reopened.exists("company", "n1") and EmbeddedStore(path).load_warnings() == []
