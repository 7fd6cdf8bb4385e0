"""The graph's schema: every entity kind, its model, its key and how it is stored.

This is the one table both stores read: a node kind has a Neo4j label and a key
property; a relationship kind has a relationship type, the labels and key fields
of its two ends, and the fields that make it unique. Labels and relationship
types come only from here — never from user input — which is what makes it safe
for the Neo4j store to put them in query text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.models import (
    CONFIDENTIAL_MARK,
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
    "DATA_KINDS",
    "DELETE_POLICY",
    "INTERNAL_KINDS",
    "KINDS",
    "NODE_KINDS",
    "NODE_REFERENCES",
    "PROVENANCE_FIELDS",
    "REFERENCES",
    "REL_KINDS",
    "WORKFLOW_KINDS",
    "EntityKind",
    "KindSpec",
    "OnDelete",
    "Reference",
    "confidential_fields",
    "kind_of",
    "references_from",
    "references_to",
    "spec",
    "to_props",
]

PROVENANCE_FIELDS = ("source", "row", "ingested_at")


class EntityKind(StrEnum):
    """Every kind of record the store holds (nodes first, then relationships)."""

    COMPANY = "company"
    CLUSTER = "cluster"
    CATEGORY = "category"
    PROCESS = "process"
    PRODUCT = "product"
    CERTIFICATION = "certification"
    MEMBERSHIP = "membership"
    BOM_LINE = "bom_line"
    CAPABILITY = "capability"
    HELD_CERTIFICATION = "held_certification"
    COMPANY_PROCESS = "company_process"
    SUPPLY = "supply"
    IMPORT = "import"
    NEED = "need"
    # cooperation (issue #13): a request's workflow, every kind of tie, joint projects
    COOP_REQUEST = "coop_request"
    JOINT_PROJECT = "joint_project"
    TIE = "tie"
    PROJECT_PARTICIPANT = "project_participant"
    PROJECT_COST = "project_cost"
    ER_PAIR = "er_pair"  # entity resolution: a merge or a pair for review, and its decision
    # server state shared by API replicas (issue #15): internal, see KindSpec.internal
    API_KEY = "api_key"
    INGEST_JOB = "ingest_job"
    INGEST_REJECTS = "ingest_rejects"


@dataclass(frozen=True)
class End:
    """One end of a relationship: the field holding the key and the node kind it names."""

    field: str
    kind: EntityKind


@dataclass(frozen=True)
class KindSpec:
    """How one entity kind is modelled and stored."""

    kind: EntityKind
    model: type[Record]
    key_fields: tuple[str, ...]
    label: str | None = None  # node kinds
    rel_type: str | None = None  # relationship kinds
    start: End | None = None
    end: End | None = None
    # False for workflow records no analytic reads: writing them leaves the analytic
    # revision (graph.changelog) where it was, so the projection stays current.
    analytic: bool = True
    # True for the server's own state (API keys, ingest jobs): stored like any kind so
    # that every API replica sees it, but no API resource, export, sample or ingest
    # format carries it. Internal kinds are never analytic.
    internal: bool = False

    @property
    def is_node(self) -> bool:
        return self.label is not None

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)

    def key_of(self, props: Mapping[str, Any]) -> tuple[str, ...]:
        """The record's key as a tuple of strings (one element for nodes)."""
        fields = self.key_fields
        if len(fields) == 1:
            return (str(props[fields[0]]),)
        if len(fields) == 2:
            return (str(props[fields[0]]), str(props[fields[1]]))
        return tuple([str(props[f]) for f in fields])

    def key_text(self, props: Mapping[str, Any]) -> str:
        """The key as one string (``a|b|c``): the unique property in Neo4j."""
        return "|".join(self.key_of(props))

    def start_of(self, props: Mapping[str, Any]) -> tuple[EntityKind, str]:
        """The node kind and key the relationship starts at."""
        assert self.start is not None
        if self.kind is EntityKind.BOM_LINE and props.get("parent_kind") == "category":
            return EntityKind.CATEGORY, str(props["parent"])
        return self.start.kind, str(props[self.start.field])

    def end_of(self, props: Mapping[str, Any]) -> tuple[EntityKind, str]:
        """The node kind and key the relationship ends at."""
        assert self.end is not None
        return self.end.kind, str(props[self.end.field])

    def nodes_of(self, props: Mapping[str, Any]) -> tuple[tuple[str, str], tuple[str, str]]:
        """Both ends as ``(kind value, key)`` pairs: the embedded store's node ids.

        The hot path of every relationship write, so it avoids enum lookups.
        """
        assert self.start is not None and self.end is not None
        if self.kind is EntityKind.BOM_LINE and props.get("parent_kind") == "category":
            start = ("category", str(props["parent"]))
        else:
            start = (self.start.kind._value_, str(props[self.start.field]))
        return start, (self.end.kind._value_, str(props[self.end.field]))


