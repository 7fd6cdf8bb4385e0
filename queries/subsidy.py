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

A second version, ``rf-41-2016/secondary-2023``, encodes the regime the Government
announced for costs from 1 January 2023 and the Ministry of Industry and Trade's
selection notice of 2024 describe (secondary sources, quoted in
docs/regulations.md): only the purchase of *starter batches* of components made
by other members (``CostType.STARTER_BATCH``), at most 50 % of those costs and at
most 150 million rubles per applicant. Its points of the Rules are not known
either, so it is unverified too; a project (or ``?rules=``) chooses it.
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
    "rf-41-2016/secondary-2023": SubsidyRules(
        version="rf-41-2016/secondary-2023",
        act="Постановление Правительства РФ от 28.01.2016 № 41 (в ред. с 01.01.2023, "
            "по вторичным источникам)",
        title="Правила предоставления из федерального бюджета субсидий участникам "
              "промышленных кластеров на возмещение части затрат при реализации совместных "
              "проектов по производству промышленной продукции кластера в целях "
              "импортозамещения",
        amended_by=("Постановление Правительства РФ от 06.10.2017 № 1218",
                    "Постановление Правительства РФ от 08.04.2021 № 564",
                    "постановление, подписанное в декабре 2022 г. (номер не установлен)"),
        max_share=0.5,
        share_verified=False,
        share_source="the Government's announcement (costs from 1 January 2023: up to 50 % of "
                     "the cost of starter batches made by other members) and the Ministry's "
                     "selection notice of September 2024 ('не более 50 процентов указанных "
                     "затрат'); the point of the Rules was not read",
        cap_per_applicant=150_000_000.0,
        cap_verified=False,
        members_only=True,
        members_only_verified=True,
        costs={t: CostRule(t, "yes" if t is CostType.STARTER_BATCH else "no") for t in CostType},
        sources=(
            "https://gisprofi.com/gd/documents/pravitelstvo-prosubsidiruet-zatraty-uchastnikov-"
            "promyshlennyh-klasterov.html (сообщение Правительства: до 50 % затрат на стартовые "
            "партии комплектующих других участников, до 150 млн руб. на заявителя)",
            "https://dzen.ru/a/ZuRWQ_1iXURtWrb_ (отбор Минпромторга 16.09–15.10.2024: не более "
            "50 % затрат на стартовые партии, не более 150 млн руб. на заявителя)",
            "https://kommersant.ru/doc/6223006 (прежний режим: до 30 % затрат, не более "
            "300 млн руб.)",
        ),
    ),
}
DEFAULT_RULES = "rf-41-2016/unverified-2026-11"
