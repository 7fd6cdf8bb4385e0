"""Products and their bills of materials (``/products``, ``/products/{id}/bom``, ``/bom-lines``).

Products and BOM lines are written by admins (the cluster centre keeps the
BOMs); a member sees other makers' volumes and prices only aggregated.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from coopgraph.api.deps import PrincipalDep, StoreDep
from coopgraph.api.params import Id
from coopgraph.api.routes._crud import add_crud_routes, public_props
from coopgraph.api.schemas import FAMILIES
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import MAX_PAGE

__all__ = ["router"]

router = APIRouter(tags=["products"])
_products = APIRouter(prefix="/products")
_BOM_PUBLIC = FAMILIES[EntityKind.BOM_LINE].public


@_products.get("/{id}/bom", response_model=list[_BOM_PUBLIC])  # type: ignore[valid-type]
def product_bom(principal: PrincipalDep, store: StoreDep,
                id: Annotated[Id, Path(description="The product's id")]
                ) -> list[dict[str, Any]]:
    """The product's direct bill-of-materials lines (404 when the product is unknown)."""
    store.get(EntityKind.PRODUCT, id)
    page = store.list(EntityKind.BOM_LINE, filters={"parent": id, "parent_kind": "product"},
                      limit=MAX_PAGE)
    return [public_props(principal, EntityKind.BOM_LINE, r) for r in page.items]


router.include_router(add_crud_routes(_products, EntityKind.PRODUCT))
router.include_router(add_crud_routes(APIRouter(prefix="/bom-lines"), EntityKind.BOM_LINE))
