"""Issue 10, parts 3–6: strict reading, geography, roles and demand, an explicit store.

Every repro of the issue's "Reading", "Roles and demand" and "The store is
implicit" bullets is a test here; the ones that load data run on both stores.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.errors import IngestError
from coopgraph.graph.messages import render
from coopgraph.graph.models import Company, Role
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.formats import FORMATS
from coopgraph.ingest.pipeline import ingest_paths, plan_tables
from coopgraph.ingest.readers import open_tables
from coopgraph.queries.gaps import find_gaps
from coopgraph.queries.projection import ProjectionCache
from tests.api_support import ApiCase, make_case

_K = EntityKind


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (independent of the code under test)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


# --- Reading ------------------------------------------------------------------------


def test_unclosed_quote_is_rejected_not_loaded_as_junk(store: GraphStore, tmp_path: Path):
    path = _write(tmp_path, "companies.csv",
                  'id,name,inn\nc1,Хороший,4899001208\nx1,"Broken quote,123\n')
    report = ingest_paths(store, [path])
    names = [c.name for c in store.iter_all(_K.COMPANY)]
    assert names == ["Хороший"]
    assert "Broken quote,123" not in names and not store.exists(_K.COMPANY, "x1")
    (reject,) = report.rejects
    assert (reject.file, reject.row) == ("companies.csv", 3)
    assert "unclosed quote" in reject.reason and reject.code == "r.unclosed_quote"
    assert "незакрытая кавычка" in report.localized("ru").rejects[0].reason
    assert report.total("read") == 2 and report.total("rejected") == 1


def test_misplaced_quote_and_extra_cells_are_rejected_reading_goes_on(
        store: GraphStore, tmp_path: Path):
    path = _write(tmp_path, "companies.csv",
                  'id,name,inn\n'
                  'a1,"Broken quote,123\n'          # closed by the next quoted cell
                  'b1,Бета,\n'
                  'c1,"Гамма\nс переносом",\n'      # a line break inside a name
                  'd1,Дельта,4899001208,лишняя\n'   # more cells than the header
                  'e1,Эпсилон,\n')
    report = ingest_paths(store, [path])
    assert sorted(c.id for c in store.iter_all(_K.COMPANY)) == ["b1", "c1", "e1"]
    assert store.get(_K.COMPANY, "c1").name == "Гамма\nс переносом"
    rejects = {r.row: r.reason for r in report.rejects}
    assert set(rejects) == {2, 5}  # records as Excel numbers them: c1 is one row
    russian = {r.row: r.reason for r in report.localized("ru").rejects}
    assert "quote" in rejects[2] and "кавычка" in russian[2]
    assert "4 cells but the header has 3" in rejects[5]
    assert report.total("read") == report.total("loaded") + report.total("rejected") == 5


@pytest.mark.parametrize(("data", "looks"), [
    (gzip.compress(b"id,name\na,b\n"), "gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "XLS"),
    (bytes(range(256)) * 4, "binary"),
])
def test_a_binary_file_named_csv_is_not_a_text_table(tmp_path: Path, data: bytes, looks: str):
    path = tmp_path / "companies.csv"
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        plan_tables([path])
    message = str(caught.value)
    assert f"not a text table (looks like {looks})" in message
    assert "codec" not in message
    assert "не текстовая таблица" in render(caught.value.args[0], "ru")


def test_an_xlsx_named_csv_is_not_a_text_table(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    path = tmp_path / "companies.csv"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(IngestError, match=r"not a text table \(looks like XLSX\)"):
        plan_tables([path])


def test_a_cp1251_byte_0x98_is_not_a_codec_traceback(tmp_path: Path):
    path = tmp_path / "companies.csv"
    path.write_bytes("id,name\na,Альфа\n".encode("cp1251") + b"b,\x98\n")
    with pytest.raises(IngestError, match="not a text table") as caught:
        list(open_tables(path)[0].rows())
    assert "charmap" not in str(caught.value)


def _supplies_setup(folder: Path) -> None:
    _write(folder, "companies.csv", "id,name\ns,Поставщик\nb,Покупатель\n")
    _write(folder, "categories.csv", "code,name_ru\nX,Отливки\nY,Поковки\nZ,Шестерни\n")


def test_ambiguous_slash_date_is_rejected_and_quoted_as_typed(store: GraphStore,
                                                              tmp_path: Path):
    _supplies_setup(tmp_path)
    _write(tmp_path, "supplies.csv",
           "supplier_id,buyer_id,category,since\n"
           "s,b,X,04/09/2021\n"
           "s,b,Y,31.02.2023\n"
           "s,b,Z,13/09/2021\n")
    report = ingest_paths(store, [tmp_path])
    reasons = {r.row: r.reason for r in report.rejects}
    assert set(reasons) == {2, 3}
    russian = {r.row: r.reason for r in report.localized("ru").rejects}
    assert "'04/09/2021' is ambiguous" in reasons[2] and "неоднозначна" in russian[2]
    assert "'31.02.2023'" in reasons[3] and "2023-02-31" not in reasons[3]
    assert not store.exists(_K.SUPPLY, ("s", "b", "X"))
    assert str(store.get(_K.SUPPLY, ("s", "b", "Z")).since) == "2021-09-13"


@pytest.mark.parametrize(("header", "expected"), [
    ("since (MM/DD/YYYY)", "2021-04-09"),
    ("Дата начала (ДД/ММ/ГГГГ)", "2021-09-04"),
])
def test_a_header_that_states_the_date_order_is_followed(store: GraphStore, tmp_path: Path,
                                                         header: str, expected: str):
    _supplies_setup(tmp_path)
    _write(tmp_path, "supplies.csv", f"supplier_id,buyer_id,category,{header}\ns,b,X,04/09/2021\n")
    report = ingest_paths(store, [tmp_path])
    assert report.ok, report.rejects
    assert str(store.get(_K.SUPPLY, ("s", "b", "X")).since) == expected


def test_an_undocumented_date_format_is_not_read(store: GraphStore, tmp_path: Path):
    _supplies_setup(tmp_path)
    # 1629936000 is a Unix time at midnight: pydantic alone would take it for a date
    _write(tmp_path, "supplies.csv", "supplier_id,buyer_id,category,since\ns,b,X,1629936000\n")
    report = ingest_paths(store, [tmp_path])
    (reject,) = report.rejects
    assert reject.column == "since" and "'1629936000'" in reject.reason
    assert "documented format" in reject.reason


def test_row_numbers_are_records_not_lines(store: GraphStore, tmp_path: Path):
    names = "".join(f'n{i},"Завод {i}\nцех {i}",\n' for i in range(5))
    path = _write(tmp_path, "companies.csv", f"id,name,inn\n{names}bad,Плохой,123\n")
    report = ingest_paths(store, [path])
    (reject,) = report.rejects
    assert reject.row == 7  # header + 5 records + this one; the file has 12 lines
    assert path.read_text().count("\n") == 12


def test_excel_apostrophe_and_spaces_in_inns(store: GraphStore, tmp_path: Path):
    path = _write(tmp_path, "companies.csv",
                  "name,inn\nАльфа,'4899001208\nБета,48 23 006 703\n")
    report = ingest_paths(store, [path])
    assert report.ok, report.rejects
    assert sorted(c.inn or "" for c in store.iter_all(_K.COMPANY)) == ["4823006703",
                                                                        "4899001208"]


def test_near_miss_header_is_mapped_or_suggested(store: GraphStore, tmp_path: Path):
    _write(tmp_path, "companies.csv", "id,name\ns,Поставщик\n")
    _write(tmp_path, "categories.csv", "code,name_ru\nX,Отливки\n")
    _write(tmp_path, "capabilities.csv", "company_id;category;Цена за ед., руб.;Мощност в год\n"
                                         "s;X;1 500,5;100\n")
    report = ingest_paths(store, [tmp_path])
    assert report.ok, report.rejects
    assert store.get(_K.CAPABILITY, ("s", "X")).unit_price == pytest.approx(1500.5)
    assert any("'Цена за ед., руб.' read as unit_price" in w for w in report.warnings)
    assert any("'Мощност в год' (did you mean capacity_per_year?" in w
               for w in report.warnings)


def test_unit_dropping_maps_only_unambiguous_headers():
    columns = FORMATS[_K.CAPABILITY].map_columns(["ИНН", "Цена, руб.", "Цена за ед., руб."])
    # the first header already names unit_price: the second stays unknown, not a duplicate
    assert columns.fields == ["company_inn", "unit_price", None]


def test_second_identical_load_reports_unchanged(store: GraphStore, tmp_path: Path):
    _supplies_setup(tmp_path)
    _write(tmp_path, "supplies.csv", "supplier_id,buyer_id,category,since\ns,b,X,2021-01-01\n")
    first = ingest_paths(store, [tmp_path])
    second = ingest_paths(store, [tmp_path])
    assert first.summary()["loaded"] == 6 and first.summary()["unchanged"] == 0
    assert second.summary()["loaded"] == 0 and second.summary()["unchanged"] == 6
    _write(tmp_path, "supplies.csv", "supplier_id,buyer_id,category,since\ns,b,X,2022-01-01\n")
    before = store.revision()
    third = ingest_paths(store, [tmp_path])
    assert (third.summary()["loaded"], third.summary()["unchanged"]) == (1, 5)
    # only the changed row was written: one change, naming it alone, on both stores (a
    # load of at most MAX_KEYS rows lists its keys: the projection patches after it)
    changes = store.changes_since(before)
    assert changes is not None and len(changes) == 1
    assert not changes[0].full
    assert {k: sorted(v) for k, v in changes[0].keys.items()} == \
        {EntityKind.SUPPLY: [("s", "b", "X")]}


# --- Geography -----------------------------------------------------------------------


def test_regions_are_normalised_and_found_by_the_filter(store: GraphStore, tmp_path: Path):
    _write(tmp_path, "companies.csv",
           "id,name,region,municipality,lat,lon\n"
           "a,Альфа,Липецкая обл.,Липецк,52.6,39.57\n"
           "b,Бета,Lipetsk Oblast,Липецк,52.6,39.57\n"
           "c,Гамма,48,Липецк,52.6,39.57\n"
           "d,Дельта,Bavaria,München,48.1,11.6\n")
    report = ingest_paths(store, [tmp_path])
    assert report.ok
    regions = {c.id: c.region for c in store.iter_all(_K.COMPANY)}
    assert regions == {"a": "Липецкая область", "b": "Липецкая область",
                       "c": "Липецкая область", "d": "Bavaria"}
    assert any("'Bavaria'" in w and "subjects of the Russian Federation" in w
               for w in report.warnings)
    assert any("«Bavaria»" in w and "субъектов РФ" in w
               for w in report.localized("ru").warnings)
    gaps = find_gaps(ProjectionCache(store).get(), region="Липецкая обл.")
    assert gaps.region == "Липецкая область" and gaps.scope_size == 3


def test_the_town_gives_approximate_coordinates(store: GraphStore, tmp_path: Path):
    _write(tmp_path, "companies.csv",
           "id,name,region,municipality,lat,lon\n"
           "elets,Елецкий завод,Липецкая обл.,г. Елец,,\n"
           "lip,Липецкий завод,Липецкая область,Липецк,52.6031,39.5708\n"
           "nowhere,Завод,Липецкая область,Нигденет,,\n")
    assert ingest_paths(store, [tmp_path]).ok
    elets = store.get(_K.COMPANY, "elets")
    lip = store.get(_K.COMPANY, "lip")
    nowhere = store.get(_K.COMPANY, "nowhere")
    assert isinstance(elets, Company) and isinstance(lip, Company)
    assert elets.coords_source == "gazetteer" and lip.coords_source is None
    assert nowhere.lat is None and nowhere.coords_source is None
    # Yelets–Lipetsk by road ≈ 80 km; the centres are ≈ 70 km apart
    assert 60 < _haversine(elets.lat, elets.lon, lip.lat, lip.lon) < 80


# --- Roles and demand -------------------------------------------------------------------


def test_buyers_load_with_their_supplies(store: GraphStore, tmp_path: Path):
    _write(tmp_path, "companies.csv", "id,name,roles\n"
                                      "s,Поставщик,поставщик\n"
                                      "b1,Покупатель,покупатель\n"
                                      "b2,Заказчик,Заказчик\n"
                                      "b3,Buyer,buyer\n")
    _write(tmp_path, "categories.csv", "code,name_ru\nX,Отливки\n")
    _write(tmp_path, "supplies.csv", "supplier_id,buyer_id,category\ns,b1,X\ns,b2,X\ns,b3,X\n")
    report = ingest_paths(store, [tmp_path])
    assert report.ok, report.rejects
    for cid in ("b1", "b2", "b3"):
        assert store.get(_K.COMPANY, cid).roles == [Role.BUYER]
    assert store.stats()["supply"] == 3


def test_gaps_count_supply_links_as_demand(store: GraphStore, tmp_path: Path):
    _write(tmp_path, "companies.csv", "id,name,region\n"
                                      "s,Литейщик,Липецкая область\n"
                                      "b1,Завод 1,Липецкая область\n"
                                      "b2,Завод 2,Липецкая область\n")
    _write(tmp_path, "categories.csv", "code,name_ru\nX,Отливки\nY,Поковки\n")
    _write(tmp_path, "capabilities.csv", "company_id,category,capacity_per_year\ns,X,100\n")
    _write(tmp_path, "supplies.csv", "supplier_id,buyer_id,category,volume_per_year\n"
                                     "s,b1,X,70\ns,b2,X,50\ns,b1,Y,10\n")
    assert ingest_paths(store, [tmp_path]).ok
    report = find_gaps(ProjectionCache(store).get(), region="Липецкая область")
    assert report.demanded_categories == 2
    assert report.demand_evidence["supply"] == 2
    (single,) = report.single_source
    assert (single.category, single.supplier_id, single.evidence) == ("X", "s", ["supply"])
    assert single.demand_qty == pytest.approx(70 + 50)
    assert "supply links only" in single.text_en and "поставкам" in single.text_ru
    (over,) = report.over_capacity
    assert over.shortfall == pytest.approx(120 - 100)
    # Y: bought from s, which declares no capability for it: no regional supplier
    assert [g.category for g in report.import_dependency] == ["Y"]
    assert "supply links only" in report.text_en


def test_an_empty_gap_list_says_what_data_is_missing(store: GraphStore, tmp_path: Path):
    _write(tmp_path, "companies.csv", "id,name,region\na,Альфа,Липецкая область\n"
                                      "b,Бета,Липецкая область\n")
    assert ingest_paths(store, [tmp_path]).ok
    report = find_gaps(ProjectionCache(store).get(), region="Липецкая область")
    assert report.demanded_categories == 0 and not report.single_source
    assert any("no demand data" in m and "supplies" in m for m in report.missing_data_en)
    assert any("нет данных о спросе" in m for m in report.missing_data_ru)
    assert any("no supply links" in m for m in report.missing_data_en)
    assert "Missing data:" in report.text_en and "Не хватает данных:" in report.text_ru


# --- The store is explicit ------------------------------------------------------------


def _cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def english() -> Iterator[None]:
    """The CLI speaks English in the test, whatever the machine's locale."""
    from coopgraph.api.console import lang, set_lang

    before = lang()
    set_lang("en")
    yield
    set_lang(before)


