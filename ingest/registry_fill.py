"""Fill companies from registry files by INN, without overwriting what members declared.

:func:`fill_from_registry` streams registry files (:mod:`ingest.registry`), keeps
the records whose INN is listed (``only_inn``) or whose region code is asked for
(``regions``) — or every record when neither is given — and writes them in one
store load (:meth:`graph.store.GraphStore.load`, through :class:`ingest.writer.Writer`),
so the store shows all of them or none.

* A company already stored (found by INN) keeps its id, its provenance and every
  value it has: the registry only fills what is empty — name, OGRN, region,
  municipality, employees — and its OKVED codes. Where both have a value and they
  differ, the declared one wins and the difference is reported as a
  :class:`Conflict`. OKVED codes a member declared (``okved`` set without a
  ``registry_source``) are kept the same way; codes an earlier registry load wrote
  are replaced by the newer extract's.
* A company not stored yet is created with the id ``inn-<INN>`` (as CSV ingest
  derives it), its registry name and the file and record it came from.
* ``registry_source`` and ``registry_date`` say which registry file, as of which
  date, the registry fields came from.

Every problem of the input (see :mod:`ingest.registry`) is reported with file and
position; the valid records still load.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coopgraph.graph.errors import IngestError
from coopgraph.graph.ids import inn_problem, normalize_digits
from coopgraph.graph.messages import Msg, render
from coopgraph.graph.models import Company
from coopgraph.graph.schema import EntityKind, to_props
from coopgraph.graph.store import MAX_PAGE, GraphStore
from coopgraph.ingest.readers import open_tables
from coopgraph.ingest.registry import REGISTRY_NAMES, RegistryProblem, RegistryRecord, read_registry
from coopgraph.ingest.resolve import derive_company_id, normalize_name
from coopgraph.ingest.validate import readable_errors
from coopgraph.ingest.writer import Writer

__all__ = ["BATCH", "Conflict", "RegistryReport", "fill_from_registry", "read_inn_list"]

BATCH = 10_000  # rows per store write
_FILLED = ("name", "ogrn", "region", "municipality", "employees")


@dataclass(frozen=True)
class Conflict:
    """A value the registry gives differently from what is stored; the stored one was kept."""

    company_id: str
    inn: str
    field: str
    kept: Any
    registry: Any
    file: str
    position: str

    def text(self) -> tuple[str, str]:
        """The conflict as a (Russian, English) sentence."""
        where_ru = render(self.position, "ru")
        return (f"{self.company_id} (ИНН {self.inn}): {self.field} — оставлено заявленное "
                f"«{self.kept}», в реестре «{self.registry}» ({self.file}, {where_ru})",
                f"{self.company_id} (INN {self.inn}): {self.field} — kept the declared "
                f"“{self.kept}”, the registry says “{self.registry}” ({self.file}, "
                f"{self.position})")


@dataclass
class RegistryReport:
    """What a registry fill read, wrote, skipped and why."""

    files: list[str] = field(default_factory=list)
    read: int = 0  # records read (valid ones)
    selected: int = 0  # of them, listed by INN or region
    created: int = 0
    updated: int = 0  # existing companies given registry values
    problems: list[RegistryProblem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # listed INNs no file had
    load_id: str | None = None
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Records not loaded because of a problem."""
        return sum(1 for p in self.problems if p.rejected)

    @property
    def ok(self) -> bool:
        """True when no record was rejected and every listed INN was found."""
        return self.rejected == 0 and not self.not_found

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-compatible data."""
        return {
            "files": self.files, "read": self.read, "selected": self.selected,
            "created": self.created, "updated": self.updated, "rejected": self.rejected,
            "rows_per_s": round(self.read / self.seconds) if self.seconds > 0 else 0,
            "problems": [asdict(p) for p in self.problems],
            "conflicts": [asdict(c) for c in self.conflicts],
            "not_found": self.not_found, "load_id": self.load_id,
            "seconds": round(self.seconds, 3),
        }


def read_inn_list(path: str | Path) -> tuple[set[str], list[RegistryProblem]]:
    """The INNs listed in a CSV/XLSX file (its ``inn``/``ИНН`` column, or its only column).

    Raises
    ------
    IngestError
        The file is missing, unreadable, or has no INN column.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(Msg("reg.no_file", path=str(path)))
    inns: set[str] = set()
    problems: list[RegistryProblem] = []
    for table in open_tables(path):
        names = [h.strip().lower() for h in table.headers]
        column = next((i for i, h in enumerate(names) if h in ("inn", "инн")), None)
        rows = table.rows()
        if column is None:
            if len(names) != 1:
                raise IngestError(Msg("reg.no_inn_column", file=table.name,
                                      columns=", ".join(table.headers)))
            column = 0
            if not inn_problem(normalize_digits(table.headers[0])):  # no header: an INN
                inns.add(normalize_digits(table.headers[0]))
        for row, values in rows:
            digits = normalize_digits(str(values[column] or "")) if column < len(values) else ""
            if not digits:
                continue
            why = inn_problem(digits)
            if why:
                problems.append(RegistryProblem(table.name, Msg("reg.pos_row", row=row),
                                                table.headers[column],
                                                why))
            else:
                inns.add(digits)
    return inns, problems


