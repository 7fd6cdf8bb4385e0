"""A killed writer never loses or corrupts what the embedded store committed before it.

A child process upserts batches in a loop and prints each committed revision;
we SIGKILL it at random moments (mid-transaction, mid-checkpoint, between writes),
reopen the store and check that every printed batch is there, that every batch
is either wholly present or wholly absent, and that the store still takes writes.

The journal store before it (:class:`graph.journal_store.JournalStore`) is now only
read once, to migrate it; its own crash rules (a torn journal line is dropped) still
hold for that read, and are checked at the end together with the migration.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.journal_store import JournalStore
from coopgraph.graph.models import Capability, Category, Company
from coopgraph.graph.schema import INTERNAL_KINDS

ROOT = Path(__file__).resolve().parents[1]
BATCH = 300  # companies per batch, each with one capability

WRITER = """
import sys
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Capability, Category, Company

path, start, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = EmbeddedStore(path)
store.upsert([Category(code="k", name_ru="Категория")])
i = start
while True:
    records = []
    for j in range(batch):
        cid = f"b{i:05d}-{j:04d}"
        records.append(Company(id=cid, name="Компания " + cid, region="Липецкая область"))
        records.append(Capability(company_id=cid, category="k", capacity_per_year=float(j)))
    store.upsert(records)
    print(f"{i} {store.revision()}", flush=True)
    i += 1
