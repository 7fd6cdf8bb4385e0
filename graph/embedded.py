"""The embedded store: :class:`~graph.sqlite_store.SqliteStore` under its product name.

``EmbeddedStore(path)`` opens (or creates) the SQLite store in the data directory
``path``, migrating a journal store found there once; ``EmbeddedStore(None)``
keeps a store in memory only (tests, throw-away analysis).
"""

from __future__ import annotations

from coopgraph.graph.sqlite_store import SqliteStore

__all__ = ["EmbeddedStore"]

EmbeddedStore = SqliteStore
