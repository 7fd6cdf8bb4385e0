"""Browser tests of issue #12's dashboard parts: the interactive what-if, the cluster plan
with its exports, the gaps' XLSX, and the network at region scale.

Every figure the page shows is compared with the API's own answer, in Russian and
English and at a phone's 390 px; screenshots go to ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests import test_dashboard_browser as _dash
from tests.browser import LiveServer, PageWatcher, serve_sample
from tests.test_dashboard_browser import Session, _cluster_id, _column

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


# --- the cluster plan and the exports -------------------------------------------------------


def _download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def _values(page: Any, table: str, key: str) -> list[float]:
    return [float(v) for v in _column(page, table, key) if v != ""]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_cluster_plan_from_the_planner_with_totals_and_exports(
        session: Session, api: httpx.Client, lang: str) -> None:
    cluster = _cluster_id(api)
    plan = api.post("/plans", json={"cluster": cluster}).json()
    allocations = [a for p in plan["plans"] for c in p["categories"] for a in c["allocations"]]
    if lang == "en":
        session.set_lang("en")
    page = session.go("planner")
    page.click("[data-testid=to-cluster-plan]")
    session.ready("cluster-plan")
    page.click("[data-testid=cplan-run]")
    session.ready("cluster-plan")
    page.wait_for_selector("[data-testid=cluster-plan]")
    # a row per product; their costs add up to the plan's total
    costs = _values(page, "cplan-products-table", "total_cost")
    assert len(costs) == len(plan["plans"]) > 1
    assert sum(costs) == pytest.approx(plan["total_cost"])
    assert costs == sorted(costs, reverse=True)
    # every allocation, most expensive first
    page.click("[data-testid=cplan-table] ~ [data-testid=show-all]")
    values = _values(page, "cplan-table", "value")
    assert len(_column(page, "cplan-table", "value")) == len(allocations)
    assert values == sorted(values, reverse=True)
    assert sum(values) == pytest.approx(plan["total_cost"], rel=1e-6)
    session.shot(f"cluster-plan-{lang}")

    raw = _download(page, "[data-testid=plan-csv]")
    assert raw.startswith(b"\xef\xbb\xbf")
    sep = ";" if lang == "ru" else ","
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=sep))
    assert lines[0][0] == ("изделие (id)" if lang == "ru" else "product_id")
    assert len(lines) - 1 == len(allocations)
    book = load_workbook(io.BytesIO(_download(page, "[data-testid=plan-xlsx]")))
    assert [ws.title for ws in book] == (["Итоги", "Поставки"] if lang == "ru"
                                         else ["Totals", "Allocations"])
    assert book.worksheets[1].max_row - 1 == len(allocations)
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_product_plan_sorts_by_cost_and_exports(session: Session, api: httpx.Client,
                                                lang: str) -> None:
    products = api.get("/products", params={"limit": 1000}).json()["data"]
    product = next(p for p in products if p.get("annual_volume"))
    plan = api.post("/plans", json={"product": product["id"]}).json()
    if lang == "en":
        session.set_lang("en")
    page = session.go(f"planner/{product['id']}")
    page.wait_for_selector("[data-testid=plan]")
    values = _values(page, "plan-table", "value")
    assert values == sorted(values, reverse=True) and len(values) > 1
    assert sum(values) == pytest.approx(plan["total_cost"], rel=1e-6)
    page.click("[data-testid=plan-table] th[data-key=value] button")
    assert _values(page, "plan-table", "value") == sorted(values)
    book = load_workbook(io.BytesIO(_download(page, "[data-testid=plan-xlsx]")))
    totals = list(book.worksheets[0].iter_rows(values_only=True))
    assert totals[1][0] == product["id"] and totals[1][4] == pytest.approx(plan["total_cost"])
    session.shot(f"planner-export-{lang}")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_gaps_xlsx_download(session: Session, api: httpx.Client, lang: str) -> None:
    report = api.get("/gaps", params={"cluster": _cluster_id(api)}).json()
    if lang == "en":
        session.set_lang("en")
    page = session.go("gaps")
    book = load_workbook(io.BytesIO(_download(page, "[data-testid=gaps-xlsx]")))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == ("вид" if lang == "ru" else "kind")
    assert len(rows) - 1 == sum(len(report[k]) for k in (
        "import_dependency", "single_source", "over_capacity", "idle_capacity", "untied",
        "critical", "attract"))
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_cluster_plan_at_phone_width(browser: Any, server: tuple[LiveServer, str],
                                     lang: str) -> None:
    s = _phone(browser, server)
    try:
        s.open("overview", with_key=True)
        if lang == "en":
            s.set_lang("en")
        page = s.go("cluster-plan/run")
        page.wait_for_selector("[data-testid=cluster-plan]")
        assert _fits(page)
        for button in ("[data-testid=plan-csv]", "[data-testid=plan-xlsx]"):
            box = page.locator(button).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391
        s.shot(f"phone-cluster-plan-{lang}")
        s.assert_clean()
    finally:
        s.close()


# --- gaps: one category over capacity and idle at a supplier --------------------------------


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_gaps_say_why_a_category_is_short_and_idle(session: Session, api: httpx.Client,
                                                   lang: str) -> None:
    report = api.get("/gaps", params={"cluster": _cluster_id(api)}).json()
    short = {o["category"] for o in report["over_capacity"]}
    flagged = [r for r in report["idle_capacity"] if r["category_over_capacity"]]
    assert flagged and all(r["category"] in short for r in flagged)
    assert all(r["category_over_capacity"] == (r["category"] in short)
               for r in report["idle_capacity"])
    if lang == "en":
        session.set_lang("en")
    page = session.go("gaps")
    page.click(".tabs button[data-tab=idle_capacity]")
    note = page.inner_text("[data-testid=short-and-idle]")
    assert ("договора с этим поставщиком" if lang == "ru" else "no contract with this supplier") \
        in note
    page.click("[data-testid=gaps-idle_capacity] ~ [data-testid=show-all]")
    assert page.locator("[data-testid=idle-short]").count() == len(flagged)
    page.click(".tabs button[data-tab=demand_above_capacity]")
    assert page.inner_text("[data-testid=short-and-idle]") == note
    session.shot(f"gaps-short-and-idle-{lang}")
    session.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_gaps_exports_and_explanation_at_phone_width(browser: Any,
                                                     server: tuple[LiveServer, str],
                                                     lang: str) -> None:
    s = _phone(browser, server)
    try:
        s.open("overview", with_key=True)
        if lang == "en":
            s.set_lang("en")
        page = s.go("gaps")
        page.click(".tabs button[data-tab=idle_capacity]")
        assert page.locator("[data-testid=short-and-idle]").is_visible()
        for button in ("[data-testid=gaps-csv]", "[data-testid=gaps-xlsx]"):
            box = page.locator(button).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391
        assert _fits(page)
        s.shot(f"phone-gaps-short-and-idle-{lang}")
        s.assert_clean()
    finally:
        s.close()


# --- the network at region scale ------------------------------------------------------------

REGION_SIZE = 2_000
TOWNS = [(52.61, 39.60), (52.62, 38.50), (52.49, 39.94), (53.26, 39.15), (53.02, 39.14),
         (52.04, 39.73), (52.39, 38.92), (53.24, 39.97)]


def _fill_region(store: Any) -> None:
    """The sample grown to a 2,000-company region: seeded, around the region's towns.

    Generated suppliers sell 1–3 categories each to generated or sample companies
    (preferring the well-linked: a few hubs, many with one or two links); 60 of them
    form a second cluster, ``region-test``.
    """
    import random

    from coopgraph.graph.models import Cluster, Company, Membership, Role, Supply
    from coopgraph.graph.schema import EntityKind

    rng = random.Random(20261129)
    snap = store.snapshot()
    sample = [r["id"] for r in snap.rows(EntityKind.COMPANY)]
    cats = sorted({r["category"] for r in snap.rows(EntityKind.SUPPLY)})
    records: list[Any] = [Cluster(id="region-test", name="Region test cluster",
                                  region="Липецкая область")]
    made: list[str] = []
    for n in range(REGION_SIZE - len(sample)):
        lat, lon = rng.choice(TOWNS)
        cid = f"gen-{n:04d}"
        records.append(Company(
            id=cid, name=f"ООО «Генерированная {n:04d}»", region="Липецкая область",
            lat=round(lat + rng.gauss(0, 0.08), 4), lon=round(lon + rng.gauss(0, 0.12), 4),
            roles=[Role.OEM if rng.random() < 0.05 else Role.SUPPLIER]))
        made.append(cid)
    weights = {c: 1.0 for c in sample + made}
    pool = sample + made
    for cid in made:
        for _ in range(rng.randint(1, 3)):
            buyer = rng.choices(pool, weights=[weights[p] for p in pool])[0]
            if buyer == cid:
                continue
            weights[buyer] += 1.0
            records.append(Supply(supplier_id=cid, buyer_id=buyer, category=rng.choice(cats),
                                  volume_per_year=rng.randint(10, 5000),
                                  unit_price=rng.randint(50, 5000)))
    records += [Membership(company_id=c, cluster_id="region-test") for c in made[:60]]
    store.upsert(records)


@pytest.fixture(scope="module")
def region_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[
        tuple[LiveServer, str]]:
    with serve_sample(tmp_path_factory.mktemp("region"), name="region test",
                      fill=_fill_region) as served:
        yield served


@pytest.fixture(scope="module")
def region_api(region_server: tuple[LiveServer, str]) -> Iterator[httpx.Client]:
    live, key = region_server
    with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=60) as client:
        yield client


def _all(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        body = api.get(path, params={"limit": 1000, "offset": len(out), **params}).json()
        out += body["data"]
        if len(out) >= body["total"]:
            return out


def _labels_overlap(page: Any) -> list[tuple[str, str]]:
    boxes = page.eval_on_selector_all(
        "svg[data-testid=network-svg] text.node-label",
        "xs => xs.map(x => { const b = x.getBoundingClientRect();"
        " return [x.dataset.id, b.left, b.top, b.right, b.bottom]; })")
    clash = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5 and a[2] < b[4] - 0.5 and b[2] < a[4] - 0.5:
                clash.append((a[0], b[0]))
    return clash


def _network_seconds(sess: Session, mode: str) -> float:
    """Seconds from the click to a drawn network page (median of three, cache warm)."""
    times = []
    for _ in range(3):
        sess.go("overview")
        start = time.perf_counter()
        page = sess.go("network")
        page.click(f".seg button[data-mode={mode}]")
        page.wait_for_selector("svg[data-testid=network-svg] circle.node")
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


def test_network_render_time_region_against_sample(browser: Any,
                                                   server: tuple[LiveServer, str],
                                                   region_server: tuple[LiveServer, str]
                                                   ) -> None:
    """The figure for BENCHMARKS.md: the 2,000-company region against the 180-company sample."""
    seconds = {}
    for name, served in (("sample", server), ("region", region_server)):
        sess = Session(browser, *served)
        try:
            sess.open("overview", with_key=True)
            seconds[name] = {mode: _network_seconds(sess, mode) for mode in ("geo", "graph")}
            sess.assert_clean()
        finally:
            sess.close()
    print(f"\nnetwork page, median of 3 (s): {seconds}")
    for mode in ("geo", "graph"):
        assert seconds["region"][mode] < 15, seconds  # usable on a loaded machine


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_network_at_region_scale(browser: Any, region_server: tuple[LiveServer, str],
                                 region_api: httpx.Client, lang: str) -> None:
    companies = {c["id"]: c for c in _all(region_api, "/companies")}
    assert len(companies) == REGION_SIZE
    supplies = _all(region_api, "/supplies")
    partners: dict[str, set[str]] = {}
    for s in supplies:
        if s["supplier_id"] != s["buyer_id"]:
            partners.setdefault(s["supplier_id"], set()).add(s["buyer_id"])
            partners.setdefault(s["buyer_id"], set()).add(s["supplier_id"])
    live, key = region_server
    sess = Session(browser, live, key)
    svg = "svg[data-testid=network-svg]"
    try:
        sess.open("overview", with_key=True)
        if lang == "en":
            sess.set_lang("en")
        # the whole region, drawn: time from the click to the finished page
        start = time.perf_counter()
        page = sess.go("network")
        page.wait_for_selector(f"{svg} circle")
        geo_seconds = time.perf_counter() - start
        drawn = page.locator(f"{svg} circle.node").count()
        labels = page.locator(f"{svg} text.node-label").count()
        assert drawn > 100 and 0 < labels <= 16
        assert _labels_overlap(page) == []
        start = time.perf_counter()
        page.click(".seg button[data-mode=graph]")
        page.wait_for_selector(f"{svg} circle.node")
        graph_seconds = time.perf_counter() - start
        assert 0 < page.locator(f"{svg} text.node-label").count() <= 30
        assert _labels_overlap(page) == []
        sess.shot(f"network-region-{lang}")
        print(f"\nregion network ({REGION_SIZE} companies, {len(supplies)} links): "
              f"map {geo_seconds:.2f} s, diagram {graph_seconds:.2f} s")
        assert geo_seconds < 20 and graph_seconds < 20  # usable, even on a loaded machine

        # the cluster filter: its members and their partners, nobody else
        page.click(".seg button[data-mode=geo]")
        page.select_option("[data-testid=network-cluster]", "region-test")
        page.click("[data-testid=network-apply]")
        sess.ready("network")
        assert "cluster=region-test" in page.url
        members = {m["company_id"] for m in _all(region_api, "/memberships",
                                                  cluster_id="region-test")}
        expected = members | {p for m in members for p in partners.get(m, set())}
        shown = set(page.eval_on_selector_all(f"{svg} circle.node",
                                              "xs => xs.map(x => x.dataset.id)"))
        in_bubbles = sum(int(n) for n in page.eval_on_selector_all(
            f"{svg} circle.group", "els => els.map(e => e.dataset.count)"))
        assert shown <= expected and len(shown) + in_bubbles == len(expected)
        assert _labels_overlap(page) == []
        sess.shot(f"network-region-cluster-{lang}")

        # search at scale: a generated hub's ego view, tiers counted by hand
        ego = max((c for c in partners if c.startswith("gen-")),
                  key=lambda c: (len(partners[c]), c))
        tier1 = partners[ego]
        tier2 = {p for t1 in tier1 for p in partners.get(t1, set())} - tier1 - {ego}
        page = sess.go("network")
        page.fill("[data-testid=network-search]", companies[ego]["name"])
        page.click("[data-testid=network-apply]")
        sess.ready("network")
        assert f"ego={ego}" in page.url
        assert page.locator(f"{svg} circle.node").count() == 1 + len(tier1) + len(tier2)
        assert _labels_overlap(page) == []
        sess.assert_clean()
    finally:
        sess.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_network_region_filters_at_phone_width(browser: Any,
                                               region_server: tuple[LiveServer, str],
                                               lang: str) -> None:
    s = _phone(browser, region_server)
    try:
        s.open("overview", with_key=True)
        if lang == "en":
            s.set_lang("en")
        page = s.go("network/cluster=region-test")
        page.wait_for_selector("svg[data-testid=network-svg] circle.node")
        assert page.input_value("[data-testid=network-cluster]") == "region-test"
        assert _fits(page)
        s.shot(f"phone-network-region-{lang}")
        s.assert_clean()
    finally:
        s.close()


# --- a member's what-if ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def member_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[
        tuple[LiveServer, str, str]]:
    """The sample behind the real app with a member key of an untied member."""
    from coopgraph.api.keys import KeyRole, KeyStore

    tmp = tmp_path_factory.mktemp("member")
    served: list[Any] = []  # the sample's store: keys live in it (issue 15)
    with serve_sample(tmp, name="member test", fill=served.append) as (live, analyst):
        with httpx.Client(base_url=live.url, headers={"X-API-Key": analyst},
                          timeout=300) as client:
            cluster = _cluster_id(client)
            untied = client.get("/kpis", params={"cluster": cluster}).json()["untied_members"]
        _, key = KeyStore(served[0]).create(KeyRole.MEMBER, company_id=untied[0],
                                            name="member")
        yield live, key, untied[0]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_member_ticks_links_but_sets_no_volume(browser: Any,
                                                 member_server: tuple[LiveServer, str, str],
                                                 lang: str) -> None:
    live, key, company = member_server
    sess = Session(browser, live, key)
    try:
        sess.open("overview", with_key=True)
        if lang == "en":
            sess.set_lang("en")
        page = sess.go("overview")
        page.wait_for_selector("[data-testid=what-if-kpis][aria-busy=false]")
        assert page.locator("[data-testid=what-if-row]").count() > 0
        assert page.locator("[data-testid=what-if-volume]").count() == 0
        # a free capacity is shown only for the member's own supplies
        rows = page.eval_on_selector_all(
            "[data-testid=what-if-row]",
            "rs => rs.map(r => [decodeURIComponent(r.querySelector('td:nth-child(2) a')"
            ".getAttribute('href').split('/')[2]),"
            " r.querySelector('[data-testid=what-if-free]').hasAttribute('data-free')])")
        assert rows and all(supplier == company for supplier, has_free in rows if has_free)
        page.click("[data-testid=what-if-none]")
        page.wait_for_selector("[data-testid=what-if-kpis][aria-busy=false]")
        assert "whatif.refused" not in page.inner_text("#view")
        assert page.inner_text("[data-testid=what-if-status]").strip()
        sess.shot(f"what-if-member-{lang}")
        sess.assert_clean()
    finally:
        sess.close()
