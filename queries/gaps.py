"""Gap analytics: what a cluster or region lacks, where it hangs by a thread, what lies idle.

:func:`find_gaps` answers, for a *scope* (a cluster's members, or a region's
companies, or everyone) and the *regional suppliers* (companies in ``region``,
else in the cluster's region, else everyone):

* **import dependency** — demanded categories no regional company declares;
* **single source** — demanded categories exactly one regional company declares;
* **over capacity** — demand above the regional companies' total declared capacity;
* **idle capacity** — regional (or scope) suppliers with free capacity in a
  category they sell to nobody;
* **untied** — scope companies with no supply link, either way, to another one;
* **critical companies** — betweenness centrality and articulation points of the
  cooperation network (networkx) among the scope and regional companies;
* **capabilities to attract** — the missing or short categories ranked by the
  demand value their arrival would unlock.

Demand of a category, per demanding company, is the largest of: its BOM demand
(products × ``annual_volume`` (1 when unknown), expanded over every level — a
component of a bought assembly is still demanded in the region, by the
assembly's maker; see :func:`queries.bom.total_demand`), its explicit need
(``qty_per_year``), its imports (``volume_per_year`` summed over countries) and what it
buys now through supply links (``volume_per_year`` summed over suppliers; a link
without a category says nothing). The four are estimates of one yearly requirement,
so they are not added. Each finding names its ``evidence`` (``bom``, ``need``,
``import``, ``supply``); a category demanded only through supply links is said to
be so. When a list is empty because the data for it is missing, the report's
``missing_data_ru`` / ``missing_data_en`` say which data. Value = quantity ×
the category's ``unit_price`` (else the mean import price, else the mean
declared price, else 0). ``queries/gaps.cypher`` computes the same sets in Neo4j.

A report is built for a ``viewer`` (:mod:`graph.confidentiality`). The centre
sees every figure. A member sees its own figures; another company's figure
(one supplier's capacity, an idle capacity) is ``None``; a total over
companies (demand, capacity, shortfall) is shown, rounded, only when at least
``MIN_OTHERS`` other companies contribute, and the sentences say "withheld"
instead of a figure. Which rows appear is the same for every viewer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, Field

from coopgraph.graph.confidentiality import CENTRE, Viewer, aggregate, coarse, shown, total_with_own
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.i18n import count, number, percent
from coopgraph.graph.regions import canonical_region
from coopgraph.queries.bom import total_demand
from coopgraph.queries.projection import Projection

__all__ = [
    "AttractCapability",
    "CapacityGap",
    "CategoryGap",
    "CompanyRef",
    "CriticalCompany",
    "GapReport",
    "IdleCapacity",
    "SingleSource",
    "category_demand",
    "find_gaps",
    "scope_of",
]


class CompanyRef(BaseModel):
    """A company by id and name."""

    company_id: str
    name: str


class CategoryGap(BaseModel):
    """A demanded category with no regional supplier (an import dependency)."""

    category: str
    name: str
    demand_qty: float | None
    demand_value: float | None
    buyers: list[str]
    importers: list[str] = Field(description="Scope companies importing it now")
    import_qty: float | None = Field(
        default=None, description="Units per year the scope's companies import now (summed "
        "over countries); None when withheld or unknown")
    evidence: list[str] = Field(
        default_factory=list, description="What shows the demand: bom, need, import, supply")
    text_ru: str
    text_en: str


class SingleSource(BaseModel):
    """A demanded category exactly one regional company declares."""

    category: str
    name: str
    supplier_id: str
    supplier_name: str
    demand_qty: float | None
    demand_value: float | None
    capacity: float | None
    evidence: list[str] = Field(
        default_factory=list, description="What shows the demand: bom, need, import, supply")
    text_ru: str
    text_en: str


class CapacityGap(BaseModel):
    """Demand above the total declared regional capacity."""

    category: str
    name: str
    demand_qty: float | None
    capacity: float | None
    shortfall: float | None
    shortfall_value: float | None
    suppliers: list[str]
    evidence: list[str] = Field(
        default_factory=list, description="What shows the demand: bom, need, import, supply")
    text_ru: str
    text_en: str


class IdleCapacity(BaseModel):
    """A supplier's free capacity in a category it sells to nobody."""

    company_id: str
    name: str
    category: str
    category_name: str
    capacity: float | None
    free_capacity: float | None
    demand_in_scope: float | None = Field(description="Demand for the category in the scope")
    category_over_capacity: bool = Field(
        default=False, description="The category is also in over_capacity: demand exceeds "
        "the region's declared capacity, yet nobody buys this supplier's")
    text_ru: str
    text_en: str


