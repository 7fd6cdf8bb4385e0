"""The dashboard in a real browser (headless Debian Chromium) over the real app and the sample data.

For every page: it loads with no console error, no failed request and no HTTP
error, talks to nobody but this server, and is saved as a screenshot in
``test-artifacts/screenshots/``. Then what a newcomer does: switch the language,
read a company's recommendations and their reasons, plan a product's chain, sort
a gaps table, hover and click the network. The page's numbers are checked
against the API's own answers, so a page that shows the wrong thing fails.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from coopgraph.api.keys import KeyRole, KeyStore
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.embedded import EmbeddedStore
from tests.browser import (
    SCREENSHOTS,
    LiveServer,
    PageWatcher,
    launch_chromium,
    require_chromium,
    serve_sample,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

VIEWPORT = {"width": 1440, "height": 900}
PAGES = ["overview", "network", "gaps", "companies", "planner"]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[
        tuple[LiveServer, str]]:
    """The real app over the sample data, with auth on and an analyst key (read + analyse)."""
    with serve_sample(tmp_path_factory.mktemp("browser"), name="browser test") as served:
        yield served


@pytest.fixture(scope="module")
def api(server: tuple[LiveServer, str]) -> Iterator[httpx.Client]:
    live, key = server
    with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    with launch_chromium() as b:
        yield b


class Session:
    """One browser tab on the dashboard, watching for errors and foreign requests."""

    def __init__(self, browser: Any, live: LiveServer, key: str | None) -> None:
        self.live = live
        self.context = browser.new_context(viewport=VIEWPORT, locale="ru-RU")
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.watch = PageWatcher().attach(self.page)
        self.foreign: list[str] = []
        self.page.on("request", self._request)
        self.key = key

    def _request(self, request: Any) -> None:
        if not request.url.startswith(self.live.url):
            self.foreign.append(request.url)

    def open(self, route: str, *, with_key: bool = False) -> Any:
        query = f"?key={self.key}" if with_key and self.key else ""
        self.page.goto(f"{self.live.url}/{query}#/{route}")
        self.ready()
        return self.page

    def go(self, route: str) -> Any:
        self.page.evaluate("r => { window.location.hash = '#/' + r; }", route)
        self.ready(route.split("/")[0])
        return self.page

    def ready(self, name: str | None = None) -> None:
        """Wait until the view has rendered the current address.

        The shell sets aria-busy=false, data-page and data-hash (the address it
        rendered) when a page is done; waiting for data-hash to equal the current
        hash keeps a click from page A to page B from seeing A's finished state.
        A part of the page that is still fetching (the overview's what-if asks the
        API after the page is shown) marks itself aria-busy=true, and is waited for
        too: a reload or a navigation would otherwise abort its request.
        """
        self.page.wait_for_function(
            "name => { const v = document.querySelector('#view');"
            " return !!v && v.getAttribute('aria-busy') === 'false'"
            " && !v.querySelector('[aria-busy=true]')"
            " && v.dataset.hash === window.location.hash"
            " && (!name || v.dataset.page === name); }", arg=name)

    def set_lang(self, lang: str) -> None:
        self.page.click(f"#lang-{lang}")
        self.page.wait_for_function(
            "l => document.documentElement.lang === l && "
            "document.querySelector('#view').getAttribute('aria-busy') === 'false'", arg=lang)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        problems = self.watch.take()
        assert not problems, "\n".join(problems)
        assert not self.foreign, f"requests to other hosts: {self.foreign}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def session(browser: Any, server: tuple[LiveServer, str]) -> Iterator[Session]:
    live, key = server
    s = Session(browser, live, key)
    s.open("overview", with_key=True)
    yield s
    s.close()


def _column(page: Any, table: str, key: str) -> list[str]:
    return page.eval_on_selector_all(
        f"[data-testid={table}] tbody tr td:nth-child("
        f"{_column_index(page, table, key)})",
        "cells => cells.map(c => c.dataset.value ?? '')")


def _column_index(page: Any, table: str, key: str) -> int:
    keys = page.eval_on_selector_all(f"[data-testid={table}] thead th",
                                     "ths => ths.map(th => th.dataset.key)")
    return keys.index(key) + 1


def _rows(api: httpx.Client, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every record of a list endpoint (the sample fits in one page of 1000)."""
    body = api.get(path, params={"limit": 1000, **(params or {})}).json()
    assert body["total"] == len(body["data"]), f"{path}: more than one page"
    return list(body["data"])


def _cluster_id(api: httpx.Client) -> str:
    clusters = _rows(api, "/clusters")
    assert clusters, "the sample has no cluster"
    return str(sorted(c["id"] for c in clusters)[0])


# --- every page -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("route", PAGES)
def test_page_loads_cleanly_and_is_saved(session: Session, route: str, lang: str) -> None:
    if lang == "en":
        session.set_lang("en")
    page = session.go(route)
    heading = page.inner_text("#view h1")
    assert heading.strip()
    assert page.inner_text(f"#nav a[data-route={route}]") == page.evaluate(
        "() => document.querySelector('#nav a.active').textContent")
    # the page fits the laptop-wide window: nothing makes the document scroll sideways
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    session.shot(f"{route}-{lang}")
    session.assert_clean()


def test_the_address_key_is_kept_and_removed_from_the_address_bar(session: Session) -> None:
    assert "key=" not in session.page.url
    assert session.page.evaluate("() => localStorage.getItem('coopgraph.key')") == session.key
    session.page.reload()
    session.ready("overview")
    session.assert_clean()


def test_without_a_key_the_page_asks_for_one(browser: Any, server: tuple[LiveServer, str]) -> None:
    live, key = server
    s = Session(browser, live, key)
    try:
        s.page.goto(f"{live.url}/#/overview")
        s.page.wait_for_selector(".error-box form.key-form")
        assert [p for p in s.watch.take() if "401" not in p] == []
        s.page.fill(".key-form input", key)
        s.page.click(".key-form button")
        s.page.wait_for_selector("[data-testid=kpi]")
        s.assert_clean()
    finally:
        s.close()


