"""Cooperation-chain planning: who should supply what, so that end products are made locally.

For a product, :func:`plan_chain` expands the BOM to the categories that are
*bought* (see :func:`queries.bom.purchase_demand`: the top-most categories some
candidate supplier can make; an assembly nobody makes is assembled in-house by
the maker and its components are bought instead; a leaf nobody makes is
imported) and allocates each category's demand to suppliers under their free
capacities as a linear programme solved by HiGHS (``scipy.optimize.linprog``,
or ``scipy.optimize.milp`` when a maximum number of suppliers per category
needs integer variables). :func:`plan_cluster` plans every product of a
cluster's end-product makers in one LP over the shared supplier capacities.
The LP is block-diagonal by category (each demand row and each capacity row
belongs to one category), so it is handed to HiGHS in chunks of categories —
the same optimum, several times faster than one large call.

The model (one variable per demand unit × candidate capability, plus one import
variable per demand unit)::

    minimise   Σ cost(u, j) · x(u, j)  +  Σ import_cost(u) · y(u)
    subject to Σ_j x(u, j) + y(u) = demand(u)              every demand unit u
               Σ_u x(u, j) ≤ capacity(j)                    every capability j (shared)
               0 ≤ x(u, j) ≤ max_share · demand(u)          dual-sourced categories
               Σ_j z(u, j) ≤ max_suppliers, x ≤ M·z, z ∈ {0,1}   when max_suppliers is set

Costs, in roubles per unit:

* ``unit price`` — the capability's price, else the category's, else the
  median declared price of the category (0 when none is known);
* ``logistics`` — ``logistics_rate`` × haversine distance maker→supplier
  (default 0.2 ₽/unit/km: a 20 t truck at ~80 ₽/km carrying ~400 parts of
  ~50 kg); ``default_distance_km`` when a coordinate is missing;
* members of the maker's cluster get ``cluster_discount`` off the *modelled*
  cost when ``prefer_cluster`` (reported costs stay real);
* an inferred capability (the supplier holds every process the category
  needs but does not declare it) costs ``inferred_markup`` more and is capped
  at ``inferred_capacity`` units a year;
* the import arc costs the known import price (the maker's, else the
  category's, else the dearest candidate's) × (1 + ``import_markup``) and is
  modelled at ``import_penalty_factor`` × the dearest local option, so it only
  carries what no local capacity can.

Capacity: a capability's free capacity is its capacity minus the volume it
already sells (``Projection.free_capacity``). With ``release_current`` (the
default) the volume it sells *to the makers being planned* in that category is
given back, because the plan replaces their current chain. A capability
without a declared capacity gets ``unknown_capacity`` (default 0: not planned
on).

A plan is built for a ``viewer`` (:mod:`graph.confidentiality`): the centre
sees every figure; a member planning its own product sees which suppliers the
plan uses and its own figures, but not a supplier's price, cost or allocated
quantity (an allocation that fills a supplier's capacity would reveal it).

"Local" means in the maker's region (or ``options.region``) and, when
``max_distance_km`` is set, within that distance.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from coopgraph.graph.confidentiality import CENTRE, Viewer, can_see, coarse, total_with_own
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.i18n import Lang, count, percent, rub
from coopgraph.queries.bom import product_volume, purchase_demand
from coopgraph.queries.projection import Projection

__all__ = [
    "Allocation",
    "CategoryPlan",
    "ChainDiff",
    "ChainPlan",
    "ClusterPlan",
    "CurrentLink",
    "PlanOptions",
    "PlanProblem",
    "build_problem",
    "plan_chain",
    "plan_cluster",
    "solve_problem",
]

_EPS = 1e-7


class PlanOptions(BaseModel):
    """How to plan a chain (every field has a documented default)."""

    model_config = ConfigDict(extra="forbid")

    prefer_cluster: bool = Field(
        default=True, description="Discount members of the maker's cluster")
    cluster_discount: float = Field(
        default=0.1, ge=0, lt=1, description="Share taken off a member's modelled cost")
    cluster_id: str | None = Field(
        default=None, description="The cluster that counts (default: any of the maker's)")
    max_suppliers_per_category: int | None = Field(
        default=None, ge=1, description="Integer model (milp) when set")
    critical_categories: list[str] = Field(
        default_factory=list, description="Categories that must be dual-sourced")
    dual_sourcing_all: bool = Field(default=False, description="Dual-source every category")
    max_share: float = Field(
        default=0.7, gt=0, le=1, description="Dual sourcing: no supplier above this share")
    allow_inferred: bool = Field(
        default=False, description="Plan on inferred capabilities too")
    inferred_capacity: float = Field(
        default=1000.0, ge=0, description="Units/year of an inferred capability")
    inferred_markup: float = Field(
        default=0.15, ge=0, description="Price markup of an inferred capability")
    region: str | None = Field(
        default=None, description="'Local' region (default: the maker's)")
    max_distance_km: float | None = Field(
        default=None, gt=0, description="'Local' also means within this distance")
    local_only: bool = Field(default=False, description="Only local suppliers are candidates")
    logistics_rate: float = Field(default=0.2, ge=0, description="Roubles per unit per km")
    default_distance_km: float = Field(
        default=500.0, ge=0, description="Distance assumed when a coordinate is missing")
    import_markup: float = Field(
        default=0.3, ge=0, description="Import price = reference × (1 + this)")
    import_penalty_factor: float = Field(
        default=10.0, gt=1, description="Modelled import cost factor")
    release_current: bool = Field(
        default=True, description="Give back capacity now sold to the planned makers")
    unknown_capacity: float = Field(
        default=0.0, ge=0, description="Capacity assumed when none is declared")
    time_limit: float = Field(default=60.0, gt=0, description="Solver time limit, seconds")
    sort: Literal["cost", "name"] = Field(
        default="cost", description="Order of the categories (and of a cluster plan's products): "
        "'cost', the dearest first (by the figures the viewer may see), or 'name'")


class Allocation(BaseModel):
    """Part of a category's demand placed with one supplier (or imported)."""

    supplier_id: str | None = Field(description="None for the import arc")
    supplier_name: str
    qty: float | None = Field(description="None: withheld (it can reveal a capacity)")
    unit_price: float | None = Field(description="None: withheld (another company's price)")
    unit_cost: float | None = Field(description="unit_price + logistics")
    value: float | None = Field(description="qty × unit_cost")
    distance_km: float | None = None
    capacity: float | None = Field(default=None, description="Capacity the plan could use (free + "
                                                     "released); None for the import arc")
    local: bool
    in_cluster: bool
    inferred: bool = False
    imported: bool = False


