"""The embedded store: one SQLite database file (standard library ``sqlite3``, WAL mode).

No server needed — this is the default store and what the demo uses.

Layout of the data directory::

    store.sqlite        the database (with ``-wal`` and ``-shm`` beside it while open)
    journal-migrated/   the journal store's files, once migrated (see below)

Tables (``_SCHEMA``): ``records`` holds every record of every kind of
:data:`graph.schema.KINDS`, keyed by ``(kind, key)`` — the key's parts joined by
NUL, UTF-8, so that SQLite's byte order is Python's tuple order — with the
properties analytics read as one JSON document and the provenance fields as
columns; ``counts`` the number of records per kind;
``meta`` the revision, the analytic revision and where the change log starts;
``changes`` the change log (revision → kinds and keys, :mod:`graph.changelog`);
``loads`` and ``staged`` the loads in progress (:mod:`graph.loads`).

Every write call is one ``BEGIN IMMEDIATE`` transaction that bumps the revision
once and logs its change; crash safety is SQLite's (``synchronous=FULL``: a
write is on disk when the call returns). Any number of processes may open the
same directory: readers never wait for a writer (WAL), writers take turns.

A load stages its rows in ``staged`` (committed chunk by chunk, invisible to
readers) under a ``loads`` row naming its owner (host, pid, process start); its
commit copies them into ``records`` in one transaction. A load into an empty store
skips the stage: it writes ``records`` on a connection of its own in one transaction
that its commit commits (:class:`_DirectLoad`). A load whose owner has
died is rolled back by the next open or load, and marked ``aborted`` so that
every process reports it until a load commits.

A directory that still holds the journal store's ``graph.json``/``journal.log``
(:class:`graph.journal_store.JournalStore`, the store before this one) is
migrated once, on first open: its records and revision are copied in one
transaction and its files moved to ``journal-migrated/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar

import orjson

from coopgraph.graph.changelog import KEEP, Change, keyed
from coopgraph.graph.errors import StoreCorrupted, StoreError, StoreUnavailable
from coopgraph.graph.loads import Load, LoadRecovery, owner_alive, this_owner
from coopgraph.graph.messages import Msg
from coopgraph.graph.schema import DATA_KINDS, KINDS, EntityKind, KindSpec, Reference
from coopgraph.graph.store import (
    GraphStore,
    Removal,
    Snapshot,
    plan_removal,
)

__all__ = ["DB_FILE", "JOURNAL_FILES", "SqliteStore"]

DB_FILE = "store.sqlite"
JOURNAL_FILES = ("graph.json", "journal.log")  # the journal store's, migrated once
MIGRATED_DIR = "journal-migrated"
_FORMAT = 1
_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_CHUNK = 500  # keys per ``IN (…)`` list
_SEP = "\x00"
Key = tuple[str, ...]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key BLOB NOT NULL, props BLOB NOT NULL,
    source TEXT, row INTEGER, ingested_at TEXT,
    PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS records_uncounted AFTER DELETE ON records BEGIN
    UPDATE counts SET n = n - 1 WHERE kind = OLD.kind; END;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    revision INTEGER PRIMARY KEY, analytic INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS loads (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, host TEXT, pid INTEGER, started TEXT,
    began_at TEXT, rows INTEGER NOT NULL DEFAULT 0);
INSERT OR IGNORE INTO meta VALUES ('format', {_FORMAT}), ('revision', 0), ('analytic', 0),
    ('log_base', 0);
"""

_OBJECTS = frozenset({"records", "counts", "records_uncounted", "meta", "changes", "loads"})
_META_NAMES = frozenset({"format", "revision", "analytic", "log_base", "lineage"})

_INSERT = ("INSERT INTO records (kind, key, props, source, row, ingested_at) "
           "VALUES (?, ?, ?, ?, ?, ?)")
_UPSERT = ("INSERT INTO records (kind, key, props, source, row, ingested_at) "
           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET "
           "props = excluded.props, source = excluded.source, row = excluded.row, "
           "ingested_at = excluded.ingested_at")
# A load's staged rows live in a database of their own, attached while the load runs
# (``load-<hash>.stage`` beside the store, or in memory): appended without a journal
# or fsync — a crash rolls the load back anyway — and read once by the commit.
# (Keyed like ``records`` instead, staging cost more than the commit saved.)
_STAGED_TABLE = ("CREATE TABLE IF NOT EXISTS {alias}.staged (kind TEXT NOT NULL, "
                 "key BLOB NOT NULL, props BLOB NOT NULL, source TEXT, row INTEGER, "
                 "ingested_at TEXT)")
