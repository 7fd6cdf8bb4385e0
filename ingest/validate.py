"""Validation: raw cells → clean field values → pydantic records, with readable reasons.

Two pure steps per row. :class:`RowConverter` turns a row's cells into the
values the model expects — blank cells dropped, ``|``-separated lists split,
Russian number formats (``1 500,5``) and dates (``05.12.2017``) rewritten,
Russian role names mapped (``Поставщик`` → ``supplier``). :func:`validate_row`
then runs the pydantic model and, instead of stopping at the first error,
returns every problem as ``(field, reason)`` in words a data steward can act
on ("latitude 95 is outside the globe (−90…90)").
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import repeat
from types import UnionType
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

from annotated_types import Ge, Gt, Le, MaxLen, MinLen
from pydantic import AfterValidator, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from coopgraph.graph.messages import Msg
from coopgraph.graph.models import CONTROL_CHARACTERS, KEY_PATTERN, Record
from coopgraph.graph.schema import KINDS, PROVENANCE_FIELDS, EntityKind
from coopgraph.ingest.formats import ColumnMap, date_order

__all__ = [
    "DEFER",
    "FastRows",
    "RowConverter",
    "identifier_text",
    "read_date",
    "readable_errors",
    "record_fields",
    "row_print",
    "validate_row",
]

_DATE_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DATE_SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_MONTHS_RU = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
# A leading apostrophe (Excel's "keep as text" mark), quotes and spaces in an INN/OGRN.
_IDENT_JUNK = str.maketrans("", "", " \u00a0\u202f\u2009\t'’‘`\"")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'")

_ROLE_WORDS = {
    "производитель": "oem", "изготовитель": "oem", "оем": "oem", "oem": "oem",
    "производитель техники": "oem",
    "поставщик": "supplier", "поставщик комплектующих": "supplier", "supplier": "supplier",
    "покупатель": "buyer", "заказчик": "buyer", "потребитель": "buyer", "buyer": "buyer",
    "customer": "buyer",
    "вуз": "university", "университет": "university", "колледж": "university",
    "university": "university",
    "финансы": "finance", "банк": "finance", "финансовая организация": "finance",
    "finance": "finance",
    "сервис": "service", "услуги": "service", "service": "service",
    "дилер": "dealer", "dealer": "dealer",
}

# Which column a model-level error (no field in its location) belongs to.
_MODEL_ERROR_FIELD = {
    EntityKind.COMPANY: "lat",
    EntityKind.CATEGORY: "parent",
    EntityKind.BOM_LINE: "child",
    EntityKind.SUPPLY: "buyer_id",
}

_COORDS = {"lat": ("latitude", 90), "lon": ("longitude", 180)}


def _number(text: str) -> str:
    """``'1 500,5'`` → ``'1500.5'``; anything else unchanged (the model judges it)."""
    if "," in text or " " in text or "\u00a0" in text:
        cleaned = text.translate(_SPACES)
        if "," in cleaned and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")
        return cleaned
    return text


def _date(text: str) -> str:
    """``'05.12.2017'`` → ``'2017-12-05'``; ISO text and anything else unchanged.

    Only the formats that cannot be misread: a slash date is left to
    :func:`read_date` (it may be day-first or month-first).
    """
    m = _DATE_DMY.match(text)
    if m:
        day, month, year = m.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if "T" in text and len(text) > 10 and text[4] == "-":
        return text[:10]  # a spreadsheet datetime at midnight
    return text


def _iso_or_none(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def read_date(text: str, order: str | None = None) -> tuple[str | None, str | None]:
    """A date cell as ISO text, or ``(None, reason)`` quoting the cell as typed.

    The documented formats (docs/formats.md): ``YYYY-MM-DD`` (a spreadsheet's
    midnight datetime too) and ``DD.MM.YYYY``. A slash date ``DD/MM/YYYY`` or
    ``MM/DD/YYYY`` is read in the ``order`` its column's header states
    (``'dmy'``/``'mdy'``, see :func:`ingest.formats.date_order`); without one,
    only when it cannot be misread (a part above 12, or both parts equal).

    Examples
    --------
    >>> read_date("05.12.2017")
    ('2017-12-05', None)
    >>> read_date("04/09/2021", "mdy")
    ('2021-04-09', None)
    >>> read_date("04/09/2021")[0] is None
    True
    >>> read_date("31.02.2023")[1].endswith("'31.02.2023' is not a date on the calendar")
    True
    """
    calendar = Msg("r.date_calendar", value=text)
    m = _DATE_ISO.match(text)
    if m:
        iso = _iso_or_none(*map(int, m.groups()))
        return (iso, None) if iso else (None, calendar)
    m = _DATE_DMY.match(text) if order != "mdy" else None
    slash = _DATE_SLASH.match(text)
    if m is None and order == "mdy":
        m = _DATE_DMY.match(text)
        if m is not None:
            first, second, year = map(int, m.groups())
            iso = _iso_or_none(year, first, second)
            return (iso, None) if iso else (None, calendar)
    if m:
        day, month, year = map(int, m.groups())
        iso = _iso_or_none(year, month, day)
        return (iso, None) if iso else (None, calendar)
    if slash:
        first, second, year = map(int, slash.groups())
        if order is None:
            if first > 12 >= second:
                order = "dmy"
            elif second > 12 >= first:
                order = "mdy"
            elif first == second:
                order = "dmy"
            elif first <= 12 and second <= 12:
                return None, Msg(
                    "r.date_ambiguous", value=text, day_a=first, month_a_ru=_MONTHS_RU[second - 1],
                    day_b=second, month_b_ru=_MONTHS_RU[first - 1],
                    month_a_en=_MONTHS_EN[second - 1], month_b_en=_MONTHS_EN[first - 1])
            else:
                return None, calendar
        day, month = (first, second) if order == "dmy" else (second, first)
        iso = _iso_or_none(year, month, day)
        return (iso, None) if iso else (None, calendar)
    return None, Msg("r.date_format", value=text)


def identifier_text(text: str) -> str:
    """An INN/OGRN cell without Excel's leading apostrophe, quotes or spaces.

    Examples
    --------
    >>> identifier_text("'4899001208"), identifier_text("48 99 001 208")
    ('4899001208', '4899001208')
    """
    return text.translate(_IDENT_JUNK)


def _is_identifier(name: str) -> bool:
    return name in {"inn", "ogrn"} or name.endswith(("_inn", "_ogrn"))


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split("|") if part.strip()]


class RowConverter:
    """Turns the cells of one table's rows into field dicts for its format."""

    def __init__(self, columns: ColumnMap) -> None:
        fmt = columns.fmt
        self.kind = fmt.kind
        #: the conversion problems of the last row, ``(field, reason)`` (bad dates)
        self.problems: list[tuple[str, str]] = []
        self._orders: dict[str, str | None] = {}
        plan: list[tuple[int, str, str]] = []
        for index, name in enumerate(columns.fields):
            if name is None:
                continue
            if name in fmt.list_fields:
                how = "roles" if name == "roles" else "list"
            elif name in fmt.float_fields or name in fmt.int_fields:
                how = "number"
            elif name in fmt.date_fields:
                how = "date"
                self._orders[name] = date_order(columns.headers[index])
            elif _is_identifier(name):
                how = "ident"
            else:
                how = "text"
            plan.append((index, name, how))
        self._plan = plan

    def __call__(self, values: list[Any]) -> dict[str, Any]:
        """The row's non-blank cells as ``{field: value}`` (problems in :attr:`problems`)."""
        out: dict[str, Any] = {}
        self.problems = []
        for index, name, how in self._plan:
            value = values[index]
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
                if how == "text":
                    out[name] = value
                elif how == "number":
                    out[name] = _number(value)
                elif how == "date":
                    iso, problem = read_date(value, self._orders.get(name))
                    if problem is None:
                        out[name] = iso
                    else:
                        self.problems.append((name, problem))
                elif how == "ident":
                    out[name] = identifier_text(value)
                elif how == "roles":
                    out[name] = [_ROLE_WORDS.get(r.lower().replace("ё", "е"), r.lower())
                                 for r in _split(value)]
                else:
                    out[name] = _split(value)
            elif value is None or value == []:
                continue
            elif how == "roles":
                out[name] = [_ROLE_WORDS.get(str(r).lower(), str(r).lower())
                             for r in _split(value)]
            elif how == "list":
                out[name] = _split(value)
            else:
                out[name] = value
        return out


