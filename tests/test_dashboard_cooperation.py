"""The cooperation pages in a real browser (Debian Chromium), in Russian and English, over
the sample data: the requests and the pipeline match the API, a project card shows its
unverified subsidy estimate and its effect on the KPIs, and nothing errs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser import (
    LiveServer,
    PageWatcher,
    launch_chromium,
    require_chromium,
    serve_sample,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

_READY = ("name => { const v = document.querySelector('#view');"
          " return !!v && v.getAttribute('aria-busy') === 'false'"
          " && v.dataset.hash === window.location.hash && v.dataset.page === name; }")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    require_chromium()
    with serve_sample(tmp_path_factory.mktemp("coop-browser"), name="coop browser test") as served:
        yield served


@pytest.fixture(scope="module")
def page(server: tuple[LiveServer, str]) -> Iterator[tuple[Any, PageWatcher, str]]:
    live, key = server
    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        watch = PageWatcher().attach(tab)
        tab.goto(f"{live.url}/?key={key}#/cooperation")
        tab.wait_for_function(_READY, arg="cooperation")
        yield tab, watch, live.url
        context.close()


def _api(server: tuple[LiveServer, str]) -> httpx.Client:
    live, key = server
    return httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=60)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_requests_pipeline_and_project_card(page: tuple[Any, PageWatcher, str],
                                            server: tuple[LiveServer, str], lang: str) -> None:
    tab, watch, _url = page
    with _api(server) as api:
        requests = api.get("/requests").json()
        pipeline = api.get("/requests/pipeline").json()
        card = api.get("/projects/jp-steering/card").json()
    tab.click(f"#lang-{lang}")
    tab.wait_for_function("l => document.documentElement.lang === l", arg=lang)
    tab.evaluate("() => { window.location.hash = '#/cooperation'; }")
    tab.wait_for_function(_READY, arg="cooperation")
    heading = tab.inner_text("#view h1")
    assert heading == {"ru": "Запросы о кооперации", "en": "Cooperation requests"}[lang]
    assert tab.inner_text("#nav a.active") == {"ru": "Кооперация", "en": "Cooperation"}[lang]
    rows = tab.query_selector_all("[data-testid=requests-table] tbody tr")
    assert len(rows) == len(requests) == 7
    shown = tab.inner_text("[data-testid=pipeline]")
    declined = {"ru": "отказ", "en": "declined"}[lang]
    assert f"{pipeline['by_state']['declined']}\n{declined}" in shown
    tab.click("[data-testid=projects] a")
    tab.wait_for_function(_READY, arg="project")
    assert card["project"]["name"] in tab.inner_text("#view h1")
    assert len(tab.query_selector_all("[data-testid=participants-table] tbody tr")) == len(
        card["participants"])
    verdict = tab.inner_text("[data-testid=verified]")
    assert verdict.startswith({"ru": "Правила не сверены", "en": "The rules are not checked"}[lang])
    warnings = card["estimate"]["warnings_ru" if lang == "ru" else "warnings_en"]
    assert warnings[0] in tab.inner_text("[data-testid=estimate]")
    # the project's effect on the cluster KPIs, the purchase share included
    effect = card["kpi_effect"]
    assert effect["after"]["intra_purchases"] != effect["before"]["intra_purchases"]
    shown_effect = tab.inner_text("[data-testid=kpi-effect]")
    assert {"ru": "Влияние на показатели кластера", "en": "Effect on the cluster KPIs"}[
        lang] in shown_effect
    text = effect["purchases_text_ru" if lang == "ru" else "purchases_text_en"]
    assert tab.inner_text("[data-testid=purchase-effect]") == text
    assert len(tab.query_selector_all("[data-testid=kpi-effect] tbody tr")) == 3
    problems = watch.take()
    assert not problems, "\n".join(problems)
