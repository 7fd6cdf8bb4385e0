"""Russian tax and registration numbers: INN and OGRN/OGRNIP check digits.

INN (taxpayer number) has 10 digits for organisations and 12 for individuals
(sole traders); OGRN (state registration number) has 13 digits, OGRNIP 15.
Each carries check digits computed as published by the Federal Tax Service;
a number that fails them is a typo, not a company.

Examples
--------
>>> inn_problem("7707083893") is None
True
>>> inn_problem("7707083894")
'INN 7707083894 fails its check digit (expected 3 as the last digit)'
>>> ogrn_problem("1027700132195") is None
True
"""

from __future__ import annotations

from coopgraph.graph.messages import Msg

__all__ = ["ascii_digits", "inn_problem", "is_valid_inn", "is_valid_ogrn", "normalize_digits",
           "ogrn_problem"]

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def normalize_digits(value: str | int) -> str:
    """Strip spaces, dashes and a trailing ``.0`` (Excel turns numbers into floats)."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text.replace(" ", "").replace("-", "").replace("\u00a0", "")


def _check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def ascii_digits(text: str) -> bool:
    """``text`` is one or more of the digits 0–9 (``str.isdigit`` also takes ``¹`` or ``٤``,
    which ``int`` then refuses or reads as another number)."""
    return text.isascii() and text.isdigit()


def inn_problem(inn: str) -> str | None:
    """Return why ``inn`` is not a valid INN, or ``None`` when it is."""
    if not ascii_digits(inn):
        return Msg("id.inn_digits", value=inn)
    if len(inn) == 10:
        expected = _check(inn, _W10)
        if int(inn[9]) != expected:
            return Msg("id.inn_check", value=inn, expected=expected)
        return None
    if len(inn) == 12:
        first, second = _check(inn, _W11), _check(inn, _W12)
        if int(inn[10]) != first or int(inn[11]) != second:
            return Msg("id.inn_checks", value=inn, expected=f"{first}{second}")
        return None
    return Msg("id.inn_length", value=inn, length=len(inn))


def ogrn_problem(ogrn: str) -> str | None:
    """Return why ``ogrn`` is not a valid OGRN (13 digits) or OGRNIP (15), or ``None``."""
    if not ascii_digits(ogrn):
        return Msg("id.ogrn_digits", value=ogrn)
    if len(ogrn) == 13:
        expected = int(ogrn[:12]) % 11 % 10
    elif len(ogrn) == 15:
        expected = int(ogrn[:14]) % 13 % 10
    else:
        return Msg("id.ogrn_length", value=ogrn, length=len(ogrn))
    if int(ogrn[-1]) != expected:
        return Msg("id.ogrn_check", value=ogrn, expected=expected)
    return None


def is_valid_inn(inn: str) -> bool:
    """True when ``inn`` is a 10- or 12-digit INN with correct check digits."""
    return inn_problem(inn) is None


def is_valid_ogrn(ogrn: str) -> bool:
    """True when ``ogrn`` is a 13-digit OGRN or 15-digit OGRNIP with a correct check digit."""
    return ogrn_problem(ogrn) is None