def _reason(kind: EntityKind, field: str, err: ErrorDetails) -> Msg:
    """One pydantic error as our own sentence (:mod:`graph.messages`), never pydantic's."""
    kind_of_error = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    given = err.get("input")
    if kind_of_error == "missing":
        return Msg("v.missing", field=field)
    if field in _COORDS and kind_of_error in {"greater_than_equal", "less_than_equal"}:
        return Msg("v.outside_globe", coord=field, value=given, limit=_COORDS[field][1])
    if kind_of_error == "greater_than_equal":
        if ctx.get("ge") == 0:
            return Msg("v.negative", field=field, value=given)
        return Msg("v.ge", field=field, limit=ctx.get("ge"), value=given)
    if kind_of_error == "greater_than":
        return Msg("v.gt", field=field, limit=ctx.get("gt"), value=given)
    if kind_of_error == "less_than_equal":
        return Msg("v.le", field=field, limit=ctx.get("le"), value=given)
    if kind_of_error in {"float_parsing", "int_parsing", "float_type", "int_type",
                         "finite_number"}:
        return Msg("v.number", field=field, value=given)
    if kind_of_error == "int_from_float":
        return Msg("v.whole", field=field, value=given)
    if kind_of_error.startswith("date") or kind_of_error.startswith("datetime"):
        return Msg("v.date", field=field, value=given)
    if kind_of_error in {"enum", "literal_error"}:
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return Msg("v.enum", field=field, what=field[:-1] if field.endswith("s") else field,
                   value=given, choices=choices)
    if kind_of_error == "string_too_short":
        return Msg("v.empty", field=field)
    if kind_of_error in {"string_too_long", "too_long"}:
        return Msg("v.too_long", field=field, limit=ctx.get("max_length"))
    if kind_of_error == "string_pattern_mismatch" and ctx.get("pattern") == KEY_PATTERN:
        return Msg("v.control", field=field, value=given)
    if kind_of_error in {"bool_parsing", "bool_type"}:
        return Msg("v.bool", field=field, value=given)
    if kind_of_error == "string_type":
        return Msg("v.text", field=field, value=given)
    error = ctx.get("error")
    if isinstance(error, BaseException) and error.args and isinstance(error.args[0], Msg):
        return error.args[0]  # a model's own rule (graph.models, graph.ids)
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return Msg("v.other", field=field, value=given, text=message)


