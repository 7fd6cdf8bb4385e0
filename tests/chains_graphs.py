"""Graphs for the chains/gaps/KPI tests: a small hand-built cluster and the Willems (2008) BOM.

``small_cluster()`` is a 10-company cluster whose answers are checked by hand in
the tests. ``willems_projection()`` turns chain 38 of Willems, "Real-World
Multi-Echelon Supply Chains Used for Inventory Optimization", M&SOM 10(1):19–23,
2008 (2,025 stages, 16,225 arcs) into a BOM: every stage is a category, an arc
``source → destination`` is a BOM line "destination requires source", and a
virtual product requires every stage nothing else uses. Quantities (1–3) are
synthetic, drawn with a fixed seed, because the data set has none.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import (
    BomLine,
    Capability,
    Category,
    Cluster,
    Company,
    CompanyProcess,
    Import,
    Membership,
    Need,
    Process,
    Product,
    Record,
    Role,
    Supply,
)
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.projection import Projection

__all__ = [
    "WILLEMS_XLSX",
    "projection_of",
    "small_cluster",
    "willems_arcs",
    "willems_projection",
]

def _find_willems() -> Path:
    """The Willems (2008) workbook: in ``shared/`` beside the checkout (as CI lays it out),
    or where ``COOPGRAPH_WILLEMS_XLSX`` points."""
    relative = Path("data/willems2008/MSOM-06-038-R2.xlsx")
    candidates = [
        Path(os.environ.get("COOPGRAPH_WILLEMS_XLSX", "")),
        Path(__file__).resolve().parents[2] / "shared" / relative,
    ]
    return next((c for c in candidates if c.is_file()), candidates[1])


WILLEMS_XLSX = _find_willems()

LIPETSK = "Lipetsk Oblast"
VORONEZH = "Voronezh Oblast"


def small_cluster() -> list[Record]:
    """A hand-checkable cluster ``K1`` (region Lipetsk Oblast).

    * OEM1 makes P1 (100/yr): FRAME×1, HYD×2, GEAR×3, CABIN×1, PAINT×5;
      FRAME (nobody declares it) = CAST×4 + WELD×1 → bought: CAST 400, WELD 100,
      HYD 200, GEAR 300, CABIN 100, PAINT 500.
    * OEM2 makes P2 (50/yr): FRAME×2, HYD×1 → CAST 400, WELD 100, HYD 50.
    * CAST: S1 (member, capacity 500, sells 200 to OEM1) and S2 (non-member, 300).
    * HYD: only S3 (member, capacity 250, sells 50 to OEM2) — single source.
    * CAST: S1 also sells 100 to OEM2 (S1 links the two makers: an articulation point).
    * GEAR: S4 (Voronezh, capacity 1000, sells 300 to OEM1) and S3 (member, capacity
      100) — regionally single-source and short of capacity (demand 300 + OEM2's need 40).
    * PAINT: S5 (member, capacity 1000, no buyer) — idle capacity.
    * CABIN, WELD: nobody declares them — gaps (OEM1 imports CABIN). S2 holds the
      welding process, so WELD can be inferred.
    * U1 (university, member) and S5 have no cooperation link — untied members.
    """
    recs: list[Record] = [
        Cluster(id="K1", name="Agro cluster", region=LIPETSK),
        Process(code="welding", name_ru="Сварка"),
        Process(code="casting", name_ru="Литьё"),
        Category(code="FRAME", name_ru="Рама", name_en="Frame", unit_price=20000),
        Category(code="CAST", name_ru="Отливка", name_en="Casting", unit_price=100,
                 processes=["casting"]),
        Category(code="WELD", name_ru="Сварной узел", name_en="Welded part", unit_price=300,
                 processes=["welding"]),
        Category(code="HYD", name_ru="Гидроцилиндр", name_en="Hydraulic cylinder",
                 unit_price=500),
        Category(code="GEAR", name_ru="Шестерня", name_en="Gear", unit_price=50),
        Category(code="CABIN", name_ru="Кабина", name_en="Cabin", unit_price=2000),
        Category(code="PAINT", name_ru="Краска", name_en="Paint", unit_price=10),
    ]
    coords = {"OEM1": (52.61, 39.59), "OEM2": (52.50, 39.90), "S1": (52.70, 39.60),
              "S2": (52.40, 39.50), "S3": (52.60, 39.70), "S4": (51.67, 39.18),
              "S5": (52.62, 39.61), "U1": (52.60, 39.60), "F1": (52.60, 39.60),
              "S6": (52.55, 39.65)}
    roles = {"OEM1": [Role.OEM], "OEM2": [Role.OEM], "U1": [Role.UNIVERSITY],
             "F1": [Role.FINANCE]}
    for cid, (lat, lon) in coords.items():
        recs.append(Company(id=cid, name=f"{cid} LLC", lat=lat, lon=lon,
                            region=VORONEZH if cid == "S4" else LIPETSK,
                            roles=roles.get(cid, [Role.SUPPLIER])))
    for cid in ("OEM1", "OEM2", "S1", "S3", "S5", "U1", "F1", "S6"):
        recs.append(Membership(company_id=cid, cluster_id="K1"))
    recs += [
        Product(id="P1", name="Combine", maker_id="OEM1", annual_volume=100),
        Product(id="P2", name="Seed drill", maker_id="OEM2", annual_volume=50),
        BomLine(parent="P1", child="FRAME", qty=1),
        BomLine(parent="P1", child="HYD", qty=2),
        BomLine(parent="P1", child="GEAR", qty=3),
        BomLine(parent="P1", child="CABIN", qty=1),
        BomLine(parent="P1", child="PAINT", qty=5),
        BomLine(parent="P2", child="FRAME", qty=2),
        BomLine(parent="P2", child="HYD", qty=1),
        BomLine(parent="FRAME", child="CAST", qty=4, parent_kind="category"),
        BomLine(parent="FRAME", child="WELD", qty=1, parent_kind="category"),
        Capability(company_id="S1", category="CAST", capacity_per_year=500, unit_price=100),
        Capability(company_id="S2", category="CAST", capacity_per_year=300, unit_price=90),
        Capability(company_id="S3", category="HYD", capacity_per_year=250, unit_price=500),
        Capability(company_id="S3", category="GEAR", capacity_per_year=100, unit_price=60),
        Capability(company_id="S4", category="GEAR", capacity_per_year=1000, unit_price=50),
        Capability(company_id="S5", category="PAINT", capacity_per_year=1000, unit_price=10),
        CompanyProcess(company_id="S2", process="welding"),
        Supply(supplier_id="S1", buyer_id="OEM1", category="CAST", volume_per_year=200,
               unit_price=100),
        Supply(supplier_id="S1", buyer_id="OEM2", category="CAST", volume_per_year=100,
               unit_price=100),
        Supply(supplier_id="S4", buyer_id="OEM1", category="GEAR", volume_per_year=300,
               unit_price=55),
        Supply(supplier_id="S3", buyer_id="OEM2", category="HYD", volume_per_year=50,
               unit_price=500),
        Supply(supplier_id="S6", buyer_id="F1", category="PAINT", volume_per_year=10,
               unit_price=12),
        Import(company_id="OEM1", category="CABIN", country="DE", volume_per_year=100,
               unit_price=2500),
        Need(company_id="OEM2", category="GEAR", qty_per_year=40),
    ]
    return recs


def projection_of(records: list[Record]) -> Projection:
    """The projection of ``records`` loaded into an in-memory embedded store."""
    store = EmbeddedStore(None)
    try:
        store.upsert(records)
        return Projection.from_snapshot(store.snapshot())
    finally:
        store.close()


def willems_arcs(chain: int = 38) -> tuple[list[str], list[tuple[str, str]]]:
    """Stage names and ``(source, destination)`` arcs of one Willems (2008) chain."""
    import openpyxl

    wb = openpyxl.load_workbook(WILLEMS_XLSX, read_only=True)
    try:
        stages = [str(r[0]) for r in wb[f"{chain:02d}_SD"].iter_rows(min_row=2, values_only=True)
                  if r and r[0] is not None]
        arcs = [(str(r[0]), str(r[1]))
                for r in wb[f"{chain:02d}_LL"].iter_rows(min_row=2, values_only=True)
                if r and r[0] is not None and r[1] is not None]
    finally:
        wb.close()
    return stages, arcs


def willems_projection(chain: int = 38, *, seed: int = 38,
                       extra_arcs: list[tuple[str, str]] | None = None) -> Projection:
    """A projection holding Willems chain ``chain`` as a BOM of product ``W``.

    Built straight from snapshot rows (no store), which is what the projection reads.
    """
    stages, arcs = willems_arcs(chain)
    arcs = arcs + list(extra_arcs or [])
    rng = random.Random(seed)
    used_as_part = {s for s, _d in arcs}
    tops = [s for s in stages if s not in used_as_part]
    categories = [{"code": s, "name_ru": s, "unit_price": 10.0} for s in sorted(stages)]
    bom = [{"parent_kind": "category", "parent": d, "child": s, "qty": float(rng.randint(1, 3))}
           for s, d in arcs]
    bom += [{"parent_kind": "product", "parent": "W", "child": s, "qty": 1.0} for s in tops]
    snapshot = Snapshot(revision=1, tables={
        EntityKind.CATEGORY: categories,
        EntityKind.PRODUCT: [{"id": "W", "name": f"Willems chain {chain}",
                              "annual_volume": 10.0}],
        EntityKind.BOM_LINE: bom,
    })
    return Projection.from_snapshot(snapshot)
