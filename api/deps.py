"""Shared route dependencies as ``Annotated`` aliases (``StoreDep``, ``ReaderDep``…).

Every route except ``/health`` and ``/ready`` takes one of the role aliases, so
no route can forget to check the caller: ``ReaderDep`` (any valid key),
``AnalystDep`` (admin or analyst) and ``AdminDep`` (admin only). Ownership of
member writes is checked in the routes, where the record is known.

The caller and projection dependencies are ``async``: they never wait on I/O
(a key check is a dict lookup, hash and one ``stat``), so running them on the
event loop saves each request a thread-pool round trip per dependency. A
projection that has to be (re)built, or a revision check that would wait —
a Neo4j round trip, the embedded store's lock held by a writer — still runs on
a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from coopgraph.api.auth import Principal, authenticate
from coopgraph.api.keys import KeyRole, KeyStore
from coopgraph.api.settings import ApiSettings
from coopgraph.api.state import StoreHolder, note_revision
from coopgraph.graph.store import GraphStore
from coopgraph.queries.projection import Projection

__all__ = [
    "AdminDep",
    "AnalystDep",
    "PrincipalDep",
    "ProjectionDep",
    "ReaderDep",
    "SettingsDep",
    "StoreDep",
    "get_principal",
]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="An API key made with `coopgraph keys create`")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token")


def _holder(request: Request) -> StoreHolder:
    holder: StoreHolder = request.app.state.holder
    return holder


def get_store(request: Request) -> GraphStore:
    """The app's store (503 problem when it cannot be reached)."""
    return _holder(request).get()


async def get_projection(request: Request) -> Projection:
    """The projection of the store's analytic revision (or the previous one while it is rebuilt).

    The revision it was computed at goes out in the ``X-CoopGraph-Revision`` header.
    """
    holder = _holder(request)
    projection = holder.projection_nowait()
    if projection is None:
        projection = await run_in_threadpool(holder.projection)
    note_revision(request.state, projection.revision)
    return projection


def get_settings(request: Request) -> ApiSettings:
    """The API settings the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings


async def get_principal(
    request: Request,
    api_key: Annotated[str | None, Security(_api_key)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    """The caller, from the X-API-Key header, a bearer token or the dashboard cookie."""
    keys: KeyStore | None = request.app.state.keys
    return authenticate(keys, request.headers, request.cookies)


def _role(*roles: KeyRole, action: str) -> Callable[..., Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(*roles, action=action)
        return principal
    return check


StoreDep = Annotated[GraphStore, Depends(get_store)]
ProjectionDep = Annotated[Projection, Depends(get_projection)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ReaderDep = PrincipalDep
AnalystDep = Annotated[
    Principal, Depends(_role(KeyRole.ADMIN, KeyRole.ANALYST, action="run this analysis"))]
AdminDep = Annotated[Principal, Depends(_role(KeyRole.ADMIN, action="do this"))]