def readable_errors(kind: EntityKind, exc: ValidationError) -> list[tuple[str, str]]:  # str: Msg
    """Every problem of a failed validation as ``(field, reason)``, one per field."""
    problems: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else _MODEL_ERROR_FIELD.get(kind, "")
        if field in problems:
            continue
        problems[field] = _reason(kind, field, err)
    return list(problems.items())


def validate_row(model: type[Record], kind: EntityKind,
                 data: dict[str, Any]) -> tuple[Record | None, list[tuple[str, str]]]:
    """``(record, [])`` when ``data`` is valid, else ``(None, [(field, reason), …])``."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, readable_errors(kind, exc)


# --- the columnar fast path ------------------------------------------------------------
#
# A bulk file is mostly clean: validating it row by row through pydantic costs more
# than everything else ingest does. :class:`FastRows` converts and checks a whole chunk
# column by column with C-level list operations and produces the stored properties
# (what ``to_props(model_validate(data))`` gives) directly. It is deliberately narrow:
# it accepts a cell only when it is sure the model would accept it *with the same
# value*, and sends every other row (``None`` in its output) to the row-by-row path,
# whose pydantic errors are the ones the report shows. It is built only for models
# whose every field type and validator it knows; any other model gets no fast path.


class _Defer:
    """Marks a cell the fast path leaves to pydantic."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFER"

    def __reduce__(self) -> str:
        return "DEFER"  # unpickled as this module's one DEFER (ingest.prefetch sends it)


DEFER: Any = _Defer()

