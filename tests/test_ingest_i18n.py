"""The ingest report in Russian and English: every reject has a code, said in both.

One set of files makes a reject of every family — validation (pydantic's errors in our
words), the readers (a malformed CSV record, dates), the models' own rules,
references — a warning about headers and an entity-resolution review note. The same
report is read in Russian and in English: through :meth:`IngestReport.localized`, on
the CLI (``--lang``: report.md and the rejects CSV) and through ``POST /ingest``
(``?lang=`` and ``Accept-Language``) on both stores. The Russian text must hold no
English word but the ids, column names and values the files themselves contain.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.messages import CATALOGUE, Msg, render
from coopgraph.graph.models import Role
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.report import IngestReport, er_message
from tests.api_support import ApiCase, make_case

FILES = {
    "companies.csv": (
        "id,name,inn,municipality,lat,lon,roles\n"
        "c1,ООО Литмаш,4899001208,г. Елец,52.6,38.5,supplier\n"
        "c2,ООО Литмаш 2,,г. Елец,,,supplier\n"      # a review pair with c1
        "c3,ООО Бета,123,г. Елец,,,supplier\n"        # INN length (a model rule)
        "c4,ООО Гамма,,г. Елец,95,10,supplier\n"      # outside the globe
        "c5,ООО Дельта,,г. Елец,abc,10,wizard\n"      # not a number; unknown role
        "c6,,,г. Елец,,,supplier\n"),                 # name missing
    "more_companies.csv": (
        "id,name\n"
        "d1,ООО Эпсилон,лишняя\n"                     # more cells than the header
        'd2,"ООО Дзета\n'),                           # a quote never closed
    "categories.csv": "code,name_ru\nbear.ball,Подшипники\n",
    "supplies.csv": (
        "supplier_id,buyer_id,category,volume_per_year,since,colour\n"  # colour: unknown
        "c1,c2,bear.ball,5,31.02.2023,red\n"          # no such date
        "c1,c2,bear.ball,5,04/09/2021,red\n"          # ambiguous date
        "c1,c1,bear.ball,5,2021-01-01,red\n"          # supplies itself
        "c2,c1,bear.ball,-5,2021-01-01,red\n"         # negative
        "c1,c9,bear.ball,5,2021-01-01,red\n"),        # unknown company
}

# (file, row, column) -> the code its reject must carry
EXPECTED = {
    ("companies.csv", 4, "inn"): "id.inn_length",
    ("companies.csv", 5, "lat"): "v.outside_globe",
    ("companies.csv", 6, "lat"): "v.number",
    ("companies.csv", 6, "roles"): "v.enum",
    ("companies.csv", 7, "name"): "v.missing",
    ("more_companies.csv", 2, ""): "r.extra_cells",
    ("more_companies.csv", 3, ""): "r.unclosed_quote",
    ("supplies.csv", 2, "since"): "r.date_calendar",
    ("supplies.csv", 3, "since"): "r.date_ambiguous",
    ("supplies.csv", 4, "buyer_id"): "m.supply_self",
    ("supplies.csv", 5, "volume_per_year"): "v.negative",
    ("supplies.csv", 6, "buyer_id"): "ref.unknown",
}

# Russian words each family must use (the sentence really is Russian, not a copy)
RUSSIAN = {
    "id.inn_length": "ИНН", "v.outside_globe": "широта", "v.number": "нужно число",
    "v.enum": "неизвестное значение", "v.missing": "обязательное поле",
    "r.extra_cells": "ячеек", "r.unclosed_quote": "незакрытая кавычка",
    "r.date_calendar": "такой даты нет", "r.date_ambiguous": "неоднозначна",
    "m.supply_self": "не может поставлять", "v.negative": "отрицательным",
    "ref.unknown": "нет записи",
}
ENGLISH = {
    "id.inn_length": "must have 10 digits", "v.outside_globe": "outside the globe",
    "v.number": "must be a number", "v.enum": "unknown role", "v.missing": "required",
    "r.extra_cells": "cells but the header has", "r.unclosed_quote": "unclosed quote",
    "r.date_calendar": "not a date on the calendar", "r.date_ambiguous": "is ambiguous",
    "m.supply_self": "cannot supply itself", "v.negative": "must not be negative",
    "ref.unknown": "unknown company 'c9'",
}


def _write(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def _allowed_latin() -> set[str]:
    """Latin words the Russian text may hold: what the files contain, and role ids."""
    words: set[str] = set()
    for name, text in FILES.items():
        words.update(re.findall(r"[A-Za-z_]+", name + " " + text))
    words.update(role.value for role in Role)
    words.update({"md", "json", "rejects"})  # report.md, report.json, *.rejects.csv
    return {w.lower() for w in words}


def _english_words(text: str) -> list[str]:
    allowed = _allowed_latin()
    return [w for w in re.findall(r"[A-Za-z]+(?:_[A-Za-z]+)*", text)
            if w.lower() not in allowed and not all(p in allowed for p in w.lower().split("_"))]


def _check_rejects(rejects: list[dict[str, Any]], lang: str) -> None:
    got = {(r["file"], int(r["row"]), r["column"]): r for r in rejects}
    assert set(got) == set(EXPECTED), sorted(set(got) ^ set(EXPECTED))
    for key, code in EXPECTED.items():
        reject = got[key]
        assert reject["code"] == code, (key, reject)
        want = RUSSIAN[code] if lang == "ru" else ENGLISH[code]
        assert want in reject["reason"], (key, reject["reason"])
        if lang == "ru":
            assert not _english_words(reject["reason"]), (key, reject["reason"])


def _check_report(report: dict[str, Any], lang: str) -> None:
    _check_rejects(report["rejects"], lang)
    (review,) = report["review"]
    assert review["code"] == "er.similar"
    (warning,) = report["warnings"]
    if lang == "ru":
        assert "число только в одном названии" in review["reason"], review
        assert "«ООО Литмаш» ~ «ООО Литмаш 2»" in review["reason"]
        assert "пропущены неизвестные столбцы" in warning
        assert not _english_words(review["reason"] + " " + warning), (review, warning)
    else:
        assert "a number on one side only" in review["reason"], review
        assert "ignored unknown column(s)" in warning


def test_every_family_is_said_in_both_languages(store: GraphStore, tmp_path: Path) -> None:
    report = ingest_paths(store, [_write(tmp_path / "in")])
    assert report.lang == "en"
    _check_report(report.to_json(), "en")
    russian = report.localized("ru")
    assert russian.lang == "ru"
    _check_report(russian.to_json(), "ru")
    back = russian.localized("en")  # the codes survive a round trip
    assert [r.reason for r in back.rejects] == [r.reason for r in report.rejects]
    markdown = russian.to_markdown(limit=100)
    assert markdown.startswith("# Отчёт о загрузке")
    assert not _english_words(markdown), _english_words(markdown)


def test_a_report_made_in_russian_writes_russian_files(store: GraphStore, tmp_path: Path
                                                       ) -> None:
    rejects = tmp_path / "rejects"
    report = ingest_paths(store, [_write(tmp_path / "in")], rejects_dir=rejects, lang="ru")
    _check_report(report.to_json(), "ru")
    text = (rejects / "report.md").read_text(encoding="utf-8")
    assert "Отклонённые строки" in text and not _english_words(text), _english_words(text)
    with open(rejects / "supplies.csv.rejects.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reasons = " ".join(r["_reason"] for r in rows)
    assert "неоднозначна" in reasons and "такой даты нет" in reasons
    assert not _english_words(reasons), _english_words(reasons)


def test_every_catalogue_entry_renders_in_both_languages() -> None:
    """Every code's two templates name the same parameters (derived words aside)."""
    field = re.compile(r"{(\w+)")
    derived = {"coord_ru", "coord_en", "label_ru", "kind_ru", "label", "note", "extra",
               "extra_en", "where_en", "names_en", "month_a_ru", "month_b_ru",
               "month_a_en", "month_b_en", "what", "field", "detail", "where", "names",
               "when_ru", "when_en", "rows_en"}
    for code, (ru, en) in CATALOGUE.items():
        assert re.search("[а-яё]", ru, re.IGNORECASE) or code in {
            "h.unknown_one"}, code
        # said differently on purpose: pydantic's own English words only in English
        apart = {"v.other": {"value", "text"}, "r.extra_cells": {"extra"},
                 "load.completed": {"rows"}}.get(code, set())
        assert (set(field.findall(ru)) - derived) ^ (set(field.findall(en)) - derived) \
            <= apart, code
        assert Msg(code, **{name: "1" for name in field.findall(ru + en)}).render("ru")


