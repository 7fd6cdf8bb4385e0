"""Registries in: readers (SME register, EGRUL/EGRIP), fill by INN, OKVED evidence in rankings.

Fixtures: tests/data/registry (README there lists every record and what is wrong with it).
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import coopgraph.ingest.registry_fill as fill
from coopgraph.api.cli import app
from coopgraph.graph.classifiers import code_class, okpd2_name, okved_name
from coopgraph.graph.errors import IngestError
from coopgraph.graph.ids import is_valid_inn
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.registry import RegistryProblem, RegistryRecord, read_registry, read_xml
from coopgraph.ingest.registry_fill import fill_from_registry, read_inn_list
from coopgraph.ingest.registry_synth import synthetic_inn, write_synthetic_sme
from coopgraph.queries.factors import UNKNOWN
from coopgraph.queries.match import rank_buyers, rank_suppliers
from coopgraph.queries.projection import ProjectionCache
from coopgraph.queries.registry import find_by_code, registry_agreement, registry_fit
from tests.api_support import assert_problem, make_case

DATA = Path(__file__).parent / "data" / "registry"
SAMPLE = Path(__file__).parents[1] / "data" / "sample"


def _split(items: list[RegistryRecord | RegistryProblem]
           ) -> tuple[list[RegistryRecord], list[RegistryProblem]]:
    records = [i for i in items if isinstance(i, RegistryRecord)]
    problems = [i for i in items if isinstance(i, RegistryProblem)]
    return records, problems


# --- readers ---------------------------------------------------------------------------


def test_sme_register_records_are_read_with_their_fields() -> None:
    records, _ = _split(list(read_registry(DATA / "sme.xml")))
    by_inn = {r.inn: r for r in records}
    assert len(records) == 16  # 19 documents: 3 rejected (INN, no company, no name)
    lityo = by_inn["4899035905"]
    assert (lityo.registry, lityo.name, lityo.ogrn) == ("sme", 'АО "ЛИПЕЦКОЕ ЛИТЬЁ"',
                                                        "1164899035905")
    assert (lityo.region, lityo.region_code, lityo.municipality) == (
        "Липецкая область", "48", "Липецк")
    assert lityo.okved_main == "24.51" and lityo.okved == ["24.51", "24.52", "25.62"]
    assert lityo.date is not None and lityo.date.isoformat() == "2024-06-10"
    assert lityo.file == "sme.xml" and lityo.index == 1 and "ИдДок 00000001" in lityo.position
    trader = by_inn["482600012395"]
    assert trader.name == "ИП Иванов Пётр Сергеевич"
    assert trader.municipality == "Липецкий район" and trader.okved == ["25.62", "25.61"]
    assert by_inn["3666007004"].region == "Воронежская область"


def test_egrul_and_egrip_extracts_are_read() -> None:
    records, problems = _split(list(read_registry(DATA / "egrul.xml")))
    first, fias, old = records
    assert (first.registry, first.name, first.municipality) == ("egrul", 'АО "ЕКПЗ"', "Елец")
    assert first.full_name == 'АКЦИОНЕРНОЕ ОБЩЕСТВО "ЕЛЕЦКИЙ КУЗНЕЧНО-ПРЕССОВЫЙ ЗАВОД"'
    assert first.okved == ["25.50", "25.62"] and first.date is not None
    assert (fias.region, fias.region_code, fias.municipality) == ("Липецкая область", "48",
                                                                  "Грязи")
    assert old.okved == [] and old.okved_main is None  # 2001 edition: no ПрВерсОКВЭД
    assert [(p.position.split(" (")[0], p.field, p.rejected) for p in problems] == [
        ("record 3", "СвОКВЭДОсн/@ПрВерсОКВЭД", False), ("record 4", "СвЮЛ/@ИНН", True)]
    (ip,), none = _split(list(read_registry(DATA / "egrip.xml")))
    assert none == []
    assert (ip.registry, ip.name, ip.municipality) == ("egrip", "ИП Петров Олег Николаевич",
                                                       "Лебедянский район")
    assert ip.okved_main == "25.62" and ip.okved == ["25.62", "33.12"]


def test_each_malformed_record_is_reported_with_file_and_position() -> None:
    _, problems = _split(list(read_registry(DATA / "sme.xml")))
    seen = {(p.position.split(" (")[0], p.field, p.rejected) for p in problems}
    assert seen == {
        ("record 14", "ОргВклМСП/@ИННЮЛ", True),  # check digit
        ("record 15", "СвОКВЭДОсн/@ВерсОКВЭД", False),  # 2001 edition
        ("record 16", "СвОКВЭДДоп/@ВерсОКВЭД", False),  # unknown edition 2029
        ("record 16", "СвОКВЭДДоп/@КодОКВЭД", False),  # 99.99.99 is no OKVED2 code
        ("record 17", "ОргВклМСП/@ОГРН", False),  # check digit: loaded without it
        ("record 18", "Документ", True),  # neither ОргВклМСП nor ИПВклМСП
        ("record 19", "name", True),
    }
    assert all(p.file == "sme.xml" for p in problems)
    reasons = " ".join(p.reason for p in problems)
    assert "2001 edition" in reasons and "'2029'" in reasons and "check digit" in reasons


def test_a_truncated_file_keeps_the_records_before_the_break() -> None:
    records, problems = _split(list(read_registry(DATA / "sme_truncated.xml")))
    assert [r.inn for r in records] == ["4899035905", "4899042331", "4899108871"]
    (problem,) = problems
    assert problem.rejected and "truncated" in problem.reason
    assert problem.position.startswith("line ") and "after record 3" in problem.position


@pytest.mark.parametrize(("name", "words"), [
    ("sme_namespaced.xml", "namespace 'urn:example:msp'"),
    ("other_format.xml", "<catalog> is not an FNS registry file"),
])
def test_a_wrong_namespace_or_another_format_is_refused(name: str, words: str) -> None:
    items = list(read_registry(DATA / name))
    assert len(items) == 1 and isinstance(items[0], RegistryProblem)
    assert words in items[0].reason and items[0].file == name


def test_a_zip_of_many_files_is_read_member_by_member(tmp_path: Path) -> None:
    archive = tmp_path / "rsmp.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(DATA / "sme.xml", "part1/sme.xml")
        z.write(DATA / "egrul.xml", "part2.xml")
        z.writestr("readme.txt", "not xml")
    items = list(read_registry(archive))
    separate = list(read_registry(DATA / "sme.xml")) + list(read_registry(DATA / "egrul.xml"))
    records, problems = _split(items)
    assert [r.inn for r in records] == [r.inn for r in _split(separate)[0]]
    assert {r.file for r in records} == {"rsmp.zip/part1/sme.xml", "rsmp.zip/part2.xml"}
    assert any(p.file == "rsmp.zip/readme.txt" and "not an XML file" in p.reason
               for p in problems)
    assert len(problems) == len(_split(separate)[1]) + 1


def test_reading_streams_in_bounded_memory(tmp_path: Path) -> None:
    """The peak of reading 5 000 records is about that of 500: nothing accumulates."""
    peaks = []
    for n in (500, 5_000):
        path = write_synthetic_sme(tmp_path / f"{n}.xml", n)
        tracemalloc.start()
        count = sum(1 for item in read_registry(path) if isinstance(item, RegistryRecord))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == n
    assert peaks[1] < 1.5 * peaks[0], peaks


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=9))
def test_a_changed_inn_digit_is_rejected_exactly_when_the_check_fails(i: int, shift: int
                                                                      ) -> None:
    """Write one synthetic record, change the INN's last digit: rejected iff invalid."""
    inn = synthetic_inn(i)
    bad = inn[:-1] + str((int(inn[-1]) + shift) % 10)
    xml = (f'<Файл><Документ ИдДок="1" ВидСубМСП="1"><ОргВклМСП НаимОрг="Х" ИННЮЛ="{bad}"/>'
           "</Документ></Файл>")
    records, problems = _split(list(read_xml(io.BytesIO(xml.encode()), "x.xml")))
    assert bool(records) == is_valid_inn(bad)
    assert bool(problems) == (not is_valid_inn(bad))


