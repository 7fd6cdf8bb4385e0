"""Streaming readers for the Federal Tax Service's registries: the SME register and EGRUL/EGRIP.

Formats read (structures from the FNS XSDs, as public parsers read them):

* **Единый реестр субъектов МСП** (open data set ``7707329152-rsmp``,
  https://www.nalog.gov.ru/opendata/7707329152-rsmp): ``Файл/Документ`` with the
  attributes ``ИдДок``, ``ДатаСост`` (DD.MM.YYYY), ``ВидСубМСП``, ``КатСубМСП``, ``ССЧР``;
  the company in ``ОргВклМСП`` (``НаимОрг``, ``НаимОргСокр``, ``ИННЮЛ``, ``ОГРН``) or
  the sole trader in ``ИПВклМСП`` (``ИННФЛ``, ``ОГРНИП``, ``ФИОИП``: ``Фамилия``,
  ``Имя``, ``Отчество``); the place in ``СведМН`` (``КодРегион``; ``Регион``,
  ``Район``, ``Город``, ``НаселПункт`` each with ``Тип`` and ``Наим``); activities in
  ``СвОКВЭД/СвОКВЭДОсн|СвОКВЭДДоп`` (``КодОКВЭД``, ``НаимОКВЭД``, ``ВерсОКВЭД``).
* **ЕГРЮЛ / ЕГРИП** extracts (``Файл`` holding ``СвЮЛ`` or ``СвИП`` records, or
  one record as the root): ``СвЮЛ`` (``ОГРН``, ``ИНН``, ``ДатаВыг``) with
  ``СвНаимЮЛ`` (``НаимЮЛПолн``; ``СвНаимЮЛСокр/@НаимСокр``) and the address in
  ``СвАдресЮЛ/АдресРФ`` (``КодРегион``; ``Регион/@НаимРегион``…) or
  ``СвАдресЮЛ/СвАдрЮЛФИАС`` (``Регион`` text, ``НаимРегион``, ``МуниципРайон/@Наим``,
  ``НаселенПункт/@Наим``); ``СвИП`` (``ОГРНИП``, ``ИННФЛ``, ``ДатаВыг``) with
  ``СвФЛ/ФИОРус`` and ``СвАдрМЖ/АдресРФ``; activities in
  ``СвОКВЭД/СвОКВЭДОсн|СвОКВЭДДоп`` (``КодОКВЭД``, ``НаимОКВЭД``, ``ПрВерсОКВЭД`` —
  "2014" for OKVED2; absent means the 2001 edition).

Checked against public parsers found by code search (an FNS SME bulk importer
reading ``ОргВклМСП``/``ИПВклМСП``/``СведМН``/``СвОКВЭД`` with iterparse; EGRUL
parsers reading ``СвОКВЭДОсн/@ПрВерсОКВЭД`` with the XSD enumeration 2001|2014).

Reading is streamed (:func:`xml.etree.ElementTree.iterparse`): each record is
parsed, yielded and dropped, so memory does not grow with the file; a ZIP archive
of many XML files (as the FNS publishes them) is read member by member as it comes.

Bad input is reported per record as a :class:`RegistryProblem` (file, position,
field, reason) and reading goes on: a record with a bad INN check digit, an
unknown OKVED edition, a truncated file (the records before the break are kept),
a file in a namespace or of another format. Codes of the 2001 edition are not
OKVED2 and are dropped from the record (reported); the record itself still loads.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Literal
from xml.etree.ElementTree import Element, ParseError, iterparse

from coopgraph.graph.classifiers import OKVED_VERSION, is_code, okved_name
from coopgraph.graph.i18n import Lang
from coopgraph.graph.ids import inn_problem, normalize_digits, ogrn_problem
from coopgraph.graph.messages import Msg, render

__all__ = [
    "REGISTRY_NAMES",
    "RegistryProblem",
    "RegistryRecord",
    "read_registry",
    "read_xml",
]

RegistryKind = Literal["sme", "egrul", "egrip"]
#: how each registry is named in provenance and reports (RU, EN)
REGISTRY_NAMES: dict[str, tuple[str, str]] = {
    "sme": ("Реестр МСП ФНС", "FNS SME register"),
    "egrul": ("ЕГРЮЛ", "EGRUL"),
    "egrip": ("ЕГРИП", "EGRIP"),
}
_RECORD_TAGS = {"Документ", "СвЮЛ", "СвИП"}
_ROOT_TAGS = {"Файл", "СвЮЛ", "СвИП"}


@dataclass
class RegistryRecord:
    """One company (or sole trader) as a registry describes it."""

    registry: RegistryKind
    file: str
    position: str  # "record 12 (ИдДок …)": where in the file
    inn: str
    name: str
    ogrn: str | None = None
    full_name: str | None = None
    region_code: str | None = None
    region: str | None = None
    municipality: str | None = None
    okved_main: str | None = None
    okved: list[str] = field(default_factory=list)  # main first
    date: dt.date | None = None
    employees: int | None = None
    index: int = 0  # the record's ordinal in its file (from 1)


@dataclass(frozen=True)
class RegistryProblem:
    """Something wrong with one record (or with the file at one position)."""

    file: str
    position: str
    field: str
    reason: str
    rejected: bool = True  # False: the record loaded without the named value

    def text(self, lang: Lang = "en") -> str:
        """``file, position, field: reason`` for a report line, in ``lang``."""
        return f"{self.file}, {render(self.position, lang)}, {self.field}: " \
            f"{render(self.reason, lang)}"


def read_registry(path: str | Path) -> Iterator[RegistryRecord | RegistryProblem]:
    """Every record of a registry file (XML, or a ZIP of XML files), and every problem.

    Parameters
    ----------
    path
        An SME-register or EGRUL/EGRIP XML file, or a ZIP archive of them.

    Yields
    ------
    RegistryRecord | RegistryProblem
        Records in file order; a problem where a record (or the file) is bad.
        A record followed by problems with ``rejected=False`` loads without the
        values they name.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            for member in members:
                name = f"{path.name}/{member.filename}"
                if not member.filename.lower().endswith(".xml"):
                    yield RegistryProblem(name, Msg("reg.pos_file"), "", Msg("reg.not_xml"))
                    continue
                with archive.open(member) as stream:
                    yield from read_xml(stream, name)
        return
    with path.open("rb") as stream:
        yield from read_xml(stream, path.name)


