"""The dashboard's files: served from the package, offline-only, complete in both languages.

These tests need no browser: they check what the server hands out (and refuses)
and read the JavaScript as text — every module an import names exists, every
interface string used exists in Russian and English, and nothing points at the
internet.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coopgraph.api.main import create_app
from coopgraph.api.routes.dashboard import ASSET_DIR
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.embedded import EmbeddedStore

ASSETS = sorted(p for p in ASSET_DIR.rglob("*") if p.suffix in {".js", ".css", ".html", ".json",
                                                                 ".svg"})
SCRIPTS = [p for p in ASSETS if p.suffix == ".js"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("dash")
    settings = ApiSettings(auth=True, host="127.0.0.1", keys_file=tmp / "keys.json",
                           jobs_dir=tmp / "jobs")
    return TestClient(create_app(settings=settings, store=EmbeddedStore(None)))


def _strings(name: str) -> dict[str, str]:
    text = (ASSET_DIR / "i18n" / name).read_text(encoding="utf-8")
    pairs = re.findall(r"^\s*'([\w.\-]+)':\s*'((?:[^'\\]|\\.)*)',?\s*$", text, flags=re.M)
    # plural entries (CLDR forms for Intl.PluralRules): { one: '…', few: '…', other: '…' }
    plurals = re.findall(r"^\s*'([\w.\-]+)':\s*\{(.*)\},?\s*$", text, flags=re.M)
    return dict(pairs) | {key: " | ".join(re.findall(r"'((?:[^'\\]|\\.)*)'", forms))
                          for key, forms in plurals}


def test_index_is_served_without_a_key(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/app.js">' in response.text


@pytest.mark.parametrize("path", [p.relative_to(ASSET_DIR).as_posix() for p in ASSETS])
def test_every_asset_is_served_with_its_type(client: TestClient, path: str) -> None:
    response = client.get(f"/ui/{path}")
    assert response.status_code == 200, path
    expected = {".js": "text/javascript", ".css": "text/css", ".html": "text/html",
                ".json": "application/json", ".svg": "image/svg+xml"}[Path(path).suffix]
    assert response.headers["content-type"].startswith(expected)


@pytest.mark.parametrize("path", [
    "../main.py", "..%2Fmain.py", "%2e%2e/%2e%2e/graph/models.py", "__init__.py",
    "pages/__init__.py", "missing.js", "", "/etc/passwd",
])
def test_files_outside_the_dashboard_or_of_other_types_are_refused(
    client: TestClient, path: str
) -> None:
    response = client.get(f"/ui/{path}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text


def test_the_favicon_is_served(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_the_api_still_needs_a_key_while_the_page_does_not(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/companies").status_code == 401


@pytest.mark.parametrize("asset", ASSETS, ids=lambda p: p.name)
def test_nothing_is_loaded_from_the_internet(asset: Path) -> None:
    text = asset.read_text(encoding="utf-8")
    # no absolute URLs at all, except the SVG namespace (an identifier, never fetched)
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s'\"]*", text))
    urls -= {"http://www.w3.org/2000/svg", "//www.w3.org/2000/svg"}
    assert not urls, f"{asset.name} refers to {sorted(urls)}"
    assert "@import" not in text and "@font-face" not in text


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_import_names_an_existing_module(script: Path) -> None:
    for target in re.findall(r"^import .* from '([^']+)';", script.read_text(encoding="utf-8"),
                             flags=re.M):
        assert target.startswith("."), f"{script.name}: bare import {target!r}"
        assert (script.parent / target).resolve().is_file(), f"{script.name}: {target} missing"


def _all_strings(lang: str) -> dict[str, str]:
    """Every dictionary of ``lang``: ``ru.js`` and the pages' own ``*.ru.js``."""
    out = _strings(f"{lang}.js")
    for path in sorted((ASSET_DIR / "i18n").glob(f"*.{lang}.js")):
        out |= _strings(path.name)
    return out


def test_both_languages_have_the_same_strings() -> None:
    ru = _all_strings("ru")
    en = _all_strings("en")
    assert len(ru) > 100
    assert set(ru) == set(en), sorted(set(ru) ^ set(en))
    assert all(value.strip() for value in [*ru.values(), *en.values()])
    # Russian is Russian: most strings hold Cyrillic letters, English ones none
    assert sum(bool(re.search("[а-яё]", v, re.I)) for v in ru.values()) > 0.8 * len(ru)
    assert not [k for k, v in en.items() if re.search("[а-яё]", v, re.I)]


def test_every_string_the_pages_use_exists() -> None:
    ru = _all_strings("ru")
    used: set[str] = set()
    for script in SCRIPTS:
        used |= set(re.findall(r"\bt\('([\w.]+)'", script.read_text(encoding="utf-8")))
        used |= set(re.findall(r"\btn\('([\w.]+)'", script.read_text(encoding="utf-8")))
    html = (ASSET_DIR / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n="([\w.]+)"', html))
    assert used, "no t('…') calls found: the pattern is out of date"
    assert sorted(used - set(ru)) == []


def test_the_region_outline_is_marked_approximate() -> None:
    import json

    outline = json.loads((ASSET_DIR / "lipetsk_region.json").read_text(encoding="utf-8"))
    region = [f for f in outline["features"] if f["properties"]["kind"] == "region"]
    assert len(region) == 1 and region[0]["properties"]["approximate"] is True
    ring = region[0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    # Lipetsk city lies inside the drawn outline (ray casting)
    x, y, inside = 39.60, 52.61, False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    assert inside
