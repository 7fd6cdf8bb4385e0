"""Browser tests of issue #12's dashboard parts: the interactive what-if, the cluster plan
with its exports, the gaps' XLSX, and the network at region scale.

Every figure the page shows is compared with the API's own answer, in Russian and
English and at a phone's 390 px; screenshots go to ``test-artifacts/screenshots``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import test_dashboard_browser as _dash
from tests.browser import LiveServer, PageWatcher
from tests.test_dashboard_browser import Session, _cluster_id

# the browser tests' fixtures: Chromium, the sample behind the real app, a tab on it
chromium_path = _dash.chromium_path
server = _dash.server
api = _dash.api
browser = _dash.browser
session = _dash.session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def _phone(browser: Any, server: tuple[LiveServer, str]) -> Session:
    live, key = server
    s = Session(browser, live, key)
    s.context.close()
    s.context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU",
                                    is_mobile=True, has_touch=True)
    s.page = s.context.new_page()
    s.page.set_default_timeout(30_000)
    s.watch = PageWatcher().attach(s.page)
    s.page.on("request", s._request)
    return s


def _fits(page: Any) -> bool:
    return bool(page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


# --- the interactive what-if ----------------------------------------------------------------


def _proposals(report: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    seen: dict[tuple[str, str, str | None], None] = {}
    for w in report["what_if"]:
        for link in w["links"]:
            seen.setdefault((link["supplier_id"], link["buyer_id"], link["category"]), None)
    return list(seen)


def _shown_kpis(page: Any) -> dict[str, str]:
    page.wait_for_selector("[data-testid=what-if-kpis][aria-busy=false]")
    return dict(page.eval_on_selector_all(
        "[data-testid=what-if-kpi]", "xs => xs.map(x => [x.dataset.kpi, x.dataset.value])"))


def _api_after(api: httpx.Client, cluster: str, links: list[dict[str, Any]]) -> dict[str, str]:
    answer = api.post("/kpis/what-if", json={"cluster": cluster, "links": links})
    assert answer.status_code == 200, answer.text
    return {k["code"]: "" if k["value"] is None else k["value"] for k in answer.json()["after"]}


def _same(shown: dict[str, str], expected: dict[str, Any]) -> None:
    assert set(shown) == set(expected)
    for code, value in expected.items():
        if value == "":
            assert shown[code] == ""
        else:
            assert float(shown[code]) == pytest.approx(float(value)), code


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_what_if_picks_links_and_volumes_and_recomputes(session: Session, api: httpx.Client,
                                                        lang: str) -> None:
    cluster = _cluster_id(api)
    report = api.get("/kpis", params={"cluster": cluster}).json()
    proposals = _proposals(report)
    if lang == "en":
        session.set_lang("en")
    page = session.go("overview")
    rows = page.locator("[data-testid=what-if-row]")
    # every proposed link is a row (one per pair and category), none folded away
    assert rows.count() == len(proposals) > 8
    rows.last.scroll_into_view_if_needed()
    assert rows.last.is_visible()
    # all ticked at first: the figures are the API's for the full (feasible) set
    volumes = page.eval_on_selector_all(
        "[data-testid=what-if-row]",
        "rs => rs.map(r => { const v = r.querySelector('[data-testid=what-if-volume]');"
        " return v ? Number(v.value) : null; })")
    full = [{"supplier_id": s, "buyer_id": b, "category": c,
             **({"volume": v} if v is not None else {})}
            for (s, b, c), v in zip(proposals, volumes, strict=True)]
    _same(_shown_kpis(page), _api_after(api, cluster, full))
    session.shot(f"what-if-all-{lang}")

    # untick all: the figures are today's
    page.click("[data-testid=what-if-none]")
    before = {k["code"]: k["value"] for k in report["kpis"]}
    _same(_shown_kpis(page), before)

    # tick the first link with a volume, halve it: the API's answer for that one link
    idx = next(i for i, v in enumerate(volumes) if v)
    row = rows.nth(idx)
    row.locator("[data-testid=what-if-pick]").check()
    half = int(volumes[idx] // 2)
    row.locator("[data-testid=what-if-volume]").fill(str(half))
    row.locator("[data-testid=what-if-volume]").dispatch_event("change")
    s, b, c = proposals[idx]
    one = {"supplier_id": s, "buyer_id": b, "category": c, "volume": half}
    _same(_shown_kpis(page), _api_after(api, cluster, [one]))

    # a volume above the supplier's free capacity is brought back to it
    free = float(row.locator("[data-testid=what-if-free]").get_attribute("data-free") or "nan")
    if free == free:  # known capacity
        row.locator("[data-testid=what-if-volume]").fill(str(int(free) + 1000))
        row.locator("[data-testid=what-if-volume]").dispatch_event("change")
        _shown_kpis(page)
        assert float(row.locator("[data-testid=what-if-volume]").input_value()) <= free
    session.shot(f"what-if-one-{lang}")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_what_if_at_phone_width(browser: Any, server: tuple[LiveServer, str],
                                lang: str) -> None:
    s = _phone(browser, server)
    try:
        s.open("overview", with_key=True)
        if lang == "en":
            s.set_lang("en")
        page = s.go("overview")
        page.wait_for_selector("[data-testid=what-if-kpis][aria-busy=false]")
        assert _fits(page)
        box = page.locator("[data-testid=what-if-pick]").first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391
        page.locator("[data-testid=what-if-none]").click()
        page.wait_for_selector("[data-testid=what-if-kpis][aria-busy=false]")
        s.shot(f"phone-what-if-{lang}")
        s.assert_clean()
    finally:
        s.close()