def read_xml(stream: IO[bytes], name: str) -> Iterator[RegistryRecord | RegistryProblem]:
    """Every record of one registry XML stream, named ``name`` in reports (see read_registry)."""
    depth = 0
    root: Element | None = None
    count = 0
    try:
        for event, elem in iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    root = elem
                    problem = _root_problem(elem.tag, name)
                    if problem is not None:
                        yield problem
                        return
                continue
            depth -= 1
            # a record is the root, a child of it, or a СвЮЛ/СвИП inside a Документ
            if depth <= 2 and elem.tag in _RECORD_TAGS and (
                    elem.tag != "Документ" or (depth == 1 and elem.find("СвЮЛ") is None
                    and elem.find("СвИП") is None)):
                count += 1
                yield from _record(elem, name, count)
                elem.clear()
            if depth == 1 and root is not None and root.tag == "Файл":
                root.clear()  # drop finished records: memory stays flat
    except ParseError as exc:
        line, column = exc.position
        reason = (Msg("reg.truncated") if "no element found" in str(exc)
                  or "unclosed token" in str(exc) else Msg("reg.bad_xml", detail=str(exc)))
        yield RegistryProblem(name, Msg("reg.pos_line", line=line, column=column, record=count),
                              "", reason)


def _root_problem(tag: str, name: str) -> RegistryProblem | None:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return RegistryProblem(name, Msg("reg.pos_root"), "",
                               Msg("reg.namespace", local=local, uri=uri))
    if tag not in _ROOT_TAGS:
        return RegistryProblem(name, Msg("reg.pos_root"), "", Msg("reg.not_fns", tag=tag))
    return None


