"""``GET /me``: who the presented key is (role, company) — the dashboard adapts to it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from coopgraph.api.deps import PrincipalDep
from coopgraph.api.problems import PROBLEM_RESPONSES

__all__ = ["router"]

router = APIRouter(tags=["health"], responses={401: PROBLEM_RESPONSES[401]})


class Me(BaseModel):
    """The caller as the API sees it."""

    role: str
    company_id: str | None
    key_id: str | None
    name: str | None


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    """The role and company of the presented API key."""
    return Me(role=principal.role.value, company_id=principal.company_id,
              key_id=principal.key_id, name=principal.name)
