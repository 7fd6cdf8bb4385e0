"""Open the store the settings name."""

from __future__ import annotations

from graph.settings import Settings, load_settings
from graph.store import GraphStore

__all__ = ["open_store"]


def open_store(settings: Settings | None = None) -> GraphStore:
    """The configured store: embedded (default) or Neo4j."""
    settings = settings or load_settings()
    if settings.store == "neo4j":
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore(
            settings.neo4j_uri,
            user=settings.neo4j_user,
            password=settings.neo4j_password,
            database=settings.neo4j_database,
            batch_size=settings.batch_size,
        )
    from graph.embedded import EmbeddedStore

    return EmbeddedStore(settings.data_dir)
