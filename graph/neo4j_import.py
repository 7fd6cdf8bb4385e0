"""Files for Neo4j's offline bulk importer (``neo4j-admin database import full``).

A first load into an empty Neo4j database is fastest offline: the importer writes
the store files directly, without transactions, locks or index updates per row.
:func:`write_import_files` writes its CSV files from stored rows (what
:func:`graph.schema.to_props` gives, provenance included), laid out exactly as
:class:`~graph.neo4j_store.Neo4jStore` lays out its graph (see :mod:`graph.cypher`):

* one node file per node kind (label from :data:`graph.schema.KINDS`), the key
  field as the ``:ID`` column of an ID space named after the kind;
* one relationship file per relationship kind and pair of end kinds, carrying the
  ``_key`` property beside the record's own;
* the reference relationships the store draws from node properties
  (``CHILD_OF``, ``NEEDS_PROCESS``, ``MAKES``), to targets that exist;
* the revision node (revision 1, analytic revision 1) and its change record, so
  that readers rebuild their projection from the imported graph.

The importer cannot store an empty list: a row whose list field is empty names
that field in an ``_empty`` property, and the revision node lists such fields;
:class:`~graph.neo4j_store.Neo4jStore` sets them to ``[]`` and removes the marks
when it first opens the database (before any read).

Values keep their types: a column is typed from its values (``string``, ``long``,
``double``, ``boolean``, ``string[]``); a missing value is an unquoted empty field
(no property), an empty string a quoted one. The constraints and indexes are not
the importer's job: :class:`Neo4jStore` creates them when it first opens the
database, as it does for any database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopgraph.graph import cypher
from coopgraph.graph.changelog import Change
from coopgraph.graph.neo4j_store import rel_key
from coopgraph.graph.schema import KINDS, NODE_REFERENCES, EntityKind

__all__ = ["ARRAY_DELIMITER", "ImportFiles", "admin_arguments", "database_exists",
           "write_import_files"]

# Between the elements of a list value: a control character no text field holds.
ARRAY_DELIMITER = "\x1f"
_ARRAY_DELIMITER_ARG = "U+001F"


@dataclass
class ImportFiles:
    """The files written for one import: ``(label or type, path)`` pairs and row counts."""

    directory: Path
    nodes: list[tuple[str, Path]] = field(default_factory=list)
    relationships: list[tuple[str, Path]] = field(default_factory=list)
    node_count: int = 0
    relationship_count: int = 0
    # ``kind.field`` of the list fields some rows hold empty: the importer cannot write
    # an empty list, so those rows name them in ``_empty`` and Neo4jStore sets them
    # to ``[]`` when it first opens the database (``cypher.empty_list_fixes``)
    empty_lists: list[str] = field(default_factory=list)


def admin_arguments(files: ImportFiles, database: str) -> list[str]:
    """The arguments after ``neo4j-admin``: ``database import full DB --nodes=…``."""
    args = ["database", "import", "full", database,
            f"--array-delimiter={_ARRAY_DELIMITER_ARG}", "--multiline-fields=true",
            "--id-type=string", "--skip-duplicate-nodes=false",
            "--skip-bad-relationships=false", "--bad-tolerance=0"]
    args += [f"--nodes={label}={path}" for label, path in files.nodes]
    args += [f"--relationships={rel}={path}" for rel, path in files.relationships]
    return args


def database_exists(home: Path, database: str) -> bool:
    """True when ``home`` already holds store files of ``database`` (the importer
    writes a new database only)."""
    directory = home / "data" / "databases" / database
    return directory.is_dir() and any(directory.iterdir())


# --- values -------------------------------------------------------------------------


def _column_type(kind: EntityKind, name: str, values: Iterable[Any]) -> str:
    types = {type(v) for v in values if v is not None}
    if not types or types == {str}:
        return "string"
    if types == {bool}:
        return "boolean"
    if types == {int}:
        return "long"
    if types <= {int, float}:
        return "double"
    if types == {list}:
        return "string[]"
    raise ValueError(f"{kind.value}.{name}: values of types "
                     f"{sorted(t.__name__ for t in types)} cannot be imported in one column")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cell(value: Any, column: str) -> str:
    if value is None:
        return ""
    if column == "string":
        return _quoted(value)
    if column == "boolean":
        return "true" if value else "false"
    if column == "double":
        return repr(float(value))
    if column == "long":
        return str(value)
    parts = [str(v) for v in value]
    if any(ARRAY_DELIMITER in p for p in parts):
        raise ValueError(f"a list element holds the array delimiter U+001F: {parts!r}")
    return _quoted(ARRAY_DELIMITER.join(parts))


class _CsvFile:
    """One importer CSV: a header of ``name:type`` columns, then rows."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._handle.write(",".join(header) + "\n")
        self.rows = 0

    def write(self, cells: Iterable[str]) -> None:
        self._handle.write(",".join(cells) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._handle.close()


def _fields_of(kind: EntityKind, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every property any row has, with its column type, in the model's field order."""
    names: dict[str, None] = dict.fromkeys(KINDS[kind].model.model_fields)
    for row in rows:
        for name in row:
            names.setdefault(name)
    present = [n for n in names if any(n in row for row in rows)]
    return {n: _column_type(kind, n, (row.get(n) for row in rows)) for n in present}


def _empty_list_fields(kind: EntityKind, columns: Mapping[str, str],
                       rows: Sequence[Mapping[str, Any]], files: ImportFiles) -> list[str]:
    """The list fields some row of ``kind`` holds empty (the importer would drop them)."""
    found = [name for name, ctype in columns.items()
             if ctype == "string[]" and any(row.get(name) == [] for row in rows)]
    files.empty_lists += [f"{kind.value}.{name}" for name in found]
    return found


def _empties(row: Mapping[str, Any], lists: Sequence[str]) -> str:
    """The ``_empty`` cell: the names of the row's empty lists (set to ``[]`` after import)."""
    empty = [name for name in lists if row.get(name) == []]
    return _quoted(ARRAY_DELIMITER.join(empty)) if empty else ""


# --- files --------------------------------------------------------------------------


def write_import_files(
    rows_of: Callable[[EntityKind], Sequence[Mapping[str, Any]]], directory: Path
) -> ImportFiles:
    """Write the importer's CSV files for every kind's stored rows into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # the files hold every member's figures
    files = ImportFiles(directory)
    keys: dict[EntityKind, set[str]] = {}
    node_rows: dict[EntityKind, Sequence[Mapping[str, Any]]] = {}
    for kind, kind_spec in KINDS.items():
        if not kind_spec.is_node:
            continue
        rows = rows_of(kind)
        node_rows[kind] = rows
        key_field = kind_spec.key_fields[0]
        keys[kind] = {str(row[key_field]) for row in rows}
        if not rows:
            continue
        columns = _fields_of(kind, rows)
        lists = _empty_list_fields(kind, columns, rows, files)
        header = [f"{key_field}:ID({kind.value})" if name == key_field else f"{name}:{ctype}"
                  for name, ctype in columns.items()]
        out = _CsvFile(directory / f"nodes_{kind.value}.csv",
                       [*header, *([f"{cypher.EMPTY_LISTS}:string[]"] if lists else [])])
        for row in rows:
            cells = [_cell(row.get(name), ctype) for name, ctype in columns.items()]
            out.write([*cells, *([_empties(row, lists)] if lists else [])])
        out.close()
        assert kind_spec.label is not None
        files.nodes.append((kind_spec.label, out.path))
        files.node_count += out.rows

    for kind, kind_spec in KINDS.items():
        if kind_spec.is_node:
            continue
        rows = rows_of(kind)
        if not rows:
            continue
        columns = _fields_of(kind, rows)
        lists = _empty_list_fields(kind, columns, rows, files)
        extra = [f"{cypher.EMPTY_LISTS}:string[]"] if lists else []
        by_ends: dict[tuple[EntityKind, EntityKind], _CsvFile] = {}
        for row in rows:
            start, start_key = kind_spec.start_of(row)
            end, end_key = kind_spec.end_of(row)
            found = by_ends.get((start, end))
            if found is None:
                header = [f":START_ID({start.value})", f":END_ID({end.value})",
                          f"{cypher.REL_KEY}:string",
                          *(f"{name}:{ctype}" for name, ctype in columns.items()), *extra]
                found = _CsvFile(directory / f"rels_{kind.value}_{start.value}_{end.value}.csv",
                                 header)
                by_ends[(start, end)] = found
            found.write([_quoted(start_key), _quoted(end_key),
                       _quoted(rel_key(kind_spec.key_of(row))),
                       *(_cell(row.get(name), ctype) for name, ctype in columns.items()),
                       *([_empties(row, lists)] if lists else [])])
        for out in by_ends.values():
            out.close()
            assert kind_spec.rel_type is not None
            files.relationships.append((kind_spec.rel_type, out.path))
            files.relationship_count += out.rows

    _write_references(node_rows, keys, files)
    _write_meta(files)
    return files


def _write_references(node_rows: Mapping[EntityKind, Sequence[Mapping[str, Any]]],
                      keys: Mapping[EntityKind, set[str]], files: ImportFiles) -> None:
    """The reference relationships the store draws from node properties."""
    for kind, refs in NODE_REFERENCES.items():
        key_field = KINDS[kind].key_fields[0]
        for field_name, target, rel in refs:
            reverse = cypher.reference_reversed(rel)
            start, end = (target, kind) if reverse else (kind, target)
            pairs: dict[tuple[str, str], None] = {}
            for row in node_rows.get(kind, ()):
                value = row.get(field_name)
                for name in (value if isinstance(value, list) else [value]):
                    if name is None or str(name) not in keys[target]:
                        continue
                    source = str(row[key_field])
                    pairs[(str(name), source) if reverse else (source, str(name))] = None
            if not pairs:
                continue
            out = _CsvFile(files.directory / f"refs_{rel}_{kind.value}_{field_name}.csv",
                           [f":START_ID({start.value})", f":END_ID({end.value})"])
            for a, b in pairs:
                out.write([_quoted(a), _quoted(b)])
            out.close()
            files.relationships.append((rel, out.path))
            files.relationship_count += out.rows


def _write_meta(files: ImportFiles) -> None:
    """The revision counter at 1, and its change record (a full change: rebuild)."""
    change = Change.of(1, {}, full=True)
    out = _CsvFile(files.directory / "meta.csv", [
        "id:string", "value:long", "analytic:long", f"{cypher.EMPTY_LISTS}:string[]"])
    out.write([_quoted("revision"), "1", "1",
               _quoted(ARRAY_DELIMITER.join(files.empty_lists)) if files.empty_lists else ""])
    out.close()
    files.nodes.append((cypher.META_LABEL, out.path))
    log = _CsvFile(files.directory / "changes.csv", ["revision:long", "changes:string"])
    log.write(["1", _quoted(change.to_json())])
    log.close()
    files.nodes.append((cypher.CHANGE_LABEL, log.path))
