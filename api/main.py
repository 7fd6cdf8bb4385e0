"""Build the FastAPI app: ``create_app(settings=None, store=None)``.

``coopgraph serve`` runs it through uvicorn's factory mode
(``coopgraph.api.main:create_app``), so each worker builds its own app, store
connection and projection. Tests pass a store of their own.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from coopgraph.api.headers import SecurityHeaders
from coopgraph.api.jobs import JobRunner
from coopgraph.api.keys import KeyStore
from coopgraph.api.limits import BodyLimit
from coopgraph.api.loopback import LoopbackOnly
from coopgraph.api.problems import install_problem_handlers
from coopgraph.api.routes import ROUTER_MODULES
from coopgraph.api.settings import ApiSettings, load_api_settings
from coopgraph.api.state import RevisionHeader, StoreHolder
from coopgraph.graph.factory import open_store
from coopgraph.graph.settings import load_settings
from coopgraph.graph.store import GraphStore

__all__ = ["create_app"]

_TAGS = [
    {"name": "health", "description": "Liveness and readiness (no key needed)."},
    {"name": "companies", "description": "Companies of the cluster and around it."},
    {"name": "clusters", "description": "Clusters and their members."},
    {"name": "categories", "description": "The component/material taxonomy and market "
                                          "aggregates per category."},
    {"name": "processes", "description": "Manufacturing processes and who holds them."},
    {"name": "certifications", "description": "Certification schemes and who holds them."},
    {"name": "products", "description": "End products and their bills of materials."},
    {"name": "capabilities", "description": "What companies declare they can supply."},
    {"name": "supplies", "description": "Existing cooperation links."},
    {"name": "imports", "description": "What is bought from outside the region."},
    {"name": "needs", "description": "Explicit requests for suppliers."},
    {"name": "ingest", "description": "Upload files and follow the load job."},
    {"name": "keys", "description": "API keys: create, list, revoke (admins)."},
    {"name": "match", "description": "Ranked buyers and suppliers, with reasons."},
    {"name": "plans", "description": "Supply-chain plans for a product or a cluster."},
    {"name": "gaps", "description": "What the cluster lacks."},
    {"name": "kpis", "description": "Cluster KPIs against their thresholds."},
    {"name": "export", "description": "The graph as a file."},
    {"name": "requests", "description": "Cooperation requests and their workflow."},
    {"name": "events", "description": "The change feed of cooperation requests."},
    {"name": "ties", "description": "Cooperation ties of every type."},
    {"name": "projects", "description": "Joint cluster projects and their subsidy estimate."},
    {"name": "review", "description": "Entity resolution: pairs of companies that may be "
                                      "one, and reviewers' decisions (admins only)."},
    {"name": "codes", "description": "OKVED2/OKPD2 look-up: companies and categories by code."},
]

_DESCRIPTION = """\
Supplier–manufacturer matchmaking for industrial clusters.

Send an API key (made with `coopgraph keys create --role admin|analyst|member`)
in the `X-API-Key` header or as `Authorization: Bearer <key>`. Errors are
`application/problem+json` documents (RFC 9457).
"""


def _recover_jobs(jobs: JobRunner) -> None:
    try:
        jobs.recover()
    except Exception:  # the store is down: each job is checked again when it is read
        logging.getLogger("coopgraph.api").warning("could not check ingest jobs at start-up",
                                                   exc_info=True)


def create_app(settings: ApiSettings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The API app; ``store=None`` opens the configured store on first use.

    Raises
    ------
    ConfigError
        When a setting is invalid, or auth is off on a non-loopback address.

    Notes
    -----
    ``COOPGRAPH_HOST`` is only what the CLI says it binds; with auth off, each
    request is also checked against the address it really arrived on
    (:class:`api.loopback.LoopbackOnly`).
    """
    settings = settings or load_api_settings()
    settings.check_safe()
    holder = StoreHolder(store=store, opener=None if store is not None else
                         (lambda: open_store(load_settings())),
                         projection_wait=settings.projection_wait,
                         incremental=settings.projection_incremental)
    # a finished load pokes the projection's background worker, as a write's response does
    jobs = JobRunner(settings.resolved_jobs_dir(), holder.get, on_done=holder.poke)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Jobs whose process died are marked interrupted now, not only when read; off the
        # event loop, and a store that is down just postpones it to the first read.
        threading.Thread(target=_recover_jobs, args=(jobs,), name="recover-jobs",
                         daemon=True).start()
        yield
        jobs.shutdown()
        holder.close()

    app = FastAPI(
        title="CoopGraph API", version="0.1.0", description=_DESCRIPTION,
        openapi_tags=_TAGS, lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.keys = (KeyStore(holder.get, legacy_file=settings.resolved_keys_file())
                      if settings.auth else None)
    app.state.jobs = jobs
    install_problem_handlers(app)
    # Middleware added last runs first: headers on everything, then the auth-off
    # guard, then the body limit.
    app.add_middleware(BodyLimit, body_limit=lambda: settings.body_limit,
                       upload_limit=lambda: settings.upload_limit, upload_paths=("/ingest",))
    app.add_middleware(RevisionHeader)
    if not settings.auth:
        app.add_middleware(LoopbackOnly)
    app.add_middleware(SecurityHeaders, docs_paths=tuple(
        p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p))

    for name in ROUTER_MODULES:
        module = importlib.import_module(f"coopgraph.api.routes.{name}")
        app.include_router(module.router)

    if importlib.util.find_spec("coopgraph.api.routes.dashboard") is not None:
        dashboard = importlib.import_module("coopgraph.api.routes.dashboard")
        app.include_router(dashboard.router)
    else:  # pragma: no cover - the dashboard ships with the package
        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/docs")

    return app
