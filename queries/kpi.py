"""Cluster KPIs from the regulation on industrial clusters, and what would move them.

Government Resolution No. 779 of 31.07.2015 (as amended) sets the requirements
an industrial cluster must meet; :func:`cluster_kpis` computes the three that
the graph can answer:

``tied_share``
    the share of members with at least one cooperation contract with another
    member — a supply link either way, or a :class:`~graph.models.Tie` of a type
    the regulation counts (:data:`queries.regulations.TIE_RULES`: supply, joint
    project, works/services of a production nature — subparagraph «а» of the
    Requirements) in force on the day of the report — the regulation wants every
    member tied;
``untied_count``
    the number of members without such a tie — at most 3 are tolerated (they
    have 3 years to get one);
``intra_purchases``
    the share of the end-product makers' purchases (by value: supply links'
    ``volume_per_year × unit_price``, plus imports' ``volume × price``; a missing
    price falls back to the category's ``unit_price``) bought from other members
    — at least ``Cluster.intra_share_threshold`` (0.2, or 0.1 in specified
    territories). End-product makers are members with the ``oem`` role or
    making a product.

The what-if proposes links from the matching engine
(:func:`queries.match.rank_suppliers` / :func:`~queries.match.rank_buyers`,
filtered to cluster members) — or, when it is not installed or finds none, from
declared capabilities meeting demand — and shows each failing KPI's new value:
for the tie KPIs one link per untied member (preferring a partner that is
untied too, so one link ties two); for the purchase share, the makers'
purchases from non-members and imports moved to recommended members with free
capacity, largest value first, until the threshold is met (at most 25 links).

The KPIs are built for a ``viewer`` (:mod:`graph.confidentiality`). The
centre sees every figure. A member sees the purchase values (and so the
purchase share) only as totals over at least ``MIN_OTHERS`` other makers,
rounded; ``per_maker`` holds only its own entry; a proposed link's
volume and value only when every company they come from is its own (a tie
link's volume is the buyer's demand; a moved purchase is the buyer's volume
capped by the supplier's free capacity, so only the centre sees it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from coopgraph.graph.confidentiality import (
    CENTRE,
    MIN_OTHERS,
    Viewer,
    can_see,
    coarse,
    total_with_own,
)
from coopgraph.graph.errors import ValidationFailed
from coopgraph.graph.i18n import Lang, count, number, percent, rub
from coopgraph.queries.gaps import category_demand
from coopgraph.queries.projection import Projection
from coopgraph.queries.regulations import TIE_RULES, counted_tie_types

__all__ = ["ChosenLink", "ChosenLinksResult", "ClusterKpis", "Kpi", "ProposedLink", "WhatIf",
           "cluster_kpis", "evaluate_links", "project_purchases", "purchase_values"]

MAX_UNTIED = 3
_MAX_PROPOSALS = 25


class Kpi(BaseModel):
    """One KPI with its threshold and verdict."""

    code: Literal["tied_share", "untied_count", "intra_purchases"]
    name_ru: str
    name_en: str
    value: float | None = Field(description="None: withheld from this viewer")
    threshold: float
    comparison: Literal[">=", "<="]
    passed: bool
    text_ru: str
    text_en: str
    details: dict[str, Any] = Field(default_factory=dict)


class ProposedLink(BaseModel):
    """A link the what-if adds."""

    supplier_id: str
    buyer_id: str
    category: str | None
    volume: float | None = Field(
        description="Yearly volume assumed for the link (0 when unknown, None when withheld)")
    value: float | None = Field(description="volume × unit price, roubles/year")
    score: float | None = Field(default=None, description="The matching engine's score")
    source: Literal["match", "capabilities"]
    replaces_supplier: str | None = Field(
        default=None, description="The non-members (or 'import') whose volume it takes over, "
        "joined by '|'")
    free_capacity: float | None = Field(
        default=None, description="The supplier's free capacity in the category before any "
        "proposal (None: unknown, or withheld from this viewer)")


class WhatIf(BaseModel):
    """The links that would raise a failing KPI the most, and its new value."""

    kpi: str
    links: list[ProposedLink]
    before: float | None
    after: float | None
    passes_after: bool
    text_ru: str
    text_en: str


class ClusterKpis(BaseModel):
    """The regulation's KPIs for one cluster."""

    cluster_id: str
    cluster_name: str
    members: int
    end_product_makers: list[str]
    untied_members: list[str]
    kpis: list[Kpi]
    what_if: list[WhatIf]
    candidate_source: Literal["match", "capabilities", "none"]


# --- the measurements ---------------------------------------------------------------


def _in_force(row: dict[str, Any], today: str) -> bool:
    since, until = row.get("since"), row.get("until")
    return (since is None or str(since) <= today) and (until is None or str(until) >= today)