_C = EntityKind
KINDS: dict[EntityKind, KindSpec] = {
    s.kind: s
    for s in (
        KindSpec(_C.COMPANY, Company, ("id",), label="Company"),
        KindSpec(_C.CLUSTER, Cluster, ("id",), label="Cluster"),
        KindSpec(_C.CATEGORY, Category, ("code",), label="Category"),
        KindSpec(_C.PROCESS, Process, ("code",), label="Process"),
        KindSpec(_C.PRODUCT, Product, ("id",), label="Product"),
        KindSpec(_C.CERTIFICATION, Certification, ("code",), label="Certification"),
        KindSpec(
            _C.MEMBERSHIP, Membership, ("company_id", "cluster_id"), rel_type="MEMBER_OF",
            start=End("company_id", _C.COMPANY), end=End("cluster_id", _C.CLUSTER),
        ),
        KindSpec(
            _C.BOM_LINE, BomLine, ("parent_kind", "parent", "child"), rel_type="REQUIRES",
            start=End("parent", _C.PRODUCT), end=End("child", _C.CATEGORY),
        ),
        KindSpec(
            _C.CAPABILITY, Capability, ("company_id", "category"), rel_type="CAN_SUPPLY",
            start=End("company_id", _C.COMPANY), end=End("category", _C.CATEGORY),
        ),
        KindSpec(
            _C.HELD_CERTIFICATION, HeldCertification, ("company_id", "cert"), rel_type="HOLDS",
            start=End("company_id", _C.COMPANY), end=End("cert", _C.CERTIFICATION),
        ),
        KindSpec(
            _C.COMPANY_PROCESS, CompanyProcess, ("company_id", "process"),
            rel_type="HAS_PROCESS",
            start=End("company_id", _C.COMPANY), end=End("process", _C.PROCESS),
        ),
        KindSpec(
            _C.SUPPLY, Supply, ("supplier_id", "buyer_id", "category"), rel_type="SUPPLIES",
            start=End("supplier_id", _C.COMPANY), end=End("buyer_id", _C.COMPANY),
        ),
        KindSpec(
            _C.IMPORT, Import, ("company_id", "category", "country"), rel_type="IMPORTS",
            start=End("company_id", _C.COMPANY), end=End("category", _C.CATEGORY),
        ),
        KindSpec(
            _C.NEED, Need, ("company_id", "category"), rel_type="NEEDS",
            start=End("company_id", _C.COMPANY), end=End("category", _C.CATEGORY),
        ),
        KindSpec(_C.COOP_REQUEST, CoopRequest, ("id",), label="CoopRequest", analytic=False),
        KindSpec(_C.JOINT_PROJECT, JointProject, ("id",), label="JointProject",
                 analytic=False),
        KindSpec(
            _C.TIE, Tie, ("company_id", "partner_id", "tie_type"), rel_type="TIED_WITH",
            start=End("company_id", _C.COMPANY), end=End("partner_id", _C.COMPANY),
        ),
        KindSpec(
            _C.PROJECT_PARTICIPANT, ProjectParticipant, ("company_id", "project_id"),
            rel_type="PARTICIPATES_IN", analytic=False,
            start=End("company_id", _C.COMPANY), end=End("project_id", _C.JOINT_PROJECT),
        ),
        KindSpec(
            _C.PROJECT_COST, ProjectCost, ("company_id", "project_id", "item"),
            rel_type="BEARS_COST", analytic=False,
            start=End("company_id", _C.COMPANY), end=End("project_id", _C.JOINT_PROJECT),
        ),
        # a node of its own, not a relationship: it must outlive either company
        KindSpec(_C.ER_PAIR, ErPair, ("id",), label="ErPair", analytic=False),
        KindSpec(_C.API_KEY, ServerKey, ("id",), label="ApiKey", analytic=False,
                 internal=True),
        KindSpec(_C.INGEST_JOB, ServerIngestJob, ("id",), label="IngestJob", analytic=False,
                 internal=True),
        KindSpec(_C.INGEST_REJECTS, ServerRejects, ("id",), label="IngestRejects",
                 analytic=False, internal=True),
    )
}
NODE_KINDS = tuple(k for k, s in KINDS.items() if s.is_node)
REL_KINDS = tuple(k for k, s in KINDS.items() if not s.is_node)
_BY_MODEL = {s.model: s.kind for s in KINDS.values()}
# Workflow kinds: stored and listed like the others, read by no analytic.
WORKFLOW_KINDS = frozenset(k for k, s in KINDS.items() if not s.analytic)
# Server state (keys, ingest jobs): not data of the cluster, never shown as such.
INTERNAL_KINDS = frozenset(k for k, s in KINDS.items() if s.internal)
# What the cluster's data is made of: every kind an API resource, export or dump may show.
DATA_KINDS = tuple(k for k in KINDS if k not in INTERNAL_KINDS)

