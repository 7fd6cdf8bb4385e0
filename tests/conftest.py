"""Shared fixtures: one real Neo4j per session, and stores parametrised over both kinds.

=================  ========  ====================================================
fixture            scope     what it gives
=================  ========  ====================================================
neo4j_server       session   a running Neo4j (``NEO4J_URI`` if set, else started
                             by ``tests/neo4j_server.py``); skipped when none can
                             be had, unless ``COOPGRAPH_REQUIRE_NEO4J=1``
neo4j_store        function  an empty :class:`Neo4jStore` on that server
store              function  an empty store: ``embedded`` (on disk) and ``neo4j``
embedded_store     function  an empty embedded store on disk
sample_store       function  the sample dataset, in each store (read only!)
sample_snapshot    session   the sample dataset's snapshot (in-memory embedded)
=================  ========  ====================================================

Neo4j keeps its data between tests: ``store``/``neo4j_store`` wipe it first, and
``sample_store`` reloads the sample only when something else has been there since.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import INTERNAL_KINDS, KINDS
from coopgraph.graph.store import GraphStore, Snapshot

REQUIRE_NEO4J = os.environ.get("COOPGRAPH_REQUIRE_NEO4J") == "1"


@dataclass
class _ExternalServer:
    """A Neo4j we did not start (``NEO4J_URI``): nothing to stop."""

    uri: str
    user: str
    password: str

    def stop(self) -> None:
        pass


def _no_neo4j(reason: str) -> None:
    message = f"no Neo4j for the tests: {reason}"
    if REQUIRE_NEO4J:
        pytest.fail(message + " (COOPGRAPH_REQUIRE_NEO4J=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Any]:
    """A running Neo4j with ``.uri``, ``.user``, ``.password``."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield _ExternalServer(uri, os.environ.get("NEO4J_USER", "neo4j"),
                              os.environ.get("NEO4J_PASSWORD", ""))
        return
    try:
        from tests.neo4j_server import start_neo4j
    except ImportError as exc:
        _no_neo4j(f"the launcher tests/neo4j_server.py cannot be imported ({exc})")
    try:
        server = start_neo4j()
    except Exception as exc:  # Java or Maven missing, build or start-up failed…
        _no_neo4j(f"{type(exc).__name__}: {exc}")
    try:
        yield server
    finally:
        server.stop()


class _Neo4jState:
    """What the shared Neo4j database holds now: ``None`` (anything) or ``'sample'``."""

    loaded: str | None = None


@pytest.fixture(scope="session")
def _neo4j_session_store(neo4j_server: Any) -> Iterator[GraphStore]:
    from coopgraph.graph.neo4j_store import Neo4jStore

    store = Neo4jStore(neo4j_server.uri, user=neo4j_server.user,
                       password=neo4j_server.password)
    try:
        yield store
    finally:
        store.close()


def _wiped(store: GraphStore) -> GraphStore:
    _Neo4jState.loaded = None
    store.clear()
    return store


@pytest.fixture
def neo4j_store(_neo4j_session_store: GraphStore) -> GraphStore:
    """An empty Neo4j store (the session's database, wiped)."""
    return _wiped(_neo4j_session_store)


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """An empty embedded store in a fresh directory."""
    store = EmbeddedStore(tmp_path / "store")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each kind."""
    if request.param == "embedded":
        embedded = EmbeddedStore(tmp_path / "store")
        try:
            yield embedded
        finally:
            embedded.close()
        return
    yield _wiped(request.getfixturevalue("_neo4j_session_store"))
    # Whatever the test wrote stays until the next wipe; the marker says so.
    _Neo4jState.loaded = None


def _load_sample(store: GraphStore) -> None:
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    report = ingest_paths(store, [SAMPLE_DIR])
    assert report.ok, f"the sample dataset loads with rejects: {report.rejects[:5]}"


@pytest.fixture(scope="session")
def _embedded_sample() -> EmbeddedStore:
    store = EmbeddedStore(None)
    _load_sample(store)
    return store


@pytest.fixture(scope="session")
def sample_snapshot(_embedded_sample: EmbeddedStore) -> Snapshot:
    """The sample dataset as a snapshot (from an in-memory embedded store)."""
    return _embedded_sample.snapshot()


def _only_server_state_written(store: GraphStore, before: int) -> bool:
    """True when every write since ``before`` touched only server state (the API keys and
    ingest jobs that an app over the store keeps in it, ``KindSpec.internal``); those
    records are removed again, so the sample stays as loaded. The sample's data itself
    is never written."""
    changes = store.changes_since(before)
    if changes is None or any(c.full or not set(c.keys) <= INTERNAL_KINDS for c in changes):
        return False
    for kind in INTERNAL_KINDS:
        kind_spec = KINDS[kind]
        keys = [kind_spec.key_of(r.model_dump()) for r in store.iter_all(kind)]
        if keys:
            store.delete(kind, keys, cascade=True)
    return True


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def sample_store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    """The sample dataset in each store. Read only: a test that writes to it fails."""
    if request.param == "embedded":
        store: GraphStore = request.getfixturevalue("_embedded_sample")
    else:
        store = request.getfixturevalue("_neo4j_session_store")
        if _Neo4jState.loaded != "sample":
            _wiped(store)
            _load_sample(store)
            _Neo4jState.loaded = "sample"
    before = store.revision()
    yield store
    if store.revision() != before and not _only_server_state_written(store, before):
        if request.param == "embedded":
            store.clear()
            _load_sample(store)
        else:
            _Neo4jState.loaded = None
        pytest.fail("a test wrote to sample_store, which is shared and read only; "
                    "use the `store` fixture and load what you need", pytrace=False)