# --- overview ----------------------------------------------------------------------------


def test_overview_shows_each_kpi_against_its_threshold(session: Session, api: httpx.Client) -> None:
    cluster = _cluster_id(api)
    kpis = api.get("/kpis", params={"cluster": cluster}).json()
    session.page.select_option("#cluster-select", cluster)
    session.ready("overview")
    tiles = session.page.query_selector_all("[data-testid=kpi]")
    assert len(tiles) == len(kpis["kpis"]) >= 3
    shown = {t.get_attribute("data-kpi"): t.get_attribute("data-passed") for t in tiles}
    assert shown == {k["code"]: str(k["passed"]).lower() for k in kpis["kpis"]}
    for tile, kpi in zip(tiles, kpis["kpis"], strict=True):
        assert kpi["name_ru"] in tile.inner_text()
        colour = tile.evaluate("el => getComputedStyle(el).borderLeftColor")
        assert colour == ("rgb(43, 138, 62)" if kpi["passed"] else "rgb(201, 42, 42)")
    session.assert_clean()


# --- language ------------------------------------------------------------------------------


def test_language_switch_changes_the_text_and_is_remembered(
    session: Session, api: httpx.Client
) -> None:
    page = session.page
    cluster = _cluster_id(api)
    kpis = api.get("/kpis", params={"cluster": cluster}).json()["kpis"]
    assert page.evaluate("() => document.documentElement.lang") == "ru"
    assert page.inner_text("#nav a[data-route=overview]") == "Обзор кластера"
    assert kpis[0]["name_ru"] in page.inner_text("#view")

    session.set_lang("en")
    assert page.inner_text("#nav a[data-route=overview]") == "Cluster overview"
    body = page.inner_text("#view")
    assert kpis[0]["name_en"] in body and kpis[0]["name_ru"] not in body
    assert page.get_attribute("#lang-en", "aria-pressed") == "true"

    page.reload()
    session.ready("overview")
    assert page.inner_text("#nav a[data-route=gaps]") == "Gaps"

    session.set_lang("ru")
    assert page.inner_text("#nav a[data-route=gaps]") == "Разрывы"
    assert page.evaluate("() => localStorage.getItem('coopgraph.lang')") == "ru"
    session.assert_clean()


# --- network ---------------------------------------------------------------------------------


def test_network_draws_companies_and_links_hover_and_click(
    session: Session, api: httpx.Client
) -> None:
    page = session.go("network")
    companies = _rows(api, "/companies")
    supplies = _rows(api, "/supplies")
    pairs = {(s["supplier_id"], s["buyer_id"]) for s in supplies}
    with_coords = [c for c in companies if c.get("lat") is not None]
    svg = "svg[data-testid=network-svg]"
    # on the map every company with coordinates is a dot, or counted in an outside-region bubble
    dots = page.locator(f"{svg} circle.node").count()
    in_bubbles = sum(int(n) for n in page.eval_on_selector_all(
        f"{svg} circle.group", "els => els.map(e => e.dataset.count)"))
    assert dots > 0 and dots + in_bubbles == len(with_coords)
    assert page.locator(f"{svg} path.region").count() == 1
    assert 0 < page.locator(f"{svg} path.link").count() <= len(pairs)

    degree = {c["id"]: sum(c["id"] in p for p in pairs) for c in with_coords}
    drawn = set(page.eval_on_selector_all(f"{svg} circle.node",
                                          "els => els.map(e => e.dataset.id)"))
    target = next(c for c in sorted(with_coords, key=lambda c: -degree[c["id"]])
                  if c["id"] in drawn)
    page.locator(f"circle.node[data-id='{target['id']}']").hover()
    tooltip = page.locator(".tooltip")
    assert tooltip.is_visible() and target["name"] in tooltip.inner_text()
    lit = page.eval_on_selector_all(
        f"{svg} path.link.hi", "els => els.map(e => [e.dataset.source, e.dataset.target])")
    assert lit and all(target["id"] in ends for ends in lit)
    assert page.locator(f"{svg} path.link.dim").count() == (
        page.locator(f"{svg} path.link").count() - len(lit))
    session.shot("network-hover-ru")

    page.click("button[data-mode=graph]")
    assert page.locator(f"{svg} circle.node").count() == len(companies)
    assert page.locator(f"{svg} path.link").count() == len(pairs)
    session.shot("network-graph-ru")

    page.locator(f"circle.node[data-id='{target['id']}']").click()
    session.ready("company")
    assert target["name"] in page.inner_text("#view h1")
    session.assert_clean()


# --- gaps ------------------------------------------------------------------------------------


def test_gaps_tables_match_the_report_and_sort_by_header(
    session: Session, api: httpx.Client
) -> None:
    cluster = _cluster_id(api)
    report = api.get("/gaps", params={"cluster": cluster}).json()
    page = session.go("gaps")
    tabs = page.eval_on_selector_all(".tabs button", "bs => bs.map(b => b.dataset.tab)")
    assert len(tabs) == 7 and "capabilities_to_attract" in tabs
    sizes = {
        "no_regional_supplier": len(report["import_dependency"]),
        "single_source": len(report["single_source"]),
        "demand_above_capacity": len(report["over_capacity"]),
        "idle_capacity": len(report["idle_capacity"]),
        "untied_members": len(report["untied"]),
        "critical_companies": len(report["critical"]),
        "capabilities_to_attract": len(report["attract"]),
    }
    for tab, size in sizes.items():
        page.click(f".tabs button[data-tab={tab}]")
        rows = page.locator(f"[data-testid=gaps-{tab}] tbody tr")
        # long tables show their first 25 rows and a button for the rest
        assert rows.count() == max(min(size, 25), 1)  # an empty table shows a "no rows" line
        more = page.locator("[data-testid=show-all]")
        assert more.is_visible() == (size > 25)
        if size > 25:
            more.click()
            assert rows.count() == size

    # sort the biggest table by a numeric column, both ways, and by a text column
    tab, size = max(sizes.items(), key=lambda kv: kv[1])
    assert size >= 2, "the sample should give some table at least two rows"
    page.click(f".tabs button[data-tab={tab}]")
    table = f"gaps-{tab}"
    numeric = page.eval_on_selector_all(
        f"[data-testid={table}] thead th.num", "ths => ths.map(th => th.dataset.key)")[0]
    header = f"[data-testid={table}] thead th[data-key={numeric}] button"
    for expected in ("descending", "ascending"):
        page.click(header)
        assert page.get_attribute(f"[data-testid={table}] thead th[data-key={numeric}]",
                                  "aria-sort") == expected
        values = [float(v) for v in _column(page, table, numeric) if v != ""]
        assert values == sorted(values, reverse=expected == "descending")
    session.shot(f"gaps-sorted-{tab}-ru")

    text_key = page.eval_on_selector_all(
        f"[data-testid={table}] thead th:not(.num)", "ths => ths.map(th => th.dataset.key)")[0]
    page.click(f"[data-testid={table}] thead th[data-key={text_key}] button")
    names = [v for v in _column(page, table, text_key) if v]
    collated = page.evaluate(
        "xs => [...xs].sort((a, b) => a.localeCompare(b, undefined, "
        "{numeric: true, sensitivity: 'base'}))", names)
    assert names == collated
    session.assert_clean()