_STAGE = ("INSERT INTO {alias}.staged (kind, key, props, source, row, ingested_at) "
          "VALUES (?, ?, ?, ?, ?, ?)")
_UNSTAGE = ("INSERT INTO main.records (kind, key, props, source, row, ingested_at) "
            "SELECT kind, key, props, source, row, ingested_at FROM {alias}.staged "
            "WHERE true ORDER BY rowid "  # ``WHERE true``: the parser needs it before ON
            "ON CONFLICT (kind, key) DO UPDATE SET "
            "props = excluded.props, source = excluded.source, row = excluded.row, "
            "ingested_at = excluded.ingested_at")
# staged records not yet stored, by kind (a key may be staged more than once)
_NEW_STAGED = ("SELECT kind, count(*) FROM (SELECT DISTINCT kind, key FROM {alias}.staged "
               "WHERE kind IN ({marks})) AS s WHERE NOT EXISTS (SELECT 1 FROM main.records "
               "AS r WHERE r.kind = s.kind AND r.key = s.key) GROUP BY kind")


def encode_key(key: Sequence[str]) -> bytes:
    """A key tuple as stored: its parts joined by NUL, UTF-8 (byte order = tuple order)."""
    return _SEP.join(key).encode()


def decode_key(blob: bytes) -> Key:
    return tuple(blob.decode().split(_SEP))


def _key_blobs(kind_spec: KindSpec, rows: Sequence[dict[str, Any]]) -> list[bytes]:
    """The stored key of each row (:func:`encode_key`), built column by column in C."""
    columns = [map(str, map(itemgetter(name), rows)) for name in kind_spec.key_fields]
    if len(columns) == 1:
        return list(map(str.encode, columns[0]))
    return list(map(str.encode, map(_SEP.join, zip(*columns, strict=True))))


def _columns(kind: str, rows: Sequence[dict[str, Any]], keys: Iterable[bytes]
             ) -> Iterator[tuple[Any, ...]]:
    """``(kind, key, props, source, row, ingested_at)`` for each row.

    The provenance fields are taken out of the dict for ``orjson.dumps`` and put back
    at once (cheaper than a copy without them); the caller's dicts end up as they were.
    The key and the JSON are passed as ``bytearray``: the standard library's ``sqlite3``
    binds a bytearray (like str, int and float) as it is, but looks each ``bytes`` value
    up in its adapter registry first — on Python 3.11 ≈ 0.4 µs a value, 5 % of a large
    load's time. Both are stored as the same BLOB.
    """
    dumps = orjson.dumps
    for props, key in zip(rows, keys, strict=True):
        pop = props.pop
        source, row, ingested = pop("source", None), pop("row", None), pop("ingested_at", None)
        try:
            data = dumps(props)
        finally:
            _with_provenance(props, source, row, ingested)
        yield kind, bytearray(key), bytearray(data), source, row, ingested


def _with_provenance(props: dict[str, Any], source: str | None, row: int | None,
                     ingested: str | None) -> dict[str, Any]:
    """``props`` with the provenance fields that are not None put (back) in."""
    if source is not None:
        props["source"] = source
    if row is not None:
        props["row"] = row
    if ingested is not None:
        props["ingested_at"] = ingested
    return props


def _merged(data: bytes, source: str | None, row: int | None, ingested: str | None
            ) -> dict[str, Any]:
    """A stored record as a dict: its JSON properties and its provenance columns."""
    return _with_provenance(orjson.loads(data), source, row, ingested)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    it = iter(items)
    while piece := list(islice(it, size)):
        yield piece


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (SQLite gives -wal/-shm the same mode)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


def _tune(db: sqlite3.Connection, synchronous: str) -> None:
    """The per-connection settings of every connection to the store's database
    (``synchronous``: one of :data:`_SYNCHRONOUS`, checked by the store)."""
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages at most
    # after a checkpoint, a WAL grown by a big load shrinks back to this (ignored in memory)
    db.execute("PRAGMA journal_size_limit=67108864")


@contextmanager
def _savepoint(db: sqlite3.Connection, name: str) -> Iterator[None]:
    """A savepoint around the block: released when it ends, rolled back to if it raises
    (unless SQLite ended the whole transaction itself)."""
    db.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute(f"ROLLBACK TO {name}")
            db.execute(f"RELEASE {name}")
        raise
    db.execute(f"RELEASE {name}")


