"""Runs a load's store writes in order, on a background thread when the store is a server."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from coopgraph.graph.store import GraphStore

__all__ = ["Writer", "in_process"]


class Writer:
    """Runs a load's store writes in order — on one background thread for a remote store.

    Validating a chunk and a server writing the previous one then overlap. Writes
    keep their order (one thread, a FIFO queue), so a relationship never reaches the
    server before its nodes; what the load reads from the store (nodes it does not
    know) is never in flight. The embedded store writes in the caller's thread: it
    would only compete for the interpreter.
    """

    def __init__(self, store: GraphStore) -> None:
        self._error: BaseException | None = None
        self._queue: queue.Queue[Callable[[], object] | None] | None = None
        self._thread: threading.Thread | None = None
        if not in_process(store):
            self._queue = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._run, name="coopgraph-ingest-writer",
                                            daemon=True)
            self._thread.start()

    def submit(self, work: Callable[[], object]) -> None:
        """Run ``work`` (now, or after the writes before it); raise an earlier failure."""
        if self._queue is None:
            work()
            return
        self._raise()
        self._queue.put(work)

    def flush(self) -> None:
        """Wait until every submitted write is done; raise the first that failed."""
        if self._queue is not None:
            self._queue.join()
        self._raise()

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for every submitted write; raise the first that failed."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None
        if raise_error:
            self._raise()

    def _run(self) -> None:
        assert self._queue is not None
        while (work := self._queue.get()) is not None:
            if self._error is None:  # after a failure, drain without writing
                try:
                    work()
                except BaseException as exc:  # re-raised in the loading thread
                    self._error = exc
            self._queue.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def in_process(store: GraphStore) -> bool:
    """True when the store keeps its data in this process (the embedded store)."""
    return getattr(store, "kind", "") == "embedded"