@pytest.mark.parametrize("command", [
    ["stats"], ["gaps"], ["kpi", "--cluster", "k"], ["match", "buyers", "--supplier", "x"],
    ["check"], ["plan", "--cluster", "k"], ["export", "graphml", "out.graphml"],
])
def test_read_commands_on_a_missing_store_fail_and_create_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]):
    monkeypatch.chdir(tmp_path)  # "run from another folder"
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.delenv("COOPGRAPH_DATA_DIR", raising=False)
    result = _cli(*command)
    assert result.exit_code == 2, result.output
    where = str((tmp_path / "var" / "data").resolve())
    assert f"no store at embedded {where}" in result.output
    assert "run `coopgraph ingest` or set COOPGRAPH_DATA_DIR" in result.output
    assert "нет хранилища" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "var").exists()


def test_only_ingest_creates_the_store_and_every_command_names_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, english: None):
    data = tmp_path / "store"
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(data))
    _write(tmp_path / "in", "companies.csv", "id,name\na,Альфа\n")
    _write(tmp_path / "in", "clusters.csv", "id,name\nk,Кластер\n")
    first = _cli("ingest", str(tmp_path / "in"), "--rejects-dir", str(tmp_path / "r"))
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"Store created: embedded {data}")
    again = _cli("ingest", str(tmp_path / "in"), "--json", "--rejects-dir", str(tmp_path / "r"))
    body = json.loads(again.stdout)
    assert body["store"] == {"kind": "embedded", "path": str(data), "created": False}
    assert body["summary"]["unchanged"] == 2 and body["summary"]["loaded"] == 0
    for command in (["stats"], ["gaps"], ["kpi", "--cluster", "k"], ["check"]):
        shown = _cli(*command)
        assert shown.output.startswith(f"Store: embedded {data}"), shown.output
        as_json = json.loads(_cli(*command, "--json").stdout)
        assert as_json["store"] in ({"kind": "embedded", "path": str(data)}, "embedded")
        if as_json["store"] == "embedded":  # stats names it with its own keys
            assert as_json["data_dir"] == str(data)


