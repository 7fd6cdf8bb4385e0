"""Dangling references in a stored graph: find them, and repair them.

The stores refuse to write a dangling reference (:meth:`GraphStore.upsert`
checks every reference of :data:`graph.schema.REFERENCES`; a delete cascades
or is refused). Data written around them still can dangle: an edit in Neo4j
Browser, a journal written by an older version, a partial load. This module
finds such references in a :class:`~graph.store.Snapshot`, says what a repair
does with each, and does it.

What a repair does follows the reference's ``on_cascade`` in the schema — the
same thing a cascading delete of the missing target would have done:

=======================================  =========================================
dangling reference                       repair
=======================================  =========================================
``Category.parent``                      cleared (the category becomes a root)
``Category.processes``                   the unknown process dropped from the list
``Product.maker_id``                     cleared (the product has no maker)
``Need.required_certs``                  the unknown certification dropped
any other (a relationship's end,         the record is deleted
``Supply.category``…)
=======================================  =========================================

:func:`consistent_tables` gives the tables as they would be after the repair;
the analytic projection is built from them, so a bad store never makes an
analytic answer fail.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

from coopgraph.graph.schema import (
    KINDS,
    NODE_KINDS,
    REL_KINDS,
    EntityKind,
    Reference,
    references_from,
)
from coopgraph.graph.store import GraphStore, Snapshot

__all__ = ["IntegrityReport", "Problem", "consistent_snapshot", "consistent_tables",
           "find_problems", "repair"]

Action = Literal["delete", "detach"]


@dataclass(frozen=True)
class Problem:
    """One dangling reference: record ``kind``/``key`` names ``missing`` through ``reference``."""

    kind: EntityKind
    key: tuple[str, ...]
    reference: Reference
    missing: tuple[str, ...]

    @property
    def action(self) -> Action:
        """What a repair does to the record: delete it, or detach the reference."""
        return self.reference.on_cascade

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"kind", "key", "field", "target", "missing", "repair"}``."""
        return {"kind": self.kind.value, "key": list(self.key), "field": self.reference.field,
                "target": self.reference.target.value, "missing": list(self.missing),
                "repair": self.action}


@dataclass
class IntegrityReport:
    """The dangling references of one snapshot (``problems``), in schema order."""

    revision: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        """How many dangling references each reference has (``"supply.category → category"``)."""
        out: dict[str, int] = {}
        for problem in self.problems:
            out[problem.reference.text] = out.get(problem.reference.text, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "ok": self.ok, "counts": self.counts(),
                "problems": [p.as_dict() for p in self.problems]}


def _key(kind: EntityKind, props: Mapping[str, Any]) -> tuple[str, ...]:
    # Data written around the API may lack a key field: show it as empty, never fail.
    return tuple(str(props.get(f, "")) for f in KINDS[kind].key_fields)


def _scan(
    snapshot: Snapshot, kinds: Collection[EntityKind] | None = None,
) -> tuple[dict[EntityKind, list[dict[str, Any]]], list[Problem]]:
    """The tables a repair of every dangling reference changes, and the problems found.

    ``kinds``: only the references held by records of these kinds are checked. The
    rows of the kinds not checked are not asked for (a columnar snapshot keeps
    them as columns); the node keys are read a column at a time.
    """
    tables: dict[EntityKind, list[dict[str, Any]]] = {}
    known: dict[EntityKind, set[str]] = {}
    problems: list[Problem] = []
    for kind in NODE_KINDS:
        keys = snapshot.column(kind, KINDS[kind].key_fields[0])
        known[kind] = {"" if v is None else str(v) for v in keys}
    # Nodes first (their references change no node's existence: they are all
    # detached), then relationships against the final node sets.
    for kind in (*NODE_KINDS, *REL_KINDS):
        refs = references_from(kind)
        if not refs or not snapshot.count(kind) or (kinds is not None and kind not in kinds):
            continue
        rows = snapshot.rows(kind)
        if all(_column_known(rows, ref, known) for ref in refs):
            continue  # the common case: checked a column at a time
        kept: list[dict[str, Any]] = []
        for props in rows:
            found = _dangling(kind, props, refs, known)
            if not found:
                kept.append(props)
                continue
            problems.extend(found)
            if any(p.action == "delete" for p in found):
                if KINDS[kind].is_node:
                    known[kind].discard(_key(kind, props)[0])
                continue
            fixed = dict(props)
            for problem in found:
                _detach(fixed, problem.reference, set(problem.missing))
            kept.append(fixed)
        if len(kept) != len(rows) or _kept_changed(kept, rows):
            tables[kind] = kept
    return tables, problems


