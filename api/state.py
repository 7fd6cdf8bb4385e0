"""What the running app holds: the store (opened lazily, retried) and its projection cache.

The store is opened on first use rather than at start-up, so an API whose
Neo4j is down still starts and answers ``/health`` with a 503 problem, and
recovers by itself when the database comes back.

The embedded store is a plain in-process structure, not made for concurrent
threads; FastAPI runs sync routes and the ingest jobs on threads, so the app
wraps it in :class:`SerializedStore`, which runs one store call at a time. The
Neo4j driver is thread-safe and is used as it is.

Routes that run on the event loop (the match ranking) ask
:meth:`StoreHolder.projection_nowait` first: for the embedded store it answers
the cached projection after one revision check made without waiting for the
store's lock, and ``None`` whenever answering would block (store not open, lock
held by a writer, projection stale, a network store) — the caller then falls
back to :meth:`StoreHolder.projection` on a worker thread.

The projection is kept fresh by patching it with the store's change log
(``queries/projection_delta.py``); when it has to be rebuilt, the rebuild runs in
the background and requests go on being answered from the previous projection
(after waiting at most ``projection_wait`` seconds for it). Every analytic
response says which revision it was computed at, in the
``X-CoopGraph-Revision`` header (:class:`RevisionHeader`).

With readers that never wait on Neo4j, a ranking asks the database nothing: the
declines it applies are those held, brought up to the store by the background worker
after each look and, for a request written through this app, before that write is
answered (:meth:`StoreHolder.after_write`) — a database that stalls (its first writes
after an idle spell) holds up the writes, not the rankings.
"""

from __future__ import annotations

import gc
import inspect
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import anyio

from coopgraph.graph.store import GraphStore, Snapshot

if TYPE_CHECKING:
    from coopgraph.queries.feedback import DeclineIndex, Declines
    from coopgraph.queries.projection import Projection, ProjectionCache

__all__ = ["REVISION_HEADER", "RevisionHeader", "SerializedStore", "StoreHolder"]

log = logging.getLogger(__name__)
# the routes that write cooperation requests (api/routes/requests.py), whose declines
# lower later rankings: on a network store these writes wait for the declines index
_REQUESTS_PATH = "/requests"

REVISION_HEADER = "X-CoopGraph-Revision"
_STATE_KEY = "analytic_revision"


