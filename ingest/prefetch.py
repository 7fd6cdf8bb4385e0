"""Reading ahead on the second core: the other kinds' tables read and parsed in a
worker process while this one resolves the companies (issue 15).

An ingest loads companies first (entity resolution, in this process), then streams
every other table chunk by chunk. Reading a CSV (the ``csv`` module and the record
numbering of :mod:`ingest.readers`) and converting its cells column by column
(:meth:`~ingest.validate.FastRows.parse`) need nothing the company step decides, so a
worker process started with the load does both for every streamed table, in load
order, and sends each chunk back as

- the record numbers of its rows,
- their cells, each row's cells joined by NUL into one string (one object a row to
  unpickle instead of one a cell; split again only for a row that is rejected or
  goes through pydantic) — or as lists when a cell holds a NUL or is not text,
- the converted columns (values, None or DEFER), exactly what ``parse`` gives here,
- the records the reader could not split (:class:`~ingest.readers.Malformed`).

Everything else — company references, pydantic for the rows the fast path leaves,
reference and duplicate checks, rejects, writes — stays in the loading process in the
same order, so the report is the same as a load read in-process (the tests compare
them). When the worker cannot go on (a file fails to read, it dies, the files changed
so that it plans other tables), the loading process reads the rest itself, from the
first chunk it has not been given; a reading error is then raised here, as without a
worker. At most :data:`AHEAD` chunks wait in this process.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from coopgraph.graph.schema import EntityKind
from coopgraph.ingest.readers import CSV_SUFFIXES, Malformed, Table

__all__ = ["AHEAD", "MIN_BYTES", "Chunk", "Lost", "Prefetch", "Rows", "streamed"]

#: below this many bytes of streamed tables a load reads them itself (a worker's
#: start-up, ≈ 0.3 s of the other core, would not pay)
MIN_BYTES = 8 << 20
NORMS_BATCH = 2_000  # company names normalised a message
AHEAD = 16  # chunks (of ingest.load_state.CHUNK rows) waiting here at most
_SEP = "\x00"


def streamed(kind: EntityKind) -> bool:
    """Whether the pipeline streams a kind's tables chunk by chunk (all but these two)."""
    return kind not in (EntityKind.COMPANY, EntityKind.CATEGORY)


class Lost(Exception):
    """The worker stopped before a table's last chunk: read the rest in-process."""


class Rows(Sequence[list[Any]]):
    """A chunk's cells as NUL-joined lines, each split back into a list when asked for."""

    __slots__ = ("_lines",)

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [line.split(_SEP) for line in self._lines[index]]
        return self._lines[index].split(_SEP)

    def __iter__(self) -> Iterator[list[Any]]:
        return (line.split(_SEP) for line in self._lines)


class Chunk(NamedTuple):
    """One chunk as the worker sends it."""

    rows: list[int]
    cells: Sequence[list[Any]]  # Rows, or the lists themselves
    columns: dict[str, list[Any]] | None  # FastRows.parse of the cells (no canon), deduped
    malformed: list[tuple[int, list[Any], str]]  # (row, cells, reason)


def _pack(raw: list[tuple[int, list[Any]]], fast: Any) -> tuple[Any, ...]:
    malformed = [(row, list(values), values.reason) for row, values in raw
                 if isinstance(values, Malformed)]
    good = [item for item in raw if not isinstance(item[1], Malformed)] if malformed else raw
    rows = [row for row, _values in good]
    cells = [values for _row, values in good]
    columns = fast.parse(cells, None) if fast is not None and cells else None
    if columns is not None:
        fast.dedupe(columns)  # repeated values pickled once
    packed: Any = cells
    if cells and min(map(len, cells)) >= 1:
        try:
            text = "".join(map("".join, cells))
        except TypeError:  # a list or a number (a spreadsheet, JSON): sent as lists
            text = _SEP
        if _SEP not in text:
            packed = list(map(_SEP.join, cells))
    return rows, packed, packed is not cells, columns, malformed


_HEAD = struct.Struct("<Q?")  # a message's length; whether it is names ("norms")


def _send(out: BinaryIO, message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEAD.pack(len(data), message[0] == "norms"))
    out.write(data)


def _work(paths: list[str], company_files: list[str], expected: list[tuple[str, list[str]]],
          chunk: int, out: BinaryIO) -> None:
    """The worker: plan the tables again, then read and parse every streamed one."""
    gc.disable()  # it allocates only acyclic, short-lived data
    try:
        from coopgraph.ingest.pipeline import plan_tables
        from coopgraph.ingest.resolve import normalize_name
        from coopgraph.ingest.validate import FastRows

        # the company files first (the load needs their names soon), then all
        companies = [j for j in plan_tables(company_files)[0]
                     if j.kind is EntityKind.COMPANY] if company_files else []
        for position, job in enumerate(companies):
            if "name" not in job.columns.fields:
                continue
            index = job.columns.fields.index("name")
            for raw in job.table.chunks(chunk):
                names = list(dict.fromkeys(
                    v.strip() for _row, values in raw if not isinstance(values, Malformed)
                    and isinstance(v := values[index], str) and v.strip()))
                for start in range(0, len(names), NORMS_BATCH):  # the loader takes them
                    _send(out, ("norms", position,  # as they come, from the other end
                                {name: normalize_name(name)
                                 for name in names[start:start + NORMS_BATCH]}))
        jobs = [j for j in plan_tables(paths)[0] if streamed(j.kind)]
        if [(j.name, j.columns.headers) for j in jobs] != expected:
            _send(out, ("lost",))  # the files changed since the load planned them
            return
        for position, job in enumerate(jobs):
            fast = FastRows.for_columns(job.columns)
            for raw in job.table.chunks(chunk):
                _send(out, ("chunk", position, _pack(raw, fast)))
            _send(out, ("end", position))
    except BaseException:  # the loading process reads on and reports it
        with contextlib.suppress(OSError):
            _send(out, ("lost",))
    finally:
        with contextlib.suppress(OSError):
            out.flush()


