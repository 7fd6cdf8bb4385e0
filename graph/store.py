"""The store interface both stores implement, and the logic they share.

A :class:`GraphStore` upserts and deletes records of every kind, reads them
back by key or page by page, counts them, reports a revision number that changes
on every committed write, and hands out a :class:`Snapshot` — the whole graph as
plain rows — from which ``queries/`` builds its analytic projection. The
embedded store (SQLite, the default) and the Neo4j store return the same
records and the same snapshot for the same data; the conformance suite in
``tests/`` holds them to that.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import logging
import os
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import TypeAdapter, ValidationError

from coopgraph.graph.changelog import Change
from coopgraph.graph.errors import (
    HasDependents,
    InvalidQuery,
    MissingReference,
    NotFound,
    VersionConflict,
)
from coopgraph.graph.loads import Load, LoadRecovery, new_load_id
from coopgraph.graph.models import Record
from coopgraph.graph.schema import (
    DELETE_POLICY,
    KINDS,
    PROVENANCE_FIELDS,
    EntityKind,
    KindSpec,
    OnDelete,
    Reference,
    kind_of,
    references_from,
    references_to,
    spec,
    to_props,
)

__all__ = [
    "MAX_DEPENDENTS_SHOWN",
    "MAX_OFFSET",
    "MAX_PAGE",
    "Dependent",
    "GraphStore",
    "KeyLike",
    "Page",
    "Removal",
    "Snapshot",
    "normalize_key",
    "plan_removal",
    "row_keys",
    "user_cache_dir",
    "wanted_references",
]

MAX_PAGE = 10_000
# Skipping further than any store could hold; Neo4j's SKIP takes a 64-bit integer only.
MAX_OFFSET = 1_000_000_000
_log = logging.getLogger("coopgraph.store")
KeyLike = str | Sequence[str]


def user_cache_dir(location: str) -> Path:
    """This user's cache directory for the store at ``location`` (a URI and database…).

    ``$XDG_CACHE_HOME/coopgraph/stores/<hash of location>`` (``~/.cache`` without
    the variable), made private (0700) on first use by whoever writes there.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "coopgraph" / "stores" / hashlib.sha256(location.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Page:
    """One page of a listing: the records, and how many match in all."""

    items: list[Record]
    total: int
    offset: int
    limit: int


class Snapshot:
    """The whole graph as plain rows, for analytics.

    ``tables`` maps each kind to its records as dicts (the stored properties
    without provenance), sorted by key. Two snapshots are equal when their
    tables are, whatever their revisions. The server's own state
    (:data:`~graph.schema.INTERNAL_KINDS`: API keys, ingest jobs) is never in a
    store's snapshot: no analytic reads it.

    A store may hand kinds over as ``columns`` instead (per kind, each field's
    values in key order, ``None`` for a missing value): :meth:`column` reads
    them as they are, and :meth:`rows` makes a kind's dicts only when it is
    first asked for (then kept).
    """

    def __init__(self, revision: int,
                 tables: Mapping[EntityKind, builtins.list[dict[str, Any]]] | None = None, *,
                 columns: Mapping[EntityKind, Mapping[str, Sequence[Any]]] | None = None,
                 ) -> None:
        self.revision = revision
        self._rows: dict[EntityKind, builtins.list[dict[str, Any]]] = dict(tables or {})
        self._columns = {k: v for k, v in (columns or {}).items() if k not in self._rows}

    @property
    def tables(self) -> dict[EntityKind, builtins.list[dict[str, Any]]]:
        """Every kind's rows (dicts made from the columns, if any are left)."""
        for kind in builtins.list(self._columns):
            self.rows(kind)
        return self._rows

    def rows(self, kind: EntityKind | str) -> builtins.list[dict[str, Any]]:
        """The rows of one kind (empty when there are none)."""
        kind = EntityKind(kind)
        rows = self._rows.get(kind)
        if rows is not None:
            return rows
        columns = self._columns.get(kind)
        if columns is None:
            return self._rows.setdefault(kind, [])
        fields = builtins.list(columns)
        made = [dict(zip(fields, values, strict=True)) if None not in values
                else {f: v for f, v in zip(fields, values, strict=True) if v is not None}
                for values in zip(*columns.values(), strict=True)]
        # rows first, then the columns go: a reader in another thread finds one or the other
        rows = self._rows.setdefault(kind, made)
        self._columns.pop(kind, None)
        return rows

    def column(self, kind: EntityKind | str, name: str) -> Sequence[Any]:
        """One field's values over ``kind``'s rows, in key order (``None`` where missing)."""
        kind = EntityKind(kind)
        columns = self._columns.get(kind)
        if columns is not None:
            found = columns.get(name)
            return found if found is not None else [None] * self.count(kind)
        return [r.get(name) for r in self._rows.get(kind, ())]

    def count(self, kind: EntityKind | str) -> int:
        """How many rows ``kind`` has."""
        kind = EntityKind(kind)
        columns = self._columns.get(kind)
        if columns is not None:
            return len(next(iter(columns.values()), ()))
        return len(self._rows.get(kind, ()))

    def replaced(self, tables: Mapping[EntityKind, builtins.list[dict[str, Any]]]) -> Snapshot:
        """This snapshot with ``tables`` instead of those kinds' rows (the rest shared)."""
        return Snapshot(self.revision, {**self._rows, **tables},
                        columns={k: v for k, v in self._columns.items() if k not in tables})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        mine = {k: v for k, v in self.tables.items() if v}
        theirs = {k: v for k, v in other.tables.items() if v}
        return mine == theirs

    def __hash__(self) -> int:  # pragma: no cover - snapshots are not dict keys
        return id(self)

    def __repr__(self) -> str:
        sizes = {k.value: n for k in (*self._rows, *self._columns) if (n := self.count(k))}
        return f"Snapshot(revision={self.revision}, rows={sizes})"


MAX_DEPENDENTS_SHOWN = 50  # dependents a refusal lists (the total is always given)


@dataclass(frozen=True)
class Dependent:
    """A record that refers to one being deleted: ``kind``/``key`` names ``target``/``names``."""

    kind: EntityKind
    key: tuple[str, ...]
    reference: Reference
    names: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"kind", "key", "field", "refers_to": {"kind", "keys"}}``."""
        return {"kind": self.kind.value, "key": list(self.key), "field": self.reference.field,
                "refers_to": {"kind": self.reference.target.value, "keys": list(self.names)}}


@dataclass
class Removal:
    """What a delete removed: the records asked for, and what went (or changed) with them.

    ``deleted`` maps each kind to the keys deleted (the requested records under
    their own kind included); ``detached`` to the keys of records kept but with
    a reference cleared (``Category.parent``, ``Product.maker_id``, a process or
    certification dropped from a list). ``updates`` holds those records' new
    properties, for the store to write in the same transaction.
    """

    kind: EntityKind
    requested: builtins.list[tuple[str, ...]] = field(default_factory=builtins.list)
    deleted: dict[EntityKind, builtins.list[tuple[str, ...]]] = field(default_factory=dict)
    detached: dict[EntityKind, builtins.list[tuple[str, ...]]] = field(default_factory=dict)
    updates: dict[EntityKind, builtins.list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many of the requested keys existed (and are gone)."""
        return len(self.requested)

    @property
    def cascaded(self) -> bool:
        """True when anything besides the requested records was deleted or changed."""
        others = sum(len(v) for k, v in self.deleted.items() if k is not self.kind)
        return bool(others or self.detached or
                    len(self.deleted.get(self.kind, ())) > len(self.requested))

    def summary(self) -> dict[str, Any]:
        """JSON-ready: ``{"deleted": {kind: [key…]}, "detached": {kind: [key…]}}``."""
        return {"deleted": {k.value: [builtins.list(x) for x in v]
                            for k, v in self.deleted.items() if v},
                "detached": {k.value: [builtins.list(x) for x in v]
                             for k, v in self.detached.items() if v}}


