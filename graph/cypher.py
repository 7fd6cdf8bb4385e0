"""All of the Neo4j store's own Cypher, built from the fixed schema in :mod:`graph.schema`.

Labels, relationship types and property names come only from
:data:`graph.schema.KINDS`, :data:`graph.schema.REFERENCES` and
:data:`graph.schema.NODE_REFERENCES` — never from user input — so they may appear
in query text. Every value travels as a
``$parameter``; the names of the properties a listing is filtered on travel as
parameters too (``n[$f0]``), after :meth:`GraphStore._clean_filters` has checked
them against the model's fields.

How the graph sits in Neo4j:

* a node kind is a label; its key field (``id`` or ``code``) is under a
  uniqueness constraint, so ``MERGE`` on it is safe and fast;
* a relationship kind is a relationship type whose rows carry a ``_key``
  property (the key fields joined with ``|``) under a uniqueness constraint,
  beside the record's own properties;
* the node fields that name other nodes (``Category.parent``,
  ``Category.processes``, ``Product.maker_id``) are also materialised as
  ``CHILD_OF``, ``NEEDS_PROCESS`` and ``MAKES`` relationships for analysts'
  Cypher; the node properties stay the source of truth;
* one ``CoopGraphMeta {id: 'revision'}`` node holds the revision counter that
  every write transaction bumps.
"""

from __future__ import annotations

from typing import Literal

from coopgraph.graph.schema import (
    KINDS,
    NODE_REFERENCES,
    PROVENANCE_FIELDS,
    REFERENCES,
    EntityKind,
    KindSpec,
    Reference,
)

__all__ = [
    "ANALYTIC_REVISION_READ",
    "BOTH_REVISIONS_READ",
    "CHANGES_SINCE",
    "CHANGE_LABEL",
    "CHANGE_RECORD",
    "CHANGE_TRIM",
    "COUNT_NODES",
    "EMPTY_LISTS",
    "EMPTY_LISTS_DONE",
    "EMPTY_LISTS_PENDING",
    "LOAD_BEGIN",
    "LOAD_CHUNK_LABEL",
    "LOAD_DROP_CHUNK",
    "LOAD_DROP_CHUNKS",
    "LOAD_FINISH",
    "LOAD_FINISH_STAGED",
    "LOAD_FORGET_RECOVERED",
    "LOAD_LABEL",
    "LOAD_LIST",
    "LOAD_MARK_COMMITTING",
    "LOAD_MIXED_CHUNK",
    "LOAD_NEXT_CHUNK",
    "LOAD_RECOVERED",
    "LOAD_STAGE",
    "META_LABEL",
    "REL_KEY",
    "REVISION_BUMP",
    "REVISION_NODE",
    "REVISION_READ",
    "WIPE",
    "FilterOp",
    "change_schema_statements",
    "count_query",
    "create_query",
    "delete_query",
    "empty_list_fix",
    "fetch_columns_query",
    "fetch_query",
    "get_query",
    "incoming_reference_queries",
    "list_queries",
    "load_schema_statements",
    "missing_query",
    "outgoing_reference_queries",
    "present_query",
    "reference_reversed",
    "referrers_query",
    "rel_key_statement",
    "schema_statements",
    "snapshot_columns_query",
    "snapshot_fields",
    "snapshot_query",
    "upsert_query",
]

META_LABEL = "CoopGraphMeta"
REL_KEY = "_key"
# After a bulk import (graph.neo4j_import): on a record, the names of its empty list
# fields; on the revision node, the ``kind.field`` pairs to restore.
EMPTY_LISTS = "_empty"
# Reference relationships drawn from the referenced node to the referring one:
# ``Product.maker_id`` is ``(Company)-[:MAKES]->(Product)``.
_REVERSED = frozenset({"MAKES"})


def _arrow(source: str, var: str, rel: str, target: str) -> str:
    """``(source)-[var:rel]->(target)`` for a reference from ``source`` to ``target``."""
    if rel in _REVERSED:
        return f"({target})-[{var}:{rel}]->({source})"
    return f"({source})-[{var}:{rel}]->({target})"


def reference_reversed(rel: str) -> bool:
    """True when reference relationships of type ``rel`` run from the referenced node."""
    return rel in _REVERSED

