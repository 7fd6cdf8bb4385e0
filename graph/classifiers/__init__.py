"""OKVED2 (activities) and OKPD2 (products) as data: code → Russian name, and their classes.

The two code lists beside this module come from their official publications
(source and date in ``README.md``). OKVED2 and OKPD2 share their first four digits
(both follow NACE Rev. 2 / CPA 2008): the *class* ``24.51`` is "casting of iron"
in OKVED2 and "iron castings" in OKPD2 — :func:`code_class` is that shared key.

>>> okved_name("24.51")
'Литье чугуна'
>>> code_class("24.51.2"), code_class("28.3")
('24.51', '28.3')
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

__all__ = [
    "CODE_PATTERN",
    "OKVED_VERSION",
    "code_class",
    "is_code",
    "okpd2_name",
    "okpd2_names",
    "okved_name",
    "okved_names",
]

_HERE = Path(__file__).parent
#: the only OKVED edition CoopGraph keeps (ОК 029-2014); 2001 codes are refused
OKVED_VERSION = "2014"
#: an OKVED2 / OKPD2 code: two digits, then up to three dotted groups
CODE_PATTERN = re.compile(r"\d{2}(?:\.\d{1,3}){0,3}")


def is_code(text: str) -> bool:
    """True when ``text`` has the shape of an OKVED2/OKPD2 code (``24.51``, ``28.30.59``)."""
    return CODE_PATTERN.fullmatch(text) is not None


def code_class(code: str) -> str:
    """The class of a code (its first two groups): the key OKVED2 and OKPD2 share."""
    return ".".join(code.strip().split(".")[:2])


@cache
def _load(name: str) -> dict[str, str]:
    with (_HERE / name).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return {code: title for code, title in reader}


def okved_names() -> dict[str, str]:
    """Every OKVED2 code → its Russian name."""
    return _load("okved2.csv")


def okpd2_names() -> dict[str, str]:
    """Every OKPD2 code → its Russian name."""
    return _load("okpd2.csv")


def okved_name(code: str) -> str | None:
    """The Russian name of an OKVED2 code, or None when the edition has no such code."""
    return okved_names().get(code.strip())


def okpd2_name(code: str) -> str | None:
    """The Russian name of an OKPD2 code, or None when the classifier has no such code."""
    return okpd2_names().get(code.strip())