def test_commands_name_a_neo4j_store(neo4j_store: GraphStore, neo4j_server: object,
                                     monkeypatch: pytest.MonkeyPatch, english: None):
    monkeypatch.setenv("COOPGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)  # type: ignore[attr-defined]
    monkeypatch.setenv("NEO4J_USER", neo4j_server.user)  # type: ignore[attr-defined]
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_server.password)  # type: ignore[attr-defined]
    result = _cli("gaps", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store"] == {
        "kind": "neo4j", "uri": neo4j_server.uri, "database": "neo4j"}  # type: ignore[attr-defined]
    shown = _cli("gaps")
    assert shown.output.startswith(
        f"Store: neo4j {neo4j_server.uri} (database neo4j)")  # type: ignore[attr-defined]
    missing = _cli("stats")
    assert missing.exit_code == 0  # the wiped test database has been written: it exists
    monkeypatch.setenv("NEO4J_DATABASE", "nosuchdb")
    absent = _cli("stats")
    assert absent.exit_code == 2, absent.output
    assert "no store at neo4j" in absent.output and "(database nosuchdb)" in absent.output


# --- POST /ingest -----------------------------------------------------------------------


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path, seed=False, upload_limit=64 * 1024)


def _wait(api: ApiCase, job_id: str) -> dict:
    api.app.state.jobs.wait(timeout=120)
    return api.get(f"/ingest/{job_id}").json()


