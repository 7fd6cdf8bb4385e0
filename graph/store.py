"""The store interface both stores implement, and the logic they share.

A :class:`GraphStore` upserts and deletes records of every kind, reads them
back by key or page by page, counts them, reports a revision number that changes
on every committed write, and hands out a :class:`Snapshot` — the whole graph as
plain rows — from which ``queries/`` builds its analytic projection. The
embedded store (networkx, the default) and the Neo4j store return the same
records and the same snapshot for the same data; the conformance suite in
``tests/`` holds them to that.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter, methodcaller
from typing import Any, ClassVar, Self

from pydantic import TypeAdapter, ValidationError

from graph.errors import InvalidQuery, MissingReference, NotFound
from graph.loads import Load, LoadRecovery, new_load_id
from graph.models import Record
from graph.schema import (
    KINDS,
    NODE_REFERENCES,
    PROVENANCE_FIELDS,
    EntityKind,
    KindSpec,
    kind_of,
    spec,
    to_props,
)

__all__ = ["MAX_PAGE", "GraphStore", "KeyLike", "Page", "Snapshot", "normalize_key", "row_keys"]

MAX_PAGE = 10_000
_log = logging.getLogger("coopgraph.store")
KeyLike = str | Sequence[str]


@dataclass(frozen=True)
class Page:
    """One page of a listing: the records, and how many match in all."""

    items: list[Record]
    total: int
    offset: int
    limit: int


@dataclass
class Snapshot:
    """The whole graph as plain rows, for analytics.

    ``tables`` maps each kind to its records as dicts (the stored properties
    without provenance), sorted by key. Two snapshots are equal when their
    tables are, whatever their revisions.
    """

    revision: int
    tables: dict[EntityKind, list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self, kind: EntityKind | str) -> list[dict[str, Any]]:
        """The rows of one kind (empty when there are none)."""
        return self.tables.get(EntityKind(kind), [])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        mine = {k: v for k, v in self.tables.items() if v}
        theirs = {k: v for k, v in other.tables.items() if v}
        return mine == theirs

    def __hash__(self) -> int:  # pragma: no cover - snapshots are not dict keys
        return id(self)


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
        if check_references:
            self._check_references(groups)
        self._write(groups)
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
        if check_references:
            self._check_references(groups)
        self._write(groups)
        return len(unique)

    def delete(self, kind: EntityKind | str, keys: Iterable[KeyLike]) -> int:
        """Delete records by key; deleting a node also deletes its relationships.

        Returns how many of the given keys existed.
        """
        kind_spec = spec(kind)
        wanted = [normalize_key(kind_spec, k) for k in list(keys)]
        if not wanted:
            return 0
        return self._delete(kind_spec, wanted)

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
        if offset < 0:
            raise InvalidQuery(f"offset must be ≥ 0, got {offset}")
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

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`~graph.errors.StoreUnavailable` unless the store answers."""

    @abstractmethod
    def clear(self) -> None:
        """Delete everything (tests and the demo's reset)."""

    def describe(self) -> dict[str, Any]:
        """What kind of store this is and where it keeps its data (for /health)."""
        return {"store": self.kind}

    def close(self) -> None:  # noqa: B027 - most stores have nothing to release
        """Release connections and files."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- primitives -------------------------------------------------------------

    @abstractmethod
    def _write(self, groups: dict[EntityKind, builtins.list[dict[str, Any]]]) -> None:
        """Write grouped rows (nodes first) atomically, bumping the revision once."""

    @abstractmethod
    def _delete(self, kind_spec: KindSpec, keys: builtins.list[tuple[str, ...]]) -> int: ...

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

    def _recovered(self, recovery: LoadRecovery) -> None:
        """Remember an interrupted load found and dealt with (for warnings), once."""
        recoveries = self.__dict__.setdefault("_recoveries", [])
        if all(r.load_id != recovery.load_id for r in recoveries):
            recoveries.append(recovery)
            _log.info("%s", recovery.message())

    @staticmethod
    def _stamped_rows(kind_spec: KindSpec, rows: Iterable[dict[str, Any]]
                      ) -> builtins.list[dict[str, Any]]:
        """Rows in stored form, stamped with ``ingested_at``, one per key (the last wins)."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        rows = builtins.list(rows)
        # props.setdefault("ingested_at", now) for every row, looped in C
        deque(map(methodcaller("setdefault", "ingested_at", now), rows), maxlen=0)
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
        """Raise MissingReference when a row names a node neither stored nor written now."""
        wanted: dict[EntityKind, set[str]] = {}
        for kind, rows in groups.items():
            kind_spec = KINDS[kind]
            if kind_spec.is_node:
                for field_name, target, _rel in NODE_REFERENCES.get(kind, ()):
                    for props in rows:
                        value = props.get(field_name)
                        values = value if isinstance(value, list) else [value]
                        for v in values:
                            if v is not None:
                                wanted.setdefault(target, set()).add(str(v))
                continue
            for props in rows:
                for end_kind, end_key in (kind_spec.start_of(props), kind_spec.end_of(props)):
                    wanted.setdefault(end_kind, set()).add(end_key)
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
