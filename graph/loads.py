"""Loads: many writes that become visible together, or not at all.

``with store.load() as load: load.upsert_rows(kind, rows) …`` stages every row
the block writes; leaving the block normally commits them all at once, leaving
it by an exception rolls them all back. A process killed in the middle leaves a
*staged* load in the store; the next start-up (opening the store) or the next
load notices it, rolls it back — or, when the store had already begun to
commit it, completes it — and records what it did as a :class:`LoadRecovery`,
which ``coopgraph stats``, ``/health`` and the ingest report show as warnings.

How each store makes this atomic is its own business (see
:class:`graph.embedded.EmbeddedStore` and :class:`graph.neo4j_store.Neo4jStore`);
this module holds what they share: the handle the caller writes through, what a
recovery looks like, and who owns a staged load.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from coopgraph.graph.models import Record
from coopgraph.graph.schema import EntityKind, spec

if TYPE_CHECKING:
    from coopgraph.graph.store import GraphStore

__all__ = ["Load", "LoadRecovery", "new_load_id", "owner_alive", "this_owner"]


def new_load_id() -> str:
    """A fresh load id (12 hex digits, like an ingest job's)."""
    return uuid.uuid4().hex[:12]


def this_owner() -> tuple[str, int, str | None]:
    """(host name, process id, process start time) of this process: who owns a load."""
    return socket.gethostname(), os.getpid(), _started(os.getpid())


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # the fields after the command name (which may hold spaces) — start time is field 22
    fields = stat[stat.rfind(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None


def owner_alive(host: str | None, pid: int | None, started: str | None = None) -> bool | None:
    """Whether the process that staged a load still runs: True, False, or None (cannot tell).

    Only a process on this host can be looked at; for another host the caller
    decides by the load's age. ``started`` (see :func:`this_owner`) tells a process
    from a later one that was given the same id.
    """
    if host != socket.gethostname() or pid is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process with that id: alive
        pass
    if started is not None:
        now = _started(pid)
        if now is not None and now != started:
            return False  # the id was given to another process since
    return True


@dataclass(frozen=True)
class LoadRecovery:
    """What the store did with a load it found interrupted."""

    load_id: str
    action: Literal["rolled back", "completed"]
    rows: int
    started_at: str | None = None

    def message(self) -> str:
        """One sentence for a user: a :class:`~graph.messages.Msg` (its English text; say it
        in Russian with :func:`graph.messages.render`)."""
        from coopgraph.graph.messages import Msg

        # rows < 0: a load written straight into an empty store, its row count not known
        code = ("load.completed" if self.action == "completed" else
                "load.rolled_back" if self.rows >= 0 else "load.rolled_back_direct")
        return Msg(code, load_id=self.load_id, rows=self.rows, started_at=self.started_at)


class Load:
    """A load in progress: rows written through it are staged until the load commits.

    Made by :meth:`GraphStore.load`; not thread-safe (one writer per load). The
    caller checks references itself (as the ingest pipeline does): rows are
    written as given.
    """

    def __init__(self, store: GraphStore, load_id: str) -> None:
        self.store = store
        self.id = load_id
        self.rows = 0  # staged so far
        self.chunks = 0  # store-specific pieces staged so far
        self.recovered: list[LoadRecovery] = []  # interrupted loads found when this one began
        self.state: Any = None  # the store's own bookkeeping

    def upsert(self, records: Iterable[Record]) -> int:
        """Stage ``records`` (any mix of kinds); how many distinct records were staged."""
        groups = self.store._group(records)
        if not groups:
            return 0
        self.store._stage(self, groups)
        written = sum(len(rows) for rows in groups.values())
        self.rows += written
        return written

    def upsert_rows(self, kind: EntityKind | str, rows: Iterable[dict[str, Any]], *,
                    distinct: bool = False) -> int:
        """Stage rows of one kind in stored form (see :meth:`GraphStore.upsert_rows`);
        ``distinct``: the caller made sure no key repeats among them (the ingest
        pipeline drops duplicates itself), so they are not looked for again."""
        kind_spec = spec(kind)
        unique = self.store._stamped_rows(kind_spec, rows, distinct)
        if not unique:
            return 0
        self.store._stage(self, {kind_spec.kind: unique})
        self.rows += len(unique)
        return len(unique)
