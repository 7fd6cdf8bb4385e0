"""The dashboard: ``GET /`` serves the single-page app, ``GET /ui/{path}`` its static files.

Everything the page needs (scripts, styles, strings, the region outline) is shipped
in ``api/dashboard/`` — no CDN, no web fonts, no map tiles — so the dashboard works
offline. The page itself holds no data: its scripts read the JSON API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from coopgraph.graph.errors import NotFound
from coopgraph.resources import package_path

__all__ = ["ASSET_DIR", "router"]

# Package data of api.dashboard, wherever it is installed.
ASSET_DIR = package_path("coopgraph.api.dashboard")

# Only these kinds of files are served; anything else under the folder stays private.
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}

# Scripts and styles may change between releases; a short cache keeps reloads fast.
_CACHE = "no-cache"

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def _asset(relative: str) -> Path:
    """Resolve ``relative`` inside :data:`ASSET_DIR`, refusing anything outside it."""
    root = ASSET_DIR.resolve()
    candidate = (root / relative).resolve()
    if (
        root not in candidate.parents
        or candidate.suffix not in _MEDIA_TYPES
        or not candidate.is_file()
    ):
        raise NotFound(f"no dashboard file {relative!r}")
    return candidate


@router.get("/", response_class=HTMLResponse)
def index() -> Response:
    """The dashboard page."""
    return FileResponse(
        _asset("index.html"), media_type=_MEDIA_TYPES[".html"], headers={"Cache-Control": _CACHE}
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    """The dashboard's icon (an SVG; browsers ask for this path by default)."""
    return FileResponse(
        _asset("favicon.svg"), media_type=_MEDIA_TYPES[".svg"], headers={"Cache-Control": _CACHE}
    )


@router.get("/ui/{path:path}")
def asset(path: str) -> Response:
    """A static file of the dashboard (script, style, strings, region outline)."""
    file = _asset(path)
    return FileResponse(
        file, media_type=_MEDIA_TYPES[file.suffix], headers={"Cache-Control": _CACHE}
    )
