"""Open the store the settings name — and say which one it is.

A read opens only a store that exists (:class:`~graph.errors.StoreMissing`
otherwise); only a load (``coopgraph ingest``, ``POST /ingest``, the demo)
creates one. An embedded store exists when its directory holds its SQLite
database (or a journal store's snapshot or journal, migrated on opening); a
Neo4j store when its database holds CoopGraph's revision counter
(written by the first write of any kind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coopgraph.graph.errors import DatabaseNotFound, StoreMissing
from coopgraph.graph.settings import Settings, load_settings
from coopgraph.graph.store import GraphStore

__all__ = ["embedded_store_exists", "open_store", "store_location", "store_location_text"]

# the SQLite database, or a journal store's files (migrated when opened)
_EMBEDDED_FILES = ("store.sqlite", "graph.json", "journal.log")


def store_location(settings: Settings) -> dict[str, Any]:
    """Which store the settings name: ``{"kind", "path"}`` or ``{"kind", "uri", "database"}``."""
    if settings.store == "neo4j":
        return {"kind": "neo4j", "uri": settings.neo4j_uri, "database": settings.neo4j_database}
    return {"kind": "embedded", "path": str(Path(settings.data_dir).resolve())}


def store_location_text(location: dict[str, Any]) -> str:
    """``embedded /abs/var/data`` or ``neo4j bolt://host:7687 (database neo4j)``."""
    if location["kind"] == "neo4j":
        return f"neo4j {location['uri']} (database {location['database']})"
    return f"embedded {location['path']}"


def embedded_store_exists(path: str | Path) -> bool:
    """True when ``path`` holds an embedded store's database (or an older journal store)."""
    base = Path(path)
    return any((base / name).is_file() for name in _EMBEDDED_FILES)


def _missing(settings: Settings) -> StoreMissing:
    where = store_location_text(store_location(settings))
    hint_en = ("run `coopgraph ingest` or set COOPGRAPH_DATA_DIR" if settings.store == "embedded"
               else "run `coopgraph ingest` or set NEO4J_URI / NEO4J_DATABASE")
    hint_ru = ("выполните `coopgraph ingest` или задайте COOPGRAPH_DATA_DIR"
               if settings.store == "embedded"
               else "выполните `coopgraph ingest` или задайте NEO4J_URI / NEO4J_DATABASE")
    return StoreMissing(f"нет хранилища: {where}; {hint_ru} / no store at {where}; {hint_en}")


def open_store(settings: Settings | None = None, *, create: bool = True,
               lazy: bool = False) -> GraphStore:
    """The configured store: embedded (default) or Neo4j.

    With ``create=False`` a store that does not exist yet is not created:
    :class:`~graph.errors.StoreMissing` is raised instead (read commands).
    With ``lazy=True`` the embedded store reads its files on first use, answering
    ``revision()`` and ``identity()`` from their ends until then (a command that a
    cached projection may answer).
    """
    settings = settings or load_settings()
    if settings.store == "neo4j":
        from coopgraph.graph.neo4j_store import Neo4jStore

        try:
            store: GraphStore = Neo4jStore(
                settings.neo4j_uri,
                user=settings.neo4j_user,
                password=settings.neo4j_password,
                database=settings.neo4j_database,
                batch_size=settings.batch_size,
            )
        except DatabaseNotFound:
            if create:
                raise  # a server's databases are made by its administrator, not by a load
            raise _missing(settings) from None
        if not create and store.revision() == 0:
            store.close()
            raise _missing(settings)
        return store
    from coopgraph.graph.embedded import EmbeddedStore

    if not create and not embedded_store_exists(settings.data_dir):
        raise _missing(settings)
    return EmbeddedStore(settings.data_dir, lazy=lazy)