# --- classifiers -------------------------------------------------------------------------


def test_classifiers_are_shipped_with_names_and_shared_classes() -> None:
    assert okved_name("24.51") == "Литье чугуна"
    assert okpd2_name("24.51") == "Услуги по литью чугуна"
    assert okved_name("28.30") is not None and okpd2_name("28.30.59") is not None
    assert okpd2_name("01") is not None  # the one-digit codes of the publication, repaired
    assert code_class("25.62.1") == code_class("25.62") == "25.62"
    readme = (Path(okved_name.__code__.co_filename).parent / "README.md").read_text("utf-8")
    assert "7708234640-okved2" in readme and "2022-05-25" in readme


# --- fill by INN (both stores) -------------------------------------------------------------


def _count(store: GraphStore) -> int:
    return store.list(EntityKind.COMPANY, limit=1).total


def _companies_only(store: GraphStore) -> None:
    report = ingest_paths(store, [SAMPLE / "companies.csv"])
    assert report.ok


def test_fill_by_inn_updates_listed_companies_and_declared_data_wins(store: GraphStore,
                                                                    tmp_path: Path) -> None:
    _companies_only(store)
    before = store.get(EntityKind.COMPANY, "m-dankov-lit")
    members = tmp_path / "members.csv"
    members.write_text("ИНН;название\n4899042331;цех\n4826005031;новый\n4826005032;опечатка\n"
                       "7707083893;нет в реестре\n", encoding="utf-8")
    listed, listed_problems = read_inn_list(members)
    assert listed == {"4899042331", "4826005031", "7707083893"}
    assert [(p.position, p.field) for p in listed_problems] == [("row 4", "ИНН")]
    report = fill_from_registry(store, [DATA / "sme.xml", DATA / "egrul.xml"], only_inn=listed)
    assert (report.selected, report.created, report.updated) == (2, 1, 1)
    assert report.not_found == ["7707083893"] and not report.ok
    cex = store.get(EntityKind.COMPANY, "m-dankov-lit")
    assert (cex.name, cex.municipality, cex.employees) == (before.name, "Данков", 90)
    assert cex.source == "companies.csv"  # the member's record keeps its provenance
    assert cex.okved == ["24.51"] and cex.okved_main == "24.51"
    assert cex.registry_source == "Реестр МСП ФНС: sme.xml"
    assert cex.registry_date is not None and cex.registry_date.isoformat() == "2024-06-10"
    conflicts = {(c.company_id, c.field, c.kept, c.registry) for c in report.conflicts}
    assert conflicts == {("m-dankov-lit", "municipality", "Данков", "Задонск"),
                         ("m-dankov-lit", "employees", 90, 120)}
    new = store.get(EntityKind.COMPANY, "inn-4826005031")
    assert (new.name, new.inn, new.region, new.municipality) == (
        'ООО "РЕЕСТР-4"', "4826005031", "Липецкая область", "Лебедянь")
    assert (new.source, new.row) == ("sme.xml", 8)
    # nothing else was loaded: 180 sample companies + 1
    assert _count(store) == 181
    # companies are found by OKVED code in the store's filters (the API's query parameters)
    found = store.list(EntityKind.COMPANY, filters={"okved": "24.51"}).items
    assert sorted(c.id for c in found) == ["inn-4826005031", "m-dankov-lit"]