# --- schema -----------------------------------------------------------------------


def _key_prop(kind_spec: KindSpec) -> str:
    return kind_spec.key_fields[0]


def schema_statements(*, rel_unique: bool = True) -> list[str]:
    """Constraints and indexes, each idempotent (``IF NOT EXISTS``).

    Node keys get uniqueness constraints. Relationship ``_key`` properties get
    uniqueness constraints when ``rel_unique`` (Neo4j ≥ 5.7, Community included),
    otherwise a range index.
    """
    statements = [
        f"CREATE CONSTRAINT coopgraph_meta_id IF NOT EXISTS "
        f"FOR (n:{META_LABEL}) REQUIRE n.id IS UNIQUE"
    ]
    for kind_spec in KINDS.values():
        if kind_spec.is_node:
            name = f"coopgraph_{kind_spec.kind.value}_key"
            statements.append(
                f"CREATE CONSTRAINT {name} IF NOT EXISTS "
                f"FOR (n:{kind_spec.label}) REQUIRE n.{_key_prop(kind_spec)} IS UNIQUE")
        else:
            statements.append(rel_key_statement(kind_spec, unique=rel_unique))
    # Reference fields looked up when a referenced node is (re)created.
    for kind, refs in NODE_REFERENCES.items():
        label = KINDS[kind].label
        for field_name, _target, _rel in refs:
            statements.append(
                f"CREATE INDEX coopgraph_{kind.value}_{field_name} IF NOT EXISTS "
                f"FOR (n:{label}) ON (n.{field_name})")
    # Property references on relationships that are not one of its ends
    # (``Supply.category``): looked up when the category is deleted.
    for ref in REFERENCES:
        source = KINDS[ref.source]
        if not source.is_node and not ref.many and not _is_end(ref):
            statements.append(
                f"CREATE INDEX coopgraph_{ref.source.value}_{ref.field} IF NOT EXISTS "
                f"FOR ()-[r:{source.rel_type}]-() ON (r.{ref.field})")
    return statements


def _is_end(ref: Reference) -> bool:
    """True when ``ref`` is the start or end of its relationship (drawn in the graph)."""
    source = KINDS[ref.source]
    return any(end is not None and end.field == ref.field and
               (end.kind is ref.target or ref.when is not None)
               for end in (source.start, source.end))


def rel_key_statement(kind_spec: KindSpec, *, unique: bool) -> str:
    """The uniqueness constraint (or, failing that, the index) on a relationship's ``_key``."""
    name = f"coopgraph_{kind_spec.kind.value}_key"
    if unique:
        return (f"CREATE CONSTRAINT {name} IF NOT EXISTS "
                f"FOR ()-[r:{kind_spec.rel_type}]-() REQUIRE r.{REL_KEY} IS UNIQUE")
    return f"CREATE INDEX {name} IF NOT EXISTS FOR ()-[r:{kind_spec.rel_type}]-() ON (r.{REL_KEY})"


# --- revision -----------------------------------------------------------------------

REVISION_BUMP = (
    f"MERGE (m:{META_LABEL} {{id: 'revision'}}) "
    "ON CREATE SET m.value = 0 "
    "SET m.value = m.value + 1 "
    "RETURN m.value AS revision"
)
REVISION_READ = f"OPTIONAL MATCH (m:{META_LABEL} {{id: 'revision'}}) RETURN m.value AS revision"
# The revision counter's element id: a database dropped and made again has another one.
REVISION_NODE = f"OPTIONAL MATCH (m:{META_LABEL} {{id: 'revision'}}) RETURN elementId(m) AS node"

# --- change log (graph.changelog): one change node per write transaction ----------

