"""The ingest pipeline: files → validated, resolved, categorised records → a GraphStore.

:func:`ingest_paths` is the one entry point (the CLI and the upload endpoint
call it). It

1. expands directories and opens every file, recognising each table's kind
   by its header — an unusable file stops the load *before* anything is
   written (:class:`~graph.errors.IngestError`);
2. loads kinds in dependency order (:data:`ingest.formats.LOAD_ORDER`): companies
   first, resolved as one set against each other and against the store
   (:mod:`ingest.resolve`); then the other nodes (categories parents first);
   then relationships, streamed in chunks of :data:`CHUNK` rows so memory stays
   flat;
3. for each chunk: converts and validates the cells column by column
   (:class:`~ingest.validate.FastRows`, exact for what it accepts) and rewrites
   company references (merged ids, INN/OGRN → id); a row the fast path is unsure
   of — and every row of a table with free text or INN columns — goes through the
   pydantic model one by one, with free-text capabilities mapped to categories
   (:mod:`ingest.categorize`), collecting every problem of the row; then checks
   every reference against this load *and* the store as sets (so a write never
   fails on a missing node), refuses BOM cycles and conflicting duplicates;
4. writes the valid rows with ``store.upsert_rows`` chunk by chunk, stamped with
   provenance (file, row; the store adds the time) — on a background thread, in
   order, when the store is a server, so that validation and writing overlap.

Performance notes (``bench/ingest.py``, BENCHMARKS.md): repeated cell values are
shared objects (``_Load.canon``), duplicate detection keeps one int per row for
the kind being loaded, and the cyclic garbage collector is off during the load
and never rescans what a large load allocated (``gc.freeze``).

Loading the same files twice changes no counts: keys are stable (company ids
derived from INN when missing), and the same merges happen again.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from graph.errors import IngestError
from graph.ids import normalize_digits
from graph.models import BomLine, Category, Company, Record, Role
from graph.schema import (
    KINDS,
    PROVENANCE_FIELDS,
    EntityKind,
    Reference,
    references_from,
    to_props,
)
from graph.store import MAX_PAGE, GraphStore, row_keys
from ingest.categorize import ACCEPT_AT, SURE_AT, CategoryIndex
from ingest.formats import LOAD_ORDER, ColumnMap, Format, detect_format
from ingest.readers import Table, expand_paths, open_tables
from ingest.report import (
    CategoryMapping,
    FileSummary,
    IngestReport,
    Merge,
    Reject,
    ReviewPair,
    write_rejects,
    write_report,
)
from ingest.resolve import Candidate, derive_company_id, merge_companies, resolve
from ingest.validate import FastRows, RowConverter, record_fields, row_print, validate_row

__all__ = ["CHUNK", "ingest_paths", "plan_tables"]

CHUNK = 20_000
_FREEZE_AT = 100_000  # rows; see ingest_paths
_K = EntityKind
Problems = list[tuple[str, str]]


@dataclass
class _Job:
    """One table to load, with its format and running counts."""

    index: int
    table: Table
    fmt: Format
    columns: ColumnMap
    summary: FileSummary
    rejected: list[tuple[int, list[Any], str, str]] = field(default_factory=list)

    @property
    def kind(self) -> EntityKind:
        return self.fmt.kind

    @property
    def name(self) -> str:
        return self.table.name


def plan_tables(paths: Sequence[str | Path] | str | Path) -> tuple[list[_Job], list[str]]:
    """Open every file and recognise each table; jobs in load order, plus warnings.

    Raises
    ------
    IngestError
        A path is missing or unreadable, or a file has no table of a known format.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = expand_paths(list(paths))
    jobs: list[_Job] = []
    warnings: list[str] = []
    for path in files:
        tables = open_tables(path)
        matched = 0
        for table in tables:
            fmt = detect_format(table.headers, table.kind_hint or table.hint)
            if fmt is None:
                if len(tables) > 1:
                    warnings.append(f"{table.name}: the header matches no known format; skipped")
                    continue
                shown = ", ".join(repr(h) for h in table.headers[:12])
                raise IngestError(
                    f"{table.name}: the header ({shown}) matches no known format; "
                    "see docs/formats.md for the columns of each kind")
            columns = fmt.map_columns(table.headers)
            if columns.unknown:
                warnings.append(f"{table.name}: ignored unknown column(s) "
                                + ", ".join(repr(h) for h in columns.unknown))
            summary = FileSummary(file=table.name, kind=fmt.kind.value,
                                  encoding=table.encoding, delimiter=table.delimiter)
            jobs.append(_Job(len(jobs), table, fmt, columns, summary))
            matched += 1
        if not matched:
            raise IngestError(f"{path.name}: no sheet matches a known format")
    jobs.sort(key=lambda j: (LOAD_ORDER.index(j.kind), j.index))
    for position, job in enumerate(jobs):
        job.index = position
    return jobs, warnings


