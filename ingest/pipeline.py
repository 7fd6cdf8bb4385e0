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
4. stages the valid rows in one store load (:meth:`GraphStore.load`) chunk by
   chunk, stamped with provenance (file, row; the store adds the time) — on a
   background thread, in order, when the store is a server, so that validation
   and writing overlap (:mod:`ingest.writer`); the load commits when every table
   is done, so the store shows all of an ingest or none of it.

With the embedded store and enough rows, a worker process reads ahead on the second
core (:mod:`ingest.prefetch`): it normalises the company names, then reads and parses
the streamed tables while this process resolves companies; step 3 then starts from its
parsed columns. The report is the same either way.

Performance notes (``bench/ingest.py``, BENCHMARKS.md): repeated cell values are
shared objects (``_Load.canon``), duplicate detection keeps one int per row for
the kind being loaded, and the cyclic garbage collector is off during the load
and never rescans what a large load allocated (``gc.freeze``).

Loading the same files twice changes no counts: keys are stable (company ids
derived from INN when missing), and the same merges happen again.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from coopgraph.graph.errors import IngestError
from coopgraph.graph.i18n import Lang
from coopgraph.graph.messages import Msg, render
from coopgraph.graph.models import BomLine
from coopgraph.graph.regions import canonical_region
from coopgraph.graph.schema import KINDS, EntityKind, Reference, references_from, to_props
from coopgraph.graph.store import MAX_PAGE, GraphStore, row_keys
from coopgraph.ingest.formats import LOAD_ORDER, detect_format
from coopgraph.ingest.load_categories import CategoryLoading
from coopgraph.ingest.load_companies import CompanyLoading
from coopgraph.ingest.load_state import CHUNK, Job, Problems
from coopgraph.ingest.prefetch import Lost, Prefetch
from coopgraph.ingest.progress import progress_bar
from coopgraph.ingest.readers import expand_paths, open_tables
from coopgraph.ingest.report import (
    Coded,
    FileSummary,
    IngestReport,
    coded,
    write_rejects,
    write_report,
)
from coopgraph.ingest.validate import FastRows, RowConverter, record_fields, row_print, validate_row
from coopgraph.ingest.writer import Writer as _Writer  # noqa: F401 - tests import it from here
from coopgraph.ingest.writer import in_process

__all__ = ["CHUNK", "ingest_paths", "plan_tables"]

_FREEZE_AT = 100_000  # rows; see ingest_paths
_K = EntityKind


