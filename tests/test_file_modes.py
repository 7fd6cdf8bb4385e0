"""The files that hold members' data are private to the server's user (0600, directories 0700).

Checked under a permissive umask (0o000), where ``open``'s defaults would make
every file world-readable.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from coopgraph.api.jobs import JobRunner
from coopgraph.api.keys import KeysFile
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.journal_store import JournalStore
from coopgraph.graph.models import Company


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_embedded_store_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    store = EmbeddedStore(data)
    store.upsert([Company(id="a", name="A")])
    store.upsert([Company(id="b", name="B")])
    with store.load("load-1") as load:
        load.upsert_rows("company", [{"id": "d", "name": "D"}])
    reader = EmbeddedStore(data)  # a second connection while the first is open
    assert reader.stats()["company"] == 3
    assert _mode(data) == 0o700
    files = sorted(p.name for p in data.iterdir())
    assert {"store.sqlite", "store.sqlite-wal", "store.sqlite-shm"} <= set(files), files
    assert {name: _mode(data / name) for name in files} == dict.fromkeys(files, 0o600)
    reader.close()
    store.close()
    files = sorted(p.name for p in data.iterdir())
    assert {name: _mode(data / name) for name in files} == dict.fromkeys(files, 0o600)


def test_a_migrated_journal_store_stays_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = JournalStore(data)
    old.upsert([Company(id="a", name="A")])
    old.close()
    EmbeddedStore(data).close()
    moved = data / "journal-migrated"
    assert _mode(moved) == 0o700 and (moved / "journal.log").exists()
    assert {p.name: _mode(p) for p in moved.iterdir()} == dict.fromkeys(
        [p.name for p in moved.iterdir()], 0o600)
    assert _mode(data / "store.sqlite") == 0o600


def test_a_stale_temp_file_does_not_keep_its_mode(tmp_path: Path) -> None:
    """The journal store (read once, to migrate it) still writes its files privately."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "graph.json.tmp").write_bytes(b"left by a crash")
    os.chmod(data / "graph.json.tmp", 0o666)
    store = JournalStore(data, compact_bytes=1)
    store.upsert([Company(id="a", name="A")])
    store.upsert([Company(id="b", name="B")])
    store.close()
    assert _mode(data / "graph.json") == 0o600


def test_keys_file_is_private(tmp_path: Path) -> None:
    keys = KeysFile(tmp_path / "secrets" / "api_keys.json")  # the former file, to migrate
    keys.create("admin")
    assert _mode(tmp_path / "secrets") == 0o700
    assert _mode(tmp_path / "secrets" / "api_keys.json") == 0o600
    assert _mode(tmp_path / "secrets" / "api_keys.json.lock") == 0o600


def test_jobs_dir_is_private(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    runner = JobRunner(tmp_path / "jobs", lambda: store)
    try:
        runner.submit([("companies.csv", io.BytesIO(b"id,name\na,A\n"))])
        runner.wait(timeout=60)
    finally:
        runner.shutdown()
    assert _mode(tmp_path / "jobs") == 0o700
