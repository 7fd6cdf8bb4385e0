"""Unit and property tests of the ingest steps: headers, readers, normaliser, categoriser."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coopgraph.graph.errors import IngestError
from coopgraph.graph.models import Company
from coopgraph.graph.schema import EntityKind
from coopgraph.ingest.categorize import CategoryIndex, lemmas
from coopgraph.ingest.formats import FORMATS, detect_format, normalize_header
from coopgraph.ingest.readers import detect_encoding, expand_paths, open_tables, sniff_delimiter
from coopgraph.ingest.resolve import (
    _SHORT_FORMS,
    Candidate,
    merge_companies,
    normalize_name,
    resolve,
    transliterate,
)
from coopgraph.ingest.validate import RowConverter

ALIASES = sorted({(alias, fmt.kind, name) for fmt in FORMATS.values()
                  for alias, name in fmt.aliases.items()})


# --- headers ---------------------------------------------------------------------


@st.composite
def _spelled(draw: st.DrawFn) -> tuple[str, EntityKind, str]:
    alias, kind, name = draw(st.sampled_from(ALIASES))
    words = alias.split(" ")
    seps = [draw(st.sampled_from([" ", "_", "  ", "-", ", "])) for _ in words[1:]]
    text = words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=True))
    text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    pad = draw(st.sampled_from(["", " ", "\t", "\ufeff"]))
    return pad + text + draw(st.sampled_from(["", " ", " (шт.)"])), kind, name


@given(_spelled())
def test_header_spelling_does_not_matter(case: tuple[str, EntityKind, str]) -> None:
    header, kind, name = case
    assert FORMATS[kind].field_of(header) == name


@given(st.text(max_size=40))
def test_normalize_header_is_idempotent(text: str) -> None:
    once = normalize_header(text)
    assert normalize_header(once) == once
    assert once == once.strip() and "  " not in once


@pytest.mark.parametrize(("headers", "name", "kind"), [
    (["Код", "Наименование", "ИНН", "Район"], "", EntityKind.COMPANY),
    (["code", "name_ru", "parent"], "", EntityKind.CATEGORY),
    (["Компания", "Категория", "Мощность в год"], "", EntityKind.CAPABILITY),
    (["ИНН", "Вид деятельности"], "", EntityKind.CAPABILITY),
    (["Поставщик", "Покупатель", "Категория", "Объём в год"], "", EntityKind.SUPPLY),
    (["ИНН поставщика", "ИНН покупателя", "Категория"], "", EntityKind.SUPPLY),
    (["company_id", "category"], "needs", EntityKind.NEED),
    (["company_id", "category"], "imports", EntityKind.IMPORT),
    (["company_id", "category", "country"], "", EntityKind.IMPORT),
    (["id", "name", "region"], "clusters", EntityKind.CLUSTER),
    (["parent", "child", "qty"], "", EntityKind.BOM_LINE),
])
def test_detect_format(headers: list[str], name: str, kind: EntityKind) -> None:
    fmt = detect_format(headers, name)
    assert fmt is not None and fmt.kind is kind


def test_unknown_header_is_no_format() -> None:
    assert detect_format(["a", "b"], "x") is None


# --- readers ---------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251")])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_encoding_delimiter_and_row_numbers(tmp_path: Path, encoding: str, expected: str,
                                                delimiter: str) -> None:
    rows = [["Наименование", "ИНН", "Широта"], ["ООО «Ёлка»", "4823001014", "52,6"],
            ["", "", ""], ["Второе", "", "1"]]
    path = tmp_path / "x.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    assert detect_encoding(path) == expected
    [table] = open_tables(path)
    assert table.delimiter == delimiter
    assert table.headers == rows[0]
    assert list(table.rows()) == [(2, rows[1]), (4, rows[3])]


@given(st.lists(st.lists(st.text("абвгдёжabc 12.", min_size=1, max_size=6).map(str.strip)
                         .filter(bool), min_size=3, max_size=3), min_size=2, max_size=6),
       st.sampled_from([";", "\t", ","]))
@settings(max_examples=50)
def test_sniff_delimiter_finds_the_separator(rows: list[list[str]], delimiter: str) -> None:
    text = "\n".join(delimiter.join(r) for r in rows)
    assert sniff_delimiter(text) == delimiter


def test_unusable_inputs_raise_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        expand_paths([tmp_path / "nope.csv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="holds no"):
        expand_paths([tmp_path / "empty"])
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(IngestError, match="not valid JSON"):
        open_tables(bad)
    book = tmp_path / "fake.xlsx"
    book.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(IngestError, match="cannot open"):
        open_tables(book)
    doc = tmp_path / "notes.md"
    doc.write_text("x", encoding="utf-8")
    with pytest.raises(IngestError, match="unknown file type"):
        open_tables(doc)


def test_json_object_of_lists(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    path.write_text('{"companies": [{"id": "a", "name": "A", "inn": 4823001014}],'
                    ' "clusters": [{"id": "k", "name": "K"}]}', encoding="utf-8")
    tables = open_tables(path)
    assert [(t.name, t.kind_hint) for t in tables] == [
        ("all.json[companies]", "companies"), ("all.json[clusters]", "clusters")]
    assert list(tables[0].rows()) == [(1, ["a", "A", "4823001014"])]


def test_row_converter_russian_numbers_dates_and_roles() -> None:
    fmt = FORMATS[EntityKind.COMPANY]
    columns = fmt.map_columns(["Наименование", "Широта", "Долгота", "Роли", "Численность"])
    data = RowConverter(columns)(["  Ёж ", "52,60", "39.5", "Производитель | вуз", "1 200"])
    assert data == {"name": "Ёж", "lat": "52.60", "lon": "39.5",
                    "roles": ["oem", "university"], "employees": "1200"}
    supply = FORMATS[EntityKind.SUPPLY].map_columns(["since"])
    assert RowConverter(supply)(["05.12.2017"]) == {"since": "2017-12-05"}


# --- names -------------------------------------------------------------------------

_NAME = st.text("абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz0123456789 -«»\"'.",
                min_size=1, max_size=30)


@given(_NAME)
def test_normalize_name_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


@given(_NAME)
def test_normalize_name_ignores_case_and_yo(name: str) -> None:
    assert normalize_name(name.upper()) == normalize_name(name)
    assert normalize_name(name.replace("е", "ё")) == normalize_name(name)


@given(_NAME, st.sampled_from(["ООО", "АО", "ОАО", "ЗАО", "ПАО", "ИП", "LLC", "JSC",
                               "Общество с ограниченной ответственностью"]),
       st.sampled_from(["«{}»", '"{}"', "{}", "“{}”"]), st.booleans())
def test_normalize_name_drops_legal_forms_and_quotes(name: str, form: str, quotes: str,
                                                     after: bool) -> None:
    words = transliterate(name.replace("ё", "е")).replace("-", " ").split()
    assume(normalize_name(name) and not any(w.strip("«»\"'.") in _SHORT_FORMS for w in words))
    quoted = quotes.format(name)
    full = f"{quoted} {form}" if after else f"{form} {quoted}"
    assert normalize_name(full) == normalize_name(name)


def test_transliteration_meets_latin_spelling() -> None:
    assert normalize_name("ООО «Агротехмаш»") == normalize_name("Agrotekhmash LLC")
    assert normalize_name("Литейный завод") == normalize_name("Liteinyi Zavod")


def _cand(id_: str, name: str, inn: str | None = None, muni: str | None = "Елец",
          store: bool = False) -> Candidate:
    return Candidate(Company(id=id_, name=name, inn=inn, municipality=muni), from_store=store)


def test_resolve_blocks_by_municipality_and_never_merges_two_inns() -> None:
    res = resolve([
        _cand("a", "ООО «Литмаш»", "4823001014"),
        _cand("b", "Литмаш", None),  # same block: merged into a
        _cand("c", "Литмаш", None, muni="Липецк"),  # another block: stays
        _cand("d", "Литмаш", "4821002020"),  # a second INN: never merged with a
    ])
    assert res.groups == [[0, 1], [2], [3]]
    [merge] = res.merges
    assert (merge.a, merge.b, merge.score) == (0, 1, 100.0)
    assert any({r.a, r.b} == {0, 3} for r in res.review)


def test_resolve_prefers_the_store_record_and_merge_fills_gaps() -> None:
    stored = _cand("old", "Литмаш", "4823001014", store=True)
    new = Candidate(Company(id="new", name="ООО Литмаш", inn="4823001014", lat=52.0, lon=38.0,
                            roles=["supplier"]))
    res = resolve([stored, new])
    assert res.groups == [[0, 1]]
    merged = merge_companies([stored.company, new.company])
    assert (merged.id, merged.lat, merged.roles) == ("old", 52.0, ["supplier"])


# --- categories ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def taxonomy() -> CategoryIndex:
    return CategoryIndex([
        ("CAST-IRON", "Отливки из чугуна", "Grey iron castings", ["чугунное литьё"]),
        ("CAST-AL", "Отливки из алюминия", "Aluminium castings", []),
        ("SHAFT", "Валы", "Shafts", []),
        ("HYD-CYL", "Гидроцилиндры", "Hydraulic cylinders", []),
        ("HYD-PUMP", "Гидронасосы", "Hydraulic pumps", []),
        ("GEAR", "Шестерни", "Gears", ["зубчатые колёса"]),
    ])


def test_a_text_naming_two_categories_maps_the_same_in_any_order() -> None:
    """A synonym of one category that is the name of another maps to the one it names
    (name before synonym); two synonyms to the smallest code — whatever order the
    categories were added in (a load adds them in file order, a re-run from the store)."""
    rows = [("mach.shafts", "Валы", "Shafts", ["механообработка валов"]),
            ("SHAFT", "Валы стальные", "Shafts", ["механообработка валов", "Валы"]),
            ("HYD-CYL", "Гидроцилиндры", None, []),
            ("hyd.cylinder", "Цилиндры", None, ["Гидроцилиндры"])]
    for order in (rows, rows[::-1], rows[1:] + rows[:1]):
        index = CategoryIndex(order)
        assert index.by_name("Валы") == "mach.shafts"  # its name, the other's synonym
        assert index.by_name("механообработка валов") == "SHAFT"  # both synonyms
        assert index.by_name("гидроцилиндры") == "HYD-CYL"
        assert index.by_name("SHAFT") == "SHAFT"


@pytest.mark.parametrize(("text", "code"), [
    ("литьё чугуна", "CAST-IRON"),
    ("механообработка валов", "SHAFT"),
    ("hydraulic cylinders", "HYD-CYL"),
    ("Изготовление гидроцилиндров", "HYD-CYL"),
    ("зубчатые колеса", "GEAR"),
    ("литьё алюминия", "CAST-AL"),
    ("Отливки из чугуна", "CAST-IRON"),
])
def test_capability_text_maps_to_category(taxonomy: CategoryIndex, text: str, code: str) -> None:
    match = taxonomy.match(text)
    assert match.code == code and match.confidence >= 0.75, match


def test_unrelated_text_is_unmapped(taxonomy: CategoryIndex) -> None:
    assert taxonomy.match("услуги бухгалтерского учёта").confidence < 0.5
    assert taxonomy.match("").code is None


def test_lemmas() -> None:
    assert lemmas("Механообработка валов для тракторов") == ["механообработка", "вал", "трактор"]
