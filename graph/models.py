"""The domain model: every record CoopGraph stores, as pydantic v2 models.

Nodes (``Company``, ``Cluster``, ``Category``, ``Process``, ``Product``,
``Certification``) carry their own key (``id`` or ``code``); relationships
(``Membership``, ``BomLine``, ``Capability``, ``HeldCertification``,
``CompanyProcess``, ``Supply``, ``Import``, ``Need``) name the nodes they join.
Workflow records (``CoopRequest``, a cooperation request between two companies, and
the joint cluster projects: ``JointProject`` with its ``ProjectParticipant`` and
``ProjectCost`` rows) and the ``Tie`` (a cooperation contract of any type) live in
the same store. Every record carries provenance — ``source`` (file or API), ``row`` and
``ingested_at`` — so any value in the graph can be traced to where it came from.

Optional fields default to ``None`` (or an empty list) and both stores drop
``None`` values, which is what lets the embedded store and Neo4j return exactly
the same records.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from coopgraph.graph.classifiers import is_code
from coopgraph.graph.ids import inn_problem, normalize_digits, ogrn_problem
from coopgraph.graph.messages import Msg

__all__ = [
    "BomLine",
    "Capability",
    "Category",
    "Certification",
    "Cluster",
    "Company",
    "CompanyProcess",
    "CoopRequest",
    "CostType",
    "DeclineReason",
    "ErPair",
    "HeldCertification",
    "Import",
    "JointProject",
    "Membership",
    "Need",
    "Process",
    "Product",
    "ProjectCost",
    "ProjectParticipant",
    "ProjectRole",
    "Record",
    "RequestOrigin",
    "RequestState",
    "Role",
    "ServerIngestJob",
    "ServerKey",
    "ServerRejects",
    "Supply",
    "Tie",
    "TieType",
]


class Role(StrEnum):
    """What a company does in the cluster."""

    OEM = "oem"  # end-product maker
    SUPPLIER = "supplier"  # component or material maker
    UNIVERSITY = "university"
    FINANCE = "finance"
    SERVICE = "service"
    DEALER = "dealer"
    BUYER = "buyer"  # buys components or end products (покупатель, заказчик)


def _check_inn(value: str | None) -> str | None:
    if value is None:
        return None
    digits = normalize_digits(value)
    if digits == "":
        return None
    problem = inn_problem(digits)
    if problem:
        raise ValueError(problem)
    return digits


def _check_ogrn(value: str | None) -> str | None:
    if value is None:
        return None
    digits = normalize_digits(value)
    if digits == "":
        return None
    problem = ogrn_problem(digits)
    if problem:
        raise ValueError(problem)
    return digits


def _check_okved(value: str | None) -> str | None:
    """An OKVED2 code has the shape 24.51 / 28.30.59 (graph.classifiers.CODE_PATTERN)."""
    if value is not None and not is_code(value):
        raise ValueError(Msg("m.okved", value=value))
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def _as_str(value: Any) -> Any:
    """Accept numeric ids from spreadsheets (``123`` or ``123.0``) as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return value


Inn = Annotated[str | None, BeforeValidator(_as_str), AfterValidator(_check_inn)]
Ogrn = Annotated[str | None, BeforeValidator(_as_str), AfterValidator(_check_ogrn)]
# Whitespace is stripped by the models' config and whole numbers become text
# (``coerce_numbers_to_str``) in pydantic's core, not in Python callbacks: ingest
# validates millions of rows through these types.
#
# Every number is finite (no NaN, no ±Infinity: JSON cannot carry them back) and
# bounded by MAX_AMOUNT, every string by a length: the API and ingest share these
# types, so they agree on what is accepted.
MAX_KEY = 200
MAX_TEXT = 500
MAX_LIST = 100
MAX_AMOUNT = 1e12  # units, rubles or days per year: far above any real cluster's figure
# Keys are printed, written to CSV and sent as URL path segments: no control characters
# (C0, DEL, C1). Checked by pydantic-core's regex engine, so it costs ingest nothing.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"  # a regex character range
KEY_PATTERN = rf"^[^{CONTROL_CHARACTERS}]*$"
Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY, pattern=KEY_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
OptText = Annotated[Annotated[str, Field(max_length=MAX_TEXT)] | None,
                    BeforeValidator(_blank_to_none)]
OptKey = Annotated[Annotated[str, Field(max_length=MAX_KEY, pattern=KEY_PATTERN)] | None,
                   BeforeValidator(_blank_to_none)]
