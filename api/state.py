"""What the running app holds: the store (opened lazily, retried) and its projection cache.

The store is opened on first use rather than at start-up, so an API whose
Neo4j is down still starts and answers ``/health`` with a 503 problem, and
recovers by itself when the database comes back.

The embedded store is a plain in-process structure, not made for concurrent
threads; FastAPI runs sync routes and the ingest jobs on threads, so the app
wraps it in :class:`SerializedStore`, which runs one store call at a time. The
Neo4j driver is thread-safe and is used as it is.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from graph.store import GraphStore

if TYPE_CHECKING:
    from queries.projection import Projection, ProjectionCache

__all__ = ["SerializedStore", "StoreHolder"]


class SerializedStore:
    """A proxy that runs each call of the wrapped store under one lock.

    Generators (``iter_all``) are drained under the lock, so no other call can
    change the store between two pages.
    """

    def __init__(self, inner: GraphStore) -> None:
        self._inner = inner
        self._lock = threading.RLock()

    @property
    def inner(self) -> GraphStore:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr
        lock = self._lock
        if inspect.isgeneratorfunction(getattr(type(self._inner), name, None)):
            def drained(*args: Any, **kwargs: Any) -> Any:
                with lock:
                    return iter(list(attr(*args, **kwargs)))
            return drained

        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return attr(*args, **kwargs)
        return locked

    def __enter__(self) -> SerializedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


class StoreHolder:
    """Opens the store on first use (retrying after a failure) and owns its projection cache."""

    def __init__(self, store: GraphStore | None = None,
                 opener: Callable[[], GraphStore] | None = None) -> None:
        if store is None and opener is None:
            raise ValueError("give a store or an opener")
        self._opener = opener
        self._owned = store is None
        self._store: GraphStore | None = self._wrap(store) if store is not None else None
        self._cache: ProjectionCache | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _wrap(store: GraphStore) -> GraphStore:
        if getattr(store, "kind", None) == "embedded":
            return cast(GraphStore, SerializedStore(store))
        return store

    def get(self) -> GraphStore:
        """The store; raises :class:`~graph.errors.StoreUnavailable` when it cannot be opened."""
        store = self._store
        if store is not None:
            return store
        with self._lock:
            if self._store is None:
                assert self._opener is not None
                self._store = self._wrap(self._opener())
            return self._store

    def projections(self) -> ProjectionCache:
        """The projection cache of the store (created with it)."""
        cache = self._cache
        if cache is not None:
            return cache
        store = self.get()
        with self._lock:
            if self._cache is None:
                from queries.projection import ProjectionCache

                self._cache = ProjectionCache(store)
            return self._cache

    def projection(self) -> Projection:
        """The projection of the store's current revision."""
        return self.projections().get()

    def close(self) -> None:
        """Close the store if the app opened it (a store passed in belongs to the caller)."""
        with self._lock:
            if self._owned and self._store is not None:
                self._store.close()
                self._store = None
                self._cache = None