class CurrentLink(BaseModel):
    """An existing supply link (or import) of the maker in a category."""

    supplier_id: str | None = Field(description="None for an import")
    supplier_name: str
    qty: float
    unit_price: float | None
    local: bool
    in_cluster: bool
    imported: bool = False
    country: str | None = None


class CategoryPlan(BaseModel):
    """The plan for one bought category of one product."""

    category: str
    name: str
    demand: float
    allocations: list[Allocation]
    imported_qty: float | None
    local_qty: float | None
    single_source: bool = Field(description="Exactly one domestic supplier in the plan")
    candidates: int = Field(description="Suppliers the planner could choose from")
    dual_sourced: bool = False
    current: list[CurrentLink] = Field(default_factory=list)


class ChainDiff(BaseModel):
    """How the plan differs from the current chain in one (category, supplier)."""

    category: str
    supplier_id: str | None
    current_qty: float
    planned_qty: float | None
    change: Literal["new", "dropped", "more", "less", "same"]


class ChainPlan(BaseModel):
    """A planned cooperation chain for one product, beside the current one."""

    product_id: str
    product_name: str
    maker_id: str | None
    volume: float
    volume_assumed: bool
    local_region: str | None
    solver: str
    status: str
    categories: list[CategoryPlan]
    in_house: list[str] = Field(description="Assemblies the maker makes from bought parts")
    total_cost: float | None
    localization_share_value: float | None
    localization_share_count: float
    intra_cluster_share: float | None
    uncovered: list[str] = Field(description="Categories (partly) imported")
    single_source: list[str]
    current_total_value: float
    current_localization_share_value: float
    current_intra_cluster_share: float
    diff: list[ChainDiff]
    text_ru: str
    text_en: str


class ClusterPlan(BaseModel):
    """Every product of a cluster's end-product makers, planned in one LP."""

    cluster_id: str
    solver: str
    status: str
    solve_seconds: float
    n_variables: int
    plans: list[ChainPlan]
    skipped: list[str] = Field(description="Products not planned (no maker, no BOM)")
    total_cost: float
    localization_share_value: float
    intra_cluster_share: float
    uncovered: list[str]
    text_ru: str
    text_en: str


# --- the problem --------------------------------------------------------------------------


@dataclass
class PlanProblem:
    """The LP of a plan in arrays (kept public for the benchmark's network-simplex twin).

    Units ``u`` are (product, category) demands; variables ``v`` are the
    candidate (unit, capacity) pairs; import variables follow them, one per unit.
    """

    unit_product: np.ndarray
    unit_maker: np.ndarray
    unit_category: np.ndarray
    unit_demand: np.ndarray
    unit_dual: np.ndarray  # bool: dual-sourced
    unit_import_price: np.ndarray  # reported ₽/unit
    unit_import_cost: np.ndarray  # modelled ₽/unit
    var_unit: np.ndarray
    var_company: np.ndarray
    var_cap: np.ndarray  # capacity id (capability row, or n_caps + k for an inferred one)
    var_price: np.ndarray
    var_distance: np.ndarray  # NaN when unknown
    var_cost: np.ndarray  # reported ₽/unit (price + logistics)
    var_model_cost: np.ndarray  # what the solver minimises
    var_inferred: np.ndarray
    var_local: np.ndarray
    var_in_cluster: np.ndarray
    var_upper: np.ndarray
    cap_capacity: np.ndarray  # per capacity id
    max_suppliers: int | None = None
    solution: np.ndarray | None = None  # x then y
    solver: str = ""
    status: str = ""
    seconds: float = 0.0
    in_house: dict[int, list[int]] = field(default_factory=dict)
    volumes: dict[int, tuple[float, bool]] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return len(self.unit_demand)

    @property
    def n_vars(self) -> int:
        return len(self.var_unit)


def _member_clusters(proj: Projection, maker: int, options: PlanOptions) -> frozenset[str]:
    if options.cluster_id is not None:
        return frozenset({options.cluster_id})
    return proj.company_clusters[maker] if maker >= 0 else frozenset()


def _local_region(proj: Projection, maker: int, options: PlanOptions) -> str | None:
    if options.region is not None:
        return options.region
    return proj.company_regions[maker] if maker >= 0 else None


def _effective_capacity(proj: Projection, makers: set[int], options: PlanOptions) -> np.ndarray:
    cap = proj.free_capacity.copy()
    cap[np.isnan(proj.cap_capacity)] = options.unknown_capacity
    if options.release_current and len(proj.sup_supplier) and len(proj.cap_company):
        mask = np.isin(proj.sup_buyer, np.fromiter(makers, dtype=np.int32, count=len(makers)))
        if mask.any():
            rows = proj.capability_matrix[proj.sup_supplier[mask], proj.sup_category[mask]].A1
            vol = np.nan_to_num(proj.sup_volume[mask])
            has = (rows > 0) & ~np.isnan(proj.cap_capacity[np.maximum(rows - 1, 0)])
            np.add.at(cap, rows[has] - 1, vol[has])
    return np.maximum(np.nan_to_num(cap), 0.0)