CHANGE_LABEL = "CoopGraphChange"
# In the write transaction, after REVISION_BUMP: what it touched ($changes: JSON text),
# and the analytic revision moved when $analytic. A database from before the analytic
# revision (no m.analytic) counted every write as analytic: its first other write keeps
# the revision before it as the analytic one, not 0.
CHANGE_RECORD = (
    f"MATCH (m:{META_LABEL} {{id: 'revision'}}) "
    f"CREATE (c:{CHANGE_LABEL} {{revision: m.value, changes: $changes}}) "
    "SET m.analytic = CASE WHEN $analytic THEN m.value ELSE coalesce(m.analytic, m.value - 1) END"
)
CHANGE_TRIM = f"MATCH (c:{CHANGE_LABEL}) WHERE c.revision <= $below DELETE c"
CHANGES_SINCE = (
    f"MATCH (c:{CHANGE_LABEL}) WHERE c.revision > $revision "
    "RETURN c.revision AS revision, c.changes AS changes ORDER BY c.revision"
)
ANALYTIC_REVISION_READ = (
    f"OPTIONAL MATCH (m:{META_LABEL} {{id: 'revision'}}) "
    "RETURN coalesce(m.analytic, m.value) AS revision"
)
# Both at once (the snapshot compares them before and after reading the kinds).
BOTH_REVISIONS_READ = (
    f"OPTIONAL MATCH (m:{META_LABEL} {{id: 'revision'}}) "
    "RETURN m.value AS revision, coalesce(m.analytic, m.value) AS analytic"
)


def change_schema_statements() -> list[str]:
    """The index on change revisions (idempotent)."""
    return [f"CREATE INDEX coopgraph_change_revision IF NOT EXISTS "
            f"FOR (n:{CHANGE_LABEL}) ON (n.revision)"]

# Everything but the revision counter, in batches (an auto-commit transaction).
WIPE = (
    f"MATCH (n) WHERE NOT n:{META_LABEL} "
    "CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
)
COUNT_NODES = (f"MATCH (n) WHERE NOT n:{META_LABEL} AND NOT n:CoopGraphChange "
               "RETURN count(n) AS n")

# --- after a bulk import (graph.neo4j_import) --------------------------------------

EMPTY_LISTS_PENDING = (f"OPTIONAL MATCH (m:{META_LABEL} {{id: 'revision'}}) "
                       f"RETURN m.{EMPTY_LISTS} AS pending")
EMPTY_LISTS_DONE = f"MATCH (m:{META_LABEL} {{id: 'revision'}}) REMOVE m.{EMPTY_LISTS}"


def empty_list_fix(kind: EntityKind, fields: list[str]) -> str:
    """Set the empty list fields an import marked on ``kind``'s records, and drop the
    marks (an auto-commit query, in batches). ``fields`` must be the model's."""
    kind_spec = KINDS[kind]
    unknown = [f for f in fields if f not in kind_spec.model.model_fields]
    if unknown:
        raise ValueError(f"{kind.value} has no fields {unknown}")
    var = "n" if kind_spec.is_node else "r"
    sets = " ".join(f"FOREACH (_ IN CASE WHEN '{f}' IN {var}.{EMPTY_LISTS} THEN [1] ELSE [] END "
                    f"| SET {var}.{f} = [])" for f in fields)
    return (f"MATCH {_pattern(kind_spec, var)} WHERE {var}.{EMPTY_LISTS} IS NOT NULL "
            f"CALL {{ WITH {var} {sets} REMOVE {var}.{EMPTY_LISTS} }} "
            "IN TRANSACTIONS OF 10000 ROWS")


# --- writes -----------------------------------------------------------------------


def _match_node(var: str, kind: EntityKind, param: str) -> str:
    kind_spec = KINDS[kind]
    return f"({var}:{kind_spec.label} {{{_key_prop(kind_spec)}: {param}}})"


def _seek(var: str, kind: EntityKind) -> str:
    """`` USING INDEX`` on ``kind``'s key for ``var``: the plan seeks the key index even when
    it is made while the index's statistics still describe an emptier database (a read
    planned after a big load, before the server resampled the index, once scanned every
    relationship of its type per key: 11–23 s instead of 0.3 s, BENCHMARKS.md)."""
    kind_spec = KINDS[kind]
    if kind_spec.is_node:
        return f" USING INDEX {var}:{kind_spec.label}({_key_prop(kind_spec)})"
    return f" USING INDEX {var}:{kind_spec.rel_type}({REL_KEY})"