class OnDelete(StrEnum):
    """What a kind's delete does to the records that refer to it."""

    CASCADE = "cascade"  # the dependents go (or are detached, see Reference.on_cascade)
    RESTRICT = "restrict"  # refused (HasDependents, 409) unless the caller asks to cascade


@dataclass(frozen=True)
class Reference:
    """A field of ``source`` records that names records of ``target`` (by their key).

    ``many``: the field is a list of keys. ``when``: the reference holds only for
    records whose field has that value (a BOM line's ``parent`` is a product or a
    category by ``parent_kind``). ``on_cascade``: what a cascading delete of the
    target does to the referring record — ``"delete"`` it, or ``"detach"`` it
    (null the optional field, or drop the key from the list) and keep it.
    ``rel``: the relationship type that materialises a node field in Neo4j.
    """

    source: EntityKind
    field: str
    target: EntityKind
    many: bool = False
    when: tuple[str, str] | None = None
    on_cascade: Literal["delete", "detach"] = "delete"
    rel: str | None = None

    def applies(self, props: Mapping[str, Any]) -> bool:
        """True when ``props`` (a stored ``source`` record) holds this reference."""
        if self.when is None:
            return True
        name, value = self.when
        return props.get(name, _DEFAULTS.get((self.source, name))) == value

    def keys_in(self, props: Mapping[str, Any]) -> list[str]:
        """The target keys ``props`` names through this reference (none, one or several)."""
        if not self.applies(props):
            return []
        value = props.get(self.field)
        if value is None:
            return []
        return [str(v) for v in value] if self.many else [str(value)]

    @property
    def text(self) -> str:
        """``supply.category → category``: how messages name the reference."""
        return f"{self.source.value}.{self.field} → {self.target.value}"


_DEFAULTS = {(_C.BOM_LINE, "parent_kind"): "product"}


def _refs(*refs: Reference) -> tuple[Reference, ...]:
    return refs


_R = Reference
# Every reference in the graph: the one declaration that the upsert check, ingest's
# check, the delete policy, the projection and ``coopgraph check`` all read.
REFERENCES: tuple[Reference, ...] = _refs(
    _R(_C.CATEGORY, "parent", _C.CATEGORY, on_cascade="detach", rel="CHILD_OF"),
    _R(_C.CATEGORY, "processes", _C.PROCESS, many=True, on_cascade="detach",
       rel="NEEDS_PROCESS"),
    _R(_C.PRODUCT, "maker_id", _C.COMPANY, on_cascade="detach", rel="MAKES"),
    _R(_C.MEMBERSHIP, "company_id", _C.COMPANY),
    _R(_C.MEMBERSHIP, "cluster_id", _C.CLUSTER),
    _R(_C.BOM_LINE, "parent", _C.PRODUCT, when=("parent_kind", "product")),
    _R(_C.BOM_LINE, "parent", _C.CATEGORY, when=("parent_kind", "category")),
    _R(_C.BOM_LINE, "child", _C.CATEGORY),
    _R(_C.CAPABILITY, "company_id", _C.COMPANY),
    _R(_C.CAPABILITY, "category", _C.CATEGORY),
    _R(_C.HELD_CERTIFICATION, "company_id", _C.COMPANY),
    _R(_C.HELD_CERTIFICATION, "cert", _C.CERTIFICATION),
    _R(_C.COMPANY_PROCESS, "company_id", _C.COMPANY),
    _R(_C.COMPANY_PROCESS, "process", _C.PROCESS),
    _R(_C.SUPPLY, "supplier_id", _C.COMPANY),
    _R(_C.SUPPLY, "buyer_id", _C.COMPANY),
    _R(_C.SUPPLY, "category", _C.CATEGORY),  # a property: Supply joins two companies
    _R(_C.IMPORT, "company_id", _C.COMPANY),
    _R(_C.IMPORT, "category", _C.CATEGORY),
    _R(_C.NEED, "company_id", _C.COMPANY),
    _R(_C.NEED, "category", _C.CATEGORY),
    _R(_C.NEED, "required_certs", _C.CERTIFICATION, many=True, on_cascade="detach"),
    _R(_C.COOP_REQUEST, "from_id", _C.COMPANY),
    _R(_C.COOP_REQUEST, "to_id", _C.COMPANY),
    _R(_C.COOP_REQUEST, "category", _C.CATEGORY, on_cascade="detach"),
    _R(_C.JOINT_PROJECT, "category", _C.CATEGORY, on_cascade="detach"),
    _R(_C.TIE, "company_id", _C.COMPANY),
    _R(_C.TIE, "partner_id", _C.COMPANY),
    _R(_C.TIE, "category", _C.CATEGORY, on_cascade="detach"),
    _R(_C.PROJECT_PARTICIPANT, "company_id", _C.COMPANY),
    _R(_C.PROJECT_PARTICIPANT, "project_id", _C.JOINT_PROJECT),
    _R(_C.PROJECT_PARTICIPANT, "category", _C.CATEGORY, on_cascade="detach"),
    _R(_C.PROJECT_COST, "company_id", _C.COMPANY),
    _R(_C.PROJECT_COST, "project_id", _C.JOINT_PROJECT),
)

