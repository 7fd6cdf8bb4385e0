"""Records for the store tests: valid INN/OGRN numbers, a small graph of every kind, random graphs.

Check digits are computed here from the published weights (independently of
``graph.ids``) so that the property tests compare two implementations.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TypeVar

from coopgraph.graph.models import (
    BomLine,
    Capability,
    Category,
    Certification,
    Cluster,
    Company,
    CompanyProcess,
    CoopRequest,
    ErPair,
    HeldCertification,
    Import,
    JointProject,
    Membership,
    Need,
    Process,
    Product,
    ProjectCost,
    ProjectParticipant,
    Record,
    ServerIngestJob,
    ServerKey,
    ServerRejects,
    Supply,
    Tie,
)

__all__ = [
    "INGESTED",
    "full_graph",
    "inn10",
    "inn12",
    "ogrn13",
    "ogrnip15",
    "random_graph",
]

INGESTED = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
T = TypeVar("T")


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def inn10(prefix: str) -> str:
    """A 10-digit (organisation) INN from its first nine digits."""
    assert len(prefix) == 9 and prefix.isdigit()
    return prefix + str(_weighted(prefix, (2, 4, 10, 3, 5, 9, 4, 6, 8)))


def inn12(prefix: str) -> str:
    """A 12-digit (individual) INN from its first ten digits."""
    assert len(prefix) == 10 and prefix.isdigit()
    eleven = prefix + str(_weighted(prefix, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)))
    return eleven + str(_weighted(eleven, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)))


def ogrn13(prefix: str) -> str:
    """A 13-digit OGRN from its first twelve digits."""
    assert len(prefix) == 12 and prefix.isdigit()
    return prefix + str(int(prefix) % 11 % 10)


def ogrnip15(prefix: str) -> str:
    """A 15-digit OGRNIP from its first fourteen digits."""
    assert len(prefix) == 14 and prefix.isdigit()
    return prefix + str(int(prefix) % 13 % 10)


def _prov(source: str, row: int) -> dict[str, object]:
    return {"source": source, "row": row, "ingested_at": INGESTED}


def full_graph() -> list[Record]:
    """A small graph with every kind and (almost) every optional field set."""
    return [
        Company(id="oem-1", name="АгроКомбайн", inn=inn10("482500123"),
                ogrn=ogrn13("102480000123"), legal_form="АО", region="Липецкая область",
                municipality="Липецк", lat=52.6031, lon=39.5708, employees=1200,
                roles=["oem"], **_prov("companies.csv", 2)),
        Company(id="sup-1", name="Литейный завод «Свободный Сокол»", inn=inn12("4825001234"),
                ogrn=ogrnip15("31048000012345"), region="Липецкая область", lat=52.58,
                lon=39.6, employees=300, roles=["supplier", "oem"], **_prov("companies.csv", 3)),
        Company(id="uni-1", name="ЛГТУ", roles=["university"], **_prov("companies.csv", 4)),
        Cluster(id="agro", name="Агромаш Липецк", region="Липецкая область",
                intra_share_threshold=0.1, **_prov("clusters.csv", 2)),
        Process(code="casting", name_ru="Литьё", name_en="Casting", **_prov("processes.csv", 2)),
        Process(code="machining", name_ru="Мехобработка", **_prov("processes.csv", 3)),
        Category(code="parts", name_ru="Детали", name_en="Parts", **_prov("categories.csv", 2)),
        Category(code="castings", name_ru="Отливки", name_en="Castings", okpd2="24.51",
                 parent="parts", processes=["casting", "machining"], synonyms=["литьё", "cast"],
                 unit="t", unit_price=150000.0, **_prov("categories.csv", 3)),
        Category(code="gearbox", name_ru="Редуктор", parent="parts", processes=["machining"],
                 **_prov("categories.csv", 4)),
        Product(id="combine-1", name="Комбайн К-1", maker_id="oem-1", okpd2="28.30.59",
                annual_volume=450.0, unit_price=12_000_000.0, **_prov("products.csv", 2)),
        Certification(code="iso9001", name="ISO 9001", **_prov("certifications.csv", 2)),
        Membership(company_id="oem-1", cluster_id="agro", since=dt.date(2018, 3, 1),
                   **_prov("memberships.csv", 2)),
        Membership(company_id="sup-1", cluster_id="agro", **_prov("memberships.csv", 3)),
        BomLine(parent="combine-1", child="gearbox", qty=2.0, **_prov("bom.csv", 2)),
        BomLine(parent="gearbox", child="castings", qty=3.5, parent_kind="category",
                **_prov("bom.csv", 3)),
        Capability(company_id="sup-1", category="castings", capacity_per_year=5000.0,
                   lead_time_days=30.0, min_order=10.0, unit_price=140000.0,
                   **_prov("capabilities.csv", 2)),
        HeldCertification(company_id="sup-1", cert="iso9001", valid_until=dt.date(2027, 1, 31),
                          **_prov("held_certifications.csv", 2)),
        CompanyProcess(company_id="sup-1", process="casting", **_prov("company_processes.csv", 2)),
        Supply(supplier_id="sup-1", buyer_id="oem-1", category="castings", volume_per_year=120.0,
               unit_price=145000.0, since=dt.date(2020, 1, 15), **_prov("supplies.csv", 2)),
        Import(company_id="oem-1", category="gearbox", country="DE", volume_per_year=80.0,
               unit_price=900000.0, **_prov("imports.csv", 2)),
        Need(company_id="oem-1", category="castings", qty_per_year=300.0,
             required_certs=["iso9001"], max_distance_km=250.0, **_prov("needs.csv", 2)),
        CoopRequest(id="rq-1", from_id="oem-1", to_id="sup-1", requester_role="buyer",
                    tie_type="supply", origin="recommendation", opened_by="oem-1",
                    category="gearbox", volume_per_year=50.0, target_price=140000.0,
                    message="Нужны отливки", due_date=dt.date(2026, 12, 31), state="declined",
                    version=3, decline_reason="price", decline_text="Цена ниже себестоимости",
                    created_at=INGESTED, updated_at=INGESTED,
                    history=["2024-05-01T12:30:00+00:00;2;proposed;sent;oem-1"],
                    **_prov("api", 0)),
        Tie(company_id="uni-1", partner_id="oem-1", tie_type="training",
            since=dt.date(2024, 9, 1), until=dt.date(2027, 6, 30), category="gearbox",
            contract="Договор № 12-У", value=1_500_000.0, request_id="rq-1",
            project_id="jp-1", **_prov("ties.csv", 2)),
        JointProject(id="jp-1", name="Локализация редуктора", cluster_id="agro",
                     category="gearbox", product_name="Редуктор жатки", import_country="DE",
                     import_volume=80.0, import_value=72_000_000.0,
                     expected_import_replaced=60_000_000.0,
                     expected_intra_purchases=25_000_000.0, expected_jobs=40,
                     start_year=2025, end_year=2027, rules_version="rf-41-2016",
                     summary="Совместный проект", **_prov("api", 0)),
        ProjectParticipant(company_id="oem-1", project_id="jp-1", role="lead",
                           part="Сборка", category="gearbox", **_prov("api", 0)),
        ProjectCost(company_id="oem-1", project_id="jp-1", item="press-2025",
                    cost_type="equipment", year=2025, amount=30_000_000.0, **_prov("api", 0)),
        ErPair(id="erp-0001", a_id="oem-1", b_id="name-agrokombayn--lipetsk",
               a_name="АгроКомбайн", b_name="Агро-Комбайн", status="merged", score=96.0,
               reason="similar name in Липецк", previous="review", decided_by="steward",
               decided_at=dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC),
               folded='{"id": "name-agrokombayn--lipetsk"}', kept_before='{"id": "oem-1"}',
               moved="[]", **_prov("companies.csv", 5)),
        ServerKey(id="0a1b2c3d", name="плановый отдел", role="member", company_id="oem-1",
                  hash="ab" * 32, created_at=dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC),
                  revoked_at=dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC), **_prov("api", 0)),
        ServerIngestJob(id="0123456789ab", status="done", files=["companies.csv"],
                        progress="done", created_at=dt.datetime(2026, 1, 3, 8, 0, tzinfo=dt.UTC),
                        heartbeat_at=dt.datetime(2026, 1, 3, 8, 1, tzinfo=dt.UTC),
                        finished_at=dt.datetime(2026, 1, 3, 8, 1, tzinfo=dt.UTC), ok=False,
                        rejected=1, chunks=1, report='{"ok": false}', **_prov("api", 0)),
        ServerRejects(id="0123456789ab-0", job_id="0123456789ab", n=0,
                      rows='[["companies.csv", 3, "inn", "неверная контрольная цифра"]]',
                      **_prov("api", 0)),
    ]


_REGIONS = ["Липецкая область", "Воронежская область", "Тамбовская область", None]
_ROLES = ["oem", "supplier", "university", "finance", "service", "dealer"]


def random_graph(seed: int, *, companies: int = 20, categories: int = 15) -> list[Record]:
    """A random but valid graph of every kind; the same ``seed`` gives the same records."""
    rng = random.Random(seed)

    def maybe(value: T, p: float = 0.7) -> T | None:
        return value if rng.random() < p else None

    def money() -> float:
        return round(rng.uniform(10, 1e6), 2)

    records: list[Record] = []
    company_ids = [f"c{i:03d}" for i in range(companies)]
    for i, cid in enumerate(company_ids):
        lat = maybe(round(rng.uniform(50, 55), 4))
        records.append(Company(
            id=cid, name=f"Компания {i} ООО «{rng.choice('АБВГД')}»",
            inn=maybe(inn10(f"{rng.randrange(10**8, 10**9)}")),
            ogrn=maybe(ogrn13(f"{rng.randrange(10**11, 10**12)}")),
            region=rng.choice(_REGIONS), lat=lat,
            lon=round(rng.uniform(36, 42), 4) if lat is not None else None,
            employees=maybe(rng.randrange(5, 5000)),
            roles=rng.sample(_ROLES, rng.randrange(0, 3)),
            source="rnd", row=i))
    clusters = ["cl-a", "cl-b"]
    records += [Cluster(id=c, name=f"Кластер {c}", region=maybe("Липецкая область"))
                for c in clusters]
    processes = ["casting", "forging", "machining", "welding", "painting"]
    records += [Process(code=p, name_ru=p.upper(), name_en=maybe(p)) for p in processes]
    codes = [f"k{i:02d}" for i in range(categories)]
    for i, code in enumerate(codes):
        parent = codes[rng.randrange(i)] if i and rng.random() < 0.7 else None
        records.append(Category(
            code=code, name_ru=f"Категория {i}", name_en=maybe(f"Category {i}"),
            okpd2=maybe(f"{rng.randrange(10, 33)}.{rng.randrange(10, 99)}"), parent=parent,
            processes=rng.sample(processes, rng.randrange(0, 3)),
            synonyms=rng.sample(["a", "б", "c d", "ё"], rng.randrange(0, 3)),
            unit=maybe("pcs"), unit_price=maybe(money())))
    records += [Certification(code=c, name=maybe(c.upper())) for c in ("iso9001", "iatf16949")]
    products = [f"p{i}" for i in range(max(2, companies // 5))]
    records += [Product(id=p, name=f"Изделие {p}", maker_id=maybe(rng.choice(company_ids)),
                        annual_volume=maybe(float(rng.randrange(1, 1000))),
                        unit_price=maybe(money())) for p in products]

    def pairs(left: list[str], right: list[str], n: int) -> list[tuple[str, str]]:
        # sorted: set order depends on string hashing, which changes between processes
        return sorted({(rng.choice(left), rng.choice(right)) for _ in range(n)})

    records += [Membership(company_id=c, cluster_id=k,
                           since=maybe(dt.date(2015 + rng.randrange(9), 1 + rng.randrange(12), 1)))
                for c, k in pairs(company_ids, clusters, companies)]
    records += [BomLine(parent=p, child=c, qty=float(rng.randrange(1, 9)))
                for p, c in pairs(products, codes, 3 * len(products))]
    assemblies = set()
    for _ in range(5):
        i = rng.randrange(categories - 1)
        assemblies.add((codes[i], codes[rng.randrange(i + 1, categories)]))  # i < j: no cycle
    records += [BomLine(parent=p, child=c, qty=0.5 * rng.randrange(1, 9), parent_kind="category")
                for p, c in sorted(assemblies)]
    records += [Capability(company_id=c, category=k, capacity_per_year=maybe(money()),
                           lead_time_days=maybe(float(rng.randrange(1, 90))),
                           min_order=maybe(float(rng.randrange(1, 50))), unit_price=maybe(money()))
                for c, k in pairs(company_ids, codes, 3 * companies)]
    records += [HeldCertification(company_id=c, cert=k,
                                  valid_until=maybe(dt.date(2026, 1 + rng.randrange(12), 1)))
                for c, k in pairs(company_ids, ["iso9001", "iatf16949"], companies // 2)]
    records += [CompanyProcess(company_id=c, process=p)
                for c, p in pairs(company_ids, processes, companies)]
    records += [Supply(supplier_id=s, buyer_id=b, category=rng.choice(codes),
                       volume_per_year=maybe(money()), unit_price=maybe(money()),
                       since=maybe(dt.date(2019, 1 + rng.randrange(12), 1)))
                for s, b in pairs(company_ids, company_ids, 2 * companies) if s != b]
    records += [Import(company_id=c, category=k, country=rng.choice(["DE", "CN", "IT"]),
                       volume_per_year=maybe(money()))
                for c, k in pairs(company_ids, codes, companies)]
    records += [Need(company_id=c, category=k, qty_per_year=maybe(money()),
                     required_certs=rng.sample(["iso9001", "iatf16949"], rng.randrange(0, 2)),
                     max_distance_km=maybe(float(rng.randrange(50, 500))))
                for c, k in pairs(company_ids, codes, companies // 2)]
    tie_types = ["supply", "rnd", "training", "financing", "joint_project", "other"]
    records += [Tie(company_id=a, partner_id=b, tie_type=rng.choice(tie_types),
                    since=maybe(dt.date(2020, 1 + rng.randrange(12), 1)),
                    value=maybe(money()))
                for a, b in pairs(company_ids, company_ids, companies // 2) if a != b]
    records += [CoopRequest(id=f"rq{i}", from_id=a, to_id=b, category=maybe(rng.choice(codes)),
                            volume_per_year=maybe(money()), version=1 + rng.randrange(3),
                            state=rng.choice(["proposed", "sent", "in_talks"]))
                for i, (a, b) in enumerate(pairs(company_ids, company_ids, companies // 4))
                if a != b]
    records.append(JointProject(id="jp", name="Проект", category=maybe(rng.choice(codes)),
                                import_value=maybe(money())))
    lead = rng.choice(company_ids)
    records += [ProjectParticipant(company_id=lead, project_id="jp", role="lead"),
                ProjectCost(company_id=lead, project_id="jp", item="eq", cost_type="equipment",
                            year=2025, amount=money())]
    return records
