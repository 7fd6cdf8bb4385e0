"""Loading companies: all company tables read as one set, resolved against each
other and the store (:mod:`ingest.resolve`), merged, then staged; and rewriting the
company references of other tables (merged ids, INN/OGRN → id)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from coopgraph.graph.ids import ascii_digits, normalize_digits
from coopgraph.graph.messages import Msg
from coopgraph.graph.models import Company, ErPair, Record, Role
from coopgraph.graph.schema import EntityKind, to_props
from coopgraph.graph.store import MAX_PAGE
from coopgraph.ingest.gazetteer import place_company
from coopgraph.ingest.load_state import Job, LoadState
from coopgraph.ingest.report import Merge, ReviewPair
from coopgraph.ingest.resolve import (
    Candidate,
    derive_company_id,
    merge_companies,
    normalize_name,
    resolve,
)
from coopgraph.ingest.review import decisions_of, list_pairs, pair_id
from coopgraph.ingest.validate import FastRows, RowConverter, validate_row

__all__ = ["CompanyLoading"]

_K = EntityKind
_NORMS_BATCH = 1_000  # names normalised here between looks at the prefetch worker's


@dataclass
class _Pending:
    """A company row read, not yet a :class:`~ingest.resolve.Candidate` (which
    normalises its name: done for all of them at once, after reading)."""

    company: Company
    file: str
    row: int
    # its stored form when the fast path built it and nothing changed it since (no
    # place filled in, no row of the same id folded in): what to_props would give again
    props: dict[str, Any] | None = None


class CompanyLoading(LoadState):
    """The company part of a load."""

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

    def _companies(self, jobs: list[Job]) -> None:
        incoming: list[_Pending] = []
        owners: list[Job] = []
        first_by_id: dict[str, int] = {}
        unknown_regions: dict[str, dict[str, int]] = {}  # file -> region as written -> row
        for job in jobs:
            started = time.perf_counter()
            self.bar.start(job.name)
            convert = RowConverter(job.columns)
            # The fast path needs an id column (without one, ids are derived row by row).
            fast = FastRows.for_columns(job.columns) if "id" in job.columns.present else None
            source = job.table.path.name
            for chunk in self._chunks(job):
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
                            data["id"] = derive_company_id(
                                inn, ogrn, data.get("name"), data.get("municipality"),
                                data.get("region"))
                        data["source"], data["row"] = source, row
                        record, problems = validate_row(Company, _K.COMPANY, data)
                        if record is None:
                            self._reject(job, row, values, problems,
                                         (_K.COMPANY, str(data["id"])))
                            continue
                    assert isinstance(record, Company)
                    placed, unknown = place_company(record)
                    if placed is not record:
                        record, props = placed, None
                    if unknown is not None:
                        unknown_regions.setdefault(job.name, {}).setdefault(unknown, row)
                    earlier = first_by_id.get(record.id)
                    if earlier is not None:
                        self._same_id(job, row, values, incoming, earlier, record)
                        continue
                    first_by_id[record.id] = len(incoming)
                    incoming.append(_Pending(record, file=job.name, row=row, props=props))
                    owners.append(job)
                self.bar.advance(len(chunk))
            job.summary.seconds += time.perf_counter() - started
            self.bar.done()
        for name, found in unknown_regions.items():
            shown = [Msg("h.region_one", region=r, row=row) for r, row in list(found.items())[:5]]
            listed: Msg | list[Msg] = shown if len(found) <= 5 else \
                Msg("h.region_more", shown=shown, more=len(found) - 5)
            self.report.warnings.append(Msg("h.region", file=name, shown=listed))
        started = time.perf_counter()
        norms = self._normalized_names([p.company.name for p in incoming])
        candidates = [Candidate(p.company, file=p.file, row=p.row,
                                norm=norms.get(p.company.name, "")) for p in incoming]
        self._resolve_companies(candidates, owners, [p.props for p in incoming])
        self.writer.flush()
        share = (time.perf_counter() - started) / len(jobs)
        for job in jobs:
            job.summary.seconds += share

    def _normalized_names(self, names: list[str]) -> dict[str, str]:
        """:func:`~ingest.resolve.normalize_name` of ``names``, by name — empty without a
        prefetch worker (each :class:`~ingest.resolve.Candidate` normalises its own).

        The worker (:mod:`ingest.prefetch`) normalises the company tables' names first
        to last; this process takes what it has sent and does the rest last to first,
        asking for the worker's news every :data:`_NORMS_BATCH` names, until they meet.
        """
        if self.prefetch is None:
            return {}
        norms = self.prefetch.norms()
        missing = [name for name in reversed(names) if name not in norms]
        for start in range(0, len(missing), _NORMS_BATCH):
            norms.update(self.prefetch.norms())
            for name in missing[start:start + _NORMS_BATCH]:
                if name not in norms:
                    norms[name] = normalize_name(name)
        self.prefetch.names_done()
        return norms

    def _same_id(self, job: Job, row: int, values: list[Any], incoming: list[_Pending],
                 earlier: int, record: Company) -> bool:
        """Fold a second row with an id already seen into the first; False if it conflicts."""
        first = incoming[earlier]
        if first.company.inn and record.inn and first.company.inn != record.inn:
            self._reject(job, row, values, [(
                "id", Msg("dup.company_inn", id=record.id, row=first.row, file=first.file,
                          inn=first.company.inn, other=record.inn))])
            return False
        merged = merge_companies([first.company, record])
        incoming[earlier] = _Pending(merged, file=first.file, row=first.row)
        job.summary.merged += 1
        self.report.merges.append(Merge(
            kept_id=first.company.id, kept_name=first.company.name, merged_id=record.id,
            merged_name=record.name, file=job.name, row=row,
            reason=Msg("er.same_row_id", id=record.id, row=first.row, file=first.file),
            score=100.0))
        return True

    def _resolve_companies(self, incoming: list[Candidate], owners: list[Job],
                           stored_forms: list[dict[str, Any] | None]) -> None:
        """Resolve ``incoming`` against each other and the store; write one company per
        group and the pairs merged or left for review. ``stored_forms``: per incoming
        company, its row as the fast path built it (:attr:`_Pending.props`), written as
        is when the company stays alone in its group."""
        ids = {c.company.id for c in incoming}
        stored = [Candidate(c, from_store=True) for c in self._store_company_list()
                  if c.id not in ids]
        candidates = stored + incoming
        offset = len(stored)
        pairs = {p.id: p for p in list_pairs(self.store, None)}
        resolution = resolve(candidates, decisions=decisions_of(pairs.values()))
        er_pairs: list[ErPair | None] = []
        why: dict[int, tuple[str, float]] = {}
        for edge in resolution.merges:
            why.setdefault(edge.b, (edge.reason, edge.score))
            why.setdefault(edge.a, (edge.reason, edge.score))
        records: list[Record] = []
        rows: list[dict[str, Any]] = []  # the records in stored form
        # (record index, job) of each record whose first row is incoming: loaded or unchanged
        firsts: list[tuple[int, Job]] = []
        for members in resolution.groups:
            if all(m < offset for m in members):
                continue
            rep = candidates[members[0]].company
            merged = merge_companies([candidates[m].company for m in members])
            records.append(merged)
            alone = stored_forms[members[0] - offset] if len(members) == 1 else None
            rows.append(alone if alone is not None else to_props(merged))
            for m in members:
                if m < offset:
                    continue
                job = owners[m - offset]
                cand = candidates[m]
                if m == members[0]:
                    firsts.append((len(records) - 1, job))
                    continue
                job.summary.merged += 1
                if cand.company.id != rep.id:
                    self.alias[cand.company.id] = rep.id
                reason, score = why.get(m, ("same company", 100.0))
                self.report.merges.append(Merge(
                    kept_id=rep.id, kept_name=rep.name, merged_id=cand.company.id,
                    merged_name=cand.company.name, file=cand.file, row=cand.row,
                    reason=reason, score=score))
                if cand.company.id != rep.id:
                    er_pairs.append(_er_pair(pairs, rep, cand.company, "merged", reason, score,
                                             cand.file, cand.row))
        for pair in resolution.review:
            a, b = candidates[pair.a].company, candidates[pair.b].company
            self.report.review.append(ReviewPair(a_id=a.id, a_name=a.name, b_id=b.id,
                                                 b_name=b.name, reason=pair.reason,
                                                 score=pair.score))
            er_pairs.append(_er_pair(pairs, a, b, "review", pair.reason, pair.score,
                                     candidates[pair.b].file, candidates[pair.b].row))
        same = self._same_as_stored(_K.COMPANY, rows)
        for index, job in firsts:
            if same[index]:
                job.summary.unchanged += 1
            else:
                job.summary.loaded += 1
        for record in records:
            assert isinstance(record, Company)
            self.known[_K.COMPANY].add(record.id)
            self.absent[_K.COMPANY].discard(record.id)
            if record.inn:
                self.by_inn[record.inn] = record.id
            if record.ogrn:
                self.by_ogrn[record.ogrn] = record.id
        self._write_rows(_K.COMPANY, rows, same, distinct=False)
        kept: list[Record] = [p for p in er_pairs if p is not None]
        self._write(kept, self._same_records(kept))

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
                return column, Msg("ref.company_by_id", label=label, value=digits)
            data[name] = found
            return None
        return None

    def _company_target(self, text: str) -> str:
        """The id a company reference names: a merged-away id's survivor, or by INN/OGRN."""
        target = self.alias.get(text, text)
        if (target not in self.known[_K.COMPANY] and ascii_digits(text)
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


def _er_pair(stored: dict[str, ErPair], a: Company, b: Company,
             status: Literal["merged", "review"], reason: str,
             score: float, file: str | None, row: int | None) -> ErPair | None:
    """The pair a load records, or None when a reviewer already decided on it."""
    key = pair_id(a.id, b.id)
    old = stored.get(key)
    if old is not None and old.status not in ("review", "merged"):
        return None
    return ErPair(
        id=key, a_id=a.id, b_id=b.id, a_name=a.name, b_name=b.name, status=status,
        score=min(max(score, 0.0), 100.0), reason=reason[:500], source=file, row=row,
        folded=json.dumps(to_props(b), ensure_ascii=False) if status == "merged" else None,
        kept_before=json.dumps(to_props(a), ensure_ascii=False) if status == "merged" else None)


# Company's fields whose default is made by a factory: (name, factory); and those
# whose default is an immutable value (None, a number, a string): name → value.
_FACTORY_DEFAULTS = tuple((name, field.default_factory)
                          for name, field in Company.model_fields.items()
                          if field.default_factory is not None
                          and not field.default_factory_takes_validated_data)
_PLAIN_DEFAULTS = {name: field.default for name, field in Company.model_fields.items()
                   if not field.is_required() and field.default_factory is None
                   and (field.default is None or type(field.default) in (str, int, float, bool))}
_COMPANY_FIELDS = frozenset(Company.model_fields)


def _company_of(props: dict[str, Any]) -> Company:
    """A Company from properties the fast path has checked (pydantic would accept them).

    The same object as ``Company.model_construct(**props)`` (same values, same
    ``model_fields_set``), but the defaults are filled in here: pydantic 2.14's
    ``model_construct`` looks at every factory default (``roles``, ``okved``: empty
    lists) and deep-copies every plain default on every call — ≈ 10 µs a company in
    a load (1.0 s of 7.4 for 100k companies); ≈ 100 µs in a bare loop, where the
    model is not built yet and ``inspect.signature(list)`` is asked each time.
    """
    fields_set = set(_COMPANY_FIELDS.intersection(props))
    values = {**_PLAIN_DEFAULTS, **props}
    if "roles" in values:
        values["roles"] = [Role(r) for r in values["roles"]]
    for name, factory in _FACTORY_DEFAULTS:
        if name not in values:
            values[name] = factory()  # type: ignore[call-arg]  # takes no data (above)
    return Company.model_construct(fields_set, **values)
