"""Ingest of real messy files (tests/data/messy) on both stores: exact rejects, merges, counts.

The files: ``members_1c.csv`` (Windows-1251, ``;``, Russian headers, decimal
commas, CRLF — an export from 1C), ``categories.csv`` (UTF-8 with BOM),
``capabilities_excel.csv`` (UTF-8 with BOM, Russian headers, free text,
companies by INN), ``bom.tsv`` (tab, a cycle and a self-reference),
``products.json`` (maker by INN as a JSON number) and ``supplies.jsonl``.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from coopgraph.graph.schema import KINDS
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.generate import generate
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.readers import detect_encoding, open_tables

MESSY = Path(__file__).parent / "data" / "messy"

EXPECTED_REJECTS = [
    ("members_1c.csv", 5, "ИНН", "INN 4825004043 fails its check digit"),
    ("members_1c.csv", 8, "Широта", "latitude 95 is outside the globe"),
    ("members_1c.csv", 11, "Численность", "employees must not be negative"),
    ("categories.csv", 12, "parent", "unknown parent category 'NOPE'"),
    ("bom.tsv", 5, "child",
     "closes a cycle in the bill of materials: CAST-IRON → GEARBOX → SHAFT → CAST-IRON"),
    ("bom.tsv", 6, "child", "refers to itself (FRAME)"),
    ("bom.tsv", 8, "qty", "qty must be greater than 0"),
    ("capabilities_excel.csv", 6, "Категория", "unknown category 'TURBINE'"),
    ("capabilities_excel.csv", 7, "Мощность в год", "capacity_per_year must not be negative"),
    ("capabilities_excel.csv", 8, "Компания", "unknown company 'c-ghost'"),
    ("capabilities_excel.csv", 9, "Вид деятельности",
     "cannot map 'услуги бухгалтерского учёта' to a category"),
    ("capabilities_excel.csv", 10, "Компания",
     "unknown company 'c-bad-inn' (its own row, row 5 of members_1c.csv, was rejected)"),
    ("capabilities_excel.csv", 12, "Категория", "conflicts with row 2 of capabilities_excel.csv"),
    ("capabilities_excel.csv", 13, "ИНН", "no company with INN 7700000062"),
    ("supplies.jsonl", 3, "buyer_id", "company c-agro cannot supply itself"),
]

EXPECTED_FILES = {  # file: (read, loaded, merged, rejected)
    "members_1c.csv": (11, 6, 2, 3),
    "categories.csv": (11, 10, 0, 1),
    "products.json": (1, 1, 0, 0),
    "bom.tsv": (7, 4, 0, 3),
    "capabilities_excel.csv": (13, 5, 1, 7),
    "supplies.jsonl": (3, 2, 0, 1),
}

EXPECTED_COUNTS = {"company": 6, "category": 10, "product": 1, "bom_line": 4,
                   "capability": 5, "supply": 2, "er_pair": 3}


def _nonzero(stats: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in stats.items() if v}


def test_encodings_are_detected() -> None:
    assert detect_encoding(MESSY / "members_1c.csv") == "cp1251"
    assert detect_encoding(MESSY / "categories.csv") == "utf-8-sig"
    assert detect_encoding(MESSY / "bom.tsv") == "utf-8"
    members = open_tables(MESSY / "members_1c.csv")[0]
    assert members.delimiter == ";"
    assert members.headers[:3] == ["Код", "Наименование", "ИНН"]
    assert open_tables(MESSY / "bom.tsv")[0].delimiter == "\t"


def test_messy_directory_exact_rejects_merges_and_counts(store: GraphStore,
                                                         tmp_path: Path) -> None:
    report = ingest_paths(store, [MESSY], rejects_dir=tmp_path / "rejects")

    got = [(r.file, r.row, r.column, r.reason) for r in report.rejects]
    assert len(got) == len(EXPECTED_REJECTS), got
    for (file, row, column, reason), expected in zip(got, EXPECTED_REJECTS, strict=True):
        assert (file, row, column) == expected[:3], (file, row, column, reason)
        assert expected[3] in reason, (expected, reason)
    assert not report.ok

    files = {f.file: (f.read, f.loaded, f.merged, f.rejected) for f in report.files}
    assert files == EXPECTED_FILES
    for f in report.files:  # nothing lost silently
        assert f.read == f.loaded + f.merged + f.rejected

    merges = {(m.merged_id, m.kept_id): m for m in report.merges}
    assert set(merges) == {("c-lit-2", "c-lit"), ("name-agrotekhmash--lipetskiy", "c-agro")}
    assert merges["c-lit-2", "c-lit"].reason == "same INN 4821002020"
    assert merges["name-agrotekhmash--lipetskiy", "c-agro"].reason.startswith("similar name")
    assert merges["name-agrotekhmash--lipetskiy", "c-agro"].score == 100.0
    assert [(p.a_id, p.b_id) for p in report.review] == [
        ("c-gidro", "name-gidroprivod-m--gryazinskiy")]
    # one word more on one side ("-М"): a human decides, however close the score
    assert 80 <= report.review[0].score <= 100
    assert "one side only" in report.review[0].reason
    assert [(c.row, c.text, c.category) for c in report.low_confidence] == [
        (14, "pump repair", "HYD-PUMP")]

    assert _nonzero(store.stats()) == EXPECTED_COUNTS

    agro = store.get("company", "c-agro")
    assert (agro.lat, agro.lon, agro.inn, agro.roles) == (52.6031, 39.5708, "4823001014",
                                                          ["oem"])
    assert (agro.source, agro.row) == ("members_1c.csv", 2)
    assert agro.ingested_at is not None
    assert store.get("company", "inn-482300123464").roles == ["service"]
    assert store.exists("company", "name-gidroprivod-m--gryazinskiy")
    assert not store.exists("company", "c-lit-2")
    # references to merged-away ids and INNs were rewritten to the kept ids
    assert store.exists("capability", ("c-lit", "CAST-AL"))
    hyd = store.get("capability", ("c-gidro", "HYD-CYL"))
    assert (hyd.source, hyd.row) == ("capabilities_excel.csv", 4)
    assert store.get("capability", ("c-val", "SHAFT")).capacity_per_year == 1500
    assert store.get("capability", ("c-lit", "CAST-IRON")).capacity_per_year == 5000
    assert store.get("product", "P-PLOUGH").maker_id == "c-agro"
    supply = store.get("supply", ("c-lit", "c-agro", "CAST-IRON"))
    assert str(supply.since) == "2017-12-05"
    assert store.exists("supply", ("c-gidro", "c-agro", "HYD-CYL"))

    # the rejects files: input columns + _row, _column, _reason
    rejects = tmp_path / "rejects"
    assert (rejects / "report.json").exists() and (rejects / "report.md").exists()
    lines = (rejects / "members_1c.csv.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(";")[-3:] == ["_row", "_column", "_reason"]
    assert lines[0].startswith("Код;Наименование;ИНН")
    assert [ln.split(";")[-3] for ln in lines[1:]] == ["5", "8", "11"]


def test_second_load_changes_nothing(store: GraphStore) -> None:
    first = ingest_paths(store, [MESSY])
    stats, snapshot, revision = store.stats(), store.snapshot(), store.revision()
    stamps = {(k, tuple(KINDS[k].key_of(r))): (r.get("source"), r.get("row"), r.get("ingested_at"))
              for k in KINDS for r in store.export_rows(k)}
    second = ingest_paths(store, [MESSY])
    assert store.stats() == stats
    assert store.snapshot() == snapshot
    # nothing was written again: no new revision (the projection has nothing to redo),
    # and every record keeps the provenance of the load that stored it
    assert store.revision() == revision
    assert {(k, tuple(KINDS[k].key_of(r))): (r.get("source"), r.get("row"), r.get("ingested_at"))
            for k in KINDS for r in store.export_rows(k)} == stamps
    # the second load says its rows are already there: "unchanged N", not "loaded N" again
    assert first.total("loaded") > 0 and first.total("unchanged") == 0
    assert second.summary() | {"seconds": 0, "rows_per_s": 0} == \
        first.summary() | {"seconds": 0, "rows_per_s": 0, "loaded": 0,
                           "unchanged": first.total("loaded")}
    assert [(r.file, r.row, r.column) for r in second.rejects] == \
        [(r.file, r.row, r.column) for r in first.rejects]


def test_a_rerun_beside_a_second_taxonomy_changes_nothing(store: GraphStore,
                                                         tmp_path: Path) -> None:
    """The messy files beside a generated set, whose taxonomy names some of the same
    things (``Валы``, ``Гидроцилиндры``, ``механообработка валов`` name a category in
    each): a text that names two categories maps to the same one whether the categories
    come from the load (first run) or from the store (re-run) — before, the first run
    mapped it to the category added first and the re-run stored a second record."""
    generate(tmp_path / "gen", companies=60, seed=11)
    paths = [tmp_path / "gen", MESSY]
    ingest_paths(store, paths)
    snapshot, revision = store.snapshot(), store.revision()
    second = ingest_paths(store, paths)
    assert store.snapshot() == snapshot
    assert store.revision() == revision
    assert second.total("loaded") == 0 and second.total("unchanged") > 0


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    companies = book.active
    companies.title = "Компании"
    companies.append(["Наименование", "ИНН", "Район"])
    companies.append(["ЗАО «Литейщик»", 4826007078, "Елец"])  # INN typed as a number
    companies.append(["Елецкий литейный завод", 4821002020.0, "г. Елец"])
    notes = book.create_sheet("Примечания")
    notes.append(["Комментарий"])
    notes.append(["выгружено вручную"])
    caps = book.create_sheet("Мощности")
    caps.append([])  # an empty first row: the header is on row 2
    caps.append(["ИНН", "Вид деятельности", "Мощность в год"])
    caps.append([4826007078, "литьё алюминия", 300])
    caps.append([4821002020, "механообработка валов", 900.0])
    caps.append([4826007078, "литьё чугуна", -1])
    book.save(path)
    return path


def test_xlsx_two_sheets_merges_with_the_store(store: GraphStore, tmp_path: Path) -> None:
    ingest_paths(store, [MESSY])
    book = _workbook(tmp_path / "members.xlsx")
    report = ingest_paths(store, [book])

    files = {f.file: (f.kind, f.read, f.loaded, f.merged, f.rejected) for f in report.files}
    assert files == {
        "members.xlsx[Компании]": ("company", 2, 1, 1, 0),
        "members.xlsx[Мощности]": ("capability", 3, 2, 0, 1),
    }
    assert any("Примечания" in w for w in report.warnings)
    assert [(r.file, r.row, r.column) for r in report.rejects] == [
        ("members.xlsx[Мощности]", 5, "Мощность в год")]
    [merge] = report.merges
    assert (merge.merged_id, merge.kept_id, merge.reason) == (
        "inn-4821002020", "c-lit", "same INN 4821002020")
    counts = _nonzero(store.stats())
    assert counts["company"] == EXPECTED_COUNTS["company"] + 1
    assert counts["capability"] == EXPECTED_COUNTS["capability"] + 2
    assert store.get("company", "inn-4826007078").inn == "4826007078"
    assert store.exists("capability", ("inn-4826007078", "CAST-AL"))
    assert store.get("capability", ("c-lit", "SHAFT")).capacity_per_year == 900
    assert store.get("capability", ("c-lit", "SHAFT")).source == "members.xlsx"


def test_same_company_under_another_id_in_a_second_file(store: GraphStore,
                                                        tmp_path: Path) -> None:
    ingest_paths(store, [MESSY / "members_1c.csv"])
    second = tmp_path / "companies.csv"
    second.write_text("id,name,inn,municipality\nagro-2,Агротехмаш,4823001014,Липецк\n"
                      "x-1,Другое имя,,Липецк\n", encoding="utf-8")
    report = ingest_paths(store, [second])
    assert [(m.merged_id, m.kept_id) for m in report.merges] == [("agro-2", "c-agro")]
    assert not store.exists("company", "agro-2")
    assert store.exists("company", "x-1")


@pytest.mark.parametrize("name", ["Завод №1", "Завод №2"])
def test_companies_with_different_inns_are_never_merged(name: str, store: GraphStore,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_text(f"name;inn;municipality\nООО «Литмаш»;4823001014;Елец\n"
                    f"Литмаш ООО;4821002020;Елец\n{name};;Елец\nЗавод №3;;Елец\n",
                    encoding="utf-8")
    report = ingest_paths(store, [path])
    assert report.merges == []
    assert store.stats()["company"] == 4
    assert {(p.a_id, p.b_id) for p in report.review} >= {("inn-4823001014", "inn-4821002020")}


def test_an_id_with_a_control_character_is_rejected_with_its_row(store: GraphStore,
                                                                 tmp_path: Path) -> None:
    """A stray control character (a pasted Excel cell) makes no id a URL or CSV cannot carry."""
    path = tmp_path / "companies.csv"
    path.write_text("id;name;municipality\nc-ok;Литмаш;Елец\nc-\x07bell;Звонок;Елец\n",
                    encoding="utf-8")
    report = ingest_paths(store, [path])
    assert [(r.row, r.column, r.reason) for r in report.rejects] == [
        (3, "id", "id 'c-\\x07bell' contains a control character")]
    assert store.exists("company", "c-ok")
    assert store.stats()["company"] == 1