# --- company page ------------------------------------------------------------------------------


def _company_with_buyers(api: httpx.Client) -> tuple[str, dict[str, Any]]:
    capabilities = _rows(api, "/capabilities")
    for company in sorted({c["company_id"] for c in capabilities}):
        result = api.get("/match/buyers", params={"supplier": company, "k": 8}).json()
        if result["candidates"]:
            return company, result
    pytest.fail("no supplier in the sample has a recommended buyer")


def test_company_page_shows_recommendations_with_reasons_in_both_languages(
    session: Session, api: httpx.Client
) -> None:
    company, result = _company_with_buyers(api)
    page = session.go(f"company/{company}")
    recs = page.locator("[data-testid=rec-buyers] [data-testid=recommendation]")
    assert recs.count() == len(result["candidates"])
    # evidenced candidates come first; network-only ones are folded below them
    first = next(c for c in result["candidates"] if c.get("source", "demand") == "demand")
    card = recs.nth(0)
    assert first["company_name"] in card.inner_text()
    reasons_ru = card.locator(".reasons li > span:last-child").all_inner_texts()
    assert reasons_ru and all(r.strip() for r in reasons_ru)
    texts_ru = {f["text_ru"] for f in first["factors"]}
    assert all(r.strip() in texts_ru for r in reasons_ru)
    # the company's capabilities and current partners are listed too
    capabilities = _rows(api, "/capabilities", params={"company_id": company})
    assert page.locator("[data-testid=capabilities-table] tbody tr").count() == len(capabilities)
    session.shot("company-ru")

    session.set_lang("en")
    card = page.locator("[data-testid=rec-buyers] [data-testid=recommendation]").nth(0)
    reasons_en = card.locator(".reasons li > span:last-child").all_inner_texts()
    texts_en = {f["text_en"] for f in first["factors"]}
    assert reasons_en and all(r.strip() in texts_en for r in reasons_en)
    assert not any(re.search("[а-яё]", r, re.I) for r in reasons_en)
    session.shot("company-en")

    # a recommended buyer's name leads to its own page
    card.locator(".rec-name a").click()
    session.ready("company")
    assert first["company_name"] in page.inner_text("#view h1")
    session.assert_clean()


def test_companies_list_filters_and_opens_a_company(session: Session, api: httpx.Client) -> None:
    companies = _rows(api, "/companies")
    page = session.go("companies")
    rows = page.locator("[data-testid=companies-table] tbody tr")
    # a page of 50, not all 180 rows on one 8,000 px page
    assert rows.count() == min(50, len(companies))
    assert int(re.sub(r"\D", "", page.inner_text("[data-testid=search-total]"))) == len(companies)
    target = sorted(companies, key=lambda c: c["id"])[0]
    word = max(re.findall(r"\w{4,}", target["name"]), key=len)
    page.fill("[data-testid=search-text]", word)
    page.click("[data-testid=search-button]")
    session.ready("companies")
    want = api.get("/companies/search", params={"q": word, "limit": 500}).json()
    assert 1 <= rows.count() == min(50, want["total"])
    page.locator("[data-testid=companies-table] tbody tr a", has_text=target["name"]).first.click()
    session.ready("company")
    assert target["name"] in page.inner_text("#view h1")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_company_search_by_capability_facets_and_shared_address(
        session: Session, api: httpx.Client, lang: str) -> None:
    if lang == "en":
        session.set_lang("en")
    page = session.go("companies")
    page.fill("[data-testid=search-text]", "отливки")
    page.select_option("[data-testid=search-region]", "Липецкая область")
    page.click("[data-testid=search-button]")
    session.ready("companies")
    assert "q=" in page.url and "region=" in page.url  # shareable
    want = api.get("/companies/search", params={"q": "отливки", "region": "Липецкая область",
                                                "limit": 500}).json()
    assert want["total"] > 0
    shown = page.eval_on_selector_all("[data-testid=companies-table] tbody tr",
                                      "rs => rs.map(r => r.dataset.id)")
    assert shown == [c["id"] for c in want["data"]][:50]
    # the same address in a new tab gives the same list
    url = page.url
    other = session.context.new_page()
    other.goto(url)
    other.wait_for_function(
        "() => document.querySelector('#view')?.dataset.page === 'companies'"
        " && document.querySelector('#view').getAttribute('aria-busy') === 'false'")
    assert other.eval_on_selector_all("[data-testid=companies-table] tbody tr",
                                      "rs => rs.map(r => r.dataset.id)") == shown
    other.close()
    # sorted by name without the legal form; paging walks the whole list
    page = session.go("companies")
    first = page.eval_on_selector_all("[data-testid=companies-table] tbody tr",
                                      "rs => rs.map(r => r.dataset.id)")
    everything = api.get("/companies/search", params={"limit": 500}).json()["data"]
    assert first == [c["id"] for c in everything[:50]]
    page.click("[data-testid=page-next]")
    session.ready("companies")
    second = page.eval_on_selector_all("[data-testid=companies-table] tbody tr",
                                       "rs => rs.map(r => r.dataset.id)")
    assert second == [c["id"] for c in everything[50:100]]
    session.shot(f"companies-search-{lang}")
    session.assert_clean()


