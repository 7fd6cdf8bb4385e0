"""Whole-file ingest errors, the terminal summary and ``stats`` in Russian and English.

A file that cannot be ingested at all (gzip named .csv, a header of no known format,
an empty file…) fails with one coded sentence (:mod:`graph.messages`), said in the
CLI's ``--lang`` and, for ``POST /ingest``, in the job's ``?lang=`` /
``Accept-Language``; the per-file summary table names kinds, not their ids.
"""

from __future__ import annotations

import gzip
import re
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.errors import IngestError
from coopgraph.graph.messages import CATALOGUE, Msg, kind_name, render
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import plan_tables
from tests.api_support import ApiCase, make_case

# file name, content, the code of the error, a phrase of it in (ru, en)
BAD_FILES: list[tuple[str, bytes, str, tuple[str, str]]] = [
    ("companies.csv", gzip.compress(b"id,name\na,b\n"), "r.not_text",
     ("не текстовая таблица (похоже на gzip)", "not a text table (looks like gzip)")),
    ("companies.csv", bytes(range(256)) * 4, "r.not_text",
     ("похоже на двоичный файл", "looks like binary")),
    ("things.csv", "цвет,вкус\nкрасный,сладкий\n".encode(), "h.no_known",
     ("не подходит ни к одному известному формату", "matches no known format")),
    ("companies.csv", b"  \n", "f.empty", ("companies.csv пуст", "companies.csv is empty")),
    ("companies.json", b"[1, 2]", "f.json_objects",
     ("ожидались объекты, а найдено int", "expected objects, found int")),
    ("companies.jsonl", b'{"id": "a"}\n{oops\n', "f.jsonl_invalid",
     ("строка 2: не корректный JSON", "line 2 is not valid JSON")),
    ("companies.doc", b"id,name\n", "f.unknown_type",
     ("неизвестный тип файла .doc", "unknown file type .doc")),
]

_IDS = [f"{code}-{name}" for name, _, code, _ in BAD_FILES]


def _latin_words(text: str, allowed: str) -> list[str]:
    """Latin words of ``text`` that are not in ``allowed`` (file names, codes, formats)."""
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in allowed.lower()]


@pytest.mark.parametrize(("name", "data", "code", "phrases"), BAD_FILES, ids=_IDS)
def test_a_whole_file_error_has_a_code_and_both_languages(
        tmp_path: Path, name: str, data: bytes, code: str, phrases: tuple[str, str]) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        plan_tables([path])
    (reason,) = caught.value.args
    assert isinstance(reason, Msg) and reason.code == code
    assert phrases[1] in str(caught.value)  # as a str: English, as before
    russian = render(reason, "ru")
    assert phrases[0] in russian
    assert not _latin_words(russian, f"{name} gzip csv utf windows xlsx json jsonl int docs "
                                     "formats md doc tsv"), russian


def test_the_new_codes_are_in_the_catalogue() -> None:
    for code in ("f.no_data_files", "f.not_regular", "f.missing", "f.unreadable", "f.utf16",
                 "f.workbook", "f.json_invalid", "f.json_shape", "h.no_sheet",
                 "load.completed", "load.rolled_back", "load.rolled_back_direct",
                 "load.direct_running"):
        ru, en = CATALOGUE[code]
        assert re.search("[а-яё]", ru) and not re.search("[а-яё]", en), code


