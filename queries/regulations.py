"""The regulation rules CoopGraph applies, kept as data with their citations.

Government Resolution No. 779 of 31.07.2015 "On industrial clusters and
specialised organisations of industrial clusters" (as amended — the amending
acts found: No. 963 of 26.09.2016, No. 905 of 02.08.2018, No. 1956 of
16.11.2021, No. 2372 of 22.12.2022, No. 1585 of 28.09.2023, No. 413 of
01.04.2024) approves the *Requirements for industrial clusters*. The
requirement that ties the members together, as the text was read for this
module (see docs/regulations.md for where and what could not be checked):

    subparagraph "а" of the Requirements: every member of the cluster has
    concluded with another member at least one contract of these kinds —
    on carrying out a project to make import-substituting industrial products
    of the cluster; on supplying the cluster's industrial products; on
    performing works and/or services of a production nature — or is a party
    to (or engaged by a party to) a special investment contract that obliges
    members to supply or buy the cluster's products.

So the KPIs count a tie of type ``supply``, ``joint_project`` or
``production_services``. The regulation does not name R&D, training or
financing contracts; whether an R&D or design contract is "works of a
production nature" is not settled by the text, so ``rnd`` is marked
``unclear``: it is not counted, and the KPI report lists the members it would
tie if it were (:func:`counted_tie_types` with ``include_unclear=True``).

The tolerance of up to 3 members without ties (which the KPI module's
``MAX_UNTIED`` applies) was read in a summary of the 2021 amendment (members that
did not make industrial products in the previous period but are organising
it, at most 3); its point number was not verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from coopgraph.graph.models import TieType

__all__ = ["RESOLUTION_779", "TIE_RULES", "Citation", "TieRule", "counted_tie_types"]


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from, and how well it was checked."""

    act: str
    point: str
    source: str
    verified: Literal["text", "summary", "no"]
    note: str = ""


RESOLUTION_779 = Citation(
    act="Постановление Правительства РФ от 31.07.2015 № 779 «О промышленных кластерах и "
        "специализированных организациях промышленных кластеров» (в ред. до № 413 от "
        "01.04.2024)",
    point="Требования к промышленным кластерам…, подпункт «а» (номер пункта не сверен)",
    source="http://www.frpkk.ru/promyshlennye-klastery/o-klasterakh.php (цитата требований); "
           "http://base.spinform.ru/show_doc.fwx?rgn=77795 (список редакций)",
    verified="text",
    note="the text of subparagraph «а» was read in a quotation on a regional industry "
         "fund's site, not in an official publication; re-check against pravo.gov.ru",
)


@dataclass(frozen=True)
class TieRule:
    """Whether a tie type counts as a cooperation contract under Resolution No. 779."""

    tie_type: TieType
    counted: Literal["yes", "no", "unclear"]
    basis_ru: str
    basis_en: str
    citation: Citation = RESOLUTION_779


# The rule as data: one row per tie type.
TIE_RULES: dict[TieType, TieRule] = {r.tie_type: r for r in (
    TieRule(TieType.SUPPLY, "yes", "договор о поставке промышленной продукции кластера",
            "a contract to supply the cluster's industrial products"),
    TieRule(TieType.JOINT_PROJECT, "yes",
            "договор о реализации проекта по производству импортозамещающей продукции",
            "a contract carrying out a project to make import-substituting products"),
    TieRule(TieType.PRODUCTION_SERVICES, "yes",
            "договор о выполнении работ и (или) услуг производственного характера",
            "a contract for works and/or services of a production nature"),
    TieRule(TieType.RND, "unclear",
            "НИОКР и проектирование прямо не названы; засчитываются, только если это работы "
            "производственного характера",
            "R&D and design are not named; they count only as works of a production nature"),
    TieRule(TieType.TRAINING, "no", "обучение и практика в перечне договоров не названы",
            "training and internships are not among the contracts named"),
    TieRule(TieType.FINANCING, "no", "финансирование и лизинг в перечне договоров не названы",
            "financing and leasing are not among the contracts named"),
    TieRule(TieType.OTHER, "no", "прочие договоры не засчитываются",
            "other contracts do not count"),
)}


def counted_tie_types(*, include_unclear: bool = False) -> frozenset[str]:
    """The tie types (values) the KPIs count; ``include_unclear`` adds the doubtful ones."""
    wanted = {"yes", "unclear"} if include_unclear else {"yes"}
    return frozenset(t.value for t, rule in TIE_RULES.items() if rule.counted in wanted)
