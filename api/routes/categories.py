"""The category taxonomy: a tree (``/categories/tree``), per-category market aggregates
(``/categories/{code}/market``) and the usual list/get/write routes (admin writes).

The market aggregates are how members see other companies' capacities, prices
and volumes: as sums and a price range over a category, withheld when fewer
than :data:`MIN_CONTRIBUTORS` companies contribute (one company's figure would
otherwise be readable from the sum).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query

from api.deps import PrincipalDep, ProjectionDep
from api.params import Id
from api.routes._crud import add_crud_routes
from api.schemas import CategoryMarket, CategoryNode
from graph.schema import EntityKind

__all__ = ["MIN_CONTRIBUTORS", "router"]

MIN_CONTRIBUTORS = 3

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("/tree", response_model=list[CategoryNode])
def category_tree(
    principal: PrincipalDep,
    projection: ProjectionDep,
    root: Annotated[Id | None, Query(description="Start at this category")] = None,
) -> list[CategoryNode]:
    """The taxonomy as a tree (the whole forest, or the subtree under `root`)."""
    p = projection

    def node(i: int) -> CategoryNode:
        row = p.category_rows[i]
        return CategoryNode(
            code=p.category_codes[i], name_ru=row["name_ru"], name_en=row.get("name_en"),
            okpd2=row.get("okpd2"),
            children=[node(c) for c in sorted(p.category_children[i],
                                              key=lambda c: p.category_codes[c])])

    if root is not None:
        return [node(p.category(root))]
    return [node(i) for i in range(p.n_categories) if p.category_parent[i] < 0]


def _sum(values: np.ndarray) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.sum()) if len(known) else None


@router.get("/{code}/market", response_model=CategoryMarket)
def category_market(
    principal: PrincipalDep, projection: ProjectionDep,
    code: Annotated[Id, Path(description="The category's code")],
) -> CategoryMarket:
    """Aggregated capacity, prices and demand of one category (no single company's figures)."""
    p = projection
    k = p.category(code)
    caps = np.flatnonzero(p.cap_category == k)
    suppliers = len(set(p.cap_company[caps].tolist()))
    prices = p.cap_price[caps]
    prices = prices[~np.isnan(prices)]
    needs = np.flatnonzero(p.need_category == k)
    imps = np.flatnonzero(p.imp_category == k)
    sups = np.flatnonzero(p.sup_category == k)
    buyers = len(set(p.need_company[needs].tolist()) | set(p.imp_company[imps].tolist())
                 | set(p.sup_buyer[sups].tolist()))
    hide_supply = principal.is_member and suppliers < MIN_CONTRIBUTORS
    hide_demand = principal.is_member and buyers < MIN_CONTRIBUTORS
    return CategoryMarket(
        code=code,
        suppliers=suppliers,
        capacity_total=None if hide_supply else _sum(p.cap_capacity[caps]),
        price_min=None if hide_supply or not len(prices) else float(prices.min()),
        price_median=None if hide_supply or not len(prices) else float(np.median(prices)),
        price_max=None if hide_supply or not len(prices) else float(prices.max()),
        buyers=buyers,
        demand_needs=None if hide_demand else _sum(p.need_qty[needs]),
        demand_imports=None if hide_demand else _sum(p.imp_volume[imps]),
        supplied_volume=None if hide_demand else _sum(p.sup_volume[sups]),
        withheld=hide_supply or hide_demand,
    )


add_crud_routes(router, EntityKind.CATEGORY)