# What deleting a record of each kind does to the records that refer to it
# (relationship kinds: nothing refers to them, a delete just deletes).
#
# ==============  ========  ===============================================================
# kind            policy    on delete
# ==============  ========  ===============================================================
# company         cascade   its memberships, capabilities, processes, held certifications,
#                           supplies (both ways), imports and needs go; the products it
#                           makes stay, with ``maker_id`` cleared (a BOM is the cluster's)
# product         cascade   its BOM lines go
# category        restrict  refused while capabilities, supplies, imports, needs, BOM
#                           lines (as parent or child) or child categories name it; with
#                           cascade those records go and child categories become roots
# process         restrict  refused while companies or categories name it; with cascade
#                           it is dropped from those records (they stay)
# certification   restrict  refused while companies hold it or needs require it; with
#                           cascade the held certifications go and needs drop it
# cluster         restrict  refused while it has members; with cascade the memberships go
# ==============  ========  ===============================================================
DELETE_POLICY: dict[EntityKind, OnDelete] = {
    _C.COMPANY: OnDelete.CASCADE,
    _C.PRODUCT: OnDelete.CASCADE,
    _C.CATEGORY: OnDelete.RESTRICT,
    _C.PROCESS: OnDelete.RESTRICT,
    _C.CERTIFICATION: OnDelete.RESTRICT,
    _C.CLUSTER: OnDelete.RESTRICT,
    _C.JOINT_PROJECT: OnDelete.CASCADE,  # its participants and cost items go
}


def references_from(kind: EntityKind | str) -> tuple[Reference, ...]:
    """The references held by records of ``kind`` (relationship ends first)."""
    return _FROM[EntityKind(kind)]


def references_to(kind: EntityKind | str) -> tuple[Reference, ...]:
    """The references that name records of ``kind``."""
    return _TO[EntityKind(kind)]


_FROM = {k: tuple(r for r in REFERENCES if r.source is k) for k in KINDS}
_TO = {k: tuple(r for r in REFERENCES if r.target is k) for k in KINDS}

# Node fields that name other nodes, materialised in Neo4j as relationships for
# analysts' Cypher: (field, target kind, relationship type) by referring kind.
NODE_REFERENCES: dict[EntityKind, tuple[tuple[str, EntityKind, str], ...]] = {
    kind: tuple((r.field, r.target, r.rel) for r in refs if r.rel is not None)
    for kind, refs in _FROM.items() if any(r.rel is not None for r in refs)
}


def confidential_fields(kind: EntityKind | str) -> tuple[str, ...]:
    """The fields of ``kind`` marked confidential in the model (see ``graph.models.confidential``).

    Only the owning company (and the cluster centre) sees them; everyone else sees them
    aggregated over enough other companies.
    """
    return _CONFIDENTIAL[EntityKind(kind)]


def _marked(model: type[Record]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items()
                 if isinstance(info.json_schema_extra, dict)
                 and info.json_schema_extra.get(CONFIDENTIAL_MARK))


_CONFIDENTIAL: dict[EntityKind, tuple[str, ...]] = {k: _marked(s.model) for k, s in KINDS.items()}


def spec(kind: EntityKind | str) -> KindSpec:
    """The spec of ``kind`` (accepts the enum or its string value)."""
    try:
        return KINDS[EntityKind(kind)]
    except ValueError:
        names = ", ".join(k.value for k in EntityKind)
        raise InvalidQuery(f"unknown entity kind {kind!r}; known kinds: {names}") from None


def kind_of(record: Record) -> EntityKind:
    """The entity kind of a model instance."""
    try:
        return _BY_MODEL[type(record)]
    except KeyError:
        raise InvalidQuery(f"{type(record).__name__} is not a storable record") from None


def to_props(record: Record) -> dict[str, Any]:
    """A record as stored: JSON-compatible values, ``None`` fields dropped.

    Dates and datetimes become ISO strings so that both stores hold (and return)
    the same values.
    """
    return record.model_dump(mode="json", exclude_none=True)
