"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every 4xx and 5xx the API sends is a problem: ``type``, a readable ``title``,
``status``, a ``detail`` sentence and the ``instance`` path, plus extension
members where they help (``errors`` lists the fields that failed validation,
``missing`` the nodes a relationship refers to). A 5xx never carries a stack
trace; the trace goes to the server log.

==============================  ======  ==============================
raised                          status  type
==============================  ======  ==============================
AuthRequired                    401     /problems/unauthorized
AccessDenied                    403     /problems/forbidden
NotFound                        404     /problems/not-found
InvalidQuery                    400     /problems/invalid-query
RequestValidationError,         422     /problems/validation
ValidationError,
ValidationFailed
MissingReference                422     /problems/missing-reference
HasDependents                   409     /problems/has-dependents
Conflict (VersionConflict,      409     /problems/conflict
IllegalTransition)
ReviewError                     409     /problems/review-conflict
BomCycleError                   422     /problems/bom-cycle
IngestError                     422     /problems/ingest
UploadTooLarge                  413     /problems/upload-too-large
BodyTooLarge                    413     /problems/body-too-large
NotImplementedYet               501     /problems/not-implemented
StoreUnavailable                503     /problems/store-unavailable
other StoreError                503     /problems/store-error
other errors                    500     /problems/internal
==============================  ======  ==============================
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from coopgraph.api.auth import AuthRequired
from coopgraph.api.headers import SECURITY_HEADERS
from coopgraph.graph.errors import (
    AccessDenied,
    BomCycleError,
    ConfigError,
    Conflict,
    CoopGraphError,
    HasDependents,
    IngestError,
    InvalidQuery,
    MissingReference,
    NotFound,
    StoreError,
    StoreUnavailable,
    ValidationFailed,
)
from coopgraph.ingest.review import ReviewError

__all__ = [
    "PROBLEM_RESPONSES",
    "BodyTooLarge",
    "NotImplementedYet",
    "Problem",
    "UploadTooLarge",
    "install_problem_handlers",
    "problem_response",
]

log = logging.getLogger("coopgraph.api")
MEDIA_TYPE = "application/problem+json"


class UploadTooLarge(CoopGraphError):
    """An upload is larger than the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the upload is larger than the limit of {limit} bytes "
            f"({limit / 1048576:.1f} MiB; set COOPGRAPH_UPLOAD_LIMIT to change it)")
        self.limit = limit


class BodyTooLarge(CoopGraphError):
    """A request body (other than an upload) is larger than the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than the limit of {limit} bytes "
            f"({limit / 1048576:.1f} MiB; set COOPGRAPH_BODY_LIMIT to change it)")
        self.limit = limit


class NotImplementedYet(CoopGraphError):
    """A feature whose engine module is not installed yet."""