# --- planner -------------------------------------------------------------------------------------


def test_planner_returns_the_plan_for_a_product(session: Session, api: httpx.Client) -> None:
    products = _rows(api, "/products")
    assert products
    page = session.go("planner")
    assert page.locator("[data-testid=plan]").count() == 0
    product = sorted(products, key=lambda p: p["id"])[0]
    volume = 120
    page.select_option("[data-testid=product-select]", product["id"])
    page.fill("[data-testid=volume-input]", str(volume))
    page.click("[data-testid=plan-button]")
    page.wait_for_selector("[data-testid=plan]")
    session.ready("planner")

    plan = api.post("/plans", json={"product": product["id"], "volume": volume}).json()
    rows = page.locator("[data-testid=plan-table] tbody tr")
    expected_rows = sum(max(1, len(c["allocations"])) for c in plan["categories"])
    assert rows.count() == expected_rows > 0
    shown = set(_column(page, "plan-table", "category"))
    assert len(shown) == len(plan["categories"])
    assert page.locator("[data-testid=uncovered] li").count() == len(plan["uncovered"])
    body = page.inner_text("#view")
    assert plan["text_ru"] in body
    tile = page.inner_text("[data-testid=localization] .stat-value")
    shown_share = float(re.sub(r"[^\d,]", "", tile).replace(",", "."))
    assert abs(shown_share - 100 * plan["localization_share_value"]) <= 0.051
    assert f"/planner/{product['id']}/{volume}" in page.url
    session.shot("planner-plan-ru")

    session.set_lang("en")
    assert plan["text_en"] in page.inner_text("#view")
    session.shot("planner-plan-en")
    session.assert_clean()


# --- language, keys, figures (issue #12) -------------------------------------------------


def _ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    """The Russian word for n by the grammar-book rule (independent of Intl)."""
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_overview_counts_agree_with_their_number(session: Session, lang: str) -> None:
    if lang == "en":
        session.set_lang("en")
    page = session.go("overview")
    stats = page.eval_on_selector_all(
        ".stat", "ss => ss.map(s => [s.querySelector('.stat-value')?.textContent ?? '',"
        " s.querySelector('.stat-label')?.textContent ?? ''])")
    words = {
        "ru": {"участ": ("участник", "участника", "участников"),
               "кооперац": ("кооперационная связь", "кооперационные связи",
                            "кооперационных связей")},
        "en": {"member": ("member", "members"), "cooperation": ("cooperation link",
                                                                "cooperation links")},
    }[lang]
    checked = 0
    for value, label in stats:
        digits = re.sub(r"\D", "", value)
        if not digits:
            continue
        n = int(digits)
        for stem, forms in words.items():
            if label.startswith(stem):
                want = (_ru_plural(n, forms) if lang == "ru"  # type: ignore[arg-type]
                        else forms[0] if n == 1 else forms[1])
                assert label == want, (n, label, want)
                checked += 1
    assert checked == 2, stats
    assert "(ов)" not in page.inner_text("#view")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_rejected_key_is_said_so(browser: Any, server: tuple[LiveServer, str],
                                   lang: str) -> None:
    live, _ = server
    s = Session(browser, live, "cg_wrong_key_for_the_test")
    try:
        # The language is set before the page's first script runs: setting it on a
        # loaded page and reloading would abort whatever the page still had in flight.
        s.page.add_init_script(f"localStorage.setItem('coopgraph.lang', '{lang}')")
        s.page.goto(f"{live.url}/?key=cg_wrong_key_for_the_test#/overview")
        s.page.wait_for_selector("[data-testid=key-rejected]")
        text = s.page.inner_text(".error-box")
        assert ("Ключ отклонён" in text) if lang == "ru" else ("Key rejected" in text)
        assert s.page.locator(".error-box form.key-form input").count() == 1
        s.shot(f"key-rejected-{lang}")
        assert [p for p in s.watch.take() if "401" not in p] == []
    finally:
        s.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_planner_refuses_an_absurd_volume_with_a_message(session: Session, api: httpx.Client,
                                                         lang: str) -> None:
    products = _rows(api, "/products")
    product = next(p for p in sorted(products, key=lambda p: p["id"]) if p.get("annual_volume"))
    answer = api.post("/plans", json={"product": product["id"], "volume": 100_000_000})
    assert answer.status_code == 400, answer.text
    if lang == "en":
        session.set_lang("en")
    page = session.go(f"planner/{product['id']}/100000000")
    message = page.inner_text("[data-testid=planner-error]")
    limit = 100 * product["annual_volume"]
    found = re.search(r"(?:больше|is above) ([\d\s\u00a0,]+)", message)
    assert found, message
    assert int(re.sub(r"\D", "", found.group(1))) == max(limit, 100_000), message
    assert ("больше" in message) if lang == "ru" else ("is above" in message)
    assert page.locator("[data-testid=plan]").count() == 0
    # an empty volume says what it will plan
    page.select_option("[data-testid=product-select]", product["id"])
    placeholder = page.get_attribute("[data-testid=volume-input]", "placeholder") or ""
    assert re.sub(r"\D", "", placeholder) == str(int(product["annual_volume"])), placeholder
    session.shot(f"planner-bounds-{lang}")
    assert [p for p in session.watch.take() if "400" not in p] == []


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_gaps_import_column_shows_units(session: Session, api: httpx.Client, lang: str) -> None:
    cluster = _cluster_id(api)
    report = api.get("/gaps", params={"cluster": cluster}).json()
    if lang == "en":
        session.set_lang("en")
    page = session.go("gaps")
    page.click(".tabs button[data-tab=no_regional_supplier]")
    more = page.locator("[data-testid=show-all]")
    if more.is_visible():
        more.click()
    shown = [float(v) for v in _column(page, "gaps-no_regional_supplier", "import_qty")
             if v != ""]
    want = sorted(g["import_qty"] for g in report["import_dependency"])
    assert sorted(shown) == want
    assert any(v > len(g["importers"]) for v, g in
               zip(want, sorted(report["import_dependency"], key=lambda g: g["import_qty"]),
                   strict=True))
    session.assert_clean()