def _invoke(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.mark.parametrize(("name", "data", "code", "phrases"), BAD_FILES[:3], ids=_IDS[:3])
def test_cli_says_a_whole_file_error_in_its_language(
        tmp_path: Path, name: str, data: bytes, code: str, phrases: tuple[str, str]) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    env = {"COOPGRAPH_STORE": "embedded", "COOPGRAPH_DATA_DIR": str(tmp_path / "store")}
    for lang, phrase, other in (("ru", phrases[0], phrases[1]),
                                ("en", phrases[1], phrases[0])):
        done = _invoke("--lang", lang, "ingest", str(path), env=env)
        assert done.exit_code == 2, done.output
        said = " ".join(done.output.split())  # rich wraps long lines
        assert phrase in said and other not in said, said
        assert ("ошибка:" if lang == "ru" else "error:") in said


def test_cli_summary_table_names_kinds_in_its_language(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    (data / "categories.csv").write_text("code,name_ru\nbear.ball,Подшипники\n", "utf-8")
    (data / "companies.csv").write_text("id,name\nc1,ООО Альфа\n", "utf-8")
    (data / "capabilities.csv").write_text("company_id,category\nc1,bear.ball\n", "utf-8")
    for lang in ("ru", "en"):
        env = {"COOPGRAPH_STORE": "embedded", "COOPGRAPH_DATA_DIR": str(tmp_path / lang),
               "COLUMNS": "200"}
        done = _invoke("--lang", lang, "ingest", str(data), "--rejects-dir",
                       str(tmp_path / f"rej-{lang}"), env=env)
        assert done.exit_code == 0, done.output
        rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
                for line in done.output.splitlines() if line.count("│") > 3}
        assert rows["companies.csv"] == kind_name("company", lang)
        assert rows["capabilities.csv"] == kind_name("capability", lang)
        assert rows["categories.csv"] == kind_name("category", lang)
        if lang == "ru":
            assert rows["companies.csv"] == "компания" and "company" not in done.output
        else:
            assert rows["companies.csv"] == "company"
        stats = _invoke("--lang", lang, "stats", env=env)
        assert stats.exit_code == 0, stats.output
        if lang == "ru":
            assert "вид записей" in stats.output and "компания" in stats.output
            assert "records" not in stats.output and "capability" not in stats.output
        else:
            assert "records" in stats.output and "capability" in stats.output


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path, seed=False, upload_limit=64 * 1024)


def _job(api: ApiCase, job_id: str, query: str = "", **headers: str) -> dict[str, Any]:
    api.app.state.jobs.wait(timeout=120)
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = api.client.get(f"/ingest/{job_id}{query}", headers={
            **api.h("admin"), **headers}).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


@pytest.mark.parametrize(("name", "data", "code", "phrases"),
                         [BAD_FILES[0], BAD_FILES[2]], ids=[_IDS[0], _IDS[2]])
def test_post_ingest_says_a_whole_file_error_in_the_readers_language(
        api: ApiCase, name: str, data: bytes, code: str, phrases: tuple[str, str]) -> None:
    response = api.post("/ingest", files=[("files", (name, data, "text/csv"))])
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    stored = _job(api, job_id)
    assert stored["status"] == "failed" and stored["error_code"] == code, stored
    assert phrases[1] in stored["error"]  # as stored: English
    assert stored["report"] is None
    russian = _job(api, job_id, **{"Accept-Language": "ru-RU,ru;q=0.9"})
    assert phrases[0] in russian["error"] and phrases[1] not in russian["error"], russian
    assert russian["error_code"] == code
    assert _job(api, job_id, "?lang=ru", **{"Accept-Language": "en"})["error"] == \
        russian["error"]
    english = _job(api, job_id, "?lang=en", **{"Accept-Language": "ru"})
    assert phrases[1] in english["error"] and english["error"] == stored["error"]
    assert "/tmp" not in russian["error"] and str(api.app.state.jobs.jobs_dir) not in \
        russian["error"]  # no server path


def test_cli_registry_summary_follows_lang(tmp_path: Path) -> None:
    """The registry fill's table, labels and totals in --lang (the reasons: see the report)."""
    registry = Path(__file__).parent / "data" / "registry" / "sme.xml"
    members = tmp_path / "members.csv"
    members.write_text("inn\n4826005031\n4826005024\n7700000000\n", encoding="utf-8")
    for lang in ("ru", "en"):
        env = {"COOPGRAPH_STORE": "embedded", "COOPGRAPH_DATA_DIR": str(tmp_path / lang),
               "COLUMNS": "200"}
        done = _invoke("--lang", lang, "ingest", "--registry", str(registry), "--only-inn",
                       str(members), "--rejects-dir", str(tmp_path / f"r-{lang}"), env=env)
        assert done.exit_code == 1, done.output  # the file has rejected records
        said = " ".join(done.output.split())
        if lang == "ru":
            assert "Загрузка из реестра" in said and "отобрано" in said
            assert re.search(r"\d+ запис(ь|и|ей) отклонен", said) and "отклонено:" in said
            assert "Registry fill" not in said and "record(s)" not in said
        else:
            assert "Registry fill" in said and "selected" in said
            assert re.search(r"\d+ records? rejected", said) and "rejected:" in said
            assert "Загрузка из реестра" not in said