def test_fill_by_region_and_a_second_run_changes_nothing(store: GraphStore) -> None:
    _companies_only(store)
    first = fill_from_registry(store, [DATA / "sme.xml"], regions=["36"])
    assert (first.selected, first.created) == (1, 1)
    assert store.get(EntityKind.COMPANY, "inn-3666007004").region == "Воронежская область"
    everything = fill_from_registry(store, [DATA / "sme.xml", DATA / "egrul.xml",
                                            DATA / "egrip.xml"])
    count = _count(store)
    again = fill_from_registry(store, [DATA / "sme.xml", DATA / "egrul.xml",
                                       DATA / "egrip.xml"])
    assert _count(store) == count == 180 + first.created + everything.created
    assert again.created == 0 and again.updated == everything.selected
    assert len(again.conflicts) == len(everything.conflicts)


def test_a_fill_that_fails_half_way_leaves_nothing(store: GraphStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = fill._row
    calls = {"n": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 9:
            raise RuntimeError("the process dies here")
        return real(*args, **kwargs)

    monkeypatch.setattr(fill, "_row", failing)
    with pytest.raises(RuntimeError):
        fill_from_registry(store, [DATA / "sme.xml"], batch=2)  # 4 batches staged before
    assert calls["n"] == 9
    assert _count(store) == 0


# --- registry evidence in rankings, API and CLI (both stores) ---------------------------------


@pytest.fixture
def sample_with_registry(store: GraphStore) -> GraphStore:
    assert ingest_paths(store, [SAMPLE]).ok
    fill_from_registry(store, [DATA / "sme.xml", DATA / "egrul.xml", DATA / "egrip.xml"])
    return store


def test_registry_evidence_ranks_explains_and_filters_out(sample_with_registry: GraphStore
                                                          ) -> None:
    proj = ProjectionCache(sample_with_registry).get()
    fit = registry_fit(proj)
    newco = proj.company_index["inn-4826005031"]  # registry only: main OKVED 24.51
    grey = proj.category_index["cast.grey_iron"]  # OKPD2 24.51
    assert fit[newco, grey] == 2
    # the only evidence this company has: without the registry it has no buyers to offer
    result = rank_buyers(proj, "inn-4826005031", k=5)
    assert result.candidates and {c.fit for c in result.candidates} == {"registry_main"}
    top = result.candidates[0]
    capability = next(f for f in top.factors if f.name == "capability")
    assert capability.value == 0.4
    assert capability.text_ru.startswith("по ОКВЭД 24.51 — Литье чугуна")
    assert capability.text_en.startswith("by OKVED 24.51 — Литье чугуна")
    capacity = next(f for f in top.factors if f.name == "capacity")
    assert capacity.value == UNKNOWN and capacity.raw is None  # never free capacity
    assert rank_buyers(proj, "inn-4826005031", k=5,
                       filters={"registry": False}).candidates == []
    # an additional code weighs less than the main one
    ekpz = proj.company_inn.index("4826007007")
    assert {int(v) for v in fit[ekpz].data} == {1, 2}  # 25.50 main, 25.62 additional
    # a declared capability still outranks registry evidence for the same category
    ranked = rank_suppliers(proj, "m-kombain", k=60, category="cast.grey_iron")
    fits = [c.fit for c in ranked.candidates]
    assert "registry_main" in fits
    assert max(i for i, f in enumerate(fits) if f == "declared") < fits.index("registry_main")
    without = rank_suppliers(proj, "m-kombain", k=60, category="cast.grey_iron",
                             filters={"registry": False})
    assert all(c.fit not in ("registry_main", "registry_extra") for c in without.candidates)


def test_companies_by_okved_and_categories_by_okpd2(sample_with_registry: GraphStore,
                                                    tmp_path: Path) -> None:
    proj = ProjectionCache(sample_with_registry).get()
    found = find_by_code(proj, "24.51")
    assert {c[0] for c in found.companies} == {"inn-4826005031", "m-lityo", "m-dankov-lit"}
    assert {c[0] for c in found.categories} >= {"cast.grey_iron", "cast.ductile_iron"}
    assert all(c[2] == "24.51" for c in found.categories)
    case = make_case(sample_with_registry, tmp_path, seed=False)
    by_okved = case.get("/companies", params={"okved": "24.51"})
    assert by_okved.status_code == 200
    assert {c["id"] for c in by_okved.json()["data"]} == {c[0] for c in found.companies}
    by_okpd2 = case.get("/categories", params={"okpd2": "24.51", "limit": 100})
    assert by_okpd2.status_code == 200
    assert {c["code"] for c in by_okpd2.json()["data"]} == {c[0] for c in found.categories}
    codes = case.get("/codes/24.51")
    assert codes.status_code == 200, codes.text
    body = codes.json()
    assert body["okved_name"] == "Литье чугуна"
    assert {c["id"] for c in body["companies"]} == {c[0] for c in found.companies}
    assert {c["code"] for c in body["categories"]} == {c[0] for c in found.categories}
    assert case.get("/codes/24.5x").status_code == 400
    nothing = case.get("/companies", params={"okved": "24.5x"})
    assert nothing.status_code == 200 and nothing.json()["data"] == []
    # the ranking endpoint shows registry evidence, and drops it on request
    ranked = case.get("/match/buyers", params={"supplier": "inn-4826005031", "k": 3})
    assert ranked.status_code == 200, ranked.text
    assert {c["fit"] for c in ranked.json()["candidates"]} == {"registry_main"}
    dropped = case.get("/match/buyers", params={"supplier": "inn-4826005031",
                                                "registry": "false"})
    assert dropped.status_code == 200 and dropped.json()["candidates"] == []


def test_company_search_has_an_okved_facet(sample_with_registry: GraphStore,
                                           tmp_path: Path) -> None:
    """The dashboard's search (GET /companies/search?okved=) finds what `codes` finds."""
    proj = ProjectionCache(sample_with_registry).get()
    case = make_case(sample_with_registry, tmp_path, seed=False)
    for code in ("24.51", "24"):
        expected = {c[0] for c in find_by_code(proj, code).companies}
        assert expected
        found = case.get("/companies/search", params={"okved": code, "limit": 500})
        assert found.status_code == 200, found.text
        assert {c["id"] for c in found.json()["data"]} == expected, code
    castings = case.get("/companies/search", params={"okved": "24.51", "q": "литьё"})
    assert castings.status_code == 200
    assert {c["id"] for c in castings.json()["data"]} <= {
        c[0] for c in find_by_code(proj, "24.51").companies}
    assert_problem(case.get("/companies/search", params={"okved": "24.5x"}), 400)


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_fills_by_inn_and_finds_by_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    runner = CliRunner()
    members = tmp_path / "members.csv"
    members.write_text("inn\n4826005031\n4826005024\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--json"]).exit_code == 0
    result = runner.invoke(app, ["ingest", "--registry", str(DATA / "sme.xml"), "--only-inn",
                                 str(members), "--rejects-dir", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 1, result.output  # the file has rejected records
    data = json.loads(result.stdout)
    assert (data["selected"], data["created"], data["rejected"]) == (2, 2, 3)
    assert json.loads((tmp_path / "r" / "registry-report.json").read_text("utf-8"))["created"] == 2
    found = runner.invoke(app, ["codes", "28.12", "--json"])
    assert found.exit_code == 0, found.output
    companies = json.loads(found.stdout)["companies"]
    assert [(c["id"], c["main"]) for c in companies] == [("inn-4826005024", True)]
    assert runner.invoke(app, ["codes", "2x.12"]).exit_code == 2
    ranked = runner.invoke(app, ["match", "buyers", "-s", "inn-4826005024", "--json"])
    assert ranked.exit_code == 0, ranked.output
    fits = {c["fit"] for c in json.loads(ranked.stdout)["candidates"]}
    assert "registry_main" in fits and fits <= {"registry_main", "registry_extra", "network",
                                                "popular_in_category", "popular_in_region",
                                                "popular"}
    dropped = runner.invoke(app, ["match", "buyers", "-s", "inn-4826005024", "--json",
                                  "--no-registry"])
    assert dropped.exit_code == 0, dropped.output
    # no registry fit is left: network-only candidates or popularity fillers (labelled so)
    assert {c["fit"] for c in json.loads(dropped.stdout)["candidates"]} <= {
        "network", "popular_in_category", "popular_in_region", "popular"}
    assert runner.invoke(app, ["ingest", "--only-inn", str(members)]).exit_code == 2


def test_cli_files_and_registry_with_json_print_one_object(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files and --registry together, --json: one JSON object (the registry's under a key)."""
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    members = tmp_path / "members.csv"
    members.write_text("inn\n4826005031\n4826005024\n", encoding="utf-8")
    result = CliRunner().invoke(app, [
        "ingest", str(SAMPLE), "--registry", str(DATA / "sme.xml"), "--only-inn", str(members),
        "--rejects-dir", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 1, result.output  # the registry file has rejected records
    data = json.loads(result.stdout)  # fails on two objects ("Extra data")
    assert isinstance(data, dict) and data["summary"]["loaded"] > 0
    assert (data["registry"]["selected"], data["registry"]["rejected"]) == (2, 3)
    assert data["store"]["kind"] == "embedded"


def test_registry_agreement_is_computed_from_the_files_by_hand(sample_with_registry: GraphStore
                                                               ) -> None:
    """Recall and precision against declared capabilities, recomputed from the CSV and XML."""
    okpd2 = {r["code"]: r["okpd2"] for r in csv.DictReader(
        (SAMPLE / "categories.csv").open(encoding="utf-8")) if r["okpd2"]}
    companies = {r["inn"]: r["id"] for r in csv.DictReader(
        (SAMPLE / "companies.csv").open(encoding="utf-8"))}
    declared: dict[str, set[str]] = {}
    for r in csv.DictReader((SAMPLE / "capabilities.csv").open(encoding="utf-8")):
        if r["category"] in okpd2:
            declared.setdefault(r["company_id"], set()).add(r["category"])
    processes = {r["company_id"] for r in csv.DictReader(
        (SAMPLE / "company_processes.csv").open(encoding="utf-8"))}
    holders = {r["company_id"] for r in csv.DictReader(
        (SAMPLE / "capabilities.csv").open(encoding="utf-8"))}
    n = n_declared = n_predicted = hits = silent = silent_pairs = 0
    for path in ("sme.xml", "egrul.xml", "egrip.xml"):
        for record in read_registry(DATA / path):
            if not isinstance(record, RegistryRecord) or not record.okved:
                continue
            classes = {".".join(c.split(".")[:2]) for c in record.okved}
            predicted = {c for c, o in okpd2.items() if ".".join(o.split(".")[:2]) in classes}
            cid = companies.get(record.inn, f"inn-{record.inn}")
            if cid not in processes and cid not in holders:
                silent += 1
                silent_pairs += len(predicted)
            truth = declared.get(cid)
            if truth:
                n += 1
                n_declared += len(truth)
                n_predicted += len(predicted)
                hits += len(truth & predicted)
    got = registry_agreement(ProjectionCache(sample_with_registry).get())
    assert (got.companies, got.declared, got.predicted, got.hits) == (
        n, n_declared, n_predicted, hits)
    assert (got.silent, got.silent_pairs) == (silent, silent_pairs)
    assert n > 0 and 0 < got.recall <= 1 and 0 < got.precision <= 1
    print(f"registry agreement: {got}, recall {got.recall:.2f}, precision {got.precision:.2f}")



def test_okved_a_member_declared_wins_over_the_registry(store: GraphStore, tmp_path: Path
                                                        ) -> None:
    members = tmp_path / "companies.csv"
    members.write_text("id,name,inn,оквэд,основной оквэд\n"
                       "x1,ООО «Реестр-4»,4826005031,24.51|25.62,24.51\n", encoding="utf-8")
    assert ingest_paths(store, [members]).ok
    report = fill_from_registry(store, [DATA / "sme.xml"], only_inn={"4826005031"})
    company = store.get(EntityKind.COMPANY, "x1")
    assert company.okved == ["24.51", "25.62"] and company.registry_source is None
    assert [(c.field, c.kept, c.registry) for c in report.conflicts] == [
        ("okved", "24.51 25.62", "24.51")]  # the names agree once normalised


def test_an_inn_read_twice_loads_once_and_says_where_it_was_first(store: GraphStore) -> None:
    report = fill_from_registry(store, [DATA / "sme.xml", DATA / "sme_truncated.xml"])
    repeated = [p for p in report.problems if "already read" in p.reason]
    assert [(p.file, p.position.split(" (")[0]) for p in repeated] == [
        ("sme_truncated.xml", "record 1"), ("sme_truncated.xml", "record 2"),
        ("sme_truncated.xml", "record 3")]
    assert "(sme.xml, record 1)" in repeated[0].reason
    assert _count(store) == report.created == 16


def test_a_members_list_may_be_one_column_of_inns_without_a_header(tmp_path: Path) -> None:
    plain = tmp_path / "inns.csv"
    plain.write_text("4826005031\n4826005024\n4826005025\n", encoding="utf-8")
    inns, problems = read_inn_list(plain)
    assert inns == {"4826005031", "4826005024"}
    assert [(p.position, p.reason.split(" fails")[0]) for p in problems] == [
        ("row 3", "INN 4826005025")]
    other = tmp_path / "other.csv"
    other.write_text("name,city\nx,y\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no column named inn"):
        read_inn_list(other)
