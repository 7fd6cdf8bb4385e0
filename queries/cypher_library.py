"""The analysts' Cypher library: ``queries/*.cypher``, loaded by name and run read-only.

Each ``.cypher`` file starts with a ``//`` comment that documents it: what it
answers, then one ``// @param <name> required|optional <text>`` line per
parameter. Values always travel as ``$parameters`` (never formatted into the
query text); a call with an unknown parameter or without a required one is
refused before it reaches the database. Queries run through the Neo4j store's
read method (``Neo4jStore.run_read``), which refuses anything that writes.

The same files open in Neo4j Browser: paste one and set the parameters with
``:param cluster_id => 'agro-48'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.graph.store import GraphStore

__all__ = ["QUERY_DIR", "CypherParam", "CypherQuery", "list_queries", "load_query", "run_query"]

QUERY_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM = re.compile(r"^@param\s+(\w+)\s+(required|optional)\s*(.*)$")
_USED = re.compile(r"\$(\w+)")


@dataclass(frozen=True)
class CypherParam:
    """One documented parameter of a library query."""

    name: str
    required: bool
    doc: str


@dataclass(frozen=True)
class CypherQuery:
    """A library query: its name, documentation, parameters and text."""

    name: str
    doc: str
    params: tuple[CypherParam, ...]
    text: str
    path: Path

    @property
    def used_params(self) -> set[str]:
        """The ``$names`` the query text uses (comments excluded)."""
        body = "\n".join(line for line in self.text.splitlines()
                         if not line.lstrip().startswith("//"))
        return set(_USED.findall(body))

    def bind(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Check ``params`` against the documented ones; optional ones default to ``None``."""
        given = dict(params or {})
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidQuery(f"query {self.name!r} has no parameter(s) {', '.join(unknown)}; "
                               f"it takes: {', '.join(sorted(known)) or 'none'}")
        missing = [p.name for p in self.params if p.required and given.get(p.name) is None]
        if missing:
            raise InvalidQuery(f"query {self.name!r} needs {', '.join(missing)}")
        return {p.name: given.get(p.name) for p in self.params}


def _parse(path: Path) -> CypherQuery:
    text = path.read_text(encoding="utf-8")
    doc: list[str] = []
    params: list[CypherParam] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("//"):
            break
        body = stripped[2:].strip()
        match = _PARAM.match(body)
        if match:
            params.append(CypherParam(match[1], match[2] == "required", match[3].strip()))
        else:
            doc.append(body)
    return CypherQuery(name=path.stem, doc="\n".join(doc).strip(), params=tuple(params),
                       text=text, path=path)


def list_queries(directory: Path = QUERY_DIR) -> list[CypherQuery]:
    """Every query of the library, by name."""
    return [_parse(p) for p in sorted(directory.glob("*.cypher"))]


def load_query(name: str, directory: Path = QUERY_DIR) -> CypherQuery:
    """The library query called ``name`` (the file ``<name>.cypher``).

    Raises
    ------
    NotFound
        no such query (the names are listed in the message).
    """
    path = directory / f"{name}.cypher"
    if not _NAME.match(name) or not path.is_file():
        names = ", ".join(q.name for q in list_queries(directory))
        raise NotFound(f"no Cypher query called {name!r}; the library has: {names}")
    return _parse(path)


def run_query(store: GraphStore, name: str, params: Mapping[str, Any] | None = None,
              ) -> list[dict[str, Any]]:
    """Run library query ``name`` with ``params`` on ``store`` (read-only); rows as dicts.

    Raises
    ------
    NotFound
        no such query.
    InvalidQuery
        unknown or missing parameters, or a store that cannot run Cypher.
    """
    query = load_query(name)
    bound = query.bind(params)
    run_read = getattr(store, "run_read", None)
    if run_read is None:
        raise InvalidQuery(f"the Cypher library needs the Neo4j store; this one is "
                           f"{getattr(store, 'kind', type(store).__name__)!r}")
    rows: list[dict[str, Any]] = run_read(query.text, bound)
    return rows