def _untied(proj: Projection, members: set[int], *, today: dt.date | None = None,
            tie_types: frozenset[str] | None = None) -> list[int]:
    """Members with no supply link and no counted tie in force (``today``) to another member."""
    tied: set[int] = set()
    for s, b in zip(proj.sup_supplier.tolist(), proj.sup_buyer.tolist(), strict=True):
        if s != b and s in members and b in members:
            tied.update((s, b))
    day = (today or dt.date.today()).isoformat()
    counted = counted_tie_types() if tie_types is None else tie_types
    for row in proj.tie_rows:
        a, b = proj.company_index[row["company_id"]], proj.company_index[row["partner_id"]]
        if row["tie_type"] in counted and a in members and b in members and _in_force(row, day):
            tied.update((a, b))
    return sorted(members - tied, key=lambda i: proj.company_ids[i])


def _uncounted_ties(proj: Projection, members: set[int], untied: list[int],
                    today: dt.date | None) -> dict[str, list[dict[str, str]]]:
    """Per untied member, its ties in force with members that the regulation does not count."""
    day = (today or dt.date.today()).isoformat()
    wanted = set(untied)
    out: dict[str, list[dict[str, str]]] = {}
    for row in proj.tie_rows:
        a, b = proj.company_index[row["company_id"]], proj.company_index[row["partner_id"]]
        if a not in members or b not in members or not _in_force(row, day):
            continue
        rule = TIE_RULES.get(row["tie_type"])
        for me, other in ((a, b), (b, a)):
            if me in wanted and rule is not None:
                out.setdefault(proj.company_ids[me], []).append({
                    "partner_id": proj.company_ids[other], "tie_type": row["tie_type"],
                    "counted": rule.counted, "basis_ru": rule.basis_ru,
                    "basis_en": rule.basis_en})
    return out


def _makers(proj: Projection, members: set[int]) -> list[int]:
    makers = {i for i in members if "oem" in proj.company_roles[i]}
    makers |= {int(m) for m in proj.product_maker.tolist() if int(m) in members}
    return sorted(makers, key=lambda i: proj.company_ids[i])


def _unit_price(proj: Projection, price: float, category: int) -> float:
    if math.isnan(price):
        price = float(proj.category_price[category])
    return 0.0 if math.isnan(price) else price


def _offer_price(proj: Projection, cap_row: int) -> float:
    """The one price of a proposed link: the supplier's declared price, else the category's.

    Every scenario prices a (supplier, category) the same way, so one pair never
    shows two prices.
    """
    return _unit_price(proj, float(proj.cap_price[cap_row]),
                       int(proj.cap_category[cap_row]))


def _capability_rows(proj: Projection, supplier: int, category: int) -> list[int]:
    indptr, rows = proj.capabilities_by_category
    return [int(j) for j in rows[indptr[category]:indptr[category + 1]].tolist()
            if int(proj.cap_company[j]) == supplier]


def _room(proj: Projection, supplier: int, category: int) -> float | None:
    """The supplier's free capacity in ``category`` (None: it declares none, or no capacity)."""
    cap_rows = _capability_rows(proj, supplier, category) if category >= 0 else []
    if not cap_rows or np.isnan(proj.cap_capacity[cap_rows]).all():
        return None
    return float(np.nansum(np.clip(proj.free_capacity[cap_rows], 0.0, None)))


def purchase_values(proj: Projection, makers: list[int], members: set[int],
                    ) -> tuple[float, float, dict[str, tuple[float, float, float]], float]:
    """``(intra, total, {maker id: (intra, total, imports)}, imports)``: purchases by value.

    ``total`` includes ``imports`` (their value is also returned on its own).
    """
    maker_set = set(makers)
    per: dict[int, list[float]] = {m: [0.0, 0.0, 0.0] for m in makers}
    for j in range(len(proj.sup_buyer)):
        b = int(proj.sup_buyer[j])
        if b not in maker_set:
            continue
        value = float(np.nan_to_num(proj.sup_volume[j])) * _unit_price(
            proj, float(proj.sup_price[j]), int(proj.sup_category[j]))
        per[b][1] += value
        if int(proj.sup_supplier[j]) in members:
            per[b][0] += value
    imports = 0.0
    for j in range(len(proj.imp_company)):
        m = int(proj.imp_company[j])
        if m in maker_set:
            value = float(np.nan_to_num(proj.imp_volume[j])) * _unit_price(
                proj, float(proj.imp_price[j]), int(proj.imp_category[j]))
            per[m][1] += value
            per[m][2] += value
            imports += value
    intra = sum(v[0] for v in per.values())
    total = sum(v[1] for v in per.values())
    return intra, total, {proj.company_ids[m]: (v[0], v[1], v[2]) for m, v in per.items()}, imports