def test_upload_reads_strictly(api: ApiCase, store: GraphStore):
    companies = ("id,name,inn,region,municipality,roles\n"
                 "a,Альфа,'4899001208,Липецкая обл.,Елец,заказчик\n"
                 'x,"Broken quote,123\n').encode("cp1251")
    response = api.post("/ingest", files=[("files", ("companies.csv", companies, "text/csv"))])
    assert response.status_code == 202, response.text
    job = _wait(api, response.json()["id"])
    assert job["status"] == "done" and job["rejected"] == 1, job
    a = store.get(_K.COMPANY, "a")
    assert isinstance(a, Company)
    assert (a.inn, a.region, a.roles, a.coords_source) == (
        "4899001208", "Липецкая область", [Role.BUYER], "gazetteer")
    assert not store.exists(_K.COMPANY, "x")


def test_upload_of_a_gzip_named_csv_fails_with_the_reason(api: ApiCase):
    data = gzip.compress(b"id,name\na,b\n")
    response = api.post("/ingest", files=[("files", ("companies.csv", data, "text/csv"))])
    assert response.status_code == 202, response.text
    job = _wait(api, response.json()["id"])
    assert job["status"] == "failed"
    assert "not a text table (looks like gzip)" in job["error"]



@pytest.mark.parametrize(
    "module",
    [
        "coopgraph.graph.regions",
        "coopgraph.ingest.gazetteer",
        "coopgraph.ingest.validate",
        "coopgraph.ingest.formats",
        "coopgraph.ingest.readers",
    ],
)
def test_the_examples_in_the_docstrings_hold(module: str):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("written", "official"), [
    ("Липецкая обл.", "Липецкая область"), ("Lipetsk Oblast", "Липецкая область"),
    ("48", "Липецкая область"), ("Lipetskaya oblast'", "Липецкая область"),
    ("г. Москва", "Москва"), ("Moscow Oblast", "Московская область"),
    ("Респ. Татарстан", "Республика Татарстан"), ("ХМАО — Югра",
                                                   "Ханты-Мансийский автономный округ — Югра"),
    ("7", "Кабардино-Балкарская Республика"), ("Bavaria", None), ("99", None),
])
def test_region_spellings(written: str, official: str | None):
    from coopgraph.graph.regions import canonical_region, regions

    assert len(regions()) == 89 and len({r.code for r in regions()}) == 89
    assert canonical_region(written) == official