_PLAIN_NUMBER_CHARS = re.compile(r"[0-9.+\-]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# The model-level validators the fast path knows, as "rows to leave to pydantic".
_RowCheck = Callable[[dict[str, list[Any]], int], set[int]]


def _same(columns: dict[str, list[Any]], a: str, b: str) -> set[int]:
    left, right = columns.get(a), columns.get(b)
    if left is None or right is None or not any(map(operator.eq, left, right)):
        return set()
    return {i for i, (x, y) in enumerate(zip(left, right, strict=True)) if x == y}


def _check_two_companies(columns: dict[str, list[Any]], n: int) -> set[int]:
    return _same(columns, "supplier_id", "buyer_id")


def _check_bom_not_self(columns: dict[str, list[Any]], n: int) -> set[int]:
    kinds = columns.get("parent_kind")
    same = _same(columns, "parent", "child")
    if kinds is None:  # the default, "product", never refers to itself
        return set()
    return {i for i in same if kinds[i] == "category"}


def _check_own_parent(columns: dict[str, list[Any]], n: int) -> set[int]:
    return _same(columns, "code", "parent")


def _check_both_coordinates(columns: dict[str, list[Any]], n: int) -> set[int]:
    lat, lon = columns.get("lat", [None] * n), columns.get("lon", [None] * n)
    return {i for i, (x, y) in enumerate(zip(lat, lon, strict=True))
            if (x is None) != (y is None)}


_ROW_CHECKS: dict[str, _RowCheck] = {
    "_two_companies": _check_two_companies,
    "_not_self": _check_bom_not_self,
    "_not_own_parent": _check_own_parent,
    "_both_coordinates": _check_both_coordinates,
}
# Column types whose repeated values are worth sharing (ids, codes, dates, lead times).
_SHARED = frozenset({"text", "choice", "date", "float", "int"})
# Before-validators that change nothing in a stripped, non-blank text cell.
_NEUTRAL_BEFORE = frozenset({"_blank_to_none", "_as_str"})


_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


@dataclass(frozen=True)
class _FieldPlan:
    """How the fast path reads one model field."""

    name: str
    how: str  # text, float, int, date, choice, list, roles
    required: bool
    default: Any = None  # the stored default when the cell is blank (None: no value)
    list_default: bool = False
    max_len: int | None = None  # characters of a text; items of a list
    item_max_len: int | None = None  # characters of one item of a list
    printable: bool = False  # a key: no control characters (graph.models.KEY_PATTERN)
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    choices: frozenset[str] = frozenset()
    after: tuple[Callable[[Any], Any], ...] = ()  # the model's own after-validators


def _unwrap_optional(annotation: Any) -> tuple[Any, list[Any]]:
    """``T | None`` → ``(T, metadata)``, unwrapping one ``Annotated`` level."""
    metadata: list[Any] = []
    args = get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) != 1:
            return None, []
        annotation = members[0]
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        for item in extra:
            metadata.extend(getattr(item, "metadata", None) or [item])
        annotation = inner
    return annotation, metadata


def _field_plan(name: str, info: FieldInfo) -> _FieldPlan | None:
    """The plan for one field, or None when the fast path does not know its type."""
    base, inner_meta = _unwrap_optional(info.annotation)
    limits: dict[str, Any] = {}
    after: list[Callable[[Any], Any]] = []
    for item in [*info.metadata, *inner_meta]:
        if isinstance(item, MaxLen):
            limits["max_len"] = item.max_length
        elif getattr(item, "pattern", None) == KEY_PATTERN:
            limits["printable"] = True
        elif isinstance(item, MinLen):
            if item.min_length > 1:
                return None
        elif isinstance(item, Ge | Gt | Le):
            key = type(item).__name__.lower()
            limits[key] = getattr(item, key)
        elif isinstance(item, BeforeValidator):
            if getattr(item.func, "__name__", "") not in _NEUTRAL_BEFORE:
                return None
        elif getattr(item, "allow_inf_nan", None) is False and len(vars(item)) == 1:
            pass  # finite numbers: the fast path reads only finite ones (``_in_bounds``)
        elif isinstance(item, AfterValidator) and \
                len(inspect.signature(item.func).parameters) == 1:
            after.append(cast(Callable[[Any], Any], item.func))  # as pydantic calls it
        else:  # Lt, patterns, wrap validators…: not known here
            return None
    required = info.is_required()
    default: Any = None
    list_default = False
    if not required:
        if info.default_factory is list:
            list_default = True
        elif info.default_factory is not None:
            return None
        elif info.default is not None:
            default = info.default
    if base is str:
        how = "text"
    elif base is float:
        how = "float"
        if default is not None:
            default = float(default)
    elif base is int:
        how = "int"
    elif base is dt.date:
        how = "date"
    elif get_origin(base) is Literal:
        how = "choice"
        limits["choices"] = frozenset(str(a) for a in get_args(base))
    elif get_origin(base) is list:
        (item_type,) = get_args(base)
        if get_origin(item_type) is Annotated:
            item_type, *item_meta = get_args(item_type)
            for item in item_meta:
                for part in getattr(item, "metadata", None) or [item]:
                    if getattr(part, "pattern", None) == KEY_PATTERN:
                        limits["printable"] = True
                        continue
                    if not isinstance(part, MaxLen):
                        return None
                    limits["item_max_len"] = part.max_length
        if item_type is str:
            how = "list"
        elif isinstance(item_type, type) and issubclass(item_type, StrEnum):
            how = "roles"
            limits["choices"] = frozenset(m.value for m in item_type)
        else:
            return None
    else:
        return None
    if how in {"list", "roles"} and (
            limits.keys() - {"choices", "max_len", "item_max_len", "printable"}):
        return None
    if after and how != "text":
        return None
    return _FieldPlan(name, how, required, default, list_default, after=tuple(after),
                      **limits)


