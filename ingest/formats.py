"""The input formats: one per entity kind, English column names with Russian aliases.

A format says which columns a file of one kind may have (the model's field
names, plus a few ingest-only columns such as a capability's free-text
``description`` or a company named by its INN), which headers people actually
write for them (``ИНН``, ``Наименование``, ``Мощность в год``…), and which
columns must be present. Headers are matched case-, space- and
punctuation-insensitively (``Capacity per year`` = ``capacity_per_year``), with
``ё`` folded to ``е`` and a trailing unit in brackets ignored
(``Мощность в год (шт)``).

:func:`detect_format` recognises a file's kind from its header, using the file
(or sheet) name as a hint when the header alone is ambiguous.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from coopgraph.graph.schema import KINDS, PROVENANCE_FIELDS, EntityKind

__all__ = [
    "FORMATS",
    "LOAD_ORDER",
    "ColumnMap",
    "Format",
    "company_refs",
    "date_order",
    "derived_fields",
    "detect_format",
    "normalize_header",
]

_K = EntityKind

# The order kinds are loaded in: every kind after the kinds it refers to
# (categories name processes; products name their maker).
LOAD_ORDER: tuple[EntityKind, ...] = (
    _K.COMPANY, _K.CLUSTER, _K.PROCESS, _K.CERTIFICATION, _K.CATEGORY, _K.PRODUCT,
    _K.MEMBERSHIP, _K.BOM_LINE, _K.CAPABILITY, _K.HELD_CERTIFICATION, _K.COMPANY_PROCESS,
    _K.SUPPLY, _K.IMPORT, _K.NEED,
    # cooperation (issue #13): last, so that a tie in format detection goes to the kinds above
    _K.TIE, _K.COOP_REQUEST, _K.JOINT_PROJECT, _K.PROJECT_PARTICIPANT, _K.PROJECT_COST,
)

# Fields that name a company, per kind (they may also be given as an INN/OGRN).
_COMPANY_REFS: dict[EntityKind, tuple[str, ...]] = {
    _K.PRODUCT: ("maker_id",),
    _K.MEMBERSHIP: ("company_id",),
    _K.CAPABILITY: ("company_id",),
    _K.HELD_CERTIFICATION: ("company_id",),
    _K.COMPANY_PROCESS: ("company_id",),
    _K.SUPPLY: ("supplier_id", "buyer_id"),
    _K.IMPORT: ("company_id",),
    _K.NEED: ("company_id",),
}

# Canonical file names (without extension) per kind: the hint used for ties.
_FILE_HINTS: dict[EntityKind, tuple[str, ...]] = {
    _K.COMPANY: ("companies", "company", "компании", "организации", "участники", "members"),
    _K.CLUSTER: ("clusters", "cluster", "кластеры"),
    _K.CATEGORY: ("categories", "category", "taxonomy", "категории", "классификатор"),
    _K.PROCESS: ("processes", "процессы", "технологии"),
    _K.PRODUCT: ("products", "изделия", "продукция"),
    _K.CERTIFICATION: ("certifications", "certificates", "сертификаты"),
    _K.MEMBERSHIP: ("memberships", "membership", "членство"),
    _K.BOM_LINE: ("bom", "bom_lines", "спецификации", "спецификация"),
    _K.CAPABILITY: ("capabilities", "capability", "мощности", "компетенции", "возможности"),
    _K.HELD_CERTIFICATION: ("held_certifications", "сертификаты_компаний"),
    _K.COMPANY_PROCESS: ("company_processes", "процессы_компаний"),
    _K.SUPPLY: ("supplies", "supply", "поставки", "договоры"),
    _K.IMPORT: ("imports", "import", "импорт"),
    _K.NEED: ("needs", "потребности", "заявки"),
    _K.TIE: ("ties", "связи", "договоры_кооперации", "cooperation_ties"),
    _K.COOP_REQUEST: ("requests", "coop_requests", "запросы_кооперации"),
    _K.JOINT_PROJECT: ("projects", "joint_projects", "совместные_проекты"),
    _K.PROJECT_PARTICIPANT: ("project_participants", "участники_проектов"),
    _K.PROJECT_COST: ("project_costs", "затраты_проектов"),
}

_COMPANY_WORDS = ("компания", "id компании", "код компании", "организация", "предприятие")


_GENITIVE = {"компания": "компании", "участник": "участника", "изготовитель": "изготовителя",
              "поставщик": "поставщика", "покупатель": "покупателя"}


def _ref_aliases(base: str, words: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Aliases of a company reference field and of its INN/OGRN variants."""
    forms = [words[0]] + ([_GENITIVE[words[0]]] if words[0] in _GENITIVE else [])
    return {
        f"{base}_id": (base, *words, *(f"{p} {f}" for f in forms for p in ("id", "код"))),
        f"{base}_inn": (*(f"инн {f}" for f in forms), f"{base} inn"),
        f"{base}_ogrn": (*(f"огрн {f}" for f in forms), f"{base} ogrn"),
    }