def test_a_company_has_the_same_link_count_on_every_page(session: Session,
                                                         api: httpx.Client) -> None:
    cluster = _cluster_id(api)
    report = api.get("/gaps", params={"cluster": cluster}).json()
    partners: dict[str, set[str]] = {}
    for s in _rows(api, "/supplies"):
        if s["supplier_id"] != s["buyer_id"]:
            partners.setdefault(s["supplier_id"], set()).add(s["buyer_id"])
            partners.setdefault(s["buyer_id"], set()).add(s["supplier_id"])
    critical = {c["company_id"]: c["degree"] for c in report["critical"]}
    assert critical
    for company, degree in critical.items():
        assert degree == len(partners[company]), company  # distinct partners, anywhere
    page = session.go("network")
    hubs = page.eval_on_selector_all(
        "[data-testid=network-hubs] tbody tr",
        "rs => rs.map(r => [r.dataset.id, r.querySelector('td.num').textContent])")
    assert hubs
    for company, shown in hubs:
        assert int(re.sub(r"\D", "", shown)) == len(partners[company]), company
    both = [c for c, _ in hubs if c in critical]
    assert both, "some hub of the network page is a critical company of the gaps page"
    session.assert_clean()


# --- company journeys (issue #12) ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_supplier_reads_scores_on_a_0_100_scale_with_numbered_reasons(
        session: Session, api: httpx.Client, lang: str) -> None:
    company, _ = _company_with_buyers(api)
    result = api.get("/match/buyers", params={"supplier": company, "k": 8}).json()
    if lang == "en":
        session.set_lang("en")
    page = session.go(f"company/{company}")
    card = "[data-testid=rec-buyers]"
    assert page.locator(f"{card} [data-testid=score-legend]").is_visible()
    scores = page.eval_on_selector_all(
        f"{card} [data-testid=recommendation]",
        "rs => rs.map(r => [r.querySelector('.rec-name').textContent,"
        " r.querySelector('[data-testid=rec-score]').textContent])")
    # Math.round: halves go up (Python's round would go to even)
    want = {c["company_name"]: int(c["relative_score"] + 0.5) for c in result["candidates"]}
    assert len(scores) == len(want)
    for name, text in scores:
        value = int(re.sub(r"\D", "", text.split("/")[0]))
        assert 0 <= value <= 100 and value == want[name], (name, text)
    # each bar has its number, the factor's value on 0–100
    first = next(c for c in result["candidates"] if c.get("source", "demand") == "demand")
    top = sorted((f for f in first["factors"] if f["weight"] != 0),
                 key=lambda f: -abs(f["contribution"]))[:3]
    shown = page.eval_on_selector(
        f"{card} [data-testid=recommendation]",
        "r => [...r.querySelectorAll('[data-testid=factor-points]')].map(x => x.textContent)")
    assert [int(x) for x in shown] == [int(100 * max(0.0, min(1.0, f["value"])) + 0.5)
                                       for f in top]
    reasons = page.inner_text(card)
    assert not re.search(r"\d\.\d\d\b", reasons), "a raw decimal in the reasons"
    assert not re.search(r"\b[a-z]+\.[a-z_]+\b", reasons), "an internal code in the reasons"
    # network-only candidates are set apart, folded
    network_only = [c for c in result["candidates"] if c.get("source", "demand") != "demand"]
    assert page.locator(f"{card} [data-testid=network-only] [data-testid=recommendation]"
                        ).count() == len(network_only)
    session.shot(f"company-scores-{lang}")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_oem_finds_a_local_replacement_for_an_import(session: Session, api: httpx.Client,
                                                     lang: str) -> None:
    imports = _rows(api, "/imports")
    oem = max(sorted({m["company_id"] for m in imports}),
              key=lambda c: sum(m["company_id"] == c for m in imports))
    company = api.get(f"/companies/{oem}").json()
    processes = {p["process"] for p in _rows(api, "/company-processes", {"company_id": oem})}
    if lang == "en":
        session.set_lang("en")
    page = session.go(f"company/{oem}")
    assert page.locator("[data-testid=company-processes] .chip").count() == len(processes)
    assert page.locator("[data-testid=company-certs]").is_visible()
    own = [m for m in imports if m["company_id"] == oem]
    links = page.locator("[data-testid=company-imports] [data-testid=find-replacement]")
    assert links.count() == len(own)
    links.first.click()
    session.ready("company")
    page.wait_for_selector("[data-testid=find-view]")
    assert "region=" in page.url  # the filters live in the address: the search can be shared
    region = page.input_value("[data-testid=find-region]")
    assert region == company["region"]
    names = page.eval_on_selector_all("[data-testid=find-results] .rec-name",
                                      "xs => xs.map(x => x.textContent)")
    companies = {c["name"]: c for c in _rows(api, "/companies")}
    assert all(companies[n]["region"] == region for n in names), names
    # a distance filter narrows the list, and the address keeps it
    page.fill("[data-testid=find-km]", "60")
    page.click("[data-testid=find-button]")
    session.ready("company")
    page.wait_for_selector("[data-testid=find-view]")
    assert "max_distance_km%3D60" in page.url or "max_distance_km=60" in page.url
    kms = page.eval_on_selector_all("[data-testid=find-results] .rec-head .muted.small",
                                    "xs => xs.map(x => x.textContent)")
    for text in kms:
        digits = re.sub(r"\D", "", text)
        assert not digits or int(digits) <= 60, text
    session.shot(f"company-find-replacement-{lang}")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_phone_width_keeps_navigation_and_language_switch(browser: Any,
                                                           server: tuple[LiveServer, str],
                                                           lang: str) -> None:
    live, key = server
    s = Session(browser, live, key)
    s.context.close()
    s.context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU",
                                    is_mobile=True, has_touch=True)
    s.page = s.context.new_page()
    s.page.set_default_timeout(30_000)
    s.watch = PageWatcher().attach(s.page)
    try:
        s.open("overview", with_key=True)
        if lang == "en":
            s.set_lang("en")
        for route in ("overview", "gaps", "companies"):
            page = s.go(route)
            for link in page.locator("#nav a:not([hidden])").all():
                box = link.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391, route
                assert link.is_visible()
            for button in ("#lang-ru", "#lang-en"):
                box = page.locator(button).bounding_box()
                assert box and box["x"] + box["width"] <= 391
            assert page.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth + 1"), route
            s.shot(f"phone-{route}-{lang}")
        s.assert_clean()
    finally:
        s.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_gaps_csv_download_and_idle_capacity_finds_buyers(session: Session, api: httpx.Client,
                                                          lang: str) -> None:
    cluster = _cluster_id(api)
    report = api.get("/gaps", params={"cluster": cluster}).json()
    if lang == "en":
        session.set_lang("en")
    page = session.go("gaps")
    with page.expect_download() as info:
        page.click("[data-testid=gaps-csv]")
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    sep = ";" if lang == "ru" else ","
    assert lines[0].split(sep)[0] == ("вид" if lang == "ru" else "kind")
    findings = sum(len(report[k]) for k in ("import_dependency", "single_source",
                                            "over_capacity", "idle_capacity", "untied",
                                            "critical", "attract"))
    rows = list(csv.reader(lines, delimiter=sep))
    assert len(rows) - 1 == findings
    # idle capacity: the action opens the buyers' search for that company and category
    page.click(".tabs button[data-tab=idle_capacity]")
    link = page.locator("[data-testid=idle-find-buyers]").first
    href = link.get_attribute("href") or ""
    link.click()
    session.ready("company")
    page.wait_for_selector("[data-testid=find-view]")
    company_id = href.split("/")[2]
    assert page.locator("[data-testid=find-results]").count() == 1
    assert company_id in page.url and "/buyers/" in page.url
    session.shot(f"gaps-idle-find-buyers-{lang}")
    session.assert_clean()


