"""The journal store: the embedded store before SQLite, kept only to migrate its files.

:class:`graph.sqlite_store.SqliteStore` (the embedded store now) opens a directory
that still holds this store's files with this class once, copies its records and
revision, and moves the files aside. It keeps every record in memory (plain dicts
per kind); nothing else opens it.

Layout of the data directory::

    graph.json    the last compacted state (written to a temp file, fsynced, renamed)
    journal.log   one line per committed write since then: ``<crc32> <json>\\n``
                  (and the staged lines of loads, see below)
    lock          held (flock) by a writer while it appends or compacts
    load.lock     held (flock) by the process running a load

A write is committed when its journal line is fsynced. A process killed in the
middle of a write leaves at most a torn last line, which fails its checksum and
is dropped on the next open, so everything committed before it is kept. Other
processes that opened the same directory pick up new lines before each read.

A load (:meth:`GraphStore.load`) writes its rows as journal lines tagged with its
id, invisible until its commit line; one that never commits (the process was
killed) is rolled back by the next open, write or load (``_roll_back_abandoned``);
every process that reads that abort line reports it until the journal is compacted.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, ClassVar

import orjson

from coopgraph.graph.changelog import Change, ChangeLog, touched_by_ops
from coopgraph.graph.errors import StoreCorrupted, StoreError
from coopgraph.graph.loads import Load, LoadRecovery
from coopgraph.graph.schema import INTERNAL_KINDS, KINDS, EntityKind, KindSpec, Reference
from coopgraph.graph.store import (
    GraphStore,
    Removal,
    Snapshot,
    plan_removal,
    row_keys,
    strip_provenance,
)

__all__ = ["JournalStore"]

_FORMAT = 1
_PIECE = 20_000  # rows per piece when graph.json is written
NodeKey = tuple[str, str]


class JournalStore(GraphStore):
    """A :class:`GraphStore` kept in dicts in memory and a journal in a local directory.

    ``path=None`` keeps everything in memory only.
    """

    kind: ClassVar[str] = "journal"

    def __init__(self, path: str | Path | None, *, compact_bytes: int = 64 << 20) -> None:
        self.path = Path(path) if path is not None else None
        self.compact_bytes = compact_bytes
        self._index: dict[EntityKind, dict[tuple[str, ...], dict[str, Any]]] = {
            k: {} for k in KINDS
        }
        self._revision = 0
        self._journal_offset = 0
        self._snapshot_bytes = 0
        self._file_ids: tuple[int, int] = (0, 0)
        # Loads staged in the journal but not (yet) committed: load id → their operations.
        self._pending: dict[str, list[list[Any]]] = {}
        self._changes = ChangeLog()
        self._cas_lock = threading.Lock()
        if self.path is not None:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            with self._locked():
                self._load(repair=True)
                if self._pending:
                    self._roll_back_abandoned(wait=False)

    # --- files ------------------------------------------------------------------

    @property
    def _snapshot_file(self) -> Path:
        assert self.path is not None
        return self.path / "graph.json"

    @property
    def _journal_file(self) -> Path:
        assert self.path is not None
        return self.path / "journal.log"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.path is not None
        with _private(self.path / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _current_ids(self) -> tuple[int, int]:
        ids = []
        for file in (self._snapshot_file, self._journal_file):
            try:
                ids.append(file.stat().st_ino)
            except FileNotFoundError:
                ids.append(0)
        return ids[0], ids[1]

    def _reset_memory(self) -> None:
        self._index = {k: {} for k in KINDS}
        self._revision = 0
        self._journal_offset = 0
        self._snapshot_bytes = 0
        self._pending = {}

    def _load(self, *, repair: bool) -> None:
        """Read the compacted state and replay the journal; drop a torn tail if ``repair``."""
        self._reset_memory()
        if self._snapshot_file.exists():
            try:
                data = self._snapshot_file.read_bytes()
                state = orjson.loads(data)
                size, data = len(data), b""
            except (OSError, ValueError) as exc:
                raise StoreCorrupted(f"cannot read {self._snapshot_file}: {exc}") from exc
            if state.get("format") != _FORMAT:
                raise StoreCorrupted(
                    f"{self._snapshot_file} has unknown format {state.get('format')}")
            for kind in KINDS:
                rows = state["tables"].get(kind.value, [])
                if rows:
                    self._apply_upsert(kind, rows)
            self._revision = int(state["revision"])
            self._snapshot_bytes = size
        self._changes.reset(self._revision)
        self._file_ids = self._current_ids()
        self._replay(repair=repair)

    def _replay(self, *, repair: bool) -> None:
        """Apply journal lines after ``_journal_offset`` whose checksum holds."""
        if not self._journal_file.exists():
            return
        with open(self._journal_file, "rb") as handle:
            handle.seek(self._journal_offset)
            good_end = self._journal_offset
            for line in handle:
                entry = _decode_line(line)
                if entry is None:
                    break
                if "ops" in entry and "load" not in entry:
                    if entry["rev"] > self._revision:
                        self._apply_ops(entry["ops"])
                        self._revision = entry["rev"]
                        self._log(entry["rev"], entry["ops"])
                else:
                    self._replay_load_entry(entry)
                good_end += len(line)
            end = handle.seek(0, os.SEEK_END)
        if good_end < end and repair:
            # A writer died mid-line: the line was never committed, cut it off.
            with open(self._journal_file, "r+b") as handle:
                handle.truncate(good_end)
                handle.flush()
                os.fsync(handle.fileno())
        self._journal_offset = good_end

    def _sync(self) -> None:
        """Catch up with writes made by other processes since we last looked."""
        if self.path is None:
            return
        if self._current_ids() != self._file_ids:
            self._load(repair=False)
            return
        try:
            grown = self._journal_file.stat().st_size > self._journal_offset
        except FileNotFoundError:
            grown = False
        if grown:  # only open the journal when another process appended to it
            self._replay(repair=False)

    def _append(self, ops: list[list[Any]]) -> None:
        """Commit ``ops`` as one journal line (fsynced) and apply them in memory."""
        revision = self._revision + 1
        if self.path is not None:
            self._journal_write({"rev": revision, "ops": ops})
        self._apply_ops(ops)
        self._revision = revision
        self._log(revision, ops)
        self._maybe_compact()

    def _log(self, revision: int, ops: list[list[Any]]) -> None:
        """Record what the write at ``revision`` touched in the change log."""
        touched, full = touched_by_ops(ops)
        self._changes.record(Change.of(revision, touched, full=full))

    def _journal_write(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` to the journal as one checksummed, fsynced line."""
        payload = orjson.dumps(entry)
        line = b"%08x " % zlib.crc32(payload) + payload + b"\n"
        with _private(self._journal_file, "ab") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._journal_offset += len(line)
        if not self._file_ids[1]:
            self._file_ids = self._current_ids()

    def _maybe_compact(self) -> None:
        # Compact once the journal outgrows both the threshold and twice the compacted
        # state: a bulk load then rewrites graph.json a logarithmic number of times,
        # not once per ``compact_bytes`` of journal.
        if self.path is not None and \
                self._journal_offset > max(self.compact_bytes, 2 * self._snapshot_bytes):
            self.compact()

    def compact(self) -> None:
        """Fold the journal into ``graph.json`` (atomic rename), then empty the journal.

        Does nothing while a load is staged: its lines live only in the journal.
        """
        if self.path is None or self._pending:
            return
        self._snapshot_bytes = _atomic_write(self._snapshot_file, self._state_pieces())
        _atomic_write(self._journal_file, [b""])
        self._journal_offset = 0
        self._file_ids = self._current_ids()

    def _state_pieces(self) -> Iterator[bytes]:
        """``{"format", "revision", "tables": {kind: [rows]}}`` as JSON, piece by piece.

        Written in pieces so that compacting a large graph never holds the whole
        document in memory.
        """
        yield b'{"format":%d,"revision":%d,"tables":{' % (_FORMAT, self._revision)
        first = True
        for kind, index in self._index.items():
            if not index:
                continue
            yield (b"" if first else b",") + orjson.dumps(kind.value) + b":["
            first = False
            rows = list(index.values())
            for start in range(0, len(rows), _PIECE):
                piece = orjson.dumps(rows[start:start + _PIECE])
                yield (b"," if start else b"") + piece[1:-1]
            yield b"]"
        yield b"}}"

    # --- applying operations ----------------------------------------------------

    def _apply_ops(self, ops: list[list[Any]]) -> None:
        for op in ops:
            if op[0] == "upsert":
                self._apply_upsert(EntityKind(op[1]), op[2])
            elif op[0] == "delete":
                self._apply_delete(KINDS[EntityKind(op[1])], [tuple(k) for k in op[2]])
            elif op[0] == "clear":
                revision = self._revision
                self._reset_memory()
                self._revision = revision
            else:  # pragma: no cover - only this module writes journals
                raise StoreCorrupted(f"unknown journal operation {op[0]!r}")

    def _apply_upsert(self, kind: EntityKind, rows: list[dict[str, Any]]) -> None:
        # the row dicts themselves are kept (a write replaces a record's dict, never
        # changes it: a snapshot captured before still holds the old one)
        self._index[kind].update(zip(row_keys(KINDS[kind], rows), rows, strict=True))

    def _apply_delete(self, kind_spec: KindSpec, keys: list[tuple[str, ...]]) -> int:
        """Delete ``keys``; a node takes the relationships that start or end at it along."""
        index = self._index[kind_spec.kind]
        gone = [key for key in keys if index.pop(key, None) is not None]
        if kind_spec.is_node and gone:
            nodes = {(kind_spec.kind.value, key[0]) for key in gone}
            for spec_ in KINDS.values():
                if spec_.is_node:
                    continue
                rel = self._index[spec_.kind]
                for key in [k for k, p in rel.items() if not nodes.isdisjoint(spec_.nodes_of(p))]:
                    del rel[key]
        return len(gone)

    # --- loads (see graph.loads) -----------------------------------------------------
    #
    # A load's rows go to the journal at once, one line per write call, tagged with
    # the load's id (``{"rev", "load", "ops"}``, the revision unchanged) and kept
    # aside in ``_pending`` — in this process and in every process that replays the
    # lines — without touching the graph. Its ``{"rev", "commit"}`` line applies them
    # all and bumps the revision once; an ``{"abort"}`` line drops them. A load whose
    # commit line never came is not in the graph anywhere, and the journal is not
    # compacted while one is staged (its lines live only there). ``load.lock`` is
    # held (flock) by the process running a load: whoever gets it finds any load
    # still staged abandoned, and rolls it back.

    @property
    def _load_lock_file(self) -> Path:
        assert self.path is not None
        return self.path / "load.lock"

    def _replay_load_entry(self, entry: dict[str, Any]) -> None:
        """Replay a journal line of a load: staged rows, a commit or an abort."""
        if "load" in entry:
            self._pending.setdefault(entry["load"], []).extend(entry["ops"])
        elif "commit" in entry:
            ops = self._pending.pop(entry["commit"], None)
            if entry["rev"] > self._revision:  # not yet in graph.json
                self._apply_ops(ops or [])
                self._revision = entry["rev"]
                self._log(entry["rev"], ops or [])
        elif "abort" in entry:
            self._pending.pop(entry["abort"], None)
            if "abandoned" in entry:  # rolled back after its process died: tell until compacted
                self._recovered(LoadRecovery(entry["abort"], "rolled back", entry["abandoned"]))
        else:  # pragma: no cover - only this module writes journals
            raise StoreCorrupted(f"unknown journal entry {sorted(entry)!r}")

    def _roll_back_abandoned(self, *, wait: bool) -> None:
        """Roll back the staged loads no live process holds (call with the store locked)."""
        if not self._pending:
            return
        with _private(self._load_lock_file, "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return  # a load is running in another process: its rows are not abandoned
            try:
                self._abort_pending()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _abort_pending(self) -> None:
        for load_id, ops in list(self._pending.items()):
            rows = sum(len(op[2]) for op in ops if op[0] == "upsert")
            self._journal_write({"rev": self._revision, "abort": load_id, "abandoned": rows})
            del self._pending[load_id]
            self._recovered(LoadRecovery(load_id, "rolled back", rows))

    def _begin_load(self, load: Load) -> None:
        if self.path is None:
            return
        handle = _private(self._load_lock_file, "a+b")  # held until the load ends
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # one load at a time
            with self._writing():
                self._abort_pending()  # we hold the load lock: any staged load is abandoned
        except BaseException:
            handle.close()
            raise
        load.state = handle

    def _end_load(self, load: Load) -> None:
        handle, load.state = load.state, None
        if handle is not None:
            handle.close()  # releases the load lock

    def _stage(self, load: Load, groups: dict[EntityKind, list[dict[str, Any]]]) -> None:
        ops = [["upsert", kind.value, rows] for kind, rows in groups.items()]
        with self._writing():
            if self.path is not None:
                self._journal_write({"rev": self._revision, "load": load.id, "ops": ops})
            self._pending.setdefault(load.id, []).extend(ops)

    def _commit_load(self, load: Load) -> None:
        try:
            with self._writing():
                ops = self._pending.pop(load.id, None)
                if ops is None:
                    return  # nothing staged
                revision = self._revision + 1
                if self.path is not None:
                    self._journal_write({"rev": revision, "commit": load.id})
                self._apply_ops(ops)
                self._revision = revision
                self._log(revision, ops)
                del ops
                self._maybe_compact()
        finally:
            self._end_load(load)

    def _abort_load(self, load: Load) -> None:
        try:
            with self._writing():
                if self._pending.pop(load.id, None) is not None and self.path is not None:
                    self._journal_write({"rev": self._revision, "abort": load.id})
        finally:
            self._end_load(load)

    # --- GraphStore primitives ------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        with self._locked():
            self._sync()
            if self._pending:  # a load staged by a process that has died since?
                self._roll_back_abandoned(wait=False)
            yield

    def _write(self, groups: dict[EntityKind, list[dict[str, Any]]], *,
               check: bool = False) -> None:
        with self._writing():  # the check sees what other processes committed, and holds
            if check:
                self._check_references(groups)
            self._append([["upsert", kind.value, rows] for kind, rows in groups.items()])

    def _write_if(self, kind_spec: KindSpec, key: tuple[str, ...], field: str,
                  expected: int | None, groups: dict[EntityKind, list[dict[str, Any]]]) -> None:
        # The file lock orders processes; the thread lock orders this process's threads
        # (an in-memory store has no file lock).
        with self._cas_lock, self._writing():
            self._version_check(kind_spec, key, field, expected,
                                self._index[kind_spec.kind].get(key))
            self._check_references(groups)
            self._append([["upsert", kind.value, rows] for kind, rows in groups.items()])

    def _remove(self, kind_spec: KindSpec, keys: list[tuple[str, ...]],
                cascade: bool) -> Removal:
        with self._writing():
            removal = plan_removal(kind_spec, keys, cascade=cascade, present=self._present,
                                   referrers=self._referrers)
            if removal.requested:
                # One journal line: the detached records rewritten, then the deletes
                # (relationships before nodes, the requested kind last).
                ops: list[list[Any]] = [["upsert", k.value, rows]
                                        for k, rows in removal.updates.items()]
                order = sorted(removal.deleted, key=lambda k: (
                    k is kind_spec.kind, KINDS[k].is_node))
                ops += [["delete", k.value, [list(x) for x in removal.deleted[k]]]
                        for k in order]
                self._append(ops)
            return removal

    def _present(self, kind: EntityKind, keys: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        index = self._index[kind]
        return [k for k in keys if k in index]

    def _referrers(self, ref: Reference, keys: list[str]) -> list[dict[str, Any]]:
        wanted = set(keys)
        rows = self._index[ref.source].values()
        if ref.many:
            return [dict(p) for p in rows if not wanted.isdisjoint(p.get(ref.field) or ())]
        return [dict(p) for p in rows if p.get(ref.field) in wanted]

    def _get(self, kind_spec: KindSpec, key: tuple[str, ...]) -> dict[str, Any] | None:
        self._sync()
        props = self._index[kind_spec.kind].get(key)
        return dict(props) if props is not None else None

    def _list(
        self, kind_spec: KindSpec, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        self._sync()
        index = self._index[kind_spec.kind]
        keys = sorted(k for k, props in index.items() if self._matches(props, filters))
        return [dict(index[k]) for k in keys[offset:offset + limit]], len(keys)

    def _missing_nodes(self, wanted: dict[EntityKind, set[str]]) -> dict[EntityKind, set[str]]:
        return {kind: {k for k in keys if (k,) not in self._index[kind]}
                for kind, keys in wanted.items()}

    def stats(self) -> dict[str, int]:
        self._sync()
        return {kind.value: len(self._index[kind]) for kind in KINDS}

    def revision(self) -> int:
        self._sync()
        return self._revision

    def changes_since(self, revision: int) -> list[Change] | None:
        self._sync()
        return self._changes.since(revision)

    def analytic_revision(self) -> int:
        self._sync()
        return self._changes.analytic_revision

    def fetch(self, kind: EntityKind | str,
              keys: Iterable[tuple[str, ...]]) -> list[dict[str, Any]]:
        self._sync()
        index = self._index[EntityKind(kind)]
        return [strip_provenance(props) for key in keys
                if (props := index.get(tuple(key))) is not None]

    def snapshot(self) -> Snapshot:
        return self.snapshot_deferred()()

    def snapshot_deferred(self) -> Callable[[], Snapshot]:
        """Capture the records (references to their dicts: milliseconds); the function
        returned copies and sorts them. Writes replace a record's dict rather than
        change it, so what was captured stays as it was at this revision."""
        self._sync()
        revision = self._revision
        captured = {kind: list(index.items()) for kind, index in self._index.items()
                    if kind not in INTERNAL_KINDS}  # server state: no analytic reads it

        def rows() -> Snapshot:
            first = itemgetter(0)
            return Snapshot(revision, {
                kind: [strip_provenance(props) for _key, props in sorted(items, key=first)]
                for kind, items in captured.items()})
        return rows

    def ping(self) -> None:
        if self.path is not None and not os.access(self.path, os.W_OK):
            raise StoreError(f"the data directory {self.path} is not writable")

    def clear(self) -> None:
        with self._writing():
            self._append([["clear"]])
        self._forget_recoveries()

    def describe(self) -> dict[str, Any]:
        info = {"store": self.kind, "data_dir": str(self.path) if self.path else None}
        return {**info, **({"warnings": self.load_warnings()} if self.load_warnings() else {})}


def _decode_line(line: bytes) -> dict[str, Any] | None:
    """A journal line's entry, or None when it is torn or fails its checksum."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        entry: dict[str, Any] = orjson.loads(payload)
    except ValueError:
        return None
    return entry


_FLAGS = {"ab": os.O_WRONLY | os.O_APPEND, "a+b": os.O_RDWR | os.O_APPEND,
          "wb": os.O_WRONLY | os.O_TRUNC}


def _private(path: Path, mode: str) -> IO[bytes]:
    """``open(path, mode)``, but a file it creates is readable by its owner only (0600).

    The store holds members' capacities and prices; the directory is made 0700
    too, so that the files stay private even under a permissive umask.
    """
    fd = os.open(path, _FLAGS[mode] | os.O_CREAT, 0o600)
    if mode == "wb":  # a stale temp file from a crash keeps its mode through O_TRUNC
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode)


def _atomic_write(path: Path, pieces: Iterable[bytes]) -> int:
    """Write ``pieces`` to ``path`` so that a crash leaves either the old or the new file.

    Returns the number of bytes written.
    """
    tmp = path.with_suffix(path.suffix + ".tmp")
    size = 0
    with _private(tmp, "wb") as handle:
        for piece in pieces:
            handle.write(piece)
            size += len(piece)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return size
