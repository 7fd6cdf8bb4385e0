"""Loading categories: the taxonomy's nodes (parents first, no loops, no dangling
parents or processes), and mapping free-text capability descriptions to categories."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from coopgraph.graph.messages import Msg
from coopgraph.graph.models import Category, Record
from coopgraph.graph.schema import PROVENANCE_FIELDS, EntityKind
from coopgraph.graph.store import MAX_PAGE
from coopgraph.ingest.categorize import ACCEPT_AT, SURE_AT, CategoryIndex
from coopgraph.ingest.load_state import Job, LoadState, Problems
from coopgraph.ingest.report import CategoryMapping
from coopgraph.ingest.validate import RowConverter, validate_row

__all__ = ["CategoryLoading"]

_K = EntityKind


class CategoryLoading(LoadState):
    """The category part of a load."""

    def _category_index(self) -> CategoryIndex:
        if self._categories is None:
            index = CategoryIndex([])
            for record in self.store.iter_all(_K.CATEGORY, page_size=MAX_PAGE):
                assert isinstance(record, Category)
                index.add(record.code, record.name_ru, record.name_en, record.synonyms)
                self.known[_K.CATEGORY].add(record.code)
            self._categories = index
        return self._categories

    def _category_nodes(self, jobs: list[Job]) -> None:
        rows: list[tuple[Job, int, list[Any], Category]] = []
        for job in jobs:
            started = time.perf_counter()
            self.bar.start(job.name)
            convert = RowConverter(job.columns)
            for row, values in (r for chunk in self._chunks(job) for r in chunk):
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
        unique: dict[str, tuple[Job, int, list[Any], Category]] = {}
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
                    problems.append(("parent", Msg("ref.parent_category", key=record.parent,
                                                     note=note)))
                missing = self._missing(_K.PROCESS, set(record.processes))
                for process in record.processes:
                    if process in missing:
                        problems.append(("processes", Msg("ref.process", key=process)))
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
                    "parent", Msg("cat.cycle", path=" → ".join(loop)))],
                    (_K.CATEGORY, code))
                del alive[code]
                continue
            parents[code] = record.parent
        order = _parents_first(alive, lambda c: alive[c][3].parent)
        same = dict(zip(order, self._same_records([alive[c][3] for c in order]), strict=True))
        for code in order:
            job, _row, _values, record = alive[code]
            ordered.append(record)
            if same[code]:
                job.summary.unchanged += 1
            else:
                job.summary.loaded += 1
            index.add(record.code, record.name_ru, record.name_en, record.synonyms)
            self.known[_K.CATEGORY].add(code)
            self.absent[_K.CATEGORY].discard(code)
        self._write(ordered, [same[code] for code in order])

    def _stored_category_parents(self) -> dict[str, str | None]:
        parents: dict[str, str | None] = {}
        for record in self.store.iter_all(_K.CATEGORY, page_size=MAX_PAGE):
            assert isinstance(record, Category)
            parents[record.code] = record.parent
        return parents

    def _map_category(self, job: Job, row: int, data: dict[str, Any]) -> tuple[str, str] | None:
        text = data.pop("description", None)
        if "category" in data or text is None:
            return None
        match = self._category_index().match(str(text))
        if match.code is None or match.confidence < ACCEPT_AT:
            return ("description",
                    Msg("cat.unmapped", text=str(text), guesses=match.guesses()))
        data["category"] = match.code
        if match.confidence < SURE_AT:
            self.report.low_confidence.append(CategoryMapping(
                file=job.name, row=row, text=str(text), category=match.code,
                confidence=match.confidence, alternatives=list(match.alternatives)))
        return None


def _record_fingerprint(record: Record) -> int:
    """A hash of a record's values without provenance (equal records, equal prints)."""
    return hash(tuple(
        tuple(v) if isinstance(v, list) else v
        for k, v in record.__dict__.items() if k not in PROVENANCE_FIELDS))


def _conflict(first: tuple[Job, int, list[Any], Record], record: Record) -> str:
    job, row, _values, earlier = first
    differ = [k for k, v in record.__dict__.items()
              if k not in PROVENANCE_FIELDS and earlier.__dict__.get(k) != v]
    return Msg("dup.category", row=row, file=job.name, fields=", ".join(differ))


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
