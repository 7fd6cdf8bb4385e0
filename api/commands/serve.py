"""``coopgraph serve``: run the HTTP API and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Attach ``serve`` to ``app``."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    ) -> None:
        """Serve the API and the dashboard (uses the configured store)."""
        import os

        import uvicorn

        from coopgraph.api.console import console, friendly_errors, store_header
        from coopgraph.api.settings import load_api_settings
        from coopgraph.graph.factory import store_location
        from coopgraph.graph.settings import load_settings

        # The workers read the bound address from the environment: the API refuses
        # COOPGRAPH_AUTH=off unless it is a loopback address.
        os.environ["COOPGRAPH_HOST"] = host
        with friendly_errors():
            load_api_settings()
            console.print(store_header(store_location(load_settings())), highlight=False,
                          soft_wrap=True)
        uvicorn.run(
            "coopgraph.api.main:create_app", factory=True, host=host, port=port, workers=workers
        )