def _record(elem: Element, name: str, count: int) -> list[RegistryRecord | RegistryProblem]:
    items = _parsed(elem, name, count)
    first = items[0]
    if isinstance(first, RegistryRecord):
        first.index = count
    return items


def _parsed(elem: Element, name: str, count: int) -> list[RegistryRecord | RegistryProblem]:
    """The record (first, when valid) and its problems."""
    if elem.tag == "Документ":
        org, ip = elem.find("ОргВклМСП"), elem.find("ИПВклМСП")
        if org is None and ip is None:
            return [RegistryProblem(name, Msg("reg.pos_record", record=count), "Документ",
                                    Msg("reg.not_sme"))]
        return _sme(elem, org, ip, name, _where(count, "ИдДок", elem))
    if elem.tag == "СвЮЛ":
        return _egrul(elem, name, _where(count, "ОГРН", elem))
    return _egrip(elem, name, _where(count, "ОГРНИП", elem))


def _where(count: int, tag: str, elem: Element) -> Msg:
    """``record 12 (ОГРН …)``: a record's place in its file, by number and identifier."""
    return Msg("reg.pos_record_id", record=count, tag=tag, value=elem.get(tag, "?"))


# --- the three record kinds --------------------------------------------------------


def _sme(doc: Element, org: Element | None, ip: Element | None, name: str, where: str
         ) -> list[RegistryRecord | RegistryProblem]:
    problems: list[RegistryProblem] = []
    if org is not None:
        inn_field, ogrn_field = "ОргВклМСП/@ИННЮЛ", "ОргВклМСП/@ОГРН"
        inn, ogrn = org.get("ИННЮЛ"), org.get("ОГРН")
        full = _clean(org.get("НаимОрг"))
        title = _clean(org.get("НаимОргСокр")) or full
        kind_ok = doc.get("ВидСубМСП", "1") == "1"
    else:
        assert ip is not None
        inn_field, ogrn_field = "ИПВклМСП/@ИННФЛ", "ИПВклМСП/@ОГРНИП"
        inn, ogrn = ip.get("ИННФЛ"), ip.get("ОГРНИП")
        full = title = _person(ip.find("ФИОИП"), ("Фамилия", "Имя", "Отчество"))
        kind_ok = doc.get("ВидСубМСП", "2") in ("2", "3")  # 3: a farm headed by a person
    if not kind_ok:
        problems.append(RegistryProblem(name, where, "ВидСубМСП", Msg(
            "reg.kind_mismatch", value=doc.get("ВидСубМСП"),
            block="ОргВклМСП" if org is not None else "ИПВклМСП"), rejected=False))
    place = doc.find("СведМН")
    region_code = region = municipality = None
    if place is not None:
        region_code = _clean(place.get("КодРегион"))
        region = _region(place.find("Регион"), "Тип", "Наим")
        municipality = _municipality(place, (("Город", "Тип", "Наим"),
                                             ("НаселПункт", "Тип", "Наим"),
                                             ("Район", "Тип", "Наим")))
    employees = _int(doc.get("ССЧР"))
    return _finish(
        "sme", name, where, inn, inn_field, ogrn, ogrn_field, title, full, region_code, region,
        municipality, doc.find("СвОКВЭД"), "ВерсОКВЭД", _date(doc.get("ДатаСост")), employees,
        problems)


