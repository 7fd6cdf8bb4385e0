"""The embedded store on SQLite: migration from the journal store, several processes on
one database, a persistent change log, and no private networkx API anywhere.

The store's behaviour itself is the conformance suite's (tests/test_store_conformance.py
and the others run on both stores); this file holds what is particular to SQLite.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import StoreCorrupted
from coopgraph.graph.factory import embedded_store_exists, open_store
from coopgraph.graph.journal_store import JournalStore
from coopgraph.graph.models import Capability, Category, Company
from coopgraph.graph.schema import INTERNAL_KINDS, EntityKind, kind_of
from coopgraph.graph.settings import load_settings
from coopgraph.graph.sqlite_store import DB_FILE, SqliteStore
from coopgraph.graph.store import GraphStore
from tests.graph_factories import full_graph

ROOT = Path(__file__).resolve().parents[1]


def _base(store: GraphStore) -> None:
    store.upsert([Category(code="k", name_ru="К"), Company(id="a", name="A"),
                  Company(id="b", name="B")])
    store.upsert([Capability(company_id="a", category="k", unit_price=2.5)])


def test_the_embedded_store_is_sqlite(tmp_path: Path) -> None:
    store = open_store(load_settings(COOPGRAPH_DATA_DIR=tmp_path / "data"))
    assert isinstance(store, SqliteStore) and store.kind == "embedded"
    store.upsert([Company(id="a", name="A")])
    store.close()
    assert (tmp_path / "data" / DB_FILE).is_file()
    assert embedded_store_exists(tmp_path / "data")
    with closing(sqlite3.connect(tmp_path / "data" / DB_FILE)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_journal_store_is_migrated_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = JournalStore(data)
    _base(old)
    old.delete("company", ["b"])
    with old.load() as load:  # a committed load, then one left staged by a "dead" process
        load.upsert([Company(id="c", name="C")])
    # the server's own state (API keys, ingest jobs) is migrated too, though in no snapshot
    old.upsert([r for r in full_graph() if kind_of(r) in INTERNAL_KINDS], check_references=False)
    internal = {kind: old.export_rows(kind) for kind in INTERNAL_KINDS}
    assert all(internal.values())
    snap, revision, stats = old.snapshot(), old.revision(), old.stats()
    old.close()
    assert embedded_store_exists(data)  # the factory finds the old store too
    store = open_store(load_settings(COOPGRAPH_DATA_DIR=data), create=False)
    assert store.snapshot() == snap and store.revision() == revision
    assert store.stats() == stats
    assert {kind: store.export_rows(kind) for kind in INTERNAL_KINDS} == internal
    assert store.get("capability", ("a", "k")).unit_price == 2.5
    assert not (data / "graph.json").exists() and not (data / "journal.log").exists()
    assert (data / "journal-migrated" / "journal.log").exists()
    assert store.changes_since(revision - 1) is None  # the journal's log is not carried over
    store.upsert([Company(id="d", name="D")])
    store.close()
    again = EmbeddedStore(data)  # nothing migrated twice
    assert again.revision() == revision + 1 and again.stats()["company"] == 3
    again.close()


def test_a_corrupt_journal_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "graph.json").write_bytes(b"{not json")
    with pytest.raises(StoreCorrupted):
        EmbeddedStore(data)
    assert (data / "graph.json").read_bytes() == b"{not json"


WRITER = """
import sys
import threading
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Company
store = EmbeddedStore(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.upsert([Company(id=f"{sys.argv[2]}{i}", name="x")])
print(store.revision())
"""


def test_processes_write_and_read_one_database_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = EmbeddedStore(data)
    _base(store)
    start = store.revision()
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, str(script), str(data), prefix, "40"],
                              stdout=subprocess.PIPE, text=True) for prefix in ("p", "q")]
    seen = set()
    while any(p.poll() is None for p in procs):  # this process reads meanwhile
        seen.add(store.revision())
        assert store.stats()["company"] >= 2
    for proc in procs:
        out, _err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and int(out) > start
    assert store.revision() == start + 80
    assert store.stats()["company"] == 2 + 80
    changes = store.changes_since(start)  # written by the other processes, logged in the db
    assert changes is not None and [c.revision for c in changes] == list(
        range(start + 1, start + 81))
    assert all(set(c.keys) == {EntityKind.COMPANY} for c in changes)
    assert len(seen) > 1  # it saw the revision move while they wrote
    store.close()


def test_a_deferred_snapshot_is_the_state_when_it_was_taken(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    _base(store)
    before = store.snapshot()
    make = store.snapshot_deferred()
    store.upsert([Company(id="z", name="Z")])  # a write between the two steps
    store.delete("company", ["b"])
    taken = make()
    assert taken == before and taken.revision == before.revision
    assert store.snapshot() != before
    store.close()


def test_the_change_log_survives_a_reopen(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    _base(store)
    revision = store.revision()
    store.upsert([Company(id="a", name="A2")])
    store.close()
    again = EmbeddedStore(tmp_path / "data")
    changes = again.changes_since(revision)
    assert changes is not None and len(changes) == 1
    assert {k.value: set(v) for k, v in changes[0].keys.items()} == {"company": {("a",)}}
    assert again.analytic_revision() == revision + 1
    again.close()


_PRIVATE_NX = re.compile(r"\._succ\b|\._pred\b|\._node\b|\._adj\b|nx\._clear_cache")


def test_no_private_networkx_api_is_used() -> None:
    offenders = []
    for folder in ("graph", "queries", "api", "ingest"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _PRIVATE_NX.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_load_counts_each_new_record_once(tmp_path: Path) -> None:
    # Counts after a load: into an empty kind (counted after the copy) and into a kind
    # that holds records (counted against them), with keys staged twice and once.
    store = EmbeddedStore(tmp_path / "data")
    _base(store)
    with store.load() as load:
        load.upsert([Company(id="c", name="C"), Company(id="a", name="A2")])
        load.upsert([Company(id="c", name="C2"), Company(id="d", name="D")])
        load.upsert_rows("process", [{"code": "p1", "name_ru": "П1"}])
        load.upsert_rows("process", [{"code": "p1", "name_ru": "П1b"},
                                     {"code": "p2", "name_ru": "П2"}])
    stats = store.stats()
    assert stats["company"] == 4 and stats["process"] == 2
    assert store.fetch("company", [("c",)])[0]["name"] == "C2"  # the last staged wins
    assert store.fetch("process", [("p1",)])[0]["name_ru"] == "П1b"
    with store.load() as load:  # everything again: nothing new
        load.upsert([Company(id=i, name=i.upper()) for i in "abcd"])
        load.upsert_rows("process", [{"code": "p2", "name_ru": "П2"}])
    assert store.stats() == stats
    reopened = EmbeddedStore(tmp_path / "data")
    assert reopened.stats() == stats
    assert {k: len(v) for k, v in reopened.snapshot().tables.items() if v} == {
        k: n for k, n in stats.items() if n}
    reopened.close()
    store.close()


def test_opening_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    # Another connection holds the write lock (as a load's commit does): opening the
    # store and reading it must not wait for it.
    data = tmp_path / "data"
    _base(EmbeddedStore(data))
    with closing(sqlite3.connect(data / DB_FILE, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE meta SET value = value WHERE name = 'revision'")
        done: list[SqliteStore] = []
        opener = threading.Thread(target=lambda: done.append(SqliteStore(data)), daemon=True)
        opener.start()
        opener.join(timeout=20)
        assert done, "opening the store waited for the writer"
        assert done[0].stats()["company"] == 2
        writer.execute("ROLLBACK")
    done[0].close()