def project_purchases(proj: Projection, cluster_id: str, lead_id: str | None,
                      category: str | None, added: float, import_replaced: float,
                      ) -> tuple[tuple[float, float], tuple[float, float], float, float]:
    """The makers' purchases ``(intra, total)`` before and after a joint project, the
    purchases between members it adds and the import value it takes out.

    After the project its lead (a member) makes the project's product, so it counts
    among the end-product makers; it buys ``added`` more a year from members, and
    ``import_replaced`` of the makers' imports in ``category`` (at most what they
    import there) leaves their purchases. Figures are the centre's.
    """
    members = set(proj.cluster(cluster_id).tolist())
    makers = _makers(proj, members)
    intra, total, _, _ = purchase_values(proj, makers, members)
    lead = proj.company_index.get(lead_id) if lead_id is not None else None
    after_makers = sorted({*makers, lead} if lead is not None and lead in members else makers,
                          key=lambda i: proj.company_ids[i])
    intra2, total2, _, _ = purchase_values(proj, after_makers, members)
    replaced = 0.0
    if category is not None and category in proj.category_index and import_replaced > 0:
        c = proj.category_index[category]
        maker_set = set(after_makers)
        imported = sum(
            float(np.nan_to_num(proj.imp_volume[j])) * _unit_price(
                proj, float(proj.imp_price[j]), c)
            for j in range(len(proj.imp_company))
            if int(proj.imp_category[j]) == c and int(proj.imp_company[j]) in maker_set)
        replaced = min(import_replaced, imported)
    if lead is None or lead not in members:
        added = 0.0  # only a member's purchases from members count
    return (intra, total), (intra2 + added, total2 + added - replaced), added, replaced


def _tie_kpis(n: int, untied: list[str]) -> tuple[Kpi, Kpi]:
    """The two faces of one rule of Resolution No. 779: at most MAX_UNTIED members untied.

    The rule is stated once, in ``untied_count``; ``tied_share`` shows the same fact as a
    share, its threshold derived from the rule (``(n - MAX_UNTIED) / n``), so the two
    never disagree ("≥ 100 %" next to "≤ 3").
    """
    tied = n - len(untied)
    share = tied / n if n else 0.0
    passed = len(untied) <= MAX_UNTIED
    members = ("участника", "участников", "участников")
    k1 = Kpi(
        code="tied_share", name_ru="Доля участников с кооперационными связями",
        name_en="Share of members with a cooperation tie", value=share,
        threshold=max(n - MAX_UNTIED, 0) / n if n else 0.0, comparison=">=", passed=passed,
        text_ru=(f"{number(tied, 'ru')} из " + count(n, "ru", members, ("", ""))
                 + f" ({percent(share, 'ru')}) имеют хотя бы один договор кооперации с другим "
                 "участником."),
        text_en=(f"{number(tied, 'en')} of " + count(n, "en", members, ("member", "members"))
                 + f" ({percent(share, 'en')}) have at least one cooperation contract with "
                 "another member."),
        details={"tied": tied, "members": n, "threshold_from": "untied_count"})
    k2 = Kpi(
        code="untied_count", name_ru="Участники без кооперационных связей",
        name_en="Members without cooperation ties", value=float(len(untied)),
        threshold=float(MAX_UNTIED), comparison="<=", passed=passed,
        text_ru=("Без кооперационных связей "
                 + count(len(untied), "ru", ("участник", "участника", "участников"), ("", ""))
                 + f". По ПП № 779 каждый участник должен иметь договор кооперации с другим "
                 f"участником; без него допускается не более {MAX_UNTIED} (на заключение — "
                 "3 года)."),
        text_en=(count(len(untied), "en", ("", "", ""), ("member", "members"))
                 + f" without cooperation ties. Under Resolution No. 779 every member should "
                 f"have a cooperation contract with another member; at most {MAX_UNTIED} may "
                 "be without one (they have 3 years)."),
        details={"untied": untied})
    return k1, k2


def _kpi_figure(code: str, value: float | None, lang: Lang) -> str:
    """A KPI's value as people read it: a count for ``untied_count``, else a percentage."""
    if code == "untied_count":
        return number(value, lang)
    return percent(value, lang, 1)