def _egrul(rec: Element, name: str, where: str) -> list[RegistryRecord | RegistryProblem]:
    names = rec.find("СвНаимЮЛ")
    full = _clean(names.get("НаимЮЛПолн")) if names is not None else None
    short = names.find("СвНаимЮЛСокр") if names is not None else None
    title = (_clean(short.get("НаимСокр")) if short is not None else None) or full
    region_code = region = municipality = None
    address = rec.find("СвАдресЮЛ")
    if address is not None:
        rf, fias = address.find("АдресРФ"), address.find("СвАдрЮЛФИАС")
        if rf is not None:
            region_code = _clean(rf.get("КодРегион"))
            region = _region(rf.find("Регион"), "ТипРегион", "НаимРегион")
            municipality = _municipality(rf, (("Город", "ТипГород", "НаимГород"),
                                              ("НаселПункт", "ТипНаселПункт", "НаимНаселПункт"),
                                              ("Район", "ТипРайон", "НаимРайон")))
        elif fias is not None:
            region_code = _clean(fias.findtext("Регион"))
            region = _clean(fias.findtext("НаимРегион"))
            municipality = _municipality(fias, (("НаселенПункт", "Вид", "Наим"),
                                                ("МуниципРайон", "", "Наим")))
    return _finish(
        "egrul", name, where, rec.get("ИНН"), "СвЮЛ/@ИНН", rec.get("ОГРН"), "СвЮЛ/@ОГРН",
        title, full, region_code, region, municipality, rec.find("СвОКВЭД"), "ПрВерсОКВЭД",
        _date(rec.get("ДатаВыг")), None, [])


def _egrip(rec: Element, name: str, where: str) -> list[RegistryRecord | RegistryProblem]:
    person = rec.find("СвФЛ/ФИОРус")
    title = _person(person, ("Фамилия", "Имя", "Отчество"))
    region_code = region = municipality = None
    rf = rec.find("СвАдрМЖ/АдресРФ")
    if rf is not None:
        region_code = _clean(rf.get("КодРегион"))
        region = _region(rf.find("Регион"), "ТипРегион", "НаимРегион")
        municipality = _municipality(rf, (("Город", "ТипГород", "НаимГород"),
                                          ("НаселПункт", "ТипНаселПункт", "НаимНаселПункт"),
                                          ("Район", "ТипРайон", "НаимРайон")))
    return _finish(
        "egrip", name, where, rec.get("ИННФЛ"), "СвИП/@ИННФЛ", rec.get("ОГРНИП"),
        "СвИП/@ОГРНИП", title, title, region_code, region, municipality, rec.find("СвОКВЭД"),
        "ПрВерсОКВЭД", _date(rec.get("ДатаВыг")), None, [])


def _finish(registry: RegistryKind, name: str, where: str, inn: str | None, inn_field: str,
            ogrn: str | None, ogrn_field: str, title: str | None, full: str | None,
            region_code: str | None, region: str | None, municipality: str | None,
            okved: Element | None, version_attr: str, date: dt.date | None,
            employees: int | None, problems: list[RegistryProblem]
            ) -> list[RegistryRecord | RegistryProblem]:
    """Check the identifiers and activities common to every registry: the record, then problems."""
    fatal = False
    digits = normalize_digits(inn or "")
    if not digits:
        problems.append(RegistryProblem(name, where, inn_field, Msg("reg.no_inn")))
        fatal = True
    elif (why := inn_problem(digits)) is not None:
        problems.append(RegistryProblem(name, where, inn_field, why))
        fatal = True
    if not title:
        problems.append(RegistryProblem(name, where, "name", Msg("reg.no_name")))
        fatal = True
    ogrn_digits: str | None = normalize_digits(ogrn or "") or None
    if ogrn_digits is not None and (why := ogrn_problem(ogrn_digits)) is not None:
        problems.append(RegistryProblem(name, where, ogrn_field,
                                        Msg("reg.without", reason=why), rejected=False))
        ogrn_digits = None
    main, codes = _activities(okved, version_attr, registry, name, where, problems)
    if fatal:
        return list(problems)
    assert title is not None
    record = RegistryRecord(
        registry=registry, file=name, position=where, inn=digits, name=title, ogrn=ogrn_digits,
        full_name=full, region_code=region_code, region=region, municipality=municipality,
        okved_main=main, okved=codes, date=date, employees=employees)
    return [record, *problems]


