"""The API's model families, generated from the domain models in ``graph.models``.

For every stored kind there are three models, named as in FastAPI's full-stack
template: ``CompanyCreate`` (what a client sends: the domain fields without
provenance, unknown fields refused, with an OpenAPI example), ``CompanyPublic``
(what the API returns: every field plus provenance, and ``redacted`` for kinds
with confidential fields) and ``CompaniesPublic`` (a page of them). Deriving
them from the domain models keeps one definition of every field, validator and
description; the domain model's own checks (``lat`` with ``lon``…) run again
when the record is built for the store.

The few request/response shapes that are not stored records (plans, ingest
jobs, health, the category tree) are written out below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from coopgraph.api.auth import CONFIDENTIAL
from coopgraph.api.params import Id
from coopgraph.graph.models import MAX_AMOUNT
from coopgraph.graph.schema import DATA_KINDS, KINDS, PROVENANCE_FIELDS, EntityKind

__all__ = [
    "FAMILIES",
    "CategoryMarket",
    "CategoryNode",
    "Family",
    "Health",
    "IngestJob",
    "PlanRequest",
]

_EXAMPLES: dict[EntityKind, dict[str, Any]] = {
    EntityKind.COMPANY: {
        "id": "lmz", "name": "Липецкий механический завод", "inn": "4823006703",
        "ogrn": "1024800600000", "legal_form": "АО", "region": "Липецкая область",
        "municipality": "Липецк", "lat": 52.61, "lon": 39.59, "employees": 420,
        "roles": ["supplier"],
    },
    EntityKind.CLUSTER: {
        "id": "agromash48", "name": "Агромашиностроительный кластер Липецкой области",
        "region": "Липецкая область", "intra_share_threshold": 0.2,
    },
    EntityKind.CATEGORY: {
        "code": "hyd.cyl", "name_ru": "Гидроцилиндры", "name_en": "Hydraulic cylinders",
        "okpd2": "28.12.11", "parent": "hyd", "processes": ["machining", "welding"],
        "synonyms": ["гидроцилиндр", "цилиндр гидравлический"], "unit": "pcs",
        "unit_price": 18500,
    },
    EntityKind.PROCESS: {"code": "machining", "name_ru": "Механообработка",
                         "name_en": "Machining"},
    EntityKind.PRODUCT: {"id": "seed-drill-6m", "name": "Сеялка 6 м", "maker_id": "lipagro",
                         "okpd2": "28.30.3", "annual_volume": 800, "unit_price": 2400000},
    EntityKind.CERTIFICATION: {"code": "ISO9001", "name": "ISO 9001:2015"},
    EntityKind.MEMBERSHIP: {"company_id": "lmz", "cluster_id": "agromash48",
                            "since": "2018-03-01"},
    EntityKind.BOM_LINE: {"parent": "seed-drill-6m", "child": "hyd.cyl", "qty": 4,
                          "parent_kind": "product"},
    EntityKind.CAPABILITY: {"company_id": "lmz", "category": "hyd.cyl",
                            "capacity_per_year": 12000, "lead_time_days": 30,
                            "min_order": 50, "unit_price": 17900},
    EntityKind.HELD_CERTIFICATION: {"company_id": "lmz", "cert": "ISO9001",
                                    "valid_until": "2027-12-31"},
    EntityKind.COMPANY_PROCESS: {"company_id": "lmz", "process": "machining"},
    EntityKind.ER_PAIR: {"id": "erp-3f2a9c1b7d4e5f60", "a_id": "lmz", "b_id": "name-lmz--lipetsk",
                         "a_name": "Липецкий механический завод",
                         "b_name": "ЛМЗ", "status": "review", "score": 86.0,
                         "reason": "similar name in Липецк"},
    EntityKind.SUPPLY: {"supplier_id": "lmz", "buyer_id": "lipagro", "category": "hyd.cyl",
                        "volume_per_year": 3200, "unit_price": 18100, "since": "2021-01-15"},
    EntityKind.IMPORT: {"company_id": "lipagro", "category": "hyd.cyl", "country": "IT",
                        "volume_per_year": 800, "unit_price": 26000},
    EntityKind.NEED: {"company_id": "lipagro", "category": "hyd.cyl", "qty_per_year": 1500,
                      "required_certs": ["ISO9001"], "max_distance_km": 300},
    EntityKind.COOP_REQUEST: {"id": "rq-1", "from_id": "lipagro", "to_id": "lmz",
                              "requester_role": "buyer", "tie_type": "supply",
                              "category": "hyd.cyl", "volume_per_year": 1500,
                              "due_date": "2026-12-31"},
    EntityKind.TIE: {"company_id": "lgtu", "partner_id": "lmz", "tie_type": "training",
                     "since": "2025-09-01", "until": "2027-06-30",
                     "contract": "Договор о практике № 14"},
    EntityKind.JOINT_PROJECT: {"id": "jp-gearbox", "name": "Локализация редуктора",
                               "cluster_id": "agromash48", "category": "hyd.cyl",
                               "import_country": "IT", "import_volume": 800,
                               "import_value": 20800000, "start_year": 2026,
                               "end_year": 2028},
    EntityKind.PROJECT_PARTICIPANT: {"company_id": "lmz", "project_id": "jp-gearbox",
                                     "role": "component_maker", "category": "hyd.cyl"},
    EntityKind.PROJECT_COST: {"company_id": "lmz", "project_id": "jp-gearbox",
                              "item": "cnc-2026", "cost_type": "equipment", "year": 2026,
                              "amount": 42000000},
}

_NAMES: dict[EntityKind, tuple[str, str]] = {
    EntityKind.COMPANY: ("Company", "Companies"),
    EntityKind.CLUSTER: ("Cluster", "Clusters"),
    EntityKind.CATEGORY: ("Category", "Categories"),
    EntityKind.PROCESS: ("Process", "Processes"),
    EntityKind.PRODUCT: ("Product", "Products"),
    EntityKind.CERTIFICATION: ("Certification", "Certifications"),
    EntityKind.MEMBERSHIP: ("Membership", "Memberships"),
    EntityKind.BOM_LINE: ("BomLine", "BomLines"),
    EntityKind.CAPABILITY: ("Capability", "Capabilities"),
    EntityKind.HELD_CERTIFICATION: ("HeldCertification", "HeldCertifications"),
    EntityKind.COMPANY_PROCESS: ("CompanyProcess", "CompanyProcesses"),
    EntityKind.SUPPLY: ("Supply", "Supplies"),
    EntityKind.IMPORT: ("Import", "Imports"),
    EntityKind.NEED: ("Need", "Needs"),
    EntityKind.COOP_REQUEST: ("CoopRequest", "CoopRequests"),
    EntityKind.TIE: ("Tie", "Ties"),
    EntityKind.JOINT_PROJECT: ("JointProject", "JointProjects"),
    EntityKind.PROJECT_PARTICIPANT: ("ProjectParticipant", "ProjectParticipants"),
    EntityKind.PROJECT_COST: ("ProjectCost", "ProjectCosts"),
    EntityKind.ER_PAIR: ("ErPair", "ErPairs"),
}


@dataclass(frozen=True)
class Family:
    """The three API models of one stored kind."""

    kind: EntityKind
    create: type[BaseModel]
    public: type[BaseModel]
    page: type[BaseModel]


def _fields(kind: EntityKind, *, provenance: bool) -> dict[str, Any]:
    model = KINDS[kind].model
    return {
        name: (info.annotation, info)
        for name, info in model.model_fields.items()
        if provenance or name not in PROVENANCE_FIELDS
    }


def _family(kind: EntityKind) -> Family:
    single, plural = _NAMES[kind]
    doc = (KINDS[kind].model.__doc__ or "").strip()
    create = create_model(
        f"{single}Create",
        __config__=ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [_EXAMPLES[kind]]}),
        __doc__=f"{doc}\n\nSent to create or replace one record (provenance is set by the API).",
        **_fields(kind, provenance=False),
    )
    extra: dict[str, Any] = {}
    if kind in CONFIDENTIAL:
        extra["redacted"] = (list[str], Field(
            default_factory=list,
            description="Confidential fields hidden from this caller (another company's "
                        "data seen with a member key); their values are null here"))
    public = create_model(
        f"{single}Public",
        __doc__=f"{doc}\n\nAs stored, with provenance.",
        **_fields(kind, provenance=True),
        **extra,
    )
    page = create_model(
        f"{plural}Public",
        __doc__=f"One page of {plural.lower()} in key order; `total` counts every match.",
        data=(list[public], ...),  # type: ignore[valid-type]
        total=(int, Field(ge=0)),
        offset=(int, Field(ge=0)),
        limit=(int, Field(ge=1)),
    )
    return Family(kind, create, public, page)


FAMILIES: dict[EntityKind, Family] = {kind: _family(kind) for kind in DATA_KINDS}


class CategoryNode(BaseModel):
    """A node of the category tree with its children."""

    code: str
    name_ru: str
    name_en: str | None = None
    okpd2: str | None = None
    children: list[CategoryNode] = Field(default_factory=list)


class CategoryMarket(BaseModel):
    """Aggregated supply and demand of one category (what members may see of others).

    Sums are withheld (null) from member keys when fewer than three companies
    contribute, so that no single company's figure can be read back.
    """

    code: str
    suppliers: int = Field(description="Companies declaring the capability")
    capacity_total: float | None = Field(description="Sum of declared yearly capacities")
    price_min: float | None = None
    price_median: float | None = None
    price_max: float | None = None
    buyers: int = Field(description="Companies needing, importing or buying the category")
    demand_needs: float | None = Field(description="Sum of explicit needs (qty per year)")
    demand_imports: float | None = Field(description="Sum of imported volume per year")
    supplied_volume: float | None = Field(description="Sum of existing supply links' volume")
    withheld: bool = Field(description="True when sums are hidden (fewer than 3 contributors)")


class PlanRequest(BaseModel):
    """Plan the supply chain of one product, or of a whole cluster's OEMs at once."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"product": "seed-drill-6m", "volume": 800},
        {"cluster": "agromash48", "options": {}},
    ]})

    product: Id | None = Field(default=None, description="Product id (or give `cluster`)")
    cluster: Id | None = Field(default=None, description="Cluster id (or give `product`)")
    volume: float | None = Field(default=None, gt=0, le=MAX_AMOUNT, allow_inf_nan=False,
                                 description="Units per year (default: the product's volume)")
    options: dict[str, Any] | None = Field(default=None, description="Planner options")

    @field_validator("options")
    @classmethod
    def _finite_options(cls, options: dict[str, Any] | None) -> dict[str, Any] | None:
        # The planner's own model checks each option; a number the LP cannot take
        # (±Infinity, NaN, 1e308) is refused here, before it reaches the solver.
        for name, value in (options or {}).items():
            for item in value if isinstance(value, list) else [value]:
                # abs(nan) <= x is False, and an int too big for a float compares fine
                if (isinstance(item, int | float) and not isinstance(item, bool)
                        and not abs(item) <= MAX_AMOUNT):
                    raise ValueError(f"options.{name} must be a finite number of at most "
                                     f"{MAX_AMOUNT:g}")
        return options

    @model_validator(mode="after")
    def _one_target(self) -> PlanRequest:
        if (self.product is None) == (self.cluster is None):
            raise ValueError("give exactly one of `product` or `cluster`")
        if self.cluster is not None and self.volume is not None:
            raise ValueError("`volume` applies to a product plan, not a cluster plan")
        return self


