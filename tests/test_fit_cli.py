"""``coopgraph fit`` on both stores, the popularity fallback, and network reasons by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.confidentiality import Viewer
from coopgraph.graph.models import Category, Company, Supply
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore, Snapshot
from coopgraph.queries.match import rank_buyers, rank_suppliers
from coopgraph.queries.profiles import PROFILE_FILE, load_profile
from coopgraph.queries.projection import Projection


def _env(monkeypatch: pytest.MonkeyPatch, store: GraphStore, data_dir: Path,
         request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(data_dir))
    if store.kind == "embedded":
        monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
        return
    server: Any = request.getfixturevalue("neo4j_server")
    monkeypatch.setenv("COOPGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", server.uri)
    monkeypatch.setenv("NEO4J_USER", server.user)
    monkeypatch.setenv("NEO4J_PASSWORD", server.password)


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_fit_stores_the_profile_with_its_report_and_match_uses_it(store, tmp_path, monkeypatch,
                                                                  request):
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    ingest_paths(store, [SAMPLE_DIR])
    data_dir = tmp_path / "store" if store.kind == "embedded" \
        else tmp_path / "data"
    if store.kind == "embedded":
        store.close()
    _env(monkeypatch, store, data_dir, request)
    result = _run("fit", "--json", "--folds", "2")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (data_dir / PROFILE_FILE).exists()
    stored = load_profile(data_dir)
    assert stored is not None and stored.result.n_pairs > 200
    assert report["result"]["reason"] and report["result"]["tried"]
    chosen = stored.result
    # the report says which won, and by what, on the same folds
    if chosen.used_default:
        assert chosen.cv_mrr == chosen.default_cv_mrr
    else:
        assert chosen.profile.name == "fitted" and chosen.cv_mrr > chosen.default_cv_mrr
    shown = _run("fit", "--show")
    assert shown.exit_code == 0 and "inner MRR" in shown.output
    ranked = _run("match", "buyers", "--supplier", "m-dankov-lit", "--json")
    assert ranked.exit_code == 0, ranked.output
    assert json.loads(ranked.stdout)["profile"] == chosen.profile.name


def test_fit_keeps_the_default_when_the_history_is_too_small(tmp_path, monkeypatch):
    from coopgraph.graph.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path / "store")
    store.upsert([Company(id="S", name="S"), Company(id="B", name="B"),
                  Category(code="X", name_ru="X"), Supply(supplier_id="S", buyer_id="B",
                                                          category="X")])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    result = _run("fit", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["result"]
    assert got["used_default"] and "too small" in got["reason"]


def test_fit_show_without_a_profile_is_one_readable_line(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "nothing"))
    result = _run("fit", "--show")
    assert result.exit_code == 2 and "Traceback" not in result.output


# --- no empty list without a reason ----------------------------------------------------


def _small() -> Projection:
    companies = [Company(id=c, name=f"Завод {c}", region=r) for c, r in (
        ("S1", "A"), ("S2", "A"), ("S3", "A"), ("B1", "A"), ("B2", "A"), ("B3", "B"),
        ("NEW", "A"), ("LONE", None))]
    links = [("S1", "B1"), ("S2", "B1"), ("S2", "B2"), ("S3", "B1"), ("S3", "B2"),
             ("S1", "B3")]
    tables: dict[EntityKind, list[dict]] = {EntityKind.COMPANY: [c.model_dump() for c in
                                                                  companies]}
    tables[EntityKind.CATEGORY] = [{"code": "X", "name_ru": "Икс"}]
    tables[EntityKind.SUPPLY] = [{"supplier_id": s, "buyer_id": b, "category": "X"}
                                 for s, b in links]
    return Projection.from_snapshot(Snapshot(1, tables))


def test_a_supplier_without_sales_gets_the_region_s_most_connected_buyers_labelled():
    proj = _small()
    result = rank_buyers(proj, "NEW", k=3)
    ids = [c.company_id for c in result.candidates]
    assert ids[:2] == ["B1", "B2"]  # region A's buyers by in-degree (3, 2)
    assert {c.source for c in result.candidates} == {"popular_in_region"}
    assert result.note_en and "popularity fallback" in result.note_en
    assert result.note_ru and "по популярности" in result.note_ru
    assert all(c.relative_score == 0.0 and c.score <= 0 for c in result.candidates)


def test_without_a_region_the_fallback_is_the_whole_graph_and_filters_keep_it_empty():
    proj = _small()
    result = rank_suppliers(proj, "LONE", k=2)
    assert [c.company_id for c in result.candidates] == ["S1", "S2"]  # all out-degree 2: by id
    assert {c.source for c in result.candidates} == {"popular"}
    filtered = rank_buyers(proj, "NEW", filters={"region": "B"})
    assert not filtered.candidates and "filters" in (filtered.note_en or "")


def test_the_network_reason_names_the_peers_and_the_shared_buyer():
    proj = _small()
    # S1 sells to B1, B3; S2 and S3 also sell to B1 and to B2: B2 is S1's network candidate
    result = rank_buyers(proj, "S1", k=3)
    top = next(c for c in result.candidates if c.company_id == "B2")
    net = next(f for f in top.factors if f.name == "network")
    assert top.source == "demand"  # B2 buys X today, and S1 sells X: demand, plus the walk
    assert net.text_en.startswith("Завод S2 and Завод S3, which also supply your buyer Завод B1,")
    assert net.text_ru.startswith("Завод S2 и Завод S3, которые тоже поставляют вашему "
                                  "покупателю Завод B1,")
    assert "100 of 100" in net.text_en and "100 из 100" in net.text_ru
    # a member does not read other companies' links: no peer names (two peers < MIN_OTHERS)
    member = rank_buyers(proj, "S1", k=3, viewer=Viewer("S1"))
    text = next(f.text_en for c in member.candidates if c.company_id == "B2"
                for f in c.factors if f.name == "network")
    assert "Завод S2" not in text and "Завод S3" not in text


def test_evaluate_prints_every_baseline_with_intervals_on_both_splits(store, tmp_path,
                                                                      monkeypatch, request):
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR
    from coopgraph.queries.baselines import BASELINES

    ingest_paths(store, [SAMPLE_DIR])
    data_dir = tmp_path / "store" if store.kind == "embedded" else tmp_path / "data"
    if store.kind == "embedded":
        store.close()
    _env(monkeypatch, store, data_dir, request)
    args = ("evaluate", "--split", "both", "--seeds", "2", "--max-queries", "15")
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)["reports"]
    assert [r["split"] for r in reports] == ["random", "time"]  # the sample has real dates
    for r in reports:
        assert set(r["methods"]) == {"engine", *BASELINES} and r["seeds"] == [0, 1]
        for m in r["methods"].values():
            for i in m.values():
                assert i["lo"] <= i["mean"] <= i["hi"]
    table = _run(*args)
    assert table.exit_code == 0, table.output
    # both tables, every method with four whole "mean±half-width" cells (none cut to "…")
    assert "random split" in table.output and "time split" in table.output
    assert "…" not in table.output
    for name in ("engine", *BASELINES):
        rows = [line for line in table.output.splitlines()
                if line.split()[:1] == [name] and "±" in line]
        assert len(rows) == 2 and all(line.count("±") == 4 for line in rows), name


def test_match_shows_a_popularity_filler_with_no_fit(tmp_path, monkeypatch):
    from coopgraph.graph.embedded import EmbeddedStore
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    store = EmbeddedStore(tmp_path / "store")
    ingest_paths(store, [SAMPLE_DIR])
    store.upsert([Company(id="new-co", name="ООО «Новая фирма»", region="Липецкая область")])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COLUMNS", "200")
    result = _run("match", "buyers", "-s", "new-co", "-k", "3", "--en")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "popular in region" in line]
    assert len(rows) == 3 and "popularity fallback, not a match" in " ".join(
        result.output.split())
    # the note says the network gave nothing: no row may say it fits "via the network"
    assert not any("via the network" in line for line in rows)
    assert all(line.split("│")[4].strip() == "—" for line in rows)