def _app_path(scope: Any) -> str:
    """The request's path within the app (without a ``root_path`` it is mounted under)."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    return path[len(root):] if root and path.startswith(root) else path


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

    def revision_nowait(self) -> int | None:
        """The inner store's revision, or ``None`` when another call holds the lock."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._inner.revision()
        finally:
            self._lock.release()

    def analytic_revision_nowait(self) -> int | None:
        """The inner store's analytic revision, or ``None`` when another call holds the lock."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._inner.analytic_revision()
        finally:
            self._lock.release()

    def snapshot(self) -> Snapshot:
        """Captured under the lock, its rows made outside it: a writer waits for the
        capture (milliseconds), not for the copy (seconds at 100k companies)."""
        with self._lock:
            make = self._inner.snapshot_deferred()
        return make()

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
                 opener: Callable[[], GraphStore] | None = None, *,
                 projection_wait: float | None = 0.05, incremental: bool = True) -> None:
        if store is None and opener is None:
            raise ValueError("give a store or an opener")
        self.projection_wait = projection_wait
        self.incremental = incremental
        self._opener = opener
        self._owned = store is None
        self._store: GraphStore | None = self._wrap(store) if store is not None else None
        self._cache: ProjectionCache | None = None
        self._last: Projection | None = None  # what the cache answered last
        self._lock = threading.Lock()
        self._declines: DeclineIndex | None = None
        # a network store, readers never waiting: the declines index is at the store's
        # revision as of the last write through this app (see after_write)
        self._declines_current = False
        # each after_write takes a new number: a read of the declines that began before
        # a write cannot mark them current after it (only the write's own read can)
        self._declines_writes = itertools.count(1)
        self._declines_write = 0

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
                from coopgraph.queries.projection import ProjectionCache

                self._cache = ProjectionCache(
                    store, max_wait=self.projection_wait, incremental=self.incremental,
                    warm=_warm_and_freeze if self.never_wait else _warm_match_index,
                    also=self._refresh_declines if self.never_wait else None)
            return self._cache

    def projection(self) -> Projection:
        """The projection of the store's current revision (may build it: seconds)."""
        projection = self.projections().get()
        self._last = projection
        return projection

    @property
    def never_wait(self) -> bool:
        """``projection_wait=0``: readers are answered from what is held, never waiting."""
        return self.projection_wait == 0

    def poke(self) -> None:
        """A write went through this app: have the background worker refresh (never blocks)."""
        cache = self._cache
        if self.never_wait and cache is not None and cache.current is not None:
            cache.poke()

    def projection_nowait(self) -> Projection | None:
        """The current projection if that is known without blocking, else ``None``.

        With ``projection_wait=0`` (:attr:`never_wait`): the projection held now,
        whatever the store's revision — when the store has moved (or its lock is held
        by a writer: the revision is not known) the background worker is poked and the
        reader is answered meanwhile; ``None`` only before the first build.

        Otherwise only for the embedded store (one lock-free-or-skip revision check, a
        few stat calls); a Neo4j revision is a network round trip and answers ``None``.
        """
        if self.never_wait:
            cache = self._cache
            current = cache.current if cache is not None else None
            if current is None or cache is None:
                return None
            if isinstance(self._store, SerializedStore):
                revision = self._store.analytic_revision_nowait()
                if revision is not None and revision <= current.revision:
                    return current
            cache.poke()  # Neo4j: the worker asks the store (a round trip), not the reader
            return current
        store, last = self._store, self._last
        if last is None or not isinstance(store, SerializedStore):
            return None
        revision = store.analytic_revision_nowait()
        return last if revision is not None and revision <= last.revision else None

    def _decline_index(self) -> DeclineIndex:
        if self._declines is None:
            from coopgraph.queries.feedback import DeclineIndex

            self._declines = DeclineIndex()
        return self._declines

    def declines(self, company_id: str) -> Declines:
        """The declined requests ``company_id`` was a party to, at the store's revision
        (re-read only after a write; a Neo4j revision is a round trip)."""
        return self._read_declines(company_id)

    def _read_declines(self, company_id: str) -> Declines:
        """Bring the declines up to the store and mark them current — unless a write began
        meanwhile (:meth:`after_write`): only that write's own read may then."""
        write = self._declines_write
        found = self._decline_index().get(self.get(), company_id)
        if write == self._declines_write:
            self._declines_current = True
        return found

    def declines_nowait(self, company_id: str) -> Declines | None:
        """:meth:`declines` if that is known without blocking (the embedded store, no
        write since the last read), else ``None``.

        The same with ``projection_wait=0``: the rankings may lag the writes, but a
        member's own decline holds in its very next ranking (the background worker
        re-reads the declines after a write too, so this is mostly a hit).
        """
        store = self._store
        if self.never_wait:
            # a member's own decline must hold in its next ranking (read your own
            # writes): the declines read last only while the store has not moved since
            index = self._decline_index()
            found = index.peek(index.revision, company_id)
            if not isinstance(store, SerializedStore):
                # a network store: its revision is a round trip, which would make every
                # ranking wait on the database; the declines are brought up to the store
                # after each request written through this app instead (after_write, before
                # the write is answered), and by the background worker after each look
                return found if self._declines_current else None
            known = store.revision_nowait()
            if found is not None and known is not None and known == index.revision:
                return found
            return None
        if not isinstance(store, SerializedStore):
            return None
        return self._decline_index().peek(store.revision_nowait(), company_id)

    def _refresh_declines(self) -> None:
        """Bring the declines up to the store's revision (the background worker)."""
        if self._declines is not None and self._declines.revision is not None:
            self._read_declines("")

    @property
    def answers_writes_late(self) -> bool:
        """Readers never wait and the store is a network one (Neo4j): a request written
        through this app is followed by :meth:`after_write` before it is answered."""
        return self.never_wait and self._store is not None \
            and not isinstance(self._store, SerializedStore)

    def after_write(self) -> None:
        """A request was written through this app (a network store, readers never waiting):
        bring the declines up to the store before the write is answered, so that the
        writer's next ranking holds its own decline while rankings ask the database nothing.

        Only the request routes wait for this (:class:`RevisionHeader`): other writes touch
        no request through the API (an ingest job or a company's removal may; the
        background worker brings the declines up after its next look, as it does the
        projection). One revision read and, when the store moved, its change log (a few
        ms); a full re-read only when the writes touched requests. If the database does
        not answer, rankings go back to reading the declines themselves until a refresh
        succeeds.
        """
        self._declines_write = next(self._declines_writes)
        self._declines_current = False
        try:
            self._read_declines("")
        except Exception as exc:  # the write is done; the next ranking reads the declines
            log.warning("declines not refreshed after a write: %s", exc)

    def close(self) -> None:
        """Close the store if the app opened it (a store passed in belongs to the caller).

        The projection's background worker is stopped and waited for first, outside the
        lock: a refresh under way may still need the store (and this lock) to finish."""
        with self._lock:
            if not self._owned or self._store is None:
                return
            cache = self._cache
        if cache is not None:
            cache.close()
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
                self._cache = None
                self._last = None