def _intra_kpi(intra: float, total: float, threshold: float,
               per_maker: dict[str, tuple[float, float, float]], imports: float,
               viewer: Viewer = CENTRE) -> Kpi:
    share = intra / total if total > 0 else 0.0
    without = intra / (total - imports) if total > imports else 0.0
    passed = share >= threshold - 1e-12
    if not viewer.is_centre:  # totals over enough other makers, rounded
        intra_s, total_s, imports_s = (
            total_with_own(viewer, {m: [v[i]] for m, v in per_maker.items()}) for i in range(3))
        share_s = None if intra_s is None or total_s is None else coarse(share)
        without_s = (None if share_s is None or imports_s is None else coarse(without))
    else:
        intra_s, total_s, imports_s, share_s, without_s = intra, total, imports, share, without
    if share_s is None or intra_s is None or total_s is None:
        ru = (f"Доля закупок производителей у участников скрыта (меньше чем "
              f"у {MIN_OTHERS} других производителей); порог {percent(threshold, 'ru')}, "
              f"{'выполнен' if passed else 'не выполнен'}.")
        en = (f"The makers' share bought from members is withheld (fewer than {MIN_OTHERS} "
              f"other makers); threshold {percent(threshold, 'en')}, "
              f"{'met' if passed else 'not met'}.")
    else:
        ru = (f"Производители конечной продукции закупают у участников "
              f"{percent(share_s, 'ru', 1)} ({number(intra_s, 'ru')} из "
              f"{rub(total_s, 'ru', per_year=True)}); порог {percent(threshold, 'ru')}.")
        en = (f"End-product makers buy {percent(share_s, 'en', 1)} from members "
              f"({number(intra_s, 'en')} of {rub(total_s, 'en', per_year=True)}); "
              f"threshold {percent(threshold, 'en')}.")
    return Kpi(
        code="intra_purchases", name_ru="Доля закупок производителей у участников кластера",
        name_en="End-product makers' purchases from members", value=share_s, threshold=threshold,
        comparison=">=", passed=passed, text_ru=ru, text_en=en,
        details={"intra_value": intra_s, "total_value": total_s, "import_value": imports_s,
                 "share_without_imports": without_s,
                 # only the makers whose figures the viewer may see (the list of makers
                 # is end_product_makers)
                 "per_maker": {m: {"intra": v[0], "total": v[1]}
                               for m, v in per_maker.items() if can_see(viewer, m)}})


# --- candidate links -----------------------------------------------------------------


def _match_candidates(proj: Projection, company: int, members: set[int], cluster_id: str,
                      direction: Literal["suppliers", "buyers"], viewer: Viewer = CENTRE
                      ) -> list[tuple[int, int, float]]:
    """``[(partner, category, score)]`` from the matching engine; raises ImportError if absent."""
    from coopgraph.queries.match import rank_buyers, rank_suppliers
    from coopgraph.queries.results import MatchFilters

    rank = rank_suppliers if direction == "suppliers" else rank_buyers
    result = rank(proj, proj.company_ids[company], k=20,
                  filters=MatchFilters(cluster_only=cluster_id), viewer=viewer)
    out = []
    for cand in result.candidates:
        partner = proj.company_index.get(cand.company_id)
        if partner is None or partner not in members or partner == company:
            continue
        cat = proj.category_index.get(cand.category or "", -1)
        out.append((partner, cat, float(cand.score)))
    return out


def _capability_candidates(proj: Projection, company: int, members: set[int],
                           demand: dict[int, dict[int, float]],
                           direction: Literal["suppliers", "buyers"]) -> list[tuple[int, int,
                                                                                    float]]:
    """Fallback: members declaring what ``company`` demands, or demanding what it declares."""
    out: list[tuple[int, int, float]] = []
    indptr, rows = proj.capabilities_by_category
    if direction == "suppliers":
        for c, buyers in demand.items():
            if company not in buyers:
                continue
            for j in rows[indptr[c]:indptr[c + 1]].tolist():
                s = int(proj.cap_company[j])
                if s != company and s in members:
                    out.append((s, c, buyers[company]))
    else:
        for j in np.flatnonzero(proj.cap_company == company).tolist():
            c = int(proj.cap_category[j])
            for b, qty in demand.get(c, {}).items():
                if b != company and b in members:
                    out.append((b, c, qty))
    out.sort(key=lambda t: (-t[2], proj.company_ids[t[0]], t[1]))
    return out


def _tie_what_if(proj: Projection, cluster_id: str, members: set[int], untied: list[int],
                 demand: dict[int, dict[int, float]], use_match: bool,
                 viewer: Viewer = CENTRE) -> tuple[list[ProposedLink], str]:
    """One proposed link per untied member (tying two untied members with one when possible)."""
    links: list[ProposedLink] = []
    source = "none"
    covered: set[int] = set()
    untied_set = set(untied)
    for m in untied:
        if m in covered:
            continue
        options: list[tuple[int, int, float, str, bool]] = []  # partner, cat, score, src, m buys
        for direction in ("suppliers", "buyers"):
            found: list[tuple[int, int, float]] = []
            src = "capabilities"
            if use_match:
                try:
                    found, src = _match_candidates(proj, m, members, cluster_id, direction,
                                                   viewer), "match"
                except ImportError:
                    found = []
            if not found:
                found, src = _capability_candidates(proj, m, members, demand, direction), \
                    "capabilities"
            options += [(p, c, s, src, direction == "suppliers") for p, c, s in found]
        if not options:
            continue
        # prefer a partner that is itself untied (one link ties two), then the best score
        options.sort(key=lambda o: (o[0] not in untied_set or o[0] in covered, -o[2]))
        partner, c, score, src, m_buys = options[0]
        supplier, buyer = (partner, m) if m_buys else (m, partner)
        qty = demand.get(c, {}).get(buyer, 0.0) if c >= 0 else 0.0
        price = _unit_price(proj, float("nan"), c) if c >= 0 else 0.0  # the category's: public
        cap_rows = _capability_rows(proj, supplier, c) if c >= 0 else []
        if cap_rows:  # within the supplier's free capacity, at its own price
            room = float(np.nansum(np.clip(proj.free_capacity[cap_rows], 0.0, None)))
            if not np.isnan(proj.cap_capacity[cap_rows]).all():
                qty = min(qty, room)
            price = _offer_price(proj, cap_rows[0])
        seen = can_see(viewer, proj.company_ids[buyer])  # the volume is the buyer's demand
        links.append(ProposedLink(
            supplier_id=proj.company_ids[supplier], buyer_id=proj.company_ids[buyer],
            category=proj.category_codes[c] if c >= 0 else None,
            volume=qty if seen else None, value=qty * price if seen else None,
            score=score if src == "match" else None,
            source="match" if src == "match" else "capabilities",
            free_capacity=(_room(proj, supplier, c)
                           if can_see(viewer, proj.company_ids[supplier]) else None)))
        covered.update((m, partner))
        source = src if source == "none" else source
    return links, source


