"""The stores' change log: which records each committed write touched, by revision.

Every committed write moves the store's revision by one and leaves one
:class:`Change`: the revision it produced and the keys it upserted or deleted,
by kind — a cascading delete lists every record it took or detached (the
:class:`~graph.store.Removal`), a load's commit every row it made visible. The
analytic projection (``queries/projection_delta.py``) reads the changes since
its own revision and patches itself instead of reading the whole store again.

Where the log lives:

* embedded store — the ``changes`` table of its SQLite database, written in each
  write's transaction (``graph.sqlite_store``), trimmed to the last :data:`KEEP`
  revisions; every process reads the same log;
* Neo4j store — one ``CoopGraphChange {revision, changes}`` node per write
  transaction, created in that transaction (``graph.cypher.CHANGE_RECORD``),
  trimmed to the last :data:`KEEP` revisions.

:meth:`ChangeLog.since` answers ``None`` when it cannot vouch for every revision
after the one asked (trimmed, another process's writes before this one opened
the store, a ``clear``): the reader then rebuilds from a snapshot.

The *analytic revision* (:meth:`GraphStore.analytic_revision`) is a second
number that moves only when a write touches a kind in :data:`ANALYTIC_KINDS`.
The schema marks the workflow kinds no analytic reads (cooperation requests,
joint projects: :data:`graph.schema.WORKFLOW_KINDS`); they are left out of
:data:`ANALYTIC_KINDS`, so writing them does not make the projection stale.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from coopgraph.graph.schema import KINDS, EntityKind

__all__ = ["ANALYTIC_KINDS", "KEEP", "MAX_KEYS", "Change", "ChangeLog", "keyed", "merge_changes",
           "touched_by_ops"]

KEEP = 10_000  # revisions a log keeps
# A write touching more records than this is logged as ``full``: a reader rebuilds
# after it anyway (a big load), and the log does not hold millions of keys.
MAX_KEYS = 20_000
# The kinds the analytic projection reads; a write touching only others leaves the
# analytic revision where it was.
ANALYTIC_KINDS: frozenset[EntityKind] = frozenset(k for k, s in KINDS.items() if s.analytic)

Key = tuple[str, ...]


def keyed(rows: int) -> bool:
    """Whether a write of ``rows`` rows is logged key by key (else as ``full``).

    The one rule for every write on both stores: a plain write counts the keys it
    touched; a load counts the rows it staged, whether it commits in one
    transaction (embedded) or chunk by chunk (Neo4j: each chunk of a load of at
    most :data:`MAX_KEYS` rows lists its keys, every chunk of a bigger one is
    ``full``) — so a small ingest is patched into the projection on both stores.
    """
    return rows <= MAX_KEYS


@dataclass(frozen=True)
class Change:
    """What one committed write touched: ``keys[kind]`` upserted or deleted at ``revision``.

    ``full`` marks a write that cannot be described key by key (``clear``).
    """

    revision: int
    keys: Mapping[EntityKind, frozenset[Key]] = field(default_factory=dict)
    full: bool = False

    @property
    def analytic(self) -> bool:
        """True when the write touched a kind the projection reads."""
        return self.full or any(k in ANALYTIC_KINDS for k in self.keys)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.keys.values())

    def to_json(self) -> str:
        """``{"full": bool, "keys": {kind: [[part, …], …]}}`` (the Neo4j change node's text)."""
        return orjson.dumps({"full": self.full,
                             "keys": {k.value: sorted(v) for k, v in self.keys.items()}}
                            ).decode()

    @classmethod
    def from_json(cls, revision: int, text: str) -> Change:
        data = orjson.loads(text)
        keys = {EntityKind(k): frozenset(tuple(x) for x in v) for k, v in data["keys"].items()}
        return cls(revision, keys, bool(data.get("full")))

    @classmethod
    def of(cls, revision: int, touched: Mapping[EntityKind, Iterable[Sequence[str]]],
           *, full: bool = False) -> Change:
        keys = {EntityKind(k): frozenset(tuple(x) for x in v) for k, v in touched.items()}
        if full or not keyed(sum(len(v) for v in keys.values())):
            return cls(revision, {}, True)
        return cls(revision, {k: v for k, v in keys.items() if v}, False)


def merge_changes(changes: Iterable[Change]) -> tuple[dict[EntityKind, set[Key]], bool]:
    """The union of ``changes``' keys by kind, and whether any was ``full``."""
    merged: dict[EntityKind, set[Key]] = {}
    full = False
    for change in changes:
        full = full or change.full
        for kind, keys in change.keys.items():
            merged.setdefault(kind, set()).update(keys)
    return merged, full


class ChangeLog:
    """An in-memory, bounded, ordered log of :class:`Change` (thread-safe).

    ``base`` is the revision from which on the log is complete: :meth:`since`
    answers for any revision ≥ ``base`` that is not older than what was trimmed.
    """

    def __init__(self, base: int = 0, keep: int = KEEP) -> None:
        self._changes: deque[Change] = deque(maxlen=keep)
        self._base = base
        self._analytic = base
        self._lock = threading.Lock()

    def reset(self, base: int) -> None:
        """Forget everything: the log is complete from ``base`` on (a reload, a clear)."""
        with self._lock:
            self._changes.clear()
            self._base = base
            self._analytic = max(self._analytic, base)

    def record(self, change: Change) -> None:
        """Append ``change`` (revisions must increase by one; a gap resets the log)."""
        with self._lock:
            last = self._changes[-1].revision if self._changes else self._base
            if change.revision != last + 1 or change.full:
                self._changes.clear()
                self._base = change.revision
            else:
                if len(self._changes) == self._changes.maxlen:
                    self._base = self._changes[0].revision
                self._changes.append(change)
            if change.analytic:
                self._analytic = change.revision

    @property
    def analytic_revision(self) -> int:
        """The last revision at which an analytic kind changed (see the module docstring)."""
        return self._analytic

    def since(self, revision: int) -> list[Change] | None:
        """The changes after ``revision``, oldest first; ``None`` when the log cannot tell."""
        with self._lock:
            if revision < self._base:
                return None
            return [c for c in self._changes if c.revision > revision]

    def __len__(self) -> int:
        return len(self._changes)


def touched_by_ops(ops: Sequence[Sequence[Any]]) -> tuple[dict[EntityKind, set[Key]], bool]:
    """The keys journal operations (``["upsert", kind, rows]``, ``["delete", kind, keys]``,
    ``["clear"]``) touch, and whether one was a ``clear``."""
    touched: dict[EntityKind, set[Key]] = {}
    full = not keyed(sum(len(op[2]) for op in ops if op[0] != "clear"))
    if full:
        return touched, full
    for op in ops:
        if op[0] == "clear":
            full = True
            continue
        kind = EntityKind(op[1])
        keys = touched.setdefault(kind, set())
        if op[0] == "upsert":
            key_of = KINDS[kind].key_of
            keys.update(key_of(p) for p in op[2])
        else:
            keys.update(tuple(k) for k in op[2])
    return touched, full
