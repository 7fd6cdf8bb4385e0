"""Joint cluster projects: the card, the subsidy estimate, proposed participants, the
effect on the KPIs, and the XLSX a centre attaches to an application.

A project (:class:`~graph.models.JointProject`) names the product or category
to localise and the import it replaces; its participants
(:class:`~graph.models.ProjectParticipant`) have roles; its cost items
(:class:`~graph.models.ProjectCost`) have a type, a year and an amount.

:func:`estimate_subsidy` applies a version of :data:`queries.subsidy.SUBSIDY_RULES`
(Resolution No. 41 of 28.01.2016): only cluster members' costs, only cost types
not ruled out, times the share, capped when a cap is known. Rules that were not
checked against the text make the estimate ``verified=False``, with the
warnings saying which.

Confidentiality: cost amounts are each participant's own figures; the project's
import and expected-result figures are the centre's. The centre sees all; a
participant sees its own rows, and totals only when the other participants'
part covers at least ``MIN_OTHERS`` companies
(:func:`graph.confidentiality.total_with_own`); a company not in the project may
not open its card.
"""

from __future__ import annotations

import dataclasses
import io
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field

from coopgraph.graph.confidentiality import CENTRE, Viewer, can_see, can_see_record, total_with_own
from coopgraph.graph.errors import AccessDenied, InvalidQuery, NotFound
from coopgraph.graph.i18n import percent, rub
from coopgraph.graph.models import JointProject, ProjectCost, ProjectParticipant, TieType
from coopgraph.graph.safe_output import sheet_row
from coopgraph.graph.schema import EntityKind, confidential_fields
from coopgraph.graph.store import GraphStore
from coopgraph.queries.projection import Projection
from coopgraph.queries.subsidy import DEFAULT_RULES, SUBSIDY_RULES, SubsidyRules

__all__ = [
    "KpiEffect",
    "ParticipantProposal",
    "ProjectCard",
    "SubsidyEstimate",
    "estimate_subsidy",
    "kpi_effect",
    "load_project",
    "project_card",
    "project_workbook",
    "propose_participants",
]


class ParticipantShare(BaseModel):
    """One participant's costs and subsidy (``None``: withheld from this viewer)."""

    company_id: str
    role: str
    member: bool
    costs: float | None
    eligible: float | None
    subsidy: float | None


class SubsidyEstimate(BaseModel):
    """The subsidy a project may get under one version of the rules."""

    project_id: str
    rules_version: str
    act: str
    share: float
    verified: bool = Field(description="False: some rule used was not checked against the "
                                       "regulation's text — an estimate, not a promise")
    total_costs: float | None
    eligible_costs: float | None
    subsidy: float | None
    participants: list[ParticipantShare]
    by_year: dict[str, float | None]
    warnings_ru: list[str]
    warnings_en: list[str]
    sources: list[str]


class ParticipantProposal(BaseModel):
    """A member the matching engine proposes for a part of the project, with its reasons."""

    company_id: str
    company_name: str
    category: str
    score: float
    reasons_ru: list[str]
    reasons_en: list[str]


class KpiEffect(BaseModel):
    """The cluster KPIs before and after the project (Resolution No. 779).

    The tie KPIs count the ``joint_project`` contract between the participants;
    the purchase share (``intra_purchases``) adds the project's expected purchases
    between members (the lead's, as it makes the product) and takes out the
    makers' imports it replaces. The purchase figures come from the project's
    expected results, which are the centre's: a participant sees ``None`` there.
    """

    cluster_id: str
    before: dict[str, float | None]
    after: dict[str, float | None]
    newly_tied: list[str]
    text_ru: str
    text_en: str
    intra_added: float | None = Field(default=None, description="Purchases between members "
                                      "the project adds, rubles per year (the centre's)")
    imports_replaced: float | None = Field(default=None, description="Makers' imports in the "
                                           "project's category it replaces, rubles per year")
    threshold: float | None = None
    purchases_text_ru: str = ""
    purchases_text_en: str = ""


class ProjectCard(BaseModel):
    """Everything about one project, as the viewer may see it."""

    project: dict[str, Any]
    participants: list[dict[str, Any]]
    costs: list[dict[str, Any]]
    estimate: SubsidyEstimate
    kpi_effect: KpiEffect | None = Field(default=None, description="The cluster KPIs before "
                                         "and after the project (none without a cluster)")