# --- upload (issue #12) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[
        tuple[LiveServer, str, str]]:
    """An empty store behind the real app, with an admin and an analyst key."""
    tmp = tmp_path_factory.mktemp("upload")
    store = EmbeddedStore(None)
    settings = ApiSettings(auth=True, host="127.0.0.1", keys_file=tmp / "keys.json",
                           jobs_dir=tmp / "jobs")
    keys = KeyStore(store)
    _, admin = keys.create(KeyRole.ADMIN, name="upload test")
    _, analyst = keys.create(KeyRole.ANALYST, name="upload test")
    with LiveServer(create_app(settings=settings, store=store)) as live:
        yield live, admin, analyst
    store.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_upload_page_loads_files_and_lists_every_reject(
        browser: Any, upload_server: tuple[LiveServer, str, str], lang: str) -> None:
    live, admin, analyst = upload_server
    messy = sorted((Path(__file__).parent / "data" / "messy").iterdir())
    s = Session(browser, live, analyst)
    try:
        s.open("upload", with_key=True)
        s.page.evaluate("l => localStorage.setItem('coopgraph.lang', l)", lang)
        s.page.reload()
        s.ready("upload")
        s.page.set_input_files("[data-testid=upload-input]", [str(p) for p in messy])
        s.page.click("[data-testid=upload-button]")
        message = s.page.inner_text("[data-testid=upload-error]")
        assert ("администратора" in message) if lang == "ru" else ("admin key" in message)
        s.watch.take()  # the 403 is the point here

        s.page.evaluate("k => localStorage.setItem('coopgraph.key', k)", admin)
        s.page.reload()
        s.ready("upload")
        s.page.set_input_files("[data-testid=upload-input]", [str(p) for p in messy])
        s.page.click("[data-testid=upload-button]")
        s.page.wait_for_selector("[data-testid=upload-report][data-status=done]",
                                 timeout=120_000)
        job_id = s.page.get_attribute("[data-testid=upload-report]", "data-job")
        with httpx.Client(base_url=live.url, headers={"X-API-Key": admin}) as client:
            job = client.get(f"/ingest/{job_id}").json()
        report = job["report"]
        files = s.page.locator("[data-testid=upload-files] tbody tr")
        assert files.count() == len(report["files"]) == len(messy)
        shown_rejected = sum(int(v) for v in s.page.eval_on_selector_all(
            "[data-testid=upload-files] tbody td[data-value]",
            "xs => xs.map(x => x.dataset.value)"))
        assert shown_rejected == job["rejected"] == sum(f["rejected"] for f in report["files"])
        assert shown_rejected > 0  # the messy files have rejects
        summary = s.page.inner_text("[data-testid=upload-summary]")
        assert re.sub(r"\D", "", summary).endswith(str(shown_rejected))
        rows = s.page.locator("[data-testid=upload-rejects] tbody tr").count()
        assert rows == min(200, len(report["rejects"]))
        assert s.page.locator("[data-testid=upload-rejects-csv]").is_visible()
        s.shot(f"upload-report-{lang}")
        s.assert_clean()
    finally:
        s.close()


