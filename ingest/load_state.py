"""What one ingest knows while it runs, shared by its parts (companies, categories, the rest).

:class:`LoadState` holds the sets and maps the pipeline fills as it goes — keys
known to exist, merged company ids, rejected keys, the rows seen per kind — and
the two ways out: staging rows into the store load (:meth:`LoadState._write`,
:meth:`LoadState._write_rows`) and recording a rejected row
(:meth:`LoadState._reject`). :mod:`ingest.load_companies`,
:mod:`ingest.load_categories` and :mod:`ingest.pipeline` each add one part of
the load on top of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from coopgraph.graph.loads import Load
from coopgraph.graph.messages import render
from coopgraph.graph.models import Company, Record
from coopgraph.graph.schema import KINDS, EntityKind, kind_of, to_props
from coopgraph.graph.store import GraphStore, row_keys, strip_provenance
from coopgraph.ingest.categorize import CategoryIndex
from coopgraph.ingest.formats import ColumnMap, Format
from coopgraph.ingest.progress import Bar
from coopgraph.ingest.readers import Malformed, Table
from coopgraph.ingest.report import FileSummary, IngestReport, Reject, coded
from coopgraph.ingest.writer import Writer

if TYPE_CHECKING:
    from coopgraph.ingest.prefetch import Prefetch

__all__ = ["CHUNK", "Job", "LoadState", "Problems"]

CHUNK = 20_000
T = TypeVar("T")
Problems = list[tuple[str, str]]


@dataclass
class Job:
    """One table to load, with its format and running counts."""

    index: int
    table: Table
    fmt: Format
    columns: ColumnMap
    summary: FileSummary
    rejected: list[tuple[int, list[Any], str, list[str]]] = field(default_factory=list)

    @property
    def kind(self) -> EntityKind:
        return self.fmt.kind

    @property
    def name(self) -> str:
        return self.table.name


class LoadState:
    """The state of one ingest: what is known, merged, seen and rejected so far."""

    def __init__(self, store: GraphStore, target: Load, report: IngestReport, bar: Bar) -> None:
        self.store = store  # read from (what was there before this load)
        self.target = target  # written to: nothing shows until the load commits
        self.report = report
        self.bar = bar
        self.known: dict[EntityKind, set[str]] = defaultdict(set)
        self.absent: dict[EntityKind, set[str]] = defaultdict(set)
        self.rejected_keys: dict[EntityKind, dict[str, tuple[int, str]]] = defaultdict(dict)
        self.alias: dict[str, str] = {}
        self.by_inn: dict[str, str] = {}
        self.by_ogrn: dict[str, str] = {}
        self._store_companies: list[Company] | None = None
        self._categories: CategoryIndex | None = None
        self._bom: dict[str, set[str]] | None = None
        self.seen: dict[EntityKind, dict[int, int]] = defaultdict(dict)
        self.canon: dict[Any, Any] = {}  # one shared object per repeated cell value
        self.jobs: list[Job] = []
        self.writer = Writer(store)
        self._stored_counts: dict[str, int] | None = None
        self.prefetch: Prefetch | None = None  # a worker reading the streamed tables ahead
        self.streamed = 0  # streamed tables loaded so far (the worker sends them in order)

    def _write(self, records: list[Record], same: list[bool] | None = None) -> None:
        """Stage ``records``, but those ``same`` marks as already stored unchanged."""
        records = _changed(records, same)
        for start in range(0, len(records), CHUNK):
            part = records[start:start + CHUNK]
            self.writer.submit(lambda part=part: self.target.upsert(part))  # type: ignore[misc]

    def _write_rows(self, kind: EntityKind, rows: list[dict[str, Any]],
                    same: list[bool] | None = None, *, distinct: bool = True) -> None:
        """Stage ``rows`` of ``kind`` (in stored form), but those ``same`` marks as already
        stored unchanged; ``distinct``: no key repeats among them (the streamed kinds:
        pipeline._accept drops duplicates), else the last row of a key wins."""
        rows = _changed(rows, same)
        if rows:
            self.writer.submit(
                lambda: self.target.upsert_rows(kind, rows, distinct=distinct))

    def _reject(self, job: Job, row: int, values: list[Any], problems: Problems,
                key: tuple[EntityKind, str] | None = None) -> None:
        columns = [job.columns.header_of(f) if f else "" for f, _ in problems]
        for column, (_f, reason) in zip(columns, problems, strict=True):
            said = coded(reason)
            self.report.rejects.append(Reject(
                file=job.name, row=row, column=column, reason=render(reason, self.report.lang),
                code=said["code"], params=said["params"]))
        job.rejected.append((row, values, "; ".join(columns), [r for _f, r in problems]))
        job.summary.rejected += 1
        if key is not None:
            self.rejected_keys[key[0]].setdefault(key[1], (row, job.name))

    def _same_as_stored(self, kind: EntityKind, rows: list[dict[str, Any]]) -> list[bool]:
        """Per row: does the store already hold this record with exactly these values?

        One bulk read per call (:meth:`GraphStore.fetch`), provenance ignored: a row
        loaded a second time, unchanged, is counted ``unchanged``, not ``loaded`` — and
        is not written again (:meth:`_write`, :meth:`_write_rows`): the stored record,
        its provenance (file, row, time of the load that last changed it) included,
        stays as it was, so a load of nothing new changes nothing, not even the
        store's revision. (Every key reaches a load once: ``_accept`` merges or
        rejects a repeated key, so no earlier row of this load can have changed it.)
        """
        if not rows:
            return []
        if not self._held(kind):
            return [False] * len(rows)  # an empty kind: nothing to compare with
        spec = KINDS[kind]
        keys = row_keys(spec, rows)
        stored = {spec.key_of(r): r for r in self.store.fetch(kind, keys)}
        if not stored:
            return [False] * len(rows)
        return [stored.get(spec.key_of(row)) == strip_provenance(row) for row in rows]

    def _held(self, kind: EntityKind) -> bool:
        """Whether the store held records of ``kind`` when the load began."""
        if self._stored_counts is None:
            self._stored_counts = self.store.stats()
        return bool(self._stored_counts.get(kind.value))

    def _same_records(self, records: list[Record]) -> list[bool]:
        """:meth:`_same_as_stored` for records of one kind (not made into props for a
        kind the store did not hold: nothing to compare with)."""
        if not records:
            return []
        kind = kind_of(records[0])
        if not self._held(kind):
            return [False] * len(records)
        return self._same_as_stored(kind, [to_props(r) for r in records])

    def _chunks(self, job: Job, size: int = CHUNK) -> Iterator[list[tuple[int, list[Any]]]]:
        """The table's rows in chunks, with the records the reader could not split
        (:class:`~ingest.readers.Malformed`) rejected here, counted as read."""
        for chunk in job.table.chunks(size):
            good = self._well_formed(job, chunk)
            if good:
                yield good

    def _well_formed(self, job: Job, chunk: list[tuple[int, list[Any]]]
                     ) -> list[tuple[int, list[Any]]]:
        """The chunk without the records the reader could not split (rejected here)."""
        if not any(isinstance(values, Malformed) for _row, values in chunk):
            return chunk
        good = []
        for row, values in chunk:
            if isinstance(values, Malformed):
                self._malformed(job, row, list(values), values.reason)
            else:
                good.append((row, values))
        return good

    def _malformed(self, job: Job, row: int, values: list[Any], reason: str) -> None:
        """Reject a record the reader could not split (counted as read)."""
        job.summary.read += 1
        self._reject(job, row, values, [("", reason)])

    # ---- answered by the reference checks (ingest.pipeline) ----

    def _missing(self, kind: EntityKind, keys: set[str]) -> set[str]:
        """Of ``keys``, those neither loaded now nor in the store."""
        raise NotImplementedError

    def _rejected_note(self, kind: EntityKind, key: str) -> str:
        """`` (its own row, …, was rejected)`` (a :class:`~graph.messages.Msg`) when that
        key's row was rejected, else ``""``."""
        raise NotImplementedError


def _changed(items: list[T], same: list[bool] | None) -> list[T]:
    """``items`` without those ``same`` marks (``same`` may cover a prefix only)."""
    if not same or not any(same):
        return items
    return [item for i, item in enumerate(items) if i >= len(same) or not same[i]]