def _warm_match_index(projection: Projection) -> None:
    """Build the ranking's index of a new projection before requests see it."""
    from coopgraph.api.routes._engine import engine_or_none

    rank = engine_or_none("coopgraph.queries.match", "rank_buyers")
    if rank is None or not len(projection.cap_company):
        return
    rank(projection, projection.company_ids[int(projection.cap_company[0])], k=1)


def _warm_and_freeze(projection: Projection) -> None:
    """:func:`_warm_match_index`, then move every object alive into the garbage
    collector's permanent generation (``gc.freeze``), the new projection among them.

    A full collection walks every container the process holds: ≈ 140 ms at 20k
    companies, with the GIL held, so every request in flight stood still whenever
    one came round (the allocations of refreshes and rankings set it off). Frozen
    objects are skipped by collections and still freed by reference counting when
    the projection they belong to is replaced; a projection holds no reference
    cycles (a refresh loop with a full collection after each patch found none), so
    nothing frozen is left behind. Only the serving mode (``projection_wait=0``) does
    this: it is a process-wide setting.

    Cyclic garbage that exists at the moment of a freeze (a request's traceback, an
    event-loop task) would be frozen with the rest and never collected; so at most every
    :data:`FULL_SWEEP_SECONDS` the frozen objects are unfrozen and one full collection
    runs first — the pause is paid once a minute at most, and the leak is bounded by
    what one minute leaves behind.
    """
    global _last_sweep
    _warm_match_index(projection)
    now = time.monotonic()
    if now - _last_sweep >= FULL_SWEEP_SECONDS:
        _last_sweep = now
        gc.unfreeze()
        gc.collect()
    gc.freeze()


#: How often a serving process sweeps its frozen objects (:func:`_warm_and_freeze`).
FULL_SWEEP_SECONDS = 60.0
_last_sweep = float("-inf")


def note_revision(state: Any, revision: int) -> None:
    """Remember, in a request's ``state``, the revision its analytics were computed at."""
    setattr(state, _STATE_KEY, revision)


class RevisionHeader:
    """ASGI middleware: ``X-CoopGraph-Revision`` on every response that read the projection;
    after a successful write, pokes the projection's background worker.

    The projection dependency (``api.deps.get_projection``) notes the revision in
    the request's state; this adds it to the response's headers.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        write = scope.get("method") not in ("GET", "HEAD", "OPTIONS")

        async def sending(message: Any) -> None:
            if write and message["type"] == "http.response.start" \
                    and message.get("status", 500) < 400:
                holder = getattr(scope["app"].state, "holder", None)
                if holder is not None:  # the projection starts catching up at once
                    holder.poke()
                    if holder.answers_writes_late and _app_path(scope).startswith(
                            _REQUESTS_PATH):  # a decline holds in the writer's next ranking
                        await anyio.to_thread.run_sync(holder.after_write)
            if message["type"] == "http.response.start":
                revision = scope.get("state", {}).get(_STATE_KEY)
                if revision is not None:
                    headers = list(message.get("headers", []))
                    headers.append((REVISION_HEADER.lower().encode(), str(revision).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