# --- network for humans (issue #12) ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_network_zoom_search_ego_and_filters(session: Session, api: httpx.Client,
                                             lang: str) -> None:
    supplies = _rows(api, "/supplies")
    companies = {c["id"]: c for c in _rows(api, "/companies")}
    partners: dict[str, set[str]] = {}
    for s in supplies:
        if s["supplier_id"] != s["buyer_id"]:
            partners.setdefault(s["supplier_id"], set()).add(s["buyer_id"])
            partners.setdefault(s["buyer_id"], set()).add(s["supplier_id"])
    if lang == "en":
        session.set_lang("en")
    page = session.go("network")
    svg = "svg[data-testid=network-svg]"
    assert page.get_attribute(svg, "data-zoom") == "1.000"
    page.click("[data-testid=zoom-in]")
    assert float(page.get_attribute(svg, "data-zoom") or 0) == pytest.approx(1.5)
    box = page.locator(svg).bounding_box()
    assert box
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 105, box["y"] + 45)
    page.mouse.up()
    transform = page.get_attribute("[data-testid=network-viewport]", "transform") or ""
    assert "translate" in transform and "scale(1.500)" in transform
    page.click("[data-testid=zoom-reset]")
    assert page.get_attribute(svg, "data-zoom") == "1.000"

    # search a company by name: its ego view, with tiers 1 and 2 counted by hand
    ego = max(sorted(partners), key=lambda c: len(partners[c]))
    tier1 = partners[ego]
    tier2 = {p for t1 in tier1 for p in partners.get(t1, set())} - tier1 - {ego}
    page.fill("[data-testid=network-search]", companies[ego]["name"])
    page.click("[data-testid=network-apply]")
    session.ready("network")
    assert f"ego={ego}" in page.url
    assert page.locator(f"{svg} circle.node").count() == 1 + len(tier1) + len(tier2)
    assert page.locator(f"{svg} circle.node.ego").get_attribute("data-id") == ego
    counts = page.eval_on_selector_all(
        "[data-testid=network-tiers] [data-tier] .count", "xs => xs.map(x => x.textContent)")
    assert [int(re.sub(r"\D", "", c)) for c in counts] == [len(tier1), len(tier2)]
    assert companies[ego]["name"] in page.inner_text("#view h1")
    session.shot(f"network-ego-{lang}")

    # a role filter keeps companies of that role and their partners
    page = session.go("network/role=oem")
    oems = {c for c, row in companies.items() if "oem" in (row.get("roles") or [])}
    drawn = set(page.eval_on_selector_all(f"{svg} circle.node", "xs => xs.map(x => x.dataset.id)"))
    in_bubbles = sum(int(n) for n in page.eval_on_selector_all(
        f"{svg} circle.group", "els => els.map(e => e.dataset.count)"))
    expected = {c for c in oems | {p for o in oems for p in partners.get(o, set())}
                if companies[c].get("lat") is not None}
    assert drawn <= expected and len(drawn) + in_bubbles == len(expected)
    session.assert_clean()


def test_overview_what_if_lists_every_proposed_link(session: Session, api: httpx.Client) -> None:
    report = api.get("/kpis", params={"cluster": _cluster_id(api)}).json()
    page = session.go("overview")
    # one row per (supplier, buyer, category), every one of them in the table
    pairs = {(link["supplier_id"], link["buyer_id"], link["category"])
             for w in report["what_if"] for link in w["links"]}
    assert page.locator("[data-testid=what-if-row]").count() == len(pairs) > 8
    session.assert_clean()


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[
        tuple[LiveServer, str]]:
    """The sample with the registry fixtures filled in (OKVED codes), an analyst key."""
    from coopgraph.ingest.registry_fill import fill_from_registry

    registry = Path(__file__).parent / "data" / "registry"
    with serve_sample(tmp_path_factory.mktemp("registry"), name="registry test",
                      fill=lambda store: fill_from_registry(store, [
                          registry / "sme.xml", registry / "egrul.xml",
                          registry / "egrip.xml"])) as served:
        yield served


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_company_search_by_okved_and_okpd2_code(
        browser: Any, registry_server: tuple[LiveServer, str], lang: str) -> None:
    """A centre finds the region's foundries by OKVED class 24.51 and by OKPD2 24.51."""
    live, key = registry_server
    with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=60) as client:
        want = client.get("/companies/search", params={"okved": "24.51", "limit": 500}).json()
        found_by_code = client.get("/codes/24.51").json()
    assert want["total"] >= 2
    assert {c["id"] for c in want["data"]} == {c["id"] for c in found_by_code["companies"]}
    s = Session(browser, live, key)
    try:
        s.open("companies", with_key=True)
        if lang == "en":
            s.set_lang("en")
        label = s.page.inner_text("label:has([data-testid=search-okved])")
        assert ("ОКВЭД2" in label) if lang == "ru" else ("OKVED2" in label)
        s.page.fill("[data-testid=search-okved]", "24.51")
        s.page.click("[data-testid=search-button]")
        s.ready("companies")
        assert "okved=24.51" in s.page.url  # shareable
        shown = s.page.eval_on_selector_all("[data-testid=companies-table] tbody tr",
                                            "rs => rs.map(r => r.dataset.id)")
        assert shown == [c["id"] for c in want["data"]]
        s.shot(f"companies-okved-{lang}")
        # by the OKPD2 code of what they make (the API's category facet takes its prefix)
        with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=60) as client:
            makers = client.get("/companies/search",
                                params={"category": "24.51", "limit": 500}).json()
        assert makers["total"] >= 1
        s.go("companies")
        s.page.fill("[data-testid=search-okpd2]", "24.51")
        s.page.click("[data-testid=search-button]")
        s.ready("companies")
        assert "okpd2=24.51" in s.page.url
        shown = s.page.eval_on_selector_all("[data-testid=companies-table] tbody tr",
                                            "rs => rs.map(r => r.dataset.id)")
        assert shown == [c["id"] for c in makers["data"]][:50]
        s.assert_clean()
    finally:
        s.close()


# --- review queue for admins (issue #10) ----------------------------------------------------

_REVIEW_FILES = {
    # Гидропривод ~ Гидропривод-М: one word more → review; Кронос ~ ООО «Кронос»: merged
    "companies.csv": "id,name,municipality,employees\ng1,ООО «Гидропривод»,Грязи,\n"
                     "g2,Гидропривод-М,Грязи,\nk1,Кронос,Елец,\nk2,ООО «Кронос»,Елец,40\n",
}


