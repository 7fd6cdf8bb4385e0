"""Request-body size limits on every route, enforced before the body is parsed.

Every request body is limited: JSON bodies to ``COOPGRAPH_BODY_LIMIT`` (1 MiB
by default — a page of records is a few kilobytes, and every text field is
capped far below that by the models), uploads to ``POST /ingest`` to the larger
``COOPGRAPH_UPLOAD_LIMIT``. A declared ``Content-Length`` above the limit is
refused at once; a chunked body (no length declared) is counted as it arrives
and cut off as soon as it passes the limit, so the server never buffers more
than the limit. A body with a declared length cannot outgrow it: the HTTP
server reads exactly that many bytes, so such requests (and requests without
a body, like every GET) pass through untouched — the fast routes pay one scan
of the headers. Either way the client gets a 413 problem naming the limit and the
variable that sets it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coopgraph.api.problems import BodyTooLarge, UploadTooLarge, problem_response

__all__ = ["BodyLimit"]


class _TooLarge(HTTPException):
    """Raised from ``receive`` so that FastAPI passes it through its body parser."""

    def __init__(self, error: BodyTooLarge | UploadTooLarge) -> None:
        super().__init__(413, str(error))
        self.limit = error.limit
        self.slug, self.title = _problem_kind(error)


def _error(upload: bool, limit: int) -> BodyTooLarge | UploadTooLarge:
    return UploadTooLarge(limit) if upload else BodyTooLarge(limit)


def _problem_kind(error: BodyTooLarge | UploadTooLarge) -> tuple[str, str]:
    if isinstance(error, UploadTooLarge):
        return "upload-too-large", "Upload too large"
    return "body-too-large", "Request body too large"


class BodyLimit:
    """ASGI middleware: a body may not exceed ``body_limit()`` bytes, ``upload_limit()`` on uploads.

    ``upload_paths`` are the POST routes that take file uploads. The limits are
    callables so that a changed setting applies to the next request.
    """

    def __init__(self, app: ASGIApp, *, body_limit: Callable[[], int],
                 upload_limit: Callable[[], int], upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.body_limit = body_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("method") == "POST" and scope.get("path") in self.upload_paths
        limit = self.upload_limit() if upload else self.body_limit()
        declared = chunked = False
        for name, value in scope.get("headers") or ():
            if name == b"content-length" and value.isdigit():
                if int(value) > limit:
                    await self._refuse(_error(upload, limit), scope, receive, send)
                    return
                declared = True
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and (declared or scope.get("http_version", "1.1") in ("1.0", "1.1")):
            # The server reads exactly Content-Length bytes, and in HTTP/1 none
            # without it or chunking: nothing more can arrive, nothing to count.
            # (HTTP/2 may stream a body without a length: that one is counted.)
            await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(_error(upload, limit))
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLarge:
            # An app that is not FastAPI's router (or reads the body outside a
            # route) let the cut-off through: answer it here if nothing was sent.
            if started:
                raise
            await self._refuse(_error(upload, limit), scope, receive, send)

    @staticmethod
    async def _refuse(error: BodyTooLarge | UploadTooLarge, scope: Scope, receive: Receive,
                      send: Send) -> None:
        slug, title = _problem_kind(error)
        response = problem_response(413, str(error), slug=slug, title=title,
                                    instance=scope.get("path"), limit=error.limit)
        await response(scope, receive, send)
