"""The dashboard runs under the API's Content-Security-Policy without a single violation.

Every page (and a company page) is opened in headless Chromium with a listener
for ``securitypolicyviolation`` events installed before the page's own
scripts; the console is watched for CSP messages too. A positive control
injects an inline script and checks that the policy blocks it and the listener
sees it, so "no violation" means the policy was there and held.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coopgraph.api.headers import CSP
from coopgraph.api.keys import KeyRole, KeyStore
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import EntityKind
from tests.browser import LiveServer, PageWatcher, launch_chromium, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

PAGES = ["overview", "network", "gaps", "companies", "planner"]

_LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
                    + ` at ${e.sourceFile || '?'}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    require_chromium()
    tmp = tmp_path_factory.mktemp("csp")
    store = EmbeddedStore(None)
    assert ingest_paths(store, [SAMPLE_DIR]).ok
    company = sorted(r["id"] for r in store.snapshot().rows(EntityKind.COMPANY))[0]
    settings = ApiSettings(auth=True, keys_file=tmp / "keys.json", jobs_dir=tmp / "jobs")
    _, key = KeyStore(store).create(KeyRole.ANALYST, name="csp test")
    with LiveServer(create_app(settings=settings, store=store)) as live:
        yield live, key, company
    store.close()


@pytest.fixture(scope="module")
def page(server: tuple[LiveServer, str, str]) -> Iterator[tuple[Any, PageWatcher, list[str]]]:
    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(_LISTEN)
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        console: list[str] = []
        tab.on("console", lambda m: console.append(m.text)
               if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
               else None)
        yield tab, PageWatcher().attach(tab), console
        context.close()


def _ready(tab: Any) -> None:
    tab.wait_for_function(
        "() => { const v = document.querySelector('#view');"
        " return !!v && v.getAttribute('aria-busy') === 'false'"
        " && v.dataset.hash === window.location.hash; }")


def test_every_page_runs_under_the_csp_without_a_violation(
        server: tuple[LiveServer, str, str], page: tuple[Any, PageWatcher, list[str]]) -> None:
    live, key, company = server
    tab, watch, console = page
    response = tab.goto(f"{live.url}/?key={key}#/overview")
    assert response.headers["content-security-policy"] == CSP
    _ready(tab)
    for route in [*PAGES, f"company/{company}"]:
        tab.evaluate("r => { window.location.hash = '#/' + r; }", route)
        _ready(tab)
        assert tab.inner_text("#view h1").strip(), route
    tab.wait_for_timeout(300)  # violation events are dispatched asynchronously
    assert tab.evaluate("() => window.__csp") == []
    assert console == []
    assert watch.take() == []


def test_the_policy_is_enforced_in_the_browser(
        server: tuple[LiveServer, str, str], page: tuple[Any, PageWatcher, list[str]]) -> None:
    live, key, _ = server
    tab, watch, console = page
    tab.goto(f"{live.url}/?key={key}#/overview")
    _ready(tab)
    ran = tab.evaluate("""async () => {
        const el = document.createElement('script');
        el.textContent = 'window.__inline = true;';
        document.head.append(el);
        const styled = document.createElement('div');
        styled.setAttribute('style', 'color: red');
        document.body.append(styled);
        await new Promise((r) => setTimeout(r, 300));
        return window.__inline === true;
    }""")
    assert ran is False
    seen = tab.evaluate("() => window.__csp")
    assert any(v.startswith("script-src") for v in seen), seen
    assert any(v.startswith("style-src") for v in seen), seen
    watch.take()
    console.clear()
