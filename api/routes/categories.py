"""The category taxonomy: a tree (``/categories/tree``), per-category market aggregates
(``/categories/{code}/market``) and the usual list/get/write routes (admin writes).

The market aggregates are how members see other companies' capacities, prices
and volumes: as sums and a price range over a category, built by
:func:`graph.confidentiality.aggregate` — over the *other* companies, withheld
below :data:`~graph.confidentiality.MIN_OTHERS` of them (the range below
:data:`~graph.confidentiality.MIN_FOR_EXTREMES`), rounded.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.params import Id
from coopgraph.api.routes._crud import add_crud_routes
from coopgraph.api.schemas import CategoryMarket, CategoryNode
from coopgraph.graph.confidentiality import aggregate
from coopgraph.graph.schema import EntityKind
from coopgraph.queries.projection import Projection

__all__ = ["router"]

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


def _by_company(p: Projection, companies: np.ndarray, values: np.ndarray,
                skip: np.ndarray | None = None) -> dict[str, list[float]]:
    """``{company id: its figures}`` from parallel arrays; rows where ``skip`` are left out."""
    out: dict[str, list[float]] = defaultdict(list)
    keep = np.ones(len(companies), dtype=bool) if skip is None else ~skip
    for m, v in zip(companies[keep].tolist(), values[keep].tolist(), strict=True):
        out[p.company_ids[int(m)]].append(v)
    return out


@router.get("/{code}/market", response_model=CategoryMarket)
def category_market(
    principal: PrincipalDep, projection: ProjectionDep,
    code: Annotated[Id, Path(description="The category's code")],
) -> CategoryMarket:
    """Aggregated capacity, prices and demand of one category (no single company's figures).

    A member sees the figures of the *other* companies (its own rows left out, so
    that it can neither subtract them nor tip a threshold with them): sums over at
    least three of them, a price range over at least five, rounded
    (``graph.confidentiality``). Admins and analysts see exact figures over all.
    """
    p, viewer = projection, principal.viewer
    k = p.category(code)
    caps = np.flatnonzero(p.cap_category == k)
    needs = np.flatnonzero(p.need_category == k)
    imps = np.flatnonzero(p.imp_category == k)
    sups = np.flatnonzero(p.sup_category == k)
    buyers = len(set(p.need_company[needs].tolist()) | set(p.imp_company[imps].tolist())
                 | set(p.sup_buyer[sups].tolist()))
    capacity = aggregate(viewer, _by_company(p, p.cap_company[caps], p.cap_capacity[caps]))
    prices = aggregate(viewer, _by_company(p, p.cap_company[caps], p.cap_price[caps]))
    needs_agg = aggregate(viewer, _by_company(p, p.need_company[needs], p.need_qty[needs]))
    imports = aggregate(viewer, _by_company(p, p.imp_company[imps], p.imp_volume[imps]))
    # a supply link is its buyer's and its supplier's: the viewer's links are its own rows
    own_links = np.array([viewer.is_me(p.company_ids[int(s)]) for s in p.sup_supplier[sups]],
                         dtype=bool)
    supplied = aggregate(viewer, _by_company(p, p.sup_buyer[sups], p.sup_volume[sups],
                                             skip=own_links))
    shown = ((capacity, capacity.total), (prices, prices.minimum), (prices, prices.median),
             (prices, prices.maximum), (needs_agg, needs_agg.total), (imports, imports.total),
             (supplied, supplied.total))
    return CategoryMarket(
        code=code,
        suppliers=len(set(p.cap_company[caps].tolist())),
        capacity_total=capacity.total,
        price_min=prices.minimum,
        price_median=prices.median,
        price_max=prices.maximum,
        buyers=buyers,
        demand_needs=needs_agg.total,
        demand_imports=imports.total,
        supplied_volume=supplied.total,
        withheld=any(agg.companies > 0 and figure is None for agg, figure in shown),
    )


add_crud_routes(router, EntityKind.CATEGORY)
