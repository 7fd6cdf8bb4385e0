"""The bulk paths of ingest: the columnar validator against pydantic, and what they feed.

:class:`ingest.validate.FastRows` must accept a row only with the very properties
(values and key order) that ``to_props(model_validate(...))`` gives, and leave every
other row to pydantic; rows from either path must get the same duplicate print. The
store's ``upsert_rows`` and the embedded store's bulk insert and streamed compaction
must keep the stores' behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import MissingReference, StoreError
from coopgraph.graph.models import Capability, Category, Company, Role
from coopgraph.graph.schema import KINDS, EntityKind, to_props
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.formats import FORMATS
from coopgraph.ingest.generate import generate
from coopgraph.ingest.load_companies import _company_of
from coopgraph.ingest.pipeline import _Writer, ingest_paths, plan_tables
from coopgraph.ingest.sample import COOPERATION_FILE_NAMES, FILE_NAMES
from coopgraph.ingest.validate import FastRows, RowConverter, record_fields, row_print, validate_row

_K = EntityKind

# Cells people write: good values, values pydantic reads differently, bad ones.
_CELLS = [
    "", " ", "0", "5", "12.5", " 7 ", "-3", "+4", "1e5", "1_000", "1 500,5", "3,5", ".5",
    "5.", "inf", "nan", "1e999", "-0", "0123", "١٢", "2018-12-11", "05.12.2017", "2018-02-30",
    "20181211", "2020-01-01T00:00:00", "2018-W50-2", "abc", " x ", "x" * 201, "product",
    "category", "a|b", "|", "g1", "g2", "7707083893", "7707083894", "1027700132195", "52.6",
    "95", "supplier", "Производитель | вуз", "ISO9001", "Elets",
]


def _check_chunk(kind: EntityKind, fields: list[str], cells: list[list[str]]) -> int:
    """Compare FastRows with pydantic on one chunk; return how many rows went fast."""
    columns = FORMATS[kind].map_columns(fields)
    fast = FastRows.for_columns(columns)
    assert fast is not None, kind
    convert = RowConverter(columns)
    model = KINDS[kind].model
    rows = list(range(2, 2 + len(cells)))
    built, prints = fast.assemble(fast.parse(cells, {}), "f.csv", rows)
    accepted = 0
    for i, (row, values, props) in enumerate(zip(rows, cells, built, strict=True)):
        if props is None:
            continue
        accepted += 1
        data = convert(values)
        data["source"], data["row"] = "f.csv", row
        record, errors = validate_row(model, kind, data)
        assert record is not None, (kind, values, props, errors)
        expected = to_props(record)
        assert props == expected and list(props) == list(expected), (kind, values)
        if prints is not None:
            assert prints[i] == row_print(expected, record_fields(kind))
    return accepted


@st.composite
def _chunk(draw: st.DrawFn) -> tuple[EntityKind, list[str], list[list[str]]]:
    # the network kinds, which bulk loads bring by the million; the cooperation kinds
    # (requests, projects, ties) take pydantic's path (test below)
    kind = draw(st.sampled_from(sorted(FILE_NAMES, key=lambda k: k.value)))
    fields = [f for f in FORMATS[kind].fields if f in KINDS[kind].model.model_fields]
    n = draw(st.integers(1, 20))
    columns = []
    for _field in fields:
        if draw(st.booleans()):  # a clean-looking column: one value repeated
            value = draw(st.sampled_from(_CELLS))
            column = [value] * n
        else:
            column = draw(st.lists(st.sampled_from(_CELLS), min_size=n, max_size=n))
        columns.append(column)
    return kind, fields, [list(r) for r in zip(*columns, strict=True)]


@settings(max_examples=300, deadline=None)
@given(_chunk())
def test_fast_rows_agree_with_pydantic(case: tuple[EntityKind, list[str], list[list[str]]]
                                       ) -> None:
    kind, fields, cells = case
    _check_chunk(kind, fields, cells)


def test_generated_files_take_the_fast_path_with_pydantic_values(tmp_path: Path) -> None:
    generate(tmp_path, companies=300, seed=5)
    jobs, _warnings = plan_tables([tmp_path])
    for job in jobs:
        cells = [values for _row, values in job.table.rows()]
        fields = [f or "" for f in job.columns.fields]
        accepted = _check_chunk(job.kind, fields, cells)
        assert accepted == len(cells), (job.name, accepted, len(cells))


def test_cooperation_kinds_take_the_pydantic_path() -> None:
    for kind in COOPERATION_FILE_NAMES:
        fields = [f for f in FORMATS[kind].fields if f in KINDS[kind].model.model_fields]
        assert FastRows.for_columns(FORMATS[kind].map_columns(fields)) is None, kind


def test_models_the_fast_path_does_not_know_get_none() -> None:
    columns = FORMATS[_K.CAPABILITY].map_columns(["company_id", "description"])
    assert FastRows.for_columns(columns) is None  # a free-text column needs the categoriser


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicates_compare_values_whichever_path_read_them(store: GraphStore,
                                                            tmp_path: Path) -> None:
    _write(tmp_path / "companies.csv", "id,name\nc1,Один\nc2,Два\n")
    _write(tmp_path / "categories.csv", "code,name_ru\nk1,Литьё\n")
    # row 2 goes fast; row 3 ("1e3") only pydantic reads, as 1000.0: the same row.
    # row 4 differs; row 5 repeats row 2 with a different spelling of the number.
    _write(tmp_path / "capabilities.csv",
           "company_id,category,capacity_per_year\nc1,k1,1000\nc1,k1,1e3\nc1,k1,5\n"
           "c1,k1,\"1 000\"\nc2,k1,7\n")
    report = ingest_paths(store, [tmp_path])
    caps = next(f for f in report.files if f.file == "capabilities.csv")
    assert (caps.read, caps.loaded, caps.merged, caps.rejected) == (5, 2, 2, 1)
    assert [(r.row, r.column) for r in report.rejects] == [(4, "category")]
    assert "conflicts with row 2 of capabilities.csv" in report.rejects[0].reason
    assert store.get("capability", ("c1", "k1")).capacity_per_year == 1000
    assert store.get("capability", ("c1", "k1")).row == 2


def test_upsert_rows_last_wins_stamps_time_and_checks_references(store: GraphStore) -> None:
    store.upsert([Company(id="c1", name="Один"), Category(code="k1", name_ru="Литьё")])
    rows: list[dict[str, Any]] = [
        to_props(Capability(company_id="c1", category="k1", capacity_per_year=1.0)),
        to_props(Capability(company_id="c1", category="k1", capacity_per_year=2.0)),
    ]
    assert store.upsert_rows("capability", rows) == 1
    stored = store.get("capability", ("c1", "k1"))
    assert stored.capacity_per_year == 2.0 and stored.ingested_at is not None
    with pytest.raises(MissingReference):
        store.upsert_rows("capability", [to_props(Capability(company_id="ghost",
                                                             category="k1"))])
    assert store.stats()["capability"] == 1


def test_bulk_edges_survive_a_reopen(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    store.upsert([Company(id=f"c{i}", name=f"К{i}") for i in range(50)]
                 + [Category(code="k1", name_ru="Литьё"), Category(code="k2", name_ru="Ковка")])
    for start in range(0, 50, 10):  # several bulk writes
        store.upsert_rows("capability", [
            to_props(Capability(company_id=f"c{i}", category=k, capacity_per_year=float(i)))
            for i in range(start, start + 10) for k in ("k1", "k2")])
    store.upsert_rows("capability", [to_props(Capability(company_id="c0", category="k1",
                                                         capacity_per_year=99.0))])
    snapshot = store.snapshot()
    assert len(snapshot.rows("capability")) == 100
    assert store.stats()["capability"] == 100
    assert store.get("capability", ("c0", "k1")).capacity_per_year == 99.0
    store.close()
    again = EmbeddedStore(tmp_path / "s")
    assert again.snapshot() == snapshot
    assert again.stats()["capability"] == 100
    again.close()


def test_the_writer_thread_keeps_order_and_reports_a_failure() -> None:
    class Remote:
        kind = "remote"

    done: list[int] = []
    writer = _Writer(Remote())  # type: ignore[arg-type]
    for i in range(5):
        writer.submit(lambda i=i: done.append(i))  # type: ignore[misc]
    writer.close()
    assert done == [0, 1, 2, 3, 4]

    def fail() -> None:
        raise StoreError("the server said no")

    writer = _Writer(Remote())  # type: ignore[arg-type]
    writer.submit(fail)
    writer.submit(lambda: done.append(99))
    with pytest.raises(StoreError, match="the server said no"):
        writer.close()
    assert 99 not in done  # nothing is written after a failed write


def test_fast_path_companies_are_the_companies_pydantic_makes(tmp_path: Path) -> None:
    # ingest.load_companies._company_of fills the defaults itself (pydantic's
    # model_construct is slow at it): the objects must be the validated ones
    generate(tmp_path, companies=300, seed=5)
    jobs, _warnings = plan_tables([tmp_path])
    job = next(j for j in jobs if j.kind is _K.COMPANY)
    fast = FastRows.for_columns(job.columns)
    assert fast is not None
    rows = list(job.table.rows())
    built, _prints = fast.assemble(fast.parse([values for _row, values in rows]),
                                   job.table.path.name, [row for row, _values in rows])
    made = [(_company_of(props), Company.model_validate(props))
            for props in built if props is not None]
    assert len(made) == len(rows)
    for fast_one, validated in made:
        assert fast_one.__dict__ == validated.__dict__
        assert list(fast_one.__dict__) == list(validated.__dict__)
        assert fast_one.model_fields_set == validated.model_fields_set
        assert to_props(fast_one) == to_props(validated)
    a, b = _company_of({"id": "a", "name": "A"}), _company_of({"id": "b", "name": "B"})
    assert a == Company.model_validate({"id": "a", "name": "A"})
    assert a.model_fields_set == {"id", "name"}
    assert a.roles == [] and a.roles is not b.roles and a.okved is not b.okved  # fresh lists
    a.roles.append(Role.SUPPLIER)
    assert b.roles == []


def test_companies_written_from_their_fast_path_rows_are_those_to_props_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ingest.load_companies writes a fast-path company that no merge or place changed
    # from the row the fast path built, not from to_props of its model: the same records
    from coopgraph.ingest import load_companies

    generate(tmp_path / "data", companies=200, seed=3)
    with (tmp_path / "data" / "companies.csv").open("a", encoding="utf-8") as out:
        out.write("x1,ООО «Тест Один»,,,ООО,Липецкая область,Елец,,,10,supplier,,\n"  # placed
                  "x2,ООО «Тест Два»,,,ООО,липецкая обл.,,52.6,39.5,5,supplier,,\n"  # region
                  "x3,ООО «Тест Три»,,,ООО,Липецкая область,Липецк,52.6,39.6,7,supplier,,\n"
                  "x3,ООО «Тест Три»,,,,,,,,,buyer,,\n")  # the same id again: merged
    made = [0]
    real_to_props, real_place = load_companies.to_props, load_companies.place_company

    def to_props(record: Any) -> dict[str, Any]:
        made[0] += 1
        return real_to_props(record)

    def place_anew(company: Company) -> tuple[Company, str | None]:
        placed, unknown = real_place(company)
        return (placed.model_copy() if placed is company else placed), unknown

    def companies(store: GraphStore) -> dict[str, dict[str, Any]]:
        rows = {r["id"]: r for r in store.export_rows(_K.COMPANY)}  # as stored, not re-read
        for props in rows.values():
            assert props.pop("ingested_at")
        return rows

    monkeypatch.setattr(load_companies, "to_props", to_props)
    from_rows = EmbeddedStore(tmp_path / "a")
    ingest_paths(from_rows, [tmp_path / "data"])
    written_from_rows = made[0]
    monkeypatch.setattr(load_companies, "place_company", place_anew)  # no row kept as is
    from_models = EmbeddedStore(tmp_path / "b")
    ingest_paths(from_models, [tmp_path / "data"])
    assert written_from_rows < 10 < made[0] - written_from_rows  # the rows were used
    stored = companies(from_rows)
    assert stored == companies(from_models)
    assert len(stored) >= 203 and stored["x3"]["roles"] == ["supplier", "buyer"]
    assert stored["x1"]["coords_source"] == "gazetteer"
    assert stored["x2"]["region"] == "Липецкая область"
    # loaded again: every company is found stored unchanged (a row that differed from
    # to_props in any value would be written again on every load)
    monkeypatch.setattr(load_companies, "place_company", real_place)
    again = ingest_paths(from_rows, [tmp_path / "data"])
    summary = next(f for f in again.files if f.file == "companies.csv")
    assert summary.loaded == 0 and summary.unchanged == len(stored)
