"""Security headers on every response: a strict Content-Security-Policy and friends.

The dashboard is built to need nothing but this server: its scripts are ES
modules from ``/ui/``, its styles one stylesheet, its inline ``style``
properties set through the CSSOM (``el.style.x = …``, which a CSP allows), no
inline ``<script>``, ``<style>`` or ``on…=`` attribute, no ``eval``. So the
policy is ``'self'`` for everything and ``'none'`` for what the page never does:

``default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none';
form-action 'self'``

The OpenAPI pages (``/docs``, ``/redoc``) are FastAPI's: they load Swagger UI
and ReDoc from a CDN and start them with an inline script, so they get a policy
of their own that allows that CDN and inline scripts. They show our OpenAPI
description, no member data.

:class:`SecurityHeaders` is a pure ASGI middleware (a header list added to the
response-start message), so the match route's fast path pays a few
microseconds, not a ``BaseHTTPMiddleware`` task. Responses built outside the
middleware stack (the 500 handler) take :data:`SECURITY_HEADERS` directly.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "DOCS_CSP", "SECURITY_HEADERS", "SecurityHeaders"]

CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (f"default-src 'self'; script-src 'self' 'unsafe-inline' {_CDN}; "
            f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com; "
            f"font-src 'self' https://fonts.gstatic.com; "
            f"img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            f"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
            f"frame-ancestors 'none'; form-action 'self'")

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class SecurityHeaders:
    """ASGI middleware: add :data:`SECURITY_HEADERS` to every HTTP response that lacks them.

    ``docs_paths`` get :data:`DOCS_CSP` instead of :data:`CSP`.
    """

    def __init__(self, app: ASGIApp, *, docs_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        self._headers = _raw(SECURITY_HEADERS)
        self._docs_headers = _raw({**SECURITY_HEADERS, "Content-Security-Policy": DOCS_CSP})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._docs_headers if scope.get("path") in self.docs_paths else self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                # Problem documents bring their own (they are also sent from outside
                # the middleware stack); everything else gets them here.
                if not any(name == b"x-frame-options" for name, _ in headers):
                    message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
