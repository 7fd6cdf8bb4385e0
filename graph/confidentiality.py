"""The confidentiality policy: who may see which confidential figure, declared once.

The README promises that a member sees other companies' capacities, prices and
volumes only in aggregate. The fields that are confidential are marked in
``graph/models.py`` (read through :func:`graph.schema.confidential_fields`);
this module says who owns a record and what a *viewer* may see of figures made
from those fields. Every output a member can reach — record reads, rankings,
gaps, KPIs, plans, market statistics — is built from these rules by the code
that makes it (the engines in ``queries/`` take a :class:`Viewer`), never
redacted after the fact.

The rules:

* The cluster centre (admin and analyst keys, the CLI: :data:`CENTRE`) sees
  every figure.
* A member sees its own confidential figures, and a figure made from several
  companies' figures only when all of them are its own (:func:`can_see`). A
  co-owned record (a supply link) is its supplier's and its buyer's.
* Other companies' figures reach a member only as an aggregate over at least
  :data:`MIN_OTHERS` *other* companies, computed without the member's own rows
  (so it cannot subtract itself out, nor move the figure with its own
  entries): sums and means need :data:`MIN_OTHERS` contributors; order
  statistics (min, median, max), each of which *is* one company's figure, need
  :data:`MIN_FOR_EXTREMES`. What a member sees of an aggregate is rounded to
  :data:`SIGNIFICANT_DIGITS` significant digits (:func:`coarse`), which also
  blunts differencing two aggregates over overlapping sets of companies.
* A ratio of a hidden figure (free capacity / demand) is shown to a member
  only as a band (:func:`capacity_band`): enough, short or unknown.

A withheld figure is ``None`` (:data:`WITHHELD`) in every output, next to a
sentence that says it is withheld; "unknown" keeps its own wording.

Examples
--------
>>> member = Viewer("m-lityo")
>>> can_see(member, "m-lityo"), can_see(member, "m-lityo", "m-traktor"), can_see(CENTRE, "x")
(True, False, True)
>>> aggregate(member, {"a": [10.0], "b": [20.0], "m-lityo": [5.0]}).total is None
True
>>> aggregate(member, {"a": [10.0], "b": [20.0], "c": [30.0], "m-lityo": [5.0]}).total
60.0
>>> coarse(987654.0)
990000.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from coopgraph.graph.schema import EntityKind, confidential_fields

__all__ = [
    "CENTRE",
    "CONFIDENTIAL",
    "ENOUGH",
    "MIN_FOR_EXTREMES",
    "MIN_OTHERS",
    "OWNER_FIELDS",
    "SHORT",
    "SIGNIFICANT_DIGITS",
    "UNKNOWN",
    "WITHHELD",
    "Aggregate",
    "Viewer",
    "aggregate",
    "can_see",
    "can_see_record",
    "capacity_band",
    "capacity_bands",
    "coarse",
    "owners_of",
    "shown",
    "total_with_own",
]

#: fewest other companies a member-visible sum or mean may cover
MIN_OTHERS = 3
#: fewest other companies a member-visible min, median or max may cover
MIN_FOR_EXTREMES = 5
#: what a member sees of an aggregate is rounded to this many significant digits
SIGNIFICANT_DIGITS = 2
#: a figure the viewer may not see
WITHHELD = None

#: the confidential fields of each kind (the marks in graph/models.py)
CONFIDENTIAL: dict[EntityKind, tuple[str, ...]] = {
    k: confidential_fields(k) for k in EntityKind if confidential_fields(k)
}

#: which fields of a record name the companies that own it (reference data has none)
OWNER_FIELDS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.COMPANY: ("id",),
    EntityKind.CAPABILITY: ("company_id",),
    EntityKind.COMPANY_PROCESS: ("company_id",),
    EntityKind.HELD_CERTIFICATION: ("company_id",),
    EntityKind.SUPPLY: ("supplier_id", "buyer_id"),
    EntityKind.IMPORT: ("company_id",),
    EntityKind.NEED: ("company_id",),
    EntityKind.PRODUCT: ("maker_id",),
    EntityKind.MEMBERSHIP: ("company_id",),
    EntityKind.COOP_REQUEST: ("from_id", "to_id"),
    EntityKind.TIE: ("company_id", "partner_id"),
    EntityKind.PROJECT_PARTICIPANT: ("company_id",),
    EntityKind.PROJECT_COST: ("company_id",),
}


@dataclass(frozen=True)
class Viewer:
    """Who an output is built for: the cluster centre (``company_id=None``) or one member."""

    company_id: str | None = None

    @property
    def is_centre(self) -> bool:
        """True for the cluster centre, which sees every figure."""
        return self.company_id is None

    def is_me(self, company_id: str | None) -> bool:
        """True when ``company_id`` is the viewer's own company (never for the centre)."""
        return self.company_id is not None and company_id == self.company_id


#: the cluster centre: admin and analyst keys, the CLI
CENTRE = Viewer()


def can_see(viewer: Viewer, *owners: str | None) -> bool:
    """True when ``viewer`` may see a figure made from the confidential fields of ``owners``.

    The centre sees everything; a member only a figure made from its own fields
    alone (free capacity / demand mixes the supplier's and the buyer's).
    """
    return viewer.is_centre or all(viewer.is_me(o) for o in owners)


def owners_of(kind: EntityKind, props: Mapping[str, Any]) -> list[str | None]:
    """The companies that own a record of ``kind`` (empty for reference data)."""
    return [props.get(f) for f in OWNER_FIELDS.get(kind, ())]