def _recommended(proj: Projection, makers: list[int], members: set[int],
                 cluster_id: str, viewer: Viewer = CENTRE
                 ) -> dict[int, dict[tuple[int, int], float]] | None:
    """Per maker, the matching engine's (member supplier, category) pairs with their scores.

    ``None`` when the matching engine is not installed.
    """
    try:
        from coopgraph.queries.match import rank_suppliers
        from coopgraph.queries.results import MatchFilters
    except ImportError:
        return None
    out: dict[int, dict[tuple[int, int], float]] = {}
    for m in makers:
        result = rank_suppliers(proj, proj.company_ids[m], k=50,
                                filters=MatchFilters(cluster_only=cluster_id), viewer=viewer)
        pairs: dict[tuple[int, int], float] = {}
        for cand in result.candidates:
            s = proj.company_index.get(cand.company_id)
            if s is None or s not in members:
                continue
            for code in cand.categories or ([cand.category] if cand.category else []):
                c = proj.category_index.get(code)
                if c is not None:
                    pairs.setdefault((s, c), float(cand.score))
        out[m] = pairs
    return out


def _intra_what_if(proj: Projection, makers: list[int], members: set[int], intra: float,
                   total: float, threshold: float,
                   recommended: dict[int, dict[tuple[int, int], float]] | None,
                   viewer: Viewer = CENTRE) -> tuple[list[ProposedLink], float, float]:
    """Move makers' non-member purchases (links and imports) to members with free capacity.

    Candidates are the matching engine's recommended (member, category) pairs for
    each maker (every member declaring the category with free capacity when the
    engine is absent or recommends none of them); gains are ranked by value, and
    each member capability's free capacity is used once. Returns the links and
    the value they move (a moved volume is the buyer's, capped by the supplier's
    free capacity: a link shows it only to a viewer who may see both).
    """
    free = np.nan_to_num(proj.free_capacity).copy()
    indptr, rows = proj.capabilities_by_category
    moves: list[tuple[float, int, int, int, float, float, str]] = []
    outside: list[tuple[int, int, float, float, str]] = []  # maker, cat, volume, price, from
    maker_set = set(makers)
    for j in range(len(proj.sup_buyer)):
        b, s = int(proj.sup_buyer[j]), int(proj.sup_supplier[j])
        if b in maker_set and s not in members:
            c = int(proj.sup_category[j])
            outside.append((b, c, float(np.nan_to_num(proj.sup_volume[j])),
                            _unit_price(proj, float(proj.sup_price[j]), c), proj.company_ids[s]))
    for j in range(len(proj.imp_company)):
        m = int(proj.imp_company[j])
        if m in maker_set:
            c = int(proj.imp_category[j])
            outside.append((m, c, float(np.nan_to_num(proj.imp_volume[j])),
                            _unit_price(proj, float(proj.imp_price[j]), c), "import"))
    for b, c, vol, price, origin in outside:
        for cap_row in rows[indptr[c]:indptr[c + 1]].tolist():
            s = int(proj.cap_company[cap_row])
            if s in members and s != b and free[cap_row] > 0:
                moves.append((min(vol, free[cap_row]) * price, b, c, cap_row, vol, price, origin))
    scores: dict[tuple[int, int, int], float] = {}
    if recommended is not None:
        matched = []
        for move in moves:
            key = (int(proj.cap_company[move[3]]), move[2])
            score = recommended.get(move[1], {}).get(key)
            if score is not None:
                scores[(move[1], *key)] = score
                matched.append(move)
        moves = matched or moves
    moves.sort(key=lambda t: (-t[0], t[1], t[2], t[3]))
    # one row per (supplier, buyer, category): volumes summed, the origins listed
    merged: dict[tuple[int, int, int], list[Any]] = {}
    gained = 0.0
    moved: dict[tuple[int, int, str], float] = defaultdict(float)
    for _gain, b, c, cap_row, vol, price, origin in moves:
        if (total > 0 and intra / total >= threshold) or len(merged) >= _MAX_PROPOSALS:
            break
        left = vol - moved[(b, c, origin)]
        qty = min(left, free[cap_row])
        if qty <= 0:
            continue
        free[cap_row] -= qty
        moved[(b, c, origin)] += qty
        offer = _offer_price(proj, cap_row)
        # the purchase moves: its value at the member's price joins intra, and the
        # total changes by the difference in price
        intra += qty * offer
        total += qty * (offer - price)
        gained += qty * offer
        s = int(proj.cap_company[cap_row])
        pair = (s, b, c)
        if pair in merged:
            merged[pair][0] += qty
            if origin not in merged[pair][2]:
                merged[pair][2].append(origin)
        else:
            merged[pair] = [qty, offer, [origin]]
    links: list[ProposedLink] = []
    for (s, b, c), (qty, offer, origins) in merged.items():
        score = scores.get((b, s, c))
        seen = can_see(viewer, proj.company_ids[b], proj.company_ids[s])
        links.append(ProposedLink(
            supplier_id=proj.company_ids[s], buyer_id=proj.company_ids[b],
            category=proj.category_codes[c], volume=qty if seen else None,
            value=qty * offer if seen else None, score=score,
            source="match" if score is not None else "capabilities",
            replaces_supplier="|".join(origins),
            free_capacity=_room(proj, s, c) if can_see(viewer, proj.company_ids[s]) else None))
    return links, gained, total