def fill_from_registry(store: GraphStore, paths: Sequence[str | Path], *,
                       only_inn: Collection[str] | None = None,
                       regions: Collection[str] | None = None,
                       load_id: str | None = None, batch: int = BATCH) -> RegistryReport:
    """Load the listed companies from registry files into ``store``; see the module notes.

    Parameters
    ----------
    store
        Any :class:`~graph.store.GraphStore`.
    paths
        SME-register or EGRUL/EGRIP XML files, or ZIP archives of them.
    only_inn
        Load just these INNs (None: no INN filter).
    regions
        Load just these region codes (``48``; None: no region filter). With
        ``only_inn`` too, a record must pass both.
    batch
        Rows per store write.

    Returns
    -------
    RegistryReport

    Raises
    ------
    IngestError
        A path is missing; nothing was written.
    """
    started = time.perf_counter()
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise IngestError(Msg("reg.no_file", path=str(path)))
    wanted = {normalize_digits(i) for i in only_inn} if only_inn is not None else None
    wanted_regions = {r.strip().zfill(2) for r in regions} if regions else None
    report = RegistryReport(files=[p.name for p in files])
    stored = _stored_by_inn(store, wanted)
    seen: dict[str, int] = {}  # INN → where it was first read: file number << 32 | record
    names: dict[str, int] = {}
    with store.load(load_id) as load:
        report.load_id = load.id
        writer = Writer(store)
        try:
            rows: list[dict[str, Any]] = []
            for item in _items(files):
                if isinstance(item, RegistryProblem):
                    report.problems.append(item)
                    continue
                report.read += 1
                if wanted is not None and item.inn not in wanted:
                    continue
                if wanted_regions is not None and item.region_code not in wanted_regions:
                    continue
                first = seen.get(item.inn)
                if first is not None:
                    where = Msg("reg.pos_in_file", file=list(names)[first >> 32],
                                record=first & 0xFFFFFFFF)
                    report.problems.append(RegistryProblem(
                        item.file, item.position, "ИНН",
                        Msg("reg.inn_repeated", inn=item.inn, where=where)))
                    continue
                seen[item.inn] = names.setdefault(item.file, len(names)) << 32 | item.index
                report.selected += 1
                props = _row(item, stored.get(item.inn), report)
                if props is not None:
                    rows.append(props)
                if len(rows) >= batch:
                    chunk, rows = rows, []
                    writer.submit(partial(load.upsert_rows, EntityKind.COMPANY, chunk))
            if rows:
                writer.submit(partial(load.upsert_rows, EntityKind.COMPANY, rows))
        except BaseException:
            writer.close(raise_error=False)
            raise
        writer.close()
    if wanted is not None:
        report.not_found = sorted(wanted - seen.keys())
    report.seconds = time.perf_counter() - started
    return report


def _items(files: list[Path]) -> Iterator[RegistryRecord | RegistryProblem]:
    for path in files:
        yield from read_registry(path)


def _stored_by_inn(store: GraphStore, wanted: set[str] | None) -> dict[str, dict[str, Any]]:
    """The stored companies with an INN (only the wanted ones when a list is given)."""
    found: dict[str, dict[str, Any]] = {}
    for record in store.iter_all(EntityKind.COMPANY, page_size=MAX_PAGE):
        assert isinstance(record, Company)
        if record.inn and (wanted is None or record.inn in wanted):
            found[record.inn] = to_props(record)
    return found


def _row(item: RegistryRecord, existing: dict[str, Any] | None, report: RegistryReport
         ) -> dict[str, Any] | None:
    """The company's stored form after the registry record; conflicts go to the report."""
    ru, _ = REGISTRY_NAMES[item.registry]
    source = f"{ru}: {item.file}"
    values: dict[str, Any] = {"name": item.name, "ogrn": item.ogrn, "region": item.region,
                              "municipality": item.municipality, "employees": item.employees}
    if existing is None:
        props: dict[str, Any] = {
            "id": derive_company_id(item.inn, item.ogrn, item.name), "inn": item.inn,
            "source": item.file, "row": item.index,
            **{k: v for k, v in values.items() if v is not None}}
        new = True
    else:
        props = dict(existing)
        props.pop("ingested_at", None)  # stamped again by the write
        for name in _FILLED:
            value = values[name]
            if value is None:
                continue
            kept = props.get(name)
            if kept in (None, ""):
                props[name] = value
            elif not _same(name, kept, value):
                report.conflicts.append(Conflict(props["id"], item.inn, name, kept, value,
                                                 item.file, item.position))
        new = False
    declared_okved = bool(props.get("okved")) and not props.get("registry_source")
    if declared_okved and item.okved and list(props["okved"]) != item.okved:
        report.conflicts.append(Conflict(props["id"], item.inn, "okved",
                                         " ".join(props["okved"]), " ".join(item.okved),
                                         item.file, item.position))
    elif not declared_okved:
        props["okved"] = item.okved
        if item.okved_main:
            props["okved_main"] = item.okved_main
        else:
            props.pop("okved_main", None)
        props["registry_source"] = source
        if item.date is not None:
            props["registry_date"] = item.date.isoformat()
    try:
        props = to_props(Company.model_validate(props))
    except ValidationError as exc:
        where, reason = readable_errors(EntityKind.COMPANY, exc)[0]
        report.problems.append(RegistryProblem(item.file, item.position, where or "record",
                                               reason))
        return None
    if new:
        report.created += 1
    else:
        report.updated += 1
    return props


def _same(name: str, kept: Any, value: Any) -> bool:
    if name == "name":
        return normalize_name(str(kept)) == normalize_name(str(value))
    if isinstance(kept, str) and isinstance(value, str):
        return kept.casefold().replace("ё", "е") == value.casefold().replace("ё", "е")
    return bool(kept == value)