def ingest_paths(store: GraphStore, paths: Sequence[str | Path] | str | Path, *,
                 rejects_dir: str | Path | None = None, progress: bool = False) -> IngestReport:
    """Load files or directories into ``store``; return what happened.

    Parameters
    ----------
    store
        Any :class:`~graph.store.GraphStore`.
    paths
        Files (CSV, XLSX, JSON, JSONL) and directories (all data files in them).
    rejects_dir
        Where to write ``report.json``, ``report.md`` and one ``*.rejects.csv``
        per table with rejected rows; nothing is written when ``None``.
    progress
        Show a progress bar (rich, on stderr).

    Returns
    -------
    IngestReport
        Per-file counts, every reject, merge, review pair and low-confidence mapping.

    Raises
    ------
    IngestError
        The input is unusable (missing, unreadable, unknown format); nothing was written.
    """
    started = time.perf_counter()
    jobs, warnings = plan_tables(paths)
    report = IngestReport(files=[j.summary for j in jobs], warnings=warnings)
    # A bulk load into the embedded store allocates millions of long-lived objects;
    # the cyclic collector would rescan them over and over (a third of the time).
    # Nothing here makes cycles — but a server's driver does, per transaction, and
    # they would hold every batch's parameters: the collector stays on for those.
    collecting = gc.isenabled() and _in_process(store)
    if collecting:
        gc.disable()
    try:
        with _progress_bar(progress) as bar:
            load = _Load(store, report, bar)
            try:
                load.run(jobs)
            except BaseException:
                load.writer.close(raise_error=False)
                raise
            load.writer.close()  # waits for the last writes; raises a failed one
    finally:
        if collecting:
            if report.total("read") >= _FREEZE_AT:
                # Leave what the load allocated (millions of acyclic dicts, now the
                # store's) out of future collections: the first one after enable()
                # would otherwise walk all of it, and every full collection after it.
                gc.freeze()
            gc.enable()
    report.seconds = time.perf_counter() - started
    if rejects_dir is not None:
        directory = Path(rejects_dir)
        report.rejects_dir = str(directory)
        for job in jobs:
            if job.rejected:
                delimiter = job.table.delimiter or ","
                path = write_rejects(directory, job.name, job.columns.headers, job.rejected,
                                     delimiter)
                report.report_files.append(str(path))
        report.report_files[:0] = [str(p) for p in write_report(directory, report)]
        write_report(directory, report)  # again, now listing the rejects files too
    return report


# --- progress ----------------------------------------------------------------------