def can_see_record(viewer: Viewer, kind: EntityKind, props: Mapping[str, Any]) -> bool:
    """True when ``viewer`` may see the confidential fields of one stored record.

    A co-owned record (a supply link) is visible to each of its owners.
    """
    return viewer.is_centre or any(viewer.is_me(o) for o in owners_of(kind, props))


def coarse(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """``value`` rounded to ``digits`` significant digits (``None`` and 0 unchanged)."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    return float(round(value, digits - 1 - math.floor(math.log10(abs(value)))))


def shown(viewer: Viewer, value: float | None, *owners: str | None) -> float | None:
    """``value`` when the viewer may see a figure of ``owners``, else :data:`WITHHELD`."""
    return value if can_see(viewer, *owners) else WITHHELD


@dataclass(frozen=True)
class Aggregate:
    """Statistics over several companies' figures, as one viewer may see them.

    ``companies`` counts the contributors the statistics cover (for a member:
    the other companies only); a statistic the viewer may not see is ``None``
    and ``withheld`` says so.
    """

    companies: int
    total: float | None
    mean: float | None
    median: float | None
    minimum: float | None
    maximum: float | None
    withheld: bool


def aggregate(viewer: Viewer, values_by_company: Mapping[str, Iterable[float | None]]
              ) -> Aggregate:
    """Sum, mean and order statistics of companies' figures, as ``viewer`` may see them.

    For the centre, over every company, exact. For a member, over the *other*
    companies only (its own rows are left out): the sum and mean need
    :data:`MIN_OTHERS` of them, min/median/max :data:`MIN_FOR_EXTREMES`, and
    what is shown is rounded by :func:`coarse`. Unknown figures (``None``, NaN)
    are skipped and a company with none does not count.
    """
    rows = {c: [float(v) for v in vs if v is not None and math.isfinite(float(v))]
            for c, vs in values_by_company.items() if not viewer.is_me(c)}
    rows = {c: vs for c, vs in rows.items() if vs}
    values = sorted(v for vs in rows.values() for v in vs)
    n = len(rows)
    if not values:
        return Aggregate(0, None, None, None, None, None, withheld=False)
    total = math.fsum(values)
    mean = total / len(values)
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    if viewer.is_centre:
        return Aggregate(n, total, mean, median, values[0], values[-1], withheld=False)
    sums = n >= MIN_OTHERS
    extremes = n >= MIN_FOR_EXTREMES
    return Aggregate(
        n,
        total=coarse(total) if sums else WITHHELD,
        mean=coarse(mean) if sums else WITHHELD,
        median=coarse(median) if extremes else WITHHELD,
        minimum=coarse(values[0]) if extremes else WITHHELD,
        maximum=coarse(values[-1]) if extremes else WITHHELD,
        withheld=not extremes,
    )


def total_with_own(viewer: Viewer, values_by_company: Mapping[str, Iterable[float | None]]
                   ) -> float | None:
    """The total of every company's figures (the viewer's own included), as ``viewer`` may see it.

    A member sees it when the *other* companies' part is an aggregate it may see
    (:func:`aggregate`); it already knows its own part, so adding it reveals
    nothing more. Rounded by :func:`coarse` for a member.
    """
    if viewer.is_centre:
        return math.fsum(float(v) for vs in values_by_company.values() for v in vs
                         if v is not None and math.isfinite(float(v)))
    others = aggregate(viewer, values_by_company)
    if others.companies == 0:  # only the viewer's own figures (or none)
        own = [float(v) for c, vs in values_by_company.items() if viewer.is_me(c)
               for v in vs if v is not None and math.isfinite(float(v))]
        return math.fsum(own)
    if others.total is None:
        return WITHHELD
    exact = math.fsum(float(v) for vs in values_by_company.values() for v in vs
                      if v is not None and math.isfinite(float(v)))
    return coarse(exact)


#: the bands of free capacity / demand a member sees instead of the ratio
ENOUGH, UNKNOWN, SHORT = 1.0, 0.5, 0.0
#: the precision (significant digits) at which a capacity band compares the two sides
BAND_DIGITS = 1


def capacity_bands(free: Any, demand: Any) -> np.ndarray:
    """Free capacity against demand as a member sees it, element by element:
    :data:`ENOUGH`, :data:`SHORT` or :data:`UNKNOWN` (either unknown, or no demand) —
    never the ratio, which would give away the other side's figure.

    Both sides are compared at :data:`BAND_DIGITS` significant digit(s): a member who
    moves its own need (or capacity) up and down to find where the answer flips
    learns the other side's figure only to that precision (539 694 → "about
    500 000"), not exactly. The one definition of the band: the rankings call it on
    arrays, :func:`capacity_band` on one pair.
    """
    free = np.asarray(free, dtype=float)
    demand = np.asarray(demand, dtype=float)
    known = np.isfinite(free) & np.isfinite(demand) & (demand > 0)
    enough = _leading(np.maximum(np.where(known, free, 0.0), 0.0)) >= \
        _leading(np.where(known, demand, 1.0))
    return np.where(known, np.where(enough, ENOUGH, SHORT), UNKNOWN)


def capacity_band(free: float | None, demand: float | None) -> float:
    """:func:`capacity_bands` of one pair (``None`` is unknown)."""
    return float(capacity_bands([math.nan if free is None else free],
                                [math.nan if demand is None else demand])[0])


def _leading(values: np.ndarray) -> np.ndarray:
    """``values`` (finite, ≥ 0) rounded to :data:`BAND_DIGITS` significant digits."""
    out = values.astype(float, copy=True)
    positive = out > 0
    magnitude = np.clip(np.floor(np.log10(out[positive])), -300, 300)  # subnormals: ~0
    scale = 10.0 ** (BAND_DIGITS - 1 - magnitude)
    out[positive] = np.round(out[positive] * scale) / scale
    return out