def _company_ref(base: str = "company", words: Sequence[str] = _COMPANY_WORDS,
                 plain_inn: bool = True) -> dict[str, tuple[str, ...]]:
    aliases = _ref_aliases(base, words)
    if plain_inn:  # a file with one company column may call its INN just "ИНН"
        aliases[f"{base}_inn"] = (*aliases[f"{base}_inn"], "инн", "inn")
        aliases[f"{base}_ogrn"] = (*aliases[f"{base}_ogrn"], "огрн", "ogrn")
    return aliases


_CATEGORY = {"category": ("категория", "код категории", "category code", "категория код")}
_PRICE = {"unit_price": ("цена за единицу", "цена", "цена за ед", "price")}
_VOLUME = {"volume_per_year": ("объем в год", "годовой объем", "объем", "volume")}

# field -> aliases (canonical name included automatically); per kind.
_ALIASES: dict[EntityKind, dict[str, tuple[str, ...]]] = {
    _K.COMPANY: {
        "id": ("код", "идентификатор", "ид", "company id", "код компании"),
        "name": ("наименование", "название", "наименование организации", "организация",
                 "полное наименование", "краткое наименование", "company"),
        "inn": ("инн",),
        "ogrn": ("огрн", "огрнип"),
        "legal_form": ("опф", "организационно правовая форма", "правовая форма"),
        "region": ("регион", "субъект рф", "субъект", "область"),
        "municipality": ("муниципалитет", "район", "муниципальное образование", "город",
                         "municipal district", "district", "city"),
        "lat": ("широта", "latitude"),
        "lon": ("долгота", "longitude", "lng"),
        "employees": ("численность", "численность сотрудников", "сотрудников",
                      "численность персонала", "staff"),
        "roles": ("роли", "роль", "role"),
        "okved_main": ("основной оквэд", "оквэд основной", "main okved"),
        "okved": ("оквэд", "коды оквэд", "оквэд2", "okved2"),
    },
    _K.CLUSTER: {
        "id": ("код", "идентификатор", "код кластера"),
        "name": ("наименование", "название", "наименование кластера"),
        "region": ("регион", "субъект рф"),
        "intra_share_threshold": ("порог внутрикластерной доли", "порог доли"),
    },
    _K.CATEGORY: {
        "code": ("код", "код категории", "id"),
        "name_ru": ("наименование", "название", "name", "наименование рус"),
        "name_en": ("наименование англ", "название англ", "english name", "name english"),
        "okpd2": ("окпд2", "окпд 2", "код окпд2", "код окпд 2"),
        "parent": ("родитель", "родительская категория", "код родителя", "parent code"),
        "processes": ("процессы", "технологии"),
        "synonyms": ("синонимы",),
        "unit": ("единица", "ед изм", "единица измерения"),
        **_PRICE,
    },
    _K.PROCESS: {
        "code": ("код", "код процесса", "id"),
        "name_ru": ("наименование", "название", "name"),
        "name_en": ("наименование англ", "название англ", "english name"),
    },
    _K.PRODUCT: {
        "id": ("код", "код изделия", "идентификатор"),
        "name": ("наименование", "название", "изделие"),
        **_company_ref("maker", ("изготовитель", "производитель", "maker"), plain_inn=False),
        "okpd2": ("окпд2", "окпд 2", "код окпд2"),
        "annual_volume": ("объем выпуска", "годовой объем", "объем в год", "выпуск в год"),
        **_PRICE,
    },
    _K.CERTIFICATION: {
        "code": ("код", "сертификат", "стандарт"),
        "name": ("наименование", "название"),
    },
    _K.MEMBERSHIP: {
        **_company_ref("company", ("участник", *_COMPANY_WORDS)),
        "cluster_id": ("кластер", "код кластера", "cluster"),
        "since": ("с", "дата вступления", "член с", "since date"),
    },
    _K.BOM_LINE: {
        "parent": ("родитель", "изделие", "сборка", "узел", "parent id"),
        "child": ("компонент", "комплектующее", "комплектующая", "составная часть", "child code"),
        "qty": ("количество", "кол во", "кол", "количество на изделие", "quantity"),
        "parent_kind": ("тип родителя", "вид родителя"),
    },
    _K.CAPABILITY: {
        **_company_ref(),
        **_CATEGORY,
        "description": ("описание", "вид деятельности", "деятельность", "продукция",
                        "услуги", "capability", "что делает", "text"),
        "capacity_per_year": ("мощность в год", "мощность", "годовая мощность",
                              "производственная мощность", "capacity"),
        "lead_time_days": ("срок поставки дней", "срок поставки", "срок изготовления дней",
                           "lead time", "lead time days"),
        "min_order": ("минимальный заказ", "мин заказ", "минимальная партия"),
        **_PRICE,
    },
    _K.HELD_CERTIFICATION: {
        **_company_ref(),
        "cert": ("сертификат", "код сертификата", "certification", "certificate"),
        "valid_until": ("действует до", "срок действия", "дата окончания"),
    },
    _K.COMPANY_PROCESS: {
        **_company_ref(),
        "process": ("процесс", "технология", "код процесса"),
    },
    _K.SUPPLY: {
        **_company_ref("supplier", ("поставщик", "продавец", "исполнитель"), plain_inn=False),
        **_company_ref("buyer", ("покупатель", "заказчик", "потребитель"), plain_inn=False),
        **_CATEGORY,
        **_VOLUME,
        **_PRICE,
        "since": ("с", "начало поставок", "дата начала", "поставляет с", "since date"),
    },
    _K.IMPORT: {
        **_company_ref(),
        **_CATEGORY,
        "country": ("страна", "страна происхождения", "страна поставщика"),
        **_VOLUME,
        **_PRICE,
    },
    _K.NEED: {
        **_company_ref(),
        **_CATEGORY,
        "qty_per_year": ("потребность в год", "количество в год", "потребность"),
        "required_certs": ("требуемые сертификаты", "сертификаты"),
        "max_distance_km": ("макс расстояние км", "максимальное расстояние км",
                            "максимальное расстояние", "max distance"),
    },
    _K.TIE: {
        "partner_id": ("партнер", "контрагент", "вторая сторона"),
        "tie_type": ("тип связи", "вид договора", "тип договора"),
        "until": ("по", "дата окончания", "действует до"),
        "contract": ("договор", "номер договора"),
        "value": ("сумма договора", "стоимость договора"),
    },
    # workflow records: canonical (English) headers only
    _K.COOP_REQUEST: {},
    _K.JOINT_PROJECT: {},
    _K.PROJECT_PARTICIPANT: {},
    _K.PROJECT_COST: {},
}

