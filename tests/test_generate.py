"""The scale generator on a small N: files, reproducibility, heavy tails, consistent references."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.ids import is_valid_inn, is_valid_ogrn
from coopgraph.graph.models import Record, Role
from coopgraph.graph.schema import EntityKind as K
from coopgraph.graph.schema import kind_of
from coopgraph.ingest import taxonomy
from coopgraph.ingest.generate import generate
from coopgraph.ingest.sample import FILE_NAMES, columns, read_records

N = 3000
SEED = 11


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen")
    generate(path, companies=N, seed=SEED)
    return path


@pytest.fixture(scope="module")
def records(out: Path) -> dict[K, list[Record]]:
    by_kind: dict[K, list[Record]] = defaultdict(list)
    for record in read_records(out):
        by_kind[kind_of(record)].append(record)
    return by_kind


def test_every_file_is_written_with_its_header(out: Path) -> None:
    for kind, name in FILE_NAMES.items():
        lines = (out / name).read_text(encoding="utf-8").splitlines()
        assert lines[0].split(",") == columns(kind), name
        assert len(lines) > 1, name


def test_same_seed_same_bytes_other_seed_other_bytes(out: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", companies=N, seed=SEED)
    generate(tmp_path / "other", companies=N, seed=SEED + 1)
    for name in FILE_NAMES.values():
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    assert (tmp_path / "other" / "supplies.csv").read_bytes() != (
        out / "supplies.csv").read_bytes()


def test_counts_scale_towards_a_million_rows_at_100k(records: dict[K, list[Record]]) -> None:
    assert len(records[K.COMPANY]) == N
    per_company = (len(records[K.CAPABILITY]) + len(records[K.SUPPLY])) / N
    assert 7 <= per_company <= 13  # ≈ 1,000,000 rows for 100,000 companies
    for kind in (K.PRODUCT, K.CLUSTER, K.MEMBERSHIP, K.IMPORT, K.NEED, K.COMPANY_PROCESS,
                 K.HELD_CERTIFICATION, K.BOM_LINE):
        assert records[kind], kind


def test_loads_into_embedded_store_without_missing_references(
        records: dict[K, list[Record]]) -> None:
    store = EmbeddedStore(None)
    store.upsert([r for rs in records.values() for r in rs])
    stats = store.stats()
    assert stats["company"] == N
    assert stats["supply"] == len(records[K.SUPPLY])  # no duplicate keys collapsed
    assert stats["capability"] == len(records[K.CAPABILITY])


def test_degrees_are_heavy_tailed(records: dict[K, list[Record]]) -> None:
    out_deg = Counter(s.supplier_id for s in records[K.SUPPLY])
    in_deg = Counter(s.buyer_id for s in records[K.SUPPLY])
    caps = Counter(c.company_id for c in records[K.CAPABILITY])
    for degrees in (out_deg, in_deg, caps):
        values = list(degrees.values())
        top, median = max(values), statistics.median(values)
        assert top >= 10 * median, (top, median)


def test_supplies_follow_capabilities_and_needs(records: dict[K, list[Record]]) -> None:
    declared = {(c.company_id, c.category) for c in records[K.CAPABILITY]}
    makers = {p.id: p.maker_id for p in records[K.PRODUCT]}
    needs: set[tuple[str, str]] = set()
    for line in records[K.BOM_LINE]:
        if line.parent_kind == "product":
            needs.add((makers[line.parent], line.child))
    consumers = {(c.company_id, child) for c in records[K.CAPABILITY]
                 for child, _q in taxonomy.CATEGORY_BOM.get(c.category, ())}
    supplies = records[K.SUPPLY]
    assert all((s.supplier_id, s.category) in declared for s in supplies)
    wanted = needs | consumers
    assert all((s.buyer_id, s.category) in wanted for s in supplies)
    years = [s.since.year for s in supplies if s.since]
    assert min(years) >= 2015 and max(years) == 2025


def test_since_dates_come_from_a_growth_process(records: dict[K, list[Record]]) -> None:
    """Companies enter over time and a link starts after both ends exist: the late
    entrants' links are the late links (a time split is then not a random split)."""
    order = {c.id: i for i, c in enumerate(records[K.COMPANY])}
    n = len(order)
    early = sorted(s.since for s in records[K.SUPPLY] if order[s.supplier_id] < n // 5)
    late = sorted(s.since for s in records[K.SUPPLY] if order[s.supplier_id] >= 4 * n // 5)
    assert early and late
    assert late[len(late) // 2] > early[len(early) // 2]
    assert all(s.since is not None for s in records[K.SUPPLY])


def test_companies_are_placed_in_russia_with_valid_numbers(
        records: dict[K, list[Record]]) -> None:
    companies = records[K.COMPANY]
    assert all(41 <= c.lat <= 70 and 19 <= c.lon <= 180 for c in companies)  # type: ignore[operator]
    assert len({c.region for c in companies}) >= 30
    inns = [c.inn for c in companies]
    assert len(set(inns)) == N and all(inn and is_valid_inn(inn) for inn in inns)
    assert all(is_valid_ogrn(c.ogrn) for c in companies if c.ogrn)
    oems = {c.id for c in companies if Role.OEM in c.roles}
    assert {p.maker_id for p in records[K.PRODUCT]} <= oems


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidQuery):
        generate(tmp_path, companies=5)
    with pytest.raises(InvalidQuery):
        generate(tmp_path, companies=100, fmt="xlsx")


def test_cli_writes_files_and_reports(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["generate", "--companies", "200", "--seed", "3",
                                 "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"]["companies.csv"] == 200
    assert (tmp_path / "supplies.csv").exists()
    bad = runner.invoke(app, ["generate", "--companies", "200", "--out", str(tmp_path),
                              "--format", "parquet"])
    assert bad.exit_code == 2
    too_few = runner.invoke(app, ["generate", "--companies", "3", "--out", str(tmp_path)])
    assert too_few.exit_code == 2


def test_ingests_through_the_pipeline_without_rejects(tmp_path: Path) -> None:
    pipeline = pytest.importorskip("coopgraph.ingest.pipeline")
    generate(tmp_path, companies=300, seed=5)
    store = EmbeddedStore(None)
    report = pipeline.ingest_paths(store, [tmp_path])
    assert report.ok, report.rejects[:5]
    assert store.stats()["company"] == 300


def test_progress_bar_changes_nothing_in_the_files(tmp_path: Path) -> None:
    generate(tmp_path / "quiet", companies=150, seed=2)
    generate(tmp_path / "bar", companies=150, seed=2, progress=True)
    for name in FILE_NAMES.values():
        assert (tmp_path / "bar" / name).read_bytes() == (tmp_path / "quiet" / name).read_bytes()
