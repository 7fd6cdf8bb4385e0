"""Typed inputs and outputs of the matching engine (pydantic v2, JSON-serialisable).

:class:`MatchFilters` is what a caller may restrict a ranking with; it is
deliberately lenient at construction (so that a bad value is reported as
:class:`graph.errors.InvalidQuery` by the ranking function, with the same
message from the CLI and the API) and checked against the projection by
:func:`queries.candidates.check_filters`.

:class:`MatchResult` is one ranking: the query, the candidates in order, and per
candidate every scoring factor with its normalised value, raw value, weight,
contribution to the score and a sentence in Russian and English.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CandidateSource", "FactorValue", "FitKind", "MatchCandidate", "MatchFilters",
           "MatchResult"]

#: how a candidate fits: the capability evidence, ``network`` (none: the walk's signal
#: only), or for a popularity filler its :data:`CandidateSource` (no match at all)
FitKind = Literal["declared", "supplied", "related", "inferred", "registry_main",
                  "registry_extra", "network", "popular_in_category", "popular_in_region",
                  "popular"]
CandidateSource = Literal["demand", "network", "popular_in_category", "popular_in_region",
                          "popular"]


class MatchFilters(BaseModel):
    """Hard restrictions on the candidates of a ranking (all optional, all combined with AND).

    ``required_certs`` and ``min_free_capacity`` are about the *supplier* side of
    each pair: in :func:`~queries.match.rank_suppliers` they filter the candidate
    suppliers, in :func:`~queries.match.rank_buyers` they are checked against the
    querying supplier (and its free capacity in each candidate category).
    """

    model_config = ConfigDict(extra="forbid")

    max_distance_km: float | None = Field(
        default=None, description="Only partners at most this far (haversine km); "
        "partners without coordinates are dropped")
    region: str | None = Field(default=None, description="Only partners in this region")
    cluster_only: bool | str | None = Field(
        default=None, description="True: only partners sharing a cluster with the querying "
        "company; a cluster id: only members of that cluster")
    required_certs: list[str] = Field(
        default_factory=list, description="Certifications the supplier must hold, not expired")
    min_free_capacity: float | None = Field(
        default=None, description="Minimum free yearly capacity of the supplier in the category "
        "(capacity − committed supply); unknown capacity is dropped")
    registry: bool = Field(
        default=True, description="Keep capabilities inferred only from OKVED codes (registry "
        "evidence, the weakest); false drops them")


class FactorValue(BaseModel):
    """One scoring factor of one candidate."""

    name: str
    value: float = Field(description="Normalised to 0..1 (1 = best)")
    raw: float | None = Field(default=None, description="The unnormalised value, e.g. km")
    unit: str | None = None
    weight: float
    contribution: float = Field(description="weight × value")
    text_ru: str
    text_en: str


class MatchCandidate(BaseModel):
    """One ranked partner."""

    rank: int
    company_id: str
    company_name: str
    region: str | None = None
    category: str | None = Field(description="The category of the best-scoring pair")
    category_name: str | None = None
    categories: list[str] = Field(
        default_factory=list, description="Every candidate category for this partner, best first")
    fit: FitKind = Field(description="How the supplier fits the category: declared, supplied, "
                         "related, inferred, registry_main/registry_extra (OKVED), network (no "
                         "capability data, the network signal only); a popularity filler "
                         "carries its source (popular_in_category, popular_in_region, popular)")
    related: bool = Field(description="The fit is through a taxonomy relative")
    inferred: bool = Field(description="The fit is inferred from held processes")
    score: float
    relative_score: float = Field(
        default=100.0, description="The score on 0–100 over this ranking: the best candidate "
        "100, the others in proportion")
    source: CandidateSource = Field(
        default="demand", description="Where the candidate came from: demand in a category the "
        "supplier can make (demand), only the network walk (network), or — when neither gives "
        "anything — the most connected companies trading in the querying company's categories "
        "or their taxonomy neighbours (popular_in_category), of its region "
        "(popular_in_region) or of the whole graph (popular)")
    distance_km: float | None = None
    factors: list[FactorValue]
    reasons_ru: list[str] = Field(default_factory=list, description="The top reasons, Russian")
    reasons_en: list[str] = Field(default_factory=list, description="The top reasons, English")


class MatchResult(BaseModel):
    """A ranking of potential partners for one company."""

    direction: Literal["buyers", "suppliers"]
    company_id: str
    company_name: str
    category: str | None = None
    product: str | None = None
    k: int
    profile: str
    filters: MatchFilters
    n_candidates: int = Field(description="Candidates that passed the filters, before top-k")
    revision: int
    candidates: list[MatchCandidate]
    note_ru: str | None = Field(default=None, description="Why the list is what it is, when "
                                "it is a fallback or empty (Russian)")
    note_en: str | None = Field(default=None, description="The same in English")