# Ingest-only columns that are not model fields.
EXTRA_FIELDS = frozenset(
    {"description"}
    | {f"{b}_{s}" for b in ("company", "maker", "supplier", "buyer") for s in ("inn", "ogrn")}
)

# Words of a unit that may follow a header after a comma (``Цена за ед., руб.``).
_UNIT_WORDS = frozenset({
    "руб", "рублей", "рубля", "рубли", "р", "тыс", "млн", "шт", "штук", "кг", "т", "тонн",
    "тн", "дней", "дн", "дня", "сут", "км", "чел", "человек", "ед", "изм", "с", "ндс", "без",
    "rub", "rur", "usd", "eur", "pcs", "kg", "t", "days", "km", "vat", "incl", "excl", "per",
})
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_WORD = re.compile(r"[^0-9a-zа-я]+")


def normalize_header(text: Any) -> str:
    """A header reduced to what matters: ``'Срок поставки, дней'`` → ``'срок поставки дней'``.

    Lower case, ``ё``→``е``, a bracketed unit dropped, every run of other
    characters (``_``, ``-``, ``,``, spaces) turned into one space.

    Examples
    --------
    >>> normalize_header("  Capacity_Per_Year ")
    'capacity per year'
    >>> normalize_header("Объём в год (шт.)")
    'объем в год'
    """
    raw = "" if text is None else str(text)
    low = raw.replace("\ufeff", "").lower().replace("ё", "е")
    stripped = _BRACKETS.sub(" ", low)
    if stripped.strip():
        low = stripped
    return _NON_WORD.sub(" ", low).strip()


_DATE_ORDER = re.compile(r"(D{1,2})[./\-](M{1,2})[./\-]Y{2,4}|(M{1,2})[./\-](D{1,2})[./\-]Y{2,4}"
                         r"|Y{4}[./\-]M{2}[./\-]D{2}")