class IngestJob(BaseModel):
    """An upload being (or having been) loaded into the store."""

    id: str
    status: Literal["queued", "running", "done", "failed", "interrupted"] = Field(
        description="'interrupted': the server stopped while the job was queued or running; "
                    "its load is all-or-nothing, and `error` says how to resume")
    files: list[str]
    progress: str | None = Field(default=None, description="What a queued or running job is "
                                 "doing now: 'files received', 'loading', "
                                 "'saving the rejects report'")
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    ok: bool | None = Field(default=None, description="True when no row was rejected")
    rejected: int | None = Field(default=None, description="How many rows were rejected")
    error: str | None = Field(default=None, description="Why the job failed, if it did (in "
                              "`lang` / `Accept-Language` when the reason has a code)")
    error_code: str | None = Field(default=None, description="The stable code of `error`, "
                                   "when it has one (graph.messages)")
    error_params: dict[str, Any] | None = Field(default=None,
                                                description="The values `error` quotes")
    report: dict[str, Any] | None = Field(
        default=None, description="The ingest report (its `rejects` list holds the first 200 "
                                  "rejected rows; all of them are in `/ingest/{id}/rejects`)")


class Health(BaseModel):
    """What store the API uses and whether it answers."""

    status: Literal["ok"]
    store: str
    detail: dict[str, Any] = Field(
        description="The store's kind; with an admin key also where it is (path or URI)")
    revision: int
    auth: bool