def test_review_notes_of_the_resolver_are_read_back() -> None:
    note = er_message("similar name in г. Елец: 'ООО Литмаш' ~ 'ООО Литмаш 2' "
                      "(a number on one side only)")
    assert isinstance(note, Msg) and note.code == "er.similar"
    assert render(note, "en") == ("similar name in г. Елец: 'ООО Литмаш' ~ 'ООО Литмаш 2' "
                                  "(a number on one side only)")
    assert render(note, "ru") == ("похожее название, г. Елец: «ООО Литмаш» ~ «ООО Литмаш 2» "
                                  "(число только в одном названии)")
    merged = er_message("similar name in no municipality: 'A' ~ 'A Holdings', "
                        "same main OKVED 24.51")
    assert render(merged, "ru") == ("похожее название, муниципалитет не указан: «A» ~ "
                                    "«A Holdings», тот же основной ОКВЭД 24.51")
    assert render(er_message("same INN 4899001208"), "ru") == "тот же ИНН 4899001208"
    assert render(Msg("dup.conflict", row=1234, file="a.csv", keys="id"), "en").startswith(
        "conflicts with row 1234 of a.csv")  # a row number is not a quantity: no "1,234"
    assert er_message("something new the resolver says") == "something new the resolver says"


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coopgraph", *args], env=env, text=True,
                          capture_output=True, timeout=300, check=False)