"""


def _batch_state(store: EmbeddedStore, i: int) -> str:
    present = sum(store.exists("company", f"b{i:05d}-{j:04d}") and
                  store.exists("capability", (f"b{i:05d}-{j:04d}", "k")) for j in range(BATCH))
    return "all" if present == BATCH else "none" if present == 0 else f"{present}/{BATCH}"


@pytest.mark.slow
def test_sigkilled_writer_loses_nothing_committed(tmp_path: Path):
    seed = 99
    rng = random.Random(seed)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    data = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    committed: dict[int, int] = {}  # batch -> revision printed by the writer
    next_batch = 0
    unchecked = 0  # rounds whose kill left WAL frames not yet checkpointed
    for round_ in range(8):
        proc = subprocess.Popen([sys.executable, str(script), str(data), str(next_batch),
                                 str(BATCH)], stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        # let it commit a few batches, then kill it at a random moment
        wanted = rng.randrange(1, 4)
        seen = 0
        while seen < wanted:
            line = proc.stdout.readline()
            assert line, f"the writer died on its own (seed={seed}, round={round_})"
            batch, revision = map(int, line.split())
            committed[batch] = revision
            seen += 1
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        for line in proc.stdout.read().splitlines():  # printed before the kill landed
            batch, revision = map(int, line.split())
            committed[batch] = revision
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        next_batch = max(committed) + 2  # the batch after the last printed may be half-done
        wal = data / "store.sqlite-wal"
        if wal.exists() and wal.stat().st_size:
            unchecked += 1

        store = EmbeddedStore(data)
        for batch in range(max(committed) + 2):
            state = _batch_state(store, batch)
            if batch in committed:
                assert state == "all", f"batch {batch} lost (seed={seed}, round={round_})"
            else:
                assert state in ("all", "none"), f"batch {batch} torn: {state} (seed={seed})"
        assert store.revision() >= max(committed.values())
        store.upsert([Company(id=f"after-{round_}", name="After")])  # still takes writes
        assert EmbeddedStore(data).exists("company", f"after-{round_}")
        store.close()
    assert len(committed) >= 5
    print(f"seed={seed}: {len(committed)} batches committed, "
          f"{unchecked} kills left a WAL to recover")


def _write_two_batches(path: Path) -> JournalStore:
    store = JournalStore(path)
    store.upsert([Category(code="k", name_ru="K"), Company(id="a", name="A")])
    store.upsert([Capability(company_id="a", category="k", unit_price=1.0)])
    return store


@pytest.mark.parametrize("tail", [
    b'0badc0de {"rev":3,"ops":[["upsert","company",[{"id":"torn"',  # cut mid-line
    b'0badc0de {"rev":3,"ops":[]}\n',  # whole line, wrong checksum
    b"\x00\x00\x00\x00",  # zeroed blocks after a crash
])
def test_a_torn_last_journal_line_is_dropped(tmp_path: Path, tail: bytes):
    path = tmp_path / "store"
    store = _write_two_batches(path)
    snap, revision = store.snapshot(), store.revision()
    store.close()
    journal = path / "journal.log"
    good_size = journal.stat().st_size
    with open(journal, "ab") as handle:
        handle.write(tail)
    reopened = JournalStore(path)
    assert reopened.snapshot() == snap
    assert reopened.revision() == revision
    assert journal.stat().st_size == good_size  # the torn tail was cut off
    reopened.upsert([Company(id="b", name="B")])
    again = JournalStore(path)
    assert again.exists("company", "b") and not again.exists("company", "torn")
    assert again.revision() == revision + 1
    # every remaining line is a committed, readable entry
    lines = journal.read_bytes().splitlines(keepends=True)
    assert [json.loads(line[9:])["rev"] for line in lines] == list(range(1, revision + 2))
    _assert_migrates(path)


def test_a_crash_between_compaction_steps_keeps_everything(tmp_path: Path):
    path = tmp_path / "store"
    store = _write_two_batches(path)
    snap, revision = store.snapshot(), store.revision()
    # compaction wrote graph.json but died before emptying the journal: replay must skip
    # the entries graph.json already holds
    journal_bytes = (path / "journal.log").read_bytes()
    store.compact()
    (path / "journal.log").write_bytes(journal_bytes)
    reopened = JournalStore(path)
    assert reopened.snapshot() == snap
    assert reopened.revision() == revision
    # a leftover temp file from a compaction that died before its rename is ignored
    (path / "graph.json.tmp").write_bytes(b'{"format": 1, "revision": 9')
    assert JournalStore(path).snapshot() == snap
    _assert_migrates(path)


def test_a_load_whose_commit_line_is_torn_is_rolled_back(tmp_path: Path):
    path = tmp_path / "store"
    store = _write_two_batches(path)
    snap, revision = store.snapshot(), store.revision()
    journal = path / "journal.log"
    with store.load("torn00commit") as load:
        load.upsert([Company(id="a", name="Changed"), Company(id="c", name="C")])
        staged_end = journal.stat().st_size
    whole = journal.read_bytes()
    # the process died while writing the commit line: only part of it reached the disk
    journal.write_bytes(whole[:staged_end] + whole[staged_end:-5])
    reopened = JournalStore(path)
    assert reopened.snapshot() == snap and reopened.revision() == revision
    assert "torn00commit" in reopened.load_warnings()[0]
    lines = journal.read_bytes().splitlines()
    assert json.loads(lines[-1][9:]) == {"rev": revision, "abort": "torn00commit",
                                         "abandoned": 2}
    # the whole commit line, as written, would have made it visible at once
    journal.write_bytes(whole)
    assert JournalStore(path).get("company", "a").name == "Changed"
    _assert_migrates(path)


def _assert_migrates(path: Path) -> None:
    """The embedded store, opened on the journal store's directory, holds what it held."""
    journal = JournalStore(path)
    snap, revision = journal.snapshot(), journal.revision()
    # the server's own state (keys, jobs) is in no snapshot: compared on its own
    internal = {kind: journal.export_rows(kind) for kind in INTERNAL_KINDS}
    journal.close()
    migrated = EmbeddedStore(path)
    assert migrated.snapshot() == snap and migrated.revision() == revision
    assert {kind: migrated.export_rows(kind) for kind in INTERNAL_KINDS} == internal
    assert not (path / "journal.log").exists() and not (path / "graph.json").exists()