def cluster_kpis(proj: Projection, cluster_id: str, *, what_if: bool = True,
                 viewer: Viewer = CENTRE, today: dt.date | None = None) -> ClusterKpis:
    """The regulation's KPIs of ``cluster_id``, and (``what_if``) the links that would fix them.

    Parameters
    ----------
    proj : the analytic projection
    cluster_id : the cluster
    what_if : propose links for every failing KPI and show its new value
    viewer : who the report is for (:data:`~graph.confidentiality.CENTRE`: every figure;
        a member sees purchase values only as totals over enough other makers)
    today : the day ties must be in force on (default: today)

    Returns
    -------
    ClusterKpis
        three KPIs (value, threshold, pass/fail, RU/EN text) and the what-ifs.

    Raises
    ------
    NotFound
        unknown cluster.
    """
    member_idx = proj.cluster(cluster_id)
    members = set(member_idx.tolist())
    row = proj.cluster_rows[cluster_id]
    threshold = float(row.get("intra_share_threshold", 0.2))
    untied = _untied(proj, members, today=today)
    untied_ids = [proj.company_ids[i] for i in untied]
    k1, k2 = _tie_kpis(len(members), untied_ids)
    # the ties the regulation does not (or may not) count, for the untied: what would
    # bring them in if the contract were of a counted kind
    unclear = _untied(proj, members, today=today,
                      tie_types=counted_tie_types(include_unclear=True))
    for k in (k1, k2):
        k.details["tie_types_counted"] = sorted(counted_tie_types())
        k.details["regulation_point"] = "Постановление № 779, Требования…, подп. «а»"
        k.details["untied_if_unclear_counted"] = [proj.company_ids[i] for i in unclear]
        k.details["uncounted_ties"] = _uncounted_ties(proj, members, untied, today)
    makers = _makers(proj, members)
    intra, total, per_maker, imports = purchase_values(proj, makers, members)
    k3 = _intra_kpi(intra, total, threshold, per_maker, imports, viewer)
    scenarios: list[WhatIf] = []
    source: Literal["match", "capabilities", "none"] = "none"
    # Ties are proposed while any member is untied: the rule's aim is every member.
    if what_if and untied:
        demand = category_demand(proj, np.asarray(member_idx, dtype=np.int64))
        links, src = _tie_what_if(proj, cluster_id, members, untied, demand, use_match=True,
                                  viewer=viewer)
        source = "match" if src == "match" else ("capabilities" if links else "none")
        now_tied = {proj.company_index[link.supplier_id] for link in links} | {
            proj.company_index[link.buyer_id] for link in links}
        left = [i for i in untied if i not in now_tied]
        n1, n2 = _tie_kpis(len(members), [proj.company_ids[i] for i in left])
        for before, after in ((k1, n1), (k2, n2)):
            if before.passed and before.code == "untied_count":
                continue  # one scenario for the rule when it passes: the share's
            scenarios.append(WhatIf(
                kpi=before.code, links=links, before=before.value, after=after.value,
                passes_after=after.passed,
                text_ru=(count(len(links), "ru", ("рекомендованная связь",
                                                  "рекомендованные связи",
                                                  "рекомендованных связей"), ("", ""))
                         + f": «{before.name_ru}» {_kpi_figure(before.code, before.value, 'ru')}"
                         f" → {_kpi_figure(after.code, after.value, 'ru')}"
                         + (" (норматив выполнен)." if after.passed else ".")),
                text_en=(count(len(links), "en", ("", "", ""), ("recommended link",
                                                               "recommended links"))
                         + f": {before.name_en} {_kpi_figure(before.code, before.value, 'en')}"
                         f" → {_kpi_figure(after.code, after.value, 'en')}"
                         + (" (meets the threshold)." if after.passed else "."))))
    if what_if and not k3.passed:
        links, gained, total_after = _intra_what_if(
            proj, makers, members, intra, total, threshold,
            _recommended(proj, makers, members, cluster_id, viewer), viewer)
        new_share = (intra + gained) / total_after if total_after > 0 else 0.0
        if links and source == "none":
            source = links[0].source
        passes = new_share >= threshold - 1e-12
        # the moved value is made of suppliers' free capacities: the centre's alone
        share_after = new_share if viewer.is_centre else None
        if k3.value is None or share_after is None:
            ru_share = "доля растёт" if links else "доля не меняется"
            en_share = "the share rises" if links else "the share stays"
        else:
            ru_share = f"доля {percent(k3.value, 'ru', 1)} → {percent(share_after, 'ru', 1)}"
            en_share = f"share {percent(k3.value, 'en', 1)} → {percent(share_after, 'en', 1)}"
        scenarios.append(WhatIf(
            kpi=k3.code, links=links, before=k3.value, after=share_after, passes_after=passes,
            text_ru=("Перевод к участникам кластера "
                     + count(len(links), "ru", ("закупки", "закупок", "закупок"), ("", ""))
                     + f": {ru_share} (порог {percent(threshold, 'ru')})."),
            text_en=("Moving " + count(len(links), "en", ("", "", ""),
                                       ("purchase", "purchases"))
                     + f" to members: {en_share} (threshold {percent(threshold, 'en')}).")))
    return ClusterKpis(
        cluster_id=cluster_id, cluster_name=str(row.get("name", cluster_id)),
        members=len(members), end_product_makers=[proj.company_ids[i] for i in makers],
        untied_members=untied_ids, kpis=[k1, k2, k3], what_if=scenarios,
        candidate_source=source)