def load_project(store: GraphStore, project_id: str, viewer: Viewer = CENTRE
                 ) -> tuple[JointProject, list[ProjectParticipant], list[ProjectCost]]:
    """The project, its participants and cost items; a non-participant member is refused."""
    project = store.get(EntityKind.JOINT_PROJECT, project_id)
    assert isinstance(project, JointProject)
    participants = [p for p in store.list(EntityKind.PROJECT_PARTICIPANT,
                                          filters={"project_id": project_id},
                                          limit=10_000).items
                    if isinstance(p, ProjectParticipant)]
    costs = [c for c in store.list(EntityKind.PROJECT_COST, filters={"project_id": project_id},
                                   limit=10_000).items if isinstance(c, ProjectCost)]
    if not viewer.is_centre and viewer.company_id not in {p.company_id for p in participants}:
        raise AccessDenied(f"only the cluster centre and the participants see project "
                           f"{project_id!r}")
    return project, participants, costs


def _members(store: GraphStore, cluster_id: str | None) -> set[str] | None:
    if cluster_id is None:
        return None
    return {str(m.model_dump()["company_id"]) for m in store.list(
        EntityKind.MEMBERSHIP, filters={"cluster_id": cluster_id}, limit=10_000).items}


def estimate_subsidy(store: GraphStore, project_id: str, *, viewer: Viewer = CENTRE,
                     rules: str | SubsidyRules | None = None) -> SubsidyEstimate:
    """The subsidy estimate of a project (see the module docstring).

    Raises
    ------
    NotFound
        unknown project; InvalidQuery: unknown rules version, a project without
        participants; AccessDenied: a member that is not a participant.
    """
    if isinstance(rules, SubsidyRules):
        rule = rules
    elif rules is not None and rules not in SUBSIDY_RULES:
        raise InvalidQuery(f"unknown subsidy rules {rules!r}; known: "
                           + ", ".join(sorted(SUBSIDY_RULES)))
    project, participants, costs = load_project(store, project_id, viewer)
    if not isinstance(rules, SubsidyRules):
        # ?rules=, else the version the project names (when known), else the default
        name = rules or (project.rules_version if project.rules_version in SUBSIDY_RULES
                         else DEFAULT_RULES)
        rule = SUBSIDY_RULES[name]
    if not participants:
        raise InvalidQuery(f"project {project_id!r} has no participants: add them first")
    members = _members(store, project.cluster_id)
    roles = {p.company_id: p.role.value for p in participants}
    ru: list[str] = []
    en: list[str] = []
    per: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    years: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for c in costs:
        member = members is None or c.company_id in members
        ok = rule.costs[c.cost_type].eligible != "no" and (member or not rule.members_only)
        amount = c.amount or 0.0  # an amount not yet known counts as nothing
        per[c.company_id][0] += amount
        if ok:
            per[c.company_id][1] += amount
            years[str(c.year)][c.company_id].append(amount * rule.max_share)
    if members is None:
        ru.append("У проекта не указан кластер: членство участников не проверено.")
        en.append("The project names no cluster: the participants' membership is not checked.")
    outsiders = sorted(c for c in per if members is not None and c not in members)
    if outsiders and rule.members_only:
        ru.append(f"Затраты не участников кластера не учтены: {', '.join(outsiders)}.")
        en.append(f"Costs of non-members left out: {', '.join(outsiders)}.")
    if not rule.share_verified:
        ru.append(f"Доля {rule.max_share:.0%} не сверена с текстом постановления "
                  f"({rule.share_source}).")
        en.append(f"The share {rule.max_share:.0%} is not checked against the regulation's "
                  f"text ({rule.share_source}).")
    if rule.cap_per_applicant is None:
        ru.append("Предельный размер субсидии не применён: он не сверен с текстом.")
        en.append("No cap applied: the cap in the regulation could not be checked.")
    if any(r.eligible == "unknown" for r in rule.costs.values()):
        ru.append("Перечень возмещаемых затрат не сверен: учтены все виды затрат, кроме "
                  "исключённых; оценка — верхняя граница.")
        en.append("The eligible cost types are not checked: every type not ruled out is "
                  "counted; the estimate is an upper bound.")
    elif any(not r.verified for r in rule.costs.values()):
        kinds = ", ".join(sorted(t.value for t, r in rule.costs.items() if r.eligible == "yes"))
        ru.append(f"Возмещаемые затраты ({kinds}) взяты из вторичных источников, пункты "
                  "постановления не сверены.")
        en.append(f"The eligible costs ({kinds}) come from secondary sources; the points of "
                  "the regulation are not checked.")
    if rule.cap_per_applicant is not None and not rule.cap_verified:
        ru.append(f"Предел {rule.cap_per_applicant:,.0f} ₽ на заявителя не сверен с текстом."
                  .replace(",", " "))
        en.append(f"The cap of RUB {rule.cap_per_applicant:,.0f} per applicant is not checked "
                  "against the text.")
    shares = []
    for p in participants:
        total, eligible = per.get(p.company_id, [0.0, 0.0])
        subsidy = eligible * rule.max_share
        if rule.cap_per_applicant is not None:
            subsidy = min(subsidy, rule.cap_per_applicant)
        seen = can_see(viewer, p.company_id)
        shares.append(ParticipantShare(
            company_id=p.company_id, role=p.role.value,
            member=members is None or p.company_id in members,
            costs=total if seen else None, eligible=eligible if seen else None,
            subsidy=subsidy if seen else None))
    for company in sorted(set(per) - set(roles)):  # costs of a company not listed as participant
        ru.append(f"Затраты {company} учтены, но компания не указана участником проекта.")
        en.append(f"Costs of {company} are counted but it is not listed as a participant.")
    totals = {k: total_with_own(viewer, {c: [v[i]] for c, v in per.items()})
              for i, k in enumerate(("total", "eligible"))}
    subsidy_total = total_with_own(viewer, {
        c: [min(v[1] * rule.max_share, rule.cap_per_applicant)
            if rule.cap_per_applicant is not None else v[1] * rule.max_share]
        for c, v in per.items()})
    by_year = {y: total_with_own(viewer, dict(v)) for y, v in sorted(years.items())}
    return SubsidyEstimate(
        project_id=project.id, rules_version=rule.version, act=rule.act, share=rule.max_share,
        verified=rule.verified, total_costs=totals["total"], eligible_costs=totals["eligible"],
        subsidy=subsidy_total, participants=shares, by_year=by_year, warnings_ru=ru,
        warnings_en=en, sources=list(rule.sources))