def upsert_query(
    kind: EntityKind, start: EntityKind | None = None, end: EntityKind | None = None
) -> str:
    """``UNWIND $rows`` upsert of one kind; replaces all properties of each record.

    Node rows are ``{key, props}``; relationship rows are ``{key, start, end,
    props}`` and need the labels of their two ends (``start``/``end``). The
    query returns how many rows it wrote, so that a relationship whose end has
    vanished since the reference check is noticed.
    """
    kind_spec = KINDS[kind]
    if kind_spec.is_node:
        return (
            "UNWIND $rows AS row "
            f"MERGE {_match_node('n', kind, 'row.key')} "
            "SET n = row.props "
            "RETURN count(*) AS written"
        )
    assert start is not None and end is not None
    return (
        "UNWIND $rows AS row "
        f"MATCH {_match_node('a', start, 'row.start')}{_seek('a', start)} "
        f"MATCH {_match_node('b', end, 'row.end')}{_seek('b', end)} "
        f"MERGE (a)-[r:{kind_spec.rel_type} {{{REL_KEY}: row.key}}]->(b) "
        "SET r = row.props "
        "RETURN count(*) AS written"
    )


def create_query(kind: EntityKind, start: EntityKind, end: EntityKind) -> str:
    """``UNWIND $rows`` *creation* of relationships known to be new (a load reads which
    of its keys exist first, in the same transaction): no ``MERGE`` lookup per row.

    Rows as for :func:`upsert_query`; the ``_key`` constraint still refuses a
    duplicate that another transaction created in between.
    """
    kind_spec = KINDS[kind]
    return (
        "UNWIND $rows AS row "
        f"MATCH {_match_node('a', start, 'row.start')}{_seek('a', start)} "
        f"MATCH {_match_node('b', end, 'row.end')}{_seek('b', end)} "
        f"CREATE (a)-[r:{kind_spec.rel_type}]->(b) "
        "SET r = row.props "
        "RETURN count(*) AS written"
    )


def outgoing_reference_queries(kind: EntityKind) -> list[str]:
    """Re-draw the reference relationships that leave nodes of ``kind`` (rows: ``$keys``)."""
    kind_spec = KINDS[kind]
    refs = NODE_REFERENCES.get(kind, ())
    if not refs:
        return []
    queries = []
    for rel in sorted({rel for _f, _t, rel in refs}):
        queries.append(
            "UNWIND $keys AS k "
            f"MATCH {_match_node('n', kind, 'k')} "
            f"MATCH {_arrow('n', 'old', rel, '')} "
            "DELETE old")
    for field_name, target, rel in refs:
        is_list = _is_list_field(kind_spec, field_name)
        targets = f"n.{field_name}" if is_list else f"[n.{field_name}]"
        queries.append(
            "UNWIND $keys AS k "
            f"MATCH {_match_node('n', kind, 'k')} "
            f"UNWIND coalesce({targets}, []) AS t "
            f"MATCH {_match_node('m', target, 't')} "
            f"MERGE {_arrow('n', '', rel, 'm')}"
        )
    return queries


def incoming_reference_queries(target: EntityKind) -> list[str]:
    """Draw reference relationships towards (re)created nodes of ``target`` (rows: ``$keys``).

    A node deleted and stored again gets back the ``CHILD_OF``/``MAKES``/…
    relationships that other nodes' properties still imply.
    """
    queries = []
    for kind, refs in NODE_REFERENCES.items():
        kind_spec = KINDS[kind]
        for field_name, ref_target, rel in refs:
            if ref_target is not target:
                continue
            if _is_list_field(kind_spec, field_name):
                where = f"MATCH (s:{kind_spec.label}) WHERE k IN s.{field_name} "
            else:
                where = f"MATCH (s:{kind_spec.label} {{{field_name}: k}}) "
            queries.append(
                "UNWIND $keys AS k "
                f"MATCH {_match_node('m', target, 'k')} "
                + where
                + f"MERGE {_arrow('s', '', rel, 'm')}"
            )
    return queries


def _is_list_field(kind_spec: KindSpec, field_name: str) -> bool:
    annotation = kind_spec.model.model_fields[field_name].annotation
    return getattr(annotation, "__origin__", None) is list