# --- an interactive what-if: the KPIs with a chosen set of links ---------------------


class ChosenLink(BaseModel):
    """A link the user keeps in the what-if, with the yearly volume it carries."""

    supplier_id: str
    buyer_id: str
    category: str | None = None
    volume: float | None = Field(
        default=None, ge=0, le=1e12, allow_inf_nan=False,
        description="Units per year (None: only the tie counts; at most the supplier's free "
        "capacity in the category, summed over the chosen links)")


class ChosenLinksResult(BaseModel):
    """The KPIs before and after adding the chosen links."""

    cluster_id: str
    before: list[Kpi]
    after: list[Kpi]
    links: list[ProposedLink]
    newly_tied: list[str]
    text_ru: str
    text_en: str


def _outside_purchases(proj: Projection, makers: set[int], members: set[int]
                       ) -> dict[tuple[int, int], list[list[float]]]:
    """Per (maker, category), its purchases from non-members and imports.

    Each is ``[volume, price, 1.0 if an import else 0.0]`` (a list: the what-if uses it up).
    """
    out: dict[tuple[int, int], list[list[float]]] = defaultdict(list)
    for j in range(len(proj.sup_buyer)):
        b, s = int(proj.sup_buyer[j]), int(proj.sup_supplier[j])
        if b in makers and s not in members:
            c = int(proj.sup_category[j])
            out[(b, c)].append([float(np.nan_to_num(proj.sup_volume[j])),
                                _unit_price(proj, float(proj.sup_price[j]), c), 0.0])
    for j in range(len(proj.imp_company)):
        m = int(proj.imp_company[j])
        if m in makers:
            c = int(proj.imp_category[j])
            out[(m, c)].append([float(np.nan_to_num(proj.imp_volume[j])),
                                _unit_price(proj, float(proj.imp_price[j]), c), 1.0])
    return out


