"""Ranked matches: buyers for a supplier, suppliers for a buyer (``queries.match``).

Without ``profile=`` a ranking uses the profile ``coopgraph fit`` stored in the
data directory for its direction (re-read when the file changes), else the
automatic one; the result's ``profile`` names the one used.

Admins and analysts rank for any company; a member ranks for its own company only.

Both rankings are lowered by the requests the company was a party to that were
declined, and a lowered candidate's first reason says so
(:mod:`queries.feedback`, as in ``/requests/suggestions``). The declines are
read once per store revision; on the embedded store, with no write since, the
look-up does not block, so the fast path stays on the event loop.

``/match/buyers`` without filters is the engine's fast exact top-k (a few ms
of numpy on the 100k-company graph, never waiting on I/O), so once its index
is built (``queries.match.rank_buyers_is_fast``) these rankings run one at a
time on a worker thread, in arrival order (a capacity limiter of one): they do
not contend with each other for the GIL, and the event loop stays free. Run on
the event loop itself (as before), back-to-back rankings kept the loop busy,
and a write — whose sync route and dependencies each need a turn of the loop —
waited for several rounds of rankings: 0.6–1.3 s under 4 readers, against
15–80 ms now (BENCHMARKS.md, "Mixed load: rankings off the event loop"). The
first ranking of a projection (which builds the index), a filtered ranking
(which scores every candidate) and the supplier rankings run on the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from coopgraph.api.auth import Principal
from coopgraph.api.deps import PrincipalDep, ProjectionDep
from coopgraph.api.params import Amount, DistanceKm, Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine, engine_or_none, result_response
from coopgraph.api.state import StoreHolder
from coopgraph.graph.errors import AccessDenied
from coopgraph.graph.settings import load_settings
from coopgraph.queries.feedback import rank_with_declines

__all__ = ["router"]

router = APIRouter(prefix="/match", tags=["match"], responses=PROBLEM_RESPONSES)

_K = Annotated[int, Query(ge=1, le=200, description="How many candidates to return")]
_CATEGORY = Annotated[Id | None, Query(description="Only this category code")]


class _Filters:
    """The ranking's hard filters (see ``queries.results.MatchFilters``)."""

    def __init__(self, filters: dict[str, Any], profile: str | None) -> None:
        self.filters = filters
        self.profile = profile


async def _filters(
    max_distance_km: Annotated[DistanceKm | None, Query(
        description="Only partners at most this far (km; ≤ 40 000)")] = None,
    region: Annotated[str | None, Query(description="Only partners in this region")] = None,
    cluster_only: Annotated[str | None, Query(
        description="'true': only partners sharing a cluster; or a cluster id")] = None,
    required_certs: Annotated[list[Id] | None, Query(
        description="Certifications the supplier must hold (repeat the parameter)")] = None,
    min_free_capacity: Annotated[Amount | None, Query(
        description="Minimum free yearly capacity of the supplier (≤ 1e12)")] = None,
    profile: Annotated[str | None, Query(description="A named weight profile")] = None,
    registry: Annotated[bool | None, Query(
        description="false: drop capabilities inferred only from OKVED codes (registry "
        "evidence) / false — без компетенций, выведенных только из ОКВЭД")] = None,
) -> _Filters:
    """The ranking's hard filters, as query parameters (async: parsing never waits)."""
    only: bool | str | None = cluster_only
    if cluster_only is not None and cluster_only.lower() in ("true", "false", "1", "0"):
        only = cluster_only.lower() in ("true", "1")
    return _Filters({
        k: v for k, v in {
            "max_distance_km": max_distance_km, "region": region, "cluster_only": only,
            "required_certs": required_certs, "min_free_capacity": min_free_capacity,
            "registry": registry,
        }.items() if v is not None}, profile)


_FiltersDep = Annotated[_Filters, Depends(_filters)]


def _profile(request: Request, named: str | None, direction: str) -> Any:
    """``profile=``, else the profile ``coopgraph fit`` stored for this direction, else None.

    The result's ``profile`` field names the one used (``fitted`` for the stored one).
    """
    if named is not None:
        return named
    state = request.app.state
    stored = getattr(state, "profile_file", None)
    if stored is None:
        stored = engine("coopgraph.queries.profiles", "ProfileFile")(load_settings().data_dir)
        state.profile_file = stored
    return stored.profile(direction)


def _holder(request: Request) -> StoreHolder:
    holder: StoreHolder = request.app.state.holder
    return holder


def _own_only(principal: Principal, company_id: str) -> None:
    if principal.is_member and company_id != principal.company_id:
        raise AccessDenied(f"a member key for company {principal.company_id!r} may rank "
                           f"partners for its own company only, not for {company_id!r}")


@router.get("/buyers")
async def match_buyers(
    request: Request,
    principal: PrincipalDep,
    projection: ProjectionDep,
    supplier: Annotated[Id, Query(description="The supplier's company id")],
    filters: _FiltersDep,
    k: _K = 10,
    category: _CATEGORY = None,
) -> Response:
    """Potential new buyers for a supplier, ranked, with the reasons (RU/EN)."""
    _own_only(principal, supplier)
    rank_buyers = engine("coopgraph.queries.match", "rank_buyers")
    profile = _profile(request, filters.profile, "buyers")
    holder = _holder(request)
    declines = holder.declines_nowait(supplier)
    if declines is None:
        declines = await run_in_threadpool(holder.declines, supplier)

    def rank() -> Response:
        return result_response(rank_with_declines(lambda n: rank_buyers(
            projection, supplier, k=n, category=category, filters=filters.filters or None,
            profile=profile, viewer=principal.viewer), k, declines))

    fast = engine_or_none("coopgraph.queries.match", "rank_buyers_is_fast")
    if fast is not None and fast(projection, filters=filters.filters, profile=profile):
        return await anyio.to_thread.run_sync(rank, limiter=_one_at_a_time(request))
    return await run_in_threadpool(rank)


def _one_at_a_time(request: Request) -> anyio.CapacityLimiter:
    """The fast rankings' limiter: one at a time, in arrival order, off the event loop.
    One per app, made on its first use (a limiter belongs to the running event loop)."""
    limiter = getattr(request.app.state, "fast_rankings", None)
    if limiter is None:  # no await between the check and the set: one per app
        limiter = request.app.state.fast_rankings = anyio.CapacityLimiter(1)
    return cast(anyio.CapacityLimiter, limiter)


@router.get("/suppliers")
def match_suppliers(
    request: Request,
    principal: PrincipalDep,
    projection: ProjectionDep,
    buyer: Annotated[Id, Query(description="The buyer's company id")],
    filters: _FiltersDep,
    k: _K = 10,
    category: _CATEGORY = None,
    product: Annotated[Id | None, Query(description="Only the BOM of this product")] = None,
) -> Response:
    """Potential suppliers for a buyer (or for one of its products), ranked, with reasons."""
    _own_only(principal, buyer)
    rank_suppliers = engine("coopgraph.queries.match", "rank_suppliers")
    profile = _profile(request, filters.profile, "suppliers")
    return result_response(rank_with_declines(lambda n: rank_suppliers(
        projection, buyer, k=n, category=category, product=product,
        filters=filters.filters or None, profile=profile, viewer=principal.viewer),
        k, _declines(_holder(request), buyer)))


def _declines(holder: StoreHolder, company_id: str) -> Any:
    """The company's declines: held ones when that is known without asking the store."""
    found = holder.declines_nowait(company_id)
    return holder.declines(company_id) if found is None else found