def delete_query(kind: EntityKind) -> str:
    """Delete records by key (``$keys``: strings); a node takes its relationships with it."""
    kind_spec = KINDS[kind]
    if kind_spec.is_node:
        return (
            "UNWIND $keys AS k "
            f"MATCH {_match_node('n', kind, 'k')} "
            "DETACH DELETE n "
            "RETURN count(*) AS deleted"
        )
    return (
        "UNWIND $keys AS k "
        f"MATCH ()-[r:{kind_spec.rel_type} {{{REL_KEY}: k}}]->() "
        "DELETE r "
        "RETURN count(*) AS deleted"
    )


def referrers_query(ref: Reference) -> str:
    """The records of ``ref.source`` whose ``ref.field`` names one of ``$keys``: ``props``.

    A relationship's end is found through the graph (the relationships the
    target's ``DETACH DELETE`` would take); other references through the
    property. The caller filters the rows again (``ref.keys_in``).
    """
    source = KINDS[ref.source]
    if not source.is_node and _is_end(ref):
        assert source.start is not None
        target = _match_node("m", ref.target, "k")
        if source.start.field == ref.field:
            pattern = f"{target}-[r:{source.rel_type}]->()"
        else:
            pattern = f"()-[r:{source.rel_type}]->{target}"
        return f"UNWIND $keys AS k MATCH {pattern} RETURN DISTINCT properties(r) AS props"
    var = "n" if source.is_node else "r"
    test = (f"any(x IN coalesce({var}.{ref.field}, []) WHERE x IN $keys)" if ref.many
            else f"{var}.{ref.field} IN $keys")
    return f"MATCH {_pattern(source, var)} WHERE {test} RETURN properties({var}) AS props"


def _match_keyed(kind: EntityKind) -> str:
    """``UNWIND $keys AS k MATCH`` the node or relationship ``n`` of ``kind`` whose key
    (a node's key property, a relationship's ``_key``) is ``k``, through the key index."""
    kind_spec = KINDS[kind]
    if kind_spec.is_node:
        match = _match_node("n", kind, "k")
    else:
        match = f"()-[n:{kind_spec.rel_type} {{{REL_KEY}: k}}]->()"
    return f"UNWIND $keys AS k MATCH {match}{_seek('n', kind)}"


def present_query(kind: EntityKind) -> str:
    """Of the keys in ``$keys`` (node keys or relationship ``_key``), those stored."""
    return f"{_match_keyed(kind)} RETURN collect(DISTINCT k) AS present"


# --- reads ------------------------------------------------------------------------


def _pattern(kind_spec: KindSpec, var: str = "n") -> str:
    if kind_spec.is_node:
        return f"({var}:{kind_spec.label})"
    return f"()-[{var}:{kind_spec.rel_type}]->()"


def get_query(kind: EntityKind) -> str:
    """One record's properties by key (``$key``: a node key or a relationship ``_key``)."""
    kind_spec = KINDS[kind]
    if kind_spec.is_node:
        return f"MATCH {_match_node('n', kind, '$key')} RETURN properties(n) AS props"
    return (f"MATCH ()-[r:{kind_spec.rel_type} {{{REL_KEY}: $key}}]->() "
            "RETURN properties(r) AS props")


# A conditional (versioned) write takes the revision node's write lock first: every
# write transaction bumps it anyway, so this only moves the wait earlier — and a
# property read after the lock sees what the writer before committed.
LOCK_WRITES = (
    f"MERGE (m:{META_LABEL} {{id: 'revision'}}) ON CREATE SET m.value = 0 "
    "SET m.value = m.value"
)


def locked_get_query(kind: EntityKind) -> str:
    """:func:`get_query` for a node kind, to run after :data:`LOCK_WRITES`."""
    if not KINDS[kind].is_node:
        raise ValueError(f"{kind.value} is not a node kind")
    return get_query(kind)


def missing_query(kind: EntityKind) -> str:
    """Of the node keys in ``$keys``, those with no node of ``kind``."""
    return (
        "UNWIND $keys AS k "
        f"OPTIONAL MATCH {_match_node('n', kind, 'k')} "
        "WITH k, n WHERE n IS NULL "
        "RETURN collect(k) AS missing"
    )


FilterOp = Literal["eq", "contains"]