class Problem(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = MEDIA_TYPE


def problem_response(
    status: int, detail: str, *, slug: str | None = None, title: str | None = None,
    instance: str | None = None, headers: dict[str, str] | None = None, **extra: Any,
) -> Problem:
    """Build a problem response (``type`` is ``about:blank`` when no slug is given)."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    # The 500 handler answers outside the middleware stack: the headers go on here.
    return Problem(body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def _field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            where, loc = loc[0], loc[1:]
        else:
            where = "body"
        message = str(error.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        out.append({"field": ".".join(loc) or where, "in": where, "message": message})
    return out


def _validation_problem(request: Request, errors: list[dict[str, str]]) -> Problem:
    shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return problem_response(
        422, f"the request is not valid — {shown}{more}", slug="validation",
        title="Invalid request", instance=request.url.path, errors=errors)


# (exception class, status, slug, title) — the first matching row wins.
_MAPPING: tuple[tuple[type[Exception], int, str, str], ...] = (
    (AccessDenied, 403, "forbidden", "Forbidden"),
    (NotFound, 404, "not-found", "Not found"),
    (InvalidQuery, 400, "invalid-query", "Invalid query"),
    (MissingReference, 422, "missing-reference", "Unknown reference"),
    (HasDependents, 409, "has-dependents", "Other records refer to it"),
    (Conflict, 409, "conflict", "Conflict with the record's current state"),
    (ReviewError, 409, "review-conflict", "The decision does not apply to this pair"),
    (BomCycleError, 422, "bom-cycle", "Bill of materials has a cycle"),
    (IngestError, 422, "ingest", "File cannot be ingested"),
    (UploadTooLarge, 413, "upload-too-large", "Upload too large"),
    (BodyTooLarge, 413, "body-too-large", "Request body too large"),
    (NotImplementedYet, 501, "not-implemented", "Not implemented yet"),
    (StoreUnavailable, 503, "store-unavailable", "Store unavailable"),
    (StoreError, 503, "store-error", "Store error"),
    (ConfigError, 500, "configuration", "Server misconfigured"),
)


def _driver_unavailable(exc: Exception) -> bool:
    """True for the Neo4j driver's connection errors that escaped the store's wrapping."""
    try:
        from neo4j.exceptions import ServiceUnavailable, SessionExpired
    except ImportError:  # pragma: no cover - the driver is a dependency
        return False
    return isinstance(exc, ServiceUnavailable | SessionExpired)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem document."""

    @app.exception_handler(AuthRequired)
    async def _unauthorized(request: Request, exc: AuthRequired) -> Problem:
        return problem_response(
            401, exc.detail, slug="unauthorized", title="API key required",
            instance=request.url.path, headers={"WWW-Authenticate": 'Bearer realm="coopgraph"'})

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Problem:
        return _validation_problem(request, _field_errors(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _model_invalid(request: Request, exc: ValidationError) -> Problem:
        return _validation_problem(request, _field_errors(exc.errors()))

    @app.exception_handler(ValidationFailed)
    async def _failed(request: Request, exc: ValidationFailed) -> Problem:
        errors = [{"field": f, "in": "body", "message": m} for f, m in exc.problems]
        if not errors:
            errors = [{"field": "body", "in": "body", "message": str(exc)}]
        return _validation_problem(request, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Problem:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route matches {request.method} {request.url.path}"
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        if exc.status_code == 413:
            return problem_response(413, detail, slug=getattr(exc, "slug", "upload-too-large"),
                                    title=getattr(exc, "title", "Upload too large"),
                                    instance=request.url.path, limit=getattr(exc, "limit", None))
        return problem_response(exc.status_code, detail, instance=request.url.path,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(CoopGraphError)
    async def _domain(request: Request, exc: CoopGraphError) -> Problem:
        return _domain_problem(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Problem:
        if _driver_unavailable(exc):
            return problem_response(
                503, f"the graph database cannot be reached: {type(exc).__name__}",
                slug="store-unavailable", title="Store unavailable", instance=request.url.path)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "the server failed while handling the request; the error is logged",
            slug="internal", title="Internal server error", instance=request.url.path)


def _domain_problem(request: Request, exc: CoopGraphError) -> Problem:
    for cls, status, slug, title in _MAPPING:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            if isinstance(exc, MissingReference):
                extra["missing"] = exc.missing
            if isinstance(exc, HasDependents):
                extra["dependents"], extra["total"] = exc.dependents, exc.total
            if isinstance(exc, BomCycleError):
                extra["cycle"] = exc.cycle
            if isinstance(exc, UploadTooLarge | BodyTooLarge):
                extra["limit"] = exc.limit
            if status >= 500 and status not in (501, 503):
                log.error("%s on %s %s: %s", type(exc).__name__, request.method,
                          request.url.path, exc)
            return problem_response(status, _public_detail(request, exc, status), slug=slug,
                                    title=title, instance=request.url.path, **extra)
    log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return problem_response(500, _public_detail(request, exc, 500), slug="internal",
                            title="Internal server error", instance=request.url.path)


_URI = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"()<>]+")
_ABSOLUTE_PATH = re.compile(r"(?<![\w/.~-])(?:~|[A-Za-z]:)?/[^\s'\"():;,]+")
_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\[[0-9a-fA-F:]+\](?::\d+)?")


def _server_strings(request: Request) -> list[str]:
    """The configured paths and URIs, longest first (relative ones too: ``var/data``)."""
    found: list[str] = []
    try:
        from coopgraph.graph.settings import load_settings

        graph_settings = load_settings()
        found += [str(graph_settings.data_dir), str(graph_settings.data_dir.resolve()),
                  graph_settings.neo4j_uri]
    except Exception:  # a broken configuration is what is being reported
        pass
    settings = getattr(request.app.state, "settings", None)
    for name in ("keys_file", "jobs_dir"):
        value = getattr(settings, name, None)
        if value is not None:
            found += [str(value), str(value.resolve())]
    return sorted({f for f in found if f and f not in (".", "/")}, key=len, reverse=True)


def _public_detail(request: Request, exc: CoopGraphError, status: int) -> str:
    """What a client may read of a server-side error: no path, URI, address or secret.

    The full message goes to the server log. A configuration error may quote a
    setting's value (a password), so it is replaced whole; a store error keeps
    its sentence ("Neo4j at … is unreachable") with the specifics cut out.
    """
    text = str(exc)
    if status < 500 or status == 501:
        return text
    if status == 503:  # the other 5xx are logged by the caller
        log.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path,
                    text)
    if isinstance(exc, ConfigError):
        return "the server is misconfigured; the error is in the server log"
    for known in _server_strings(request):
        text = text.replace(known, "…")
    text = _URI.sub("…", text)
    text = _ABSOLUTE_PATH.sub("…", text)
    text = re.sub("…+", "…", _ADDRESS.sub("…", text))  # a dir, then its file: one "…"
    return text + " (details in the server log)"


def _problem_schema() -> dict[str, Any]:
    return {
        "description": "An RFC 9457 problem document",
        "content": {MEDIA_TYPE: {"schema": {
            "type": "object",
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer"}, "detail": {"type": "string"},
                "instance": {"type": "string"},
            },
            "required": ["type", "title", "status", "detail"],
        }}},
    }


# The common error responses, for the OpenAPI description of every route (413: every
# route has a body limit, see api.limits).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {**_problem_schema(), "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 413, 422, 503)
}
