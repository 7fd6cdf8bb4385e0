"""``/keys``: create, list and revoke API keys (admins only), as ``coopgraph keys`` does.

The keys live in the store (:mod:`api.keys`), so a key revoked here is refused by
every API replica over the same store from its next request on. The secret is
returned once, by ``POST /keys``; only its hash is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from coopgraph.api.deps import AdminDep
from coopgraph.api.keys import ApiKey, KeyRole, KeyStore
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.graph.errors import Conflict, InvalidQuery
from coopgraph.graph.schema import EntityKind

__all__ = ["router"]

router = APIRouter(prefix="/keys", tags=["keys"], responses=PROBLEM_RESPONSES)

_KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}$", description="The key's id")]


class ApiKeyCreate(BaseModel):
    """A key to make: its role, the company of a member key, a label."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"role": "member", "company_id": "sup1", "name": "отдел закупок"}]})

    role: KeyRole
    company_id: str | None = Field(default=None, max_length=200,
                                   description="The company a member key acts for")
    name: str | None = Field(default=None, max_length=500,
                             description="A label to recognise the key by")


class ApiKeyPublic(BaseModel):
    """A key as listed: never its secret, nor its hash."""

    id: str
    name: str | None
    role: KeyRole
    company_id: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool


class ApiKeyCreated(ApiKeyPublic):
    """A new key with its secret, shown this once."""

    key: str = Field(description="The secret: send it as X-API-Key; it is not shown again")


def _keys(request: Request) -> KeyStore:
    keys: KeyStore | None = request.app.state.keys
    if keys is None:
        raise Conflict("auth is off on this server: there are no API keys to manage")
    return keys


def _public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(id=key.id, name=key.name, role=key.role, company_id=key.company_id,
                        created_at=key.created_at, revoked_at=key.revoked_at,
                        active=key.active)


@router.get("", response_model=list[ApiKeyPublic])
def list_keys(principal: AdminDep, request: Request) -> list[ApiKeyPublic]:
    """Every key, revoked ones too, oldest first (never the secrets)."""
    return [_public(k) for k in _keys(request).list()]


@router.post("", response_model=ApiKeyCreated, status_code=201)
def create_key(principal: AdminDep, request: Request, body: ApiKeyCreate) -> ApiKeyCreated:
    """Make a key; the response carries its secret, shown only this once."""
    keys = _keys(request)
    if body.company_id and body.role is KeyRole.MEMBER:
        store = request.app.state.holder.get()
        if not store.exists(EntityKind.COMPANY, body.company_id):
            raise InvalidQuery(f"no company with id {body.company_id!r} in the store")
    record, secret = keys.create(body.role, company_id=body.company_id or None,
                                 name=body.name, source="api")
    return ApiKeyCreated(**_public(record).model_dump(), key=secret)


@router.delete("/{key_id}", response_model=ApiKeyPublic)
def revoke_key(principal: AdminDep, request: Request, key_id: _KeyId) -> ApiKeyPublic:
    """Revoke a key: every replica refuses it from its next request on."""
    return _public(_keys(request).revoke(key_id, source="api"))