def plan_tables(paths: Sequence[str | Path] | str | Path) -> tuple[list[Job], list[str]]:
    """Open every file and recognise each table; jobs in load order, plus warnings.

    Raises
    ------
    IngestError
        A path is missing or unreadable, or a file has no table of a known format.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = expand_paths(list(paths))
    jobs: list[Job] = []
    warnings: list[str] = []
    for path in files:
        tables = open_tables(path)
        matched = 0
        for table in tables:
            fmt = detect_format(table.headers, table.kind_hint or table.hint)
            if fmt is None:
                if len(tables) > 1:
                    warnings.append(Msg("h.no_format", file=table.name))
                    continue
                shown = ", ".join(repr(h) for h in table.headers[:12])
                raise IngestError(Msg("h.no_known", file=table.name, shown=shown))
            columns = fmt.map_columns(table.headers)
            for header, name in columns.guessed.items():
                warnings.append(Msg("h.guessed", file=table.name, header=header, field=name))
            if columns.unknown:
                warnings.append(Msg("h.unknown", file=table.name, columns=[
                    Msg("h.unknown_hint", header=h, hint=columns.suggestions[h])
                    if h in columns.suggestions else Msg("h.unknown_one", header=h)
                    for h in columns.unknown]))
            summary = FileSummary(file=table.name, kind=fmt.kind.value,
                                  encoding=table.encoding, delimiter=table.delimiter)
            jobs.append(Job(len(jobs), table, fmt, columns, summary))
            matched += 1
        if not matched:
            raise IngestError(Msg("h.no_sheet", file=path.name))
    jobs.sort(key=lambda j: (LOAD_ORDER.index(j.kind), j.index))
    for position, job in enumerate(jobs):
        job.index = position
    return jobs, warnings


def ingest_paths(store: GraphStore, paths: Sequence[str | Path] | str | Path, *,
                 rejects_dir: str | Path | None = None, progress: bool = False,
                 load_id: str | None = None, lang: Lang = "en") -> IngestReport:
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
    load_id
        The id of the store load (:meth:`GraphStore.load`); a new one when ``None``.
    lang
        The language of the report's reasons and warnings, of ``report.md`` and the
        rejects files; every one also keeps its code and parameters
        (:mod:`graph.messages`), so :meth:`IngestReport.localized` says it in the other.

    Returns
    -------
    IngestReport
        Per-file counts, every reject, merge, review pair and low-confidence mapping.

    Raises
    ------
    IngestError
        The input is unusable (missing, unreadable, unknown format); nothing was written.

    Notes
    -----
    The load is atomic: everything it writes goes through one ``store.load()``, so
    the store shows all of it once it returns and none of it if it raises or the
    process dies first (an interrupted load is rolled back, or completed, at the
    store's next start-up or load, and named in the report's warnings).
    """
    started = time.perf_counter()
    jobs, warnings = plan_tables(paths)
    report = IngestReport(files=[j.summary for j in jobs], lang=lang,
                          warnings=[render(w, lang) for w in warnings],
                          warning_codes=[Coded(**coded(w)) for w in warnings])
    # A bulk load into the embedded store allocates millions of long-lived objects;
    # the cyclic collector would rescan them over and over (a third of the time).
    # Nothing here makes cycles — but a server's driver does, per transaction, and
    # they would hold every batch's parameters: the collector stays on for those.
    collecting = gc.isenabled() and in_process(store)
    # The other kinds' tables read and parsed on the second core while the companies
    # are resolved (ingest.prefetch); the embedded store only: a server's writes
    # already overlap on a thread of their own.
    named = [paths] if isinstance(paths, (str, Path)) else list(paths)
    prefetch = Prefetch.start(named, jobs, CHUNK) if in_process(store) else None
    if collecting:
        gc.disable()
    try:
        with progress_bar(progress, lang) as bar, store.load(load_id) as target:
            report.load_id = target.id
            recovered = [r.message() for r in target.recovered]
            report.warnings[:0] = [render(m, lang) for m in recovered]
            report.warning_codes[:0] = [Coded(**coded(m)) for m in recovered]  # in step
            load = _Load(store, target, report, bar)
            load.prefetch = prefetch
            try:
                load.run(jobs)
            except BaseException:
                load.writer.close(raise_error=False)
                raise
            load.writer.close()  # waits for the last writes; raises a failed one
        # leaving store.load() committed everything at once
    finally:
        if prefetch is not None:
            prefetch.close()
        if collecting:
            if report.total("read") >= _FREEZE_AT:
                # Leave what the load allocated (millions of acyclic dicts, now the
                # store's) out of future collections: the first one after enable()
                # would otherwise walk all of it, and every full collection after it.
                gc.freeze()
            gc.enable()
    report.seconds = time.perf_counter() - started
    report.set_lang(lang)  # merge and review notes, warnings added while loading
    if rejects_dir is not None:
        directory = Path(rejects_dir)
        report.rejects_dir = str(directory)
        for job in jobs:
            if job.rejected:
                delimiter = job.table.delimiter or ","
                path = write_rejects(directory, job.name, job.columns.headers, job.rejected,
                                     delimiter, lang)
                report.report_files.append(str(path))
        report.report_files[:0] = [str(p) for p in write_report(directory, report)]
        write_report(directory, report)  # again, now listing the rejects files too
    return report


# --- the load ----------------------------------------------------------------------