class FastRows:
    """Validates a chunk of one table column by column (see the section comment).

    Build it with :meth:`for_columns`; call :meth:`parse` on the chunk's cell
    lists to get the converted columns, let the caller rewrite reference
    columns, then :meth:`assemble` the rows: each is the record's stored
    properties, or ``None`` when the row must go through :func:`validate_row`.
    """

    def __init__(self, kind: EntityKind, plans: list[_FieldPlan],
                 positions: dict[str, int], checks: list[_RowCheck]) -> None:
        self.kind = kind
        self._plans = plans  # every model field (provenance excluded), in model order
        self._positions = positions  # field -> column index, for the fields that have one
        self._checks = checks

    @classmethod
    def for_columns(cls, columns: ColumnMap) -> FastRows | None:
        """The fast path for a table, or None when some column or the model needs pydantic."""
        fmt = columns.fmt
        model = KINDS[fmt.kind].model
        decorators = model.__pydantic_decorators__
        if decorators.field_validators or decorators.validators \
                or decorators.root_validators or decorators.model_serializers \
                or decorators.field_serializers:
            return None
        checks = []
        for name in decorators.model_validators:
            check = _ROW_CHECKS.get(name)
            if check is None:
                return None
            checks.append(check)
        plans: list[_FieldPlan] = []
        for name, info in model.model_fields.items():
            if name in PROVENANCE_FIELDS:
                continue
            plan = _field_plan(name, info)
            if plan is None:
                return None
            plans.append(plan)
        known = {p.name for p in plans}
        positions: dict[str, int] = {}
        for index, field_name in enumerate(columns.fields):
            if field_name is None:
                continue
            if field_name not in known:  # an ingest-only column (a free text, an INN…)
                return None
            positions[field_name] = index
        return cls(fmt.kind, plans, positions, checks)

    @property
    def fields(self) -> list[str]:
        """The model fields that have a column."""
        return [p.name for p in self._plans if p.name in self._positions]

    def parse(self, cells: Sequence[Sequence[Any]], canon: dict[Any, Any] | None = None
              ) -> dict[str, list[Any]]:
        """Each present field's converted values: a value, None (blank) or :data:`DEFER`.

        With ``canon``, a column whose values repeat (ids, codes, dates, lead times)
        has them replaced by one shared object per value, kept in ``canon`` across
        chunks: a million stored rows then hold a few thousand strings, not millions.
        """
        out: dict[str, list[Any]] = {}
        if not cells:
            return out
        width = min(map(len, cells))
        transposed = list(zip(*cells, strict=False)) if width > max(self._positions.values()) \
            else None  # short rows (never from the readers, which pad them): one by one
        for plan in self._plans:
            index = self._positions.get(plan.name)
            if index is not None:
                column = transposed[index] if transposed is not None \
                    else [row[index] if index < len(row) else "" for row in cells]
                out[plan.name] = _convert_column(plan, column)
        if canon is not None:
            self.share(out, canon)
        return out

    def share(self, columns: dict[str, list[Any]], canon: dict[Any, Any]) -> None:
        """Replace repeated values of ``columns`` (from :meth:`parse`) by shared objects.

        What :meth:`parse` does with ``canon``, for columns parsed without it (by the
        prefetch worker, :mod:`ingest.prefetch`): the same values, the same objects.
        """
        for plan in self._plans:
            values = columns.get(plan.name)
            if values is not None and plan.how in _SHARED \
                    and len(values) >= 16 and 2 * len(set(values)) <= len(values):
                columns[plan.name] = list(map(canon.setdefault, values, values))

    def dedupe(self, columns: dict[str, list[Any]]) -> None:
        """One object per distinct value (of one type) in each column :meth:`share`
        may share, within ``columns`` only.

        For the prefetch worker (:mod:`ingest.prefetch`): a pickled chunk then holds
        each repeated value once (a memo reference after), and the loading process
        unpickles it once and hashes it once in :meth:`share` — which gives the very
        objects it gave before: the canon's, or new ones of the same type and value
        (only the columns :meth:`share` will share: it maps equal values to one
        object anyway, e.g. ``-0.0`` to ``0.0``).
        """
        for plan in self._plans:
            values = columns.get(plan.name)
            if values is not None and plan.how in _SHARED \
                    and len(values) >= 16 and 2 * len(set(values)) <= len(values):
                seen: dict[tuple[type, Any], Any] = {}
                columns[plan.name] = [seen.setdefault((v.__class__, v), v) for v in values]

    def assemble(self, columns: dict[str, list[Any]], source: str, rows: Sequence[int]
                 ) -> tuple[list[dict[str, Any] | None], list[int] | None]:
        """The stored properties of each row (None: left to pydantic), and their prints.

        A row's print is :func:`row_print` of its properties, computed here column
        by column (None when a column holds lists).
        """
        n = len(rows)
        names = ["source", "row"]
        values: list[Sequence[Any]] = [[source] * n, rows]
        printed: list[Iterable[Any]] = []
        deferred: set[int] = set()
        sparse = False
        for plan in self._plans:
            column = columns.get(plan.name)
            if column is None:
                if plan.required:
                    return [None] * n, None
                if plan.list_default:
                    column = [[] for _ in range(n)]
                elif plan.default is not None:
                    column = [plan.default] * n
                else:
                    printed.append(repeat(None))
                    continue
            else:
                if DEFER in column:
                    deferred.update(i for i, v in enumerate(column) if v is DEFER)
                if None in column:
                    if plan.required:
                        deferred.update(i for i, v in enumerate(column) if v is None)
                    elif plan.list_default:
                        column = [[] if v is None else v for v in column]
                    elif plan.default is not None:
                        column = [plan.default if v is None else v for v in column]
                    else:
                        sparse = True
            names.append(plan.name)
            values.append(column)
            printed.append(column)
        for check in self._checks:
            deferred |= check(columns, n)
        if sparse:
            built: list[dict[str, Any] | None] = [
                {k: v for k, v in zip(names, row, strict=True) if v is not None}
                for row in zip(*values, strict=True)]
        else:
            built = list(map(dict, map(zip, repeat(names), zip(*values, strict=True))))
        for i in deferred:
            built[i] = None
        try:
            prints: list[int] | None = list(map(hash, zip(*printed)))  # noqa: B905
        except TypeError:  # a list field: row by row
            prints = None
        return built, prints