def test_cli_ingest_report_follows_lang(tmp_path: Path) -> None:
    import os

    inputs = _write(tmp_path / "in")
    for lang in ("ru", "en"):
        env = {**os.environ, "COOPGRAPH_STORE": "embedded",
               "COOPGRAPH_DATA_DIR": str(tmp_path / f"store-{lang}")}
        out = tmp_path / f"rej-{lang}"
        done = _cli(["--lang", lang, "ingest", str(inputs), "--rejects-dir", str(out)], env)
        assert done.returncode == 1, done.stderr  # rows were rejected
        markdown = (out / "report.md").read_text(encoding="utf-8")
        with open(out / "companies.csv.rejects.csv", encoding="utf-8-sig", newline="") as handle:
            reasons = " ".join(r["_reason"] for r in csv.DictReader(handle))
        if lang == "ru":
            assert "# Отчёт о загрузке" in markdown and "широта 95 вне земного шара" in reasons
            assert not _english_words(markdown + reasons), _english_words(markdown + reasons)
            assert "пропущены неизвестные столбцы" in done.stderr
        else:
            assert "# Ingest report" in markdown and "latitude 95 is outside" in reasons
            assert not re.search("[а-яё]", reasons.replace("ООО", ""), re.IGNORECASE) or \
                all(w in FILES["companies.csv"] for w in re.findall("[а-яё]+", reasons, re.I))


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path, seed=False, upload_limit=64 * 1024)


def _job(api: ApiCase, job_id: str, **headers: str) -> dict[str, Any]:
    api.app.state.jobs.wait(timeout=120)
    deadline = time.monotonic() + 30
    path = f"/ingest/{job_id}"
    while True:
        job: dict[str, Any] = api.client.get(path, headers={**api.h("admin"), **headers}).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_post_ingest_report_in_both_languages(api: ApiCase, tmp_path: Path) -> None:
    files = [("files", (name, text.encode(), "text/csv")) for name, text in FILES.items()]
    response = api.post("/ingest", files=files)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    stored = _job(api, job_id)
    assert stored["status"] == "done", stored
    _check_report(stored["report"], "en")  # as stored: English, codes kept
    russian = _job(api, job_id, **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    _check_report(russian["report"], "ru")
    assert _job(api, job_id, **{"Accept-Language": "ru"})["report"] == russian["report"]
    english = api.get(f"/ingest/{job_id}?lang=en").json()
    _check_report(english["report"], "en")
    assert api.client.get(f"/ingest/{job_id}?lang=ru", headers={
        **api.h("admin"), "Accept-Language": "en"}).json()["report"] == russian["report"]
    assert api.get(f"/ingest/{job_id}?lang=de").status_code == 422

    for lang in ("ru", "en"):
        csv_text = api.get(f"/ingest/{job_id}/rejects?lang={lang}").text
        rows = [{**r, "row": int(r["row"])} for r in csv.DictReader(io.StringIO(csv_text))]
        _check_rejects(rows, lang)


def test_reports_stored_before_codes_still_render(tmp_path: Path) -> None:
    """A report without codes (an older job) is shown as it was stored."""
    from coopgraph.ingest.report import localize_json

    old = {"rejects": [{"file": "a.csv", "row": 2, "column": "x", "reason": "old text"}],
           "warnings": ["old warning"], "merges": [], "review": []}
    new = localize_json(old, "ru")
    assert new["rejects"][0]["reason"] == "old text" and new["warnings"] == ["old warning"]
    assert IngestReport.model_validate(new).lang == "ru"
