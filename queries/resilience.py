"""What-if resilience: what happens when a supplier closes.

:func:`remove_supplier` takes one company out and reports:

* the **lost links** — its existing supply links (buyer, category, volume, value);
* the **broken chains** — products whose BOM (every level) needs a category for
  which the company is the maker's only current supplier, or the only company
  anywhere that declares it;
* the **uncovered demand** — per lost (buyer, category), the volume now unserved
  and the best **replacements**: other companies declaring the category with free
  capacity, ranked by how much of the volume they can cover, then distance,
  then price.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from pydantic import BaseModel, Field

from coopgraph.queries.bom import bom_order
from coopgraph.queries.projection import Projection

__all__ = ["BrokenChain", "LostLink", "Replacement", "ResilienceReport", "remove_supplier"]

_MAX_REPLACEMENTS = 5


class Replacement(BaseModel):
    """Another supplier that could take over (part of) a lost volume."""

    company_id: str
    name: str
    free_capacity: float
    covers: float = Field(description="Share of the lost volume it can take (0..1)")
    distance_km: float | None
    unit_price: float | None
    same_region: bool


class LostLink(BaseModel):
    """A supply link that closes with the supplier, and who could replace it."""

    buyer_id: str
    buyer_name: str
    category: str
    volume: float
    value: float
    replacements: list[Replacement]
    covered_by_replacements: float = Field(description="Volume the replacements' free "
                                                       "capacity could cover together")
    text_ru: str
    text_en: str


class BrokenChain(BaseModel):
    """A product whose chain loses its only supplier in some categories."""

    product_id: str
    product_name: str
    maker_id: str | None
    categories: list[str]
    reasons: dict[str, str] = Field(description="category -> 'only current supplier' or "
                                                "'only declared supplier'")


class ResilienceReport(BaseModel):
    """The consequences of one supplier's closure."""

    company_id: str
    name: str
    lost_links: list[LostLink]
    broken_chains: list[BrokenChain]
    uncovered_volume: float = Field(description="Lost volume no replacement's capacity covers")
    uncovered_value: float
    text_ru: str
    text_en: str


def _price(proj: Projection, price: float, c: int) -> float:
    if math.isnan(price):
        price = float(proj.category_price[c])
    return 0.0 if math.isnan(price) else price


def _replacements(proj: Projection, removed: int, buyer: int, c: int,
                  volume: float) -> list[Replacement]:
    indptr, rows = proj.capabilities_by_category
    free = proj.free_capacity
    out: list[tuple[tuple[float, float, float], Replacement]] = []
    for j in rows[indptr[c]:indptr[c + 1]].tolist():
        s = int(proj.cap_company[j])
        if s in (removed, buyer) or not free[j] > 0:
            continue
        dist = float(proj.distance_km(buyer, s))
        price = float(proj.cap_price[j])
        covers = min(1.0, float(free[j]) / volume) if volume > 0 else 1.0
        key = (-covers, dist if not math.isnan(dist) else math.inf,
               price if not math.isnan(price) else math.inf)
        out.append((key, Replacement(
            company_id=proj.company_ids[s], name=proj.company_names[s],
            free_capacity=float(free[j]), covers=covers,
            distance_km=None if math.isnan(dist) else round(dist, 1),
            unit_price=None if math.isnan(price) else price,
            same_region=proj.company_regions[s] is not None
            and proj.company_regions[s] == proj.company_regions[buyer])))
    out.sort(key=lambda t: (t[0], t[1].company_id))
    return [r for _k, r in out]


def remove_supplier(proj: Projection, company_id: str) -> ResilienceReport:
    """Report what breaks if ``company_id`` stops supplying.

    Parameters
    ----------
    proj : the analytic projection
    company_id : the supplier that closes

    Returns
    -------
    ResilienceReport
        lost links with ranked replacements, broken product chains, uncovered demand.

    Raises
    ------
    NotFound
        unknown company.
    BomCycleError
        a product's BOM has a cycle.
    """
    removed = proj.company(company_id)
    name = proj.company_names[removed]
    lost: list[LostLink] = []
    uncovered_volume = uncovered_value = 0.0
    for j in np.flatnonzero(proj.sup_supplier == removed).tolist():
        b, c = int(proj.sup_buyer[j]), int(proj.sup_category[j])
        volume = float(np.nan_to_num(proj.sup_volume[j]))
        price = _price(proj, float(proj.sup_price[j]), c)
        reps = _replacements(proj, removed, b, c, volume)
        coverable = min(volume, sum(r.free_capacity for r in reps))
        uncovered_volume += volume - coverable
        uncovered_value += (volume - coverable) * price
        cat = proj.category_codes[c]
        best = reps[0].name if reps else None
        lost.append(LostLink(
            buyer_id=proj.company_ids[b], buyer_name=proj.company_names[b], category=cat,
            volume=volume, value=volume * price, replacements=reps[:_MAX_REPLACEMENTS],
            covered_by_replacements=coverable,
            text_ru=(f"{proj.company_names[b]} теряет {volume:,.0f} шт./год «{cat}»; "
                     + (f"лучшая замена — {best}." if best else "замены в графе нет.")),
            text_en=(f"{proj.company_names[b]} loses {volume:,.0f}/yr of {cat}; "
                     + (f"best replacement: {best}." if best else "no replacement in the graph."))))

    # declared suppliers per category, and each maker's current suppliers per category
    declarers: dict[int, set[int]] = defaultdict(set)
    for s, c in zip(proj.cap_company.tolist(), proj.cap_category.tolist(), strict=True):
        declarers[c].add(s)
    current: dict[tuple[int, int], set[int]] = defaultdict(set)
    for s, b, c in zip(proj.sup_supplier.tolist(), proj.sup_buyer.tolist(),
                       proj.sup_category.tolist(), strict=True):
        current[(b, c)].add(s)
    broken: list[BrokenChain] = []
    for p in range(len(proj.product_ids)):
        maker = int(proj.product_maker[p])
        lines = proj.product_bom[p]
        if not lines:
            continue
        reasons: dict[str, str] = {}
        for c in bom_order(proj.category_bom, (c for c, _q in lines), proj.category_codes):
            if current.get((maker, c)) == {removed}:
                reasons[proj.category_codes[c]] = "only current supplier"
            elif declarers.get(c) == {removed}:
                reasons[proj.category_codes[c]] = "only declared supplier"
        if reasons:
            broken.append(BrokenChain(
                product_id=proj.product_ids[p],
                product_name=str(proj.product_rows[p].get("name", proj.product_ids[p])),
                maker_id=proj.company_ids[maker] if maker >= 0 else None,
                categories=sorted(reasons), reasons=dict(sorted(reasons.items()))))
    return ResilienceReport(
        company_id=company_id, name=name, lost_links=lost, broken_chains=broken,
        uncovered_volume=uncovered_volume, uncovered_value=uncovered_value,
        text_ru=(f"Закрытие {name}: теряется {len(lost)} связей, ломается цепочек изделий: "
                 f"{len(broken)}; без замены остаётся {uncovered_volume:,.0f} шт./год "
                 f"на {uncovered_value:,.0f} ₽."),
        text_en=(f"Closing {name}: {len(lost)} link(s) lost, {len(broken)} product chain(s) "
                 f"broken; {uncovered_volume:,.0f}/yr worth {uncovered_value:,.0f} RUB "
                 "has no replacement."),
    )