def date_order(header: Any) -> str | None:
    """The date order a header states in brackets: ``'dmy'``, ``'mdy'``, ``'ymd'`` or None.

    Examples
    --------
    >>> date_order("since (MM/DD/YYYY)"), date_order("Дата начала (ДД.ММ.ГГГГ)")
    ('mdy', 'dmy')
    >>> date_order("since") is None
    True
    """
    text = "" if header is None else str(header).upper()
    text = text.translate(str.maketrans("ДМГ", "DMY"))
    for part in _BRACKETS.findall(text):
        m = _DATE_ORDER.search(part)
        if m:
            if m.group(1):
                return "dmy"
            if m.group(3):
                return "mdy"
            return "ymd"
    return None


def _base_types(annotation: Any) -> set[Any]:
    """The concrete types inside an annotation (``Optional``/``Annotated`` unwrapped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _base_types(get_args(annotation)[0])
    if origin in (Union, UnionType):
        found: set[Any] = set()
        for arg in get_args(annotation):
            found |= _base_types(arg)
        return found
    if annotation is type(None):
        return set()
    return {origin or annotation}


def _field_kinds(kind: EntityKind) -> tuple[set[str], set[str], set[str], set[str]]:
    """The model's list, float, int and date fields of ``kind``."""
    lists, floats, ints, dates = set(), set(), set(), set()
    for name, info in KINDS[kind].model.model_fields.items():
        types = _base_types(info.annotation)
        if list in types:
            lists.add(name)
        elif float in types:
            floats.add(name)
        elif int in types and bool not in types:
            ints.add(name)
        elif dt.date in types:
            dates.add(name)
    return lists, floats, ints, dates


@dataclass(frozen=True)
class Format:
    """The file format of one entity kind."""

    kind: EntityKind
    fields: tuple[str, ...]  # model fields (no provenance) + ingest-only extras
    aliases: dict[str, str]  # normalised header -> field
    required: tuple[tuple[str, ...], ...]  # each group: at least one must be a column
    list_fields: frozenset[str] = field(default_factory=frozenset)
    float_fields: frozenset[str] = field(default_factory=frozenset)
    int_fields: frozenset[str] = field(default_factory=frozenset)
    date_fields: frozenset[str] = field(default_factory=frozenset)
    company_refs: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The canonical column names (what docs/formats.md lists)."""
        return self.fields

    def field_of(self, header: Any) -> str | None:
        """The field a header names in this format, or ``None``."""
        return self.aliases.get(normalize_header(header))

    def map_columns(self, headers: Sequence[Any]) -> ColumnMap:
        """Map each header to a field; later duplicates of a field are ignored.

        A header that names no field exactly is mapped when it does once a unit
        after a comma or at its end is dropped (``Цена за ед., руб.`` →
        ``unit_price``) and that field has no column yet; otherwise a close
        spelling is kept as a suggestion (:attr:`ColumnMap.suggestions`).
        """
        fields: list[str | None] = []
        seen: set[str] = set()
        for header in headers:
            name = self.field_of(header)
            if name is not None and name in seen:
                name = None
            if name is not None:
                seen.add(name)
            fields.append(name)
        texts = [str(h) if h is not None else "" for h in headers]
        guessed: dict[str, str] = {}
        suggestions: dict[str, str] = {}
        for index, (text, name) in enumerate(zip(texts, fields, strict=True)):
            if name is not None or not text.strip():
                continue
            near = self._without_unit(text)
            if near is not None and near not in seen:
                fields[index] = near
                seen.add(near)
                guessed[text] = near
                continue
            close = difflib.get_close_matches(normalize_header(text), list(self.aliases), n=1,
                                              cutoff=0.8)
            if close:
                suggestions[text] = self.aliases[close[0]]
        return ColumnMap(self, texts, fields, guessed, suggestions)

    def _without_unit(self, header: str) -> str | None:
        """The field ``header`` names once trailing unit words are dropped, or None."""
        words = normalize_header(header.replace(",", " , ")).split()
        while words and (words[-1] in _UNIT_WORDS or words[-1].isdigit()):
            words.pop()
            name = self.aliases.get(" ".join(words))
            if name is not None:
                return name
        return None

    def missing_required(self, present: set[str]) -> list[tuple[str, ...]]:
        """The required groups none of whose fields is among ``present``."""
        return [group for group in self.required if not present.intersection(group)]


@dataclass
class ColumnMap:
    """A file's headers mapped onto one format's fields.

    ``guessed``: headers mapped once a unit was dropped (header → field);
    ``suggestions``: unknown headers close to a known one (header → field).
    """

    fmt: Format
    headers: list[str]
    fields: list[str | None]
    guessed: dict[str, str] = field(default_factory=dict)
    suggestions: dict[str, str] = field(default_factory=dict)

    @property
    def present(self) -> set[str]:
        return {f for f in self.fields if f is not None}

    @property
    def unknown(self) -> list[str]:
        """Headers that name no field (ignored, reported as a warning)."""
        return [h for h, f in zip(self.headers, self.fields, strict=True) if f is None and h]

    def header_of(self, field_name: str) -> str:
        """The user's header for ``field_name`` (the field name when there is no column)."""
        for header, name in zip(self.headers, self.fields, strict=True):
            if name == field_name:
                return header
        return field_name


