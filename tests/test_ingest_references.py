"""Ingest checks the references the stores check (``graph.schema.REFERENCES``), on both
stores: a row naming an unknown category or certification is rejected with its reason,
never written, never a crash — and the store stays consistent (issue #17)."""

from __future__ import annotations

import shutil
from pathlib import Path

from coopgraph.graph.integrity import find_problems
from coopgraph.graph.store import GraphStore
from coopgraph.ingest.pipeline import ingest_paths

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"


def test_unknown_property_references_are_rejected_with_reasons(store: GraphStore,
                                                               tmp_path: Path):
    data = tmp_path / "in"
    data.mkdir()
    for name in ("companies.csv", "categories.csv", "processes.csv", "certifications.csv"):
        shutil.copy(EXAMPLES / name, data / name)
    (data / "supplies.csv").write_text(
        "supplier_id,buyer_id,category,volume_per_year\n"
        "c-lit,c-agro,CAST-IRON,1200\n"
        "c-lit,c-agro,elx.seed_sensor,20\n", encoding="utf-8")
    (data / "needs.csv").write_text(
        "company_id,category,qty_per_year,required_certs\n"
        "c-agro,CAST-IRON,2000,ISO9001\n"
        "c-agro,CAST,10,ISO9001|NO-SUCH-CERT\n", encoding="utf-8")
    report = ingest_paths(store, [data])
    rejects = {(r.file, r.row, r.column, r.reason) for r in report.rejects}
    assert rejects == {
        ("supplies.csv", 3, "category", "unknown category 'elx.seed_sensor'"),
        ("needs.csv", 3, "required_certs", "unknown certification 'NO-SUCH-CERT'"),
    }
    assert len(report.rejects) == 2
    assert store.stats()["supply"] == 1 and store.stats()["need"] == 1
    assert find_problems(store.snapshot()).ok