KeyList = Annotated[list[Annotated[str, Field(max_length=MAX_KEY, pattern=KEY_PATTERN)]],
                    Field(max_length=MAX_LIST)]
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
NonNeg = Amount
# Constraints sit on the non-None member: on the union they raise TypeError for None.
OptNonNeg = Annotated[Amount | None, BeforeValidator(_blank_to_none)]
Positive = Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]

CONFIDENTIAL_MARK = "x-confidential"


def confidential(description: str) -> Any:
    """A field only its owner (and the centre) sees; others see it aggregated.

    The one declaration of what is confidential: :func:`graph.schema.confidential_fields`
    reads this mark, and every output a member can reach derives from it.
    """
    return Field(default=None, description=description,
                 json_schema_extra={CONFIDENTIAL_MARK: True})


class Record(BaseModel):
    """Base of every stored record: strict about unknown fields, with provenance."""

    # defer_build: each model's validator is built on first use, not at import (0.1 s
    # of every CLI call that never validates a record).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True,
                              defer_build=True)

    source: OptText = Field(default=None, description="File (or 'api') the record came from")
    row: int | None = Field(default=None, ge=0, description="Row number in the source file")
    ingested_at: dt.datetime | None = Field(default=None, description="When it was written")


# --- nodes -----------------------------------------------------------------------


class Company(Record):
    """A legal entity: a member of a cluster or a supplier/buyer around it."""

    id: Key
    name: Text
    inn: Inn = None
    ogrn: Ogrn = None
    legal_form: OptText = None
    region: OptText = None
    municipality: OptText = None
    lat: Annotated[Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None,
                   BeforeValidator(_blank_to_none)] = None
    lon: Annotated[Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None,
                   BeforeValidator(_blank_to_none)] = None
    employees: Annotated[Annotated[int, Field(ge=0, le=10_000_000)] | None,
                         BeforeValidator(_blank_to_none)] = None
    roles: list[Role] = Field(default_factory=list)
    # "gazetteer": lat/lon are approximate — the centre of the municipality's
    # settlement, filled by ingest from a shipped gazetteer (ingest/gazetteer.py);
    # absent: as given.
    coords_source: Literal["gazetteer"] | None = None
    # From the registries (ingest/registry.py): OKVED2 (ОК 029-2014) activity codes,
    # the main one first in ``okved`` too, and where and as of when they were read.
    # (plain keys with a shape check, not a regex pattern: ingest's fast path reads them)
    okved_main: Annotated[OptKey, AfterValidator(_check_okved)] = Field(
        default=None, description="Main OKVED2 activity code (24.51)")
    okved: KeyList = Field(
        default_factory=list, description="Every OKVED2 activity code (the main one first)")
    registry_source: OptText = Field(
        default=None, description="Registry and file the registry fields came from")
    registry_date: dt.date | None = Field(
        default=None, description="Date of the registry extract")

    @model_validator(mode="after")
    def _both_coordinates(self) -> Company:
        if (self.lat is None) != (self.lon is None):
            raise ValueError(Msg("m.lat_lon"))
        return self


class Cluster(Record):
    """An industrial cluster; ``intra_share_threshold`` is 0.2, or 0.1 in specified territories."""

    id: Key
    name: Text
    region: OptText = None
    intra_share_threshold: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.2


class Category(Record):
    """A node of the component/material taxonomy (a tree through ``parent``)."""

    code: Key
    name_ru: Text
    name_en: OptText = None
    okpd2: OptText = None
    parent: OptKey = None
    processes: KeyList = Field(default_factory=list, description="Process codes it needs")
    synonyms: Annotated[list[Annotated[str, Field(max_length=MAX_TEXT)]],
                        Field(max_length=MAX_LIST)] = Field(default_factory=list)
    unit: OptText = None
    unit_price: OptNonNeg = None

    @model_validator(mode="after")
    def _not_own_parent(self) -> Category:
        if self.parent == self.code:
            raise ValueError(Msg("m.own_parent", code=self.code))
        return self


class Process(Record):
    """A manufacturing process: casting, forging, machining, welding…"""

    code: Key
    name_ru: Text
    name_en: OptText = None