def project_card(store: GraphStore, project_id: str, *, viewer: Viewer = CENTRE,
                 rules: str | None = None, projection: Projection | None = None
                 ) -> ProjectCard:
    """The project, its participants, its cost items (others' amounts withheld), the
    estimate and (given a ``projection`` and a project with a cluster) its KPI effect."""
    project, participants, costs = load_project(store, project_id, viewer)
    project_row = project.model_dump(mode="json")
    if not can_see_record(viewer, EntityKind.JOINT_PROJECT, project_row):
        # the project's own figures (import, expected results) are the centre's
        for name in confidential_fields(EntityKind.JOINT_PROJECT):
            project_row[name] = None
    cost_rows = []
    for c in costs:
        row = c.model_dump(mode="json")
        if not can_see(viewer, c.company_id):
            row["amount"] = None
        cost_rows.append(row)
    estimate = estimate_subsidy(store, project_id, viewer=viewer, rules=rules)
    effect = (kpi_effect(projection, project, participants, viewer)
              if projection is not None and project.cluster_id is not None
              and project.cluster_id in projection.cluster_rows else None)
    return ProjectCard(project=project_row,
                       participants=[p.model_dump(mode="json") for p in participants],
                       costs=cost_rows, estimate=estimate, kpi_effect=effect)


