"""Regression tests for the figures people read on the gaps page, in the CLI and in exports.

Each answer is computed here from the sample's CSV files or by hand, not asked of the code.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.sample import SAMPLE_DIR
from coopgraph.queries.gaps import CRITICAL_BETWEENNESS, CRITICAL_MAX, GapReport, find_gaps
from coopgraph.queries.projection import ProjectionCache

CLUSTER = "lipetsk-agromash"


def _csv(name: str) -> list[dict[str, str]]:
    with (Path(SAMPLE_DIR) / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def report(sample_store: GraphStore) -> GapReport:
    return find_gaps(ProjectionCache(sample_store).get(), cluster_id=CLUSTER)


def test_gaps_show_imported_units_not_importers(report: GapReport) -> None:
    members = {r["company_id"] for r in _csv("memberships.csv") if r["cluster_id"] == CLUSTER}
    units: dict[str, float] = defaultdict(float)
    for r in _csv("imports.csv"):
        if r["company_id"] in members and r["volume_per_year"]:
            units[r["category"]] += float(r["volume_per_year"])
    gaps = {g.category: g for g in report.import_dependency}
    assert units["elx.gnss"] == 2200  # the example: 400 + 1,200 + 600
    for code, gap in gaps.items():
        assert gap.import_qty == pytest.approx(units.get(code, 0.0)), code
    assert gaps["elx.gnss"].import_qty != len(gaps["elx.gnss"].importers)


def test_russian_sentences_use_russian_names_and_separators(report: GapReport) -> None:
    names_ru = {r["code"]: r["name_ru"] for r in _csv("categories.csv")}
    names_en = {r["code"]: r["name_en"] for r in _csv("categories.csv")}
    for g in report.import_dependency:
        assert g.text_ru.startswith(names_ru[g.category] + ":"), g.text_ru
        assert names_en[g.category] not in g.text_ru
        assert "," not in g.text_ru.split(";")[1], g.text_ru  # 174 800, not 174,800
    assert not report.text_ru.startswith(CLUSTER)
    assert re.search(r"\d востребованн\w+ категори[ийя]\b", report.text_ru), report.text_ru


def test_critical_companies_are_few_and_explained(sample_store: GraphStore,
                                                  report: GapReport) -> None:
    proj = ProjectionCache(sample_store).get()
    assert 0 < len(report.critical) <= CRITICAL_MAX
    assert "кратчайших путей" in report.text_ru and "shortest paths" in report.text_en
    # the same network, measured here with networkx directly
    members = {r["company_id"] for r in _csv("memberships.csv") if r["cluster_id"] == CLUSTER}
    region = {r["id"] for r in _csv("companies.csv") if r["region"] == report.region} | members
    graph = nx.Graph()
    graph.add_nodes_from(region)
    for r in _csv("supplies.csv"):
        if r["supplier_id"] in region and r["buyer_id"] in region \
                and r["supplier_id"] != r["buyer_id"]:
            graph.add_edge(r["supplier_id"], r["buyer_id"])
    between = nx.betweenness_centrality(graph, normalized=True)
    cut = set(nx.articulation_points(graph))
    eligible = {n for n in graph if n in cut or between[n] >= CRITICAL_BETWEENNESS}
    assert len(eligible) > CRITICAL_MAX  # the sample has more: the list is cut, not all shown
    for c in report.critical:
        assert c.company_id in eligible
        assert c.articulation_point == (c.company_id in cut)
        assert c.betweenness == pytest.approx(between[c.company_id])
        assert "%" in c.text_ru and "0." not in c.text_ru
    shown_cut = [c for c in report.critical if c.articulation_point]
    assert len(shown_cut) == min(len(cut & eligible), CRITICAL_MAX)  # articulation points first
    assert proj.company_names  # the projection was built from the same sample


def test_gaps_csv_opens_in_russian_excel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coopgraph.ingest.pipeline import ingest_paths

    store = EmbeddedStore(tmp_path / "store")
    ingest_paths(store, [SAMPLE_DIR])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    out = tmp_path / "gaps.csv"
    done = CliRunner().invoke(app, ["--lang", "ru", "gaps", "--cluster", CLUSTER, "--csv",
                                    str(out)])
    assert done.exit_code == 0, done.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    header = rows[0]
    assert header[:5] == ["вид", "категория (код)", "наименование", "компании (id)", "компании"]
    companies = {r["id"]: r["name"] for r in _csv("companies.csv")}
    gnss = next(r for r in rows[1:] if r[1] == "elx.gnss" and r[0] == "нет поставщика в регионе")
    ids = gnss[3].split("|")
    assert gnss[4].split("|") == [companies[i] for i in ids]  # names and ids, same order
    qty = header.index("количество, шт./год")
    assert gnss[qty] == "2200"
    critical = [r for r in rows[1:] if r[0] == "критичная компания"]
    assert critical and all("," in r[header.index("стоимость, ₽/год")] for r in critical)
    # the English file for scripts stays plain
    plain = tmp_path / "plain.csv"
    done = CliRunner().invoke(app, ["--lang", "en", "gaps", "--cluster", CLUSTER, "--csv",
                                    str(plain), "--plain-csv"])
    assert done.exit_code == 0, done.output
    assert plain.read_bytes().startswith(b"kind,category,name,company_id,company_name,")


def test_gaps_table_prints_names_not_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coopgraph.ingest.pipeline import ingest_paths

    store = EmbeddedStore(tmp_path / "store")
    ingest_paths(store, [SAMPLE_DIR])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COLUMNS", "200")
    done = CliRunner().invoke(app, ["--lang", "ru", "gaps", "--cluster", CLUSTER])
    assert done.exit_code == 0, done.output
    assert "Двигатели дизельные" in done.output and "Diesel engines" not in done.output
    assert "АО «Липецкий комбайновый завод»" in done.output
    assert "m-kombain" not in done.output and "bear.ball" not in done.output
    assert "1 920 000 000" in done.output.replace("\u00a0", " ")


# --- KPIs -------------------------------------------------------------------------------


def test_kpi_sentences_read_as_russian(sample_store: GraphStore) -> None:
    from coopgraph.queries.kpi import MAX_UNTIED, cluster_kpis

    report = cluster_kpis(ProjectionCache(sample_store).get(), CLUSTER)
    members = {r["company_id"] for r in _csv("memberships.csv") if r["cluster_id"] == CLUSTER}
    kpis = {k.code: k for k in report.kpis}
    untied = int(kpis["untied_count"].value or 0)
    assert untied == 8
    assert "8 участников." in kpis["untied_count"].text_ru  # not "8 участник(ов)"
    assert "(ов)" not in " ".join(k.text_ru for k in report.kpis)
    # the rule is stated once: the share's threshold follows from "at most 3 untied"
    assert kpis["tied_share"].threshold == pytest.approx((len(members) - MAX_UNTIED)
                                                         / len(members))
    assert kpis["tied_share"].passed == kpis["untied_count"].passed
    assert "не более" not in kpis["tied_share"].text_ru
    assert f"не более {MAX_UNTIED}" in kpis["untied_count"].text_ru
    assert kpis["tied_share"].text_ru.startswith(f"{len(members) - untied} из {len(members)} ")
    for w in report.what_if:
        n = len(w.links)
        assert "(s)" not in w.text_en and "0." not in w.text_ru, w.text_ru
        if w.kpi != "intra_purchases":
            word = ("рекомендованная связь" if n % 10 == 1 and n % 100 != 11 else
                    "рекомендованные связи" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14
                    else "рекомендованных связей")
            assert w.text_ru.startswith(f"{n} {word}:"), w.text_ru
    intra = kpis["intra_purchases"].text_ru
    assert " из " in intra and "₽/год" in intra
    figures = intra.split("(")[1].split(")")[0]
    assert "," not in figures  # 815 101 941 из 10 514 917 467 ₽/год, not 815,101,941


def test_kpi_command_prints_each_sentence_once(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from coopgraph.ingest.pipeline import ingest_paths

    store = EmbeddedStore(tmp_path / "store")
    ingest_paths(store, [SAMPLE_DIR])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COLUMNS", "300")
    for lang, other in (("ru", "Share of members"), ("en", "Доля участников")):
        done = CliRunner().invoke(app, ["--lang", lang, "kpi", "--cluster", CLUSTER])
        assert done.exit_code == 0, done.output
        assert other not in done.output
        lines = [ln for ln in done.output.splitlines() if ln.startswith("•")]
        assert len(lines) == 3 and len(set(lines)) == 3, lines
        cells = {c.strip() for ln in done.output.splitlines() if "│" in ln
                 for c in ln.split("│")}
        ids = {r["id"] for r in _csv("companies.csv")}
        assert not cells & ids, cells & ids  # names, not ids, in the tables
        assert "АО «Липецкий комбайновый завод»" in done.output or lang == "en"


def test_what_if_links_fit_free_capacity_one_row_one_price(sample_store: GraphStore) -> None:
    from coopgraph.queries.kpi import cluster_kpis

    report = cluster_kpis(ProjectionCache(sample_store).get(), CLUSTER)
    caps = {(r["company_id"], r["category"]): r for r in _csv("capabilities.csv")}
    committed: dict[tuple[str, str], float] = defaultdict(float)
    for r in _csv("supplies.csv"):
        committed[(r["supplier_id"], r["category"])] += float(r["volume_per_year"] or 0)
    cat_price = {r["code"]: r["unit_price"] for r in _csv("categories.csv")}
    price_of: dict[tuple[str, str], float] = {}
    assert report.what_if
    for w in report.what_if:
        pairs = [(link.supplier_id, link.buyer_id, link.category) for link in w.links]
        assert len(pairs) == len(set(pairs)), pairs  # one row per pair
        for link in w.links:
            key = (link.supplier_id, str(link.category))
            cap = caps.get(key)
            if cap is not None and cap["capacity_per_year"]:
                free = float(cap["capacity_per_year"]) - committed[key]
                assert (link.volume or 0) <= free + 1e-6, (link, free)
            if link.volume:
                unit = (link.value or 0) / link.volume
                assert price_of.setdefault(key, unit) == pytest.approx(unit), key  # one price
                declared = (cap or {}).get("unit_price") or cat_price.get(str(link.category))
                if declared:
                    assert unit == pytest.approx(float(declared))


def test_planner_volume_bounds(sample_store: GraphStore) -> None:
    from coopgraph.graph.errors import InvalidQuery
    from coopgraph.queries.bom import VOLUME_FACTOR, VOLUME_FLOOR, volume_limit
    from coopgraph.queries.chains import plan_chain

    proj = ProjectionCache(sample_store).get()
    products = {r["id"]: r for r in _csv("products.csv")}
    combine = next(pid for pid, r in sorted(products.items()) if r["annual_volume"])
    annual = float(products[combine]["annual_volume"])
    limit = max(VOLUME_FACTOR * annual, VOLUME_FLOOR)
    assert volume_limit(proj, proj.product(combine)) == limit
    with pytest.raises(InvalidQuery, match="объём") as refused:
        plan_chain(proj, combine, volume=100_000_000)
    assert "is above" in str(refused.value)
    for bad in (0.0, -5.0, float("nan")):
        with pytest.raises(InvalidQuery):
            plan_chain(proj, combine, volume=bad)
    assert plan_chain(proj, combine, volume=limit).volume == limit
    assert plan_chain(proj, combine).volume == annual  # no volume: the product's own


def test_plan_sentences_say_bought_in_the_region_with_russian_figures(
        sample_store: GraphStore) -> None:
    from coopgraph.queries.chains import plan_chain, plan_cluster

    proj = ProjectionCache(sample_store).get()
    product = sorted(r["id"] for r in _csv("products.csv"))[0]
    plan = plan_chain(proj, product)
    assert "в регионе закупается" in plan.text_ru and "локализац" not in plan.text_ru
    assert "bought in the region" in plan.text_en
    assert not re.search(r"\d,\d{3}", plan.text_ru)  # 1 234 567, not 1,234,567
    cluster = plan_cluster(proj, CLUSTER)
    names = {r["id"]: r["name"] for r in _csv("clusters.csv")}
    assert cluster.text_ru.startswith(names[CLUSTER])
