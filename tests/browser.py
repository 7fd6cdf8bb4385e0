"""Helpers of the dashboard's browser tests: a live server in a thread, Chromium, a page watcher.

Chromium is Debian's ``/usr/bin/chromium`` driven by Python playwright (no browser
download). Without it the browser tests skip, naming the reason — unless
``COOPGRAPH_REQUIRE_BROWSER=1`` (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCREENSHOTS",
    "LiveServer",
    "PageWatcher",
    "free_port",
    "launch_chromium",
    "require_chromium",
]

CHROMIUM = os.environ.get("COOPGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def _unavailable(reason: str) -> None:
    if os.environ.get("COOPGRAPH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"COOPGRAPH_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> str:
    """The Chromium executable, or skip (fail under COOPGRAPH_REQUIRE_BROWSER=1)."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium "
                     "(apt-get install -y chromium) to run the dashboard's browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install playwright)")
    return CHROMIUM


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright ``Browser``), closed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start on {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def serve_sample(tmp: Path, *, name: str, fill: Any = None) -> Iterator[tuple[LiveServer, str]]:
    """The real app over the sample cluster (embedded, auth on) and an analyst key.

    ``fill(store)``, when given, adds to the sample before the server starts.
    """
    from coopgraph.api.keys import KeyRole, KeyStore
    from coopgraph.api.main import create_app
    from coopgraph.api.settings import ApiSettings
    from coopgraph.graph.embedded import EmbeddedStore
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    store = EmbeddedStore(None)
    report = ingest_paths(store, [SAMPLE_DIR])
    assert report.ok, report.rejects[:5]
    if fill is not None:
        fill(store)
    settings = ApiSettings(auth=True, host="127.0.0.1", keys_file=tmp / "keys.json",
                           jobs_dir=tmp / "jobs")
    _, key = KeyStore(store).create(KeyRole.ANALYST, name=name)
    try:
        with LiveServer(create_app(settings=settings, store=store)) as live:
            yield live, key
    finally:
        store.close()


@dataclass
class PageWatcher:
    """Collects what must not happen on a page: console errors, failed requests, HTTP ≥ 400."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> PageWatcher:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: self.problems.append(
            f"request failed: {req.method} {req.url} ({req.failure})"))
        page.on("response", self._response)
        return self

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.request.method} "
                                 f"{response.url}")

    def take(self) -> list[str]:
        """The problems seen since the last call (and forget them)."""
        seen, self.problems = self.problems, []
        return seen