def propose_participants(proj: Projection, project: JointProject, lead_id: str, *,
                         k: int = 5, viewer: Viewer = CENTRE) -> list[ParticipantProposal]:
    """Members the matching engine ranks for the project's category and its components.

    The categories are the project's category and the components its bill of
    materials requires (one level); for each, :func:`queries.match.rank_suppliers`
    ranks suppliers for the lead, restricted to the project's cluster.
    """
    from coopgraph.queries.match import rank_suppliers

    if project.category is None:
        raise InvalidQuery(f"project {project.id!r} names no category to localise")
    c = proj.category(project.category)
    wanted = [c, *[child for child, _ in proj.category_bom[c]]]
    filters: dict[str, Any] = {"cluster_only": project.cluster_id} if project.cluster_id else {}
    out: list[ParticipantProposal] = []
    seen: set[tuple[str, str]] = set()
    for cat in wanted:
        code = proj.category_codes[cat]
        try:
            result = rank_suppliers(proj, lead_id, k=k, category=code, filters=filters,
                                    viewer=viewer)
        except NotFound:
            continue
        for cand in result.candidates:
            if (cand.company_id, code) in seen or cand.company_id == lead_id:
                continue
            seen.add((cand.company_id, code))
            out.append(ParticipantProposal(
                company_id=cand.company_id, company_name=cand.company_name, category=code,
                score=cand.score, reasons_ru=cand.reasons_ru, reasons_en=cand.reasons_en))
    out.sort(key=lambda p: (-p.score, p.company_id, p.category))
    return out


def kpi_effect(proj: Projection, project: JointProject,
               participants: list[ProjectParticipant], viewer: Viewer = CENTRE) -> KpiEffect:
    """The tie KPIs with and without ``joint_project`` ties between the participants, and
    the purchase share with and without the project's purchases (see :class:`KpiEffect`)."""
    from coopgraph.queries.kpi import cluster_kpis, project_purchases

    if project.cluster_id is None:
        raise InvalidQuery(f"project {project.id!r} names no cluster")
    ids = sorted({p.company_id for p in participants if p.company_id in proj.company_index})
    extra = [{"company_id": a, "partner_id": b, "tie_type": TieType.JOINT_PROJECT.value}
             for i, a in enumerate(ids) for b in ids[i + 1:]]
    before = cluster_kpis(proj, project.cluster_id, what_if=False, viewer=viewer)
    after = cluster_kpis(dataclasses.replace(proj, tie_rows=[*proj.tie_rows, *extra]),
                         project.cluster_id, what_if=False, viewer=viewer)
    newly = sorted(set(before.untied_members) - set(after.untied_members))
    b: dict[str, float | None] = {k.code: k.value for k in before.kpis}
    a: dict[str, float | None] = {k.code: k.value for k in after.kpis}
    share = next(k for k in before.kpis if k.code == "intra_purchases")
    leads = [p.company_id for p in participants if p.role.value == "lead"]
    added = project.expected_intra_purchases
    ru_p, en_p = "", ""
    intra_added: float | None = None
    replaced_out: float | None = None
    if added is None:
        a["intra_purchases"] = b["intra_purchases"]
        ru_p = ("Доля закупок у участников не меняется: в проекте не указан прирост закупок "
                "между участниками.")
        en_p = ("The purchase share does not move: the project gives no purchases between "
                "members it adds.")
    elif not viewer.is_centre:
        a["intra_purchases"] = None
        ru_p = ("Влияние на долю закупок у участников видит центр кластера (ожидаемые "
                "результаты проекта — его данные).")
        en_p = ("The effect on the purchase share is the centre's to see (the project's "
                "expected results are its figures).")
    else:
        (i0, t0), (i1, t1), counted, replaced = project_purchases(
            proj, project.cluster_id, leads[0] if leads else None, project.category,
            float(added), float(project.expected_import_replaced or 0.0))
        s0 = i0 / t0 if t0 > 0 else 0.0
        s1 = i1 / t1 if t1 > 0 else 0.0
        b["intra_purchases"], a["intra_purchases"] = s0, s1
        intra_added, replaced_out = counted, replaced
        passes = s1 >= share.threshold - 1e-12
        ru_p = (f"Доля закупок производителей у участников {percent(s0, 'ru', 1)} → "
                f"{percent(s1, 'ru', 1)} (порог {percent(share.threshold, 'ru')}"
                + (", выполнен" if passes else ", не выполнен") + f"): закупки у участников "
                f"+{rub(intra_added, 'ru', per_year=True)}"
                + (f", замещённый импорт −{rub(replaced, 'ru', per_year=True)}"
                   if replaced else "") + ".")
        en_p = (f"Makers' share bought from members {percent(s0, 'en', 1)} → "
                f"{percent(s1, 'en', 1)} (threshold {percent(share.threshold, 'en')}"
                + (", met" if passes else ", not met") + f"): purchases from members "
                f"+{rub(intra_added, 'en', per_year=True)}"
                + (f", import replaced −{rub(replaced, 'en', per_year=True)}"
                   if replaced else "") + ".")
        if not counted:
            ru_p += (" Закупки не учтены: у проекта нет ведущего участника из числа "
                     "участников кластера.")
            en_p += " The purchases are not counted: the project has no lead that is a member."
    return KpiEffect(
        cluster_id=project.cluster_id, before=b, after=a, newly_tied=newly,
        text_ru=(f"Договор о совместном проекте связывает участников без связей: "
                 f"{', '.join(newly) or 'нет'}; без связей {b['untied_count']:.0f} → "
                 f"{a['untied_count']:.0f}."),
        text_en=(f"The joint-project contract ties untied members: {', '.join(newly) or 'none'}"
                 f"; untied {b['untied_count']:.0f} → {a['untied_count']:.0f}."),
        intra_added=intra_added, imports_replaced=replaced_out, threshold=share.threshold,
        purchases_text_ru=ru_p, purchases_text_en=en_p)


