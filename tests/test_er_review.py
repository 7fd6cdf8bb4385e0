"""Entity resolution: the repros of issue #10 as tests, and the review queue on both stores.

Each repro loads files the way a data steward does (``ingest_paths``, the CLI's and
``POST /ingest``'s pipeline) into each store, then checks what was stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.errors import NotFound
from coopgraph.graph.models import Company
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.resolve import (
    Candidate,
    compare,
    derive_company_id,
    name_slug,
    normalize_name,
    resolve,
)
from coopgraph.ingest.review import ReviewError, decide, list_pairs, pair_id
from tests.api_support import ApiCase, assert_problem, make_case

_K = EntityKind


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _names(store: GraphStore) -> list[tuple[str, str | None]]:
    return sorted((c.name, c.municipality) for c in store.iter_all(_K.COMPANY)
                  if isinstance(c, Company))


# --- the repros ----------------------------------------------------------------------


def test_same_name_in_two_towns_stays_two_companies(store: GraphStore, tmp_path: Path) -> None:
    files = _write(tmp_path / "in", "companies.csv",
                   "name,municipality\nООО «Ромашка»,Елец\nООО «Ромашка»,Липецк\n"
                   "Ромашка,г. Елец\n")
    report = ingest_paths(store, [files])
    ids = sorted(c.id for c in store.iter_all(_K.COMPANY))
    assert ids == ["name-romashka--elets", "name-romashka--lipetsk"]
    # the third row is the first one again (same town, same name without the form)
    [merge] = report.merges
    assert (merge.kept_id, merge.row) == ("name-romashka--elets", 4)


def test_one_firms_plants_in_several_countries_are_not_one_company(store: GraphStore,
                                                                   tmp_path: Path) -> None:
    rows = "".join(f"Murata Manufacturing Co. Ltd.,{country}\n"
                   for country in ("Japan", "China", "Philippines", "Thailand"))
    files = _write(tmp_path / "in", "companies.csv", "name,region\n" + rows)
    report = ingest_paths(store, [files])
    assert report.merges == [] and report.review == []
    assert store.stats()["company"] == 4


def test_international_legal_forms_merge_murata(store: GraphStore, tmp_path: Path) -> None:
    files = _write(tmp_path / "in", "companies.csv",
                   "id,name\nm1,Murata Manufacturing Co. Ltd.\n"
                   "m2,Murata Manufacturing Company Limited\n")
    report = ingest_paths(store, [files])
    assert [(m.merged_id, m.kept_id) for m in report.merges] == [("m2", "m1")]
    assert [c.id for c in store.iter_all(_K.COMPANY)] == ["m1"]
    [pair] = list_pairs(store, "merged")  # kept, so that the merge can be split back
    assert (pair.a_id, pair.b_id, pair.id) == ("m1", "m2", pair_id("m2", "m1"))


def test_microchip_is_not_micron(store: GraphStore, tmp_path: Path) -> None:
    files = _write(tmp_path / "in", "companies.csv",
                   "id,name\nmu,Micron Technology Incorporated\n"
                   "mc,MicroChip Technology Incorporated\n")
    report = ingest_paths(store, [files])
    assert report.merges == [] and report.review == []
    assert store.stats()["company"] == 2


def test_codes_differing_in_a_digit_are_never_a_review_pair(store: GraphStore,
                                                            tmp_path: Path) -> None:
    files = _write(tmp_path / "in", "companies.csv", "id,name\na,CN43082\nb,CN4382\n"
                   "c,Завод №1\nd,Завод №2\n")
    report = ingest_paths(store, [files])
    assert report.merges == [] and report.review == []


@pytest.mark.parametrize("form", [
    "Co.", "Ltd.", "Co. Ltd.", "Co., Ltd.", "Company Limited", "Limited", "Corporation",
    "Incorporated", "Inc.", "GmbH", "AG", "S.A.", "B.V.", "Pte. Ltd.", "LLC", "PLC", "S.p.A.",
    "SAS", "Oy", "AB", "NV", "KG", "Sp. z o.o.", "GmbH & Co. KG", "ООО", "ПАО", "АО", "ЗАО",
    "Публичное акционерное общество", "Общество с ограниченной ответственностью"])
def test_legal_forms_are_stripped(form: str) -> None:
    assert normalize_name(f"Acme Hydraulics {form}") == "acme hydraulics"
    assert normalize_name(f"{form} Acme Hydraulics") == "acme hydraulics"


def test_latin_names_keep_latin_in_ids_and_cyrillic_meets_latin() -> None:
    assert derive_company_id(None, None, "Jabil Incorporated") == "name-jabil"
    assert name_slug("ООО «Агротехмаш»") == "agrotekhmash"
    assert normalize_name("Агротехмаш") == normalize_name("Agrotekhmash")
    assert normalize_name("Discovery, Inс.") == normalize_name("Discovery, Inc.")  # Cyrillic с
    score, level = compare(normalize_name("ПАО «Северсталь»"), normalize_name("Severstal"))
    assert level.outcome == "merge" and score == 100.0


def test_blocking_is_not_all_pairs_without_a_municipality() -> None:
    """2,000 names in one place block: far fewer comparisons than the 2 million pairs."""
    words = ["Steel", "Agro", "Hydraulics", "Castings", "Foods", "Energy", "Gears", "Paint"]
    names = [f"{a}{i} {b} {c}" for i, (a, b, c) in enumerate(
        (words[i % 8], words[(i // 8) % 8], words[(i // 64) % 8]) for i in range(2000))]
    res = resolve([Candidate(Company(id=f"c{i}", name=n)) for i, n in enumerate(names)])
    assert res.compared < 2000 * 20, res.compared
    assert res.merges == []


def test_two_inns_are_never_merged_and_a_place_is_never_crossed() -> None:
    res = resolve([
        Candidate(Company(id="a", name="Литмаш", inn="4823001014", municipality="Елец")),
        Candidate(Company(id="b", name="Литмаш", inn="4821002020", municipality="Елец")),
        Candidate(Company(id="c", name="Литмаш", municipality="Елец", region="Липецкая обл.")),
        Candidate(Company(id="d", name="Литмаш", municipality="Елец",
                          region="Воронежская обл.")),
    ])
    assert res.groups == [[0, 2], [1], [3]]


# --- the review queue on both stores -----------------------------------------------


def _gidro(store: GraphStore, tmp_path: Path) -> tuple[str, Path]:
    """A load with one pair left for review: Гидропривод ~ Гидропривод-М (one word more)."""
    files = _write(tmp_path / "in", "companies.csv",
                   "id,name,municipality,lat,lon\ng1,ООО «Гидропривод»,Грязи,52.49,39.93\n"
                   "g2,Гидропривод-М,Грязи,,\n")
    _write(files, "categories.csv", "code,name_ru\nHYD,Гидравлика\n")
    _write(files, "capabilities.csv", "company_id,category,capacity_per_year\ng2,HYD,100\n")
    report = ingest_paths(store, [files])
    assert [(p.a_id, p.b_id) for p in report.review] == [("g1", "g2")]
    [pair] = list_pairs(store)
    assert pair.status == "review" and "Гидропривод" in (pair.reason or "")
    return pair.id, files


def test_accept_merges_now_and_undo_brings_it_back(store: GraphStore, tmp_path: Path) -> None:
    key, files = _gidro(store, tmp_path)
    decide(store, key, "accept", by="steward")
    assert not store.exists(_K.COMPANY, "g2")
    assert store.exists(_K.CAPABILITY, ("g1", "HYD"))  # its records moved to the kept one
    # a later load of the same files merges them again, without asking
    report = ingest_paths(store, [files])
    assert report.review == [] and not store.exists(_K.COMPANY, "g2")
    assert [(m.merged_id, m.reason) for m in report.merges] == [("g2", "accepted by a reviewer")]

    decide(store, key, "undo")
    assert store.get(_K.COMPANY, "g2").name == "Гидропривод-М"
    assert store.exists(_K.CAPABILITY, ("g2", "HYD"))
    assert not store.exists(_K.CAPABILITY, ("g1", "HYD"))
    assert [p.id for p in list_pairs(store)] == [key]


def test_reject_is_honoured_by_later_loads(store: GraphStore, tmp_path: Path) -> None:
    key, files = _gidro(store, tmp_path)
    saved = decide(store, key, "reject", by="steward")
    assert (saved.status, saved.decided_by) == ("rejected", "steward")
    report = ingest_paths(store, [files])
    assert report.review == [] and report.merges == []
    assert list_pairs(store) == []
    with pytest.raises(ReviewError):
        decide(store, key, "reject")
    with pytest.raises(NotFound):
        decide(store, "erp-0000000000000000", "accept")


def test_an_accidental_merge_is_split_and_stays_split(store: GraphStore,
                                                      tmp_path: Path) -> None:
    files = _write(tmp_path / "in", "companies.csv",
                   "id,name,municipality,employees\nk1,Кронос,Елец,\n"
                   "k2,ООО «Кронос»,Елец,40\n")
    report = ingest_paths(store, [files])
    assert [(m.merged_id, m.kept_id) for m in report.merges] == [("k2", "k1")]
    assert store.get(_K.COMPANY, "k1").employees == 40  # filled from the folded record
    [merged] = list_pairs(store, "merged")
    decide(store, merged.id, "split")
    assert store.get(_K.COMPANY, "k2").employees == 40
    assert store.get(_K.COMPANY, "k1").employees is None
    report = ingest_paths(store, [files])
    assert report.merges == [] and report.review == []
    assert store.exists(_K.COMPANY, "k2")


# --- CLI and API -------------------------------------------------------------------------


def test_cli_review_list_and_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    files = _write(tmp_path / "in", "companies.csv",
                   "id,name,municipality\ng1,ООО «Гидропривод»,Грязи\ng2,Гидропривод-М,Грязи\n")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(files)]).exit_code == 0
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [pair] = json.loads(listed.stdout)["pairs"]
    assert (pair["a_id"], pair["b_id"], pair["status"]) == ("g1", "g2", "review")
    shown = runner.invoke(app, ["review", "list"])
    assert "g2" in shown.stdout and "accept|reject|split|undo" in shown.stdout
    done = runner.invoke(app, ["review", "reject", pair["id"], "--by", "steward"])
    assert done.exit_code == 0 and "Kept apart" in done.stdout
    again = runner.invoke(app, ["review", "reject", pair["id"]])
    assert again.exit_code == 2 and "cannot reject" in again.output
    missing = runner.invoke(app, ["review", "accept", "erp-0000000000000000"])
    assert missing.exit_code == 2


def test_api_review_is_admin_only_and_decides(store: GraphStore, tmp_path: Path) -> None:
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    key, _files = _gidro(store, tmp_path)
    listed = api.get("/review")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 1 and body["data"][0]["id"] == key
    assert "folded" not in body["data"][0]
    assert_problem(api.get("/review", role="analyst"), 403)
    assert_problem(api.post(f"/review/{key}/accept", role="member_oem"), 403)
    accepted = api.post(f"/review/{key}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert not store.exists(_K.COMPANY, "g2")
    assert_problem(api.post(f"/review/{key}/reject"), 409, slug="review-conflict")
    assert_problem(api.post("/review/erp-0000000000000000/accept"), 404)
    assert api.post(f"/review/{key}/nonsense").status_code == 422
    undone = api.post(f"/review/{key}/undo")
    assert undone.status_code == 200 and undone.json()["status"] == "review"
    assert store.exists(_K.COMPANY, "g2")


def test_post_ingest_fills_the_review_queue(store: GraphStore, tmp_path: Path) -> None:
    api: ApiCase = make_case(store, tmp_path / "api", seed=False)
    data = "id,name,municipality\ng1,ООО «Гидропривод»,Грязи\ng2,Гидропривод-М,Грязи\n"
    started = api.post("/ingest", files=[("files", ("companies.csv", data.encode(),
                                                    "text/csv"))])
    assert started.status_code == 202, started.text
    api.app.state.jobs.wait(timeout=120)
    job = api.get(f"/ingest/{started.json()['id']}").json()
    assert job["status"] == "done", job
    assert [(p["a_id"], p["b_id"]) for p in job["report"]["review"]] == [("g1", "g2")]
    listed = api.get("/review").json()
    assert [(p["a_id"], p["b_id"], p["status"]) for p in listed["data"]] == [
        ("g1", "g2", "review")]


def test_a_merge_by_inn_is_not_split(store: GraphStore, tmp_path: Path) -> None:
    files = _write(tmp_path / "in", "companies.csv",
                   "id,name,inn\nx1,Литмаш,4823001014\nx2,ЛМ Завод,4823001014\n")
    ingest_paths(store, [files])
    [pair] = list_pairs(store, "merged")
    with pytest.raises(ReviewError, match="shared INN"):
        decide(store, pair.id, "split")
    assert not store.exists(_K.COMPANY, "x2")


def _inn10(head: str) -> str:
    """A 10-digit INN with a valid check digit after the 9 digits ``head``."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return head + str(sum(w * int(d) for w, d in zip(weights, head, strict=True)) % 11 % 10)


def test_a_company_without_inn_is_still_compared_in_a_block_of_inn_holders() -> None:
    """Pairs of two INN holders are skipped before scoring; one without an INN is not."""
    firms = [Candidate(Company(id=f"c{i}", name=f"ООО «Станкомаш Уралтех {i}»",
                               inn=_inn10(f"48230{i:04d}"), municipality="Елец"))
             for i in range(60)]  # one place block far larger than MAX_BLOCK
    lone = Candidate(Company(id="x", name="Станкомаш Уралтек 37", municipality="Елец"))
    res = resolve([*firms, lone])
    assert [37, 60] in res.groups
    assert {(e.a, e.b) for e in res.merges} == {(37, 60)}
    assert 0 < res.compared <= len(firms)  # only pairs with the INN-less company