class Product(Record):
    """An end product of an OEM (a combine, a seed drill…)."""

    id: Key
    name: Text
    maker_id: Annotated[
        Annotated[str, Field(max_length=MAX_KEY, pattern=KEY_PATTERN)] | None,
        BeforeValidator(_as_str), BeforeValidator(_blank_to_none)
    ] = None
    okpd2: OptText = None
    annual_volume: OptNonNeg = confidential("Units made per year")
    unit_price: OptNonNeg = confidential("Price of one unit, rubles")


class Certification(Record):
    """A certification scheme (ISO 9001, IATF 16949, GOST R…)."""

    code: Key
    name: OptText = None


# --- relationships ---------------------------------------------------------------


class Membership(Record):
    """``(Company)-[:MEMBER_OF {since}]->(Cluster)``."""

    company_id: Key
    cluster_id: Key
    since: dt.date | None = None


class BomLine(Record):
    """One line of a multi-level bill of materials: ``parent`` needs ``qty`` of ``child``.

    The parent is a product (``parent_kind='product'``) or a category, so that an
    assembly category can itself require components.
    """

    parent: Key
    child: Key
    qty: Positive = 1.0
    parent_kind: Literal["product", "category"] = "product"

    @model_validator(mode="after")
    def _not_self(self) -> BomLine:
        if self.parent_kind == "category" and self.parent == self.child:
            raise ValueError(Msg("m.bom_self", code=self.parent))
        return self


class Capability(Record):
    """``(Company)-[:CAN_SUPPLY]->(Category)``: a declared capability."""

    company_id: Key
    category: Key
    capacity_per_year: OptNonNeg = confidential("Free capacity, units per year")
    lead_time_days: OptNonNeg = None
    min_order: OptNonNeg = confidential("Smallest order, units")
    unit_price: OptNonNeg = confidential("Price of one unit, rubles")


class HeldCertification(Record):
    """``(Company)-[:HOLDS {valid_until}]->(Certification)``."""

    company_id: Key
    cert: Key
    valid_until: dt.date | None = None


class CompanyProcess(Record):
    """``(Company)-[:HAS_PROCESS]->(Process)``."""

    company_id: Key
    process: Key


class Supply(Record):
    """``(Company)-[:SUPPLIES]->(Company)``: an existing cooperation link for one category."""

    supplier_id: Key
    buyer_id: Key
    category: Key
    volume_per_year: OptNonNeg = confidential("Units bought per year")
    unit_price: OptNonNeg = confidential("Price of one unit, rubles")
    since: dt.date | None = None

    @model_validator(mode="after")
    def _two_companies(self) -> Supply:
        if self.supplier_id == self.buyer_id:
            raise ValueError(Msg("m.supply_self", id=self.supplier_id))
        return self


class Import(Record):
    """``(Company)-[:IMPORTS]->(Category)``: bought from outside the region or country."""

    company_id: Key
    category: Key
    country: Annotated[str, Field(max_length=MAX_KEY), BeforeValidator(_blank_to_none)] = "unknown"
    volume_per_year: OptNonNeg = confidential("Units imported per year")
    unit_price: OptNonNeg = confidential("Price of one unit, rubles")


class Need(Record):
    """``(Company)-[:NEEDS]->(Category)``: an explicit request for a supplier."""

    company_id: Key
    category: Key
    qty_per_year: OptNonNeg = confidential("Units needed per year")
    required_certs: KeyList = Field(default_factory=list)
    max_distance_km: OptNonNeg = None


# --- cooperation: requests, ties, joint projects ----------------------------------


class TieType(StrEnum):
    """The type of a cooperation contract between two companies.

    Which of them count for the cluster KPIs of Resolution No. 779 is data:
    :data:`queries.regulations.TIE_RULES` (not decided here).
    """

    SUPPLY = "supply"  # supply of industrial products
    PRODUCTION_SERVICES = "production_services"  # works/services of a production nature
    RND = "rnd"  # R&D and design work
    TRAINING = "training"  # training and internships
    FINANCING = "financing"  # financing and leasing
    JOINT_PROJECT = "joint_project"  # a joint (import-substituting) project
    OTHER = "other"


class RequestState(StrEnum):
    """Where a cooperation request stands (the legal moves: :data:`queries.requests.MOVES`)."""

    PROPOSED = "proposed"
    SENT = "sent"
    IN_TALKS = "in_talks"
    AGREED = "agreed"
    DECLINED = "declined"
    EXPIRED = "expired"