def evaluate_links(proj: Projection, cluster_id: str, links: list[ChosenLink], *,
                   viewer: Viewer = CENTRE, today: dt.date | None = None
                   ) -> ChosenLinksResult:
    """The KPIs of ``cluster_id`` if the chosen links were contracted.

    Each link ties its two members (the tie KPIs). A link whose buyer is an
    end-product maker takes over its volume from the maker's purchases of that
    category from non-members and imports (in their order), priced at the
    supplier's declared price (else the category's): the moved value joins the
    purchases from members and the total changes by the difference in price, as
    in :func:`cluster_kpis`'s proposals; volume beyond those purchases is a new
    purchase from a member. Volumes are checked against the supplier's free
    capacity in the category, summed over the chosen links.

    A member may choose links but not set volumes (they are made of other
    companies' demand and capacity); its purchase share after is withheld.

    Raises
    ------
    NotFound
        unknown cluster.
    ValidationFailed
        a company that is not a member, an unknown category, a link to itself, a
        volume on a link the viewer may not see, or volumes above free capacity.
    """
    member_idx = proj.cluster(cluster_id)
    members = set(member_idx.tolist())
    row = proj.cluster_rows[cluster_id]
    threshold = float(row.get("intra_share_threshold", 0.2))
    problems: list[tuple[str, str]] = []
    parsed: list[tuple[int, int, int, float]] = []
    for n, link in enumerate(links):
        where = f"links.{n}"
        s = proj.company_index.get(link.supplier_id)
        b = proj.company_index.get(link.buyer_id)
        for name, idx in (("supplier_id", s), ("buyer_id", b)):
            if idx is None or idx not in members:
                problems.append((f"{where}.{name}", f"not a member of {cluster_id}"))
        c = -1
        if link.category is not None:
            c = proj.category_index.get(link.category, -2)
            if c == -2:
                problems.append((f"{where}.category", f"unknown category {link.category!r}"))
        if s is not None and s == b:
            problems.append((where, "a link needs two different companies"))
        if link.volume and not viewer.is_centre:
            problems.append((f"{where}.volume", "a member key may not set volumes of other "
                             "companies' links"))
        if link.volume and c < 0:
            problems.append((f"{where}.volume", "a volume needs a category"))
        if s is not None and b is not None:
            parsed.append((s, b, c, float(link.volume or 0.0)))
    if problems:
        raise ValidationFailed("invalid what-if links", problems)
    chosen: dict[tuple[int, int], float] = defaultdict(float)
    for s, _b, c, qty in parsed:
        if c >= 0:
            chosen[(s, c)] += qty
    for (s, c), qty in chosen.items():
        room = _room(proj, s, c)
        if room is not None and qty > room + 1e-6:
            problems.append((
                "links", f"{proj.company_names[s]} ({proj.company_ids[s]}): "
                f"{number(qty, 'en')} units/yr of {proj.category_codes[c]} chosen, "
                f"free capacity {number(room, 'en')}"))
    if problems:
        raise ValidationFailed("the chosen volumes exceed the suppliers' free capacity", problems)

    before = cluster_kpis(proj, cluster_id, what_if=False, viewer=viewer, today=today).kpis
    untied = _untied(proj, members, today=today)
    now_tied = {i for s, b, _c, _q in parsed for i in (s, b)}
    left = [i for i in untied if i not in now_tied]
    n1, n2 = _tie_kpis(len(members), [proj.company_ids[i] for i in left])
    makers = _makers(proj, members)
    maker_set = set(makers)
    intra, total, per_maker, imports = purchase_values(proj, makers, members)
    per = {m: list(v) for m, v in per_maker.items()}
    outside = _outside_purchases(proj, maker_set, members)
    out_links: list[ProposedLink] = []
    for s, b, c, qty in parsed:
        cap_rows = _capability_rows(proj, s, c) if c >= 0 else []
        offer = (_offer_price(proj, cap_rows[0]) if cap_rows
                 else (_unit_price(proj, float("nan"), c) if c >= 0 else 0.0))
        if b in maker_set and c >= 0 and qty > 0:
            left_qty = qty
            delta_total = 0.0
            key = proj.company_ids[b]
            for purchase in outside.get((b, c), []):
                moved = min(left_qty, purchase[0])
                if moved <= 0:
                    continue
                purchase[0] -= moved
                left_qty -= moved
                delta_total += moved * (offer - purchase[1])
                if purchase[2]:  # an import no longer
                    imports -= moved * purchase[1]
                    per[key][2] -= moved * purchase[1]
            delta_total += left_qty * offer  # beyond the outside purchases: a new one
            intra += qty * offer
            total += delta_total
            per[key][0] += qty * offer
            per[key][1] += delta_total
        seen = can_see(viewer, proj.company_ids[b], proj.company_ids[s])
        out_links.append(ProposedLink(
            supplier_id=proj.company_ids[s], buyer_id=proj.company_ids[b],
            category=proj.category_codes[c] if c >= 0 else None,
            volume=qty if seen else None, value=qty * offer if seen else None,
            source="capabilities",
            free_capacity=_room(proj, s, c) if c >= 0 and can_see(
                viewer, proj.company_ids[s]) else None))
    k3 = _intra_kpi(intra, total, threshold,
                    {m: (v[0], v[1], v[2]) for m, v in per.items()}, imports, viewer)
    tied = sorted(proj.company_ids[i] for i in set(untied) - set(left))
    ru = (count(len(parsed), "ru", ("выбранная связь", "выбранные связи", "выбранных связей"),
                ("", "")) + ": без связей остаётся "
          + count(len(left), "ru", ("участник", "участника", "участников"), ("", "")) + ".")
    en = (count(len(parsed), "en", ("", "", ""), ("chosen link", "chosen links"))
          + ": " + count(len(left), "en", ("", "", ""), ("member", "members"))
          + " left without ties.")
    return ChosenLinksResult(cluster_id=cluster_id, before=before, after=[n1, n2, k3],
                             links=out_links, newly_tied=tied, text_ru=ru, text_en=en)
