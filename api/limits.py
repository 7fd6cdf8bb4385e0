"""A request-body size limit for uploads, enforced before the body is parsed.

A declared ``Content-Length`` above the limit is refused at once; a body that
streams past the limit (chunked, or lying about its length) is cut off as soon
as it does. Either way the client gets a 413 problem naming the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import UploadTooLarge, problem_response

__all__ = ["UploadLimit"]


class _TooLarge(HTTPException):
    """Raised from ``receive`` so that FastAPI passes it through its body parser."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, str(UploadTooLarge(limit)))
        self.limit = limit


class UploadLimit:
    """ASGI middleware: POST bodies to ``paths`` may not exceed ``limit()`` bytes."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int], paths: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") != "POST"
                or scope.get("path") not in self.paths):
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem_response(
                413, str(UploadTooLarge(limit)), slug="upload-too-large",
                title="Upload too large", instance=scope.get("path"), limit=limit)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        await self.app(scope, limited, send)