class _Bar:
    """A thin wrapper over rich's Progress that does nothing when disabled."""

    def __init__(self, progress: Any | None) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, name: str) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(name, total=None)

    def advance(self, rows: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, rows)

    def done(self) -> None:
        if self._progress is not None and self._task is not None:
            task = next(t for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, total=task.completed)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[_Bar]:
    if not enabled:
        yield _Bar(None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TextColumn("rows"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as progress:
        yield _Bar(progress)


# --- the load ----------------------------------------------------------------------


class _Writer:
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
        if not _in_process(store):
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


class _Load:
    """The state of one ingest: what is known, merged, seen and rejected so far."""

    def __init__(self, store: GraphStore, report: IngestReport, bar: _Bar) -> None:
        self.store = store
        self.report = report
        self.bar = bar
        self.known: dict[EntityKind, set[str]] = defaultdict(set)
        self.absent: dict[EntityKind, set[str]] = defaultdict(set)
        self.rejected_keys: dict[EntityKind, dict[str, str]] = defaultdict(dict)
        self.alias: dict[str, str] = {}
        self.by_inn: dict[str, str] = {}
        self.by_ogrn: dict[str, str] = {}
        self._store_companies: list[Company] | None = None
        self._categories: CategoryIndex | None = None
        self._bom: dict[str, set[str]] | None = None
        self.seen: dict[EntityKind, dict[int, int]] = defaultdict(dict)
        self.canon: dict[Any, Any] = {}  # one shared object per repeated cell value
        self.jobs: list[_Job] = []
        self.writer = _Writer(store)

    # ---- driver ----

    def run(self, jobs: list[_Job]) -> None:
        self.jobs = jobs
        by_kind: dict[EntityKind, list[_Job]] = defaultdict(list)
        for job in jobs:
            by_kind[job.kind].append(job)
        for kind in LOAD_ORDER:
            group = by_kind.get(kind, [])
            if not group:
                continue
            if kind is _K.COMPANY:
                self._companies(group)
            elif kind is _K.CATEGORY:
                self._category_nodes(group)
            else:
                for job in group:
                    self._stream(job)
                self.seen.pop(kind, None)  # duplicates are looked for within a kind
        order = {job.name: job.index for job in jobs}
        self.report.rejects.sort(key=lambda r: (order.get(r.file, 0), r.row))
        for job in jobs:
            job.rejected.sort(key=lambda item: item[0])

    def _write(self, records: list[Record]) -> None:
        for start in range(0, len(records), CHUNK):
            part = records[start:start + CHUNK]
            self.writer.submit(lambda part=part: self.store.upsert(  # type: ignore[misc]
                part, check_references=False))

    def _write_rows(self, kind: EntityKind, rows: list[dict[str, Any]]) -> None:
        self.writer.submit(lambda: self.store.upsert_rows(kind, rows, check_references=False))

    # ---- rejects ----

    def _reject(self, job: _Job, row: int, values: list[Any], problems: Problems,
                key: tuple[EntityKind, str] | None = None) -> None:
        columns = [job.columns.header_of(f) if f else "" for f, _ in problems]
        for column, (_f, reason) in zip(columns, problems, strict=True):
            self.report.rejects.append(Reject(file=job.name, row=row, column=column,
                                              reason=reason))
        job.rejected.append((row, values, "; ".join(columns),
                             "; ".join(r for _f, r in problems)))
        job.summary.rejected += 1
        if key is not None:
            self.rejected_keys[key[0]].setdefault(key[1], f"row {row} of {job.name}")

    # ---- companies ----

    def _store_company_list(self) -> list[Company]:
        if self._store_companies is None:
            companies = [r for r in self.store.iter_all(_K.COMPANY, page_size=MAX_PAGE)
                         if isinstance(r, Company)]
            self._store_companies = companies
            for company in companies:
                self.known[_K.COMPANY].add(company.id)
                if company.inn:
                    self.by_inn.setdefault(company.inn, company.id)
                if company.ogrn:
                    self.by_ogrn.setdefault(company.ogrn, company.id)
        return self._store_companies

    def _companies(self, jobs: list[_Job]) -> None:
        incoming: list[Candidate] = []
        owners: list[_Job] = []
        first_by_id: dict[str, int] = {}
        for job in jobs:
            started = time.perf_counter()
            self.bar.start(job.name)
            convert = RowConverter(job.columns)
            # The fast path needs an id column (without one, ids are derived row by row).
            fast = FastRows.for_columns(job.columns) if "id" in job.columns.present else None
            source = job.table.path.name
            for chunk in job.table.chunks(CHUNK):
                if fast is not None:
                    built, _prints = fast.assemble(
                        fast.parse([values for _row, values in chunk], self.canon), source,
                        [row for row, _values in chunk])
                else:
                    built = [None] * len(chunk)
                for (row, values), props in zip(chunk, built, strict=True):
                    job.summary.read += 1
                    if props is not None:
                        record: Record | None = _company_of(props)
                    else:
                        data = convert(values)
                        if "id" not in data:
                            inn = normalize_digits(data["inn"]) if "inn" in data else None
                            ogrn = normalize_digits(data["ogrn"]) if "ogrn" in data else None
                            data["id"] = derive_company_id(inn, ogrn, data.get("name"))
                        data["source"], data["row"] = source, row
                        record, problems = validate_row(Company, _K.COMPANY, data)
                        if record is None:
                            self._reject(job, row, values, problems,
                                         (_K.COMPANY, str(data["id"])))
                            continue
                    assert isinstance(record, Company)
                    earlier = first_by_id.get(record.id)
                    if earlier is not None:
                        self._same_id(job, row, values, incoming, earlier, record)
                        continue
                    first_by_id[record.id] = len(incoming)
                    incoming.append(Candidate(record, file=job.name, row=row))
                    owners.append(job)
                self.bar.advance(len(chunk))
            job.summary.seconds += time.perf_counter() - started
            self.bar.done()
        started = time.perf_counter()
        self._resolve_companies(incoming, owners)
        self.writer.flush()
        share = (time.perf_counter() - started) / len(jobs)
        for job in jobs:
            job.summary.seconds += share

    def _same_id(self, job: _Job, row: int, values: list[Any], incoming: list[Candidate],
                 earlier: int, record: Company) -> bool:
        """Fold a second row with an id already seen into the first; False if it conflicts."""
        first = incoming[earlier]
        if first.company.inn and record.inn and first.company.inn != record.inn:
            self._reject(job, row, values, [(
                "id", f"id {record.id!r} is already used by row {first.row} of {first.file} "
                      f"for a company with INN {first.company.inn}, not {record.inn}")])
            return False
        merged = merge_companies([first.company, record])
        incoming[earlier] = Candidate(merged, file=first.file, row=first.row)
        job.summary.merged += 1
        self.report.merges.append(Merge(
            kept_id=first.company.id, kept_name=first.company.name, merged_id=record.id,
            merged_name=record.name, file=job.name, row=row,
            reason=f"same id {record.id!r} as row {first.row} of {first.file}", score=100.0))
        return True

    def _resolve_companies(self, incoming: list[Candidate], owners: list[_Job]) -> None:
        ids = {c.company.id for c in incoming}
        stored = [Candidate(c, from_store=True) for c in self._store_company_list()
                  if c.id not in ids]
        candidates = stored + incoming
        offset = len(stored)
        resolution = resolve(candidates)
        why: dict[int, tuple[str, float]] = {}
        for edge in resolution.merges:
            why.setdefault(edge.b, (edge.reason, edge.score))
            why.setdefault(edge.a, (edge.reason, edge.score))
        records: list[Record] = []
        for members in resolution.groups:
            if all(m < offset for m in members):
                continue
            rep = candidates[members[0]].company
            merged = merge_companies([candidates[m].company for m in members])
            records.append(merged)
            for m in members:
                if m < offset:
                    continue
                job = owners[m - offset]
                cand = candidates[m]
                if m == members[0]:
                    job.summary.loaded += 1
                    continue
                job.summary.merged += 1
                if cand.company.id != rep.id:
                    self.alias[cand.company.id] = rep.id
                reason, score = why.get(m, ("same company", 100.0))
                self.report.merges.append(Merge(
                    kept_id=rep.id, kept_name=rep.name, merged_id=cand.company.id,
                    merged_name=cand.company.name, file=cand.file, row=cand.row,
                    reason=reason, score=score))
        for pair in resolution.review:
            a, b = candidates[pair.a].company, candidates[pair.b].company
            self.report.review.append(ReviewPair(a_id=a.id, a_name=a.name, b_id=b.id,
                                                 b_name=b.name, reason=pair.reason,
                                                 score=pair.score))
        for record in records:
            assert isinstance(record, Company)
            self.known[_K.COMPANY].add(record.id)
            self.absent[_K.COMPANY].discard(record.id)
            if record.inn:
                self.by_inn[record.inn] = record.id
            if record.ogrn:
                self.by_ogrn[record.ogrn] = record.id
        self._write(records)

    def _company_ref(self, data: dict[str, Any], name: str) -> tuple[str, str] | None:
        """Rewrite one company reference in ``data`` to a company id; a problem or None."""
        base = name.removesuffix("_id")
        inn = data.pop(f"{base}_inn", None)
        ogrn = data.pop(f"{base}_ogrn", None)
        value = data.get(name)
        if value is not None:
            text = normalize_digits(value) if not isinstance(value, str) else value
            data[name] = self._company_target(text)
            return None
        for number, label in ((inn, "INN"), (ogrn, "OGRN")):
            if number is None:
                continue
            digits = normalize_digits(number)
            found = self._by_number(digits)
            if found is None:
                column = f"{base}_inn" if label == "INN" else f"{base}_ogrn"
                return column, f"no company with {label} {digits} in this load or the store"
            data[name] = found
            return None
        return None

    def _company_target(self, text: str) -> str:
        """The id a company reference names: a merged-away id's survivor, or by INN/OGRN."""
        target = self.alias.get(text, text)
        if (target not in self.known[_K.COMPANY] and text.isdigit()
                and len(text) in (10, 12, 13, 15)):
            found = self._by_number(text)
            if found is not None:
                target = found
        return target

    def _company_column(self, column: list[Any]) -> list[Any]:
        """:meth:`_company_target` over a column, looking only at its distinct odd values."""
        distinct = set(column)
        odd = distinct - self.known[_K.COMPANY]
        if self.alias:
            odd |= distinct & self.alias.keys()
        mapping = {}
        for text in odd:
            if isinstance(text, str):
                target = self._company_target(text)
                if target != text:
                    mapping[text] = target
        if not mapping:
            return column
        return [mapping.get(v, v) for v in column]

    def _by_number(self, digits: str) -> str | None:
        if digits not in self.by_inn and digits not in self.by_ogrn:
            self._store_company_list()
        return self.by_inn.get(digits) or self.by_ogrn.get(digits)

    # ---- categories ----

    def _category_index(self) -> CategoryIndex:
        if self._categories is None:
            index = CategoryIndex([])
            for record in self.store.iter_all(_K.CATEGORY, page_size=MAX_PAGE):
                assert isinstance(record, Category)
                index.add(record.code, record.name_ru, record.name_en, record.synonyms)
                self.known[_K.CATEGORY].add(record.code)
            self._categories = index
        return self._categories

    def _category_nodes(self, jobs: list[_Job]) -> None:
        rows: list[tuple[_Job, int, list[Any], Category]] = []
        for job in jobs:
            started = time.perf_counter()
            self.bar.start(job.name)
            convert = RowConverter(job.columns)
            for row, values in job.table.rows():
                job.summary.read += 1
                data = convert(values)
                data["source"], data["row"] = job.table.path.name, row
                record, errors = validate_row(Category, _K.CATEGORY, data)
                if record is None:
                    self._reject(job, row, values, errors,
                                 (_K.CATEGORY, str(data.get("code", ""))))
                    continue
                assert isinstance(record, Category)
                rows.append((job, row, values, record))
            self.bar.advance(job.summary.read)
            self.bar.done()
            job.summary.seconds += time.perf_counter() - started
        index = self._category_index()
        stored_parent = self._stored_category_parents()
        # duplicates: identical rows fold, conflicting ones are rejected
        unique: dict[str, tuple[_Job, int, list[Any], Category]] = {}
        for item in rows:
            job, row, values, record = item
            first = unique.get(record.code)
            if first is None:
                unique[record.code] = item
            elif _record_fingerprint(first[3]) == _record_fingerprint(record):
                job.summary.merged += 1
            else:
                self._reject(job, row, values, [("code", _conflict(first, record))])
        # parents and processes must exist; rejecting one may orphan others
        alive = dict(unique)
        changed = True
        while changed:
            changed = False
            for code, (job, row, values, record) in list(alive.items()):
                problems: Problems = []
                if record.parent and record.parent not in alive \
                        and record.parent not in stored_parent:
                    note = self._rejected_note(_K.CATEGORY, record.parent)
                    problems.append(("parent", f"unknown parent category {record.parent!r}{note}"))
                missing = self._missing(_K.PROCESS, set(record.processes))
                for process in record.processes:
                    if process in missing:
                        problems.append(("processes", f"unknown process {process!r}"))
                if problems:
                    self._reject(job, row, values, problems, (_K.CATEGORY, code))
                    del alive[code]
                    changed = True
        # the taxonomy must stay a tree: refuse a parent that closes a loop
        parents = dict(stored_parent)
        ordered: list[Record] = []
        for code, (job, row, values, record) in list(alive.items()):
            loop = _parent_loop(code, record.parent, parents)
            if loop:
                self._reject(job, row, values, [(
                    "parent", "parent makes a cycle in the category tree: " + " → ".join(loop))],
                    (_K.CATEGORY, code))
                del alive[code]
                continue
            parents[code] = record.parent
        for code in _parents_first(alive, lambda c: alive[c][3].parent):
            job, _row, _values, record = alive[code]
            ordered.append(record)
            job.summary.loaded += 1
            index.add(record.code, record.name_ru, record.name_en, record.synonyms)
            self.known[_K.CATEGORY].add(code)
            self.absent[_K.CATEGORY].discard(code)
        self._write(ordered)

    def _stored_category_parents(self) -> dict[str, str | None]:
        parents: dict[str, str | None] = {}
        for record in self.store.iter_all(_K.CATEGORY, page_size=MAX_PAGE):
            assert isinstance(record, Category)
            parents[record.code] = record.parent
        return parents

    def _map_category(self, job: _Job, row: int, data: dict[str, Any]) -> tuple[str, str] | None:
        text = data.pop("description", None)
        if "category" in data or text is None:
            return None
        match = self._category_index().match(str(text))
        if match.code is None or match.confidence < ACCEPT_AT:
            return ("description",
                    f"cannot map {str(text)!r} to a category (best guesses: {match.guesses()})")
        data["category"] = match.code
        if match.confidence < SURE_AT:
            self.report.low_confidence.append(CategoryMapping(
                file=job.name, row=row, text=str(text), category=match.code,
                confidence=match.confidence, alternatives=list(match.alternatives)))
        return None

    # ---- references ----

    def _missing(self, kind: EntityKind, keys: set[str]) -> set[str]:
        """Of ``keys``, those neither loaded now nor in the store."""
        unknown = keys - self.known[kind]
        ask = unknown - self.absent[kind]
        if ask:
            missing = self.store._missing_nodes({kind: set(ask)}).get(kind, set())
            self.known[kind] |= ask - missing
            self.absent[kind] |= missing
        return unknown & self.absent[kind]

    def _rejected_note(self, kind: EntityKind, key: str) -> str:
        where = self.rejected_keys[kind].get(key)
        return f" (its own row, {where}, was rejected)" if where else ""

    def _check_refs(self, kind: EntityKind, batch: list[dict[str, Any]]
                    ) -> tuple[dict[int, Problems], list[int]]:
        """Problems of references to nodes that exist nowhere, by position in ``batch``.

        The distinct keys each reference field names are checked as sets, a chunk at
        a time; only the rows that name a missing key are looked at one by one. A
        category named by its name instead of its code is rewritten to the code;
        the positions of the rows rewritten so come second.
        """
        refs = _reference_fields(kind)
        wanted: dict[EntityKind, set[str]] = defaultdict(set)
        for name, target, is_list in refs:
            if target is None:  # a BOM line's parent: a product or a category
                for props in batch:
                    parent_kind = _K.CATEGORY if props.get("parent_kind") == "category" \
                        else _K.PRODUCT
                    wanted[parent_kind].add(props[name])
            elif is_list:
                for props in batch:
                    wanted[target].update(props.get(name) or ())
            elif KINDS[kind].is_node:  # an optional field
                wanted[target].update([props[name] for props in batch if name in props])
            else:  # a relationship's end: always there
                wanted[target].update(map(itemgetter(name), batch))
        missing = {target: found for target, keys in wanted.items()
                   if (found := self._missing(target, keys))}
        renamed: list[int] = []
        if not missing:
            return {}, renamed
        if missing.get(_K.CATEGORY):  # a category named by its name instead of its code
            index = self._category_index()
            absent = missing[_K.CATEGORY]
            for name, target, is_list in refs:
                if target is not _K.CATEGORY or is_list:
                    continue
                for i, props in enumerate(batch):
                    key = props.get(name)
                    if key in absent:
                        code = index.by_name(key)
                        if code is not None and code in self.known[_K.CATEGORY]:
                            props[name] = code
                            renamed.append(i)
        problems: dict[int, Problems] = {}
        for i, props in enumerate(batch):
            for name, target, is_list in refs:
                value = props.get(name)
                if value is None:
                    continue
                if target is None:
                    target = _K.CATEGORY if props.get("parent_kind") == "category" \
                        else _K.PRODUCT
                gone = missing.get(target)
                if not gone:
                    continue
                for key in value if is_list else (value,):
                    if key in gone and key not in self.known[target]:
                        label = "bill-of-materials parent " + target.value \
                            if kind is _K.BOM_LINE and name == "parent" else target.value
                        problems.setdefault(i, []).append(
                            (name, f"unknown {label} {key!r}{self._rejected_note(target, key)}"))
        return problems, renamed

    # ---- BOM cycles ----

    def _bom_graph(self) -> dict[str, set[str]]:
        if self._bom is None:
            graph: dict[str, set[str]] = defaultdict(set)
            for record in self.store.iter_all(_K.BOM_LINE, page_size=MAX_PAGE):
                assert isinstance(record, BomLine)
                if record.parent_kind == "category":
                    graph[record.parent].add(record.child)
            self._bom = graph
        return self._bom

    def _bom_cycle(self, line: dict[str, Any]) -> list[str] | None:
        """The cycle a BOM line would close (parent … parent), or None; adds it when none."""
        if line.get("parent_kind") != "category":
            return None
        graph = self._bom_graph()
        path = _path(graph, line["child"], line["parent"])
        if path is not None:
            return [line["parent"], *path]
        graph[line["parent"]].add(line["child"])
        return None

    # ---- streaming kinds ----

    def _stream(self, job: _Job) -> None:
        """Load one table of a non-company, non-category kind, chunk by chunk.

        Each chunk is converted and validated column by column
        (:class:`~ingest.validate.FastRows`); rows the fast path is unsure of, and
        every row of a table with free-text or INN columns, go through
        :meth:`_validate_row` (pydantic, with readable reasons). Then references,
        duplicates and BOM cycles are checked for the chunk, and it is written.
        """
        kind = job.kind
        fast = FastRows.for_columns(job.columns)
        convert = RowConverter(job.columns)
        source = job.table.path.name
        wants_text = "description" in job.columns.present
        fields = record_fields(kind)
        self.bar.start(job.name)
        for chunk in job.table.chunks(CHUNK):
            started = time.perf_counter()
            job.summary.read += len(chunk)
            rows, cells = zip(*chunk, strict=True)
            if fast is not None:
                columns = fast.parse(cells, self.canon)
                for name in job.fmt.company_refs:
                    if name in columns:
                        columns[name] = self._company_column(columns[name])
                built, prints = fast.assemble(columns, source, rows)
            else:
                built, prints = [None] * len(chunk), None
            if prints is None:
                prints = [0] * len(chunk)
                recompute = list(range(len(chunk)))
            else:
                recompute = []
            if None in built:
                for i in [i for i, props in enumerate(built) if props is None]:
                    built[i] = self._validate_row(job, convert, rows[i], cells[i], source,
                                                  wants_text)
                    recompute.append(i)
            for i in recompute:
                props = built[i]
                if props is not None:
                    prints[i] = row_print(props, fields)
            valid = [props for props in built if props is not None]
            if len(valid) < len(built):
                prints = [p for p, props in zip(prints, built, strict=True) if props is not None]
            records = self._accept(job, valid, prints, chunk)
            if records:
                self._write_rows(kind, records)
            job.summary.loaded += len(records)
            spec = KINDS[kind]
            if spec.is_node:
                field_name = spec.key_fields[0]
                self.known[kind].update([props[field_name] for props in records])
            job.summary.seconds += time.perf_counter() - started
            self.bar.advance(len(chunk))
        started = time.perf_counter()
        self.writer.flush()  # a table's time includes its writes
        job.summary.seconds += time.perf_counter() - started
        self.bar.done()

    def _validate_row(self, job: _Job, convert: RowConverter, row: int, values: list[Any],
                      source: str, wants_text: bool) -> dict[str, Any] | None:
        """One row through pydantic: its stored properties, or None (rejected, reasons kept)."""
        kind = job.kind
        data = convert(values)
        problems: Problems = []
        blocked: set[str] = set()  # fields whose problem is already told
        for name in job.fmt.company_refs:
            problem = self._company_ref(data, name)
            if problem is not None:
                problems.append(problem)
                blocked.add(name)
        if wants_text:
            problem = self._map_category(job, row, data)
            if problem is not None:
                problems.append(problem)
                blocked.add("category")
        data["source"] = source
        data["row"] = row
        record, errors = validate_row(KINDS[kind].model, kind, data)
        if errors:
            problems.extend(e for e in errors if e[0] not in blocked)
        if problems or record is None:
            self._reject(job, row, values, problems, self._node_key(kind, data))
            return None
        return to_props(record)

    def _accept(self, job: _Job, valid: list[dict[str, Any]], prints: list[int],
                chunk: list[tuple[int, list[Any]]]) -> list[dict[str, Any]]:
        """The rows of a chunk that pass the reference, duplicate and BOM-cycle checks.

        ``prints`` holds each row's :func:`~ingest.validate.row_print`.
        """
        kind = job.kind
        spec = KINDS[kind]
        values_of: dict[int, list[Any]] | None = None
        problems, renamed = self._check_refs(kind, valid)
        if renamed:  # a category named by its name now holds its code: print it again
            fields = record_fields(kind)
            for i in renamed:
                prints[i] = row_print(valid[i], fields)
        if problems:
            values_of = dict(chunk)
            kept, kept_prints = [], []
            for i, props in enumerate(valid):
                missing = problems.get(i)
                if missing:
                    self._reject(job, props["row"], values_of[props["row"]], missing,
                                 self._node_key(kind, props))
                else:
                    kept.append(props)
                    kept_prints.append(prints[i])
            valid, prints = kept, kept_prints
        # Duplicates: the key's hash → the first row's print (its values, without
        # provenance) packed with where it was, so a million rows cost one int each.
        keys = list(map(hash, row_keys(spec, valid)))
        base = job.index << 32
        entries = [((fp & _MASK64) << 48) | base | row
                   for fp, row in zip(prints, map(itemgetter("row"), valid), strict=True)]
        seen = self.seen[kind]
        if kind is not _K.BOM_LINE:
            fresh = dict(zip(keys, entries, strict=True))
            if len(fresh) == len(keys) and seen.keys().isdisjoint(fresh.keys()):
                seen.update(fresh)  # the usual case: no duplicate anywhere
                return valid
        records: list[dict[str, Any]] = []
        for key, entry, props in zip(keys, entries, valid, strict=True):
            earlier = seen.get(key)
            if earlier is not None:
                if earlier >> 48 == entry >> 48:
                    job.summary.merged += 1
                else:
                    first = self.jobs[(earlier >> 32) & 0xFFFF]
                    if values_of is None:
                        values_of = dict(chunk)
                    self._reject(job, props["row"], values_of[props["row"]], [(
                        spec.key_fields[-1],
                        f"conflicts with row {earlier & 0xFFFFFFFF} of {first.name}: same "
                        f"{', '.join(spec.key_fields)} but different values")])
                continue
            if kind is _K.BOM_LINE:
                cycle = self._bom_cycle(props)
                if cycle is not None:
                    if values_of is None:
                        values_of = dict(chunk)
                    self._reject(job, props["row"], values_of[props["row"]], [(
                        "child", "closes a cycle in the bill of materials: "
                                 + " → ".join(cycle))])
                    continue
            seen[key] = entry
            records.append(props)
        return records

    @staticmethod
    def _node_key(kind: EntityKind, data: dict[str, Any]) -> tuple[EntityKind, str] | None:
        spec = KINDS[kind]
        if not spec.is_node:
            return None
        return kind, str(data.get(spec.key_fields[0], ""))


# --- small pure helpers --------------------------------------------------------------


def _in_process(store: GraphStore) -> bool:
    """True when the store keeps its data in this process (the embedded store)."""
    return getattr(store, "kind", "") == "embedded"

_MASK64 = (1 << 64) - 1


def _reference_fields(kind: EntityKind) -> list[tuple[str, EntityKind | None, bool]]:
    """The fields of ``kind`` that name nodes: (field, node kind, is a list).

    Read from :data:`graph.schema.REFERENCES`, the declaration the stores check
    on every upsert, so a load checks exactly the same references. The node kind
    is None for a BOM line's parent (a product or a category, by
    ``parent_kind``). Relationship ends come first, as the reasons list them.
    """
    by_field: dict[str, list[Reference]] = {}
    for ref in references_from(kind):
        by_field.setdefault(ref.field, []).append(ref)
    return [(name, refs[0].target if len(refs) == 1 else None, refs[0].many)
            for name, refs in by_field.items()]


def _is_list_field(kind: EntityKind, name: str) -> bool:
    annotation = KINDS[kind].model.model_fields[name].annotation
    return getattr(annotation, "__origin__", None) is list


def _company_of(props: dict[str, Any]) -> Company:
    """A Company from properties the fast path has checked (pydantic would accept them)."""
    if "roles" in props:
        props = {**props, "roles": [Role(r) for r in props["roles"]]}
    return Company.model_construct(**props)


def _record_fingerprint(record: Record) -> int:
    """A hash of a record's values without provenance (equal records, equal prints)."""
    return hash(tuple(
        tuple(v) if isinstance(v, list) else v
        for k, v in record.__dict__.items() if k not in PROVENANCE_FIELDS))


def _conflict(first: tuple[_Job, int, list[Any], Record], record: Record) -> str:
    job, row, _values, earlier = first
    differ = [k for k, v in record.__dict__.items()
              if k not in PROVENANCE_FIELDS and earlier.__dict__.get(k) != v]
    return (f"conflicts with row {row} of {job.name}: same key but different "
            + ", ".join(differ))


def _path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A path start … goal in ``graph`` (iterative DFS), or None."""
    if start == goal:
        return [start]
    previous: dict[str, str] = {}
    stack = [start]
    visited = {start}
    while stack:
        node = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt in visited:
                continue
            previous[nxt] = node
            if nxt == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            visited.add(nxt)
            stack.append(nxt)
    return None


def _parent_loop(code: str, parent: str | None, parents: dict[str, str | None]) -> list[str]:
    """The loop ``code → parent → …  → code`` if setting this parent closes one."""
    chain = [code]
    current = parent
    seen = {code}
    while current is not None:
        chain.append(current)
        if current == code:
            return chain
        if current in seen:
            return []
        seen.add(current)
        current = parents.get(current)
    return []


def _parents_first(codes: Iterable[str], parent_of: Any) -> list[str]:
    """Codes ordered so that every parent in the set comes before its children."""
    pending = list(codes)
    present = set(pending)
    placed: set[str] = set()
    order: list[str] = []

    def place(code: str) -> None:
        chain = []
        while code in present and code not in placed:
            chain.append(code)
            placed.add(code)
            parent = parent_of(code)
            if parent is None:
                break
            code = parent
        order.extend(reversed(chain))

    for code in pending:
        place(code)
    return order