class DeclineReason(StrEnum):
    """Why the addressee declined a request."""

    PRICE = "price"
    CAPACITY = "capacity"
    QUALITY = "quality"  # quality or certification
    DISTANCE = "distance"
    LEAD_TIME = "lead_time"
    NOT_RELEVANT = "not_relevant"
    OTHER = "other"


class RequestOrigin(StrEnum):
    """What the request was opened from."""

    RECOMMENDATION = "recommendation"
    NEED = "need"
    IMPORT = "import"
    IDLE_CAPACITY = "idle_capacity"
    OTHER = "other"


Year = Annotated[int, Field(ge=2000, le=2100)]
History = Annotated[list[Annotated[str, Field(max_length=MAX_TEXT)]], Field(max_length=MAX_LIST)]


class CoopRequest(Record):
    """A cooperation request from ``from_id`` to ``to_id`` and where it stands.

    ``requester_role`` says which side of a supply the requester is on (``buyer``: it
    asks ``to_id`` to supply; ``supplier``: it offers to supply ``to_id``;
    ``partner``: a tie other than supply). ``version`` grows by one on every
    change (optimistic concurrency); ``history`` holds one
    ``at;version;from state;to state;actor`` line per state change (the change feed;
    ``;``, not ``|``, which joins list cells in CSV files).
    Only the two parties and the cluster centre see a request.
    """

    id: Key
    from_id: Key
    to_id: Key
    requester_role: Literal["buyer", "supplier", "partner"] = "buyer"
    tie_type: TieType = TieType.SUPPLY
    origin: RequestOrigin = RequestOrigin.OTHER
    opened_by: OptKey = None  # the company that opened it, or "centre"
    category: OptKey = None
    volume_per_year: OptNonNeg = confidential("Units per year asked for")
    target_price: OptNonNeg = confidential("Target price of one unit, rubles")
    message: OptText = confidential("The requester's message")
    due_date: dt.date | None = None
    state: RequestState = RequestState.PROPOSED
    version: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    decline_reason: DeclineReason | None = None
    decline_text: OptText = confidential("The addressee's words on a decline")
    agreed_on: dt.date | None = None
    agreed_volume: OptNonNeg = confidential("Units per year agreed")
    agreed_price: OptNonNeg = confidential("Price of one unit agreed, rubles")
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    history: History = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_to_itself(self) -> CoopRequest:
        if self.from_id == self.to_id:
            raise ValueError(Msg("m.request_self", id=self.from_id))
        return self


class Tie(Record):
    """``(Company)-[:TIED_WITH]->(Company)``: a cooperation contract of one type, over a period.

    A tie joins two parties whatever the direction (the supply itself, with its
    volumes, is a :class:`Supply`); ``until`` empty means open-ended.
    """

    company_id: Key
    partner_id: Key
    tie_type: TieType
    since: dt.date | None = None
    until: dt.date | None = None
    category: OptKey = None
    contract: OptText = None
    value: OptNonNeg = confidential("Contract value, rubles per year")
    request_id: OptKey = None
    project_id: OptKey = None

    @model_validator(mode="after")
    def _tie_parties_and_dates(self) -> Tie:
        if self.company_id == self.partner_id:
            raise ValueError(Msg("m.tie_self", id=self.company_id))
        if self.since and self.until and self.until < self.since:
            raise ValueError(Msg("m.tie_dates", until=str(self.until), since=str(self.since)))
        return self


class ProjectRole(StrEnum):
    """A participant's role in a joint project."""

    LEAD = "lead"
    COMPONENT_MAKER = "component_maker"
    RND_PARTNER = "rnd_partner"
    FINANCIER = "financier"
    OTHER = "other"


class CostType(StrEnum):
    """Kinds of project costs (CoopGraph's list; which are eligible is
    :data:`queries.subsidy.SUBSIDY_RULES`' call)."""

    EQUIPMENT = "equipment"
    RND = "rnd"
    TOOLING = "tooling"
    CERTIFICATION = "certification"
    TRAINING = "training"
    LOAN_INTEREST = "loan_interest"
    LEASING = "leasing"
    CONSTRUCTION = "construction"
    STARTER_BATCH = "starter_batch"  # buying a starter batch of components from another member
    OTHER = "other"


