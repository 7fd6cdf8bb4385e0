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

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from graph.models import Record
from graph.schema import EntityKind
from ingest.formats import ColumnMap

__all__ = ["RowConverter", "readable_errors", "validate_row"]

_DATE_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'")

_ROLE_WORDS = {
    "производитель": "oem", "изготовитель": "oem", "оем": "oem", "oem": "oem",
    "производитель техники": "oem",
    "поставщик": "supplier", "поставщик комплектующих": "supplier", "supplier": "supplier",
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
    """``'05.12.2017'`` → ``'2017-12-05'``; ISO text and anything else unchanged."""
    m = _DATE_DMY.match(text)
    if m:
        day, month, year = m.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if "T" in text and len(text) > 10 and text[4] == "-":
        return text[:10]  # a spreadsheet datetime at midnight
    return text


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split("|") if part.strip()]


class RowConverter:
    """Turns the cells of one table's rows into field dicts for its format."""

    def __init__(self, columns: ColumnMap) -> None:
        fmt = columns.fmt
        self.kind = fmt.kind
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
            else:
                how = "text"
            plan.append((index, name, how))
        self._plan = plan

    def __call__(self, values: list[Any]) -> dict[str, Any]:
        """The row's non-blank cells as ``{field: value}``."""
        out: dict[str, Any] = {}
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
                    out[name] = _date(value)
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


def _reason(kind: EntityKind, field: str, err: ErrorDetails) -> str:
    kind_of_error = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    given = err.get("input")
    if kind_of_error == "missing":
        return f"{field} is required but missing"
    if field in _COORDS and kind_of_error in {"greater_than_equal", "less_than_equal"}:
        word, limit = _COORDS[field]
        return f"{word} {given} is outside the globe (−{limit}…{limit})"
    if kind_of_error == "greater_than_equal":
        if ctx.get("ge") == 0:
            return f"{field} must not be negative (got {given})"
        return f"{field} must be ≥ {ctx.get('ge')} (got {given})"
    if kind_of_error == "greater_than":
        return f"{field} must be greater than {ctx.get('gt')} (got {given})"
    if kind_of_error == "less_than_equal":
        return f"{field} must be ≤ {ctx.get('le')} (got {given})"
    if kind_of_error in {"float_parsing", "int_parsing", "float_type", "int_type"}:
        return f"{field} must be a number, not {given!r}"
    if kind_of_error == "int_from_float":
        return f"{field} must be a whole number, not {given!r}"
    if kind_of_error.startswith("date") or kind_of_error.startswith("datetime"):
        return f"{field} {given!r} is not a date (use YYYY-MM-DD or DD.MM.YYYY)"
    if kind_of_error == "enum":
        return f"unknown {field[:-1] if field.endswith('s') else field} {given!r} " \
               f"(expected {ctx.get('expected', '')})"
    if kind_of_error == "string_too_short":
        return f"{field} is required but empty"
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind_of_error == "value_error" or message.startswith(field):
        return message
    return f"{field}: {message}"


def readable_errors(kind: EntityKind, exc: ValidationError) -> list[tuple[str, str]]:
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