def record_fields(kind: EntityKind) -> list[str]:
    """The fields of ``kind`` a row's print covers: every model field but provenance."""
    return [f for f in KINDS[kind].model.model_fields if f not in PROVENANCE_FIELDS]


def row_print(props: Mapping[str, Any], fields: Sequence[str]) -> int:
    """A hash of a row's stored values without provenance: equal rows, equal prints.

    ``fields`` is :func:`record_fields` of the row's kind; an absent field counts
    as None (stored rows never hold None).
    """
    values = tuple([props.get(name) for name in fields])
    try:
        return hash(values)
    except TypeError:  # a list field
        return hash(tuple(tuple(v) if isinstance(v, list) else v for v in values))


def _convert_column(plan: _FieldPlan, cells: Sequence[Any]) -> list[Any]:
    """One column's cells as stored values (None: blank; DEFER: ask pydantic)."""
    try:
        texts = list(map(str.strip, cells))
    except TypeError:  # a list or a number from a spreadsheet / JSON: cell by cell
        return [_convert_cell(plan, c) for c in cells]
    if "" in texts:
        return [_convert_cell(plan, c) for c in texts]
    how = plan.how
    if how == "text":
        if plan.after or (plan.max_len is not None and max(map(len, texts)) > plan.max_len) \
                or (plan.printable and _CONTROL.search("".join(texts))):
            return [_convert_cell(plan, c) for c in texts]
        return texts
    if how == "float":
        joined = "".join(texts)
        if "," in joined or " " in joined or "\u00a0" in joined:
            texts = [_number(t) for t in texts]
            joined = "".join(texts)
        if not _PLAIN_NUMBER_CHARS.fullmatch(joined):
            return [_convert_cell(plan, c) for c in texts]
        try:
            numbers = list(map(float, texts))
        except ValueError:
            return [_convert_cell(plan, c) for c in texts]
        if not _in_bounds(plan, min(numbers)) or not _in_bounds(plan, max(numbers)):
            return [_convert_cell(plan, c) for c in texts]
        return numbers
    if how == "date":
        joined = "".join(texts)
        if "." not in joined and "/" not in joined and "T" not in joined:  # ISO already
            try:
                days = list(map(dt.date.fromisoformat, texts))
            except ValueError:
                return [_convert_cell(plan, c) for c in texts]
            if list(map(dt.date.isoformat, days)) == texts:
                return texts
        return [_convert_cell(plan, c) for c in texts]
    if how == "choice" and set(texts) <= plan.choices:
        return texts
    if how == "roles" and set(texts) <= plan.choices:  # one canonical role per cell
        return [[t] for t in texts]
    if how == "int":
        joined = "".join(texts)
        if joined.isascii() and joined.isdigit():
            numbers = list(map(int, texts))
            if _in_bounds(plan, min(numbers)) and _in_bounds(plan, max(numbers)):
                return numbers
    return [_convert_cell(plan, c) for c in texts]