@pytest.fixture()
def review_server(tmp_path: Path, chromium_path: str) -> Iterator[
        tuple[LiveServer, EmbeddedStore, Path, dict[str, str]]]:
    """A store after one load that left a pair for review and merged another."""
    from coopgraph.ingest.pipeline import ingest_paths

    files = tmp_path / "in"
    files.mkdir()
    for name, text in _REVIEW_FILES.items():
        (files / name).write_text(text, encoding="utf-8")
    store = EmbeddedStore(None)
    report = ingest_paths(store, [files])
    assert [(p.a_id, p.b_id) for p in report.review] == [("g1", "g2")]
    assert [m.merged_id for m in report.merges] == ["k2"]
    settings = ApiSettings(auth=True, host="127.0.0.1", keys_file=tmp_path / "keys.json",
                           jobs_dir=tmp_path / "jobs")
    keys = KeyStore(store)  # keys live in the store (issue 15)
    roles = {"admin": KeyRole.ADMIN, "analyst": KeyRole.ANALYST}
    made = {name: keys.create(role, name="review test")[1] for name, role in roles.items()}
    made["member"] = keys.create(KeyRole.MEMBER, name="review test", company_id="g1")[1]
    with LiveServer(create_app(settings=settings, store=store)) as live:
        yield live, store, files, made
    store.close()


def _review_cards(s: Session) -> list[dict[str, str]]:
    return s.page.eval_on_selector_all(
        "[data-testid=review-pair]",
        "xs => xs.map(x => ({id: x.dataset.pair, status: x.dataset.status,"
        " reason: x.querySelector('[data-testid=review-reason]').innerText}))")


def _click_and_wait(s: Session, pair: str, action: str, status: str) -> None:
    s.page.click(f"[data-pair='{pair}'] [data-testid=review-{action}]")
    s.page.wait_for_selector(f"[data-testid=review-message][data-done='{pair}:{status}']")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_review_page_decides_pairs_and_only_admins_see_it(
        browser: Any, review_server: tuple[LiveServer, EmbeddedStore, Path, dict[str, str]],
        lang: str) -> None:
    from coopgraph.graph.schema import EntityKind
    from coopgraph.ingest.pipeline import ingest_paths

    live, store, files, keys = review_server
    for who in ("member", "analyst"):  # no link, and the page itself is refused
        s = Session(browser, live, keys[who])
        try:
            s.page.add_init_script(f"localStorage.setItem('coopgraph.lang', '{lang}')")
            s.open("overview", with_key=True)
            assert s.page.locator("#nav a[data-route=review]").is_hidden()
            assert s.page.locator("#nav a[data-route=upload]").is_visible()
            s.go("review")
            assert s.page.locator("[data-testid=key-rejected]").is_visible()
            assert s.page.locator("[data-testid=review-pair]").count() == 0
            s.watch.take()  # the 403 is the point here
            s.assert_clean()
        finally:
            s.close()

    with httpx.Client(base_url=live.url, headers={"X-API-Key": keys["admin"]}) as api:
        waiting = api.get("/review").json()
        merged = api.get("/review", params={"status": "merged"}).json()
        s = Session(browser, live, keys["admin"])
        try:
            s.page.add_init_script(f"localStorage.setItem('coopgraph.lang', '{lang}')")
            s.open("overview", with_key=True)
            link = s.page.locator("#nav a[data-route=review]")
            assert link.is_visible()
            link.click()
            s.ready("review")
            cards = _review_cards(s)
            assert [c["id"] for c in cards] == [p["id"] for p in waiting["data"]]
            assert waiting["total"] == 1
            [pair] = waiting["data"]
            # the evidence as the API gives it, its fixed phrases in the interface language
            assert "'ООО «Гидропривод»' ~ 'Гидропривод-М'" in cards[0]["reason"]
            if lang == "en":
                assert pair["reason"] in cards[0]["reason"]
            else:
                assert "похожее название, Грязи" in cards[0]["reason"]
                assert "отличительное слово только в одном названии" in cards[0]["reason"]
            assert ("Доводы" if lang == "ru" else "Evidence") in cards[0]["reason"]
            s.shot(f"review-queue-{lang}")

            # accept: one company now; undo: two again; reject: kept apart
            _click_and_wait(s, pair["id"], "accept", "accepted")
            assert not store.exists(EntityKind.COMPANY, "g2")
            s.page.wait_for_selector("[data-testid=review-empty]")
            s.page.select_option("[data-testid=review-filter]", "accepted")
            s.ready("review")
            _click_and_wait(s, pair["id"], "undo", "review")
            assert store.exists(EntityKind.COMPANY, "g2")
            s.page.select_option("[data-testid=review-filter]", "review")
            s.ready("review")
            _click_and_wait(s, pair["id"], "reject", "rejected")
            assert api.get("/review?status=rejected").json()["data"][0]["id"] == pair["id"]

            # the accidental merge: split, and it stays split
            s.page.select_option("[data-testid=review-filter]", "merged")
            s.ready("review")
            [merge] = merged["data"]
            assert [c["id"] for c in _review_cards(s)] == [merge["id"]]
            _click_and_wait(s, merge["id"], "split", "split")
            assert store.get(EntityKind.COMPANY, "k2").employees == 40
            s.shot(f"review-split-{lang}")
            s.assert_clean()
        finally:
            s.close()

        # a later load of the same files honours both decisions
        report = ingest_paths(store, [files])
        assert report.merges == [] and report.review == []
        assert {c.id for c in store.iter_all(EntityKind.COMPANY)} == {"g1", "g2", "k1", "k2"}
        statuses = {p["id"]: p["status"]
                    for p in api.get("/review", params={"status": "all"}).json()["data"]}
        assert statuses == {pair["id"]: "rejected", merge["id"]: "split"}

    # a phone: the cards stack, nothing wider than the screen
    s = Session(browser, live, keys["admin"])
    s.context.close()
    s.context = browser.new_context(viewport={"width": 390, "height": 844},
                                    locale="ru-RU", is_mobile=True)
    s.page = s.context.new_page()
    s.page.set_default_timeout(30_000)
    s.watch = PageWatcher().attach(s.page)
    s.page.on("request", s._request)
    try:
        s.page.add_init_script(f"localStorage.setItem('coopgraph.lang', '{lang}')")
        s.open("review/all", with_key=True)
        assert s.page.locator("[data-testid=review-pair]").count() == 2
        width = s.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
        assert s.page.locator("[data-testid=review-undo]").first.is_visible()
        s.shot(f"review-phone-{lang}")
        s.assert_clean()
    finally:
        s.close()