def _required(kind: EntityKind) -> tuple[tuple[str, ...], ...]:
    model = KINDS[kind].model
    groups: list[tuple[str, ...]] = []
    refs = _COMPANY_REFS.get(kind, ())
    for name, info in model.model_fields.items():
        if name in PROVENANCE_FIELDS or not info.is_required():
            continue
        if kind is _K.COMPANY and name == "id":
            continue  # derived from INN, OGRN or the name
        if name in refs:
            base = name.removesuffix("_id")
            groups.append((name, f"{base}_inn", f"{base}_ogrn"))
        elif kind is _K.CAPABILITY and name == "category":
            groups.append(("category", "description"))
        else:
            groups.append((name,))
    return tuple(groups)


# Model fields ingest sets itself, never read from a file (coords_source: see
# ingest/gazetteer.py; registry_source and registry_date: ingest/registry_fill.py).
_DERIVED: dict[EntityKind, frozenset[str]] = {
    _K.COMPANY: frozenset({"coords_source", "registry_source", "registry_date"})}


def derived_fields(kind: EntityKind) -> frozenset[str]:
    """The model fields of ``kind`` that ingest sets itself (no file column)."""
    return _DERIVED.get(kind, frozenset())


def _build(kind: EntityKind) -> Format:
    derived = derived_fields(kind)
    model_fields = [f for f in KINDS[kind].model.model_fields
                    if f not in PROVENANCE_FIELDS and f not in derived]
    extra = [f for f in _ALIASES[kind] if f not in model_fields]
    fields = (*model_fields, *extra)
    aliases: dict[str, str] = {}
    for name in fields:
        aliases[normalize_header(name)] = name
    for name, words in _ALIASES[kind].items():
        for word in words:
            aliases.setdefault(normalize_header(word), name)
    lists, floats, ints, dates = _field_kinds(kind)
    return Format(
        kind=kind,
        fields=fields,
        aliases=aliases,
        required=_required(kind),
        list_fields=frozenset(lists),
        float_fields=frozenset(floats),
        int_fields=frozenset(ints),
        date_fields=frozenset(dates),
        company_refs=_COMPANY_REFS.get(kind, ()),
        hints=_FILE_HINTS[kind],
    )


FORMATS: dict[EntityKind, Format] = {kind: _build(kind) for kind in LOAD_ORDER}


def company_refs(kind: EntityKind) -> tuple[str, ...]:
    """The fields of ``kind`` that name a company."""
    return _COMPANY_REFS.get(kind, ())


def _hinted(name: str) -> EntityKind | None:
    """The kind a file or sheet name suggests (longest canonical name wins)."""
    stem = normalize_header(name).replace(" ", "_")
    best: tuple[int, EntityKind] | None = None
    for kind, hints in _FILE_HINTS.items():
        for hint in hints:
            named = stem == hint or stem.startswith(hint + "_") or stem.endswith("_" + hint) \
                or f"_{hint}_" in stem or (len(hint) > 4 and hint in stem)
            if named and (best is None or len(hint) > best[0]):
                best = (len(hint), kind)
    return best[1] if best else None


def detect_format(headers: Sequence[Any], name: str = "") -> Format | None:
    """The format whose columns ``headers`` match best, or ``None`` when none fits.

    A format fits when every required column is present. Among fitting formats
    the file (or sheet) ``name`` decides when it names one (``capabilities.csv``,
    ``Мощности``); otherwise the one matching the most columns wins, ties going
    to the kind listed first in :data:`LOAD_ORDER`.
    """
    hint = _hinted(name) if name else None
    fitting: list[tuple[int, int, Format]] = []
    for order, kind in enumerate(LOAD_ORDER):
        fmt = FORMATS[kind]
        present = fmt.map_columns(headers).present
        if not present or fmt.missing_required(present):
            continue
        fitting.append((len(present), -order, fmt))
    if not fitting:
        return None
    if hint is not None:
        for _score, _order, fmt in fitting:
            if fmt.kind is hint:
                return fmt
    return max(fitting, key=lambda t: (t[0], t[1]))[2]
