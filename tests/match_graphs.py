"""Graphs for the matching tests and benchmarks.

* :func:`tiny_records` — a hand-built cluster small enough to rank by hand
  (the expectations are written out in ``tests/test_match.py``);
* :func:`synthetic_snapshot` — a seeded, vectorised generator of a tiered
  supply network (materials → parts → components → assemblies → OEM products)
  with regions, clusters, capabilities, processes, BOMs, imports, needs and
  dated supply links, returned directly as a :class:`graph.store.Snapshot` so
  that 100k companies / 1M links build in seconds (bench/match_speed.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from coopgraph.graph.models import (
    BomLine,
    Capability,
    Category,
    Certification,
    Cluster,
    Company,
    CompanyProcess,
    HeldCertification,
    Import,
    Membership,
    Need,
    Process,
    Product,
    Record,
    Supply,
)
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot

__all__ = ["synthetic_snapshot", "tiny_records"]

LIPETSK = (52.61, 39.59)
YELETS = (52.62, 38.50)  # ~73 km west of Lipetsk
VORONEZH = (51.67, 39.18)  # ~108 km south
MOSCOW = (55.75, 37.62)  # ~380 km north


def tiny_records() -> list[Record]:
    """A hand-checkable cluster (see the module docstring of tests/test_match.py)."""
    def co(cid: str, name: str, at: tuple[float, float], region: str, roles: list[str]) -> Company:
        return Company(id=cid, name=name, lat=at[0], lon=at[1], region=region, roles=roles)

    return [
        co("S1", "Литейный завод", LIPETSK, "Липецкая", ["supplier"]),
        co("S2", "Механический завод", YELETS, "Липецкая", ["supplier"]),
        co("S3", "Сварочный цех", LIPETSK, "Липецкая", ["supplier"]),
        co("S4", "Алюминиевое литьё", VORONEZH, "Воронежская", ["supplier"]),
        co("O1", "Комбайновый завод", LIPETSK, "Липецкая", ["oem"]),
        co("O2", "Тракторный завод", MOSCOW, "Московская", ["oem"]),
        co("O3", "Завод сеялок", VORONEZH, "Воронежская", ["oem"]),
        co("O4", "Завод плугов", YELETS, "Липецкая", ["oem"]),
        Cluster(id="agro", name="Агромаш"),
        Cluster(id="other", name="Другой кластер"),
        *(Membership(company_id=c, cluster_id="agro") for c in ("S1", "S2", "O1", "O4")),
        Process(code="casting", name_ru="Литьё"),
        Process(code="machining", name_ru="Мехобработка"),
        Process(code="heat", name_ru="Термообработка"),
        Process(code="welding", name_ru="Сварка"),
        Category(code="CAST", name_ru="Отливки", name_en="Castings", processes=["casting"]),
        Category(code="CAST-GREY", name_ru="Отливки из серого чугуна", name_en="Grey iron castings",
                 parent="CAST", processes=["casting"]),
        Category(code="CAST-AL", name_ru="Алюминиевые отливки", name_en="Aluminium castings",
                 parent="CAST", processes=["casting"]),
        Category(code="GEAR", name_ru="Шестерни", name_en="Gears", processes=["machining", "heat"]),
        Category(code="FRAME", name_ru="Сварные рамы", name_en="Welded frames",
                 processes=["welding"]),
        Category(code="HEADER", name_ru="Жатка", name_en="Header"),
        Certification(code="iso9001"),
        Certification(code="iatf16949"),
        Product(id="P1", name="Комбайн", maker_id="O1", annual_volume=100.0),
        Product(id="P4", name="Плуг", maker_id="O4", annual_volume=50.0),
        BomLine(parent="P1", child="HEADER", qty=1.0),
        BomLine(parent="P1", child="FRAME", qty=1.0),
        BomLine(parent="HEADER", child="CAST-GREY", qty=4.0, parent_kind="category"),
        BomLine(parent="HEADER", child="GEAR", qty=2.0, parent_kind="category"),
        BomLine(parent="P4", child="FRAME", qty=1.0),
        Capability(company_id="S1", category="CAST-GREY", capacity_per_year=1000.0,
                   lead_time_days=30.0),
        Capability(company_id="S3", category="FRAME", capacity_per_year=500.0),
        Capability(company_id="S4", category="CAST-AL", capacity_per_year=800.0),
        CompanyProcess(company_id="S2", process="machining"),
        CompanyProcess(company_id="S2", process="heat"),
        HeldCertification(company_id="S1", cert="iso9001", valid_until=dt.date(2099, 1, 1)),
        HeldCertification(company_id="S1", cert="iatf16949", valid_until=dt.date(2001, 1, 1)),
        Supply(supplier_id="S1", buyer_id="O4", category="CAST-GREY", volume_per_year=300.0,
               since=dt.date(2019, 5, 1)),
        Supply(supplier_id="S3", buyer_id="O4", category="FRAME", volume_per_year=50.0,
               since=dt.date(2020, 1, 1)),
        Import(company_id="O2", category="CAST-AL", country="DE", volume_per_year=500.0),
        Need(company_id="O3", category="CAST-GREY", qty_per_year=200.0,
             required_certs=["iatf16949"]),
    ]


# --- a large synthetic supply network ------------------------------------------------------

_TIERS = (("MAT", 20), ("PART", 60), ("COMP", 80), ("ASM", 30))


def synthetic_snapshot(n_companies: int, seed: int = 7, *, oem_share: float = 0.08,
                       links_per_supplier: float = 8.0) -> Snapshot:
    """A seeded tiered supply network as a snapshot (see the module docstring).

    Suppliers specialise in 1–3 sibling categories of one tier; a supplier of a
    category buys that category's inputs (its category BOM) and an OEM buys its
    products' BOM categories, each from 1–2 makers chosen mostly in its own
    region, preferring popular and same-cluster suppliers. A tenth of the
    OEMs' purchases is imported instead.
    """
    rng = np.random.default_rng(seed)
    t: dict[EntityKind, list[dict[str, Any]]] = {k: [] for k in EntityKind}
    procs = [f"proc{i}" for i in range(10)]
    t[EntityKind.PROCESS] = [{"code": p, "name_ru": p} for p in procs]
    # taxonomy: per tier a few families (roots) with children
    cats: list[str] = []
    tier_of: list[int] = []
    fam_of: list[int] = []
    cat_proc: list[list[str]] = []
    n_fam = 0
    for tier, (prefix, count) in enumerate(_TIERS):
        fams = max(2, count // 10)
        for f in range(fams):
            root = f"{prefix}{f:02d}"
            fam_procs = sorted(rng.choice(procs, size=2, replace=False).tolist())
            t[EntityKind.CATEGORY].append({"code": root, "name_ru": root,
                                           "processes": fam_procs})
            for j in range(count // fams):
                code = f"{root}-{j:02d}"
                extra = [procs[int(rng.integers(len(procs)))]]
                own = sorted(set(fam_procs) | set(extra))
                t[EntityKind.CATEGORY].append({"code": code, "name_ru": code, "parent": root,
                                               "processes": own})
                cats.append(code)
                tier_of.append(tier)
                fam_of.append(n_fam + f)
                cat_proc.append(own)
        n_fam += fams
    tier_arr = np.array(tier_of)
    fam_arr = np.array(fam_of)
    ncat = len(cats)
    inputs: list[np.ndarray] = []
    for c in range(ncat):
        lower = np.flatnonzero(tier_arr < tier_arr[c])
        chosen = (rng.choice(lower, size=min(len(lower), int(rng.integers(2, 5))), replace=False)
                  if len(lower) else np.zeros(0, dtype=int))
        inputs.append(chosen)
        for ch in chosen:
            t[EntityKind.BOM_LINE].append({"parent": cats[c], "child": cats[int(ch)],
                                           "parent_kind": "category",
                                           "qty": float(rng.integers(1, 5))})
    # companies
    n = n_companies
    n_reg = max(3, n // 400)
    centres = np.column_stack([rng.uniform(45, 60, n_reg), rng.uniform(30, 60, n_reg)])
    region = rng.integers(0, n_reg, n)
    lat = centres[region, 0] + rng.normal(0, 0.4, n)
    lon = centres[region, 1] + rng.normal(0, 0.6, n)
    is_oem = rng.random(n) < oem_share
    ids = [f"c{i:06d}" for i in range(n)]
    for i in range(n):
        t[EntityKind.COMPANY].append({
            "id": ids[i], "name": f"Компания {i}", "region": f"R{int(region[i]):03d}",
            "lat": float(lat[i]), "lon": float(lon[i]),
            "roles": ["oem"] if is_oem[i] else ["supplier"]})
    n_cl = max(1, n_reg // 3)
    t[EntityKind.CLUSTER] = [{"id": f"cl{j}", "name": f"Кластер {j}"} for j in range(n_cl)]
    in_cluster = (rng.random(n) < 0.3) & (region < n_cl)
    for i in np.flatnonzero(in_cluster):
        t[EntityKind.MEMBERSHIP].append({"company_id": ids[i], "cluster_id": f"cl{region[i]}"})
    t[EntityKind.CERTIFICATION] = [{"code": "iso9001"}, {"code": "iatf16949"}]
    # capabilities: a supplier makes 1-3 siblings in one family, popular categories get more
    sup_idx = np.flatnonzero(~is_oem)
    cat_pop = rng.zipf(1.6, ncat).astype(float)
    cat_p = cat_pop / cat_pop.sum()
    makers: dict[tuple[int, int], list[int]] = {}
    makes: dict[int, list[int]] = {}
    for i in sup_idx:
        c0 = int(rng.choice(ncat, p=cat_p))
        sibs = np.flatnonzero(fam_arr == fam_arr[c0])
        chosen = {c0} | set(rng.choice(sibs, size=int(rng.integers(0, 3))).tolist())
        makes[int(i)] = sorted(int(c) for c in chosen)
        procs_held: set[str] = set()
        for c in makes[int(i)]:
            makers.setdefault((c, int(region[i])), []).append(int(i))
            makers.setdefault((c, -1), []).append(int(i))
            procs_held.update(cat_proc[c])
            t[EntityKind.CAPABILITY].append({
                "company_id": ids[i], "category": cats[c],
                "capacity_per_year": float(rng.integers(100, 5000)),
                "lead_time_days": float(rng.integers(5, 90))})
        for p in sorted(procs_held):
            t[EntityKind.COMPANY_PROCESS].append({"company_id": ids[i], "process": p})
        if rng.random() < 0.4:
            t[EntityKind.HELD_CERTIFICATION].append({
                "company_id": ids[i], "cert": "iso9001", "valid_until": "2030-01-01"})
    # products of OEMs
    top = np.flatnonzero(tier_arr >= 2)
    demand: dict[int, list[int]] = {}
    for i in np.flatnonzero(is_oem):
        want: set[int] = set()
        for p in range(int(rng.integers(1, 3))):
            pid = f"p{i:06d}-{p}"
            t[EntityKind.PRODUCT].append({"id": pid, "name": pid, "maker_id": ids[i],
                                          "annual_volume": float(rng.integers(10, 2000))})
            for c in rng.choice(top, size=int(rng.integers(6, 14)), replace=False):
                t[EntityKind.BOM_LINE].append({"parent": pid, "child": cats[int(c)],
                                               "parent_kind": "product", "qty": 1.0})
                want.add(int(c))
        demand[int(i)] = sorted(want)
    for i, made in makes.items():
        demand[i] = sorted({int(x) for c in made for x in inputs[c]})
    # supply links, mostly regional, preferential to popular suppliers
    degree = np.ones(n)
    seen: set[tuple[int, int, int]] = set()
    budget = links_per_supplier * len(sup_idx)
    total_wanted = sum(len(v) for v in demand.values())
    keep_p = min(1.0, budget / max(total_wanted * 1.5, 1))
    for b in rng.permutation(np.array(sorted(demand), dtype=np.int64)):
        b = int(b)
        for c in demand[b]:
            if rng.random() > keep_p:
                continue
            if is_oem[b] and rng.random() < 0.1:
                t[EntityKind.IMPORT].append({"company_id": ids[b], "category": cats[c],
                                             "country": "CN",
                                             "volume_per_year": float(rng.integers(10, 900))})
                continue
            pool = makers.get((c, int(region[b])))
            if not pool or rng.random() < 0.25:
                pool = makers.get((c, -1))
            if not pool:
                continue
            cand = np.array(pool)
            w = degree[cand] ** 0.8 * np.where(in_cluster[cand] & in_cluster[b], 3.0, 1.0)
            k = min(len(cand), 1 + int(rng.random() < 0.4))
            for s in rng.choice(cand, size=k, replace=False, p=w / w.sum()):
                s = int(s)
                if s == b or (s, b, c) in seen:
                    continue
                seen.add((s, b, c))
                degree[s] += 1
                year = 2010 + int(rng.integers(0, 15))
                t[EntityKind.SUPPLY].append({
                    "supplier_id": ids[s], "buyer_id": ids[b], "category": cats[c],
                    "volume_per_year": float(rng.integers(5, 500)),
                    "since": f"{year}-{int(rng.integers(1, 13)):02d}-01"})
            if rng.random() < 0.02:
                t[EntityKind.NEED].append({"company_id": ids[b], "category": cats[c],
                                           "qty_per_year": float(rng.integers(10, 900))})
    return Snapshot(revision=1, tables={k: v for k, v in t.items() if v})