def plan_removal(
    kind_spec: KindSpec,
    keys: Sequence[tuple[str, ...]],
    *,
    cascade: bool,
    present: Callable[[EntityKind, builtins.list[tuple[str, ...]]],
                      builtins.list[tuple[str, ...]]],
    referrers: Callable[[Reference, builtins.list[str]], builtins.list[dict[str, Any]]],
) -> Removal:
    """Work out what deleting ``keys`` of ``kind_spec`` takes with it (the shared delete logic).

    ``present(kind, keys)`` gives the keys the store holds; ``referrers(ref, keys)``
    the stored records (all their properties) of ``ref.source`` whose ``ref.field``
    names one of the node ``keys`` — a superset is fine, it is filtered here. A
    store calls this inside its write lock or transaction and then applies the
    result atomically.

    A kind whose :data:`~graph.schema.DELETE_POLICY` is ``restrict`` with
    dependents raises :class:`HasDependents` unless ``cascade``; a cascading
    delete follows the dependents transitively (a record deleted on the way may
    have dependents of its own), each treated as its reference's ``on_cascade``
    says: deleted, or detached and kept.
    """
    removal = Removal(kind_spec.kind)
    removal.requested = present(kind_spec.kind, builtins.list(dict.fromkeys(keys)))
    if not removal.requested:
        return removal
    doomed: dict[EntityKind, dict[tuple[str, ...], None]] = {
        kind_spec.kind: dict.fromkeys(removal.requested)}
    changed: dict[tuple[EntityKind, tuple[str, ...]], dict[str, Any]] = {}
    blockers: builtins.list[Dependent] = []
    queue: deque[tuple[EntityKind, builtins.list[tuple[str, ...]]]] = deque(
        [(kind_spec.kind, removal.requested)])
    while queue:
        kind, batch = queue.popleft()
        if not KINDS[kind].is_node:
            continue  # nothing refers to a relationship
        names = [k[0] for k in batch]
        wanted = set(names)
        force = cascade or DELETE_POLICY.get(kind) is OnDelete.CASCADE
        for ref in references_to(kind):
            source_spec = KINDS[ref.source]
            gone = doomed.setdefault(ref.source, {})
            more: builtins.list[tuple[str, ...]] = []
            for props in referrers(ref, names):
                named = tuple(k for k in ref.keys_in(props) if k in wanted)
                if not named:
                    continue
                key = source_spec.key_of(props)
                if key in gone:
                    continue
                if not force:
                    blockers.append(Dependent(ref.source, key, ref, named))
                elif ref.on_cascade == "delete":
                    gone[key] = None
                    changed.pop((ref.source, key), None)
                    more.append(key)
                else:
                    current = changed.setdefault((ref.source, key), dict(props))
                    if ref.many:
                        current[ref.field] = [v for v in current.get(ref.field) or ()
                                              if str(v) not in wanted]
                    else:
                        current.pop(ref.field, None)
            if more:
                queue.append((ref.source, more))
    if blockers:
        shown = blockers[:MAX_DEPENDENTS_SHOWN]
        counts: dict[str, int] = {}
        for dep in blockers:
            counts[dep.reference.text] = counts.get(dep.reference.text, 0) + 1
        what = ", ".join(f"{n} × {text}" for text, n in counts.items())
        asked = ", ".join(repr("|".join(k)) for k in removal.requested[:5])
        raise HasDependents(
            f"cannot delete {kind_spec.kind.value} {asked}: {len(blockers)} record(s) still "
            f"refer to it ({what}); delete or change them first, or delete with cascade",
            [d.as_dict() for d in shown], total=len(blockers))
    removal.deleted = {k: builtins.list(v) for k, v in doomed.items() if v}
    for (kind, key), props in changed.items():
        removal.detached.setdefault(kind, []).append(key)
        removal.updates.setdefault(kind, []).append(props)
    return removal