class _DirectLoad:
    """A load into an empty store, written straight into ``records`` on a connection of its
    own inside one ``BEGIN IMMEDIATE`` transaction (committed by the load's commit).

    Staging would write each row twice — into the stage file, then copied — to keep the
    store readable and writable while the load runs. An empty store has nothing to read,
    so a first load skips the stage (6–11 % of a 1.9M-row load's time): readers see the
    empty store until it commits (WAL), other writes are refused at once meanwhile (store
    busy, ``load.direct_running``: waiting for the lock would hold a store object's own
    lock, and so its readers, for up to 60 s), a crash leaves nothing of it (SQLite rolls
    the transaction back). Keys are kept for the change log while they are few enough to
    list (:func:`keyed`).

    Rows are inserted as new (no conflict clause) while no key of their kind repeats: the
    store was empty, so the kind then holds as many records as rows were written, and the
    commit does not count them again. A chunk that repeats a key is rolled back to its
    savepoint and upserted (the last row wins), and its kind counted at the commit."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.new: dict[str, int] = {}  # kind → records inserted as new, while exact
        self.recount: set[str] = set()  # kinds with a repeated key: counted at the commit
        self.keys: dict[EntityKind, list[bytes]] | None = {}

    def write(self, groups: dict[EntityKind, list[dict[str, Any]]], before: int) -> None:
        """Upsert ``groups`` (``before``: rows the load wrote already), all or none of them
        (a savepoint: a caller that goes on after a failed write keeps the earlier ones)."""
        self.check()
        db = self.db
        written: dict[EntityKind, list[bytes]] = {}
        new: dict[str, int] = {}
        with _savepoint(db, "chunk"):
            for kind, rows in groups.items():
                written[kind] = keys = _key_blobs(KINDS[kind], rows)
                if kind.value not in self.recount:
                    if self._insert(kind.value, rows, keys):
                        new[kind.value] = new.get(kind.value, 0) + len(rows)
                        continue
                    self.recount.add(kind.value)
                db.executemany(_UPSERT, _columns(kind.value, rows, keys))
        for kind_name, n in new.items():
            self.new[kind_name] = self.new.get(kind_name, 0) + n
        size = before + sum(map(len, written.values()))
        if self.keys is not None and keyed(size):
            for kind, keys in written.items():
                self.keys.setdefault(kind, []).extend(keys)
        else:
            self.keys = None

    def _insert(self, kind: str, rows: list[dict[str, Any]], keys: list[bytes]) -> bool:
        """Insert ``rows`` as new records; False (nothing written) if a key is stored
        already or repeats among them."""
        try:
            with _savepoint(self.db, "rows"):
                self.db.executemany(_INSERT, _columns(kind, rows, keys))
        except sqlite3.IntegrityError:  # the primary key: (kind, key) written before
            return False
        return True

    def counts(self) -> dict[str, int | None]:
        """Per kind written: its records now (None: count them, a key was repeated)."""
        return {**self.new, **dict.fromkeys(self.recount)}

    def check(self) -> None:
        """Raise if SQLite ended the load's transaction itself (a full disk, an I/O error):
        what followed would be committed piece by piece."""
        if not self.db.in_transaction:
            raise StoreError("the load's transaction was rolled back by SQLite (a full disk "
                             "or an I/O error?); nothing of it was kept: run it again")


class SqliteStore(GraphStore):
    """A :class:`GraphStore` in one SQLite database; ``path=None`` keeps it in memory only.

    ``path`` is the data directory (the database is ``path/store.sqlite``). One
    connection per store object, used under a lock: threads of one process take
    turns, processes share the file through SQLite's own locking.
    """

    kind: ClassVar[str] = "embedded"

    def __init__(self, path: str | Path | None, *, synchronous: str = "FULL",
                 lazy: bool = False) -> None:
        # ``lazy`` is accepted for callers that may be answered from a cache
        # (queries.projection_disk): opening SQLite reads no data, so nothing is deferred.
        del lazy
        if synchronous not in _SYNCHRONOUS:  # formatted into a PRAGMA: only SQLite's levels
            raise StoreError(f"synchronous must be one of {sorted(_SYNCHRONOUS)}, "
                             f"not {synchronous!r}")
        self.path = Path(path) if path is not None else None
        self._synchronous = synchronous
        self._lock = threading.RLock()
        self._stages = 0  # staging databases attached so far (their aliases)
        self._staged_kinds: dict[str, set[str]] = {}  # by alias: the kinds staged so far
        self._db_file: Path | None = None
        if self.path is not None:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._db_file = self.path / DB_FILE
            if not self._db_file.exists():
                _private_file(self._db_file)
            target = str(self._db_file)
        else:
            target = ":memory:"
        try:
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False,
                                       timeout=60.0)
            self._db.execute("PRAGMA page_size=8192")  # a new database's; ignored after
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            _tune(self._db, synchronous)
            counts = "".join(f"INSERT OR IGNORE INTO counts VALUES ('{k.value}', 0);"
                             for k in KINDS)
            # the store's lineage: drawn once when the database is made, so a store
            # deleted and made again is another store for caches kept outside it
            counts += f"INSERT OR IGNORE INTO meta VALUES ('lineage', {secrets.randbits(62)});"
            if not self._schema_ready():  # a write: it would wait for a committing load
                self._db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + counts + "COMMIT;")
            with self._lock:
                fmt = self._meta("format")
                if fmt != _FORMAT:
                    raise StoreCorrupted(f"{self._db_file} has unknown format {fmt}")
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupted(f"cannot read {self._db_file}: {exc}") from exc
        if self.path is not None:
            self._migrate_journal()
            self._recover_loads()

    def _schema_ready(self) -> bool:
        """Whether every table, kind count and meta value of ``_SCHEMA`` is there already
        (read without a write transaction, so that opening never waits for a writer)."""
        db = self._db
        with self._lock:
            try:
                names = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
                kinds = {k for (k,) in db.execute("SELECT kind FROM counts")}
                meta = {n for (n,) in db.execute("SELECT name FROM meta")}
            except sqlite3.OperationalError:  # a new database: no tables yet
                return False
        return (names >= _OBJECTS and {k.value for k in KINDS} <= kinds
                and meta >= _META_NAMES)

    # --- transactions and meta --------------------------------------------------------

    @contextmanager
    def _tx(self, mode: str = "IMMEDIATE", *, direct_ok: bool = False
            ) -> Iterator[sqlite3.Connection]:
        """One transaction (``IMMEDIATE``: a write; ``DEFERRED``: a consistent read).

        A write is refused at once while a first load holds the write lock
        (:class:`_DirectLoad`) — it would wait up to 60 s, holding this store object's
        lock, so its readers too — unless ``direct_ok`` (the load's own bookkeeping)."""
        with self._lock:
            db = self._db
            if mode == "IMMEDIATE" and not direct_ok:
                self._refuse_during_direct()
            try:
                db.execute(f"BEGIN {mode}")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"the embedded store is busy or unreadable: {exc}") \
                    from exc
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _refuse_during_direct(self) -> None:
        for load_id, host, pid, started in self._db.execute(
                "SELECT id, host, pid, started FROM loads WHERE state = 'direct'"):
            if owner_alive(host, pid, started) is not False:
                raise StoreUnavailable(Msg("load.direct_running", load_id=load_id))

    def _meta(self, name: str, db: sqlite3.Connection | None = None) -> int:
        row = (db or self._db).execute("SELECT value FROM meta WHERE name = ?",
                                       (name,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, name: str, value: int, db: sqlite3.Connection | None = None) -> None:
        (db or self._db).execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                                 "SET value = excluded.value", (name, value))

    def _commit_change(self, touched: Mapping[EntityKind, Iterable[Key]] | None, *,
                       size: int = 0, full: bool = False,
                       db: sqlite3.Connection | None = None) -> int:
        """Bump the revision and log what the write touched (inside its transaction, on
        ``db``: the store's connection unless a direct load's own).

        ``touched=None`` with ``size``: a write too large to list key by key.
        """
        db = db or self._db
        revision = self._meta("revision", db) + 1
        self._set_meta("revision", revision, db)
        if touched is None or not keyed(size):
            change = Change(revision, {}, True)
        else:
            change = Change.of(revision, touched, full=full)
        base = self._meta("log_base", db)
        last = db.execute("SELECT max(revision) FROM changes").fetchone()[0] or base
        if change.full or revision != last + 1:
            db.execute("DELETE FROM changes")
            self._set_meta("log_base", revision, db)
        else:
            db.execute("INSERT INTO changes VALUES (?, ?, ?)",
                       (revision, int(change.analytic), change.to_json()))
            if revision - KEEP > base:
                db.execute("DELETE FROM changes WHERE revision <= ?", (revision - KEEP,))
                self._set_meta("log_base", revision - KEEP, db)
        if change.analytic:
            self._set_meta("analytic", revision, db)
        return revision

    # --- writing ------------------------------------------------------------------------

    def _upsert_groups(self, groups: dict[EntityKind, list[dict[str, Any]]]
                       ) -> dict[EntityKind, list[bytes]]:
        written = {}
        for kind, rows in groups.items():
            keys = _key_blobs(KINDS[kind], rows)
            new = len(set(keys)) - len(self._existing(kind, keys))
            self._db.executemany(_UPSERT, _columns(kind.value, rows, keys))
            self._count(kind.value, new)
            written[kind] = keys
        return written

    def _count(self, kind: str, new: int) -> None:
        """Add ``new`` inserted records to ``counts`` (deletes are counted by a trigger;
        a trigger per insert would cost a quarter of a bulk load)."""
        if new:
            self._db.execute("UPDATE counts SET n = n + ? WHERE kind = ?", (new, kind))

    def _log_groups(self, written: dict[EntityKind, list[bytes]]) -> None:
        size = sum(len(v) for v in written.values())
        if not keyed(size):
            self._commit_change(None, size=size)
        else:
            self._commit_change({k: map(decode_key, v) for k, v in written.items()})

    def _write(self, groups: dict[EntityKind, list[dict[str, Any]]], *,
               check: bool = False) -> None:
        with self._tx():
            if check:
                self._check_references(groups)
            self._log_groups(self._upsert_groups(groups))

    def _write_if(self, kind_spec: KindSpec, key: tuple[str, ...], field: str,
                  expected: int | None, groups: dict[EntityKind, list[dict[str, Any]]]) -> None:
        with self._tx():
            self._version_check(kind_spec, key, field, expected, self._get_row(kind_spec, key))
            self._check_references(groups)
            self._log_groups(self._upsert_groups(groups))

    def _remove(self, kind_spec: KindSpec, keys: list[tuple[str, ...]],
                cascade: bool) -> Removal:
        with self._tx():
            removal = plan_removal(kind_spec, keys, cascade=cascade, present=self._present,
                                   referrers=self._referrers)
            if not removal.requested:
                return removal
            touched: dict[EntityKind, set[Key]] = {}
            for kind, rows in removal.updates.items():
                touched.setdefault(kind, set()).update(map(KINDS[kind].key_of, rows))
            self._upsert_groups(removal.updates)
            for kind, gone in removal.deleted.items():
                touched.setdefault(kind, set()).update(gone)
                self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?",
                                     [(kind.value, encode_key(k)) for k in gone])
            size = sum(len(v) for v in touched.values())
            self._commit_change(touched, size=size)
            return removal

    def _present(self, kind: EntityKind, keys: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        found = self._existing(kind, [encode_key(k) for k in keys])
        return [k for k in keys if encode_key(k) in found]

    def _existing(self, kind: EntityKind, blobs: Sequence[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for piece in _chunks(blobs):
            marks = ",".join("?" * len(piece))
            found.update(b for (b,) in self._db.execute(
                f"SELECT key FROM records WHERE kind = ? AND key IN ({marks})",
                (kind.value, *piece)))
        return found

    def _referrers(self, ref: Reference, keys: list[str]) -> list[dict[str, Any]]:
        path = "$." + ref.field
        out = []
        for piece in _chunks(keys):
            marks = ",".join("?" * len(piece))
            if ref.many:
                where = (f"EXISTS (SELECT 1 FROM json_each(CAST(props AS TEXT), ?) "
                         f"WHERE value IN ({marks}))")
            else:
                where = f"json_extract(CAST(props AS TEXT), ?) IN ({marks})"
            out += [_merged(*row) for row in self._db.execute(
                f"SELECT props, source, row, ingested_at FROM records "
                f"WHERE kind = ? AND {where}", (ref.source.value, path, *piece))]
        return out

    def _missing_nodes(self, wanted: dict[EntityKind, set[str]]) -> dict[EntityKind, set[str]]:
        missing = {}
        for kind, keys in wanted.items():
            blobs = [k.encode() for k in keys]
            found = self._existing(kind, blobs)
            missing[kind] = {k for k, b in zip(keys, blobs, strict=True) if b not in found}
        return missing

    def clear(self) -> None:
        with self._tx():
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM loads WHERE state = 'aborted'")
            self._commit_change(None)
        self._forget_recoveries()

    # --- reading ------------------------------------------------------------------------

    def _get_row(self, kind_spec: KindSpec, key: tuple[str, ...]) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT props, source, row, ingested_at FROM records WHERE kind = ? AND key = ?",
            (kind_spec.kind.value, encode_key(key))).fetchone()
        return _merged(*row) if row else None

    def _get(self, kind_spec: KindSpec, key: tuple[str, ...]) -> dict[str, Any] | None:
        with self._lock:
            return self._get_row(kind_spec, key)

    def _list(
        self, kind_spec: KindSpec, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        kind = kind_spec.kind.value
        with self._tx("DEFERRED") as db:
            if not filters:
                total = db.execute("SELECT n FROM counts WHERE kind = ?", (kind,)).fetchone()[0]
                rows = db.execute(
                    "SELECT props, source, row, ingested_at FROM records WHERE kind = ? "
                    "ORDER BY key LIMIT ? OFFSET ?", (kind, limit, offset)).fetchall()
                return [_merged(*r) for r in rows], int(total)
            loads = orjson.loads
            matches = self._matches
            hits = [(key, props) for key, props in db.execute(
                "SELECT key, props FROM records WHERE kind = ? ORDER BY key", (kind,))
                if matches(loads(props), filters)]
            page = hits[offset:offset + limit]
            out = []
            for key, _props in page:
                row = db.execute("SELECT props, source, row, ingested_at FROM records "
                                 "WHERE kind = ? AND key = ?", (kind, key)).fetchone()
                out.append(_merged(*row))
            return out, len(hits)

    def fetch(self, kind: EntityKind | str,
              keys: Iterable[tuple[str, ...]]) -> list[dict[str, Any]]:
        kind = EntityKind(kind)
        blobs = [encode_key(k) for k in keys]
        found: dict[bytes, dict[str, Any]] = {}
        with self._tx("DEFERRED") as db:
            for piece in _chunks(blobs):
                marks = ",".join("?" * len(piece))
                found.update((k, orjson.loads(p)) for k, p in db.execute(
                    f"SELECT key, props FROM records WHERE kind = ? AND key IN ({marks})",
                    (kind.value, *piece)))
        return [found[b] for b in blobs if b in found]

    def stats(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._db.execute("SELECT kind, n FROM counts").fetchall())
        return {kind.value: int(counts.get(kind.value, 0)) for kind in KINDS}

    def revision(self) -> int:
        with self._lock:
            return self._meta("revision")

    def analytic_revision(self) -> int:
        with self._lock:
            return self._meta("analytic")

    def identity(self) -> str | None:
        """``embedded <directory> <lineage>``; ``None`` for a store in memory only."""
        if self.path is None:
            return None
        with self._lock:
            lineage = self._meta("lineage")
        return f"embedded {self.path.resolve()} {lineage}"

    def cache_dir(self) -> Path | None:
        """The store's own directory: its caches go with it (and are as private)."""
        return self.path

    def changes_since(self, revision: int) -> list[Change] | None:
        with self._tx("DEFERRED") as db:
            if revision < self._meta("log_base"):
                return None
            rows = db.execute("SELECT revision, body FROM changes WHERE revision > ? "
                              "ORDER BY revision", (revision,)).fetchall()
        return [Change.from_json(r, body) for r, body in rows]

    @staticmethod
    def _read_tables(db: sqlite3.Connection) -> dict[EntityKind, list[dict[str, Any]]]:
        loads = orjson.loads
        tables = {}
        for kind in DATA_KINDS:  # the server's own state (API keys, jobs) is not analytics'
            cursor = db.execute("SELECT props FROM records WHERE kind = ? ORDER BY key",
                                (kind.value,))
            tables[kind] = [loads(p) for (p,) in cursor]
        return tables

    def snapshot(self) -> Snapshot:
        with self._tx("DEFERRED") as db:
            revision = self._meta("revision")
            return Snapshot(revision, self._read_tables(db))

    def snapshot_deferred(self) -> Callable[[], Snapshot]:
        """On disk: a read transaction of its own fixes the content (milliseconds);
        the function returned reads the rows, while writers go on. In memory: both
        at once."""
        if self._db_file is None:
            return super().snapshot_deferred()
        reader = sqlite3.connect(str(self._db_file), isolation_level=None,
                                 check_same_thread=False, timeout=60.0)
        reader.execute("BEGIN")
        revision = int(reader.execute(
            "SELECT value FROM meta WHERE name = 'revision'").fetchone()[0])

        def rows() -> Snapshot:
            try:
                return Snapshot(revision, self._read_tables(reader))
            finally:
                reader.close()
        return rows

    def ping(self) -> None:
        if self.path is not None and not os.access(self.path, os.W_OK):
            raise StoreError(f"the data directory {self.path} is not writable")
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the embedded store does not answer: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        info = {"store": self.kind, "data_dir": str(self.path) if self.path else None}
        return {**info, **({"warnings": self.load_warnings()} if self.load_warnings() else {})}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- loads (see graph.loads) --------------------------------------------------------

    def _stage_file(self, load_id: str) -> Path | None:
        if self.path is None:
            return None
        return self.path / f"load-{hashlib.sha256(load_id.encode()).hexdigest()[:16]}.stage"

    def _recover_loads(self) -> None:
        """Roll back the loads whose owner has died; remember every aborted one."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, state, host, pid, started, rows FROM loads").fetchall()
            dead = [r[0] for r in rows if r[1] in ("staged", "direct")
                    and owner_alive(r[2], r[3], r[4]) is False]
            if dead:
                with self._tx(direct_ok=True):
                    for load_id in dead:  # a direct load's row count is not known: -1
                        self._db.execute(
                            "UPDATE loads SET state = 'aborted', rows = CASE state WHEN "
                            "'direct' THEN -1 ELSE rows END WHERE id = ? "
                            "AND state IN ('staged', 'direct')", (load_id,))
                for load_id in dead:
                    self._drop_stage_file(load_id)
                rows = self._db.execute(
                    "SELECT id, state, host, pid, started, rows FROM loads").fetchall()
        for load_id, state, *_rest, count in rows:
            if state == "aborted":
                self._recovered(LoadRecovery(load_id, "rolled back", int(count)))

    def _drop_stage_file(self, load_id: str) -> None:
        file = self._stage_file(load_id)
        if file is not None:
            file.unlink(missing_ok=True)

    def _begin_load(self, load: Load) -> None:
        if self.path is not None:
            self._recover_loads()
            if self._empty() and self._begin_direct(load):
                return
        host, pid, started = this_owner()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        with self._lock:
            self._stages += 1
            alias = f"stage{self._stages}"
            file = self._stage_file(load.id)
            if file is not None:
                file.unlink(missing_ok=True)  # left by an earlier load with this id
                _private_file(file)
            self._db.execute("ATTACH DATABASE ? AS " + alias,
                             (str(file) if file else ":memory:",))
            try:
                self._db.execute(f"PRAGMA {alias}.journal_mode=OFF")
                self._db.execute(f"PRAGMA {alias}.synchronous=OFF")
                self._db.execute(_STAGED_TABLE.format(alias=alias))
                with self._tx():
                    self._db.execute("INSERT INTO loads VALUES (?, 'staged', ?, ?, ?, ?, 0)",
                                     (load.id, host, pid, started, now))
            except BaseException:
                self._detach(alias, load.id)
                raise
        load.state = alias

    def _detach(self, alias: str, load_id: str) -> None:
        with self._lock:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.execute("DETACH DATABASE " + alias)
            self._staged_kinds.pop(alias, None)
        self._drop_stage_file(load_id)

    def _empty(self) -> bool:
        """Whether the store holds no record of any kind (a new store, or one cleared)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None

    def _begin_direct(self, load: Load) -> bool:
        """Begin ``load`` as a :class:`_DirectLoad` if the store is still empty once its
        write lock is held; False (nothing left behind) if another writer came first."""
        assert self._db_file is not None
        host, pid, started = this_owner()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        with self._tx():  # committed first: a crash leaves it for the next open to report
            self._db.execute("INSERT INTO loads VALUES (?, 'direct', ?, ?, ?, ?, 0)",
                             (load.id, host, pid, started, now))
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(str(self._db_file), isolation_level=None,
                                 check_same_thread=False, timeout=60.0)
            _tune(db, self._synchronous)
            db.execute("BEGIN IMMEDIATE")
            if db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None:
                load.state = _DirectLoad(db)
                return True
        except sqlite3.OperationalError:
            pass  # busy: stage the load instead, as for a store that holds records
        except BaseException:
            self._drop_direct(load.id, db)
            raise
        self._drop_direct(load.id, db)
        return False

    def _drop_direct(self, load_id: str, db: sqlite3.Connection | None) -> None:
        """Roll back and close a direct load's connection, and delete its ``loads`` row
        (best effort: a row left behind is reported and dropped by the next open)."""
        if db is not None:
            try:
                if db.in_transaction:
                    db.execute("ROLLBACK")
            finally:
                db.close()
        with suppress(sqlite3.Error, StoreError), self._tx(direct_ok=True):
            self._db.execute("DELETE FROM loads WHERE id = ?", (load_id,))

    def _stage(self, load: Load, groups: dict[EntityKind, list[dict[str, Any]]]) -> None:
        if isinstance(load.state, _DirectLoad):
            load.state.write(groups, load.rows)
            return
        alias = load.state
        insert = _STAGE.format(alias=alias)
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for kind, rows in groups.items():
                    keys = _key_blobs(KINDS[kind], rows)
                    self._db.executemany(insert, _columns(kind.value, rows, keys))
                    self._staged_kinds.setdefault(alias, set()).add(kind.value)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # How many: for the warning if this process dies. Not fsynced: it only
            # names the load; a kill -9 keeps it, the next fsynced commit syncs it.
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                with self._tx():
                    self._db.execute("UPDATE loads SET rows = rows + ? WHERE id = ?",
                                     (sum(len(r) for r in groups.values()), load.id))
            finally:
                self._db.execute(f"PRAGMA synchronous={self._synchronous}")

    def _commit_load(self, load: Load) -> None:
        if isinstance(load.state, _DirectLoad):
            self._commit_direct(load, load.state)
            return
        alias = load.state
        try:
            with self._tx():
                row = self._db.execute("SELECT state, rows FROM loads WHERE id = ?",
                                       (load.id,)).fetchone()
                if row is None or row[0] != "staged":
                    raise StoreError(f"load {load.id} was rolled back by another process "
                                     "(its owner looked dead); run it again")
                count = int(row[1])
                if count:
                    touched: dict[EntityKind, list[Key]] | None = None
                    if keyed(count):
                        touched = {}
                        for kind, key in self._db.execute(
                                f"SELECT kind, key FROM {alias}.staged"):
                            touched.setdefault(EntityKind(kind), []).append(decode_key(key))
                    # New records: of a kind that was empty, all it holds after the copy
                    # (no sort of the staged keys); of the others, the staged keys not
                    # stored before it.
                    stored = dict(self._db.execute("SELECT kind, n FROM counts").fetchall())
                    kinds = sorted(self._staged_kinds.get(alias, ()))
                    filled = [k for k in kinds if not stored.get(k)]
                    if held := [k for k in kinds if stored.get(k)]:
                        for kind, new in self._db.execute(_NEW_STAGED.format(
                                alias=alias, marks=",".join("?" * len(held))), held).fetchall():
                            self._count(kind, new)
                    self._db.execute(_UNSTAGE.format(alias=alias))
                    for kind in filled:
                        self._count(kind, self._db.execute(
                            "SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0])
                    self._commit_change(touched, size=count)
                # a committed load: the interrupted ones before it are no longer news
                self._db.execute("DELETE FROM loads WHERE id = ? OR state = 'aborted'",
                                 (load.id,))
        finally:
            self._detach(alias, load.id)

    def _commit_direct(self, load: Load, direct: _DirectLoad) -> None:
        """Count, log and commit a direct load's rows in its own transaction."""
        db = direct.db
        committed = False
        try:
            direct.check()
            row = db.execute("SELECT state FROM loads WHERE id = ?", (load.id,)).fetchone()
            if row is None or row[0] != "direct":
                raise StoreError(f"load {load.id} was rolled back by another process "
                                 "(its owner looked dead); run it again")
            for kind, n in sorted(direct.counts().items()):  # the store was empty
                if n is None:
                    db.execute("UPDATE counts SET n = (SELECT count(*) FROM records WHERE "
                               "kind = ?1) WHERE kind = ?1", (kind,))
                else:
                    db.execute("UPDATE counts SET n = ? WHERE kind = ?", (n, kind))
            if load.rows:
                touched = None if direct.keys is None else {
                    kind: map(decode_key, blobs) for kind, blobs in direct.keys.items()}
                self._commit_change(touched, size=load.rows, db=db)
            db.execute("DELETE FROM loads WHERE id = ? OR state = 'aborted'", (load.id,))
            direct.check()
            db.execute("COMMIT")
            committed = True
        finally:
            if committed:
                db.close()
            else:
                self._drop_direct(load.id, db)

    def _abort_load(self, load: Load) -> None:
        if isinstance(load.state, _DirectLoad):
            self._drop_direct(load.id, load.state.db)
            return
        try:
            with self._tx():
                self._db.execute("DELETE FROM loads WHERE id = ?", (load.id,))
        finally:
            self._detach(load.state, load.id)

    # --- migration from the journal store -------------------------------------------------

    def _migrate_journal(self) -> None:
        """Copy a journal store found in the directory into the database, once."""
        assert self.path is not None
        old = [self.path / name for name in JOURNAL_FILES if (self.path / name).exists()]
        if not old:
            return
        from coopgraph.graph.journal_store import JournalStore

        with self._tx():
            if not self._meta("journal_migrated"):
                journal = JournalStore(self.path)
                revision = journal.revision()
                for kind in KINDS:
                    rows = list(journal._index[kind].values())
                    for piece in _chunks(rows, 50_000):
                        self._upsert_groups({kind: [dict(r) for r in piece]})
                self._set_meta("revision", revision)
                self._set_meta("analytic", revision)
                self._set_meta("log_base", revision)
                self._set_meta("journal_migrated", 1)
                journal.close()
        moved = self.path / MIGRATED_DIR
        moved.mkdir(mode=0o700, exist_ok=True)
        for file in [*old, self.path / "lock", self.path / "load.lock"]:
            if file.exists():
                shutil.move(str(file), moved / file.name)
