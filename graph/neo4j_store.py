"""The Neo4j store: the system of record, through the official ``neo4j`` driver.

Writes are ``UNWIND $rows AS row MERGE …`` statements on constrained keys, packed
into transactions of at most ``batch_size`` rows; each transaction is a managed
one (``session.execute_write``, which retries transient errors) and bumps the
revision counter in the same transaction, so :meth:`Neo4jStore.revision`
changes with every committed write. A write no larger than ``batch_size`` rows
is atomic; a larger one commits batch by batch, nodes before relationships.
A load (:meth:`GraphStore.load`, what ``coopgraph ingest`` and ``POST /ingest``
use) is staged first and then committed — or, when it fits one transaction, written
in one at its commit — so that after a crash the store holds all of it or none of it
(see the loads section below).
Reads run in read transactions (``routing_=READ``); ``database_`` is always
passed. All Cypher text comes from :mod:`graph.cypher`.

Three small parts make a write, each testable on its own: :func:`node_row` /
:func:`rel_row` turn stored properties into parameter rows, :func:`plan_write`
packs them into transactions, :meth:`Neo4jStore._run_unit` makes the driver
calls of one transaction.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import neo4j
import orjson
from neo4j import GraphDatabase, ManagedTransaction, RoutingControl
from neo4j import exceptions as nx

from coopgraph.graph import cypher
from coopgraph.graph.changelog import KEEP, Change, keyed
from coopgraph.graph.errors import (
    ConfigError,
    CoopGraphError,
    DatabaseNotFound,
    InvalidQuery,
    MissingReference,
    StoreError,
    StoreUnavailable,
)
from coopgraph.graph.loads import Load, LoadRecovery, owner_alive, this_owner
from coopgraph.graph.schema import (
    DATA_KINDS,
    KINDS,
    NODE_REFERENCES,
    WORKFLOW_KINDS,
    EntityKind,
    KindSpec,
    Reference,
)
from coopgraph.graph.store import (
    GraphStore,
    Removal,
    Snapshot,
    plan_removal,
    strip_provenance,
    user_cache_dir,
)

__all__ = ["Neo4jStore", "Step", "node_row", "plan_write", "rel_key", "rel_row"]

T = TypeVar("T")
_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})
_REFERENCE_TARGETS = {t for refs in NODE_REFERENCES.values() for _f, t, _r in refs}


_log = logging.getLogger(__name__)

# --- rows and transaction plans (pure) -------------------------------------------


def rel_key(parts: Sequence[str]) -> str:
    """A relationship's unique ``_key``: its key fields joined with ``|``.

    ``|`` and ``\\`` inside a part are escaped so that two different keys never
    join to the same text.
    """
    return "|".join(p.replace("\\", "\\\\").replace("|", "\\|") for p in parts)


def _key_text(kind_spec: KindSpec, key: Sequence[str]) -> str:
    """A node's key, or a relationship's ``_key``, as stored in Neo4j."""
    return key[0] if kind_spec.is_node else rel_key(key)


def node_row(kind_spec: KindSpec, props: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter row that upserts one node."""
    return {"key": kind_spec.key_of(props)[0], "props": dict(props)}