class CriticalCompany(BaseModel):
    """A company the cooperation network depends on."""

    company_id: str
    name: str
    betweenness: float
    articulation_point: bool
    degree: int = Field(description="Links: the distinct companies it supplies or buys from, "
                        "anywhere (the one definition of a company's links on every page)")
    text_ru: str
    text_en: str


class AttractCapability(BaseModel):
    """A missing or short capability, ranked by the demand value its arrival would unlock."""

    rank: int
    category: str
    name: str
    unlock_qty: float | None
    unlock_value: float | None
    buyers: int
    reason: str = Field(description="'missing' (no regional supplier) or 'short' (capacity)")
    processes: list[str] = Field(description="Processes the category needs")
    could_develop: list[str] = Field(
        description="Regional companies holding every needed process (could start making it)")
    text_ru: str
    text_en: str


class GapReport(BaseModel):
    """Every gap of one scope."""

    cluster_id: str | None
    region: str | None = Field(description="The region whose companies count as suppliers")
    scope_size: int
    demanded_categories: int
    import_dependency: list[CategoryGap]
    single_source: list[SingleSource]
    over_capacity: list[CapacityGap]
    idle_capacity: list[IdleCapacity]
    untied: list[CompanyRef]
    critical: list[CriticalCompany]
    attract: list[AttractCapability]
    text_ru: str
    text_en: str
    demand_evidence: dict[str, int] = Field(
        default_factory=dict,
        description="Demanded categories per kind of evidence (bom, need, import, supply)")
    missing_data_ru: list[str] = Field(
        default_factory=list, description="Data whose absence leaves lists empty (Russian)")
    missing_data_en: list[str] = Field(
        default_factory=list, description="Data whose absence leaves lists empty (English)")


# --- scope and demand -----------------------------------------------------------------


def scope_of(proj: Projection, cluster_id: str | None,
             region: str | None) -> tuple[np.ndarray, str | None, np.ndarray]:
    """``(scope company indices, supplier region, regional company mask)``."""
    if region is not None and not region.strip():
        raise InvalidQuery("region must not be empty")
    regions = proj.company_regions
    if region is not None and region not in set(regions):
        # "Липецкая обл.", "Lipetsk Oblast", "48": the official name, when companies use it
        official = canonical_region(region)
        if official is not None and official in set(regions):
            region = official
    if cluster_id is not None:
        scope = np.asarray(proj.cluster(cluster_id), dtype=np.int64)
        reg = region if region is not None else proj.cluster_rows[cluster_id].get("region")
    elif region is not None:
        scope = np.array([i for i, r in enumerate(regions) if r == region], dtype=np.int64)
        reg = region
    else:
        scope, reg = np.arange(proj.n_companies, dtype=np.int64), None
    regional = (np.array([r == reg for r in regions], dtype=bool) if reg is not None
                else np.ones(proj.n_companies, dtype=bool))
    return scope, reg, regional


def _price(proj: Projection, c: int, viewer: Viewer = CENTRE) -> float | None:
    """The category's unit price: its own, else the mean import price, else the mean
    declared price (means over other companies' prices, as ``viewer`` may see them), else 0."""
    price = float(proj.category_price[c])
    if not math.isnan(price):
        return price
    for arr, cats, owners in ((proj.imp_price, proj.imp_category, proj.imp_company),
                              (proj.cap_price, proj.cap_category, proj.cap_company)):
        rows = np.flatnonzero((cats == c) & ~np.isnan(arr))
        if len(rows):
            if viewer.is_centre:
                return float(arr[rows].mean())
            return aggregate(viewer, _by_company(proj, owners[rows], arr[rows])).mean
    return 0.0


def _by_company(proj: Projection, companies: Any, values: Any) -> dict[str, list[float]]:
    """``{company id: [its figures]}`` from parallel sequences of company indices and figures."""
    out: dict[str, list[float]] = defaultdict(list)
    for m, v in zip(np.asarray(companies).tolist(), np.asarray(values, dtype=float).tolist(),
                    strict=True):
        out[proj.company_ids[int(m)]].append(v)
    return out


