"""The entity-resolution review queue (admins only): pairs with evidence, and decisions.

``GET /review`` lists pairs (by default those waiting for a decision);
``POST /review/{pair}/accept|reject|split|undo`` decides one (see
:mod:`ingest.review`). A decision that does not apply to the pair's present state
is a ``409``; an unknown pair a ``404``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from coopgraph.api.deps import AdminDep, StoreDep
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.ingest.review import decide, list_pairs

__all__ = ["router"]

router = APIRouter(prefix="/review", tags=["review"], responses=PROBLEM_RESPONSES)

_HIDDEN = {"folded", "kept_before", "moved"}  # what a merge folded: for a split, not for lists
Status = Literal["review", "merged", "accepted", "rejected", "split", "all"]
_PairId = Annotated[str, Path(pattern=r"^erp-[0-9a-f]{16}$", description="The pair's id")]


class ReviewPairPublic(BaseModel):
    """Two companies entity resolution looked at, with its evidence and the decision."""

    id: str
    a_id: str
    b_id: str
    a_name: str
    b_name: str
    status: str
    score: float
    reason: str | None = None
    previous: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    source: str | None = None
    row: int | None = None


class ReviewPairsPublic(BaseModel):
    """One page of pairs, the most likely matches first; ``total`` counts every match."""

    data: list[ReviewPairPublic]
    total: int = Field(ge=0)
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)


def _public(pair: Any) -> ReviewPairPublic:
    return ReviewPairPublic.model_validate(
        pair.model_dump(mode="json", exclude_none=True, exclude=_HIDDEN))


@router.get("", response_model=ReviewPairsPublic)
def review_pairs(
    principal: AdminDep,
    store: StoreDep,
    status: Annotated[Status, Query(description="Which pairs; `review` waits for a decision")]
    = "review",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReviewPairsPublic:
    """Pairs of companies that may be one, with the evidence (admins only)."""
    pairs = list_pairs(store, None if status == "all" else status)
    return ReviewPairsPublic(data=[_public(p) for p in pairs[offset:offset + limit]],
                             total=len(pairs), offset=offset, limit=limit)


@router.post("/{pair_id}/{action}", response_model=ReviewPairPublic)
def review_decide(
    principal: AdminDep,
    store: StoreDep,
    pair_id: _PairId,
    action: Annotated[Literal["accept", "reject", "split", "undo"],
                      Path(description="accept (one company), reject (two), split (undo a "
                                       "merge) or undo (the last decision)")],
) -> ReviewPairPublic:
    """Decide on a pair; every later load honours the decision (admins only)."""
    by = principal.name or principal.key_id or principal.role.value
    return _public(decide(store, pair_id, action, by=by))
