"""OKVED2/OKPD2 look-up: ``/codes/{code}`` — its names, the companies registered under it
(OKVED2), the categories coded under it (OKPD2). Registry data: public, not confidential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.queries.registry import find_by_code

__all__ = ["router"]

router = APIRouter(prefix="/codes", tags=["codes"])


class CodeCompany(BaseModel):
    """A company with an OKVED2 code under the one asked for."""

    id: str
    name: str
    okved: str
    main: bool = Field(description="It is the company's main activity")


class CodeCategory(BaseModel):
    """A category whose OKPD2 code is under (or above) the one asked for."""

    code: str
    name_ru: str
    okpd2: str


class CodeMatchesPublic(BaseModel):
    """What one OKVED2/OKPD2 code finds."""

    code: str
    okved_name: str | None
    okpd2_name: str | None
    companies: list[CodeCompany]
    categories: list[CodeCategory]


@router.get("/{code}", response_model=CodeMatchesPublic)
def code_matches(
    principal: PrincipalDep,
    projection: ProjectionDep,
    code: Annotated[str, Path(max_length=20, description="An OKVED2/OKPD2 code, e.g. 24.51")],
) -> CodeMatchesPublic:
    """Companies by OKVED2 code and categories by OKPD2 code (class and finer: by prefix)."""
    found = find_by_code(projection, code)
    return CodeMatchesPublic(
        code=found.code, okved_name=found.okved_name, okpd2_name=found.okpd2_name,
        companies=[CodeCompany(id=i, name=n, okved=c, main=m) for i, n, c, m in found.companies],
        categories=[CodeCategory(code=c, name_ru=n, okpd2=o) for c, n, o in found.categories])
