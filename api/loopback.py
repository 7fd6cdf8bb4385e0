"""With ``COOPGRAPH_AUTH=off``, answer only on a loopback address, however the app was started.

``coopgraph serve`` and the demo check the address before they start
(:meth:`api.settings.ApiSettings.check_safe`), but ``create_app`` cannot see
the address when someone runs ``uvicorn coopgraph.api.main:create_app --factory --host
0.0.0.0`` by hand. Every request can: the ASGI scope's ``server`` is the
address the connection arrived on. So with auth off, :class:`LoopbackOnly`
refuses each request that did not arrive on a loopback address (or whose
address the server does not say, as on a Unix socket behind a proxy) with a
503 problem saying why and what to do. With auth on it is not installed.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from coopgraph.api.problems import problem_response
from coopgraph.api.settings import is_loopback

__all__ = ["LoopbackOnly"]


class LoopbackOnly:
    """ASGI middleware: refuse every request not received on a loopback address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        host = str(server[0]) if server else None
        if host is not None and is_loopback(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        where = f"on {host}" if host is not None else "on an address it does not know"
        response = problem_response(
            503, f"this server runs with COOPGRAPH_AUTH=off and was reached {where}, "
                 f"which is not a loopback address: without API keys it would hand the "
                 f"cluster's confidential figures to anyone who can reach it. Create a key "
                 f"with `coopgraph keys create --role admin` and restart with auth on, or "
                 f"bind 127.0.0.1.",
            slug="auth-off-not-loopback", title="Auth is off on a non-loopback address",
            instance=scope.get("path"))
        await response(scope, receive, send)
