"""The subsidy rules for joint projects of industrial-cluster members, as versioned data.

Government Resolution No. 41 of 28.01.2016 approves the Rules for granting
federal subsidies to participants of industrial clusters to reimburse part of
their costs in joint projects making the cluster's industrial products for
import substitution (amended by Resolution No. 1218 of 06.10.2017, among
others). What could be checked, and what could not (docs/regulations.md):

* checked — the act, its title and who may receive the subsidy: *participants*
  of an industrial cluster (so costs of non-members are left out), for
  *joint* projects, reimbursing *part* of the costs;
* NOT checked — the list of eligible cost types, the share (the "up to 50 %"
  comes from the cluster's founding session, not from the text) and the caps
  per applicant or project. The text of the Rules was not available here.

So every rule below that was not checked says ``verified=False``, and
:func:`queries.projects.estimate_subsidy` carries that into its output: the
estimate is an upper bound under unverified rules, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from coopgraph.graph.models import CostType

__all__ = ["DEFAULT_RULES", "SUBSIDY_RULES", "CostRule", "SubsidyRules"]


@dataclass(frozen=True)
class CostRule:
    """Whether one cost type is eligible: ``yes``, ``no`` or ``unknown`` (not verified)."""

    cost_type: CostType
    eligible: Literal["yes", "no", "unknown"]
    point: str | None = None  # the point of the Rules, when verified
    verified: bool = False


@dataclass(frozen=True)
class SubsidyRules:
    """One version of the rules: the share, the caps, the eligible cost types, the citations."""

    version: str
    act: str
    title: str
    amended_by: tuple[str, ...]
    max_share: float
    share_verified: bool
    share_source: str
    cap_per_applicant: float | None  # rubles; None: not known
    cap_verified: bool
    members_only: bool  # only cluster participants receive it
    members_only_verified: bool
    costs: dict[CostType, CostRule] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """True only when every rule the estimate uses was checked against the text."""
        return (self.share_verified and self.cap_verified and self.members_only_verified
                and all(c.verified for c in self.costs.values()))


SUBSIDY_RULES: dict[str, SubsidyRules] = {
    "rf-41-2016/unverified-2026-11": SubsidyRules(
        version="rf-41-2016/unverified-2026-11",
        act="Постановление Правительства РФ от 28.01.2016 № 41",
        title="Правила предоставления из федерального бюджета субсидий участникам "
              "промышленных кластеров на возмещение части затрат при реализации совместных "
              "проектов по производству промышленной продукции кластера в целях "
              "импортозамещения",
        amended_by=("Постановление Правительства РФ от 06.10.2017 № 1218",),
        max_share=0.5,
        share_verified=False,
        share_source="the cluster's founding session (5 December 2017) and docs/DESIGN: "
                     "'up to 50 % of costs'; the point of the Rules was not read",
        cap_per_applicant=None,
        cap_verified=False,
        members_only=True,
        members_only_verified=True,  # the title: subsidies *to participants* of clusters
        costs={t: CostRule(t, "unknown") for t in CostType},
        sources=(
            "https://consultant.ru/document/cons_doc_LAW_279966/ (Постановление № 1218, "
            "название Правил)",
            "https://xn--2013-93d6b8abf3a0n.xn--p1ai/2016/01/28 (сообщение о принятии № 41)",
        ),
    ),
}
DEFAULT_RULES = "rf-41-2016/unverified-2026-11"