def _kept_changed(kept: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bool:
    """True when ``kept`` (as long as ``rows``) holds a repaired copy of some row."""
    return any(a is not b for a, b in zip(kept, rows, strict=True))


def _column_known(rows: Sequence[Mapping[str, Any]], ref: Reference,
                  known: Mapping[EntityKind, set[str]]) -> bool:
    """True when no row names an unknown key through ``ref`` (cheap, column-wise)."""
    name = ref.field
    if ref.when is not None:
        when, wanted = ref.when
        default = KINDS[ref.source].model.model_fields[when].default
        rows = [r for r in rows if r.get(when, default) == wanted]
    if ref.many:
        values: set[Any] = set().union(*[r.get(name) or () for r in rows])
        return values <= known[ref.target]
    try:
        values = set(map(itemgetter(name), rows))
    except KeyError:  # a row without the field: an optional one, or a broken record
        if ref.on_cascade == "delete":
            return False
        values = {r.get(name) for r in rows}
    values.discard(None)
    return values <= known[ref.target]


def _dangling(kind: EntityKind, props: Mapping[str, Any], refs: Sequence[Reference],
              known: Mapping[EntityKind, set[str]]) -> list[Problem]:
    found = []
    for ref in refs:
        if not ref.applies(props):
            continue
        if props.get(ref.field) is None:
            if ref.on_cascade == "delete":  # a required reference that is not there at all
                found.append(Problem(kind, _key(kind, props), ref, ("",)))
            continue
        missing = tuple(k for k in ref.keys_in(props) if k not in known[ref.target])
        if missing:
            found.append(Problem(kind, _key(kind, props), ref, missing))
    return found


def _detach(props: dict[str, Any], ref: Reference, missing: set[str]) -> None:
    if ref.many:
        props[ref.field] = [v for v in props.get(ref.field) or () if str(v) not in missing]
    else:
        props.pop(ref.field, None)


def find_problems(snapshot: Snapshot) -> IntegrityReport:
    """Every dangling reference in ``snapshot`` (see the module docstring).

    Examples
    --------
    >>> from coopgraph.graph.store import Snapshot
    >>> from coopgraph.graph.schema import EntityKind
    >>> snap = Snapshot(1, {EntityKind.COMPANY: [{"id": "a", "name": "A"}],
    ...                     EntityKind.CAPABILITY: [{"company_id": "a", "category": "gone"}]})
    >>> [p.as_dict()["missing"] for p in find_problems(snap).problems]
    [['gone']]
    """
    return IntegrityReport(snapshot.revision, _scan(snapshot)[1])


def consistent_tables(
    snapshot: Snapshot, *, kinds: Collection[EntityKind] | None = None,
) -> tuple[dict[EntityKind, list[dict[str, Any]]], list[Problem]]:
    """The snapshot's tables as a repair would leave them, and the problems it found.

    Rows that need no change are the snapshot's own dicts (nothing is copied
    when the store is consistent). ``kinds`` limits the check to the references
    held by records of those kinds (the others' tables are returned as they are).
    """
    changed, problems = _scan(snapshot, kinds)
    return ({kind: changed.get(kind, snapshot.rows(kind)) for kind in (*NODE_KINDS, *REL_KINDS)},
            problems)


def consistent_snapshot(
    snapshot: Snapshot, *, kinds: Collection[EntityKind] | None = None,
) -> tuple[Snapshot, list[Problem]]:
    """:func:`consistent_tables` as a snapshot: ``snapshot`` itself when the repair
    would change nothing, else one with the repaired tables (the other kinds as
    they are, columns included)."""
    changed, problems = _scan(snapshot, kinds)
    return (snapshot.replaced(changed) if changed else snapshot), problems


@dataclass
class RepairResult:
    """What :func:`repair` did: the records deleted and detached, by kind."""

    deleted: dict[str, list[list[str]]] = field(default_factory=dict)
    detached: dict[str, list[list[str]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "detached": self.detached}


def repair(store: GraphStore, report: IntegrityReport | None = None) -> RepairResult:
    """Repair the dangling references of ``store`` (found afresh unless ``report`` is given).

    A record with a dangling reference whose repair is ``delete`` is deleted
    (with what its kind's delete cascades to); otherwise each dangling
    reference is detached and the record written back, its provenance kept.
    Records are rewritten first (one write), then deleted kind by kind.
    """
    if report is None:
        report = find_problems(store.snapshot())
    by_record: dict[tuple[EntityKind, tuple[str, ...]], list[Problem]] = {}
    for problem in report.problems:
        by_record.setdefault((problem.kind, problem.key), []).append(problem)
    result = RepairResult()
    rewrite = []
    doomed: dict[EntityKind, list[tuple[str, ...]]] = {}
    for (kind, key), problems in by_record.items():
        if any(p.action == "delete" for p in problems):
            doomed.setdefault(kind, []).append(key)
            continue
        if not store.exists(kind, key):
            continue
        record = store.get(kind, key)
        props = record.model_dump(mode="json")
        for problem in problems:
            _detach(props, problem.reference, set(problem.missing))
        rewrite.append(KINDS[kind].model.model_validate(props))
        result.detached.setdefault(kind.value, []).append(list(key))
    if rewrite:
        store.upsert(rewrite)
    for kind in (*REL_KINDS, *NODE_KINDS):
        if kind in doomed:
            removal = store.remove(kind, doomed[kind], cascade=True)
            for gone_kind, keys in removal.deleted.items():
                result.deleted.setdefault(gone_kind.value, []).extend(list(k) for k in keys)
    return result
