"""``coopgraph check``: exit 0 when consistent, 1 with problems, 0 after ``--repair``;
the store made inconsistent on purpose (an unchecked upsert, as an old journal would)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Category, Supply
from tests.graph_factories import full_graph


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    store = EmbeddedStore(tmp_path / "store")
    store.upsert(full_graph())
    store.close()
    return tmp_path / "store"


def _spoil(data_dir: Path) -> None:
    store = EmbeddedStore(data_dir)
    store.upsert([Supply(supplier_id="sup-1", buyer_id="oem-1", category="elx.seed_sensor"),
                  Category(code="orphan", name_ru="Сирота", parent="ghost")],
                 check_references=False)
    store.close()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["check", *args])


def test_a_consistent_store_exits_0(data_dir: Path):
    result = _run()
    assert result.exit_code == 0, result.output
    assert "No dangling references" in result.output
    assert "Ссылочная целостность в порядке" in result.output


def test_problems_are_listed_and_exit_1(data_dir: Path):
    _spoil(data_dir)
    result = _run()
    assert result.exit_code == 1, result.output
    assert "2 dangling reference(s)" in result.output
    assert "elx.seed_sensor" in result.output
    assert "supply.category → category" in result.output
    as_json = _run("--json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert data["counts"] == {"category.parent → category": 1, "supply.category → category": 1}
    assert {(p["kind"], p["repair"]) for p in data["problems"]} == {
        ("supply", "delete"), ("category", "detach")}


def test_repair_fixes_and_exits_0(data_dir: Path):
    _spoil(data_dir)
    result = _run("--repair", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["repaired"] == {"deleted": {"supply": [["sup-1", "oem-1", "elx.seed_sensor"]]},
                                "detached": {"category": [["orphan"]]}}
    assert data["after"]["ok"] is True
    store = EmbeddedStore(data_dir)
    assert store.get("category", "orphan").parent is None
    assert store.exists("supply", ("sup-1", "oem-1", "castings"))
    again = _run()
    assert again.exit_code == 0
    text = _run("--repair")  # nothing left to repair
    assert text.exit_code == 0


def test_repair_prints_what_it_did(data_dir: Path):
    _spoil(data_dir)
    result = _run("--repair")
    assert result.exit_code == 0, result.output
    assert "Repaired: 1 record(s) deleted, 1 changed." in result.output


def test_bad_option_is_a_usage_error(data_dir: Path):
    result = _run("--nope")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.neo4j
def test_check_and_repair_on_neo4j(neo4j_server, neo4j_store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COOPGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_server.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_server.password)
    neo4j_store.upsert(full_graph())
    # the case, made in Neo4j Browser: a category deleted under its supplies
    neo4j_store._driver.execute_query("MATCH (c:Category {code: 'castings'}) DETACH DELETE c",
                                      database_=neo4j_store.database)
    result = _run("--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == {"supply.category → category": 1}
    fixed = _run("--repair")
    assert fixed.exit_code == 0, fixed.output
    assert neo4j_store.stats()["supply"] == 0
    assert _run().exit_code == 0