def _in_bounds(plan: _FieldPlan, x: float) -> bool:
    if not math.isfinite(x):
        return False
    if plan.ge is not None and not x >= plan.ge:
        return False
    if plan.gt is not None and not x > plan.gt:
        return False
    return plan.le is None or x <= plan.le


def _convert_cell(plan: _FieldPlan, cell: Any) -> Any:
    """One cell as a stored value, None (blank) or DEFER — the slow, general case."""
    how = plan.how
    if how in {"list", "roles"}:
        if cell is None or cell == [] or (isinstance(cell, str) and not cell.strip()):
            return None
        if not isinstance(cell, str | list):
            return DEFER
        if how == "list":
            items = _split(cell)
            if (plan.max_len is not None and len(items) > plan.max_len) or (
                    plan.item_max_len is not None
                    and any(len(i) > plan.item_max_len for i in items)) or (
                    plan.printable and any(map(_CONTROL.search, items))):
                return DEFER
            return items
        roles = [_ROLE_WORDS.get(r.lower().replace("ё", "е") if isinstance(cell, str)
                                 else r.lower(), r.lower()) for r in _split(cell)]
        return roles if set(roles) <= plan.choices else DEFER
    if not isinstance(cell, str):
        return None if cell is None else DEFER
    text = cell.strip()
    if not text:
        return None
    if how == "text":
        if (plan.max_len is not None and len(text) > plan.max_len) \
                or (plan.printable and _CONTROL.search(text)):
            return DEFER
        value: Any = text
        for check in plan.after:
            try:
                value = check(value)
            except (ValueError, AssertionError):  # pydantic's own words, please
                return DEFER
        return value
    if how == "choice":
        return text if text in plan.choices else DEFER
    if how == "date":
        text = _date(text)
        if len(text) != 10 or not _ISO_DATE.fullmatch(text):
            return DEFER
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return DEFER
        return text if day.isoformat() == text else DEFER
    if how == "int":
        text = _number(text)
        if not (text.isascii() and text.isdigit()):
            return DEFER
        value = int(text)
        return value if _in_bounds(plan, value) else DEFER
    # float
    text = _number(text)
    if not _PLAIN_NUMBER_CHARS.fullmatch(text):
        return DEFER
    try:
        number = float(text)
    except ValueError:
        return DEFER
    return number if _in_bounds(plan, number) else DEFER
