"""The sample cluster: a FICTIONAL agricultural-machinery cluster of Lipetsk region.

``python -m coopgraph.ingest.sample`` rebuilds ``data/sample/`` byte for byte from a fixed
seed: one CSV per entity kind (UTF-8, English headers = model field names, list
cells joined with ``|``) and a README that documents the planted patterns.

The companies, their names, tax numbers, capacities and links are invented
(their INNs and OGRNs pass the check digits but use the tax-office code 99, so
that they are unlikely to name a real taxpayer). The municipalities, cities
and their coordinates are real. The cluster is shaped so that the gaps, KPIs
and matchmaking have something to find; ``PLANTED`` lists those patterns with
their exact ids and the tests check them from the records themselves.

The module also holds the CSV file format shared with :mod:`ingest.generate`
(file names, headers, cell formatting) and the real places both use.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from coopgraph.graph.errors import ConfigError
from coopgraph.graph.ids import inn_problem
from coopgraph.graph.models import (
    BomLine,
    Capability,
    Cluster,
    Company,
    CompanyProcess,
    CoopRequest,
    CostType,
    DeclineReason,
    HeldCertification,
    Import,
    JointProject,
    Membership,
    Need,
    Product,
    ProjectCost,
    ProjectParticipant,
    ProjectRole,
    Record,
    RequestOrigin,
    RequestState,
    Role,
    Supply,
    Tie,
    TieType,
)
from coopgraph.graph.schema import KINDS, PROVENANCE_FIELDS, EntityKind, kind_of
from coopgraph.ingest import taxonomy
from coopgraph.ingest.formats import derived_fields
from coopgraph.resources import package_path

__all__ = [
    "CITIES",
    "CLUSTER_ID",
    "COOPERATION_FILE_NAMES",
    "FILE_NAMES",
    "LIST_FIELDS",
    "MUNICIPALITIES",
    "PLANTED",
    "REGION",
    "SAMPLE_DIR",
    "SAMPLE_FILE_NAMES",
    "SAMPLE_SEED",
    "City",
    "SampleData",
    "analyse",
    "build_sample",
    "columns",
    "format_cell",
    "main",
    "make_inn",
    "make_ogrn",
    "read_records",
    "sample_dir",
    "write_sample",
]

# Package data of coopgraph.data (data/sample in the checkout): found the same way
# installed or not, never through a path relative to this file.
SAMPLE_DIR = package_path("coopgraph.data", "sample")


def sample_dir() -> Path:
    """The installed sample cluster's directory, checked to hold every file of it.

    Raises
    ------
    ConfigError
        When a file is missing: a broken installation, which the message says.
    """
    missing = [name for name in FILE_NAMES.values() if not (SAMPLE_DIR / name).is_file()]
    if missing:
        raise ConfigError(
            f"the sample cluster is incomplete in {SAMPLE_DIR} (missing {', '.join(missing)}); "
            "reinstall CoopGraph / пример кластера установлен не полностью, переустановите "
            "пакет")
    return SAMPLE_DIR
SAMPLE_SEED = 20171205  # the day of the strategic session that started the real cluster
CLUSTER_ID = "lipetsk-agromash"
REGION = "Липецкая область"
SOURCE = "coopgraph sample (fictional companies)"
_TODAY = dt.date(2026, 1, 1)  # the sample's "now": certificates before it are expired

# --- the CSV format ------------------------------------------------------------------

FILE_NAMES: dict[EntityKind, str] = {
    EntityKind.COMPANY: "companies.csv",
    EntityKind.CLUSTER: "clusters.csv",
    EntityKind.CATEGORY: "categories.csv",
    EntityKind.PROCESS: "processes.csv",
    EntityKind.PRODUCT: "products.csv",
    EntityKind.CERTIFICATION: "certifications.csv",
    EntityKind.MEMBERSHIP: "memberships.csv",
    EntityKind.BOM_LINE: "bom.csv",
    EntityKind.CAPABILITY: "capabilities.csv",
    EntityKind.HELD_CERTIFICATION: "held_certifications.csv",
    EntityKind.COMPANY_PROCESS: "company_processes.csv",
    EntityKind.SUPPLY: "supplies.csv",
    EntityKind.IMPORT: "imports.csv",
    EntityKind.NEED: "needs.csv",
}
# The sample's cooperation records (issue #13): ties of every type, requests, a joint
# project. The generator (ingest.generate) writes FILE_NAMES only.
COOPERATION_FILE_NAMES: dict[EntityKind, str] = {
    EntityKind.TIE: "ties.csv",
    EntityKind.COOP_REQUEST: "requests.csv",
    EntityKind.JOINT_PROJECT: "projects.csv",
    EntityKind.PROJECT_PARTICIPANT: "project_participants.csv",
    EntityKind.PROJECT_COST: "project_costs.csv",
}
SAMPLE_FILE_NAMES: dict[EntityKind, str] = FILE_NAMES | COOPERATION_FILE_NAMES
LIST_FIELDS = frozenset({"roles", "processes", "synonyms", "required_certs", "history",
                         "okved"})


def columns(kind: EntityKind) -> list[str]:
    """The canonical CSV header of ``kind``: its model fields without provenance (and
    without the fields ingest sets itself, :func:`ingest.formats.derived_fields`)."""
    derived = derived_fields(kind)
    return [f for f in KINDS[kind].model.model_fields
            if f not in PROVENANCE_FIELDS and f not in derived]


def format_cell(value: Any) -> str:
    """One CSV cell: lists joined with ``|``, whole floats without ``.0``, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "|".join(format_cell(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _row_of(record: Record, header: Sequence[str]) -> list[str]:
    return [format_cell(getattr(record, name)) for name in header]


def _write_csv(path: Path, kind: EntityKind, records: Iterable[Record]) -> int:
    header = columns(kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    n = 0
    for record in records:
        writer.writerow(_row_of(record, header))
        n += 1
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return n


def read_records(directory: str | Path) -> list[Record]:
    """Read back the canonical CSV files of ``directory`` as model records.

    A strict reader for files this package writes (the sample and the
    generator), used to check them; user files go through :mod:`ingest.pipeline`.
    """
    directory = Path(directory)
    records: list[Record] = []
    for kind, name in SAMPLE_FILE_NAMES.items():
        path = directory / name
        if not path.exists():
            continue
        model = KINDS[kind].model
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                values: dict[str, Any] = {}
                for key, cell in row.items():
                    if key in LIST_FIELDS:
                        values[key] = [v for v in cell.split("|") if v]
                    elif cell != "":
                        values[key] = cell
                records.append(model(**values, source=name, row=number))
    return records


# --- real places ------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """A real Russian city (or municipality centre) with approximate coordinates."""

    name: str
    region: str
    region_code: str  # the first two digits of INNs registered there
    lat: float
    lon: float
    weight: float = 1.0  # how much industry to put there (rough population share)


# Municipal centres of Lipetsk oblast (approximate coordinates).
MUNICIPALITIES: tuple[City, ...] = tuple(
    City(name, REGION, "48", lat, lon, w)
    for name, lat, lon, w in (
        ("Липецк", 52.6031, 39.5708, 40), ("Елец", 52.6244, 38.5031, 12),
        ("Грязи", 52.4967, 39.9344, 6), ("Данков", 53.2578, 39.1456, 3),
        ("Лебедянь", 53.0156, 39.1436, 3), ("Усмань", 52.0442, 39.7264, 3),
        ("Чаплыгин", 53.2406, 39.9672, 2), ("Задонск", 52.3908, 38.9203, 2),
        ("Доброе", 52.9750, 39.7400, 1), ("Тербуны", 52.1458, 38.2806, 1),
        ("Волово", 52.0383, 37.8858, 1), ("Красное", 52.8900, 38.7900, 1),
        ("Лев Толстой", 53.2117, 39.4450, 1), ("Становое", 52.7550, 38.3300, 1),
        ("Хлевное", 52.2000, 39.0900, 1), ("Измалково", 52.5400, 38.1500, 1),
        ("Долгоруково", 52.3500, 38.3600, 1), ("Добринка", 52.1675, 40.4839, 1),
    )
)

# Industrial cities of Russia (approximate coordinates); weights ~ population in 100k.
CITIES: tuple[City, ...] = tuple(
    City(name, region, code, lat, lon, w)
    for name, region, code, lat, lon, w in (
        ("Воронеж", "Воронежская область", "36", 51.6608, 39.2003, 10),
        ("Тамбов", "Тамбовская область", "68", 52.7212, 41.4523, 3),
        ("Орёл", "Орловская область", "57", 52.9703, 36.0635, 3),
        ("Курск", "Курская область", "46", 51.7304, 36.1926, 4),
        ("Белгород", "Белгородская область", "31", 50.5997, 36.5983, 4),
        ("Старый Оскол", "Белгородская область", "31", 51.2967, 37.8350, 2),
        ("Тула", "Тульская область", "71", 54.1931, 37.6173, 5),
        ("Рязань", "Рязанская область", "62", 54.6269, 39.6916, 5),
        ("Москва", "Москва", "77", 55.7558, 37.6173, 60),
        ("Нижний Новгород", "Нижегородская область", "52", 56.3269, 44.0059, 12),
        ("Казань", "Республика Татарстан", "16", 55.7961, 49.1064, 12),
        ("Набережные Челны", "Республика Татарстан", "16", 55.7436, 52.3958, 5),
        ("Челябинск", "Челябинская область", "74", 55.1644, 61.4368, 11),
        ("Магнитогорск", "Челябинская область", "74", 53.4186, 58.9794, 4),
        ("Миасс", "Челябинская область", "74", 55.0456, 60.1078, 1.5),
        ("Екатеринбург", "Свердловская область", "66", 56.8389, 60.6057, 15),
        ("Нижний Тагил", "Свердловская область", "66", 57.9100, 59.9650, 3),
        ("Ростов-на-Дону", "Ростовская область", "61", 47.2357, 39.7015, 11),
        ("Брянск", "Брянская область", "32", 53.2436, 34.3634, 4),
        ("Чебоксары", "Чувашская Республика", "21", 56.1439, 47.2489, 5),
        ("Самара", "Самарская область", "63", 53.1959, 50.1002, 11),
        ("Тольятти", "Самарская область", "63", 53.5078, 49.4204, 7),
        ("Сызрань", "Самарская область", "63", 53.1585, 48.4681, 2),
        ("Пермь", "Пермский край", "59", 58.0105, 56.2502, 10),
        ("Ярославль", "Ярославская область", "76", 57.6261, 39.8845, 6),
        ("Вологда", "Вологодская область", "35", 59.2181, 39.8886, 3),
        ("Череповец", "Вологодская область", "35", 59.1333, 37.9000, 3),
        ("Саратов", "Саратовская область", "64", 51.5331, 46.0342, 8),
        ("Санкт-Петербург", "Санкт-Петербург", "78", 59.9343, 30.3351, 50),
        ("Краснодар", "Краснодарский край", "23", 45.0355, 38.9753, 9),
        ("Ставрополь", "Ставропольский край", "26", 45.0445, 41.9691, 4),
        ("Владимир", "Владимирская область", "33", 56.1290, 40.4070, 3),
        ("Калуга", "Калужская область", "40", 54.5293, 36.2754, 3),
        ("Пенза", "Пензенская область", "58", 53.1959, 45.0183, 5),
        ("Ульяновск", "Ульяновская область", "73", 54.3142, 48.4031, 6),
        ("Волгоград", "Волгоградская область", "34", 48.7080, 44.5133, 10),
        ("Смоленск", "Смоленская область", "67", 54.7826, 32.0453, 3),
        ("Тверь", "Тверская область", "69", 56.8587, 35.9176, 4),
        ("Иваново", "Ивановская область", "37", 57.0004, 40.9739, 4),
        ("Кострома", "Костромская область", "44", 57.7665, 40.9269, 3),
        ("Киров", "Кировская область", "43", 58.6036, 49.6680, 5),
        ("Ижевск", "Удмуртская Республика", "18", 56.8526, 53.2045, 6),
        ("Уфа", "Республика Башкортостан", "02", 54.7388, 55.9721, 11),
        ("Оренбург", "Оренбургская область", "56", 51.7682, 55.0969, 5),
        ("Саранск", "Республика Мордовия", "13", 54.1838, 45.1749, 3),
        ("Йошкар-Ола", "Республика Марий Эл", "12", 56.6344, 47.8999, 3),
        ("Курган", "Курганская область", "45", 55.4410, 65.3411, 3),
        ("Тюмень", "Тюменская область", "72", 57.1530, 65.5343, 8),
        ("Омск", "Омская область", "55", 54.9885, 73.3242, 11),
        ("Новосибирск", "Новосибирская область", "54", 55.0084, 82.9357, 16),
        ("Барнаул", "Алтайский край", "22", 53.3481, 83.7798, 6),
        ("Кемерово", "Кемеровская область", "42", 55.3547, 86.0873, 5),
        ("Новокузнецк", "Кемеровская область", "42", 53.7557, 87.1099, 5),
        ("Томск", "Томская область", "70", 56.4847, 84.9482, 5),
        ("Красноярск", "Красноярский край", "24", 56.0153, 92.8932, 11),
        ("Иркутск", "Иркутская область", "38", 52.2870, 104.3050, 6),
        ("Хабаровск", "Хабаровский край", "27", 48.4802, 135.0719, 6),
        ("Владивосток", "Приморский край", "25", 43.1155, 131.8855, 6),
        ("Архангельск", "Архангельская область", "29", 64.5393, 40.5170, 3),
        ("Петрозаводск", "Республика Карелия", "10", 61.7849, 34.3469, 3),
        ("Псков", "Псковская область", "60", 57.8194, 28.3318, 2),
        ("Великий Новгород", "Новгородская область", "53", 58.5215, 31.2755, 2),
        ("Калининград", "Калининградская область", "39", 54.7104, 20.4522, 5),
        ("Астрахань", "Астраханская область", "30", 46.3479, 48.0336, 5),
        ("Сыктывкар", "Республика Коми", "11", 61.6688, 50.8364, 2),
    )
)

# Cities the sample's out-of-region suppliers come from.
_SAMPLE_CITIES = (
    "Воронеж", "Тамбов", "Орёл", "Курск", "Белгород", "Тула", "Рязань", "Москва",
    "Нижний Новгород", "Казань", "Челябинск", "Екатеринбург", "Ростов-на-Дону", "Брянск",
    "Чебоксары", "Самара", "Пермь", "Ярославль", "Вологда", "Саратов", "Набережные Челны",
    "Санкт-Петербург", "Краснодар", "Владимир", "Калуга", "Пенза", "Ульяновск", "Старый Оскол",
)


# --- tax numbers ------------------------------------------------------------------------

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def make_inn(region_code: str, office: int, serial: int) -> str:
    """A 10-digit organisation INN with a correct check digit.

    ``region_code`` (2 digits) and ``office`` (2 digits, the tax office) make the
    first four digits, ``serial`` the next five; the last is the check digit.

    Examples
    --------
    >>> make_inn("48", 99, 12345)
    '4899123453'
    """
    body = f"{region_code}{office:02d}{serial:05d}"
    if len(body) != 9 or not body.isdigit():
        raise ValueError(f"cannot build an INN from {region_code!r}, {office}, {serial}")
    check = sum(int(d) * w for d, w in zip(body, _W10, strict=True)) % 11 % 10
    return body + str(check)


def make_ogrn(year: int, region_code: str, office: int, serial: int) -> str:
    """A 13-digit OGRN (legal entity) with a correct check digit.

    Examples
    --------
    >>> make_ogrn(2008, "48", 99, 12345)
    '1084899123451'
    """
    body = f"1{year % 100:02d}{region_code}{office:02d}{serial:05d}"
    if len(body) != 12 or not body.isdigit():
        raise ValueError(f"cannot build an OGRN from {year}, {region_code!r}, {office}, {serial}")
    return body + str(int(body) % 11 % 10)


# --- the planted patterns ---------------------------------------------------------------

# Every id here is checked by tests/test_sample.py against the records themselves.
PLANTED: dict[str, Any] = {
    # demanded by the BOMs, no company in Lipetsk region declares them, and no
    # company there holds every process they need
    "no_regional_supplier": ["elx.gnss", "spray.nozzle", "hyd.steering_unit", "bear.ball",
                             "bear.tapered", "eng.fuel_injection"],
    # … and nobody in the whole dataset declares them either (imported)
    "no_supplier_in_country": ["elx.gnss", "spray.nozzle"],
    # demanded; exactly one regional company declares them (and no other regional
    # company holds all their processes)
    "single_source": {"hyd.cylinder": "m-gidro", "elec.harness": "m-provod",
                      "trans.gear_bevel": "m-reduktor", "cab.glass": "s-steklo"},
    # (supplier, category, importing OEM): declared with capacity, no buyer at all
    # in that category, while the OEM imports it
    "idle_capacity": [("m-dankov-lit", "cast.counterweight", "m-traktor"),
                      ("m-disk", "till.disc", "m-borona"),
                      ("s-elets-elektronika", "elx.sensor_speed", "m-kombain")],
    # members with no supply link to or from another member
    "untied_members": ["m-kosilka", "m-dankov-lit", "m-disk", "m-krepezh",
                       "m-univ-lipetsk", "m-univ-elets", "m-fond", "m-lizing"],
    # (company, category): holds every process the category needs, does not declare it
    "inferred_capability": [("m-gidroservis", "hyd.hose")],
    # demand of the cluster's products (whole BOM expanded) above the capacity
    # declared by all regional companies
    "demand_over_capacity": ["fast.bolts", "hyd.cylinder"],
    # the OEMs' purchases from members are below the cluster's 20% threshold
    "intra_share_below": 0.2,
}

_NO_REGIONAL = set(PLANTED["no_regional_supplier"])
_NO_COUNTRY = set(PLANTED["no_supplier_in_country"])
_IDLE_CATS = {cat for _s, cat, _b in PLANTED["idle_capacity"]}
# categories random regional companies never declare, processes they never hold
_PROTECTED = _NO_REGIONAL | set(PLANTED["single_source"]) | _IDLE_CATS | {
    "fast.bolts", "hyd.hose",
}
_RARE_PROCESSES = {
    "rf_calibration", "precision_moulding", "lapping", "bearing_assembly", "honing",
    "harness_assembly", "glass_tempering", "gear_cutting", "hydraulic_testing", "hose_crimping",
    "cold_heading",
}


# --- the members ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    id: str
    legal_form: str
    name: str
    town: str
    roles: tuple[str, ...]
    employees: int
    # (category, capacity per year); the unit price is the category's reference price ± 10%
    makes: tuple[tuple[str, float], ...] = ()
    extra_processes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()  # product template kinds (OEMs)
    certs: tuple[str, ...] = ()


_MEMBERS: tuple[_Member, ...] = (
    # end-product makers
    _Member("m-kombain", "АО", "Липецкий комбайновый завод", "Липецк", ("oem",), 1400,
            extra_processes=("welding", "painting", "assembly", "sheet_cutting", "machining"),
            products=("combine",), certs=("ISO9001", "TR_TS_010", "PP719", "ISO14001")),
    _Member("m-traktor", "ООО", "Елецкий тракторный завод", "Елец", ("oem",), 1100,
            extra_processes=("welding", "painting", "assembly", "machining"),
            products=("tractor",), certs=("ISO9001", "TR_TS_031", "PP719")),
    _Member("m-seyalka", "ООО", "Агросев", "Грязи", ("oem",), 380,
            extra_processes=("welding", "powder_coating", "assembly"),
            products=("seed_drill",), certs=("ISO9001", "TR_TS_010", "PP719")),
    _Member("m-pochva", "ООО", "Лебедянские почвообрабатывающие машины", "Лебедянь", ("oem",),
            420, extra_processes=("welding", "painting", "assembly", "sheet_cutting"),
            products=("plough", "cultivator"), certs=("ISO9001", "TR_TS_010")),
    _Member("m-borona", "ООО", "Усманьагромаш", "Усмань", ("oem",), 260,
            extra_processes=("welding", "painting", "assembly"),
            products=("disc_harrow",), certs=("TR_TS_010", "PP719")),
    _Member("m-opryskivatel", "ООО", "Данков-Спрей", "Данков", ("oem",), 210,
            extra_processes=("welding", "powder_coating", "assembly"),
            products=("sprayer",), certs=("ISO9001", "TR_TS_010")),
    _Member("m-press", "АО", "Чаплыгинский завод кормоуборочной техники", "Чаплыгин", ("oem",),
            300, extra_processes=("welding", "painting", "assembly", "machining"),
            products=("baler",), certs=("ISO9001", "TR_TS_010", "PP719")),
    _Member("m-kosilka", "ООО", "Задонская косилка", "Задонск", ("oem",), 150,
            extra_processes=("welding", "painting", "assembly"),
            products=("mower",), certs=("TR_TS_010",)),
    _Member("m-zernoochistka", "ООО", "Тербунский завод зерноочистительных машин", "Тербуны",
            ("oem",), 120, extra_processes=("welding", "powder_coating", "assembly"),
            products=("grain_cleaner",), certs=("ISO9001", "TR_TS_010")),
    # component makers
    _Member("m-lityo", "АО", "Липецкое литьё", "Липецк", ("supplier",), 650,
            makes=(("cast.grey_iron", 900_000), ("cast.ductile_iron", 300_000),
                   ("cast.gearbox_housing", 1500), ("cast.axle_housing", 1800),
                   ("cast.wheel_hub", 3000)),
            extra_processes=("turning", "machining"), certs=("ISO9001", "IATF16949", "ISO14001")),
    _Member("m-dankov-lit", "ООО", "Данковский литейный цех", "Данков", ("supplier",), 90,
            makes=(("cast.counterweight", 6000),), certs=("ISO9001",)),
    _Member("m-kovka", "ООО", "Елецкая кузница", "Елец", ("supplier",), 240,
            makes=(("forge.gear_blank", 40_000), ("forge.shaft_blank", 20_000),
                   ("forge.clevis", 15_000), ("till.point", 12_000)),
            extra_processes=("machining",), certs=("ISO9001",)),
    _Member("m-gidro", "АО", "Грязинский завод гидроцилиндров", "Грязи", ("supplier",), 310,
            makes=(("hyd.cylinder", 8000), ("hyd.tank", 1500)),
            extra_processes=("sheet_cutting",), certs=("ISO9001", "IATF16949")),
    _Member("m-gidroservis", "ООО", "Гидросервис-Липецк", "Липецк", ("supplier", "service"), 45,
            makes=(("hyd.fittings", 60_000),),
            extra_processes=("hose_crimping", "hydraulic_testing", "assembly"),
            certs=("ISO9001",)),
    _Member("m-reduktor", "ООО", "Липецкий редукторный завод", "Липецк", ("supplier",), 380,
            makes=(("trans.gear_bevel", 9000), ("trans.gear_spur", 30_000),
                   ("trans.reducer", 2500), ("trans.shaft_splined", 6000),
                   ("trans.sprocket", 20_000)),
            extra_processes=("milling",), certs=("ISO9001", "IATF16949")),
    _Member("m-kabina", "ООО", "Кабина-Л", "Липецк", ("supplier",), 290,
            makes=(("cab.complete", 900), ("cab.frame", 1500), ("cab.seat", 2500)),
            certs=("ISO9001", "ISO3834")),
    _Member("m-provod", "ООО", "Липецкие жгуты", "Лев Толстой", ("supplier",), 160,
            makes=(("elec.harness", 3000),), certs=("ISO9001", "IATF16949")),
    _Member("m-rama", "ООО", "Грязинские металлоконструкции", "Грязи", ("supplier",), 270,
            makes=(("weld.main_frame", 1800), ("weld.toolbar", 3500), ("weld.hopper", 900),
                   ("weld.drawbar", 2500), ("weld.platform", 1200), ("weld.boom", 300)),
            extra_processes=("machining",), certs=("ISO9001", "ISO3834")),
    _Member("m-rabochie-organy", "ООО", "Елецкие рабочие органы", "Елец", ("supplier",), 200,
            makes=(("till.share", 18_000), ("till.mouldboard", 6000), ("till.landside", 8000),
                   ("till.sweep", 40_000), ("till.spring_tine", 30_000)),
            certs=("ISO9001", "GOST_R")),
    _Member("m-disk", "ООО", "Становлянский диск", "Становое", ("supplier",), 110,
            makes=(("till.disc", 30_000),), certs=("GOST_R",)),
    _Member("m-krepezh", "ООО", "Лебедянский метизный завод", "Лебедянь", ("supplier",), 230,
            makes=(("fast.bolts", 1_500_000), ("fast.nuts", 1_200_000), ("fast.washers", 900_000)),
            certs=("ISO9001",)),
    _Member("m-rti", "ООО", "Липецкие РТИ", "Липецк", ("supplier",), 140,
            makes=(("rp.seals", 200_000), ("rp.orings", 400_000), ("rp.rubber_parts", 90_000)),
            certs=("ISO9001",)),
    _Member("m-plast", "ООО", "Добровский пластик", "Доброе", ("supplier",), 95,
            makes=(("rp.plastic_parts", 150_000), ("cab.interior", 1200), ("seed.tube", 60_000)),
            certs=("ISO9001",)),
    _Member("m-kraska", "ООО", "Липецкие покрытия", "Липецк", ("supplier", "service"), 70,
            makes=(("paint.powder_service", 120_000), ("paint.galv_service", 900_000)),
            certs=("ISO9001", "ISO14001")),
    _Member("m-datchik", "ООО", "Агросенсор", "Липецк", ("supplier",), 85,
            makes=(("elx.seed_sensor", 30_000), ("elx.sensor_pressure", 5000)),
            certs=("ISO9001", "TR_TS_020")),
    _Member("m-zhatka", "ООО", "Хлевенские жатки", "Хлевное", ("supplier",), 180,
            makes=(("harv.reel", 500), ("harv.auger", 2500), ("harv.sieve", 3000),
                   ("harv.straw_walker", 2500)),
            certs=("ISO9001",)),
    # science and money
    _Member("m-univ-lipetsk", "ФГБОУ ВО", "Липецкий инженерно-технический университет",
            "Липецк", ("university",), 900),
    _Member("m-univ-elets", "ФГБОУ ВО", "Елецкий агроинженерный институт", "Елец",
            ("university",), 400),
    _Member("m-fond", "АНО", "Региональный фонд поддержки машиностроения", "Липецк",
            ("finance",), 25),
    _Member("m-lizing", "ООО", "Агролизинг-Черноземье", "Липецк", ("finance",), 40),
)

# Member → member links: (supplier, buyer, category, share of the buyer's need).
_MEMBER_LINKS: tuple[tuple[str, str, str, float], ...] = (
    ("m-zhatka", "m-kombain", "harv.straw_walker", 1.0),
    ("m-kabina", "m-traktor", "cab.complete", 0.5),
    ("m-zhatka", "m-kombain", "harv.sieve", 0.5),
    ("m-zhatka", "m-zernoochistka", "harv.sieve", 1.0),
    ("m-rama", "m-seyalka", "weld.main_frame", 1.0),
    ("m-rama", "m-pochva", "weld.toolbar", 0.5),
    ("m-rama", "m-opryskivatel", "weld.boom", 0.5),
    ("m-gidro", "m-pochva", "hyd.cylinder", 0.6),
    ("m-gidro", "m-borona", "hyd.cylinder", 1.0),
    ("m-datchik", "m-seyalka", "elx.seed_sensor", 0.6),
    ("m-reduktor", "m-press", "trans.reducer", 1.0),
    ("m-rabochie-organy", "m-pochva", "till.share", 0.5),
    ("m-rabochie-organy", "m-pochva", "till.sweep", 0.4),
    ("m-kovka", "m-pochva", "forge.clevis", 1.0),
    ("m-plast", "m-seyalka", "seed.tube", 1.0),
    ("m-provod", "m-press", "elec.harness", 1.0),
    ("m-provod", "m-kabina", "elec.harness", 1.0),
    ("m-plast", "m-kabina", "cab.interior", 1.0),
    ("m-rti", "m-gidro", "rp.seals", 0.7),
    ("m-gidroservis", "m-gidro", "hyd.fittings", 1.0),
    ("m-lityo", "m-reduktor", "cast.grey_iron", 0.8),
    ("m-kovka", "m-reduktor", "forge.gear_blank", 1.0),
    ("m-kraska", "m-rama", "paint.galv_service", 1.0),
    ("m-reduktor", "m-zhatka", "trans.reducer", 0.5),
    ("m-lityo", "m-zernoochistka", "cast.grey_iron", 0.3),
)

# What OEM members import: (company, category, country, share of its need).
_IMPORTS: tuple[tuple[str, str, str, float], ...] = (
    ("m-kombain", "elx.gnss", "China", 1.0),
    ("m-kombain", "hyd.steering_unit", "Denmark", 1.0),
    ("m-kombain", "elx.sensor_speed", "Germany", 1.0),
    ("m-kombain", "bear.ball", "China", 0.4),
    ("m-traktor", "elx.gnss", "China", 1.0),
    ("m-traktor", "hyd.steering_unit", "China", 1.0),
    ("m-traktor", "cast.counterweight", "Belarus", 1.0),
    ("m-opryskivatel", "spray.nozzle", "Germany", 0.7),
    ("m-opryskivatel", "spray.nozzle", "Italy", 0.3),
    ("m-opryskivatel", "elx.gnss", "China", 1.0),
    ("m-opryskivatel", "spray.pump", "Italy", 1.0),
    ("m-borona", "till.disc", "Italy", 1.0),
    ("m-press", "hay.knotter", "Germany", 1.0),
    ("m-press", "bear.ball", "China", 0.5),
    ("m-seyalka", "seed.meter", "Germany", 0.5),
)

# Explicit requests: (company, category, required certs, max distance km or None).
_NEEDS: tuple[tuple[str, str, tuple[str, ...], float | None], ...] = (
    ("m-traktor", "hyd.steering_unit", ("ISO9001",), 800),
    ("m-kombain", "elx.sensor_speed", ("ISO9001",), 300),
    ("m-opryskivatel", "spray.nozzle", (), None),
    ("m-borona", "till.disc", ("ISO9001",), 250),
    ("m-seyalka", "seed.opener", (), 400),
    ("m-pochva", "till.share", ("ISO9001", "GOST_R"), 300),
    ("m-kosilka", "hay.cutterbar", (), 500),
)

# Hand-placed non-members: (id, form, name, town, categories with capacity, extra procs, certs)
_SPECIAL: tuple[tuple[str, str, str, str, tuple[tuple[str, float], ...], tuple[str, ...],
                      tuple[str, ...]], ...] = (
    ("s-steklo", "ООО", "Грязинское техническое стекло", "Грязи", (("cab.glass", 12_000),),
     (), ("ISO9001",)),
    ("s-elets-elektronika", "ООО", "Елец-Электроника", "Елец", (("elx.sensor_speed", 20_000),),
     ("assembly",), ("ISO9001", "TR_TS_020")),
    ("s-cheb-gidro", "АО", "Чебоксарский гидроагрегат", "Чебоксары",
     (("hyd.steering_unit", 6000), ("hyd.pump", 20_000), ("hyd.motor", 8000)), (),
     ("ISO9001",)),
    ("s-samara-podshipnik", "АО", "Самарский подшипник", "Самара",
     (("bear.ball", 400_000), ("bear.tapered", 150_000)), (), ("ISO9001", "IATF16949")),
    ("s-vologda-podshipnik", "ООО", "Вологодские подшипники", "Вологда",
     (("bear.ball", 250_000), ("bear.tapered", 90_000), ("bear.housed", 60_000)), (),
     ("ISO9001",)),
    ("s-yar-toplivo", "АО", "Ярославская топливная аппаратура", "Ярославль",
     (("eng.fuel_injection", 30_000),), (), ("ISO9001", "IATF16949")),
    ("s-yar-motor", "АО", "Ярославский моторный завод «Дизель-Центр»", "Ярославль",
     (("eng.diesel", 6000), ("eng.turbo", 4000)), (), ("ISO9001", "IATF16949", "ISO14001")),
    ("s-chel-motor", "ООО", "Челябинские дизели", "Челябинск", (("eng.diesel", 3000),), (),
     ("ISO9001",)),
    ("s-voronezh-shina", "АО", "Воронежская шинная компания", "Воронеж",
     (("tyre.drive", 30_000), ("tyre.implement", 80_000), ("tyre.tube", 60_000)), (),
     ("ISO9001",)),
    ("s-kazan-shina", "ООО", "Казанские сельхозшины", "Казань",
     (("tyre.drive", 20_000), ("tyre.implement", 40_000)), (), ("ISO9001",)),
    ("s-cheb-kpp", "ООО", "Чебоксарские трансмиссии", "Чебоксары",
     (("trans.gearbox", 3000), ("trans.axle", 5000)), (), ("ISO9001", "IATF16949")),
    ("s-nn-elektro", "ООО", "Нижегородская автоэлектрика", "Нижний Новгород",
     (("elec.starter", 40_000), ("elec.alternator", 40_000), ("elec.lighting", 90_000),
      ("elec.relay_box", 30_000)), (), ("ISO9001", "IATF16949")),
    ("s-tula-akb", "ООО", "Тульские аккумуляторы", "Тула", (("elec.battery", 60_000),), (),
     ("ISO9001",)),
    ("s-msk-elektronika", "ООО", "Агроэлектроника-М", "Москва",
     (("elx.terminal", 8000), ("elx.ecu", 12_000), ("elx.pcb", 60_000)), (),
     ("ISO9001", "TR_TS_020")),
)

_NAME_WORDS: dict[str, tuple[str, ...]] = {
    "foundry": ("Литмаш", "Литейщик", "Отливка", "Чугунолит", "Литпром"),
    "forge": ("Кузнец", "Поковка", "Штамп-Ковка", "Горячая штамповка"),
    "machining": ("Мехобработка", "Деталь", "Точмаш", "Станкодеталь", "Прецизион"),
    "gears": ("Редуктор", "Шестерня", "Трансмаш", "Привод"),
    "hydraulics": ("Гидравлика", "Гидромаш", "Гидроагрегат", "Гидропривод"),
    "welding": ("Металлоконструкция", "Сварщик", "Рамстрой", "Каркас"),
    "sheet": ("Листмаш", "Штамп", "Профиль", "Лазер-Мет"),
    "tillage": ("Рабочие органы", "Агродеталь", "Почвомаш", "Лемех"),
    "fasteners": ("Метиз", "Крепёж", "Болт-Снаб", "Пружина"),
    "bearings": ("Подшипник", "Подшипниковый завод", "Ролик"),
    "electrics": ("Автоэлектрика", "Электромаш", "Кабель", "Электропровод"),
    "electronics": ("Электроника", "Датчик", "Микросистемы", "Агротроник"),
    "engines": ("Моторостроитель", "Дизельмаш", "Радиатор", "Фильтр"),
    "tyres": ("Шинпром", "Колесо", "Диск-Авто"),
    "rubber": ("РТИ", "Резинотехника", "Уплотнитель", "Эластомер"),
    "plastics": ("Полимер", "Пластмасс", "Пласт-Деталь", "Ротопласт"),
    "paint": ("Лакокраска", "Покрытие", "Эмаль", "Цинк"),
    "steel": ("Металлобаза", "Сталь-Сервис", "Металлоторг", "Прокат"),
    "cabins": ("Кабина", "Сиденье", "Климат-Авто"),
    "harvester": ("Комбайндеталь", "Жаткомаш", "Агрозапчасть"),
}

_PROFILE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "foundry": ("cast.grey_iron", "cast.ductile_iron", "cast.steel", "cast.aluminium",
                "cast.wheel_hub", "cast.gearbox_housing", "cast.axle_housing",
                "cast.counterweight", "bear.housed", "seed.fan"),
    "forge": ("forge.crankshaft", "forge.conrod", "forge.gear_blank", "forge.shaft_blank",
              "forge.clevis", "till.point", "till.harrow_tooth", "harv.rasp_bar"),
    "machining": ("mach.shafts", "mach.bushings", "mach.flanges", "mach.pins", "mach.housings",
                  "bear.plain", "trans.pulley", "hyd.fittings", "trans.clutch"),
    "gears": ("trans.gear_spur", "trans.gear_bevel", "trans.shaft_splined", "trans.sprocket",
              "trans.reducer", "trans.gearbox", "trans.axle", "trans.cardan", "hay.cutterbar",
              "trans.chain"),
    "hydraulics": ("hyd.cylinder", "hyd.pump", "hyd.motor", "hyd.valve_block", "hyd.hose",
                   "hyd.fittings", "hyd.tank", "hyd.filter", "spray.control"),
    "welding": ("weld.main_frame", "weld.drawbar", "weld.toolbar", "weld.hopper",
                "weld.header_frame", "weld.boom", "weld.platform", "till.roller", "harv.auger",
                "harv.straw_walker", "harv.concave", "hay.plunger", "eng.exhaust",
                "eng.fuel_tank", "hyd.tank", "cab.frame"),
    "sheet": ("stamp.brackets", "stamp.panels", "stamp.sheet_parts", "hay.mower_disc",
              "hay.mower_blade", "harv.knife", "seed.opener", "fast.washers", "harv.sieve",
              "tyre.rim"),
    "tillage": ("till.share", "till.mouldboard", "till.landside", "till.point", "till.sweep",
                "till.spring_tine", "till.disc", "till.roller", "till.harrow_tooth"),
    "fasteners": ("fast.bolts", "fast.nuts", "fast.washers", "fast.pins", "fast.wheel_bolts",
                  "spring.compression", "spring.tension"),
    "bearings": ("bear.ball", "bear.tapered", "bear.housed", "bear.plain"),
    "electrics": ("elec.harness", "elec.cable", "elec.connectors", "elec.lighting",
                  "elec.battery", "elec.starter", "elec.alternator", "elec.motor",
                  "elec.switches", "elec.relay_box"),
    "electronics": ("elx.ecu", "elx.sensor_speed", "elx.sensor_pressure", "elx.seed_sensor",
                    "elx.terminal", "elx.pcb", "elec.relay_box", "spray.control"),
    "engines": ("eng.diesel", "eng.turbo", "eng.radiator", "eng.fuel_injection",
                "eng.air_filter", "eng.oil_filter", "eng.exhaust", "cab.hvac"),
    "tyres": ("tyre.drive", "tyre.implement", "tyre.tube", "tyre.rim"),
    "rubber": ("rp.seals", "rp.orings", "rp.rubber_parts", "rp.conveyor_belt", "trans.vbelt",
               "tyre.tube", "seed.press_wheel"),
    "plastics": ("rp.plastic_parts", "rp.plastic_tank", "cab.interior", "seed.tube",
                 "seed.meter", "seed.distributor", "spray.nozzle_body", "spray.filter",
                 "elec.switches", "hay.twine"),
    "paint": ("paint.primer", "paint.enamel", "paint.powder", "paint.galv_service",
              "paint.powder_service"),
    "steel": ("steel.sheet_hot", "steel.sheet_cold", "steel.plate", "steel.wear", "steel.bar",
              "steel.tube", "steel.profile", "steel.wire", "steel.spring"),
    "cabins": ("cab.complete", "cab.frame", "cab.seat", "cab.hvac", "cab.interior",
               "cab.glass"),
    "harvester": ("harv.header", "harv.drum", "harv.concave", "harv.rasp_bar",
                  "harv.straw_walker", "harv.sieve", "harv.auger", "harv.knife", "harv.reel",
                  "harv.feeder_chain", "hay.knotter", "hay.pickup", "hay.plunger",
                  "hay.mower_disc", "hay.mower_blade", "hay.cutterbar", "spray.pump"),
}
_PROFILE_WEIGHTS: dict[str, float] = {
    "foundry": 1.2, "forge": 0.8, "machining": 2.5, "gears": 0.8, "hydraulics": 1.0,
    "welding": 2.0, "sheet": 1.2, "tillage": 0.8, "fasteners": 0.8, "bearings": 0.4,
    "electrics": 0.8, "electronics": 0.6, "engines": 0.6, "tyres": 0.3, "rubber": 0.8,
    "plastics": 0.9, "paint": 0.6, "steel": 1.2, "cabins": 0.4, "harvester": 1.0,
}

_N_REGIONAL = 46  # non-member companies in Lipetsk region, besides the special ones
_N_NATIONAL = 90  # companies elsewhere in Russia, besides the special ones


# --- the builder ------------------------------------------------------------------------


@dataclass
class SampleData:
    """Every record of the sample, by kind (in schema order)."""

    records: dict[EntityKind, list[Record]] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        """Append ``record`` to the list of its kind."""
        self.records.setdefault(kind_of(record), []).append(record)

    def of(self, kind: EntityKind) -> list[Any]:
        """The records of ``kind`` (an empty list when there are none)."""
        return self.records.get(kind, [])

    def all(self) -> Iterator[Record]:
        """Every record, nodes first."""
        for kind in KINDS:
            yield from self.of(kind)


class _Builder:
    """Builds the sample step by step from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.data = SampleData()
        self.categories = {c.code: c for c in taxonomy.categories(SOURCE)}
        self.leaves = taxonomy.leaf_codes()
        self.companies: dict[str, Company] = {}
        self.declared: dict[str, dict[str, float]] = {}  # company → category → capacity
        self.remaining: dict[tuple[str, str], float] = {}  # (company, category) → free capacity
        self.procs: dict[str, set[str]] = {}
        self.members: list[str] = []
        self.regional: set[str] = set()
        self.names: set[str] = set()
        self.serials: dict[str, int] = {}
        self.idle: set[tuple[str, str]] = {(s, c) for s, c, _b in PLANTED["idle_capacity"]}
        self.supplied: set[tuple[str, str, str]] = set()

    def cooperation(self) -> None:
        """Ties of other types, requests in every state and one joint project (fixed)."""
        for record in _cooperation_records():
            self.add_record(record)

    def add_record(self, record: Record) -> None:
        self.data.add(record)

    # --- helpers
    def _town(self, name: str) -> City:
        for city in (*MUNICIPALITIES, *CITIES):
            if city.name == name:
                return city
        raise KeyError(name)

    def _tax_numbers(self, city: City, with_ogrn: bool) -> tuple[str, str | None]:
        serial = self.serials.get(city.region_code, 0) + self.rng.randint(1, 700)
        self.serials[city.region_code] = serial
        inn = make_inn(city.region_code, 99, serial)
        ogrn = make_ogrn(self.rng.randint(2002, 2019), city.region_code, 99, serial)
        return inn, (ogrn if with_ogrn else None)

    def _price(self, category: str, spread: float = 0.1) -> float:
        ref = self.categories[category].unit_price or 100.0
        return round(ref * self.rng.uniform(1 - spread, 1 + spread), 2)

    def _date(self, first: int, last: int) -> dt.date:
        start = dt.date(first, 1, 1).toordinal()
        end = dt.date(last, 12, 31).toordinal()
        return dt.date.fromordinal(self.rng.randint(start, end))

    def _company(self, cid: str, form: str, name: str, city: City, roles: Sequence[str],
                 employees: int, *, with_ogrn: bool = True) -> Company:
        inn, ogrn = self._tax_numbers(city, with_ogrn)
        jitter = 0.0 if cid.startswith("m-") else 0.02
        company = Company(
            id=cid, name=f"{form} «{name}»", inn=inn, ogrn=ogrn, legal_form=form,
            region=city.region, municipality=city.name,
            lat=round(city.lat + self.rng.uniform(-jitter, jitter), 4),
            lon=round(city.lon + self.rng.uniform(-jitter, jitter), 4),
            employees=employees, roles=[Role(r) for r in roles], source=SOURCE,
        )
        self.companies[cid] = company
        self.names.add(name)
        self.procs.setdefault(cid, set())
        self.declared.setdefault(cid, {})
        if city.region == REGION:
            self.regional.add(cid)
        self.data.add(company)
        return company

    def _declare(self, cid: str, category: str, capacity: float) -> None:
        cat = self.categories[category]
        self.declared[cid][category] = capacity
        self.remaining[(cid, category)] = capacity
        self.procs[cid].update(cat.processes)
        self.data.add(Capability(
            company_id=cid, category=category, capacity_per_year=capacity,
            lead_time_days=float(self.rng.choice((7, 10, 14, 21, 30, 45, 60))),
            min_order=float(max(1, round(capacity * self.rng.choice((0.001, 0.005, 0.01))))),
            unit_price=self._price(category), source=SOURCE,
        ))

    def _certify(self, cid: str, certs: Iterable[str]) -> None:
        for cert in certs:
            expired = self.rng.random() < 0.15
            until = self._date(2023, 2025) if expired else self._date(2026, 2029)
            self.data.add(HeldCertification(company_id=cid, cert=cert, valid_until=until,
                                            source=SOURCE))

    # --- steps
    def reference(self) -> None:
        for proc in taxonomy.processes(SOURCE):
            self.data.add(proc)
        for cert in taxonomy.certifications(SOURCE):
            self.data.add(cert)
        for cat in self.categories.values():
            self.data.add(cat)
        for line in taxonomy.bom_lines(SOURCE):
            self.data.add(line)
        self.data.add(Cluster(
            id=CLUSTER_ID, region=REGION, intra_share_threshold=0.2, source=SOURCE,
            name="Кластер сельскохозяйственного машиностроения Липецкой области "
                 "(учебный пример, компании вымышлены)",
        ))

    def add_members(self) -> None:
        templates = {t.kind: t for t in taxonomy.PRODUCT_TEMPLATES}
        for m in _MEMBERS:
            self._company(m.id, m.legal_form, m.name, self._town(m.town), m.roles, m.employees)
            self.members.append(m.id)
            self.data.add(Membership(company_id=m.id, cluster_id=CLUSTER_ID,
                                     since=self._date(2018, 2023), source=SOURCE))
            for category, capacity in m.makes:
                self._declare(m.id, category, capacity)
            self.procs[m.id].update(m.extra_processes)
            self._certify(m.id, m.certs)
            for kind in m.products:
                t = templates[kind]
                pid = f"p-{kind.replace('_', '-')}"
                name = f"{t.name_ru} {m.name.split()[0][:3].upper()}-{len(t.lines)}"
                self.data.add(Product(id=pid, name=name, maker_id=m.id, okpd2=t.okpd2,
                                      annual_volume=t.annual_volume, unit_price=t.unit_price,
                                      source=SOURCE))
                for child, qty in t.lines:
                    self.data.add(BomLine(parent=pid, child=child, qty=qty,
                                          parent_kind="product", source=SOURCE))

    def specials(self) -> None:
        for cid, form, name, town, makes, extra, certs in _SPECIAL:
            city = self._town(town)
            self._company(cid, form, name, city, ("supplier",), self.rng.randint(60, 2500))
            for category, capacity in makes:
                self._declare(cid, category, capacity)
            self.procs[cid].update(extra)
            self._certify(cid, certs)

    def _pool(self, profile: str, regional: bool) -> list[str]:
        pool = [c for c in _PROFILE_CATEGORIES[profile] if c not in _NO_COUNTRY]
        if regional:
            pool = [c for c in pool if c not in _PROTECTED
                    and not set(self.categories[c].processes) & _RARE_PROCESSES]
        return pool

    def _fictional_name(self, profile: str, city: City) -> str:
        stem = city.name.split("-")[0].split()[0]
        for _ in range(50):
            word = self.rng.choice(_NAME_WORDS[profile])
            suffix = self.rng.choice(("", "", " Плюс", "-Центр", "-Пром", " М", "-Холдинг"))
            name = f"{stem} {word}{suffix}" if self.rng.random() < 0.5 else f"{word}{suffix}"
            if name not in self.names:
                return name
        return f"{stem} {profile} {len(self.names)}"

    def others(self) -> None:
        profiles = list(_PROFILE_WEIGHTS)
        weights = [_PROFILE_WEIGHTS[p] for p in profiles]
        towns = [c for c in MUNICIPALITIES]
        cities = [self._town(n) for n in _SAMPLE_CITIES]
        for i in range(_N_REGIONAL + _N_NATIONAL):
            regional = i < _N_REGIONAL
            while True:
                profile = self.rng.choices(profiles, weights)[0]
                pool = self._pool(profile, regional)
                if pool:
                    break
            place = (self.rng.choices(towns, [t.weight for t in towns])[0] if regional
                     else self.rng.choices(cities, [c.weight for c in cities])[0])
            cid = f"s-{i + 1:03d}"
            form = self.rng.choices(("ООО", "АО", "ПАО", "ИП"), (80, 12, 3, 5))[0]
            name = self._fictional_name(profile, place)
            employees = int(min(5000, 8 * self.rng.paretovariate(1.2)))
            self._company(cid, form, name, place, ("supplier",), employees,
                          with_ogrn=self.rng.random() < 0.8)
            k = min(len(pool), int(self.rng.paretovariate(1.6)) + self.rng.randint(0, 2))
            for category in self.rng.sample(pool, max(1, k)):
                self._declare(cid, category, self._capacity(category, regional))
            if self.rng.random() < 0.3:
                self.procs[cid].add(self.rng.choice(("painting", "assembly", "drilling")))
            if not regional and self.rng.random() < 0.2:
                self.procs[cid].add(self.rng.choice(sorted(_RARE_PROCESSES - {"rf_calibration",
                                                                              "precision_moulding"})))
            self._certify(cid, [c for c, p in (("ISO9001", 0.6), ("GOST_R", 0.15),
                                               ("ISO14001", 0.1), ("IATF16949", 0.08))
                                if self.rng.random() < p])
        self._cover_the_country(cities)

    def _capacity(self, category: str, regional: bool) -> float:
        demand = self.total_demand.get(category, 0.0) or 1000.0
        share = self.rng.uniform(0.05, 0.3) if regional else self.rng.uniform(0.4, 1.6)
        return float(max(10, round(demand * share, -1)))

    def _cover_the_country(self, cities: list[City]) -> None:
        """Make sure every leaf but the planted absent ones has a supplier outside the region."""
        outside = [cid for cid in self.companies
                   if cid not in self.regional and cid.startswith("s-")]
        for category in self.leaves:
            if category in _NO_COUNTRY:
                continue
            if any(category in self.declared[c] for c in self.companies
                   if c not in self.regional):
                continue
            cid = self.rng.choice(outside)
            self._declare(cid, category, self._capacity(category, False))

    def processes(self) -> None:
        for cid in self.companies:
            for proc in sorted(self.procs[cid]):
                self.data.add(CompanyProcess(company_id=cid, process=proc, source=SOURCE))

    @property
    def total_demand(self) -> dict[str, float]:
        if not hasattr(self, "_demand"):
            demand: dict[str, float] = {}
            for t in taxonomy.PRODUCT_TEMPLATES:
                for code, qty in taxonomy.expand(t.lines, multiplier=t.annual_volume).items():
                    demand[code] = demand.get(code, 0.0) + qty
            self._demand = demand
        return self._demand

    def _supply(self, supplier: str, buyer: str, category: str, volume: float,
                first_year: int = 2015) -> None:
        key = (supplier, buyer, category)
        if key in self.supplied or volume <= 0:
            return
        self.supplied.add(key)
        self.data.add(Supply(supplier_id=supplier, buyer_id=buyer, category=category,
                             volume_per_year=float(round(volume)),
                             unit_price=self._price(category, 0.12),
                             since=self._date(first_year, 2025), source=SOURCE))

    def _import(self, company: str, category: str, country: str, volume: float) -> None:
        self.data.add(Import(company_id=company, category=category, country=country,
                             volume_per_year=float(round(volume)),
                             unit_price=round(self._price(category) * self.rng.uniform(1.1, 1.5),
                                              2), source=SOURCE))

    def _take(self, supplier: str, category: str, want: float) -> float:
        free = self.remaining.get((supplier, category), 0.0)
        got = min(free, want)
        self.remaining[(supplier, category)] = free - got
        return got

    def _candidates(self, category: str, buyer: str, members_ok: bool) -> list[str]:
        out = []
        for cid in self.companies:
            if cid == buyer or category not in self.declared[cid]:
                continue
            if (cid, category) in self.idle or (not members_ok and cid in self.members):
                continue
            if self.remaining.get((cid, category), 0.0) <= 0:
                continue
            out.append(cid)
        return out

    def supplies(self) -> None:
        needs: dict[tuple[str, str], float] = {}  # (OEM, category) → yearly need
        for product in self.data.of(EntityKind.PRODUCT):
            t = next(t for t in taxonomy.PRODUCT_TEMPLATES
                     if product.id == f"p-{t.kind.replace('_', '-')}")
            for child, qty in t.lines:
                key = (product.maker_id, child)
                needs[key] = needs.get(key, 0.0) + qty * t.annual_volume
        # planted: imports, then the member links
        covered: dict[tuple[str, str], float] = {}
        for company, category, country, share in _IMPORTS:
            volume = needs.get((company, category), 1000.0) * share
            self._import(company, category, country, volume)
            covered[(company, category)] = covered.get((company, category), 0.0) + share
        for supplier, buyer, category, share in _MEMBER_LINKS:
            want = needs.get((buyer, category))
            if want is None:  # a component maker's purchase: size it from the supplier
                want = self.declared[supplier][category] * 0.3
            got = self._take(supplier, category, want * share)
            self._supply(supplier, buyer, category, got, first_year=2018)
            if (buyer, category) in needs:
                covered[(buyer, category)] = covered.get((buyer, category), 0.0) + share
        # the rest of the OEMs' needs from non-members, splitting between 1–3 suppliers
        for (buyer, category), need in needs.items():
            left = need * max(0.0, 1.0 - covered.get((buyer, category), 0.0))
            if left <= 0 or category in _IDLE_CATS:
                continue
            for _ in range(self.rng.choice((1, 1, 2, 3))):
                options = self._candidates(category, buyer, members_ok=False)
                if not options or left <= 0:
                    break
                supplier = self.rng.choice(options)
                got = self._take(supplier, category, left * self.rng.uniform(0.5, 1.0))
                self._supply(supplier, buyer, category, got)
                left -= got
            if left > 0.25 * need:  # what is left beyond that stays uncontracted
                self._import(buyer, category, self.rng.choice(("China", "Turkey", "Belarus")),
                             left)
        self._component_purchases()

    def _component_purchases(self) -> None:
        """Suppliers buy the parts and materials of what they declare (their own BOM)."""
        untouchable = set(PLANTED["untied_members"])
        for buyer in sorted(self.companies):
            if buyer in untouchable:
                continue
            for category, capacity in sorted(self.declared[buyer].items()):
                for child, qty in taxonomy.CATEGORY_BOM.get(category, ()):
                    if child in _IDLE_CATS or self.rng.random() < 0.35:
                        continue
                    options = [c for c in self._candidates(child, buyer, members_ok=True)
                               if c not in untouchable]
                    if buyer in self.members:  # keep member ties to the planted ones
                        options = [c for c in options if c not in self.members]
                    if not options:
                        continue
                    supplier = self.rng.choice(options)
                    want = capacity * qty * self.rng.uniform(0.2, 0.6)
                    self._supply(supplier, buyer, child, self._take(supplier, child, want))
        # a few sales of the fastener member to regional non-members: busy, yet untied
        regional_others = sorted(c for c in self.regional if c.startswith("s-"))
        for buyer in self.rng.sample(regional_others, 5):
            for category in ("fast.bolts", "fast.nuts"):
                got = self._take("m-krepezh", category, self.rng.uniform(20_000, 80_000))
                self._supply("m-krepezh", buyer, category, got)

    def needs(self) -> None:
        for company, category, certs, distance in _NEEDS:
            qty = sum(t.annual_volume * q for t in taxonomy.PRODUCT_TEMPLATES
                      for c, q in t.lines if c == category
                      and self._maker_of(t.kind) == company)
            self.data.add(Need(company_id=company, category=category, qty_per_year=qty or None,
                               required_certs=list(certs), max_distance_km=distance,
                               source=SOURCE))

    def _maker_of(self, kind: str) -> str:
        for m in _MEMBERS:
            if kind in m.products:
                return m.id
        return ""


# --- cooperation: ties of other types, requests in every state, one joint project ----------
# Fixed records (no random draws, so the rest of the sample is unchanged). The ties
# of the universities and finance companies are of types Resolution No. 779 does not
# count (training, financing) or may not (R&D): the planted untied members stay untied.

_TIES: tuple[tuple[str, str, str, str, str | None, str], ...] = (
    # (company, partner, type, since, until, contract)
    ("m-univ-lipetsk", "m-kombain", "rnd", "2024-03-01", "2026-12-31",
     "НИОКР: облегчённая рама жатки"),
    ("m-univ-lipetsk", "m-traktor", "training", "2023-09-01", "2027-06-30",
     "Целевое обучение и практика"),
    ("m-univ-elets", "m-lityo", "training", "2025-02-01", None, "Практика студентов-литейщиков"),
    ("m-lizing", "m-seyalka", "financing", "2024-06-01", "2029-05-31",
     "Лизинг обрабатывающего центра"),
    ("m-fond", "m-gidro", "financing", "2023-01-01", "2028-12-31", "Заём фонда на станки"),
    ("m-kraska", "m-rama", "production_services", "2022-04-01", None,
     "Порошковая окраска рам"),
)
_H = "T09:00:00+00:00"
# (id, from, to, role, tie type, origin, category, volume, final state, reason, day)
_REQUESTS: tuple[tuple[str, str, str, str, str, str, str | None, float | None, str,
                       str | None, str], ...] = (
    ("rq-0001", "m-traktor", "m-dankov-lit", "buyer", "supply", "idle_capacity",
     "cast.counterweight", 2400, "in_talks", None, "2025-10-01"),
    ("rq-0002", "m-borona", "m-disk", "buyer", "supply", "recommendation", "till.disc",
     6000, "sent", None, "2025-11-05"),
    ("rq-0003", "m-kosilka", "m-krepezh", "buyer", "supply", "recommendation", "fast.bolts",
     40000, "declined", "capacity", "2025-06-10"),
    ("rq-0004", "m-kombain", "s-elets-elektronika", "buyer", "supply", "import",
     "elx.sensor_speed", 900, "declined", "price", "2025-08-20"),
    ("rq-0005", "m-univ-lipetsk", "m-kombain", "partner", "rnd", "other", None, None,
     "agreed", None, "2024-02-01"),
    ("rq-0006", "m-seyalka", "m-gidro", "buyer", "supply", "recommendation", "hyd.cylinder",
     800, "proposed", None, "2025-12-01"),
    ("rq-0007", "m-opryskivatel", "m-plast", "buyer", "supply", "need", "rp.plastic_parts",
     3000, "expired", None, "2025-03-15"),
)
_PATHS = {"proposed": ["proposed"], "sent": ["proposed", "sent"],
          "in_talks": ["proposed", "sent", "in_talks"],
          "agreed": ["proposed", "sent", "in_talks", "agreed"],
          "declined": ["proposed", "sent", "declined"], "expired": ["proposed", "sent", "expired"]}
_PROJECT = "jp-steering"
# (company, role, part, category)
_PARTICIPANTS = (
    ("m-traktor", "lead", "Сборка и испытания насоса-дозатора", "hyd.steering_unit"),
    ("m-gidro", "component_maker", "Корпуса и золотники", None),
    ("m-lityo", "component_maker", "Отливки корпусов", None),
    ("m-univ-lipetsk", "rnd_partner", "Конструкторская документация, испытания", None),
    ("m-lizing", "financier", "Лизинг оборудования", None),
)
# (company, item, cost type, year, amount)
_COSTS = (
    ("m-traktor", "test-bench", "equipment", 2026, 45_000_000.0),
    ("m-traktor", "certification", "certification", 2027, 3_500_000.0),
    ("m-gidro", "cnc-lathes", "equipment", 2026, 30_000_000.0),
    ("m-gidro", "spool-tooling", "tooling", 2027, 8_000_000.0),
    ("m-lityo", "core-boxes", "tooling", 2026, 6_000_000.0),
    ("m-univ-lipetsk", "design", "rnd", 2026, 12_000_000.0),
)


_ROLE_OF: dict[str, Literal["buyer", "supplier", "partner"]] = {
    "buyer": "buyer", "supplier": "supplier", "partner": "partner"}


def _cooperation_records() -> list[Record]:
    """The sample's ties, requests and joint project (see the tables above)."""
    out: list[Record] = [
        Tie(company_id=a, partner_id=b, tie_type=TieType(t), since=dt.date.fromisoformat(since),
            until=dt.date.fromisoformat(until) if until else None, contract=contract,
            request_id="rq-0005" if (a, t) == ("m-univ-lipetsk", "rnd") else None,
            source=SOURCE)
        for a, b, t, since, until, contract in _TIES]
    for rid, a, b, role, tie, origin, cat, volume, state, reason, day in _REQUESTS:
        path = _PATHS[state]
        actors = ["centre" if state == "proposed" else (a if s in ("proposed", "sent") else b)
                  for s in path]
        history = [f"{day}{_H};{i + 1};{path[i - 1] if i else '-'};{s};{actors[i]}"
                   for i, s in enumerate(path)]
        out.append(CoopRequest(
            id=rid, from_id=a, to_id=b, requester_role=_ROLE_OF[role], tie_type=TieType(tie),
            origin=RequestOrigin(origin),
            opened_by="centre" if state == "proposed" else a, category=cat,
            volume_per_year=volume, due_date=dt.date(2026, 3, 31) if state != "expired"
            else dt.date(2025, 6, 30), state=RequestState(state), version=len(path),
            decline_reason=DeclineReason(reason) if reason else None,
            decline_text="Мощности заняты до 2027 г." if reason == "capacity" else
            ("Цена ниже себестоимости" if reason == "price" else None),
            agreed_on=dt.date(2024, 3, 1) if state == "agreed" else None,
            created_at=dt.datetime.fromisoformat(day + _H),
            updated_at=dt.datetime.fromisoformat(day + _H), history=history, source=SOURCE))
    out.append(JointProject(
        id=_PROJECT, name="Локализация насоса-дозатора рулевого управления",
        cluster_id=CLUSTER_ID, category="hyd.steering_unit",
        product_name="Насос-дозатор для тракторов и комбайнов", import_country="China",
        import_volume=1200, import_value=1200 * 95_000.0,
        expected_import_replaced=80_000_000.0, expected_intra_purchases=60_000_000.0,
        expected_jobs=55, start_year=2026, end_year=2028,
        rules_version="rf-41-2016/unverified-2026-11",
        summary="Совместный проект участников кластера: импортозамещение "
                "гидравлического рулевого управления", source=SOURCE))
    out += [ProjectParticipant(company_id=c, project_id=_PROJECT, role=ProjectRole(r), part=part,
                               category=cat, source=SOURCE)
            for c, r, part, cat in _PARTICIPANTS]
    out += [ProjectCost(company_id=c, project_id=_PROJECT, item=item, cost_type=CostType(t), year=y,
                        amount=amount, source=SOURCE) for c, item, t, y, amount in _COSTS]
    return out


def build_sample(seed: int = SAMPLE_SEED) -> SampleData:
    """Build every record of the sample cluster (deterministic for a given ``seed``)."""
    builder = _Builder(seed)
    builder.reference()
    builder.add_members()
    builder.specials()
    builder.others()
    builder.processes()
    builder.supplies()
    builder.needs()
    builder.cooperation()
    return builder.data


def write_sample(data: SampleData, out_dir: str | Path = SAMPLE_DIR) -> list[Path]:
    """Write one CSV per kind and the README into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name in SAMPLE_FILE_NAMES.items():
        path = out / name
        _write_csv(path, kind, data.of(kind))
        written.append(path)
    readme = out / "README.md"
    readme.write_bytes(_readme(data).encode("utf-8"))
    written.append(readme)
    return written


# --- analysis (for the README) ----------------------------------------------------------


def analyse(data: SampleData) -> dict[str, Any]:
    """Compute the patterns of the sample from its records (what the README reports)."""
    companies = {c.id: c for c in data.of(EntityKind.COMPANY)}
    regional = {cid for cid, c in companies.items() if c.region == REGION}
    members = {m.company_id for m in data.of(EntityKind.MEMBERSHIP)}
    recipes: dict[str, list[tuple[str, float]]] = {}
    product_lines: dict[str, list[tuple[str, float]]] = {}
    for line in data.of(EntityKind.BOM_LINE):
        target = recipes if line.parent_kind == "category" else product_lines
        target.setdefault(line.parent, []).append((line.child, line.qty))
    demand: dict[str, float] = {}
    for p in data.of(EntityKind.PRODUCT):
        for code, qty in taxonomy.expand(product_lines.get(p.id, []), recipes,
                                         multiplier=p.annual_volume or 0).items():
            demand[code] = demand.get(code, 0.0) + qty
    suppliers: dict[str, set[str]] = {}
    capacity: dict[str, float] = {}
    for cap in data.of(EntityKind.CAPABILITY):
        suppliers.setdefault(cap.category, set()).add(cap.company_id)
        if cap.company_id in regional:
            capacity[cap.category] = capacity.get(cap.category, 0.0) + (cap.capacity_per_year or 0)
    regional_sup = {c: sorted(s & regional) for c, s in suppliers.items()}
    ties: set[str] = set()
    oem_total = oem_intra = 0.0
    oems = {cid for cid in members if Role.OEM in companies[cid].roles}
    for s in data.of(EntityKind.SUPPLY):
        if s.supplier_id in members and s.buyer_id in members:
            ties.update((s.supplier_id, s.buyer_id))
        if s.buyer_id in oems:
            value = (s.volume_per_year or 0) * (s.unit_price or 0)
            oem_total += value
            if s.supplier_id in members:
                oem_intra += value
    return {
        "demanded": sorted(demand),
        "no_regional_supplier": sorted(c for c in demand if not regional_sup.get(c)),
        "no_supplier_in_country": sorted(c for c in demand if not suppliers.get(c)),
        "single_source": {c: regional_sup[c][0] for c in sorted(demand)
                          if len(regional_sup.get(c, [])) == 1},
        "demand_over_capacity": sorted(c for c in demand if c in capacity
                                       and demand[c] > capacity[c]),
        "untied_members": sorted(members - ties),
        "intra_share": oem_intra / oem_total if oem_total else 0.0,
        "demand": demand,
        "regional_capacity": capacity,
    }


def _readme(data: SampleData) -> str:
    a = analyse(data)
    counts = {kind: len(data.of(kind)) for kind in KINDS}
    companies = data.of(EntityKind.COMPANY)
    n_regional = sum(1 for c in companies if c.region == REGION)
    lines = [
        "# Sample cluster: agricultural machinery of Lipetsk region (FICTIONAL COMPANIES)",
        "",
        "**Every company in this folder is invented.** Names, INNs, OGRNs, capacities,",
        "prices, certificates and supply links are made up for demonstration and tests;",
        "any likeness to a real enterprise is accidental. The INNs and OGRNs pass their",
        "check digits but use tax-office code 99 to keep clear of real registrations.",
        "What is real: the municipalities of Lipetsk oblast and the Russian cities, with",
        "approximate coordinates, the OKPD2 classes of the categories (left empty where",
        "unsure), and the cluster rules (Government Resolution No. 779 of 31.07.2015).",
        "",
        "Regenerate byte for byte with `python -m coopgraph.ingest.sample` (seed "
        f"{SAMPLE_SEED}); the builder is `ingest/sample.py`, the taxonomy `ingest/taxonomy.py`.",
        "",
        "## Contents",
        "",
        "| file | rows |",
        "|---|---:|",
    ]
    lines += [f"| {SAMPLE_FILE_NAMES[k]} | {counts[k]} |" for k in KINDS if k in SAMPLE_FILE_NAMES]
    lines += [
        "",
        f"Cluster `{CLUSTER_ID}` (intra-cluster share threshold 0.2) has "
        f"{counts[EntityKind.MEMBERSHIP]} members: 9 end-product makers (10 products),",
        "17 component makers, 2 universities and 2 finance companies. "
        f"{n_regional} companies are in Lipetsk region, {len(companies) - n_regional} elsewhere.",
        "Products: " + ", ".join(f"`{p.id}` ({p.maker_id})" for p in data.of(EntityKind.PRODUCT)),
        "",
        "## Planted patterns (exact ids; tests check them from the records)",
        "",
        "Regional = `region == \"Липецкая область\"`. Demanded = every category reached",
        "from the products' BOMs (product lines and category recipes, expanded).",
        "",
        "- Demanded, **no regional supplier** (no regional company declares it or holds "
        "all its processes): " + _ids(PLANTED["no_regional_supplier"]),
        "- … and **no supplier in the country** (imported): "
        + _ids(PLANTED["no_supplier_in_country"]),
        "- **Single-source** (exactly one regional supplier): "
        + ", ".join(f"`{c}` ← `{s}`" for c, s in PLANTED["single_source"].items()),
        "- **Idle capacity, no buyer**, while an OEM imports the category: "
        + ", ".join(f"`{s}` / `{c}` (imported by `{b}`)" for s, c, b in PLANTED["idle_capacity"]),
        "- **Members without a cooperation link** to another member (KPI \"at most 3\" fails): "
        + _ids(PLANTED["untied_members"]),
        "- **Inferred capability** (holds every process, does not declare it): "
        + ", ".join(f"`{s}` → `{c}`" for s, c in PLANTED["inferred_capability"]),
        "- **Demand above total regional capacity**: "
        + ", ".join(f"`{c}` ({a['demand'][c]:,.0f} vs {a['regional_capacity'][c]:,.0f})"
                    for c in PLANTED["demand_over_capacity"]),
        f"- **Intra-cluster share** of the OEM members' purchases (supplies by value): "
        f"{a['intra_share']:.1%} < 20% — the KPI fails; idle member capacity "
        "(`m-dankov-lit`, `m-disk`) matches what member OEMs import.",
        "",
        "## Cooperation (requests, ties of other types, a joint project)",
        "",
        f"- {counts[EntityKind.COOP_REQUEST]} cooperation requests, one in each state "
        "(two declined: capacity, price), opened from recommendations, a need, an import "
        "and idle capacity.",
        f"- {counts[EntityKind.TIE]} ties that are not supply links: R&D, training and "
        "financing ties of the universities and finance companies (Resolution No. 779 does not "
        "count them, so they stay untied) and one tie for works of a production nature.",
        f"- Joint project `{_PROJECT}` (localising the imported `hyd.steering_unit`): "
        f"{counts[EntityKind.PROJECT_PARTICIPANT]} participants, "
        f"{counts[EntityKind.PROJECT_COST]} cost items.",
        "",
        "## Computed over the whole sample (for reference)",
        "",
        f"- Demanded categories: {len(a['demanded'])}",
        "- All demanded categories without a regional supplier: "
        + _ids(a["no_regional_supplier"]),
        "- All single-source categories: "
        + ", ".join(f"`{c}` ← `{s}`" for c, s in a["single_source"].items()),
        "- All categories with demand above regional capacity: "
        + _ids(a["demand_over_capacity"]),
        "- All untied members: " + _ids(a["untied_members"]),
        "",
    ]
    return "\n".join(lines)


def _ids(items: Iterable[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) or "—"


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the sample into ``argv[0]`` (default :data:`SAMPLE_DIR`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else SAMPLE_DIR
    data = build_sample()
    bad = [c.inn for c in data.of(EntityKind.COMPANY) if c.inn and inn_problem(c.inn)]
    if bad:  # pragma: no cover - make_inn computes the check digits
        raise ValueError(f"invalid INNs generated: {bad}")
    for path in write_sample(data, out):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