class JointProject(Record):
    """A joint project of cluster members: a product or category to localise.

    The import it replaces, and the expected results. Its participants and cost
    items are :class:`ProjectParticipant` and :class:`ProjectCost` records.
    """

    id: Key
    name: Text
    cluster_id: OptKey = None
    category: OptKey = None
    product_name: OptText = None
    import_country: OptText = None
    import_volume: OptNonNeg = confidential("Units imported per year that the project replaces")
    import_value: OptNonNeg = confidential("Value of that import, rubles per year")
    expected_import_replaced: OptNonNeg = confidential("Import replaced, rubles per year")
    expected_intra_purchases: OptNonNeg = confidential(
        "Purchases between members added, rubles per year")
    expected_jobs: Annotated[Annotated[int, Field(ge=0, le=10_000_000)] | None,
                             BeforeValidator(_blank_to_none)] = None
    start_year: Year | None = None
    end_year: Year | None = None
    rules_version: OptKey = None
    summary: OptText = None

    @model_validator(mode="after")
    def _project_years(self) -> JointProject:
        if self.start_year and self.end_year and self.end_year < self.start_year:
            raise ValueError(Msg("m.project_dates"))
        return self


class ProjectParticipant(Record):
    """``(Company)-[:PARTICIPATES_IN {role}]->(JointProject)``."""

    company_id: Key
    project_id: Key
    role: ProjectRole = ProjectRole.COMPONENT_MAKER
    part: OptText = None  # what it makes or does in the project
    category: OptKey = None


class ProjectCost(Record):
    """``(Company)-[:BEARS_COST]->(JointProject)``: one cost item of one participant, one year.

    ``item`` names the item within the participant's part of the project
    (``press-line-2025``).
    """

    company_id: Key
    project_id: Key
    item: Key
    cost_type: CostType
    year: Year
    amount: OptNonNeg = confidential("Rubles (empty: not yet known)")


# --- entity resolution ------------------------------------------------------------

ER_STATUSES = ("review", "merged", "accepted", "rejected", "split")
_Json = Annotated[Annotated[str, Field(max_length=10_000_000)] | None,
                  BeforeValidator(_blank_to_none)]


class ErPair(Record):
    """Two company records entity resolution looked at, and what became of them.

    ``status``: ``review`` (a human should decide), ``merged`` (merged by a load),
    ``accepted`` (a reviewer said: one company), ``rejected`` (a reviewer said: two
    companies), ``split`` (a merge undone). ``a_id`` is the company kept, ``b_id`` the
    one folded into it; ``folded``, ``kept_before`` and ``moved`` hold (as JSON) what a
    merge folded, so that it can be split back. Every later load honours
    ``accepted`` (always merged), ``rejected`` and ``split`` (never merged).
    """

    id: Key
    a_id: Key
    b_id: Key
    a_name: Text
    b_name: Text
    status: Literal["review", "merged", "accepted", "rejected", "split"] = "review"
    score: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0
    reason: OptText = None
    previous: Literal["review", "merged", "accepted", "rejected", "split"] | None = None
    decided_by: OptText = None
    decided_at: dt.datetime | None = None
    folded: _Json = None
    kept_before: _Json = None
    moved: _Json = None


# --- server state (issue #15): what API replicas share through the store ------------------
# Never analytic, never an API resource, never exported (KindSpec.internal).

KEY_ROLES = ("admin", "analyst", "member")
JOB_STATUSES = ("queued", "running", "done", "failed", "interrupted")


class ServerKey(Record):
    """An API key as every replica reads it: its SHA-256 hash, never the secret."""

    id: Key
    name: OptText = None
    role: Literal["admin", "analyst", "member"]
    company_id: OptKey = None
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class ServerIngestJob(Record):
    """An ingest job's status, shared by every replica; ``report`` is its report as JSON.

    ``heartbeat_at`` is renewed by the process running the job; a ``queued`` or
    ``running`` job whose heartbeat stopped belonged to a process that died.
    ``chunks`` counts its :class:`ServerRejects` records.
    """

    id: Key
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    files: KeyList = Field(default_factory=list)
    progress: OptText = None
    created_at: dt.datetime
    heartbeat_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    ok: bool | None = None
    rejected: int | None = Field(default=None, ge=0)
    chunks: int | None = Field(default=None, ge=0)
    error: Annotated[str, Field(max_length=10_000)] | None = None
    report: _Json = None


class ServerRejects(Record):
    """One chunk of an ingest job's rejected rows: ``rows`` is a JSON list of
    ``[file, row, column, reason]``; chunk ``n`` of job ``j`` has id ``j-n``."""

    id: Key
    job_id: Key
    n: int = Field(ge=0)
    rows: Annotated[str, Field(max_length=10_000_000)]