def normalize_key(kind_spec: KindSpec, key: KeyLike) -> tuple[str, ...]:
    """Turn a user's key (a string for nodes, a sequence for relationships) into a tuple."""
    parts = (key,) if isinstance(key, str) else tuple(str(k) for k in key)
    if len(parts) != len(kind_spec.key_fields):
        fields = ", ".join(kind_spec.key_fields)
        raise InvalidQuery(f"a {kind_spec.kind.value} key has {len(kind_spec.key_fields)} "
                           f"part(s) ({fields}), got {len(parts)}")
    return parts


def row_keys(kind_spec: KindSpec, rows: Sequence[Mapping[str, Any]]) -> builtins.list[
        tuple[str, ...]]:
    """``kind_spec.key_of`` of every row, for rows in stored form (key fields are text).

    The bulk write paths' version: the key columns are picked in C, not row by row.
    """
    columns = [map(itemgetter(name), rows) for name in kind_spec.key_fields]
    return builtins.list(zip(*columns, strict=True))


@cache
def _field_adapter(kind: EntityKind, name: str) -> TypeAdapter[Any]:
    annotation: Any = KINDS[kind].model.model_fields[name].annotation
    return TypeAdapter(annotation)


def strip_provenance(props: Mapping[str, Any]) -> dict[str, Any]:
    """The props without source/row/ingested_at: what analytics and snapshots see."""
    return {k: v for k, v in props.items() if k not in PROVENANCE_FIELDS}