def _where(ops: list[FilterOp]) -> str:
    """``WHERE`` over filters ``$f0…`` (property names) and ``$v0…`` (values)."""
    if not ops:
        return ""
    parts = [f"n[$f{i}] = $v{i}" if op == "eq" else f"$v{i} IN n[$f{i}]"
             for i, op in enumerate(ops)]
    return "WHERE " + " AND ".join(parts) + " "


def list_queries(kind: EntityKind, ops: list[FilterOp]) -> tuple[str, str]:
    """The page query (``$offset``, ``$limit``) and the count query of a filtered listing."""
    kind_spec = KINDS[kind]
    where = _where(ops)
    order = ", ".join(f"n.{f}" for f in kind_spec.key_fields)
    page = (f"MATCH {_pattern(kind_spec)} {where}"
            f"WITH n ORDER BY {order} SKIP $offset LIMIT $limit "
            "RETURN properties(n) AS props")
    count = f"MATCH {_pattern(kind_spec)} {where}RETURN count(n) AS total"
    return page, count


def count_query(kind: EntityKind) -> str:
    """How many records of ``kind`` are stored (answered from Neo4j's count store)."""
    return f"MATCH {_pattern(KINDS[kind])} RETURN count(n) AS n"


def count_all_query() -> str:
    """How many records of every kind are stored, in one query (``kind``, ``n`` per row).

    One round trip instead of one per kind; each part is answered from the count store.
    """
    return " UNION ALL ".join(
        f"MATCH {_pattern(KINDS[kind])} RETURN '{kind.value}' AS kind, count(n) AS n"
        for kind in KINDS)


def fetch_query(kind: EntityKind) -> str:
    """The properties of the records whose key (or relationship ``_key``) is in ``$keys``."""
    kind_spec = KINDS[kind]
    if kind_spec.is_node:
        return (f"UNWIND $keys AS k MATCH {_match_node('n', kind, 'k')} "
                "RETURN properties(n) AS props")
    return (f"UNWIND $keys AS k MATCH ()-[n:{kind_spec.rel_type} {{{REL_KEY}: k}}]->() "
            "RETURN properties(n) AS props")


def snapshot_fields(kind: EntityKind) -> tuple[str, ...]:
    """The properties a snapshot reads of ``kind``: the model's fields, provenance aside."""
    return tuple(f for f in KINDS[kind].model.model_fields if f not in PROVENANCE_FIELDS)


def snapshot_columns_query(kind: EntityKind) -> str:
    """One part of ``kind``'s records as a list of value lists (``rows``), in one record.

    ``$parts``/``$part`` split the records by internal id, so that several read
    sessions can share a kind; the values come in :func:`snapshot_fields` order
    (primitives only: no node or relationship objects to decode).
    """
    kind_spec = KINDS[kind]
    values = ", ".join(f"n.{f}" for f in snapshot_fields(kind))
    return (f"MATCH {_pattern(kind_spec)} WHERE id(n) % $parts = $part "
            f"RETURN collect([{values}]) AS rows")


def fetch_columns_query(kind: EntityKind) -> str:
    """:func:`fetch_query` as one record holding a list of value lists (``rows``), in
    :func:`snapshot_fields` order: one Bolt record instead of one per row, no maps to decode."""
    values = ", ".join(f"n.{f}" for f in snapshot_fields(kind))
    return f"{_match_keyed(kind)} RETURN collect([{values}]) AS rows"


def snapshot_query(kind: EntityKind) -> str:
    """Every record of ``kind``'s properties (sorted into key order by the caller)."""
    return f"MATCH {_pattern(KINDS[kind])} RETURN properties(n) AS props"


# --- loads (staged, then committed chunk by chunk; see Neo4jStore's load methods) ---
#
# A load stages its rows as ``CoopGraphLoadChunk {load, seq, kind, rows}`` nodes
# (``rows``: the rows as one JSON text), which no record query matches, under a
# ``CoopGraphLoad {id, state, host, pid, started_at, heartbeat, rows}`` node.
# Committing sets ``state`` to ``'committing'``, then applies the chunks in
# ``seq`` order, each in one transaction that also deletes it; then the load node
# goes.

LOAD_LABEL = "CoopGraphLoad"
LOAD_CHUNK_LABEL = "CoopGraphLoadChunk"