def _inferred_companies(proj: Projection, category: int,
                        cache: dict[int, np.ndarray]) -> np.ndarray:
    if category not in cache:
        procs = proj.category_processes[category]
        if len(procs) == 0 or proj.company_process.shape[1] == 0:
            cache[category] = np.zeros(0, dtype=np.int32)
        else:
            held = np.asarray(proj.company_process[:, procs].sum(axis=1)).ravel()
            declared = proj.cap_company[proj.cap_category == category]
            found = np.flatnonzero(held >= len(procs))
            cache[category] = np.setdiff1d(found, declared).astype(np.int32)
    return cache[category]


def _import_prices(proj: Projection) -> dict[tuple[int, int], float]:
    """Mean known import price per (company, category)."""
    sums: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for m, c, p in zip(proj.imp_company.tolist(), proj.imp_category.tolist(),
                       proj.imp_price.tolist(), strict=True):
        if not math.isnan(p):
            sums[(m, c)][0] += p
            sums[(m, c)][1] += 1
    return {k: v[0] / v[1] for k, v in sums.items()}


def _category_fallback_price(proj: Projection, categories: np.ndarray) -> dict[int, float]:
    """Per category: its unit_price, else the median declared price, else NaN."""
    out: dict[int, float] = {}
    indptr, rows = proj.capabilities_by_category
    for c in np.unique(categories).tolist():
        price = float(proj.category_price[c])
        if math.isnan(price):
            declared = proj.cap_price[rows[indptr[c]:indptr[c + 1]]]
            declared = declared[~np.isnan(declared)]
            price = float(np.median(declared)) if len(declared) else math.nan
        out[c] = price
    return out


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
               lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(a) for a in (lat1, lon1, lat2, lon2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return np.asarray(6371.0088 * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


def build_problem(proj: Projection, demands: list[tuple[int, int, dict[int, float]]],
                  options: PlanOptions) -> PlanProblem:
    """The LP for ``demands``: ``[(product index, maker index, {category: qty})]``.

    Vectorised over all (unit, candidate) pairs at once. Public for the
    benchmark, which solves the same instance with networkx too.
    """
    makers = {m for _p, m, _d in demands if m >= 0}
    capacity = _effective_capacity(proj, makers, options)
    n_caps = len(capacity)
    indptr, rows_by_cat = proj.capabilities_by_category
    critical = {proj.category_index[c] for c in options.critical_categories
                if c in proj.category_index}
    units = [(p, m, c, q) for p, m, d in demands for c, q in sorted(d.items()) if q > 0]
    nu = len(units)
    u_product = np.array([u[0] for u in units], dtype=np.int64)
    u_maker = np.array([u[1] for u in units], dtype=np.int64)
    u_cat = np.array([u[2] for u in units], dtype=np.int64)
    u_demand = np.array([u[3] for u in units], dtype=np.float64)
    u_dual = (np.ones(nu, dtype=bool) if options.dual_sourcing_all
              else np.isin(u_cat, np.fromiter(critical, dtype=np.int64, count=len(critical))))

    # region and cluster of each unit's maker, as codes and masks over companies
    region_code: dict[str | None, int] = {}
    company_region = np.array([region_code.setdefault(r, len(region_code)) if r is not None
                               else -1 for r in proj.company_regions], dtype=np.int64)
    maker_list = sorted({int(m) for m in u_maker.tolist()})
    maker_pos = {m: i for i, m in enumerate(maker_list)}
    member_mask = np.zeros((len(maker_list), proj.n_companies), dtype=bool)
    unit_region = np.full(len(maker_list), -2, dtype=np.int64)
    for m, i in maker_pos.items():
        clusters = _member_clusters(proj, m, options)
        for k in clusters:
            member_mask[i, proj.cluster_members.get(k, np.zeros(0, np.int32))] = True
        region = _local_region(proj, m, options)
        if region is not None:
            unit_region[i] = region_code.get(region, -3)
    u_mpos = np.array([maker_pos[int(m)] for m in u_maker.tolist()], dtype=np.int64)

    # every (unit, declared capability of its category) pair
    starts, ends = indptr[u_cat], indptr[u_cat + 1]
    counts = ends - starts
    var_unit = np.repeat(np.arange(nu, dtype=np.int64), counts)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) \
        if nu else np.zeros(0, dtype=np.int64)
    cap_rows = rows_by_cat[np.arange(len(var_unit), dtype=np.int64) + offsets] \
        if len(var_unit) else np.zeros(0, dtype=np.int64)
    comps = proj.cap_company[cap_rows].astype(np.int64)
    keep = (comps != u_maker[var_unit]) & (capacity[cap_rows] > 0)
    var_unit, cap_rows, comps = var_unit[keep], cap_rows[keep], comps[keep]
    price = proj.cap_price[cap_rows].astype(np.float64)
    cap_ids = cap_rows.astype(np.int64)
    inferred = np.zeros(len(var_unit), dtype=bool)
    if options.allow_inferred and options.inferred_capacity > 0:
        cache: dict[int, np.ndarray] = {}
        ids: dict[tuple[int, int], int] = {}
        extra_unit, extra_comp, extra_id = [], [], []
        for u in range(nu):
            found = _inferred_companies(proj, int(u_cat[u]), cache)
            found = found[found != u_maker[u]]
            for i in found.tolist():
                extra_unit.append(u)
                extra_comp.append(i)
                extra_id.append(ids.setdefault((i, int(u_cat[u])), n_caps + len(ids)))
        if extra_unit:
            var_unit = np.concatenate([var_unit, np.array(extra_unit, dtype=np.int64)])
            comps = np.concatenate([comps, np.array(extra_comp, dtype=np.int64)])
            cap_ids = np.concatenate([cap_ids, np.array(extra_id, dtype=np.int64)])
            price = np.concatenate([price, np.full(len(extra_unit), np.nan)])
            inferred = np.concatenate([inferred, np.ones(len(extra_unit), dtype=bool)])
        n_inferred = len(ids)
    else:
        n_inferred = 0
    order = np.argsort(var_unit, kind="stable")
    var_unit, comps, cap_ids, price, inferred = (a[order] for a in (
        var_unit, comps, cap_ids, price, inferred))

    fallback = _category_fallback_price(proj, u_cat)
    u_fallback = np.array([fallback[int(c)] for c in u_cat.tolist()], dtype=np.float64)
    var_fallback = np.nan_to_num(u_fallback[var_unit], nan=0.0)
    price = np.where(np.isnan(price), var_fallback, price)
    price = np.where(inferred, price * (1 + options.inferred_markup), price)
    mk = u_maker[var_unit]
    dist = _haversine(proj.lat[mk], proj.lon[mk], proj.lat[comps], proj.lon[comps]) \
        if len(mk) else np.zeros(0)
    dist[mk < 0] = np.nan  # a product without a known maker: no distance
    cost = price + options.logistics_rate * np.where(np.isnan(dist), options.default_distance_km,
                                                     dist)
    mpos = u_mpos[var_unit]
    local = company_region[comps] == unit_region[mpos]
    if options.max_distance_km is not None:
        local &= ~np.isnan(dist) & (dist <= options.max_distance_km)
    in_cluster = member_mask[mpos, comps] if len(comps) else np.zeros(0, dtype=bool)
    if options.local_only:
        keep = local
        var_unit, comps, cap_ids, price, inferred, dist, cost, local, in_cluster = (
            a[keep] for a in (var_unit, comps, cap_ids, price, inferred, dist, cost, local,
                              in_cluster))
    model = cost * np.where(in_cluster & options.prefer_cluster, 1 - options.cluster_discount,
                            1.0)

    # the import arc: the maker's known import price, else the category's, else the
    # dearest candidate's; modelled dearer than any local option
    top_model = np.zeros(nu)
    top_price = np.full(nu, np.nan)
    if len(var_unit):
        np.maximum.at(top_model, var_unit, model)
        top_price_filled = np.zeros(nu)
        np.maximum.at(top_price_filled, var_unit, price)
        has = np.bincount(var_unit, minlength=nu) > 0
        top_price[has] = top_price_filled[has]
    known_import = _import_prices(proj)
    ref = np.array([known_import.get((int(m), int(c)), math.nan)
                    for m, c in zip(u_maker.tolist(), u_cat.tolist(), strict=True)])
    ref = np.where(np.isnan(ref), u_fallback, ref)
    ref = np.where(np.isnan(ref), top_price, ref)
    ref = np.nan_to_num(ref, nan=0.0)
    imp_price = ref * (1 + options.import_markup)
    imp_cost = np.maximum(np.maximum(imp_price, top_model), 1.0) * options.import_penalty_factor

    cap_of = np.where(cap_ids < n_caps, capacity[np.minimum(cap_ids, max(n_caps - 1, 0))]
                      if n_caps else 0.0, options.inferred_capacity)
    upper = np.minimum(cap_of, u_demand[var_unit] * np.where(u_dual[var_unit],
                                                              options.max_share, 1.0))
    return PlanProblem(
        unit_product=u_product, unit_maker=u_maker, unit_category=u_cat, unit_demand=u_demand,
        unit_dual=u_dual, unit_import_price=imp_price, unit_import_cost=imp_cost,
        var_unit=var_unit, var_company=comps, var_cap=cap_ids, var_price=price,
        var_distance=dist, var_cost=cost, var_model_cost=model, var_inferred=inferred,
        var_local=local, var_in_cluster=in_cluster, var_upper=upper,
        cap_capacity=np.concatenate([capacity, np.full(n_inferred, options.inferred_capacity)]),
        max_suppliers=options.max_suppliers_per_category,
    )


def _lp(problem: PlanProblem, units: np.ndarray, active: np.ndarray,
        time_limit: float) -> Any:
    """Solve the LP of ``units`` over the variables ``active`` (theirs) and their import arcs."""
    nu, na = len(units), len(active)
    n = na + nu
    local_unit = np.searchsorted(units, problem.var_unit[active])
    cost = np.concatenate([problem.var_model_cost[active], problem.unit_import_cost[units]])
    eq = sp.csr_matrix((np.ones(n), (np.concatenate([local_unit, np.arange(nu)]), np.arange(n))),
                       shape=(nu, n))
    used, cap_row = np.unique(problem.var_cap[active], return_inverse=True)
    ub = sp.csr_matrix((np.ones(na), (cap_row, np.arange(na))), shape=(len(used), n))
    upper = np.concatenate([problem.var_upper[active], problem.unit_demand[units]])
    return linprog(cost, A_ub=ub if len(used) else None,
                   b_ub=problem.cap_capacity[used] if len(used) else None,
                   A_eq=eq, b_eq=problem.unit_demand[units],
                   bounds=np.column_stack([np.zeros(n), upper]), method="highs",
                   options={"time_limit": time_limit})


def _solve_lp(problem: PlanProblem, time_limit: float,
              chunk: int = 10_000) -> tuple[np.ndarray | None, str]:
    """The LP, solved block by block.

    Every demand row (a unit) and every capacity row (a capability) belongs to
    exactly one category, so the LP is block-diagonal by category: solving the
    categories separately gives the same optimum as one solve, and HiGHS is
    much faster on many small blocks than on one large matrix (a 30-maker
    cluster: ~2 s instead of ~15 s). Categories are grouped into chunks of about
    ``chunk`` variables to keep the per-call overhead low.
    """
    started = time.perf_counter()
    x = np.zeros(problem.n_vars + problem.n_units)
    var_cat = problem.unit_category[problem.var_unit]
    var_order = np.argsort(var_cat, kind="stable")
    unit_order = np.argsort(problem.unit_category, kind="stable")
    cats = np.unique(problem.unit_category)
    var_bounds = np.searchsorted(var_cat[var_order], np.append(cats, np.iinfo(np.int64).max))
    unit_bounds = np.searchsorted(problem.unit_category[unit_order],
                                  np.append(cats, np.iinfo(np.int64).max))
    messages: set[str] = set()
    i = 0
    while i < len(cats):
        j = i + 1
        while j < len(cats) and var_bounds[j + 1] - var_bounds[i] <= chunk:
            j += 1
        active = np.sort(var_order[var_bounds[i]:var_bounds[j]])
        units = np.sort(unit_order[unit_bounds[i]:unit_bounds[j]])
        left = time_limit - (time.perf_counter() - started)
        res = _lp(problem, units, active, max(left, 0.5))
        if res.x is None:
            return None, str(res.message)
        x[active] = res.x[:len(active)]
        x[problem.n_vars + units] = res.x[len(active):]
        messages.add(str(res.message))
        i = j
    return x, "; ".join(sorted(messages)) or "nothing to plan"


def _solve_milp(problem: PlanProblem, time_limit: float) -> tuple[np.ndarray | None, str]:
    """The integer model: x(v) ≤ M(v)·z(v), Σ z ≤ k per unit with more than k candidates."""
    nx_, nu = problem.n_vars, problem.n_units
    n = nx_ + nu
    k = int(problem.max_suppliers or 1)
    cost = np.concatenate([problem.var_model_cost, problem.unit_import_cost])
    eq = sp.csr_matrix(
        (np.ones(n), (np.concatenate([problem.var_unit, np.arange(nu)]), np.arange(n))),
        shape=(nu, n))
    used, cap_row = np.unique(problem.var_cap, return_inverse=True)
    ub = sp.csr_matrix((np.ones(nx_), (cap_row, np.arange(nx_))), shape=(len(used), n))
    upper = np.concatenate([problem.var_upper, problem.unit_demand])
    counts = np.bincount(problem.var_unit, minlength=nu)
    limited = np.flatnonzero(counts[problem.var_unit] > k)
    nz = len(limited)
    link = sp.hstack([
        sp.csr_matrix((np.ones(nz), (np.arange(nz), limited)), shape=(nz, n)),
        sp.csr_matrix(-sp.diags(problem.var_upper[limited])),
    ]).tocsr()
    units_l, zrow = np.unique(problem.var_unit[limited], return_inverse=True)
    card = sp.hstack([sp.csr_matrix((len(units_l), n)),
                      sp.csr_matrix((np.ones(nz), (zrow, np.arange(nz))),
                                    shape=(len(units_l), nz))]).tocsr()
    constraints = [
        LinearConstraint(sp.hstack([eq, sp.csr_matrix((nu, nz))]).tocsr(),
                         problem.unit_demand, problem.unit_demand),
        LinearConstraint(sp.hstack([ub, sp.csr_matrix((len(used), nz))]).tocsr(),
                         -np.inf, problem.cap_capacity[used]),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(card, -np.inf, float(k)),
    ]
    res = milp(np.concatenate([cost, np.zeros(nz)]), constraints=constraints,
               integrality=np.concatenate([np.zeros(n), np.ones(nz)]),
               bounds=Bounds(0, np.concatenate([upper, np.ones(nz)])),
               options={"time_limit": time_limit})
    return (None if res.x is None else np.asarray(res.x[:n])), str(res.message)


def solve_problem(problem: PlanProblem, *, time_limit: float = 60.0) -> PlanProblem:
    """Solve ``problem`` with HiGHS; fills ``solution`` (x then the import y), solver, status.

    The LP (``highs-lp``) runs block by block (see :func:`_solve_lp`); with
    ``max_suppliers`` set and some unit having more candidates than that, the
    integer model (``highs-milp``) runs on every column.

    Raises
    ------
    InvalidQuery
        the solver found no solution (time limit).
    """
    started = time.perf_counter()
    k = problem.max_suppliers
    counts = np.bincount(problem.var_unit, minlength=problem.n_units)
    if k is not None and problem.n_vars and (counts > k).any():
        problem.solver = "highs-milp"
        x, message = _solve_milp(problem, time_limit)
    else:
        problem.solver = "highs-lp"
        x, message = _solve_lp(problem, time_limit)
    problem.seconds = time.perf_counter() - started
    problem.status = message
    if x is None:
        raise InvalidQuery(f"the planner found no solution: {message}")
    demand = np.concatenate([problem.unit_demand[problem.var_unit], problem.unit_demand])
    x[x < _EPS * np.maximum(1.0, demand)] = 0.0
    problem.solution = x
    return problem


# --- reading the solution back -----------------------------------------------------------


def _name(proj: Projection, company: int) -> str:
    return proj.company_names[company]


def _current_links(proj: Projection, maker: int, categories: set[int], region: str | None,
                   clusters: frozenset[str]) -> dict[int, list[CurrentLink]]:
    out: dict[int, list[CurrentLink]] = defaultdict(list)
    if maker < 0:
        return out
    for j in np.flatnonzero(proj.sup_buyer == maker).tolist():
        c = int(proj.sup_category[j])
        if c not in categories:
            continue
        s = int(proj.sup_supplier[j])
        price = float(proj.sup_price[j])
        out[c].append(CurrentLink(
            supplier_id=proj.company_ids[s], supplier_name=_name(proj, s),
            qty=float(np.nan_to_num(proj.sup_volume[j])),
            unit_price=None if math.isnan(price) else price,
            local=region is not None and proj.company_regions[s] == region,
            in_cluster=bool(proj.company_clusters[s] & clusters)))
    for j in np.flatnonzero(proj.imp_company == maker).tolist():
        c = int(proj.imp_category[j])
        if c not in categories:
            continue
        price = float(proj.imp_price[j])
        out[c].append(CurrentLink(
            supplier_id=None, supplier_name=f"import ({proj.imp_country[j]})",
            qty=float(np.nan_to_num(proj.imp_volume[j])),
            unit_price=None if math.isnan(price) else price, local=False, in_cluster=False,
            imported=True, country=proj.imp_country[j]))
    return out


def _link_value(proj: Projection, link: CurrentLink, category: int) -> float:
    price = link.unit_price
    if price is None:
        price = float(np.nan_to_num(proj.category_price[category]))
    return link.qty * price


def _diff(categories: list[CategoryPlan], planned: dict[str, dict[str | None, float]],
          shown: dict[str, set[str | None]] | None) -> list[ChainDiff]:
    """Current against planned quantity per (category, supplier).

    ``planned`` holds the exact planned quantities; ``shown`` (None: all) the
    suppliers whose planned quantity the viewer may see, per category.
    """
    out: list[ChainDiff] = []
    for cp in categories:
        cur: dict[str | None, float] = defaultdict(float)
        for link in cp.current:
            cur[link.supplier_id] += link.qty
        plan = planned.get(cp.category, {})
        for sid in sorted(set(cur) | set(plan), key=lambda s: (s is None, s or "")):
            c, p = cur.get(sid, 0.0), plan.get(sid, 0.0)
            change: Literal["new", "dropped", "more", "less", "same"]
            if c == 0:
                change = "new"
            elif p == 0:
                change = "dropped"
            elif math.isclose(c, p, rel_tol=1e-6):
                change = "same"
            else:
                change = "more" if p > c else "less"
            visible = shown is None or sid in shown.get(cp.category, set()) or p == 0
            out.append(ChainDiff(category=cp.category, supplier_id=sid, current_qty=c,
                                 planned_qty=p if visible else None, change=change))
    return out


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _ratio(part: float | None, whole: float | None) -> float | None:
    return None if part is None or whole is None else _share(part, whole)


def _money(x: float | None) -> tuple[str, str]:
    return ("скрыта", "withheld") if x is None else (rub(x, "ru", per_year=True),
                                                     rub(x, "en", per_year=True))


def _pct(x: float | None, lang: Lang = "en") -> str:
    return "—" if x is None else percent(x, lang)


def category_cost(plan: CategoryPlan) -> float:
    """What a category costs a year as its plan shows it: the allocations' values
    (a figure withheld from the viewer counts as nothing, so the order reveals none)."""
    return sum(a.value for a in plan.allocations if a.value is not None)


def sort_categories(plans: list[CategoryPlan], by: str) -> None:
    """Order ``plans`` in place: ``cost`` (the dearest first, then by name) or ``name``."""
    if by == "name":
        plans.sort(key=lambda p: (p.name.casefold(), p.category))
    else:
        plans.sort(key=lambda p: (-category_cost(p), p.name.casefold(), p.category))


def _chain_plan(proj: Projection, problem: PlanProblem, product: int,
                options: PlanOptions, viewer: Viewer = CENTRE) -> ChainPlan:
    """The plan of one product read back from the solution, as ``viewer`` may see it.

    The viewer sees the figures of its own records (the maker's demand, its
    current links and imports) and of public ones (a category's price); a
    supplier's price, cost and allocated quantity (which reveals its capacity
    where the capacity binds) only when it may see that supplier's figures.
    Totals over suppliers follow :func:`graph.confidentiality.total_with_own`.
    """
    assert problem.solution is not None
    x = problem.solution[:problem.n_vars]
    y = problem.solution[problem.n_vars:]
    maker = int(proj.product_maker[product])
    maker_id = proj.company_ids[maker] if maker >= 0 else None
    region = _local_region(proj, maker, options)
    clusters = _member_clusters(proj, maker, options)
    units = np.flatnonzero(problem.unit_product == product)
    categories_set = {int(problem.unit_category[u]) for u in units}
    current = (_current_links(proj, maker, categories_set, region, clusters)
               if can_see(viewer, maker_id) else {})
    known_import = _import_prices(proj) if not viewer.is_centre else {}
    by_unit: dict[int, list[int]] = defaultdict(list)
    for v in np.flatnonzero(np.isin(problem.var_unit, units)).tolist():
        by_unit[int(problem.var_unit[v])].append(v)
    plans: list[CategoryPlan] = []
    planned: dict[str, dict[str | None, float]] = {}
    shown_planned: dict[str, set[str | None]] = {}
    # exact values by the company whose figures they reveal: all, local, in-cluster
    values: tuple[dict[str, list[float]], ...] = (defaultdict(list), defaultdict(list),
                                                  defaultdict(list))
    exact = [0.0, 0.0, 0.0]  # the same three totals, summed category by category
    fully_local = 0
    uncovered: list[str] = []
    current_total = current_local = current_cluster = 0.0
    for u in units.tolist():
        c = int(problem.unit_category[u])
        code = proj.category_codes[c]
        allocations: list[tuple[float, Allocation]] = []
        planned[code] = {}
        shown_planned[code] = set()
        domestic: set[str] = set()
        cat_values: list[tuple[float, bool, bool]] = []  # value, local, in cluster
        for v in by_unit.get(u, []):
            if x[v] <= 0:
                continue
            s = int(problem.var_company[v])
            sid = proj.company_ids[s]
            qty, cost = float(x[v]), float(problem.var_cost[v])
            dist = float(problem.var_distance[v])
            local, in_cluster = bool(problem.var_local[v]), bool(problem.var_in_cluster[v])
            seen = can_see(viewer, sid)
            allocations.append((qty, Allocation(
                supplier_id=sid, supplier_name=_name(proj, s), qty=qty if seen else None,
                unit_price=float(problem.var_price[v]) if seen else None,
                unit_cost=cost if seen else None, value=qty * cost if seen else None,
                distance_km=None if math.isnan(dist) else round(dist, 1),
                capacity=float(problem.cap_capacity[problem.var_cap[v]]) if seen else None,
                local=local, in_cluster=in_cluster, inferred=bool(problem.var_inferred[v]))))
            domestic.add(sid)
            planned[code][sid] = planned[code].get(sid, 0.0) + qty
            if seen:
                shown_planned[code].add(sid)
            cat_values.append((qty * cost, local, in_cluster))
            for book, counts in zip(values, (True, local, in_cluster), strict=True):
                if counts:
                    book[sid].append(qty * cost)
        allocations.sort(key=lambda t: -t[0])
        local_qty = sum(q for q, a in allocations if a.local)
        imported = float(y[u])
        # the import quantity is the demand left over by the suppliers' capacities
        quantities_seen = all(can_see(viewer, sid) for sid in domestic)
        if imported > 0:
            uncovered.append(code)
            price = float(problem.unit_import_price[u])
            # the import price is the maker's own, the category's, or else the dearest
            # candidate's (that candidate's figure)
            price_owner = maker_id
            if not viewer.is_centre and (maker, c) not in known_import \
                    and math.isnan(float(proj.category_price[c])):
                cands = by_unit.get(u, [])
                price_owner = (proj.company_ids[int(problem.var_company[
                    max(cands, key=lambda v: float(problem.var_price[v]))])] if cands else maker_id)
            price_seen = can_see(viewer, price_owner)
            qty_seen = quantities_seen
            allocations.append((imported, Allocation(
                supplier_id=None, supplier_name="import", qty=imported if qty_seen else None,
                unit_price=price if price_seen else None, unit_cost=price if price_seen else None,
                value=imported * price if qty_seen and price_seen else None,
                local=False, in_cluster=False, imported=True)))
            planned[code][None] = imported
            if qty_seen:
                shown_planned[code].add(None)
            values[0][price_owner or ""].append(imported * price)
            cat_values.append((imported * price, False, False))
        demand = float(problem.unit_demand[u])
        row = proj.category_rows[c]
        links = current.get(c, [])
        plans.append(CategoryPlan(
            category=code,
            name=str(row.get("name_en") or row.get("name_ru") or code),
            demand=demand, allocations=[a for _, a in allocations],
            imported_qty=imported if quantities_seen else None,
            local_qty=local_qty if quantities_seen else None,
            single_source=len(domestic) == 1,
            candidates=len(by_unit.get(u, [])), dual_sourced=bool(problem.unit_dual[u]),
            current=links))
        fully_local += local_qty >= demand * (1 - 1e-6)
        exact[0] += sum(value for value, _, _ in cat_values)
        exact[1] += sum(value for value, local, _ in cat_values if local)
        exact[2] += sum(value for value, _, in_cluster in cat_values if in_cluster)
        for link in links:
            value = _link_value(proj, link, c)
            current_total += value
            current_local += value if link.local else 0.0
            current_cluster += value if link.in_cluster else 0.0
    sort_categories(plans, options.sort)
    uncovered.sort()
    vol, assumed = problem.volumes.get(product, (0.0, False))
    single = [p.category for p in plans if p.single_source]
    if viewer.is_centre:
        total, local_value, cluster_value = exact
        loc_value: float | None = _share(local_value, total)
        intra: float | None = _share(cluster_value, total)
        total_shown: float | None = total
    else:
        total_shown, local_shown, cluster_shown = (total_with_own(viewer, book)
                                                   for book in values)
        loc_value = coarse(_ratio(local_shown, total_shown))
        intra = coarse(_ratio(cluster_shown, total_shown))
    loc_count = _share(fully_local, len(plans))
    name = str(proj.product_rows[product].get("name", proj.product_ids[product]))
    cost_ru, cost_en = _money(total_shown)
    return ChainPlan(
        product_id=proj.product_ids[product], product_name=name,
        maker_id=maker_id, volume=vol, volume_assumed=assumed, local_region=region,
        solver=problem.solver, status=problem.status, categories=plans,
        in_house=[proj.category_codes[c] for c in problem.in_house.get(product, [])],
        total_cost=total_shown, localization_share_value=loc_value,
        localization_share_count=loc_count, intra_cluster_share=intra,
        uncovered=uncovered, single_source=single,
        current_total_value=current_total,
        current_localization_share_value=_share(current_local, current_total),
        current_intra_cluster_share=_share(current_cluster, current_total),
        diff=_diff(plans, planned, None if viewer.is_centre else shown_planned),
        # "локализация" reads as "made in Russia" to industry: say "bought in the region"
        text_ru=(f"{name}: " + count(len(plans), "ru", ("закупаемая категория",
                                                        "закупаемые категории",
                                                        "закупаемых категорий"), ("", ""))
                 + f"; в регионе закупается {_pct(loc_value, 'ru')} по стоимости и "
                 f"{_pct(loc_count, 'ru')} по числу категорий, внутри кластера "
                 f"{_pct(intra, 'ru')}; импорт: {len(uncovered)}, единственный поставщик: "
                 f"{len(single)}; стоимость {cost_ru}."),
        text_en=(f"{name}: {len(plans)} bought categories; bought in the region: "
                 f"{_pct(loc_value)} by value and {_pct(loc_count)} by count, intra-cluster "
                 f"{_pct(intra)}; imported: {len(uncovered)}, single-source: {len(single)}; "
                 f"cost {cost_en}."),
    )


def _buyable(proj: Projection, maker: int, options: PlanOptions) -> np.ndarray:
    """Categories that some candidate supplier (not the maker) could make."""
    buyable = np.zeros(proj.n_categories, dtype=bool)
    if len(proj.cap_company):
        ok = proj.cap_company != maker
        if options.local_only:
            region = _local_region(proj, maker, options)
            ok &= np.array([proj.company_regions[i] == region
                            for i in proj.cap_company.tolist()], dtype=bool)
        buyable[proj.cap_category[ok]] = True
    if options.allow_inferred:
        cache: dict[int, np.ndarray] = {}
        for c in range(proj.n_categories):
            if not buyable[c] and len(proj.category_processes[c]):
                buyable[c] = bool((_inferred_companies(proj, c, cache) != maker).any())
    return buyable


def _demands(proj: Projection, products: list[int], volumes: dict[int, float | None],
             options: PlanOptions) -> tuple[list[tuple[int, int, dict[int, float]]],
                                            dict[int, list[int]],
                                            dict[int, tuple[float, bool]]]:
    out = []
    in_house: dict[int, list[int]] = {}
    vols: dict[int, tuple[float, bool]] = {}
    buyable_by_maker: dict[int, np.ndarray] = {}
    for p in products:
        maker = int(proj.product_maker[p])
        if maker not in buyable_by_maker:
            buyable_by_maker[maker] = _buyable(proj, maker, options)
        vol, assumed = product_volume(proj, p, volumes.get(p))
        demand, house = purchase_demand(proj, p, buyable_by_maker[maker], vol)
        out.append((p, maker, demand))
        in_house[p] = house
        vols[p] = (vol, assumed)
    return out, in_house, vols


def plan_chain(proj: Projection, product_id: str, *, volume: float | None = None,
               options: PlanOptions | None = None, viewer: Viewer = CENTRE) -> ChainPlan:
    """Plan the cooperation chain of one product.

    Parameters
    ----------
    proj : the analytic projection
    product_id : the end product
    volume : units per year; default the product's ``annual_volume`` (1 when unknown)
    options : :class:`PlanOptions` (defaults documented there)
    viewer : who the plan is for (:data:`~graph.confidentiality.CENTRE`: every figure; a
        member sees its own figures, suppliers' prices and allocated quantities withheld,
        totals over at least three other suppliers, rounded)

    Returns
    -------
    ChainPlan
        allocations per bought category, localization and intra-cluster shares,
        imported and single-source categories, total cost, the current chain and
        the difference.

    Raises
    ------
    NotFound
        unknown product, or an unknown cluster in the options.
    BomCycleError
        the product's BOM has a cycle.
    InvalidQuery
        a bad volume or option.
    """
    options = options or PlanOptions()
    if options.cluster_id is not None:
        proj.cluster(options.cluster_id)
    p = proj.product(product_id)
    demands, in_house, vols = _demands(proj, [p], {p: volume}, options)
    problem = build_problem(proj, demands, options)
    problem.in_house, problem.volumes = in_house, vols
    solve_problem(problem, time_limit=options.time_limit)
    return _chain_plan(proj, problem, p, options, viewer)


def plan_cluster(proj: Projection, cluster_id: str, *,
                 options: PlanOptions | None = None) -> ClusterPlan:
    """Plan every product of ``cluster_id``'s end-product makers at once (one LP).

    The makers' products compete for the same supplier capacities, which is the
    point of planning them together. Products without a BOM are skipped (and
    listed). Volumes are the products' ``annual_volume`` (1 when unknown).

    Raises
    ------
    NotFound
        unknown cluster.
    BomCycleError
        a product's BOM has a cycle.
    """
    members = set(proj.cluster(cluster_id).tolist())
    options = (options or PlanOptions()).model_copy(update={"cluster_id": cluster_id})
    products = [p for p in range(len(proj.product_ids)) if int(proj.product_maker[p]) in members]
    planned = [p for p in products if proj.product_bom[p]]
    skipped = [proj.product_ids[p] for p in products if not proj.product_bom[p]]
    demands, in_house, vols = _demands(proj, planned, {}, options)
    problem = build_problem(proj, demands, options)
    problem.in_house, problem.volumes = in_house, vols
    solve_problem(problem, time_limit=options.time_limit)
    plans = [_chain_plan(proj, problem, p, options) for p in planned]
    if options.sort == "name":
        plans.sort(key=lambda p: (p.product_name.casefold(), p.product_id))
    else:
        plans.sort(key=lambda p: (-(p.total_cost or 0.0), p.product_name.casefold(),
                                  p.product_id))
    # planned for the centre, so every figure is there
    total = sum(p.total_cost or 0.0 for p in plans)
    local = sum((p.localization_share_value or 0.0) * (p.total_cost or 0.0) for p in plans)
    intra = sum((p.intra_cluster_share or 0.0) * (p.total_cost or 0.0) for p in plans)
    uncovered = sorted({c for p in plans for c in p.uncovered})
    loc, intra_share = _share(local, total), _share(intra, total)
    cluster_name = str(proj.cluster_rows[cluster_id].get("name") or cluster_id)
    return ClusterPlan(
        cluster_id=cluster_id, solver=problem.solver, status=problem.status,
        solve_seconds=problem.seconds, n_variables=problem.n_vars + problem.n_units,
        plans=plans, skipped=skipped, total_cost=total, localization_share_value=loc,
        intra_cluster_share=intra_share, uncovered=uncovered,
        text_ru=(f"{cluster_name}: "
                 + count(len(plans), "ru", ("изделие спланировано", "изделия спланированы",
                                            "изделий спланированы"), ("", ""))
                 + f" вместе; в регионе закупается {_pct(loc, 'ru')} по стоимости, внутри "
                 f"кластера {_pct(intra_share, 'ru')}, импортируемых категорий "
                 f"{len(uncovered)}."),
        text_en=(f"{cluster_name}: {len(plans)} products planned together; bought in the "
                 f"region {_pct(loc)} by value, intra-cluster {_pct(intra_share)}, "
                 f"imported categories {len(uncovered)}."),
    )