def _activities(okved: Element | None, version_attr: str, registry: RegistryKind, name: str,
                where: str, problems: list[RegistryProblem]) -> tuple[str | None, list[str]]:
    """(main code, every code main first) of OKVED2; other editions and bad codes reported."""
    if okved is None:
        return None, []
    main: str | None = None
    codes: list[str] = []
    entries = [(True, e) for e in okved.findall("СвОКВЭДОсн")]
    entries += [(False, e) for e in okved.findall("СвОКВЭДДоп")]
    for is_main, entry in entries:
        tag = "СвОКВЭДОсн" if is_main else "СвОКВЭДДоп"
        code = (entry.get("КодОКВЭД") or "").strip()
        # EGRUL: no ПрВерсОКВЭД means the 2001 edition; the SME register always says
        version = entry.get(version_attr) or entry.get("ВерсОКВЭД") or entry.get("ПрВерсОКВЭД")
        if version is None:
            version = "2001" if registry != "sme" else OKVED_VERSION
        if version != OKVED_VERSION:
            known = version == "2001"
            reason = (Msg("reg.okved_2001", code=code) if known
                      else Msg("reg.okved_edition", version=version, code=code))
            problems.append(RegistryProblem(name, where, f"{tag}/@{version_attr}", reason,
                                            rejected=False))
            continue
        if not is_code(code) or okved_name(code) is None:
            problems.append(RegistryProblem(name, where, f"{tag}/@КодОКВЭД",
                                            Msg("reg.not_okved2", code=code), rejected=False))
            continue
        if is_main and main is None:
            main = code
        if code not in codes:
            codes.append(code)
    if main is not None and codes[0] != main:
        codes.remove(main)
        codes.insert(0, main)
    return main, codes[:100]


# --- small helpers -------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = " ".join(text.split())
    return cleaned or None


def _person(elem: Element | None, parts: tuple[str, ...]) -> str | None:
    if elem is None:
        return None
    words = [w for p in parts if (w := _clean(elem.get(p)))]
    return "ИП " + " ".join(_title(w) for w in words) if words else None


@lru_cache(maxsize=4096)
def _title(text: str) -> str:
    """``ЛИПЕЦКАЯ`` → ``Липецкая``, ``ДОБРИНКА`` → ``Добринка`` (registries write in capitals)."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in text.split("-")) \
        if text.isupper() else text


_SUFFIX_TYPES = {"ОБЛАСТЬ", "ОБЛ", "КРАЙ", "АВТОНОМНЫЙ ОКРУГ", "АО", "АВТОНОМНАЯ ОБЛАСТЬ",
                 "РАЙОН", "Р-Н", "МУНИЦИПАЛЬНЫЙ РАЙОН", "М.Р-Н", "ГОРОДСКОЙ ОКРУГ", "Г.О."}
_LONG_TYPES = {"ОБЛ": "область", "Р-Н": "район", "М.Р-Н": "район", "АО": "автономный округ",
               "Г.О.": "городской округ"}


def _region(elem: Element | None, type_attr: str, name_attr: str) -> str | None:
    if elem is None:
        return None
    return _named(_clean(elem.get(type_attr)), _clean(elem.get(name_attr)))


@lru_cache(maxsize=4096)
def _named(kind: str | None, title: str | None) -> str | None:
    """``ОБЛАСТЬ`` + ``ЛИПЕЦКАЯ`` → ``Липецкая область``; ``Г`` + ``ЕЛЕЦ`` → ``Елец``."""
    if not title:
        return None
    name = " ".join(_title(w) for w in title.split())
    upper = (kind or "").upper()
    if upper in _SUFFIX_TYPES:
        return f"{name} {_LONG_TYPES.get(upper, upper.lower())}"
    if upper in ("РЕСПУБЛИКА", "РЕСП"):
        return f"Республика {name}"
    return name


def _municipality(elem: Element, options: tuple[tuple[str, str, str], ...]) -> str | None:
    for tag, type_attr, name_attr in options:
        found = elem.find(tag)
        if found is not None:
            named = _named(_clean(found.get(type_attr)) if type_attr else None,
                           _clean(found.get(name_attr)))
            if named:
                return named
    return None


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) == 10 and text[2] == "." and text[5] == ".":
            return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None