def _registry_problems(tmp_path: Path) -> list[Any]:
    """Every problem the FNS registry reader reports on the test files, a bad XML and a ZIP."""
    import zipfile

    from coopgraph.ingest.registry import RegistryProblem, read_registry

    data = Path(__file__).parent / "data" / "registry"
    broken = tmp_path / "broken.xml"
    broken.write_text("<Файл><Документ ИдДок='1'><<</Файл>", encoding="utf-8")
    archive = tmp_path / "rsmp.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "not xml")
    paths = [*sorted(data.glob("*.xml")), broken, archive]
    return [item for path in paths for item in read_registry(path)
            if isinstance(item, RegistryProblem)]


# Latin left in a Russian sentence once quoted values («…»), element names (<…>) and
# XML namespace URIs are set aside: there must be none.
_QUOTED = re.compile(r"«[^»]*»|<[^>]*>")


def test_registry_problems_are_coded_and_said_in_both_languages(tmp_path: Path) -> None:
    """Every FNS registry problem — reason and position — is a coded sentence, Russian
    without English words, English as before (the report's and the tests' wording)."""
    problems = _registry_problems(tmp_path)
    codes = {p.reason.code for p in problems if isinstance(p.reason, Msg)}
    # the families on these files: bad codes and editions, missing blocks, a truncated
    # and a broken XML, a namespace, another format, a non-XML member of a ZIP
    assert {"reg.okved_2001", "reg.okved_edition", "reg.not_okved2", "reg.not_sme",
            "reg.no_name", "reg.without", "reg.truncated", "reg.bad_xml", "reg.namespace",
            "reg.not_fns", "reg.not_xml"} <= codes
    for problem in problems:
        assert isinstance(problem.reason, Msg) and isinstance(problem.position, Msg), problem
        russian = problem.text("ru")
        english = problem.text("en")
        assert english == problem.text() == (f"{problem.file}, {problem.position}, "
                                             f"{problem.field}: {problem.reason}")
        assert russian == (f"{problem.file}, {render(problem.position, 'ru')}, "
                           f"{problem.field}: {render(problem.reason, 'ru')}")
        # the file's name and the field (a column or an element path) are the data's own
        for part in (problem.position, problem.reason):
            said = _QUOTED.sub("", render(part, "ru"))
            # format names (XML) are written in Latin capitals in Russian too
            assert not [w for w in re.findall(r"[A-Za-z]{2,}", said) if not w.isupper()], \
                russian
            assert said != _QUOTED.sub("", str(part)), russian


def test_cli_registry_reasons_follow_lang(tmp_path: Path) -> None:
    """`ingest --registry` prints every rejected record and note in --lang."""
    registry = Path(__file__).parent / "data" / "registry" / "sme.xml"
    for lang in ("ru", "en"):
        env = {"COOPGRAPH_STORE": "embedded", "COOPGRAPH_DATA_DIR": str(tmp_path / lang),
               "COLUMNS": "300"}
        done = _invoke("--lang", lang, "ingest", "--registry", str(registry),
                       "--rejects-dir", str(tmp_path / f"r-{lang}"), env=env)
        assert done.exit_code == 1, done.output
        said = " ".join(done.output.split())
        if lang == "ru":
            assert "запись 18" in said and "не документ реестра МСП" in said
            assert "редакции 2001 года" in said and "не загружен" in said
            assert "record 18" not in said and "not loaded" not in said
        else:
            assert "record 18" in said and "not an SME-register document" in said
            assert "запись 18" not in said


def test_registry_fill_file_errors_are_coded(tmp_path: Path) -> None:
    from coopgraph.ingest.registry_fill import read_inn_list

    listed = tmp_path / "members.csv"
    listed.write_text("name,town\nА,Б\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        read_inn_list(listed)
    (message,) = caught.value.args
    assert isinstance(message, Msg) and message.code == "reg.no_inn_column"
    assert "нет столбца inn или ИНН" in render(message, "ru")
    with pytest.raises(IngestError) as missing:
        read_inn_list(tmp_path / "nowhere.csv")
    assert "нет такого файла" in render(missing.value.args[0], "ru")