def load_schema_statements() -> list[str]:
    """The constraint on load ids and the index on chunks (idempotent)."""
    return [
        f"CREATE CONSTRAINT coopgraph_load_id IF NOT EXISTS "
        f"FOR (n:{LOAD_LABEL}) REQUIRE n.id IS UNIQUE",
        f"CREATE INDEX coopgraph_load_chunk IF NOT EXISTS "
        f"FOR (n:{LOAD_CHUNK_LABEL}) ON (n.load, n.seq)",
    ]


LOAD_BEGIN = (
    f"CREATE (l:{LOAD_LABEL} {{id: $id, state: 'staged', host: $host, pid: $pid, "
    "pid_started: $pid_started, started_at: $now, heartbeat: $now, rows: 0, chunks: 0})"
)
# ``$n`` rows reached the load (staged now or held by its process until it commits);
# ``$chunks`` ({seq, kind, rows}) are stored — none when the rows are only held
LOAD_STAGE = (
    f"MATCH (l:{LOAD_LABEL} {{id: $id, state: 'staged'}}) "
    "SET l.rows = l.rows + $n, l.chunks = l.chunks + size($chunks), l.heartbeat = $now "
    "WITH l CALL { WITH l UNWIND $chunks AS c "
    f"CREATE (:{LOAD_CHUNK_LABEL} {{load: l.id, seq: c.seq, kind: c.kind, rows: c.rows}}) }} "
    "RETURN count(l) AS staged"
)
# the ``kind`` of a chunk that holds rows of several kinds: ``rows`` is [[kind, rows], …]
LOAD_MIXED_CHUNK = "*"
# A load committed in one transaction (its rows never staged): its node goes in the
# same transaction, which finds nothing when another process rolled the load back.
LOAD_FINISH_STAGED = (
    f"MATCH (l:{LOAD_LABEL} {{id: $id, state: 'staged'}}) DELETE l RETURN count(*) AS done"
)
LOAD_MARK_COMMITTING = (
    f"MATCH (l:{LOAD_LABEL} {{id: $id}}) SET l.state = 'committing', l.heartbeat = $now "
    "RETURN l.id AS id"
)
# ``load_rows``: the rows the whole load staged (what decides how its changes are logged)
LOAD_NEXT_CHUNK = (
    f"MATCH (c:{LOAD_CHUNK_LABEL} {{load: $id}}) "
    "WITH c ORDER BY c.seq LIMIT 1 "
    f"OPTIONAL MATCH (l:{LOAD_LABEL} {{id: $id}}) "
    "RETURN c.seq AS seq, c.kind AS kind, c.rows AS rows, l.rows AS load_rows"
)
LOAD_DROP_CHUNK = (
    f"MATCH (c:{LOAD_CHUNK_LABEL} {{load: $id, seq: $seq}}) DELETE c "
    f"WITH count(*) AS done MATCH (l:{LOAD_LABEL} {{id: $id}}) SET l.heartbeat = $now"
)
# An auto-commit transaction: a rolled-back load's chunks go in small batches.
LOAD_DROP_CHUNKS = (
    f"MATCH (c:{LOAD_CHUNK_LABEL} {{load: $id}}) "
    "CALL { WITH c DELETE c } IN TRANSACTIONS OF 50 ROWS"
)
LOAD_FINISH = f"MATCH (l:{LOAD_LABEL} {{id: $id}}) DELETE l"
# A load found interrupted keeps its node, marked with what was done, so that every
# process reports it — until the next load commits.
LOAD_RECOVERED = (
    f"MATCH (l:{LOAD_LABEL} {{id: $id}}) SET l.state = $state, l.heartbeat = $now"
)
LOAD_FORGET_RECOVERED = (
    f"MATCH (l:{LOAD_LABEL}) WHERE l.state IN ['rolled back', 'completed'] DELETE l"
)
LOAD_LIST = (
    f"MATCH (l:{LOAD_LABEL}) "
    "RETURN l.id AS id, l.state AS state, l.host AS host, l.pid AS pid, "
    "l.pid_started AS pid_started, "
    "l.started_at AS started_at, l.heartbeat AS heartbeat, l.rows AS rows "
    "ORDER BY l.started_at"
)
