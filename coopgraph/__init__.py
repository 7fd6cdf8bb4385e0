"""CoopGraph: supplier–manufacturer matchmaking for industrial clusters.

The installed distribution is one namespace: ``coopgraph.graph``, ``coopgraph.ingest``,
``coopgraph.queries``, ``coopgraph.api`` (kept in the repository as the top-level folders
graph/ ingest/ queries/ api/ and mapped by the build, see setup.py) and
``coopgraph.data`` (the sample cluster, shipped as package data). This module holds
the version — the one place it is written — and imports nothing, so that reading
it is free.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