def project_workbook(card: ProjectCard) -> bytes:
    """The project card as an XLSX workbook (sheets: project, participants, costs, subsidy)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Проект"
    sheet.append(sheet_row(["Поле / Field", "Значение / Value"]))
    for name, value in card.project.items():
        if name not in ("source", "row", "ingested_at"):
            sheet.append(sheet_row([name, value]))
    part = book.create_sheet("Участники")
    part.append(sheet_row(["company_id", "role", "part", "category"]))
    for p in card.participants:
        part.append(sheet_row([p["company_id"], p["role"], p.get("part"), p.get("category")]))
    cost = book.create_sheet("Затраты")
    cost.append(sheet_row(["company_id", "item", "cost_type", "year", "amount, RUB"]))
    for c in card.costs:
        cost.append(sheet_row([c["company_id"], c["item"], c["cost_type"], c["year"],
                               c["amount"]]))
    est = card.estimate
    sub = book.create_sheet("Субсидия")
    sub.append(sheet_row(["Правила / Rules", est.rules_version]))
    sub.append(sheet_row(["Акт / Act", est.act]))
    sub.append(sheet_row(["Доля / Share", est.share]))
    sub.append(sheet_row(["Сверено с текстом / Verified",
                          "да / yes" if est.verified else "НЕТ / NO"]))
    sub.append(sheet_row(["Затраты всего / Total costs", est.total_costs]))
    sub.append(sheet_row(["Учитываемые затраты / Eligible costs", est.eligible_costs]))
    sub.append(sheet_row(["Оценка субсидии / Subsidy estimate", est.subsidy]))
    sub.append([])
    sub.append(sheet_row(["company_id", "role", "member", "costs", "eligible", "subsidy"]))
    for s in est.participants:
        sub.append(sheet_row([s.company_id, s.role, s.member, s.costs, s.eligible, s.subsidy]))
    sub.append([])
    for ru, en in zip(est.warnings_ru, est.warnings_en, strict=True):
        sub.append(sheet_row(["⚠", ru, en]))
    for source in est.sources:
        sub.append(sheet_row(["Источник / Source", source]))
    effect = card.kpi_effect
    if effect is not None:
        kpi = book.create_sheet("KPI")
        kpi.append(sheet_row(["KPI (ПП № 779 / Resolution No. 779)", "до / before",
                              "после / after"]))
        for code in effect.before:
            kpi.append(sheet_row([code, effect.before[code], effect.after.get(code)]))
        kpi.append(sheet_row(["Прирост закупок у участников / Purchases from members added",
                              effect.intra_added]))
        kpi.append(sheet_row(["Замещённый импорт / Import replaced", effect.imports_replaced]))
        kpi.append([])
        kpi.append(sheet_row([effect.text_ru, effect.text_en]))
        kpi.append(sheet_row([effect.purchases_text_ru, effect.purchases_text_en]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