def _times(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def _fig(x: float | None) -> tuple[str, str]:
    """A figure for the (Russian, English) sentences, or the word for a withheld one."""
    return number(x, "ru", unknown="скрыто"), number(x, "en", unknown="withheld")


_SOURCES = ("bom", "need", "import", "supply")


def category_demand(proj: Projection, scope: np.ndarray, *, supplies: bool = False
                    ) -> dict[int, dict[int, float]]:
    """``{category: {company: qty}}`` demanded by the scope (see the module docstring).

    With ``supplies``, what the scope's companies buy now through supply links counts
    as demand too (the gap report does; the KPI what-if does not).
    """
    return _demand(proj, scope, supplies=supplies)[0]


def _demand(proj: Projection, scope: np.ndarray, *, supplies: bool
            ) -> tuple[dict[int, dict[int, float]], dict[int, set[str]]]:
    """The demand (as :func:`category_demand`) and, per category, its kinds of evidence."""
    in_scope = np.zeros(proj.n_companies, dtype=bool)
    in_scope[scope] = True
    per: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    seen: dict[tuple[int, int], set[str]] = defaultdict(set)
    for p in range(len(proj.product_ids)):
        m = int(proj.product_maker[p])
        if m < 0 or not in_scope[m] or not proj.product_bom[p]:
            continue
        vol = proj.product_rows[p].get("annual_volume")
        demand = total_demand(proj, p, 1.0 if vol is None else float(vol))
        for c, q in demand.items():
            per[(m, c)][0] += q
            seen[(m, c)].add("bom")
    for j in range(len(proj.need_company)):
        m = int(proj.need_company[j])
        if in_scope[m]:
            key = (m, int(proj.need_category[j]))
            entry = per[key]
            entry[1] = max(entry[1], float(np.nan_to_num(proj.need_qty[j])))
            seen[key].add("need")
    for j in range(len(proj.imp_company)):
        m = int(proj.imp_company[j])
        if in_scope[m]:
            key = (m, int(proj.imp_category[j]))
            per[key][2] += float(np.nan_to_num(proj.imp_volume[j]))
            seen[key].add("import")
    if supplies:
        for j in range(len(proj.sup_buyer)):
            m, c = int(proj.sup_buyer[j]), int(proj.sup_category[j])
            if c >= 0 and in_scope[m]:
                per[(m, c)][3] += float(np.nan_to_num(proj.sup_volume[j]))
                seen[(m, c)].add("supply")
    out: dict[int, dict[int, float]] = defaultdict(dict)
    sources: dict[int, set[str]] = defaultdict(set)
    for (m, c), values in per.items():
        out[c][m] = max(values)
        sources[c] |= seen[(m, c)]
    return dict(out), dict(sources)


def _evidence(sources: set[str]) -> list[str]:
    return [s for s in _SOURCES if s in sources]


def _supply_only(sources: set[str]) -> tuple[str, str]:
    """The words added to a finding whose demand only supply links show."""
    if sources == {"supply"}:
        return (" (спрос виден только по текущим поставкам)",
                " (demand shown by existing supply links only)")
    return "", ""


def _missing_data(proj: Projection, scope: np.ndarray, regional: np.ndarray,
                  demand: dict[int, dict[int, float]]) -> tuple[list[str], list[str]]:
    """What data is missing, when its absence is why lists are empty (RU, EN)."""
    ru: list[str] = []
    en: list[str] = []
    if len(scope) == 0:
        return (["в контуре нет ни одной компании: загрузите компании и членство в кластере "
                 "(companies, memberships) или проверьте --region"],
                ["the scope holds no company: load companies and cluster memberships "
                 "(companies, memberships) or check --region"])
    if not demand:
        ru.append("нет данных о спросе: у компаний контура нет ни изделий со спецификацией "
                  "(products + bom), ни потребностей (needs), ни импорта (imports), ни поставок "
                  "с указанной категорией (supplies.category) — поэтому пусты списки «нет "
                  "поставщика», «единственный поставщик», «спрос выше мощности» и «привлечь»")
        en.append("no demand data: the scope's companies have no products with a bill of "
                  "materials (products + bom), no needs, no imports and no supplies with a "
                  "category (supplies.category) — so the lists 'no regional supplier', "
                  "'single source', 'demand above capacity' and 'to attract' are empty")
    has_caps = bool(np.any(regional[proj.cap_company])) if len(proj.cap_company) else False
    if not has_caps:
        ru.append("в регионе не заявлено ни одной возможности (capabilities): некому быть "
                  "поставщиком, простаивающих мощностей не найти")
        en.append("no capabilities declared in the region: nobody can be a supplier and no "
                  "idle capacity can be found")
    elif not bool(np.any(~np.isnan(proj.cap_capacity[regional[proj.cap_company]]))):
        ru.append("у возможностей региона не указана мощность (capacity_per_year): "
                  "простаивающие мощности и нехватку мощности не посчитать")
        en.append("the region's capabilities give no capacity (capacity_per_year): idle "
                  "capacity and capacity shortfalls cannot be computed")
    if len(proj.sup_supplier) == 0:
        ru.append("нет ни одной поставки (supplies): связи между компаниями и критичные "
                  "компании сети не определить")
        en.append("no supply links (supplies): ties between companies and the network's "
                  "critical companies cannot be found")
    return ru, en


# --- the report -------------------------------------------------------------------------


def _name(proj: Projection, c: int) -> str:
    row = proj.category_rows[c]
    return str(row.get("name_en") or row.get("name_ru") or proj.category_codes[c])


def _name_ru(proj: Projection, c: int) -> str:
    """The category's Russian name (the English one, then the code, when it has none)."""
    row = proj.category_rows[c]
    return str(row.get("name_ru") or row.get("name_en") or proj.category_codes[c])


def _ties(proj: Projection, scope: np.ndarray) -> list[int]:
    """Scope companies with no supply link either way to another scope company."""
    in_scope = np.zeros(proj.n_companies, dtype=bool)
    in_scope[scope] = True
    tied = np.zeros(proj.n_companies, dtype=bool)
    both = in_scope[proj.sup_supplier] & in_scope[proj.sup_buyer] & (
        proj.sup_supplier != proj.sup_buyer)
    tied[proj.sup_supplier[both]] = True
    tied[proj.sup_buyer[both]] = True
    return [int(i) for i in scope if not tied[i]]


# "Critical": an articulation point (the network splits without it), or a company on at
# least this share of the shortest paths between other companies (betweenness); at most
# CRITICAL_MAX of them, articulation points first, so the list stays a short list.
CRITICAL_BETWEENNESS = 0.05
CRITICAL_MAX = 12
CRITICAL_TEXT_RU = ("Критичная компания — та, без которой сеть кооперации распадается на части "
                    "(точка сочленения), или через которую проходит не меньше 5 % кратчайших "
                    "путей между другими компаниями (посредничество).")
CRITICAL_TEXT_EN = ("A critical company is one without which the cooperation network splits "
                    "(an articulation point), or one on at least 5% of the shortest paths "
                    "between other companies (betweenness).")


def _critical(proj: Projection, nodes: np.ndarray) -> list[CriticalCompany]:
    full = proj.cooperation_graph
    graph = full.subgraph(nodes.tolist())
    if graph.number_of_edges() == 0:
        return []
    between = nx.betweenness_centrality(graph, normalized=True)
    cut = set(nx.articulation_points(graph))
    out: list[CriticalCompany] = []
    ranked = sorted(graph.nodes, key=lambda i: (i not in cut, -between[i], proj.company_ids[i]))
    for i in ranked:
        if i not in cut and between[i] < CRITICAL_BETWEENNESS:
            continue
        if len(out) >= CRITICAL_MAX:
            break
        name = proj.company_names[i]
        deg = int(full.degree[i])  # all its partners, as the network page counts them
        share_ru, share_en = percent(between[i], "ru"), percent(between[i], "en")
        ru = (f"{name}: через неё проходят {share_ru} кратчайших путей между другими "
              f"компаниями сети кооперации"
              + ("; точка сочленения — без неё сеть распадётся на части" if i in cut else ""))
        en = (f"{name}: {share_en} of the shortest paths between other companies of the "
              f"cooperation network pass through it"
              + ("; an articulation point — without it the network splits" if i in cut else ""))
        out.append(CriticalCompany(company_id=proj.company_ids[i], name=name,
                                   betweenness=float(between[i]), articulation_point=i in cut,
                                   degree=deg, text_ru=ru, text_en=en))
    return out


def find_gaps(proj: Projection, *, cluster_id: str | None = None,
              region: str | None = None, viewer: Viewer = CENTRE) -> GapReport:
    """Find the gaps of a cluster (its members) or a region (its companies).

    Parameters
    ----------
    proj : the analytic projection
    cluster_id : the scope is this cluster's members (suppliers: the cluster's region)
    region : the region whose companies count as suppliers (and the scope, without a cluster)
    viewer : who the report is for (:data:`~graph.confidentiality.CENTRE`: every figure;
        a member sees other companies' figures only as totals over enough of them)

    Returns
    -------
    GapReport
        import dependencies, single-source and over-capacity categories, idle
        capacity, untied companies, critical companies and capabilities to
        attract (see the module docstring).

    Raises
    ------
    NotFound
        unknown cluster.
    InvalidQuery
        an empty region.
    BomCycleError
        a product's BOM has a cycle.
    """
    scope, reg, regional = scope_of(proj, cluster_id, region)
    demand, sources = _demand(proj, scope, supplies=True)
    indptr, rows = proj.capabilities_by_category
    free = proj.free_capacity

    def demand_of(c: int) -> float | None:
        return total_with_own(viewer, _by_company(proj, list(demand[c]), list(demand[c].values())))

    gaps: list[CategoryGap] = []
    single: list[SingleSource] = []
    over: list[CapacityGap] = []
    attract: list[tuple[float, float, int, str, int, float | None, float | None]] = []
    importers_of: dict[int, set[int]] = defaultdict(set)
    import_rows: dict[int, list[int]] = defaultdict(list)
    in_scope = set(scope.tolist())
    for j in range(len(proj.imp_company)):
        if int(proj.imp_company[j]) in in_scope:
            importers_of[int(proj.imp_category[j])].add(int(proj.imp_company[j]))
            import_rows[int(proj.imp_category[j])].append(j)

    def import_qty_of(c: int) -> float | None:
        """Units imported per year in scope, as the viewer may see them (``None``: withheld)."""
        js = [j for j in import_rows.get(c, ()) if math.isfinite(float(proj.imp_volume[j]))]
        if not js:
            return 0.0
        total = total_with_own(viewer, _by_company(proj, proj.imp_company[js],
                                                   proj.imp_volume[js]))
        return total if viewer.is_centre else coarse(total)
    for c in sorted(demand, key=lambda c: proj.category_codes[c]):
        qty = sum(demand[c].values())
        price = _price(proj, c, viewer)
        exact_price = _price(proj, c) or 0.0  # orders the list to attract, not shown
        qty_shown = qty if viewer.is_centre else demand_of(c)
        value_shown = _times(qty_shown, price)
        if not viewer.is_centre:
            value_shown = coarse(value_shown)
        q_ru, q_en = _fig(qty_shown)
        v_ru, v_en = _fig(value_shown)
        name, code = _name(proj, c), proj.category_codes[c]
        name_ru = _name_ru(proj, c)
        caps = rows[indptr[c]:indptr[c + 1]]
        caps = caps[regional[proj.cap_company[caps]]]
        buyers = sorted(proj.company_ids[m] for m in demand[c])
        evidence = _evidence(sources.get(c, set()))
        only_ru, only_en = _supply_only(sources.get(c, set()))
        if len(caps) == 0:
            importers = sorted(proj.company_ids[m] for m in importers_of.get(c, ()))
            gaps.append(CategoryGap(
                category=code, name=name, demand_qty=qty_shown, demand_value=value_shown,
                buyers=buyers, importers=importers, import_qty=import_qty_of(c),
                evidence=evidence,
                text_ru=f"{name_ru}: в регионе нет поставщика; спрос {q_ru} шт./год "
                        f"на {v_ru} ₽ закрывается импортом или не закрыт{only_ru}.",
                text_en=f"{name}: no supplier in the region; demand {q_en}/yr worth "
                        f"{v_en} RUB is imported or unmet{only_en}."))
            attract.append((qty * exact_price, qty, len(buyers), "missing", c, qty_shown,
                            value_shown))
            continue
        cap_owners = proj.cap_company[caps]
        capacity = float(np.nansum(proj.cap_capacity[caps]))
        capacity_shown = capacity if viewer.is_centre else total_with_own(
            viewer, _by_company(proj, cap_owners, proj.cap_capacity[caps]))
        if len(caps) == 1:
            s = int(proj.cap_company[caps[0]])
            cap1 = float(proj.cap_capacity[caps[0]])
            single.append(SingleSource(
                category=code, name=name, supplier_id=proj.company_ids[s],
                supplier_name=proj.company_names[s], demand_qty=qty_shown,
                demand_value=value_shown,
                capacity=None if math.isnan(cap1) else shown(viewer, cap1, proj.company_ids[s]),
                evidence=evidence,
                text_ru=f"{name_ru}: единственный поставщик в регионе — "
                        f"{proj.company_names[s]}; его закрытие остановит {len(buyers)} "
                        f"покупателей{only_ru}.",
                text_en=f"{name}: the only regional supplier is {proj.company_names[s]}; "
                        f"its closure would stop {len(buyers)} buyer(s){only_en}."))
        if qty > capacity:
            short = qty - capacity
            short_shown = (short if viewer.is_centre else
                           None if qty_shown is None or capacity_shown is None else coarse(short))
            short_value = _times(short_shown, price)
            if not viewer.is_centre:
                short_value = coarse(short_value)
            c_ru, c_en = _fig(capacity_shown)
            s_ru, s_en = _fig(short_shown)
            over.append(CapacityGap(
                category=code, name=name, demand_qty=qty_shown, capacity=capacity_shown,
                shortfall=short_shown, shortfall_value=short_value,
                suppliers=sorted(proj.company_ids[int(i)] for i in cap_owners),
                evidence=evidence,
                text_ru=f"{name_ru}: спрос {q_ru} больше мощности региона {c_ru} "
                        f"на {s_ru} шт./год{only_ru}.",
                text_en=f"{name}: demand {q_en} exceeds the regional capacity "
                        f"{c_en} by {s_en}/yr{only_en}."))
            attract.append((short * exact_price, short, len(buyers), "short", c, short_shown,
                            short_value))

    # idle: free capacity in a category with no buyer at all
    sold = {(int(s), int(c)) for s, c in zip(proj.sup_supplier.tolist(),
                                             proj.sup_category.tolist(), strict=True)}
    idle: list[tuple[tuple[Any, ...], IdleCapacity]] = []
    short_codes = {o.category for o in over}
    candidates = regional.copy()
    candidates[scope] = True
    for j in np.flatnonzero(candidates[proj.cap_company] & (np.nan_to_num(free) > 0)).tolist():
        s, c = int(proj.cap_company[j]), int(proj.cap_category[j])
        if (s, c) in sold:
            continue
        name = proj.company_names[s]
        owner = proj.company_ids[s]
        in_demand = sum(demand.get(c, {}).values())
        in_demand_shown: float | None = in_demand
        if c in demand and not viewer.is_centre:
            in_demand_shown = demand_of(c)
        free_shown = shown(viewer, float(free[j]), owner)
        f_ru, f_en = _fig(free_shown)
        d_ru, d_en = _fig(in_demand_shown)
        # Both lists, one category: over capacity compares the whole demand with the
        # declared capacity; idle is capacity no supply link uses. Not a contradiction —
        # the buyers exist but have no contract with this supplier — and the row says so.
        short = proj.category_codes[c] in short_codes
        why_ru = (" Спрос по категории выше мощностей региона: покупатели есть, но договора "
                  "с этим поставщиком пока нет." if short else "")
        why_en = (" Demand for the category exceeds the region's capacity: the buyers exist "
                  "but have no contract with this supplier yet." if short else "")
        row = IdleCapacity(
            company_id=owner, name=name, category=proj.category_codes[c],
            category_name=_name(proj, c), capacity=shown(viewer, float(proj.cap_capacity[j]),
                                                         owner),
            free_capacity=free_shown, demand_in_scope=in_demand_shown,
            category_over_capacity=short,
            text_ru=f"{name}: {f_ru} шт./год мощности по «{_name_ru(proj, c)}» "
                    f"без покупателя; спрос в контуре {d_ru}.{why_ru}",
            text_en=f"{name}: {f_en}/yr of {_name(proj, c)} capacity with no "
                    f"buyer; demand in scope {d_en}.{why_en}")
        # a member's rows are not ordered by other companies' hidden figures
        key = ((-in_demand, -float(free[j])) if viewer.is_centre
               else (-(in_demand_shown or 0.0), -(free_shown or 0.0)))
        idle.append(((*key, owner, row.category), row))
    idle.sort(key=lambda t: t[0])

    untied = [CompanyRef(company_id=proj.company_ids[i], name=proj.company_names[i])
              for i in sorted(_ties(proj, scope), key=lambda i: proj.company_ids[i])]
    network_nodes = np.union1d(scope, np.flatnonzero(regional)) if reg is not None else scope
    critical = _critical(proj, network_nodes)

    ranked: list[AttractCapability] = []
    if viewer.is_centre:
        attract.sort(key=lambda t: (-t[0], -t[1], proj.category_codes[t[4]]))
    else:  # by what the member may see: an order by hidden figures would tell them apart
        attract.sort(key=lambda t: (t[6] is None, -(t[6] or 0.0), proj.category_codes[t[4]]))
    for rank, (_, _, n_buyers, reason, c, unlock_qty, value) in enumerate(attract, start=1):
        procs = proj.category_processes[c]
        develop: list[str] = []
        if len(procs):
            held = np.asarray(proj.company_process[:, procs].sum(axis=1)).ravel()
            develop = sorted(proj.company_ids[i] for i in np.flatnonzero(
                (held >= len(procs)) & regional).tolist())
        name = _name(proj, c)
        what_ru = "нет в регионе" if reason == "missing" else "не хватает мощности"
        what_en = "missing in the region" if reason == "missing" else "short of capacity"
        v_ru, v_en = _fig(value)
        ranked.append(AttractCapability(
            rank=rank, category=proj.category_codes[c], name=name, unlock_qty=unlock_qty,
            unlock_value=value, buyers=n_buyers, reason=reason,
            processes=[proj.process_codes[p] for p in procs.tolist()], could_develop=develop,
            text_ru=f"{rank}. {_name_ru(proj, c)} ({what_ru}): откроет спрос на {v_ru} ₽/год "
                    f"у " + count(n_buyers, "ru", ("покупателя", "покупателей", "покупателей"),
                                  ("", "")) + ".",
            text_en=f"{rank}. {name} ({what_en}): would unlock {v_en} RUB/yr of demand "
                    "from " + count(n_buyers, "en", ("", "", ""), ("buyer", "buyers")) + "."))
    where = (str(proj.cluster_rows[cluster_id].get("name") or cluster_id) if cluster_id
             else reg or "all")
    where_ru = where if where != "all" else "все компании"
    missing_ru, missing_en = _missing_data(proj, scope, regional, demand)
    counts = {src: sum(1 for found in sources.values() if src in found) for src in _SOURCES}
    by_supply = sum(1 for found in sources.values() if found == {"supply"})
    supply_ru = (f" ({by_supply} из них — только по текущим поставкам)" if by_supply else "")
    supply_en = (f" ({by_supply} of them shown by existing supply links only)" if by_supply
                 else "")
    why_ru = (" Не хватает данных: " + "; ".join(missing_ru) + ".") if missing_ru else ""
    why_en = (" Missing data: " + "; ".join(missing_en) + ".") if missing_en else ""
    return GapReport(
        cluster_id=cluster_id, region=reg, scope_size=len(scope), demanded_categories=len(demand),
        import_dependency=gaps, single_source=single, over_capacity=over,
        idle_capacity=[row for _, row in idle],
        untied=untied, critical=critical, attract=ranked,
        text_ru=(f"{where_ru}: "
                 + count(len(demand), "ru", ("востребованная категория",
                                             "востребованные категории",
                                             "востребованных категорий"), ("", ""))
                 + f"{supply_ru}; без поставщика в регионе {len(gaps)}, с единственным "
                 f"поставщиком {len(single)}, спрос выше мощности {len(over)}; простаивающих "
                 f"мощностей {len(idle)}; без связей {len(untied)}; критичных компаний "
                 f"{len(critical)}.{why_ru} " + CRITICAL_TEXT_RU),
        text_en=(f"{where}: {len(demand)} demanded categories{supply_en}; no regional supplier "
                 f"{len(gaps)}, single source {len(single)}, demand above capacity {len(over)}; "
                 f"idle capacities {len(idle)}; untied companies {len(untied)}; critical "
                 f"companies {len(critical)}.{why_en} " + CRITICAL_TEXT_EN),
        demand_evidence=counts, missing_data_ru=missing_ru, missing_data_en=missing_en,
    )