def rel_row(kind_spec: KindSpec, props: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter row that upserts one relationship (``_key`` kept among its props)."""
    key = rel_key(kind_spec.key_of(props))
    return {
        "key": key,
        "start": kind_spec.start_of(props)[1],
        "end": kind_spec.end_of(props)[1],
        "props": {**props, cypher.REL_KEY: key},
    }


@dataclass
class Step:
    """One statement of a write transaction; ``expect`` rows must be written (or it fails)."""

    query: str
    params: dict[str, Any]
    expect: int | None = None
    # what the statement upserts or deletes, for the change log
    kind: EntityKind | None = None
    keys: list[tuple[str, ...]] | None = None


def _node_steps(kind: EntityKind, rows: list[dict[str, Any]]) -> list[Step]:
    """Upsert nodes, then redraw the reference relationships that leave or reach them.

    Outgoing references reach targets already stored; a target written later
    in the same call draws them from its side (incoming), so order never matters.
    """
    kind_spec = KINDS[kind]
    built = [node_row(kind_spec, p) for p in rows]
    steps = [Step(cypher.upsert_query(kind), {"rows": built}, kind=kind,
                  keys=[(row["key"],) for row in built])]
    queries = [*cypher.outgoing_reference_queries(kind)]
    if kind in _REFERENCE_TARGETS:
        queries += cypher.incoming_reference_queries(kind)
    if queries:
        keys = {"keys": [row["key"] for row in built]}  # shared by the statements
        steps += [Step(q, keys) for q in queries]
    return steps


def _rel_steps(kind: EntityKind, rows: list[dict[str, Any]]) -> list[Step]:
    kind_spec = KINDS[kind]
    by_ends: dict[tuple[EntityKind, EntityKind], list[dict[str, Any]]] = {}
    keys: dict[tuple[EntityKind, EntityKind], list[tuple[str, ...]]] = {}
    for props in rows:
        ends = (kind_spec.start_of(props)[0], kind_spec.end_of(props)[0])
        by_ends.setdefault(ends, []).append(rel_row(kind_spec, props))
        keys.setdefault(ends, []).append(kind_spec.key_of(props))
    return [Step(cypher.upsert_query(kind, start, end), {"rows": built}, expect=len(built),
                 kind=kind, keys=keys[(start, end)])
            for (start, end), built in by_ends.items()]


def _rel_load_steps(kind: EntityKind, rows: list[dict[str, Any]],
                    present: Callable[[list[str]], set[str]]) -> list[Step]:
    """A load chunk's relationships: ``CREATE`` the ones whose ``_key`` is not stored
    (``present`` reads which are, once, in the chunk's transaction), ``MERGE`` the
    rest; each group sorted by start node, so that one transaction's writes to a
    node come together."""
    kind_spec = KINDS[kind]
    by_ends: dict[tuple[EntityKind, EntityKind], dict[str, dict[str, Any]]] = {}
    for props in rows:
        ends = (kind_spec.start_of(props)[0], kind_spec.end_of(props)[0])
        built = rel_row(kind_spec, props)
        by_ends.setdefault(ends, {})[built["key"]] = built  # a repeated key: the last wins
    stored = present([key for group in by_ends.values() for key in group])
    steps = []
    start_key = itemgetter("start")
    for (start, end), group in by_ends.items():
        fresh = sorted((r for k, r in group.items() if k not in stored), key=start_key)
        known = sorted((r for k, r in group.items() if k in stored), key=start_key)
        for query, chosen in ((cypher.create_query(kind, start, end), fresh),
                              (cypher.upsert_query(kind, start, end), known)):
            if chosen:
                keys = [kind_spec.key_of(r["props"]) for r in chosen]
                steps.append(Step(query, {"rows": chosen}, expect=len(chosen), kind=kind,
                                  keys=keys))
    return steps


def plan_write(
    groups: Mapping[EntityKind, list[dict[str, Any]]], batch_size: int
) -> list[list[Step]]:
    """Pack grouped rows into transactions of at most ``batch_size`` rows each.

    Nodes come first (with the reference relationships they imply), then
    relationships, so that every relationship finds its ends.
    """
    phases: list[tuple[Callable[[EntityKind, list[dict[str, Any]]], list[Step]],
                       EntityKind, list[dict[str, Any]]]] = []
    for kind, rows in groups.items():
        if KINDS[kind].is_node:
            phases.append((_node_steps, kind, rows))
    for kind, rows in groups.items():
        if not KINDS[kind].is_node:
            phases.append((_rel_steps, kind, rows))

    units: list[list[Step]] = []
    current: list[Step] = []
    room = batch_size
    for make, kind, rows in phases:
        rest = rows
        while rest:
            take, rest = rest[:room], rest[room:]
            current.extend(make(kind, take))
            room -= len(take)
            if room == 0:
                units.append(current)
                current, room = [], batch_size
    if current:
        units.append(current)
    return units


@dataclass
class _Held:
    """A load's rows not staged yet (kind → rows, in the order they came)."""

    groups: dict[EntityKind, list[dict[str, Any]]] = field(default_factory=dict)
    rows: int = 0
    staging: bool = False  # too many for one transaction: staged in chunks as they come


def _held(load: Load) -> _Held:
    if not isinstance(load.state, _Held):
        load.state = _Held()
    return load.state


# --- the store --------------------------------------------------------------------


class Neo4jStore(GraphStore):
    """A :class:`GraphStore` in a Neo4j 5 database.

    Parameters
    ----------
    uri
        ``bolt://host:port`` or ``neo4j://host:port`` (routing, for clusters).
    user, password
        Credentials.
    database
        The database every call names (``database_=``).
    batch_size
        Rows per write transaction.

    Raises
    ------
    StoreUnavailable
        The server cannot be reached, refuses the credentials or lacks the database.
    ConfigError
        The URI is not one the driver accepts.
    """

    kind: ClassVar[str] = "neo4j"
    # seconds without a staged chunk after which another host's load counts as abandoned
    load_stale_after: ClassVar[float] = 900.0
    # A load of at most this many rows (and at least ``batch_size``) is held in memory and
    # written at its commit in one transaction, never staged; a bigger one is staged.
    load_direct_rows: ClassVar[int] = 50_000

    def __init__(
        self,
        uri: str,
        *,
        user: str,
        password: str,
        database: str = "neo4j",
        batch_size: int = 10_000,
        connection_timeout: float = 10.0,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be ≥ 1, got {batch_size}")
        self.uri = uri
        self.user = user
        self.database = database
        self.batch_size = batch_size
        if uri.split("://", 1)[0] not in _SCHEMES:
            raise ConfigError(f"Neo4j URI {uri!r} must start with one of "
                              + ", ".join(f"{s}://" for s in sorted(_SCHEMES)))
        self.rel_key_constraint = "unique"
        try:
            self._driver = GraphDatabase.driver(
                uri, auth=(user, password), connection_timeout=connection_timeout,
                max_transaction_retry_time=15.0,
                # The driver would log every server notification (deprecations,
                # unknown property keys in an empty database…) as a warning.
                notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF)
        except (ValueError, nx.ConfigurationError) as exc:
            raise ConfigError(f"Neo4j URI {uri!r} is not usable: {exc}") from None
        try:
            with self._translating():
                try:
                    self._driver.verify_connectivity()
                except ValueError as exc:  # the driver's word for an unresolvable address
                    raise ConfigError(f"Neo4j URI {uri!r} is not usable: {exc}") from None
                self._ensure_schema()
                self._recover_loads()
        except BaseException:
            self._driver.close()
            raise

    # --- plumbing ---------------------------------------------------------------------

    @contextmanager
    def _translating(self) -> Iterator[None]:
        """Turn driver errors into CoopGraph's, with one readable line and no traceback."""
        where = f"Neo4j at {self.uri} (database {self.database!r})"
        try:
            yield
        except CoopGraphError:
            raise
        except nx.AuthError:
            raise StoreUnavailable(
                f"{where} refused the credentials of user {self.user!r}; "
                "check NEO4J_USER and NEO4J_PASSWORD") from None
        except (nx.ServiceUnavailable, nx.SessionExpired, nx.DatabaseUnavailable,
                nx.ConnectionAcquisitionTimeoutError, OSError) as exc:
            raise StoreUnavailable(f"{where} is unreachable ({_reason(exc)})") from None
        except nx.ClientError as exc:
            if exc.code and exc.code.endswith("DatabaseNotFound"):
                raise DatabaseNotFound(f"{where} does not exist: {_first_line(exc)}") from None
            raise StoreError(f"{where} rejected a query: {_first_line(exc)}") from None
        except (nx.Neo4jError, nx.DriverError) as exc:
            raise StoreError(f"{where} failed: {_first_line(exc)}") from None

    def _session(self, *, read: bool) -> neo4j.Session:
        return self._driver.session(
            database=self.database,
            default_access_mode=neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS,
            # Share the causal chain with execute_query: reads see earlier writes.
            bookmark_manager=self._driver.execute_query_bookmark_manager,
        )

    def _read(self, work: Callable[[ManagedTransaction], T]) -> T:
        with self._translating(), self._session(read=True) as session:
            return session.execute_read(work)

    def _write_tx(self, work: Callable[[ManagedTransaction], T]) -> T:
        with self._translating(), self._session(read=False) as session:
            return session.execute_write(work)

    def _query(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._translating():
            records, _summary, _keys = self._driver.execute_query(
                query, params or {}, routing_=RoutingControl.READ, database_=self.database)
        return [r.data() for r in records]

    def _ensure_schema(self) -> None:
        """Create constraints and indexes (idempotent; safe when two processes race)."""
        try:
            self._schema_run(cypher.schema_statements(rel_unique=True))
        except nx.ClientError:
            # Relationship uniqueness constraints need Neo4j ≥ 5.7: fall back to indexes.
            self.rel_key_constraint = "index"
            self._schema_run(cypher.schema_statements(rel_unique=False))
        self._schema_run(cypher.load_schema_statements())
        self._schema_run(cypher.change_schema_statements())
        self._finish_import()

    def _finish_import(self) -> None:
        """Restore the empty lists a bulk import could not write (graph.neo4j_import).

        Idempotent: the revision node's list of them goes last, so an interrupted
        pass runs again at the next open.
        """
        records, _s, _k = self._driver.execute_query(cypher.EMPTY_LISTS_PENDING,
                                                     database_=self.database)
        pending = records[0]["pending"] if records else None
        if not pending:
            return
        fields: dict[EntityKind, list[str]] = {}
        for item in pending:
            kind, _dot, name = str(item).partition(".")
            fields.setdefault(EntityKind(kind), []).append(name)
        with self._session(read=False) as session:
            for kind, names in fields.items():
                session.run(cypher.empty_list_fix(kind, names)).consume()
        self._driver.execute_query(cypher.EMPTY_LISTS_DONE, database_=self.database)

    def _schema_run(self, statements: list[str]) -> None:
        for statement in statements:
            try:
                self._driver.execute_query(statement, database_=self.database)
            except nx.ClientError as exc:
                if "EquivalentSchemaRuleAlreadyExists" in (exc.code or ""):
                    continue  # another process created it between our check and ours
                raise

    # --- writes -----------------------------------------------------------------------

    def _write(self, groups: dict[EntityKind, list[dict[str, Any]]], *,
               check: bool = False) -> None:
        # Relationship ends are MATCHed in the write itself (a vanished end rolls it
        # back); property references are checked just before it.
        if check:
            self._check_references(groups)
        for unit in plan_write(groups, self.batch_size):
            self._write_tx(lambda tx, unit=unit: self._run_unit(tx, unit))  # type: ignore[misc]

    @staticmethod
    def _run_unit(tx: ManagedTransaction, steps: list[Step], *, full: bool = False) -> int:
        """Run ``steps``, bump the revision and record the change node, in ``tx``.

        ``full``: log the write as one that readers rebuild after (a chunk of a big load).
        """
        for step in steps:
            record = tx.run(step.query, step.params).single()
            if step.expect is not None:
                written = record["written"] if record else 0
                if written != step.expect:
                    # An end was deleted since the reference check: roll back.
                    raise MissingReference(
                        f"{step.expect - written} relationship(s) name nodes that were "
                        "deleted while they were being written; nothing of this batch was kept")
        record = tx.run(cypher.REVISION_BUMP).single()
        revision = int(record["revision"]) if record else 0
        touched: dict[EntityKind, list[tuple[str, ...]]] = {}
        for step in steps:
            if step.kind is not None and step.keys:
                touched.setdefault(step.kind, []).extend(step.keys)
        full = full or not keyed(sum(map(len, touched.values())))
        change = Change.of(revision, {} if full else touched, full=full)
        tx.run(cypher.CHANGE_RECORD, {"changes": change.to_json(),
                                      "analytic": change.analytic}).consume()
        if revision % 100 == 0:
            tx.run(cypher.CHANGE_TRIM, {"below": revision - KEEP}).consume()
        return revision

    def _write_if(self, kind_spec: KindSpec, key: tuple[str, ...], field: str,
                  expected: int | None, groups: dict[EntityKind, list[dict[str, Any]]]) -> None:
        """Lock, check the stored version and write, in one transaction (a small write)."""
        self._check_references(groups)

        def work(tx: ManagedTransaction) -> None:
            tx.run(cypher.LOCK_WRITES).consume()
            record = tx.run(cypher.locked_get_query(kind_spec.kind),
                            {"key": _key_text(kind_spec, key)}).single()
            self._version_check(kind_spec, key, field, expected,
                                _clean(record["props"]) if record else None)
            steps = [step for unit in plan_write(groups, self.batch_size) for step in unit]
            self._run_unit(tx, steps)

        self._write_tx(work)

    def _remove(self, kind_spec: KindSpec, keys: list[tuple[str, ...]],
                cascade: bool) -> Removal:
        """Plan and apply the delete in one write transaction (a refusal rolls it back)."""

        def work(tx: ManagedTransaction) -> Removal:
            def present(kind: EntityKind, wanted: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
                texts = {_key_text(KINDS[kind], k): k for k in wanted}
                record = tx.run(cypher.present_query(kind), {"keys": list(texts)}).single()
                found = set(record["present"]) if record else set()
                return [k for t, k in texts.items() if t in found]

            def referrers(ref: Reference, names: list[str]) -> list[dict[str, Any]]:
                result = tx.run(cypher.referrers_query(ref), {"keys": names})
                return [_clean(r["props"]) for r in result]

            removal = plan_removal(kind_spec, keys, cascade=cascade, present=present,
                                   referrers=referrers)
            if not removal.requested:
                return removal
            steps: list[Step] = []
            for kind, rows in removal.updates.items():
                make = _node_steps if KINDS[kind].is_node else _rel_steps
                steps += make(kind, rows)
            order = sorted(removal.deleted, key=lambda k: (k is kind_spec.kind, KINDS[k].is_node))
            for kind in order:
                texts = [_key_text(KINDS[kind], k) for k in removal.deleted[kind]]
                steps.append(Step(cypher.delete_query(kind), {"keys": texts}, kind=kind,
                                  keys=list(removal.deleted[kind])))
            self._run_unit(tx, steps)
            return removal

        return self._write_tx(work)

    def clear(self) -> None:
        """Delete every node and relationship (the revision counter survives and moves on)."""
        with self._translating(), self._session(read=False) as session:
            session.run(cypher.WIPE).consume()
        self._write_tx(lambda tx: self._run_unit(tx, [], full=True))
        self._forget_recoveries()

    # --- loads (see graph.loads and the loads section of graph.cypher) -------------------
    #
    # One transaction for a load of millions of rows would not fit the server's heap,
    # so a load is staged: its rows are stored as chunk nodes that no record query
    # matches, and nothing of it is visible. Committing marks the load
    # ``committing``, then applies the chunks in order, one transaction each (which
    # also deletes the chunk). Whoever finds a load whose process is gone rolls it
    # back if it was still ``staged`` (nothing of it was visible) and completes it if
    # it was ``committing`` — so after a crash the store holds all of a load or none
    # of it. While a commit runs, other readers may see part of it.
    #
    # A load of at most ``load_direct_rows`` rows (most incremental loads: the ingest
    # hands over only the rows that changed) is not staged: its process holds the rows
    # and writes them at the commit in one transaction, which also deletes the load's
    # node — all of it or, when the process dies first, none of it (the server rolls
    # back an open transaction; the load's node, still ``staged``, is rolled back as
    # above). Staged chunks hold ``batch_size`` rows, of several kinds when they are small.

    def _recover_loads(self, *, exclude: str | None = None) -> list[LoadRecovery]:
        """Roll back or complete the loads whose process has gone; what was done."""
        done: list[LoadRecovery] = []
        for row in self._query(cypher.LOAD_LIST):
            action: Literal["rolled back", "completed"]
            if row["state"] in ("rolled back", "completed"):  # found earlier, maybe elsewhere
                action = row["state"]
            elif row["id"] == exclude or not self._abandoned(row):
                continue
            elif row["state"] == "committing":
                self._apply_chunks(row["id"], keep_as="completed")
                action = "completed"
            else:
                self._drop_load(row["id"], keep_as="rolled back")
                action = "rolled back"
            recovery = LoadRecovery(row["id"], action, int(row["rows"] or 0), row["started_at"])
            self._recovered(recovery)
            done.append(recovery)
        return done

    def _abandoned(self, row: Mapping[str, Any]) -> bool:
        alive = owner_alive(row["host"], row["pid"], row["pid_started"])
        if alive is not None:
            return not alive
        try:  # another host's load: abandoned once it has not written for a while
            beat = dt.datetime.fromisoformat(str(row["heartbeat"]))
        except ValueError:
            return True
        return (dt.datetime.now(dt.UTC) - beat).total_seconds() > self.load_stale_after

    def _begin_load(self, load: Load) -> None:
        self._recover_loads()
        load.state = _Held()
        host, pid, started = this_owner()
        with self._translating():
            self._driver.execute_query(cypher.LOAD_BEGIN, {
                "id": load.id, "host": host, "pid": pid, "pid_started": started, "now": _now()},
                database_=self.database)

    def _stage(self, load: Load, groups: dict[EntityKind, list[dict[str, Any]]]) -> None:
        """Hold the rows; once the load has more than fit one transaction
        (:attr:`load_direct_rows`), stage what is held in chunks of ``batch_size`` rows,
        several kinds to a chunk when they are small."""
        held = _held(load)
        n = 0
        for kind, rows in groups.items():
            held.groups.setdefault(kind, []).extend(rows)
            n += len(rows)
        held.rows += n
        if not held.staging and held.rows > max(self.load_direct_rows, self.batch_size):
            held.staging = True
        chunks = self._take_chunks(load, held, whole=False) if held.staging else []
        self._stage_tx(load, n, chunks)

    def _stage_held(self, load: Load) -> None:
        """Stage every row the load still holds (the commit of a staged load begins)."""
        held = _held(load)
        held.staging = True
        if held.rows:
            self._stage_tx(load, 0, self._take_chunks(load, held, whole=True))

    def _take_chunks(self, load: Load, held: _Held, *, whole: bool) -> list[dict[str, Any]]:
        """The held rows in chunks of ``batch_size`` (``whole``: the last one may be smaller),
        in the order they came; a chunk of one kind names it, a mixed one holds
        ``[[kind, rows], …]``."""
        chunks = []
        size = self.batch_size
        while held.rows >= size or (whole and held.rows):
            parts: list[tuple[EntityKind, list[dict[str, Any]]]] = []
            room = size
            for kind in list(held.groups):
                rows = held.groups.pop(kind)
                if len(rows) > room:
                    rows, held.groups[kind] = rows[:room], rows[room:]
                    held.groups = {kind: held.groups.pop(kind), **held.groups}  # keep order
                parts.append((kind, rows))
                room -= len(rows)
                if room == 0:
                    break
            held.rows -= size - room
            if len(parts) == 1:
                kind_text, text = parts[0][0].value, orjson.dumps(parts[0][1]).decode()
            else:
                kind_text = cypher.LOAD_MIXED_CHUNK
                text = orjson.dumps([[k.value, rows] for k, rows in parts]).decode()
            chunks.append({"seq": load.chunks, "kind": kind_text, "rows": text})
            load.chunks += 1
        return chunks

    def _stage_tx(self, load: Load, n: int, chunks: list[dict[str, Any]]) -> None:
        """Count ``n`` more rows on the load's node, store ``chunks`` (one transaction each)."""
        for i, batch in enumerate([[c] for c in chunks] or [[]]):
            params = {"id": load.id, "n": n if i == 0 else 0, "chunks": batch, "now": _now()}
            staged = self._write_tx(
                lambda tx, p=params: tx.run(cypher.LOAD_STAGE, p).single())  # type: ignore[misc]
            if not staged or not staged["staged"]:
                raise StoreError(f"load {load.id} is no longer staged (another process "
                                 "took it for abandoned and rolled it back)")

    def _commit_load(self, load: Load) -> None:
        held = _held(load)
        if not held.staging:  # it all fits one transaction: write it there, nothing staged
            self._commit_held(load, held)
            return
        self._stage_held(load)
        self._write_tx(lambda tx: tx.run(cypher.LOAD_MARK_COMMITTING,
                                         {"id": load.id, "now": _now()}).consume())
        self._apply_chunks(load.id)
        # a load went through: interrupted ones before it are no longer worth a warning
        self._write_tx(lambda tx: tx.run(cypher.LOAD_FORGET_RECOVERED).consume())

    def _commit_held(self, load: Load, held: _Held) -> None:
        """Write a load's held rows, end the load and forget the interrupted loads before
        it, in one transaction: all of it or (the server rolls back an interrupted
        transaction) none of it; an empty load leaves the revision as it was."""
        def work(tx: ManagedTransaction, creates: bool) -> None:
            done = tx.run(cypher.LOAD_FINISH_STAGED, {"id": load.id}).single()
            if not done or not done["done"]:
                raise StoreError(f"load {load.id} is no longer staged (another process "
                                 "took it for abandoned and rolled it back)")
            if held.rows:
                steps = self._load_steps(tx, held.groups, creates=creates)
                self._run_unit(tx, steps, full=not keyed(held.rows))
            tx.run(cypher.LOAD_FORGET_RECOVERED).consume()

        try:
            with self._session(read=False) as session:
                session.execute_write(work, True)
        except nx.ConstraintError:
            # another writer stored one of the new relationships since they were read
            self._write_tx(lambda tx: work(tx, False))
        except Exception:
            # nothing of it was written: end the load now (else the next start-up rolls it
            # back, reporting an interruption)
            try:
                self._abort_load(load)
            except Exception:
                _log.warning("could not end the failed load %s; it is rolled back at "
                             "the next start-up", load.id, exc_info=True)
            with self._translating():
                raise

    def _abort_load(self, load: Load) -> None:
        self._drop_load(load.id)

    def _apply_chunks(self, load_id: str, *, keep_as: str | None = None) -> None:
        """Apply a committing load's chunks in order, one transaction each; then end it.

        ``keep_as``: keep the load's node with that state (a recovery, for warnings).
        """
        while True:
            try:
                with self._session(read=False) as session:
                    more = session.execute_write(self._apply_next_chunk, load_id)
            except nx.ConstraintError:
                # another writer stored one of the chunk's new relationships since the
                # chunk read its keys: apply this chunk again, MERGE-ing every row
                more = self._write_tx(
                    lambda tx: self._apply_next_chunk(tx, load_id, creates=False))
            except BaseException:
                with self._translating():
                    raise
            if not more:
                break
        self._end(load_id, keep_as)

    def _end(self, load_id: str, keep_as: str | None) -> None:
        if keep_as is None:
            self._write_tx(lambda tx: tx.run(cypher.LOAD_FINISH, {"id": load_id}).consume())
            return
        self._write_tx(lambda tx: tx.run(cypher.LOAD_RECOVERED, {
            "id": load_id, "state": keep_as, "now": _now()}).consume())

    # True: a load's relationship chunks CREATE what is not stored yet after one read of
    # the chunk's keys. Off: measured slower than MERGE-ing every row in both runs of
    # BENCHMARKS.md "Neo4j loads" (a loaded machine; bench/ingest.py measures both).
    load_creates: ClassVar[bool] = False

    def _apply_next_chunk(self, tx: ManagedTransaction, load_id: str, *,
                          creates: bool = True) -> bool:
        record = tx.run(cypher.LOAD_NEXT_CHUNK, {"id": load_id}).single()
        if record is None:
            return False
        rows = orjson.loads(record["rows"])
        if record["kind"] == cypher.LOAD_MIXED_CHUNK:
            groups = {EntityKind(kind): part for kind, part in rows}
        else:
            groups = {EntityKind(record["kind"]): rows}
        steps = self._load_steps(tx, groups, creates=creates)
        # a small load lists its keys (a patch for readers), a big one is "rebuild after
        # me" in every chunk; the rule is the embedded store's (changelog.keyed)
        load_rows = record["load_rows"]
        self._run_unit(tx, steps, full=load_rows is None or not keyed(int(load_rows)))
        tx.run(cypher.LOAD_DROP_CHUNK, {"id": load_id, "seq": record["seq"], "now": _now()}
               ).consume()
        return True

    def _load_steps(self, tx: ManagedTransaction, groups: dict[EntityKind, list[dict[str, Any]]],
                    *, creates: bool) -> list[Step]:
        """The statements that write a load's rows (of one chunk, or all of a load that
        fits one transaction) in ``tx``: nodes first, then relationships."""
        if not (creates and self.load_creates):
            total = sum(map(len, groups.values()))
            return [step for unit in plan_write(groups, max(1, total)) for step in unit]
        nodes = {k: rows for k, rows in groups.items() if KINDS[k].is_node}
        steps = [step for unit in plan_write(nodes, max(1, sum(map(len, nodes.values()))))
                 for step in unit]
        for kind, rows in groups.items():
            if not KINDS[kind].is_node:
                def present(keys: list[str], kind: EntityKind = kind) -> set[str]:
                    found = tx.run(cypher.present_query(kind), {"keys": keys}).single()
                    return set(found["present"]) if found else set()

                steps += _rel_load_steps(kind, rows, present)
        return steps

    def _drop_load(self, load_id: str, *, keep_as: str | None = None) -> None:
        with self._translating(), self._session(read=False) as session:
            session.run(cypher.LOAD_DROP_CHUNKS, {"id": load_id}).consume()
        self._end(load_id, keep_as)

    # --- reads ------------------------------------------------------------------------

    def _get(self, kind_spec: KindSpec, key: tuple[str, ...]) -> dict[str, Any] | None:
        text = key[0] if kind_spec.is_node else rel_key(key)
        rows = self._query(cypher.get_query(kind_spec.kind), {"key": text})
        return _clean(rows[0]["props"]) if rows else None

    def _list(
        self, kind_spec: KindSpec, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        ops = []
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        for i, (name, (op, value)) in enumerate(filters.items()):
            ops.append(op)
            params[f"f{i}"] = name
            params[f"v{i}"] = value
        page_q, count_q = cypher.list_queries(kind_spec.kind, ops)

        def work(tx: ManagedTransaction) -> tuple[list[dict[str, Any]], int]:
            rows = [_clean(r["props"]) for r in tx.run(page_q, params)]
            record = tx.run(count_q, params).single()
            return rows, int(record["total"]) if record else 0

        return self._read(work)

    def _missing_nodes(self, wanted: dict[EntityKind, set[str]]) -> dict[EntityKind, set[str]]:
        missing: dict[EntityKind, set[str]] = {}
        for kind, keys in wanted.items():
            rows = self._query(cypher.missing_query(kind), {"keys": sorted(keys)})
            missing[kind] = set(rows[0]["missing"]) if rows else set()
        return missing

    def stats(self) -> dict[str, int]:
        def work(tx: ManagedTransaction) -> dict[str, int]:
            counts = {kind.value: 0 for kind in KINDS}
            for record in tx.run(cypher.count_all_query()):
                counts[record["kind"]] = int(record["n"])
            return counts

        return self._read(work)

    def stats_per_kind(self) -> dict[str, int]:
        """:meth:`stats` by one query per kind (what it did before; bench/snapshot_profile.py)."""
        def work(tx: ManagedTransaction) -> dict[str, int]:
            counts = {}
            for kind in KINDS:
                record = tx.run(cypher.count_query(kind)).single()
                counts[kind.value] = int(record["n"]) if record else 0
            return counts

        return self._read(work)

    def revision(self) -> int:
        rows = self._query(cypher.REVISION_READ)
        value = rows[0]["revision"] if rows else None
        return int(value) if value is not None else 0

    def identity(self) -> str | None:
        """``neo4j <uri> <database> <revision counter's element id>``: the element id
        changes when the database is dropped and loaded again (its revisions restart)."""
        rows = self._query(cypher.REVISION_NODE)
        node = rows[0]["node"] if rows else None
        return f"neo4j {self.uri} {self.database} {node}"

    def cache_dir(self) -> Path | None:
        """A per-user directory named after the URI and the database."""
        return user_cache_dir(f"neo4j {self.uri} {self.database}")

    def analytic_revision(self) -> int:
        rows = self._query(cypher.ANALYTIC_REVISION_READ)
        value = rows[0]["revision"] if rows else None
        return int(value) if value is not None else 0

    def changes_since(self, revision: int) -> list[Change] | None:
        """The change nodes after ``revision``, when they are all there.

        The counter and the change nodes are read in one transaction, but Neo4j's reads
        are not one snapshot: a write committing meanwhile can show its counter and not
        yet its change node, or add changes past the counter read first. Changes past
        the counter are kept (writes commit in revision order: each bumps the counter
        under its lock, so they run on without a gap); a log that does not reach the
        counter, or has a gap, is read again (twice, a few ms apart) before it is taken
        for one trimmed or written around the store — that answer sends the reader to a
        full snapshot rebuild (seconds, and retried while writes keep coming).
        """

        def work(tx: ManagedTransaction) -> tuple[int, list[Change]]:
            record = tx.run(cypher.REVISION_READ).single()
            current = int(record["revision"] or 0) if record else 0
            return current, [Change.from_json(int(r["revision"]), r["changes"])
                             for r in tx.run(cypher.CHANGES_SINCE, {"revision": revision})]

        for attempt in range(3):
            if attempt:
                time.sleep(0.005 * attempt)
            current, changes = self._read(work)
            seen = [c.revision for c in changes]
            if seen == list(range(revision + 1, revision + 1 + len(seen))) \
                    and revision + len(seen) >= current:
                return changes
        return None  # trimmed, wiped, or written around the store

    def fetch(self, kind: EntityKind | str,
              keys: Iterable[tuple[str, ...]]) -> list[dict[str, Any]]:
        kind_spec = KINDS[EntityKind(kind)]
        texts = [_key_text(kind_spec, k) for k in keys]
        if not texts:
            return []
        # One record of value lists (what the ingest reads back for every chunk it loads
        # into a filled store, to skip the rows it holds already): decoded several times
        # faster than a record with a map per row. Only the model's fields are read, as
        # in a snapshot.
        fields = cypher.snapshot_fields(kind_spec.kind)
        with self._translating():
            records, _summary, _keys = self._driver.execute_query(
                cypher.fetch_columns_query(kind_spec.kind), {"keys": texts},
                routing_=RoutingControl.READ, database_=self.database)
        values = records[0]["rows"] if records else []
        return [dict(zip(fields, row, strict=True)) if None not in row
                else {f: v for f, v in zip(fields, row, strict=True) if v is not None}
                for row in values]

    # read sessions a snapshot runs at once, and the parts the largest kinds are split in
    snapshot_workers: ClassVar[int] = 4
    snapshot_rows_per_part: ClassVar[int] = 100_000

    def snapshot(self) -> Snapshot:
        """Every record but the server's own state, as columns, read by parallel read sessions.

        Each kind with records (split into parts by internal id when it is large)
        is read by its own read transaction as one list of value lists (primitives:
        ``neo4j-rust-ext`` decodes them far faster than node objects), sorted into
        key order and handed to the :class:`Snapshot` as columns, so that no dict
        is made per row unless a caller asks for :meth:`Snapshot.rows`. The
        revision is read before and after: when a write committed in between, the
        snapshot is read again — unless the analytic revision did not move (only
        workflow kinds or server state were written: a job's heartbeat, a key, a
        request's move); then only the workflow kinds are read again, in one
        transaction with the revision the snapshot is labelled with (and after three
        tries in one transaction,
        :meth:`snapshot_one_tx`). Python's cyclic garbage collector is paused
        meanwhile: the millions of lists decoded would set it off again and again,
        each time walking every object the process holds (the projection among
        them) — half the snapshot's time in a process that holds a snapshot already.
        """
        with _cyclic_gc_paused():
            return self._snapshot(_columns_of)

    def snapshot_dict_rows(self) -> Snapshot:
        """:meth:`snapshot` as it was before the columnar snapshot: the same reads, every
        row made into a dict at once (kept for ``bench/snapshot_speed.py --method``)."""
        return self._snapshot(_rows_of)

    def _snapshot(self, build: Callable[[EntityKind, list[list[list[Any]]]],
                                        dict[str, Sequence[Any]] | list[dict[str, Any]]],
                  ) -> Snapshot:
        for _attempt in range(3):
            before, analytic = self._both_revisions()
            counts = self.stats()
            parts = self._read_parts(counts)
            after, analytic_after = self._both_revisions()
            if after != before and analytic_after == analytic:
                # only workflow kinds or server state were written meanwhile (a job's
                # heartbeat, a key, a request's move): the analytic kinds read stand; the
                # workflow kinds are read again, with the revision, in one transaction
                after, analytic_after, workflow = self._read_workflow_kinds()
                if analytic_after == analytic:
                    parts = {k: v for k, v in parts.items() if k not in WORKFLOW_KINDS}
                    parts.update(workflow)
                    before = after
            if after == before:
                tables, columns = {}, {}
                for kind, found in parts.items():
                    built = build(kind, found)
                    if isinstance(built, list):
                        tables[kind] = built
                    else:
                        columns[kind] = built
                return Snapshot(before, tables, columns=columns)
        return self.snapshot_one_tx()

    def _both_revisions(self) -> tuple[int, int]:
        """The store's revision and its analytic revision, read together."""
        rows = self._query(cypher.BOTH_REVISIONS_READ)
        return _both(rows[0] if rows else None)

    def _read_workflow_kinds(self) -> tuple[int, int, dict[EntityKind, list[list[list[Any]]]]]:
        """Both revisions and the value lists of every workflow kind, in one transaction."""

        def work(tx: ManagedTransaction) -> tuple[int, int,
                                                  dict[EntityKind, list[list[list[Any]]]]]:
            revision, analytic = _both(tx.run(cypher.BOTH_REVISIONS_READ).single())
            found: dict[EntityKind, list[list[list[Any]]]] = {}
            for kind in DATA_KINDS:
                if kind not in WORKFLOW_KINDS:
                    continue
                rows = tx.run(cypher.snapshot_columns_query(kind),
                              {"parts": 1, "part": 0}).single()
                values = list(rows["rows"]) if rows else []
                if values:
                    found[kind] = [_sorted_by_key(kind, values)]
            return revision, analytic, found

        return self._read(work)

    def _read_parts(self, counts: Mapping[str, int]) -> dict[EntityKind, list[list[list[Any]]]]:
        """Each data kind's value lists, one list per part, each part in key order
        (kinds without records are not asked for: a write in between moves the revision)."""
        jobs = []
        for kind in DATA_KINDS:
            parts = -(-counts.get(kind.value, 0) // self.snapshot_rows_per_part)
            jobs += [(kind, parts, part) for part in range(parts)]
        jobs.sort(key=lambda job: -counts.get(job[0].value, 0) // job[1])  # largest first

        def read(job: tuple[EntityKind, int, int]) -> list[list[Any]]:
            kind, parts, part = job
            query = cypher.snapshot_columns_query(kind)

            def work(tx: ManagedTransaction) -> list[list[Any]]:
                record = tx.run(query, {"parts": parts, "part": part}).single()
                return list(record["rows"]) if record else []

            with self._translating(), self._session(read=True) as session:
                return _sorted_by_key(kind, session.execute_read(work))

        found: dict[EntityKind, list[list[list[Any]]]] = {}
        with ThreadPoolExecutor(self.snapshot_workers, "coopgraph-snapshot") as pool:
            for (kind, _parts, _part), values in zip(jobs, pool.map(read, jobs), strict=True):
                if values:
                    found.setdefault(kind, []).append(values)
        return found

    def snapshot_one_tx(self) -> Snapshot:
        """Every record, read in one transaction so that the tables and revision agree."""

        def work(tx: ManagedTransaction) -> Snapshot:
            record = tx.run(cypher.REVISION_READ).single()
            revision = int(record["revision"]) if record and record["revision"] is not None else 0
            tables = {}
            for kind in DATA_KINDS:
                kind_spec = KINDS[kind]
                rows = [strip_provenance(_clean(r["props"]))
                        for r in tx.run(cypher.snapshot_query(kind))]
                rows.sort(key=kind_spec.key_of)
                tables[kind] = rows
            return Snapshot(revision, tables)

        return self._read(work)

    def run_read(
        self, query: str, parameters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run an analyst's read-only Cypher (``queries/*.cypher``); rows as dicts.

        Raises
        ------
        InvalidQuery
            The query does not parse, or it would write (it is rolled back).
        """
        params = dict(parameters or {})

        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            result = tx.run(query, params)
            rows = [r.data() for r in result]
            summary = result.consume()
            # The server refuses writes in a read transaction; this is a second lock
            # ("s" is not checked: read-only procedures such as dbms.components report it).
            if summary.query_type in ("w", "rw"):
                raise InvalidQuery("run_read accepts read-only Cypher; this query writes "
                                   f"(type {summary.query_type!r}); nothing was changed")
            return rows

        with self._translating():
            try:
                with self._session(read=True) as session:
                    return session.execute_read(work)
            except nx.ClientError as exc:
                # Syntax errors, unknown functions, writes refused in read mode…
                if (exc.code or "").startswith("Neo.ClientError.Statement."):
                    raise InvalidQuery(f"the query was refused: {_first_line(exc)}") from None
                raise

    def ping(self) -> None:
        self._query("RETURN 1 AS ok")

    def describe(self) -> dict[str, Any]:
        info = {"store": self.kind, "uri": self.uri, "database": self.database}
        return {**info, **({"warnings": self.load_warnings()} if self.load_warnings() else {})}

    def count_all_nodes(self) -> int:
        """How many nodes the database holds besides the revision counter (tests)."""
        rows = self._query(cypher.COUNT_NODES)
        return int(rows[0]["n"]) if rows else 0

    def close(self) -> None:
        self._driver.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _clean(props: Mapping[str, Any]) -> dict[str, Any]:
    """Stored properties as the model reads them (without the relationship ``_key``)."""
    return {k: v for k, v in props.items() if k != cypher.REL_KEY}


def _first_line(exc: BaseException) -> str:
    """The error's message on one line (the driver's messages span several)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words (``[Errno 111] Connection refused``)."""
    text = _first_line(exc)
    found = re.search(r"\(reason ([^()]*)\)", text)
    return found.group(1) if found else text


def _key_positions(kind: EntityKind) -> list[int]:
    fields = cypher.snapshot_fields(kind)
    return [fields.index(f) for f in KINDS[kind].key_fields]


def _both(record: Mapping[str, Any] | None) -> tuple[int, int]:
    """The revision and the analytic revision of a ``BOTH_REVISIONS_READ`` record."""
    if record is None:
        return 0, 0
    return int(record["revision"] or 0), int(record["analytic"] or 0)


def _sorted_by_key(kind: EntityKind, values: list[list[Any]]) -> list[list[Any]]:
    """``values`` (lists in :func:`cypher.snapshot_fields` order) in key order, sorted by
    a C key (``itemgetter``) when every key value is a string — the order ``key_of``
    gives — else left for :func:`_rows_of` to sort by ``key_of``."""
    if _all_strings(kind, values):
        values.sort(key=itemgetter(*_key_positions(kind)))
    return values


def _all_strings(kind: EntityKind, values: list[list[Any]]) -> bool:
    """True when every key value of ``values`` is a ``str`` (no Python loop per row)."""
    return all(set(map(type, map(itemgetter(p), values))) <= {str}
               for p in _key_positions(kind))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (back on after, if it was on): the
    values made hold no reference cycles, so there is nothing for it to find."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _merged(kind: EntityKind, parts: list[list[list[Any]]]) -> tuple[list[list[Any]], bool]:
    """One kind's value lists from its parts, and whether they are in key order
    (else the caller sorts the rows by ``key_of``: a key value that is not text)."""
    sortable = all(_all_strings(kind, part) for part in parts)
    if len(parts) == 1:
        return parts[0], sortable
    values = [v for part in parts for v in part]
    if sortable:  # sorted runs: the C sort merges them
        values.sort(key=itemgetter(*_key_positions(kind)))
    return values, sortable


def _rows_of(kind: EntityKind, parts: list[list[list[Any]]]) -> list[dict[str, Any]]:
    """One kind's rows (dicts without the missing values), in key order, from its parts."""
    fields = cypher.snapshot_fields(kind)
    values, sortable = _merged(kind, parts)
    # a row without missing values (most) is one dict(zip(…)), half the cost of a filtered
    # comprehension; the value lists always hold every field (the query returns them all)
    rows = [dict(zip(fields, row, strict=True)) if None not in row
            else {f: v for f, v in zip(fields, row, strict=True) if v is not None}
            for row in values]
    if not sortable:
        rows.sort(key=KINDS[kind].key_of)
    return rows


def _columns_of(kind: EntityKind,
                parts: list[list[list[Any]]]) -> dict[str, Sequence[Any]] | list[dict[str, Any]]:
    """One kind's columns (field → values in key order, ``None`` where missing), each
    picked from the value lists by ``itemgetter`` in C (``zip(*values)`` is 3-8× slower
    on 100k lists); rows (:func:`_rows_of`) in the rare case of a key value that is not
    text, whose order only ``key_of`` gives."""
    values, sortable = _merged(kind, parts)
    if not sortable:
        return _rows_of(kind, [values])
    return {name: list(map(itemgetter(i), values))
            for i, name in enumerate(cypher.snapshot_fields(kind))}