class Prefetch:
    """A worker reading ahead the streamed tables of one load; :meth:`take` their chunks.

    The worker is a plain ``python -m coopgraph.ingest.prefetch`` child (not
    :mod:`multiprocessing`, which would run the caller's main module again): its
    arguments come as JSON on its stdin, the chunks as length-prefixed pickles on
    its stdout.
    """

    def __init__(self, paths: Sequence[str | Path], tables: list[tuple[str, Table, list[str]]],
                 company_files: list[Path], chunk: int) -> None:
        expected = [(name, headers) for name, _table, headers in tables]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "coopgraph.ingest.prefetch"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        assert self._process.stdin is not None and self._process.stdout is not None
        with contextlib.suppress(OSError):
            self._process.stdin.write(json.dumps({
                "paths": [str(p) for p in paths], "expected": expected,
                "company_files": [str(p) for p in company_files],
                "chunk": chunk}).encode())
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self._names: deque[bytes] = deque()  # the "norms" messages, not queued
        self._want_names = True  # until the load has resolved its companies
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._drain, args=(self._process.stdout,),
                                        daemon=True, name="coopgraph-ingest-prefetch")
        self._thread.start()
        self._position = 0
        self.lost = False
        self._stopped = False

    @classmethod
    def start(cls, paths: Sequence[str | Path], jobs: list[Any], chunk: int
              ) -> Prefetch | None:
        """A worker for ``jobs``' streamed tables, or None when reading here is better."""
        if _cores() < 2 or not sys.executable:
            return None
        tables = [(j.name, j.table, j.columns.headers) for j in jobs if streamed(j.kind)]
        files = {t.path for _name, t, _headers in tables}
        try:
            size = sum(os.path.getsize(f) for f in files)
        except OSError:
            return None
        if size < MIN_BYTES:
            return None
        company_files = list(dict.fromkeys(
            j.table.path for j in jobs if j.kind is EntityKind.COMPANY
            and j.table.path.suffix.lower() in CSV_SUFFIXES))
        try:
            return cls(paths, tables, company_files, chunk)
        except OSError:  # cannot start a process: read here
            return None

    def _drain(self, pipe: BinaryIO) -> None:
        """Move the worker's messages into the queue (blocks while it is full)."""
        try:
            while not self._closed.is_set():
                head = pipe.read(_HEAD.size)
                if len(head) < _HEAD.size:
                    break
                size, names = _HEAD.unpack(head)
                data = pipe.read(size)
                if len(data) < size:
                    break
                if names:  # kept aside, never waits: the worker goes on at once
                    if self._want_names:
                        self._names.append(data)
                        if not self._want_names:  # names_done() ran in between
                            self._names.clear()
                    continue
                while not self._closed.is_set():
                    try:
                        self._queue.put(data, timeout=0.2)
                        break
                    except queue.Full:
                        continue
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)  # the worker is gone (after its last message)

    def norms(self) -> dict[str, str]:
        """:func:`~ingest.resolve.normalize_name` of the company names the worker has
        normalised since the last call (it does them first, in batches), by name.

        Never waits: the caller normalises the names not there yet (and any name
        pydantic reads differently from the stripped cell) itself. The batches do not
        queue with the chunks (:data:`AHEAD`): the worker never waits to send them.
        """
        found: dict[str, str] = {}
        while not self.lost:
            try:
                data = self._names.popleft()
            except IndexError:
                break
            found.update(pickle.loads(data)[2])
        return found

    def names_done(self) -> None:
        """The load needs no more names: drop those the worker still sends."""
        self._want_names = False
        self._names.clear()

    def take(self, position: int) -> Iterator[Chunk]:
        """The chunks of the ``position``-th streamed table, in order.

        Raises :class:`Lost` when the worker stopped before the table's end: the
        caller reads the rest (after the chunks it was given) itself.
        """
        if self.lost or position != self._position:
            self.close()
            raise Lost
        while True:
            message = self._message()
            if message[0] == "chunk" and message[1] == position:
                rows, cells, joined, columns, malformed = message[2]
                yield Chunk(rows, Rows(cells) if joined else cells, columns, malformed)
            elif message[0] == "end" and message[1] == position:
                self._position += 1
                return
            else:
                self.close()
                raise Lost

    def _message(self) -> tuple[Any, ...]:
        """The next message (waits for it); ``("lost",)`` when the worker is gone."""
        data = self._get()
        return pickle.loads(data) if data is not None else ("lost",)

    def _get(self) -> bytes | None:
        while True:
            try:
                return self._queue.get(timeout=1.0)
            except queue.Empty:
                if not self._thread.is_alive():
                    return None

    def close(self) -> None:
        """Stop the worker (if still running) and forget what it sent."""
        self.lost = True
        if self._stopped:
            return
        self._stopped = True
        self._closed.set()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._thread.join()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._process.stdout is not None:
            self._process.stdout.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _main() -> None:
    args = json.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the chunks' pipe
    _work(args["paths"], args["company_files"],
          [(name, headers) for name, headers in args["expected"]], args["chunk"], out)


if __name__ == "__main__":
    _main()