class _Load(CompanyLoading, CategoryLoading):
    """One ingest: its driver, reference checks, BOM cycles and the streamed kinds.

    Companies and categories are loaded by the parts it inherits
    (:mod:`ingest.load_companies`, :mod:`ingest.load_categories`); the state they
    share is :class:`~ingest.load_state.LoadState`.
    """

    # ---- driver ----

    def run(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        by_kind: dict[EntityKind, list[Job]] = defaultdict(list)
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
        return Msg("ref.rejected_note", row=where[0], file=where[1]) if where else ""

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
            elif KINDS[kind].is_node or not KINDS[kind].model.model_fields[name].is_required():
                # an optional field (a tie's category)
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
                        code = "ref.bom_parent" if kind is _K.BOM_LINE and name == "parent" \
                            else "ref.unknown"
                        problems.setdefault(i, []).append((name, Msg(
                            code, kind=target.value, key=key,
                            note=self._rejected_note(target, key))))
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

    def _stream(self, job: Job) -> None:
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
        for rows, cells, parsed in self._prepared(job, fast):
            started = time.perf_counter()
            job.summary.read += len(rows)
            if fast is not None:
                columns = parsed if parsed is not None else fast.parse(cells, self.canon)
                for name in job.fmt.company_refs:
                    if name in columns:
                        columns[name] = self._company_column(columns[name])
                built, prints = fast.assemble(columns, source, rows)
            else:
                built, prints = [None] * len(rows), None
            if prints is None:
                prints = [0] * len(rows)
                recompute = list(range(len(rows)))
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
            if "region" in job.columns.present:  # a cluster's region: the official name
                for props in valid:
                    if "region" in props:
                        props["region"] = canonical_region(props["region"]) or props["region"]
            if len(valid) < len(built):
                prints = [p for p, props in zip(prints, built, strict=True) if props is not None]
            records = self._accept(job, valid, prints, rows, cells)
            unchanged = self._same_as_stored(kind, records)
            if records:
                self._write_rows(kind, records, unchanged)
            same = sum(unchanged)
            job.summary.unchanged += same
            job.summary.loaded += len(records) - same
            spec = KINDS[kind]
            if spec.is_node:
                field_name = spec.key_fields[0]
                self.known[kind].update([props[field_name] for props in records])
            job.summary.seconds += time.perf_counter() - started
            self.bar.advance(len(rows))
        self.streamed += 1
        started = time.perf_counter()
        self.writer.flush()  # a table's time includes its writes
        job.summary.seconds += time.perf_counter() - started
        self.bar.done()

    def _prepared(self, job: Job, fast: FastRows | None
                  ) -> Iterator[tuple[Sequence[int], Sequence[list[Any]],
                                      dict[str, list[Any]] | None]]:
        """The table's well-formed rows chunk by chunk: (record numbers, cells, the
        cells parsed by ``fast`` or None when not parsed yet).

        From the prefetch worker (:mod:`ingest.prefetch`) when there is one — its
        columns get this load's shared values here, as :meth:`FastRows.parse` would
        give them — else, and after the worker stopped, read here.
        """
        given = 0  # chunks the worker sent
        if self.prefetch is not None:
            try:
                for chunk in self.prefetch.take(self.streamed):
                    given += 1
                    for row, values, reason in chunk.malformed:
                        self._malformed(job, row, values, reason)
                    if not chunk.rows:
                        continue
                    if fast is not None and chunk.columns is not None:
                        fast.share(chunk.columns, self.canon)
                    yield chunk.rows, chunk.cells, chunk.columns
                return
            except Lost:
                self.prefetch = None  # read here from now on
        for raw in islice(job.table.chunks(CHUNK), given, None):
            good = self._well_formed(job, raw)
            if good:
                rows, cells = zip(*good, strict=True)
                yield rows, cells, None

    def _validate_row(self, job: Job, convert: RowConverter, row: int, values: list[Any],
                      source: str, wants_text: bool) -> dict[str, Any] | None:
        """One row through pydantic: its stored properties, or None (rejected, reasons kept)."""
        kind = job.kind
        data = convert(values)
        problems: Problems = list(convert.problems)  # cells that could not be read (dates)
        blocked: set[str] = {name for name, _reason in problems}  # problems already told
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

    def _accept(self, job: Job, valid: list[dict[str, Any]], prints: list[int],
                rows: Sequence[int], cells: Sequence[list[Any]]) -> list[dict[str, Any]]:
        """The rows of a chunk that pass the reference, duplicate and BOM-cycle checks.

        ``prints`` holds each row's :func:`~ingest.validate.row_print`; ``rows`` and
        ``cells`` are the chunk's record numbers and cells (for rejects).
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
            values_of = dict(zip(rows, cells, strict=True))
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
                        values_of = dict(zip(rows, cells, strict=True))
                    self._reject(job, props["row"], values_of[props["row"]], [(
                        spec.key_fields[-1],
                        Msg("dup.conflict", row=earlier & 0xFFFFFFFF, file=first.name,
                            keys=", ".join(spec.key_fields)))])
                continue
            if kind is _K.BOM_LINE:
                cycle = self._bom_cycle(props)
                if cycle is not None:
                    if values_of is None:
                        values_of = dict(zip(rows, cells, strict=True))
                    self._reject(job, props["row"], values_of[props["row"]], [(
                        "child", Msg("bom.cycle", path=" → ".join(cycle)))])
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

