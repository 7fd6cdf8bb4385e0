"""The sample cluster: it builds, has the promised shape, and every planted pattern is there.

Patterns are recomputed here straight from the records (regional suppliers per
demanded category, member-to-member links…), not taken from the builder's own
analysis, so a change in the builder that loses a pattern fails here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import MissingReference
from coopgraph.graph.ids import is_valid_inn, is_valid_ogrn
from coopgraph.graph.models import Capability, Role
from coopgraph.graph.schema import EntityKind as K
from coopgraph.ingest import taxonomy
from coopgraph.ingest.sample import (
    CLUSTER_ID,
    PLANTED,
    REGION,
    SAMPLE_DIR,
    SAMPLE_FILE_NAMES,
    SampleData,
    build_sample,
    columns,
    make_inn,
    make_ogrn,
    read_records,
    write_sample,
)


@pytest.fixture(scope="module")
def data() -> SampleData:
    return build_sample()


@pytest.fixture(scope="module")
def facts(data: SampleData) -> dict[str, Any]:
    """Plain facts of the sample computed directly from its records."""
    companies = {c.id: c for c in data.of(K.COMPANY)}
    regional = {cid for cid, c in companies.items() if c.region == REGION}
    members = {m.company_id for m in data.of(K.MEMBERSHIP) if m.cluster_id == CLUSTER_ID}
    recipes: dict[str, list[tuple[str, float]]] = defaultdict(list)
    lines: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for b in data.of(K.BOM_LINE):
        (recipes if b.parent_kind == "category" else lines)[b.parent].append((b.child, b.qty))
    demand: dict[str, float] = defaultdict(float)
    depth = 0

    def walk(code: str, qty: float, level: int) -> None:
        nonlocal depth
        depth = max(depth, level)
        demand[code] += qty
        for child, q in recipes.get(code, []):
            walk(child, qty * q, level + 1)

    direct: dict[str, set[str]] = defaultdict(set)  # OEM -> categories on its product lines
    for p in data.of(K.PRODUCT):
        for child, q in lines[p.id]:
            walk(child, q * (p.annual_volume or 0), 1)
            direct[p.maker_id].add(child)
    declared: dict[str, set[str]] = defaultdict(set)
    capacity: dict[tuple[str, str], float] = {}
    for cap in data.of(K.CAPABILITY):
        declared[cap.category].add(cap.company_id)
        capacity[(cap.company_id, cap.category)] = cap.capacity_per_year or 0
    procs: dict[str, set[str]] = defaultdict(set)
    for cp in data.of(K.COMPANY_PROCESS):
        procs[cp.company_id].add(cp.process)
    needs = {c.code: set(c.processes) for c in data.of(K.CATEGORY)}
    return {
        "companies": companies, "regional": regional, "members": members, "demand": demand,
        "depth": depth, "direct": direct, "declared": declared, "capacity": capacity,
        "procs": procs, "needs": needs,
        "imports": {(i.company_id, i.category) for i in data.of(K.IMPORT)},
        "supplies": data.of(K.SUPPLY),
    }


def _holds_all(facts: dict[str, Any], company: str, category: str) -> bool:
    needed = facts["needs"][category]
    return bool(needed) and needed <= facts["procs"][company]


# --- shape ------------------------------------------------------------------------------


def test_counts_and_roles(data: SampleData, facts: dict[str, Any]) -> None:
    assert 80 <= len(data.of(K.CATEGORY)) <= 200
    members = facts["members"]
    assert 28 <= len(members) <= 32
    roles = [facts["companies"][m].roles for m in members]
    assert 8 <= sum(Role.OEM in r for r in roles) <= 10
    assert sum(Role.UNIVERSITY in r for r in roles) == 2
    assert 1 <= sum(Role.FINANCE in r for r in roles) <= 2
    others = set(facts["companies"]) - members
    assert len(others) >= 140
    assert len(others & facts["regional"]) >= 30
    assert len(others - facts["regional"]) >= 90
    assert len(data.of(K.PRODUCT)) == 10
    assert len(data.of(K.CLUSTER)) == 1
    assert data.of(K.CLUSTER)[0].intra_share_threshold == 0.2
    for kind in (K.SUPPLY, K.IMPORT, K.NEED, K.HELD_CERTIFICATION, K.COMPANY_PROCESS):
        assert data.of(kind), kind


def test_boms_are_multi_level(data: SampleData, facts: dict[str, Any]) -> None:
    assert 2 <= facts["depth"] <= 4
    makers = {p.maker_id for p in data.of(K.PRODUCT)}
    assert all(Role.OEM in facts["companies"][m].roles for m in makers)
    assert all((p.annual_volume or 0) > 0 and (p.unit_price or 0) > 0
               for p in data.of(K.PRODUCT))


def test_taxonomy_is_a_tree_with_real_looking_codes(data: SampleData) -> None:
    cats = {c.code: c for c in data.of(K.CATEGORY)}
    processes = {p.code for p in data.of(K.PROCESS)}
    roots = [c for c in cats.values() if c.parent is None]
    assert len(roots) >= 15
    for c in cats.values():
        seen, node = set(), c
        while node.parent is not None:  # walks to a root without a cycle
            assert node.code not in seen
            seen.add(node.code)
            node = cats[node.parent]
        assert set(c.processes) <= processes
        assert c.okpd2 is None or re.fullmatch(r"\d{2}\.\d{2}(\.\d{1,3})?", c.okpd2), c.okpd2
    for code in taxonomy.leaf_codes():
        assert cats[code].processes, f"{code} needs at least one process"
        assert cats[code].synonyms and cats[code].unit and cats[code].unit_price


def test_tax_numbers_are_valid(data: SampleData) -> None:
    companies = data.of(K.COMPANY)
    inns = [c.inn for c in companies]
    assert all(inn and is_valid_inn(inn) for inn in inns)
    assert len(set(inns)) == len(inns)
    with_ogrn = [c.ogrn for c in companies if c.ogrn]
    assert all(is_valid_ogrn(o) for o in with_ogrn)
    assert len(companies) // 2 < len(with_ogrn) < len(companies)  # most, not all
    assert all(c.lat is not None and c.lon is not None for c in companies)


def test_make_inn_and_ogrn_check_digits() -> None:
    assert is_valid_inn(make_inn("77", 99, 1))
    assert is_valid_ogrn(make_ogrn(2010, "48", 99, 42))
    with pytest.raises(ValueError):
        make_inn("4", 99, 1)
    with pytest.raises(ValueError):
        make_inn("48", 99, 123456)


# --- planted patterns -------------------------------------------------------------------


def test_categories_without_a_regional_supplier(facts: dict[str, Any]) -> None:
    planted = PLANTED["no_regional_supplier"]
    assert len(planted) >= 3
    for cat in planted:
        assert facts["demand"][cat] > 0, cat
        assert not facts["declared"][cat] & facts["regional"], cat
        assert not any(_holds_all(facts, c, cat) for c in facts["regional"]), cat
    nobody = PLANTED["no_supplier_in_country"]
    assert nobody and set(nobody) <= set(planted)
    for cat in nobody:
        assert not facts["declared"][cat]
        assert any(c == cat for _, c in facts["imports"])


def test_single_source_categories(facts: dict[str, Any]) -> None:
    planted = PLANTED["single_source"]
    assert len(planted) >= 3
    for cat, supplier in planted.items():
        assert facts["demand"][cat] > 0
        assert facts["declared"][cat] & facts["regional"] == {supplier}, cat
        others = facts["regional"] - {supplier}
        assert not any(_holds_all(facts, c, cat) for c in others), cat


def test_idle_capacity_in_imported_categories(facts: dict[str, Any]) -> None:
    planted = PLANTED["idle_capacity"]
    assert len(planted) >= 2
    for supplier, cat, importer in planted:
        assert facts["capacity"][(supplier, cat)] > 0
        assert not [s for s in facts["supplies"] if s.supplier_id == supplier
                    and s.category == cat]
        assert (importer, cat) in facts["imports"]
        assert cat in facts["direct"][importer]
    # at least one idle supplier and its importer are both members (a KPI-raising link)
    assert any(s in facts["members"] and b in facts["members"] for s, _c, b in planted)


def test_untied_members(facts: dict[str, Any]) -> None:
    members = facts["members"]
    tied = set()
    for s in facts["supplies"]:
        if s.supplier_id in members and s.buyer_id in members:
            tied.update((s.supplier_id, s.buyer_id))
    untied = members - tied
    assert untied == set(PLANTED["untied_members"])
    industrial = [m for m in untied if {Role.OEM, Role.SUPPLIER} & set(
        facts["companies"][m].roles)]
    assert len(industrial) >= 4  # fails "at most 3 untied" even without universities


def test_intra_cluster_share_is_below_threshold(facts: dict[str, Any]) -> None:
    members = facts["members"]
    oems = {m for m in members if Role.OEM in facts["companies"][m].roles}
    total = intra = 0.0
    for s in facts["supplies"]:
        if s.buyer_id in oems:
            value = (s.volume_per_year or 0) * (s.unit_price or 0)
            total += value
            intra += value if s.supplier_id in members else 0.0
    assert total > 0
    assert 0 < intra / total < PLANTED["intra_share_below"]


def test_inferred_capability(facts: dict[str, Any]) -> None:
    for company, cat in PLANTED["inferred_capability"]:
        assert _holds_all(facts, company, cat)
        assert company not in facts["declared"][cat]
        assert facts["demand"][cat] > 0


def test_demand_above_regional_capacity(facts: dict[str, Any]) -> None:
    for cat in PLANTED["demand_over_capacity"]:
        regional_cap = sum(v for (c, k), v in facts["capacity"].items()
                           if k == cat and c in facts["regional"])
        assert 0 < regional_cap < facts["demand"][cat], cat


def test_supplies_follow_capabilities_mostly(facts: dict[str, Any]) -> None:
    supplies = facts["supplies"]
    follows = sum(s.supplier_id in facts["declared"][s.category] for s in supplies)
    assert follows == len(supplies)
    years = {s.since.year for s in supplies if s.since}
    assert min(years) <= 2016 and max(years) >= 2024


# --- files and loading ------------------------------------------------------------------


def test_loads_into_embedded_store(data: SampleData) -> None:
    store = EmbeddedStore(None)
    store.upsert(list(data.all()))
    stats = store.stats()
    assert stats["company"] == len(data.of(K.COMPANY))
    assert stats["supply"] == len(data.of(K.SUPPLY))


def test_dangling_reference_is_refused(data: SampleData) -> None:
    store = EmbeddedStore(None)
    bad = Capability(company_id="nobody", category="cast.grey_iron")
    with pytest.raises(MissingReference):
        store.upsert([*data.of(K.CATEGORY), *data.of(K.PROCESS), bad])


def test_committed_files_are_what_the_builder_writes(tmp_path: Path) -> None:
    write_sample(build_sample(), tmp_path)
    for name in [*SAMPLE_FILE_NAMES.values(), "README.md"]:
        assert (tmp_path / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_files_have_canonical_headers_and_round_trip(data: SampleData) -> None:
    for kind, name in SAMPLE_FILE_NAMES.items():
        first = (SAMPLE_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.split(",") == columns(kind)
    from_files = EmbeddedStore(None)
    from_files.upsert(read_records(SAMPLE_DIR))
    built = EmbeddedStore(None)
    built.upsert(list(data.all()))
    assert from_files.snapshot() == built.snapshot()


def test_readme_names_the_planted_ids() -> None:
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "FICTIONAL" in text
    for cat in PLANTED["no_regional_supplier"] + list(PLANTED["single_source"]):
        assert f"`{cat}`" in text
    for member in PLANTED["untied_members"]:
        assert f"`{member}`" in text


def test_a_broken_row_is_refused(tmp_path: Path) -> None:
    write_sample(build_sample(), tmp_path)
    path = tmp_path / "companies.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[2] = cells[2][:-1] + str((int(cells[2][-1]) + 1) % 10)  # break the INN check digit
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="check digit"):
        read_records(tmp_path)


def test_deterministic_and_seed_sensitive() -> None:
    a, b, c = build_sample(), build_sample(), build_sample(seed=1)
    dump = [r.model_dump() for r in a.all()]
    assert dump == [r.model_dump() for r in b.all()]
    assert dump != [r.model_dump() for r in c.all()]


def test_loads_through_the_pipeline_without_rejects() -> None:
    pipeline = pytest.importorskip("coopgraph.ingest.pipeline")
    store = EmbeddedStore(None)
    report = pipeline.ingest_paths(store, [SAMPLE_DIR])
    assert report.ok, report.rejects[:5]
    reference = EmbeddedStore(None)
    reference.upsert(read_records(SAMPLE_DIR))
    assert store.snapshot() == reference.snapshot()