class GraphStore(ABC):
    """What every store does. Subclasses implement the ``_``-prefixed primitives."""

    kind: ClassVar[str]

    # --- public API -------------------------------------------------------------

    def upsert(self, records: Iterable[Record], *, check_references: bool = True) -> int:
        """Insert or replace ``records`` (any mix of kinds); return how many were written.

        Nodes are written before relationships, so one call may carry both. A
        relationship whose end is neither stored nor in the same call raises
        :class:`MissingReference` and nothing of the call is written. Records
        without ``ingested_at`` are stamped with the current time.

        ``check_references=False`` skips that check for a caller that has made
        it already (the ingest pipeline checks every reference of a load
        against the load and the store before it writes).
        """
        groups = self._group(records)
        if not groups:
            return 0
        self._write(groups, check=check_references)
        return sum(len(rows) for rows in groups.values())

    def upsert_rows(self, kind: EntityKind | str, rows: Iterable[dict[str, Any]], *,
                    check_references: bool = True) -> int:
        """Like :meth:`upsert` for rows of one kind already in stored form.

        Each row must be what :func:`~graph.schema.to_props` gives for a valid
        record (the ingest pipeline's bulk path builds them without making the
        models). The dicts are handed over: the store keeps them and stamps
        ``ingested_at`` into rows that lack it.
        """
        kind_spec = spec(kind)
        unique = self._stamped_rows(kind_spec, rows)
        if not unique:
            return 0
        groups = {kind_spec.kind: unique}
        self._write(groups, check=check_references)
        return len(unique)

    def upsert_versioned(self, record: Record, *, expected: int | None,
                         field: str = "version", also: Sequence[Record] = ()) -> None:
        """Write ``record`` only if the stored one's ``field`` is still ``expected``.

        ``expected=None`` means: only if no record with that key is stored. A
        stored value other than ``expected`` raises :class:`VersionConflict` and
        nothing is written (optimistic concurrency: a client that read version
        ``n`` writes ``n + 1`` with ``expected=n``; of two such writers one
        loses). ``also``: records written in the same transaction (the tie and
        supply link an agreement makes). Node kinds only.
        """
        kind_spec = KINDS[kind_of(record)]
        if not kind_spec.is_node or field not in kind_spec.model.model_fields:
            raise InvalidQuery(f"a versioned write needs a node kind with a {field!r} field")
        groups = self._group([record, *also])
        self._write_if(kind_spec, kind_spec.key_of(to_props(record)), field, expected, groups)

    @staticmethod
    def _version_check(kind_spec: KindSpec, key: tuple[str, ...], field: str,
                       expected: int | None, stored: Mapping[str, Any] | None) -> None:
        """Raise :class:`VersionConflict` unless ``stored`` is what the writer expects."""
        current = None if stored is None else stored.get(field)
        if stored is None and expected is None:
            return
        if stored is not None and expected is not None and current == expected:
            return
        what = "does not exist" if stored is None else f"is at {field} {current}"
        raise VersionConflict(
            f"{kind_spec.kind.value} {'|'.join(key)!r} {what}, not "
            f"{'absent' if expected is None else f'{field} {expected}'}: it was changed by "
            "someone else; read it again and retry", current)

    def delete(self, kind: EntityKind | str, keys: Iterable[KeyLike], *,
               cascade: bool = False) -> int:
        """Delete records by key under the kind's delete policy; return how many existed.

        See :meth:`remove`, which also says what went with them.
        """
        return self.remove(kind, keys, cascade=cascade).count

    def remove(self, kind: EntityKind | str, keys: Iterable[KeyLike], *,
               cascade: bool = False) -> Removal:
        """Delete records by key, with what refers to them as the schema says.

        Deleting a node of a ``cascade`` kind (:data:`graph.schema.DELETE_POLICY`:
        a company, a product) deletes the records that refer to it, or detaches
        those whose reference is optional; a ``restrict`` kind (a category, a
        process, a certification, a cluster) still referred to raises
        :class:`HasDependents` and nothing is deleted — unless ``cascade`` is
        true, which cascades whatever the policy. The whole delete is atomic
        (one journal line, one Neo4j transaction) and bumps the revision once;
        deleting nothing that exists commits nothing.
        """
        kind_spec = spec(kind)
        wanted = [normalize_key(kind_spec, k) for k in list(keys)]
        if not wanted:
            return Removal(kind_spec.kind)
        return self._remove(kind_spec, wanted, cascade)

    def get(self, kind: EntityKind | str, key: KeyLike) -> Record:
        """The record with ``key``; raises :class:`NotFound` when there is none."""
        kind_spec = spec(kind)
        parts = normalize_key(kind_spec, key)
        props = self._get(kind_spec, parts)
        if props is None:
            raise NotFound(f"no {kind_spec.kind.value} with key {'|'.join(parts)!r}")
        return kind_spec.model.model_validate(props)

    def exists(self, kind: EntityKind | str, key: KeyLike) -> bool:
        """True when a record with ``key`` is stored."""
        kind_spec = spec(kind)
        return self._get(kind_spec, normalize_key(kind_spec, key)) is not None

    def list(
        self,
        kind: EntityKind | str,
        *,
        filters: Mapping[str, Any] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page:
        """A page of records of ``kind`` in key order, filtered by field values.

        A filter on a scalar field matches equal values; on a list field (a
        company's ``roles``) it matches lists that contain the value.
        """
        kind_spec = spec(kind)
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidQuery(f"offset must be between 0 and {MAX_OFFSET}, got {offset}")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidQuery(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        clean = self._clean_filters(kind_spec, filters or {})
        rows, total = self._list(kind_spec, clean, offset, limit)
        return Page([kind_spec.model.model_validate(r) for r in rows], total, offset, limit)

    def iter_all(self, kind: EntityKind | str, *, page_size: int = 5_000) -> Iterator[Record]:
        """Every record of ``kind``, page by page."""
        offset = 0
        while True:
            page = self.list(kind, offset=offset, limit=page_size)
            yield from page.items
            offset += len(page.items)
            if offset >= page.total or not page.items:
                return

    def export_rows(self, kind: EntityKind | str) -> builtins.list[dict[str, Any]]:
        """Every stored row of ``kind`` as stored (provenance included), in key order.

        What a bulk export (``coopgraph ingest --bulk``) writes out.
        """
        return self._list(spec(kind), {}, 0, MAX_OFFSET)[0]

    @contextmanager
    def load(self, load_id: str | None = None) -> Iterator[Load]:
        """A load: what is written through it becomes visible at once when the block ends.

        ``with store.load() as load: load.upsert_rows(kind, rows) …`` stages the
        rows; leaving the block normally commits all of them, leaving it by an
        exception rolls all of them back. A load that a killed process left
        staged is rolled back (or, if its commit had begun, completed) when the
        store is opened again or the next load begins; see :mod:`graph.loads`.
        """
        handle = Load(self, load_id or new_load_id())
        self._begin_load(handle)
        # Interrupted loads found since the last load began (at open, or now): told once.
        told = self.__dict__.get("_recoveries_told", 0)
        handle.recovered = self.load_recoveries()[told:]
        self.__dict__["_recoveries_told"] = told + len(handle.recovered)
        try:
            yield handle
        except BaseException:
            try:
                self._abort_load(handle)
            except Exception:  # the store is gone: the next start-up rolls the load back
                _log.warning("could not roll back load %s; it is rolled back at the next "
                             "start-up", handle.id, exc_info=True)
            raise
        self._commit_load(handle)

    def load_recoveries(self) -> builtins.list[LoadRecovery]:
        """The interrupted loads this store object found and rolled back or completed."""
        return builtins.list(self.__dict__.get("_recoveries", ()))

    def load_warnings(self) -> builtins.list[str]:
        """:meth:`load_recoveries` as sentences (``stats``, ``/health``, ingest reports)."""
        return [r.message() for r in self.load_recoveries()]

    @abstractmethod
    def stats(self) -> dict[str, int]:
        """How many records of each kind are stored (every kind present, zeros too)."""

    @abstractmethod
    def revision(self) -> int:
        """A number that changes on every committed write."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The whole graph as plain rows (see :class:`Snapshot`)."""

    def snapshot_deferred(self) -> Callable[[], Snapshot]:
        """A snapshot in two steps: this call fixes its content, the function it
        returns makes the rows. A store whose writes wait while a snapshot is read
        (the embedded one, behind the API's lock) does the costly part in the
        second step, which a writer need not wait for; by default, both in the first."""
        snap = self.snapshot()
        return lambda: snap

    # --- change log (see graph.changelog) -------------------------------------------

    def changes_since(self, revision: int) -> builtins.list[Change] | None:
        """The committed writes after ``revision``, oldest first (:class:`~graph.changelog.Change`).

        ``None`` when the store cannot list them all (its log was trimmed past
        ``revision``, a ``clear``, a store without a log): read a snapshot instead.
        """
        return None

    def analytic_revision(self) -> int:
        """The revision of the last write that touched a kind analytics read.

        See :data:`graph.changelog.ANALYTIC_KINDS`; a store without a change log
        answers its revision.
        """
        return self.revision()

    def fetch(self, kind: EntityKind | str,
              keys: Iterable[tuple[str, ...]]) -> builtins.list[dict[str, Any]]:
        """The stored rows (as in a snapshot: no provenance) of those ``keys`` that exist."""
        kind_spec = spec(kind)
        out = []
        for key in keys:
            props = self._get(kind_spec, tuple(key))
            if props is not None:
                out.append(strip_provenance(props))
        return out

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`~graph.errors.StoreUnavailable` unless the store answers."""

    @abstractmethod
    def clear(self) -> None:
        """Delete everything (tests and the demo's reset)."""

    def describe(self) -> dict[str, Any]:
        """What kind of store this is and where it keeps its data (for /health)."""
        return {"store": self.kind}

    # --- identity, for caches kept outside the process ------------------------------

    def identity(self) -> str | None:
        """Which data this is, for a cache derived from it and kept between processes.

        The same string in every process that opens the same store: where it lives,
        and which *lineage* of it (a store deleted and made again is another store,
        whatever its revision). Together with :meth:`revision` it says whether a
        derived cache still describes the store. ``None`` (the default): the data
        lives in this process only, nothing is cached.
        """
        return None

    def cache_dir(self) -> Path | None:
        """The directory for caches derived from this store (``None``: keep none).

        By default a per-user directory named after the store's location
        (:func:`user_cache_dir`); the embedded store keeps its caches beside its files.
        """
        return None

    def close(self) -> None:  # noqa: B027 - most stores have nothing to release
        """Release connections and files."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- primitives -------------------------------------------------------------

    @abstractmethod
    def _write(self, groups: dict[EntityKind, builtins.list[dict[str, Any]]], *,
               check: bool = False) -> None:
        """Write grouped rows (nodes first) atomically, bumping the revision once.

        ``check``: first :meth:`_check_references` (raising before anything is
        written) — under the same lock as the write where the store has one, so
        that no delete slips in between.
        """

    @abstractmethod
    def _write_if(self, kind_spec: KindSpec, key: tuple[str, ...], field: str,
                  expected: int | None,
                  groups: dict[EntityKind, builtins.list[dict[str, Any]]]) -> None:
        """:meth:`_version_check` the stored record and :meth:`_write` ``groups``, atomically."""

    @abstractmethod
    def _remove(self, kind_spec: KindSpec, keys: builtins.list[tuple[str, ...]],
                cascade: bool) -> Removal:
        """Plan the delete with :func:`plan_removal` and apply it atomically."""

    @abstractmethod
    def _get(self, kind_spec: KindSpec, key: tuple[str, ...]) -> dict[str, Any] | None: ...

    @abstractmethod
    def _list(
        self, kind_spec: KindSpec, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[builtins.list[dict[str, Any]], int]: ...

    @abstractmethod
    def _missing_nodes(self, wanted: dict[EntityKind, set[str]]) -> dict[EntityKind, set[str]]:
        """Of the wanted node keys, those the store does not hold."""

    # --- load primitives (atomic loads; see graph.loads) ----------------------------
    # The defaults write straight through (not atomic): a store that can do better
    # overrides all four.

    def _begin_load(self, load: Load) -> None:  # noqa: B027 - optional to override
        """Start ``load``; recover any load an earlier process left staged."""

    def _stage(self, load: Load, groups: dict[EntityKind, builtins.list[dict[str, Any]]]) -> None:
        """Stage grouped rows (nodes first) for ``load``; invisible until it commits."""
        self._write(groups)

    def _commit_load(self, load: Load) -> None:  # noqa: B027 - optional to override
        """Make everything ``load`` staged visible at once."""

    def _abort_load(self, load: Load) -> None:  # noqa: B027 - optional to override
        """Drop everything ``load`` staged."""

    def _forget_recoveries(self) -> None:
        """Drop the remembered interrupted loads (``clear`` empties the store: nothing is left
        of them to warn about)."""
        self.__dict__.pop("_recoveries", None)

    def _recovered(self, recovery: LoadRecovery) -> None:
        """Remember an interrupted load found and dealt with (for warnings), once."""
        recoveries = self.__dict__.setdefault("_recoveries", [])
        if all(r.load_id != recovery.load_id for r in recoveries):
            recoveries.append(recovery)
            _log.info("%s", recovery.message())

    @staticmethod
    def _stamped_rows(kind_spec: KindSpec, rows: Iterable[dict[str, Any]],
                      distinct: bool = False) -> builtins.list[dict[str, Any]]:
        """Rows in stored form, stamped with ``ingested_at``, one per key (the last wins;
        ``distinct``: the caller made sure no key repeats)."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        rows = builtins.list(rows)
        # props.setdefault("ingested_at", now) for every row, looped in C
        deque(map(methodcaller("setdefault", "ingested_at", now), rows), maxlen=0)
        if distinct:
            return rows
        table = dict(zip(row_keys(kind_spec, rows), rows, strict=True))  # last one wins
        return rows if len(table) == len(rows) else builtins.list(table.values())

    # --- shared helpers ---------------------------------------------------------

    @staticmethod
    def _group(records: Iterable[Record]) -> dict[EntityKind, builtins.list[dict[str, Any]]]:
        """Group records by kind in schema order (nodes first); last duplicate wins."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        by_kind: dict[EntityKind, dict[tuple[str, ...], dict[str, Any]]] = {}
        last_type: type | None = None
        key_of = KINDS[EntityKind.COMPANY].key_of
        table: dict[tuple[str, ...], dict[str, Any]] = {}
        for record in records:
            if type(record) is not last_type:
                kind = kind_of(record)
                key_of = KINDS[kind].key_of
                table = by_kind.setdefault(kind, {})
                last_type = type(record)
            props = to_props(record)
            if "ingested_at" not in props:
                props["ingested_at"] = now
            table[key_of(props)] = props
        return {k: list(by_kind[k].values()) for k in KINDS if k in by_kind}

    def _check_references(self, groups: dict[EntityKind, builtins.list[dict[str, Any]]]) -> None:
        """Raise MissingReference when a row names a node neither stored nor written now.

        Every reference of :data:`graph.schema.REFERENCES` is checked: relationship
        ends, node fields (``Category.parent``…) and property references
        (``Supply.category``, ``Need.required_certs``).
        """
        wanted = wanted_references(groups)
        for kind, keys in wanted.items():
            if kind in groups:
                keys -= {KINDS[kind].key_of(p)[0] for p in groups[kind]}
        wanted = {k: v for k, v in wanted.items() if v}
        if not wanted:
            return
        missing = self._missing_nodes(wanted)
        missing = {k: v for k, v in missing.items() if v}
        if missing:
            names = [f"{k.value} {key!r}" for k, keys in missing.items() for key in sorted(keys)]
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            shown = ", ".join(names[:10]) + more
            raise MissingReference(f"records refer to nodes that do not exist: {shown}", names)

    @staticmethod
    def _clean_filters(kind_spec: KindSpec, filters: Mapping[str, Any]) -> dict[str, Any]:
        """Check filter names against the model and coerce values to the field's type."""
        clean: dict[str, Any] = {}
        fields = kind_spec.model.model_fields
        for name, value in filters.items():
            if value is None:
                continue
            if name not in fields or name in PROVENANCE_FIELDS:
                known = ", ".join(f for f in fields if f not in PROVENANCE_FIELDS)
                raise InvalidQuery(
                    f"cannot filter {kind_spec.kind.value} by {name!r}; fields: {known}")
            annotation = fields[name].annotation
            is_list = getattr(annotation, "__origin__", None) is list
            try:
                adapter = _field_adapter(kind_spec.kind, name)
                coerced = adapter.validate_python([value] if is_list else value)
                coerced = adapter.dump_python(coerced, mode="json")
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                raise InvalidQuery(f"bad value {value!r} for filter {name!r}: {reason}") from None
            clean[name] = ("contains", coerced[0]) if is_list else ("eq", coerced)
        return clean

    @staticmethod
    def _matches(props: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
        for name, (op, value) in filters.items():
            stored = props.get(name)
            if op == "contains":
                if stored is None or value not in stored:
                    return False
            elif stored != value:
                return False
        return True


def wanted_references(groups: Mapping[EntityKind, Sequence[Mapping[str, Any]]]
                      ) -> dict[EntityKind, set[str]]:
    """Every node key the rows name, by node kind (through :data:`graph.schema.REFERENCES`)."""
    wanted: dict[EntityKind, set[str]] = {}
    for kind, rows in groups.items():
        for ref in references_from(kind):
            keys = wanted.setdefault(ref.target, set())
            if ref.when is None and not ref.many:
                name = ref.field
                # the common case (relationship ends), looped in C
                keys.update(map(str, filter(None, map(methodcaller("get", name), rows))))
                continue
            for props in rows:
                keys.update(ref.keys_in(props))
    return wanted
