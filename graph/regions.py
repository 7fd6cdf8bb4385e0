"""The subjects of the Russian Federation: one official name for every way people write one.

The list (``graph/data/regions_ru.csv``) holds the 89 subjects named in Article 65
of the Constitution of the Russian Federation (as amended by the Federal
Constitutional Laws of 04.10.2022 Nos. 5-ФКЗ–8-ФКЗ), each with its two-digit code
as the Federal Tax Service uses it (the first two digits of an INN or KPP; 48 is
Lipetsk Oblast), its usual English name, its administrative centre and a few
other names people write. :func:`canonical_region` maps what a file holds —
``Липецкая обл.``, ``Lipetsk Oblast``, ``Lipetskaya oblast``, ``48`` — to the
official Russian name (``Липецкая область``; the short official form where the
Constitution adds one in brackets or after a dash: ``Республика Татарстан``); anything
else it does not guess.

Words are compared as a bag (``Республика Адыгея`` = ``Адыгея Республика``),
after expanding abbreviations (``обл``, ``респ``, ``АО``, ``г.``) and
transliterating Cyrillic; a bare name without its type word (``Липецкая``,
``Lipetsk``) is accepted only when a single subject has it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from coopgraph.graph.ids import ascii_digits

__all__ = ["REGIONS_FILE", "Region", "canonical_region", "region_by_code", "regions"]

REGIONS_FILE = Path(__file__).with_name("data") / "regions_ru.csv"


@dataclass(frozen=True)
class Region:
    """One subject of the Russian Federation."""

    code: str
    name_ru: str
    name_en: str
    capital_ru: str
    aliases: tuple[str, ...]


_ABBREVIATIONS = {
    "обл": "область", "респ": "республика", "кр": "край", "ао": "автономный округ",
    "авт": "автономная", "автономн": "автономный", "г": "", "город": "", "гор": "",
    "region": "oblast", "province": "oblast", "obl": "oblast", "kray": "krai",
    "rep": "republic", "resp": "republic", "ao": "autonomous okrug", "of": "", "the": "",
    "city": "", "federal": "", "federation": "", "russia": "", "russian": "", "рф": "",
    "россия": "", "российская": "", "федерация": "",
}
_TYPE_WORDS = frozenset({
    "область", "край", "республика", "автономный", "автономная", "округ", "oblast", "krai",
    "republic", "autonomous", "okrug", "oblast'", "народная",
})
_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})
_SPLIT = re.compile(r"[^0-9a-zа-я']+")


def _words(text: str) -> list[str]:
    low = text.lower().replace("ё", "е").replace("'", "")
    out: list[str] = []
    for word in _SPLIT.split(low):
        if not word:
            continue
        out.extend(_ABBREVIATIONS.get(word, word).split())
    return out


def _key(words: list[str]) -> str:
    return " ".join(sorted(words))


def _keys(text: str) -> tuple[set[str], set[str]]:
    """(full keys, bare keys without type words) of one name, Cyrillic and transliterated."""
    words = _words(text)
    variants = [words, [w.translate(_TRANSLIT) for w in words]]
    full = {_key(v) for v in variants if v}
    bare = {_key(b) for v in variants if (b := [w for w in v if w not in _TYPE_WORDS])}
    return full, bare


@cache
def regions() -> tuple[Region, ...]:
    """The 89 subjects, in the order of their codes."""
    with open(REGIONS_FILE, encoding="utf-8", newline="") as handle:
        return tuple(
            Region(row["code"], row["name_ru"], row["name_en"], row["capital_ru"],
                   tuple(a for a in row["aliases"].split("|") if a))
            for row in csv.DictReader(handle))


@cache
def _index() -> tuple[dict[str, str], dict[str, str]]:
    """(full key → official name, unique bare key → official name)."""
    full: dict[str, str] = {}
    bare: dict[str, set[str]] = {}
    for region in regions():
        for name in (region.name_ru, region.name_en, *region.aliases):
            keys, stems = _keys(name)
            for key in keys:
                full.setdefault(key, region.name_ru)
            for stem in stems:
                bare.setdefault(stem, set()).add(region.name_ru)
    unique = {stem: next(iter(names)) for stem, names in bare.items()
              if len(names) == 1 and stem not in full}
    return full, unique


def region_by_code(code: str) -> Region | None:
    """The subject with this two-digit code (``48``, ``048`` or ``7`` for ``07``)."""
    digits = code.strip()
    if not ascii_digits(digits):
        return None
    number = int(digits)
    for region in regions():
        if int(region.code) == number:
            return region
    return None


@lru_cache(maxsize=8192)  # a file repeats a few region spellings many times
def canonical_region(text: str | None) -> str | None:
    """The official name of the subject ``text`` names, or None when it names none.

    Examples
    --------
    >>> canonical_region("Липецкая обл."), canonical_region("Lipetsk Oblast")
    ('Липецкая область', 'Липецкая область')
    >>> canonical_region("48"), canonical_region("г. Москва"), canonical_region("Bavaria")
    ('Липецкая область', 'Москва', None)
    """
    if text is None or not text.strip():
        return None
    if ascii_digits(text.strip()):
        found = region_by_code(text)
        return found.name_ru if found else None
    full, bare = _index()
    words = _words(text)
    for variant in (words, [w.translate(_TRANSLIT) for w in words]):
        key = _key(variant)
        if key in full:
            return full[key]
        stem = _key([w for w in variant if w not in _TYPE_WORDS])
        if stem in bare:
            return bare[stem]
    return None
