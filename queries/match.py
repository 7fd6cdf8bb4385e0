"""Rank potential cooperation links both ways, with the reasons.

``rank_buyers(proj, supplier_id)`` answers a component maker's "who could buy
what I make?"; ``rank_suppliers(proj, buyer_id)`` answers an OEM's "who could
make this for me, nearby, instead of the import?".

How one query runs (all candidates at once, numpy / scipy.sparse):

1. **Capability fit** of the supplier per category — declared (or supplied
   today), a taxonomy relative (``related``), or every process the category
   needs is held (``inferred``) — from :mod:`queries.candidates`.
2. **Candidate pairs** (supplier, buyer, category): a column/row slice of the
   demand table (BOM of the buyer's products at every level, explicit needs,
   imports, what the buyer buys today from others) over the fitting
   categories, plus the partners the collaborative-filtering paths of
   :mod:`queries.network` reach (so a network with only supply links still
   ranks). Existing links (same supplier, buyer, category) and the company
   itself are dropped, then the filters.
3. **Factors** (:mod:`queries.factors`) as one ``pairs × factors`` matrix,
   the score ``values @ weights``; the best pair per partner is kept, and only
   the top ``k`` become result objects with their sentences
   (:mod:`queries.match_render`; the pairs and the top-``k`` pick are
   :mod:`queries.match_pairs`).

Both take the ``viewer`` the result is for (:mod:`graph.confidentiality`): the
cluster centre (the default) sees every figure; for a member, the partner's
free capacity or demand never appears — the raw value is ``None``, the
capacity factor is the band enough / short / unknown (in the score too), and
the sentences are worded from what the member may see.

``rank_buyers`` without filters takes a shortcut with the same answer
(:func:`_fast_buyers`): it scores only the rows that can still reach the top
``k`` — an exact two-round bound over each category's demand rows pre-sorted
by their static score — so a query on a 100k-company graph scores about 2k
pairs instead of every candidate (BENCHMARKS.md, "Matching"). With filters,
for ``rank_suppliers`` and for evaluation every candidate is scored.

Examples
--------
>>> from coopgraph.queries.projection import Projection                  # doctest: +SKIP
>>> rank_buyers(Projection.from_snapshot(store.snapshot()), "cast-1", k=5)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.confidentiality import CENTRE, Viewer
from coopgraph.graph.errors import AccessDenied, InvalidQuery
from coopgraph.queries.candidates import (
    CheckedFilters,
    MatchIndex,
    check_filters,
    match_index,
)
from coopgraph.queries.factors import (
    FACTOR_INDEX,
    FACTORS,
    FIT_CODES,
    FIT_VALUES,
    UNKNOWN,
    WeightProfile,
    capacity_value,
    distance_value,
    lead_time_value,
    resolve_profile,
)
from coopgraph.queries.match_pairs import CandidatePairs, Direction, PartnerScores, mark, top_pairs
from coopgraph.queries.match_render import match_result
from coopgraph.queries.network import FallbackDegree, cf_buyers, cf_suppliers
from coopgraph.queries.projection import Projection
from coopgraph.queries.ranking_caches import ProfileOrder, category_bits, order_key, profile_order
from coopgraph.queries.registry import registry_fit
from coopgraph.queries.results import (
    MatchFilters,
    MatchResult,
)
from coopgraph.queries.sparse_rows import row_ranges

__all__ = [
    "CandidatePairs",
    "FallbackDegree",
    "PartnerScores",
    "best_per_partner",
    "candidate_pairs",
    "category_pool",
    "fallback_scores",
    "rank_buyers",
    "rank_buyers_is_fast",
    "rank_suppliers",
    "score_partners",
]

_FIT_VALUE = np.array([FIT_VALUES[k] for k in FIT_CODES])
_CODE = {k: i for i, k in enumerate(FIT_CODES)}
# registry_fit's strength (0, REGISTRY_EXTRA, REGISTRY_MAIN) → fit code
_REGISTRY_CODE = np.array([0, _CODE["registry_extra"], _CODE["registry_main"]], dtype=np.int8)
MAX_K = 1000


# --- public API ------------------------------------------------------------------------


def rank_buyers(proj: Projection, supplier_id: str, *, k: int = 10, category: str | None = None,
                filters: MatchFilters | dict[str, Any] | None = None,
                profile: WeightProfile | str | None = None,
                viewer: Viewer = CENTRE) -> MatchResult:
    """Rank potential new buyers of ``supplier_id``.

    Parameters
    ----------
    proj : the projection to read
    supplier_id : the supplier's company id
    k : how many candidates to return (1..1000)
    category : only pairs for this category code
    filters : :class:`MatchFilters` (or a dict of its fields)
    profile : a :class:`WeightProfile`, a profile name, or ``None`` (``DEFAULT_PROFILE``)
    viewer : who the result is for (:data:`~graph.confidentiality.CENTRE`: every figure)

    Returns
    -------
    MatchResult
        candidates best first, each with its factors explained in Russian and English.

    Raises
    ------
    NotFound
        unknown supplier or category.
    InvalidQuery
        ``k`` out of range, nonsense filters, unknown profile.
    """
    k = _check_k(k)
    s = proj.company(supplier_id)
    cat = proj.category(category) if category is not None else None
    checked = check_filters(proj, filters)
    prof = resolve_profile(profile, proj)
    ix = match_index(proj)
    if checked.empty:
        pairs = _fast_buyers(proj, ix, s, cat, prof, k, viewer)
    else:
        pairs = _buyer_pairs(proj, ix, s, cat, checked, prof, k, viewer)
    pairs = _fallback(proj, ix, s, "buyers", checked, prof, k, viewer, pairs)
    return match_result(proj, ix, "buyers", s, pairs, k, prof, filters, category, None, viewer)


def rank_buyers_is_fast(proj: Projection, *,
                        filters: MatchFilters | dict[str, Any] | None = None,
                        profile: WeightProfile | str | None = None) -> bool:
    """True when :func:`rank_buyers` with these arguments is quick: milliseconds, no build.

    That is: no filters (the exact top-k shortcut applies) and the projection's
    match index and the profile's row order are built already. A server uses it
    to decide whether a ranking may run on its event loop or needs a thread.
    """
    if filters:
        return False
    ix = proj.extra.get("match_index")
    if not isinstance(ix, MatchIndex) or "bits" not in ix.cache:
        return False
    try:
        w = resolve_profile(profile).vector()
    except InvalidQuery:
        return False
    return order_key(w) in ix.cache


def rank_suppliers(proj: Projection, buyer_id: str, *, k: int = 10, category: str | None = None,
                   product: str | None = None,
                   filters: MatchFilters | dict[str, Any] | None = None,
                   profile: WeightProfile | str | None = None,
                   viewer: Viewer = CENTRE) -> MatchResult:
    """Rank potential new suppliers of ``buyer_id``.

    Parameters
    ----------
    proj : the projection to read
    buyer_id : the buyer's company id
    k : how many candidates to return (1..1000)
    category : only this category (a part the buyer wants)
    product : only the categories in this product's BOM, at every level (the
        product must be made by the buyer); exclusive with ``category``
    filters : :class:`MatchFilters` (or a dict of its fields)
    profile : a :class:`WeightProfile`, a profile name, or ``None``
    viewer : who the result is for (:data:`~graph.confidentiality.CENTRE`: every figure)

    Raises
    ------
    NotFound
        unknown buyer, category or product.
    InvalidQuery
        ``category`` and ``product`` together, a product of another maker, bad ``k``
        or filters.
    AccessDenied
        a member filtering suppliers by their free capacity (their confidential figure).
    """
    k = _check_k(k)
    b = proj.company(buyer_id)
    if category is not None and product is not None:
        raise InvalidQuery("give either a category or a product, not both")
    cat = proj.category(category) if category is not None else None
    prod = proj.product(product) if product is not None else None
    if prod is not None:
        maker = int(proj.product_maker[prod])
        if maker >= 0 and maker != b:
            raise InvalidQuery(f"product {product!r} is made by {proj.company_ids[maker]!r}, "
                               f"not by {buyer_id!r}")
    checked = check_filters(proj, filters)
    if checked.min_free_capacity is not None and not viewer.is_centre:
        raise AccessDenied("a member may not filter suppliers by their free capacity "
                           "(another company's confidential figure)")
    prof = resolve_profile(profile, proj)
    ix = match_index(proj)
    pairs = _supplier_pairs(proj, ix, b, cat, prod, checked, prof, k, viewer)
    pairs = _fallback(proj, ix, b, "suppliers", checked, prof, k, viewer, pairs)
    return match_result(proj, ix, "suppliers", b, pairs, k, prof, filters, category, product,
                        viewer)


def candidate_pairs(proj: Projection, company: int, direction: Direction, *,
                    profile: WeightProfile | str | None = None) -> CandidatePairs:
    """All scored candidate pairs of company index ``company`` (no filters, no top-k).

    ``values`` is the ``pairs × FACTORS`` matrix, so another weight vector
    re-scores the same candidates with one product (the profile fitter does).
    """
    prof = resolve_profile(profile, proj)
    ix = match_index(proj)
    if direction == "buyers":
        return _buyer_pairs(proj, ix, company, None, CheckedFilters(), prof)
    return _supplier_pairs(proj, ix, company, None, None, CheckedFilters(), prof)


def score_partners(proj: Projection, company: int, direction: Direction, *,
                   profile: WeightProfile | str | None = None) -> PartnerScores:
    """Every candidate partner of company index ``company`` with its best pair score.

    The ranking of :func:`rank_buyers` / :func:`rank_suppliers` without filters
    or result objects: what evaluation and benchmarks compare.
    """
    pairs = candidate_pairs(proj, company, direction, profile=profile)
    best = best_per_partner(pairs)
    assert pairs.total is not None
    return PartnerScores(pairs.partner[best], pairs.total[best], len(pairs.partner))


# --- candidates -------------------------------------------------------------------------


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_K:
        raise InvalidQuery(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    return int(k)


def _slice(m: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, data) of one CSR row, as views."""
    lo, hi = m.indptr[row], m.indptr[row + 1]
    return m.indices[lo:hi], m.data[lo:hi]


def _company_fit(proj: Projection, ix: MatchIndex, s: int) -> np.ndarray:
    """Fit code per category for supplier ``s`` (see ``FIT_CODES``); small dense numpy only."""
    cats, kind = _slice(ix.decl, s)
    code = np.zeros(ix.ncat, dtype=np.int8)
    code[cats] = np.where(kind == 2, _CODE["declared"], _CODE["supplied"])
    procs, _ = _slice(proj.company_process, s)
    if len(procs) and ix.cat_proc_dense.size:
        held = ix.cat_proc_dense[:, procs].sum(axis=1)
        inferred = (ix.n_proc > 0) & (held >= ix.n_proc)
        code[inferred & (code == 0)] = _CODE["inferred"]
    if len(cats):
        rel = ix.related_dense[cats].any(axis=0)
        code[rel & (code == 0)] = _CODE["related"]
    reg_cats, strength = _slice(registry_fit(proj), s)
    if len(reg_cats):
        free = code[reg_cats] == 0
        code[reg_cats[free]] = _REGISTRY_CODE[strength[free]]
    return code


def _category_rows(ix: MatchIndex, cats: np.ndarray) -> np.ndarray:
    """The demand rows of every category in ``cats``, concatenated (CSR gather)."""
    starts = ix.cat_dem_indptr[cats]
    return ix.cat_dem_rows[row_ranges(starts, ix.cat_dem_indptr[cats + 1] - starts)]


def _share(counts: np.ndarray) -> np.ndarray:
    top = counts.max(initial=0.0)
    return counts / top if top > 0 else counts * 0.0


@dataclass
class _Side:
    """What one query knows about the querying company ``me``."""

    me: int
    current: np.ndarray  # its current partners
    is_current: np.ndarray  # n bools
    shared: np.ndarray | None  # n bools: shares a cluster with me (None: me is in none)
    members: np.ndarray  # the companies sharing a cluster with me
    z: np.ndarray | None  # CF scores over companies
    zmax: float  # the largest CF score of a candidate (not me, not a current partner)
    banded: bool = False  # capacity factor as a member sees it (enough / short / unknown)


def _side(ix: MatchIndex, me: int, direction: Direction, z: np.ndarray | None,
          viewer: Viewer = CENTRE) -> _Side:
    m = ix.A if direction == "buyers" else ix.AT
    current = m.indices[m.indptr[me]:m.indptr[me + 1]]
    clusters, _ = _slice(ix.membership, me)
    shared = None
    members = np.zeros(0, dtype=np.int64)
    if len(clusters):
        members = np.concatenate([_slice(ix.membership_csc, int(c))[0] for c in clusters])
        shared = mark(ix.n, members)
    zmax = 0.0
    if z is not None and len(z):
        # scaled over the candidates: the strongest *new* partner's signal is 1, whatever
        # the current partners (whom the walk reaches first) score
        saved = z[current].copy()
        mine = z[me]
        z[me] = 0.0
        z[current] = 0.0
        zmax = float(z.max())
        z[me] = mine
        z[current] = saved
    return _Side(me, current, mark(ix.n, current), shared, members, z, zmax,
                 banded=not viewer.is_centre)


@dataclass
class _SupplierVectors:
    """Per category (+ a sentinel for category -1): the supplier's own numbers."""

    fit: np.ndarray
    free: np.ndarray
    lead: np.ndarray
    act: np.ndarray


def _supplier_vectors(proj: Projection, ix: MatchIndex, s: int) -> _SupplierVectors:
    free = np.full(ix.ncat + 1, np.nan)
    lead = np.full(ix.ncat + 1, np.nan)
    ccats, crow = _slice(proj.capability_matrix, s)
    crow = crow.astype(np.int64) - 1
    if len(ccats):
        free[ccats] = proj.free_capacity[crow]
        lead[ccats] = proj.cap_lead_time[crow]
    act = np.zeros(ix.ncat + 1)
    scats, scount = _slice(ix.sell, s)
    act[scats] = _share(scount)
    fit = np.append(_company_fit(proj, ix, s), np.int8(0))
    return _SupplierVectors(fit, free, lead, act)


def _buyer_pairs(proj: Projection, ix: MatchIndex, s: int, cat: int | None,
                 filters: CheckedFilters, prof: WeightProfile, k: int | None = None,
                 viewer: Viewer = CENTRE) -> CandidatePairs:
    vec = _supplier_vectors(proj, ix, s)
    cats = np.array([cat], dtype=np.int64) if cat is not None else np.flatnonzero(vec.fit)
    dem = _category_rows(ix, cats)
    partner = ix.dem_buyer[dem].astype(np.int64)
    pcat = ix.dem_cat[dem].astype(np.int64)
    # the network walk is a candidate source whatever the network weight: the candidate set
    # must not depend on the weights (the profile fitter re-weighs one set)
    z = cf_buyers(ix, s, **prof.network_params())
    side = _side(ix, s, "buyers", z, viewer)
    if z is not None:
        # CF reaches the supplier's current buyers too; they are not *new* network evidence
        extra = _reached_only(z, partner, side.current)
        if len(extra):
            c0 = cat if cat is not None else int(ix.main_category[s])
            ecat = np.full(len(extra), c0, dtype=np.int64)
            partner = np.concatenate([partner, extra])
            pcat = np.concatenate([pcat, ecat])
            dem = np.concatenate([dem, ix.demand_row(extra, ecat)])
    return _score_buyers(proj, ix, side, vec, partner, pcat, dem, filters, prof, k)


def _score_buyers(proj: Projection, ix: MatchIndex, side: _Side, vec: _SupplierVectors,
                  partner: np.ndarray, pcat: np.ndarray, dem: np.ndarray,
                  filters: CheckedFilters, prof: WeightProfile, k: int | None
                  ) -> CandidatePairs:
    """Drop existing links, then score the (supplier ``side.me``, partner, pcat) pairs."""
    s = side.me
    pc = np.where(pcat >= 0, pcat, ix.ncat)  # -1 → the NaN / 0 sentinel
    keep = (partner != s) & ~_existing(ix, side, "buyers", partner, pcat)
    pairs = CandidatePairs(partner[keep], pcat[keep], vec.fit[pc[keep]], dem[keep])
    pc, d = pc[keep], pairs.dem
    cols = {
        "capacity_raw": vec.free[pc], "lead_raw": vec.lead[pc],
        "popularity": ix.dem_pop[d], "popularity_raw": ix.dem_suppliers[d],
        "activity": vec.act[pc],
    }
    _score(proj, ix, pairs, side, cols, filters, prof, "buyers", k=k)
    return pairs


# --- the fallback: no supplier gets an empty list without a reason ---------------------------


_TIE = 1e-3  # the other side's degree only orders companies equal on the side ranked


def fallback_scores(ix: MatchIndex, me: int, direction: Direction, *,
                    degree: FallbackDegree = "side") -> np.ndarray:
    """The fallback order over every company, below every real candidate (whose scores are ≥ 0).

    Three tiers: ``popularity − 1`` for companies that trade in ``me``'s
    categories or their taxonomy family (:func:`category_pool`), ``popularity
    − 2`` for the others of ``me``'s region, ``popularity − 3`` for the rest,
    where popularity is log(1 + degree) / log(1 + the largest degree).
    ``degree="side"``: the degree on the side being ranked (buyers' in-degree,
    suppliers' out-degree), companies equal on it ordered by the same on the
    other side (one that trades at all first); ``"both"``: a company's whole
    degree, buying and selling (what preferential attachment on the undirected
    graph ranks by; the automatic network-only profile chooses between the two
    on the network's own links, :func:`queries.network.tune_walk`); ``"flat"``:
    the whole degree alone, without the tie-break and without the category and
    region tiers (everyone at ``popularity − 3``: preferential attachment's
    order, a choice of the same tuning). −inf for ``me`` and its current partners.
    """
    deg = ix.in_deg if direction == "buyers" else ix.out_deg
    other = ix.out_deg if direction == "buyers" else ix.in_deg
    if degree in ("both", "flat"):
        deg, other = deg + other, deg
    top = float(deg.max(initial=0.0))
    pop = np.log1p(deg) / math.log1p(top) if top > 0 else np.zeros(ix.n)
    # companies alike on the side ranked: one trading on the other side first (it is active)
    top_other = float(other.max(initial=0.0))
    if top_other > 0 and degree != "flat":
        pop = (pop + _TIE * np.log1p(other) / math.log1p(top_other)) / (1.0 + _TIE)
    pop *= 0.999  # each tier strictly inside its unit interval
    region = int(ix.region_code[me])
    out = pop - 3.0
    if degree != "flat":
        if region >= 0:
            out[ix.region_code == region] += 1.0
        in_cat = category_pool(ix, me, direction)
        out[in_cat] = pop[in_cat] - 1.0
    m = ix.A if direction == "buyers" else ix.AT
    out[m.indices[m.indptr[me]:m.indptr[me + 1]]] = -np.inf
    out[me] = -np.inf
    return out


def category_pool(ix: MatchIndex, me: int, direction: Direction) -> np.ndarray:
    """Companies that trade, on the side ranked, in the taxonomy branches of ``me``'s categories.

    ``me``'s categories: for a supplier (ranking buyers) what it makes or sells
    (capabilities, sales), else its main category; for a buyer (ranking
    suppliers) what it wants (BOM, needs, imports, purchases). Every category
    under the same top-level category (``ix.cat_root``) counts — wider than the
    related fit of the candidates (parent, children, siblings), so a category
    nobody near it trades still points at its branch. Returns the buyers of
    those categories (ranking buyers) or their sellers (ranking suppliers), as
    sorted company indices.
    """
    if direction == "buyers":
        cats = ix.decl.indices[ix.decl.indptr[me]:ix.decl.indptr[me + 1]].astype(np.int64)
        if len(cats) == 0 and int(ix.main_category[me]) >= 0:
            cats = np.array([int(ix.main_category[me])], dtype=np.int64)
    else:
        lo, hi = ix.buyer_dem_indptr[me], ix.buyer_dem_indptr[me + 1]
        cats = np.unique(ix.dem_cat[lo:hi]).astype(np.int64)
    if len(cats) == 0:
        return np.zeros(0, dtype=np.int64)
    wanted = np.isin(ix.cat_root, ix.cat_root[cats])
    if direction == "buyers":
        return np.unique(ix.dem_buyer[wanted[ix.dem_cat]]).astype(np.int64)
    sell = ix.sell.tocoo()
    return np.unique(sell.row[wanted[sell.col]]).astype(np.int64)


def _fallback(proj: Projection, ix: MatchIndex, me: int, direction: Direction,
              filters: CheckedFilters, prof: WeightProfile, k: int, viewer: Viewer,
              found: CandidatePairs) -> CandidatePairs:
    """A list shorter than ``k`` filled up with the most connected companies, labelled so.

    Neither demand in a category ``me`` can make (or wants) nor the network walk
    may give ``k`` candidates — e.g. a supplier without sales or capabilities
    gets none. The rest of the list is the fallback (:func:`fallback_scores`):
    the most connected companies trading in ``me``'s categories or their
    taxonomy relatives, then of ``me``'s region, then of the whole graph; their
    score is ``popularity − 1``, ``− 2`` or ``− 3``, below every real
    candidate, their ``source`` is ``popular_in_category``,
    ``popular_in_region`` or ``popular``, and
    their factors are computed as for any pair; the result's note says how
    many real candidates there were. With filters the list stands as it is:
    the filters are the reason, and an empty list's note says so.
    """
    have = np.unique(found.partner)
    if (found.n_partners if found.n_partners is not None else len(have)) >= k:
        return found
    if not filters.empty:
        if len(have) == 0:
            found.note = ("ни один кандидат не проходит заданные фильтры",
                          "no candidate passes the filters given")
        return found
    order = fallback_scores(ix, me, direction, degree=prof.fallback_degree)
    order[have] = -np.inf
    if len(have):
        # filling up a short list: only companies that trade on that side at all
        order[(ix.in_deg if direction == "buyers" else ix.out_deg) == 0] = -np.inf
    pool = np.flatnonzero(np.isfinite(order))
    if len(pool) == 0:
        if len(have) == 0:
            found.note = ("в графе нет других компаний", "there is no other company in the graph")
        return found
    top = pool[np.lexsort((pool, -order[pool]))][:k - len(have)].astype(np.int64)
    pcat = np.full(len(top), -1, dtype=np.int64)
    if direction == "buyers":
        pcat[:] = int(ix.main_category[me])
        vec = _supplier_vectors(proj, ix, me)
        side = _side(ix, me, "buyers", None, viewer)
        pairs = _score_buyers(proj, ix, side, vec, top, pcat, ix.demand_row(top, pcat),
                              CheckedFilters(), prof, None)
    else:
        pcat = ix.main_category[top].astype(np.int64)
        side = _side(ix, me, "suppliers", None, viewer)
        dem = ix.demand_row(np.full(len(top), me, dtype=np.int64), pcat)
        pairs = CandidatePairs(top, pcat, np.zeros(len(top), dtype=np.int8), dem)
        caprow = ix.capability_row(top, pcat)
        has = caprow >= 0
        cr = np.maximum(caprow, 0)
        free = np.where(has, proj.free_capacity[cr] if len(proj.free_capacity) else np.nan,
                        np.nan)
        lead = np.where(has, proj.cap_lead_time[cr] if len(proj.cap_lead_time) else np.nan,
                        np.nan)
        deg = ix.out_deg
        cols = {"capacity_raw": free, "lead_raw": lead, "popularity": np.zeros(len(top)),
                "popularity_raw": deg[top], "activity": np.zeros(len(top))}
        _score(proj, ix, pairs, side, cols, CheckedFilters(), prof, "suppliers")
    assert pairs.values is not None and pairs.raw is not None
    deg = ix.in_deg if direction == "buyers" else ix.out_deg
    score = order[pairs.partner]
    top_deg = float(deg.max(initial=0.0))
    pairs.values[:, FACTOR_INDEX["popularity"]] = \
        np.log1p(deg[pairs.partner]) / math.log1p(top_deg) if top_deg > 0 else 0.0
    pairs.raw["popularity"] = deg[pairs.partner]
    pairs.total = np.round(score, 12)
    pairs.is_fallback = np.ones(len(pairs.partner), dtype=bool)
    who_ru, who_en = ("покупателей", "buyers") if direction == "buyers" \
        else ("поставщиков", "suppliers")
    region = proj.company_regions[me]
    in_cat = bool(np.any(score >= -1.0))
    tiers_ru, tiers_en = [], []
    if in_cat:
        trade_ru = "делает или продаёт" if direction == "buyers" else "закупает или ищет"
        trade_en = "makes or sells" if direction == "buyers" else "buys or needs"
        tiers_ru.append(f"торгующих в тех же разделах классификатора, что и категории, которые "
                        f"компания {trade_ru}")
        tiers_en.append(f"those trading in the taxonomy branches of the categories the company "
                        f"{trade_en}")
    if region and prof.fallback_degree != "flat":
        tiers_ru.append(f"региона «{region}»")
        tiers_en.append(f"those of the region “{region}”")
    tiers_ru.append("всего графа")
    tiers_en.append("those of the whole graph")
    where_ru = ": сначала " + ", затем ".join(tiers_ru) if len(tiers_ru) > 1 \
        else " " + tiers_ru[0]
    where_en = (": first " + ", then ".join(tiers_en)) if len(tiers_en) > 1 \
        else " of the whole graph"
    if len(have):
        merged = _concat(found, pairs)
        merged.is_fallback = np.r_[np.zeros(len(found.partner), dtype=bool), pairs.is_fallback]
        merged.n_partners = (found.n_partners or len(have)) + len(np.unique(pairs.partner))
        merged.note = (
            f"спрос в категориях компании и сеть поставок дали только {len(have)} "
            f"кандидат(ов); остальные — самые связанные из {who_ru}{where_ru} — запасной "
            f"список по популярности, не подбор",
            f"demand in the company's categories and the supply network gave only "
            f"{len(have)} candidate(s); the rest are the most connected {who_en}{where_en} — "
            f"a popularity fallback, not a match")
        return merged
    pairs.note = (
        f"ни спрос в категориях компании, ни сеть поставок не дали кандидатов (нет продаж, "
        f"компетенций со спросом и общих партнёров); показаны самые связанные из {who_ru}"
        f"{where_ru} — запасной список по популярности, не подбор",
        f"neither demand in the company's categories nor the supply network gave a candidate "
        f"(no sales, no capability in demand, no shared partners); these are the most "
        f"connected {who_en}{where_en} — a popularity fallback, not a match")
    return pairs


# --- the fast exact top-k of rank_buyers ------------------------------------------------

_HOT = 128  # partners with the largest network/relation/cluster terms, scored exactly first
_FIRST = 24  # rows per category scored in the first round (at least 2 k)
_HOT_FIRST = 64  # rows of the hot buyers scored in the first round (at least 4 k)


def _prefix_rows(ix: MatchIndex, po: ProfileOrder, cats: np.ndarray, start: np.ndarray,
                 stop: np.ndarray) -> np.ndarray:
    """Rows ``start[i]:stop[i]`` of category ``cats[i]``'s ordered group, concatenated."""
    offsets = row_ranges(ix.cat_dem_indptr[cats] + start, np.maximum(stop - start, 0))
    return po.rows[offsets]


def _fit_rows_of(ix: MatchIndex, buyers: np.ndarray, ok_cat: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The demand rows of ``buyers`` in categories where ``ok_cat``, and per buyer how many."""
    starts = ix.buyer_dem_indptr[buyers]
    lens = ix.buyer_dem_indptr[buyers + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(buyers), dtype=np.int64)
    owner = np.repeat(np.arange(len(buyers)), lens)
    rows = np.arange(total, dtype=np.int64) + (starts - (np.cumsum(lens) - lens))[owner]
    good = ok_cat[ix.dem_cat[rows]]
    return rows[good], np.bincount(owner[good], minlength=len(buyers))


def _fast_buyers(proj: Projection, ix: MatchIndex, s: int, cat: int | None,
                 prof: WeightProfile, k: int, viewer: Viewer = CENTRE) -> CandidatePairs:
    """The top ``k`` of :func:`_buyer_pairs` without scoring every candidate (exact).

    A pair's score is ``U_c + B + Q + …`` where ``U_c`` depends on the supplier
    and category only (fit, lead time, activity, and the largest capacity,
    certificate and distance terms possible), ``B`` on the demand row only
    (demand, import, popularity: the profile's order of each category's rows,
    :func:`profile_order`), and ``Q`` on the buyer only (network, relation,
    cluster). The ``_HOT`` buyers with the largest ``Q`` are bounded row by row
    (``U_c + B + Q``); every other buyer has ``Q ≤ τ``. Round one scores the
    first rows of every category and the hot rows with the largest bounds;
    with θ the k-th best partner so far, a row can only beat θ when
    ``U_c + τ + B ≥ θ``, which is a prefix of its category's order, or, for a
    hot row, when its own bound reaches θ — round two scores exactly those.
    Buyers reached only by the network path (no demand row in a fitting
    category) are ordered by ``Q`` and treated the same way. Then every row of
    the top-``k`` partners is scored so that their ``categories`` are complete.
    The result equals the full scoring's top ``k`` (tests/test_match.py checks
    this).
    """
    w = prof.vector()
    wf = {name: float(w[i]) for i, name in enumerate(FACTORS)}
    vec = _supplier_vectors(proj, ix, s)
    fit = vec.fit
    cats = np.array([cat], dtype=np.int64) if cat is not None else np.flatnonzero(fit[:-1])
    ok_cat = np.zeros(ix.ncat, dtype=bool)
    ok_cat[cats] = True
    lens = ix.cat_dem_indptr[cats + 1] - ix.cat_dem_indptr[cats]
    z = cf_buyers(ix, s, **prof.network_params())
    side = _side(ix, s, "buyers", z, viewer)
    po = profile_order(ix, w)

    def upper(c: np.ndarray) -> np.ndarray:
        cc = np.where(c >= 0, c, ix.ncat)
        return (wf["capability"] * _FIT_VALUE[fit[cc]] + wf["lead_time"] * lead_time_value(
            vec.lead[cc]) + wf["activity"] * vec.act[cc]
            + wf["capacity"] * np.where(np.isfinite(vec.free[cc]), 1.0, UNKNOWN)
            + wf["certs"] + wf["distance"])

    u = upper(cats)
    # Q per buyer over its support: reached by CF, current buyers, cluster fellows
    mark = z > 0 if z is not None else np.zeros(ix.n, dtype=bool)
    mark[side.current] = True
    mark[side.members] = True
    mark[s] = False
    support = np.flatnonzero(mark)
    q = np.zeros(len(support))
    if z is not None and side.zmax > 0:
        q += wf["network"] * np.minimum(z[support] / side.zmax, 1.0)
    q += wf["relation"] * side.is_current[support]
    if side.shared is not None:
        q += wf["cluster"] * side.shared[support]
    is_extra = ((z[support] > 0) if z is not None else np.zeros(len(support), dtype=bool)) \
        & ~side.is_current[support]
    if len(support) > _HOT:
        part = np.argpartition(-q, _HOT)
        hot_idx, tau = part[:_HOT], float(q[part[_HOT:]].max())
    else:
        hot_idx, tau = np.arange(len(support)), 0.0
    hot = support[hot_idx]
    # buyers reached only by the network path, by Q descending (extras, category c0)
    c0 = cat if cat is not None else int(ix.main_category[s])
    extra_pool, extra_q = support[is_extra], q[is_extra]
    u0 = float(upper(np.array([c0]))[0])
    seen_rows = np.zeros(len(ix.dem_keys), dtype=bool)
    seen_ext = np.zeros(ix.n, dtype=bool)

    def score(rows: np.ndarray, ext: np.ndarray, ext_checked: bool = False) -> CandidatePairs:
        """Score the rows and extras not scored yet (``ext_checked``: the extras are known
        to have no fitting demand row)."""
        rows = np.sort(rows[~seen_rows[rows]])
        rows = rows[np.r_[True, rows[1:] != rows[:-1]]] if len(rows) else rows
        seen_rows[rows] = True
        if len(ext):
            ext = np.unique(ext)
            if not ext_checked:
                _, count = _fit_rows_of(ix, ext, ok_cat)
                ext = ext[count == 0]
            ext = ext[~seen_ext[ext]]
            seen_ext[ext] = True
        partner = np.concatenate([ix.dem_buyer[rows].astype(np.int64), ext])
        pcat = np.concatenate([ix.dem_cat[rows].astype(np.int64),
                               np.full(len(ext), c0, dtype=np.int64)])
        dem = np.concatenate([rows, ix.demand_row(ext, pcat[len(rows):])])
        return _score_buyers(proj, ix, side, vec, partner, pcat, dem, CheckedFilters(), prof,
                             None)

    n_first = max(_FIRST, 2 * k)
    hot_rows, hot_count = _fit_rows_of(ix, hot, ok_cat)
    # the hot buyers' rows by their own bound U_c + B + Q: round one scores the best of
    # them, round two those that can still reach θ
    u_cat = np.zeros(ix.ncat)
    u_cat[cats] = u
    hot_bound = (u_cat[ix.dem_cat[hot_rows]] + wf["demand"] * ix.dem_value[hot_rows]
                 + wf["import"] * ix.dem_import[hot_rows] + wf["popularity"] * ix.dem_pop[hot_rows]
                 + np.repeat(q[hot_idx], hot_count))
    n_hot = max(_HOT_FIRST, 4 * k)
    if len(hot_rows) > n_hot:
        hot_first = np.argpartition(-hot_bound, n_hot - 1)[:n_hot]
    else:
        hot_first = np.arange(len(hot_rows))
    first = np.minimum(lens, n_first)
    if len(extra_pool) > n_first:
        first_ext = np.argpartition(-extra_q, n_first - 1)[:n_first]
        ext_done = float(extra_q[first_ext].min())  # every extra with a larger Q is in
    else:
        first_ext, ext_done = np.arange(len(extra_pool)), float("-inf")
    # extras: the hot ones without a fitting row (known), the first of the pool (checked)
    hot_ext = hot[is_extra[hot_idx] & (hot_count == 0)]
    pool_ext = extra_pool[first_ext]
    _, pool_count = _fit_rows_of(ix, pool_ext, ok_cat)
    pairs = score(np.concatenate([hot_rows[hot_first], _prefix_rows(ix, po, cats, 0 * first,
                                                                    first)]),
                  np.concatenate([hot_ext, pool_ext[pool_count == 0]]), ext_checked=True)
    theta = _kth_partner(pairs, k)
    if np.isfinite(theta):
        # round two: every row whose bound reaches θ (a prefix of each category's order,
        # and the hot rows whose own bound does)
        limit = ix.cat_dem_indptr[cats] + lens
        want = cats * po.span + (po.b_max - (theta - u - tau)) + 1e-9
        stop = np.minimum(np.searchsorted(po.keys, want, side="right"), limit)
        stop = np.maximum(stop - ix.cat_dem_indptr[cats], first)
        more_ext = extra_pool[extra_q >= theta - u0 - 1e-9] if theta - u0 - 1e-9 < ext_done \
            else np.zeros(0, dtype=np.int64)
        more_hot = hot_rows[hot_bound >= theta - 1e-9]
        pairs = _concat(pairs, score(np.concatenate([more_hot, _prefix_rows(
            ix, po, cats, first, stop)]), more_ext))
    else:  # fewer than k partners so far: score everything
        pairs = _concat(pairs, score(np.concatenate([hot_rows, _category_rows(ix, cats)]),
                                     extra_pool))
    # complete the top partners' categories (their other pairs, for ``categories``)
    top = pairs.partner[top_pairs(pairs, k)]
    top_rows, _ = _fit_rows_of(ix, top, ok_cat)
    pairs = _concat(pairs, score(top_rows, np.zeros(0, dtype=np.int64)))
    pairs.n_partners = _count_candidates(ix, side, cats, ok_cat, extra_pool)
    return pairs


def _concat(a: CandidatePairs, b: CandidatePairs) -> CandidatePairs:
    """Two scored pair sets as one."""
    if len(b.partner) == 0:
        return a
    assert a.values is not None and b.values is not None and a.raw is not None \
        and b.raw is not None and a.total is not None and b.total is not None
    return CandidatePairs(
        np.concatenate([a.partner, b.partner]), np.concatenate([a.cat, b.cat]),
        np.concatenate([a.fit, b.fit]), np.concatenate([a.dem, b.dem]),
        np.concatenate([a.values, b.values]), np.concatenate([a.total, b.total]),
        {key: np.concatenate([a.raw[key], b.raw[key]]) for key in a.raw})


def _kth_partner(pairs: CandidatePairs, k: int) -> float:
    """The k-th best partner's score among scored pairs (−inf when fewer than k)."""
    top = top_pairs(pairs, k)
    if len(top) < k:
        return float("-inf")
    assert pairs.total is not None
    return float(pairs.total[top[-1]])


def _count_candidates(ix: MatchIndex, side: _Side, cats: np.ndarray, ok_cat: np.ndarray,
                      extra_pool: np.ndarray) -> int:
    """How many partners the full scoring would rank (bitset union, no pair is scored)."""
    bits = category_bits(ix)
    words = bits.view(np.uint64)
    union64 = np.bitwise_or.reduce(words[cats], axis=0) if len(cats) else \
        np.zeros(words.shape[1], dtype=np.uint64)
    union = union64.view(np.uint8)
    in_demand = np.unpackbits(union, count=ix.n).view(bool) if len(extra_pool) or \
        len(side.current) else None
    count = int(np.bitwise_count(union64).sum())
    if in_demand is not None:
        count += int(np.count_nonzero(~in_demand[extra_pool]))
        if in_demand[side.me]:
            count -= 1
        cur = side.current[in_demand[side.current]]
        if len(cur):
            rows, per = _fit_rows_of(ix, cur, ok_cat)
            new = ~ix.existing(side.me, ix.dem_buyer[rows], ix.dem_cat[rows])
            owner = np.repeat(np.arange(len(cur)), per)
            count -= int(np.count_nonzero(np.bincount(owner[new], minlength=len(cur)) == 0))
    else:
        bit = (union[side.me >> 3] >> (7 - (side.me & 7))) & 1
        count -= int(bit)
    return count


def _supplier_pairs(proj: Projection, ix: MatchIndex, b: int, cat: int | None, prod: int | None,
                    filters: CheckedFilters, prof: WeightProfile, k: int | None = None,
                    viewer: Viewer = CENTRE) -> CandidatePairs:
    lo, hi = ix.buyer_dem_indptr[b], ix.buyer_dem_indptr[b + 1]
    if cat is not None:
        cats = np.array([cat], dtype=np.int64)
    elif prod is not None:
        cats = ix.closure[prod].indices.astype(np.int64)
    else:
        cats = ix.dem_cat[lo:hi].astype(np.int64)
    fitm = _fit_matrix(proj, ix, cats).tocoo()
    partner = fitm.row.astype(np.int64)
    pcat = cats[fitm.col]
    pfit = fitm.data.astype(np.int8)
    z = cf_suppliers(ix, b, **prof.network_params())
    side = _side(ix, b, "suppliers", z, viewer)
    if z is not None:
        extra = _reached_only(z, partner, side.current)
        if len(extra):
            ecat = (np.full(len(extra), cat, dtype=np.int64) if cat is not None
                    else ix.main_category[extra].astype(np.int64))
            efit = np.zeros(len(extra), dtype=np.int8)
            ok = ecat >= 0
            if ok.any():
                kind = np.asarray(ix.decl[extra[ok], ecat[ok]]).ravel()
                efit[ok] = np.select([kind == 2, kind == 1],
                                     [_CODE["declared"], _CODE["supplied"]], 0)
            partner = np.concatenate([partner, extra])
            pcat = np.concatenate([pcat, ecat])
            pfit = np.concatenate([pfit, efit])
    keep = (partner != b) & ~_existing(ix, side, "suppliers", partner, pcat)
    partner, pcat, pfit = partner[keep], pcat[keep], pfit[keep]
    dem = ix.demand_row(np.full(len(partner), b, dtype=np.int64), pcat)
    pairs = CandidatePairs(partner, pcat, pfit, dem)
    caprow = ix.capability_row(partner, pcat)
    has = caprow >= 0
    cr = np.maximum(caprow, 0)
    free = np.where(has, proj.free_capacity[cr] if len(proj.free_capacity) else np.nan, np.nan)
    lead = np.where(has, proj.cap_lead_time[cr] if len(proj.cap_lead_time) else np.nan, np.nan)
    act = np.zeros(ix.ncat + 1)
    act[ix.dem_cat[lo:hi]] = _share(ix.dem_suppliers[lo:hi])
    pc = np.where(pcat >= 0, pcat, ix.ncat)
    pop = ix.supplier_popularity(partner, pcat)
    cols = {"capacity_raw": free, "lead_raw": lead, "popularity": pop,
            "popularity_raw": ix.supplier_sales(partner, pcat), "activity": act[pc]}
    if prod is not None:
        volume = proj.product_rows[prod].get("annual_volume")
        if volume:
            per_unit = np.asarray(ix.closure[prod].toarray()).ravel()
            cols["qty_override"] = np.where(pcat >= 0, per_unit[np.maximum(pcat, 0)] * volume,
                                            np.nan)
    _score(proj, ix, pairs, side, cols, filters, prof, "suppliers", k=k)
    return pairs


def _reached_only(z: np.ndarray, partner: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Companies the CF path reaches that are neither candidates yet nor current partners."""
    mark = z > 0
    mark[partner] = False
    mark[current] = False
    return np.flatnonzero(mark)


def _existing(ix: MatchIndex, side: _Side, direction: Direction, partner: np.ndarray,
              cat: np.ndarray) -> np.ndarray:
    """True where (me, partner, cat) is an existing link; only current partners are looked up."""
    out = np.zeros(len(partner), dtype=bool)
    check = np.flatnonzero(side.is_current[partner])
    if len(check):
        if direction == "buyers":
            out[check] = ix.existing(side.me, partner[check], cat[check])
        else:
            out[check] = ix.existing(partner[check], side.me, cat[check])
    return out


def _fit_matrix(proj: Projection, ix: MatchIndex, cats: np.ndarray) -> sp.csr_matrix:
    """company × len(cats): the fit code of each company as a supplier of each category."""
    n, m = ix.n, len(cats)
    if m == 0:
        return sp.csr_matrix((n, 0))
    d = ix.decl_csc[:, cats]
    declared = d.astype(float)
    declared.data = np.where(d.data == 2, _CODE["declared"], _CODE["supplied"]).astype(float)
    parts = [declared.tocsr()]
    rk = ix.related[cats]
    if rk.nnz:
        used = np.unique(rk.indices)
        holders = ix.decl_csc[:, used].astype(float)
        holders.data[:] = 1.0
        rel = (holders @ rk[:, used].T).tocsr()
        rel.data[:] = _CODE["related"]
        parts.append(rel)
    cp = ix.cat_proc[cats]
    need = ix.n_proc[cats]
    if cp.nnz:
        used = np.unique(cp.indices)
        held = (ix.company_process_csc[:, used] @ cp[:, used].T).tocsr().tocoo()
        ok = held.data >= need[held.col]
        inf = sp.csr_matrix((np.full(int(ok.sum()), float(_CODE["inferred"])),
                             (held.row[ok], held.col[ok])), shape=(n, m))
        parts.append(inf)
    reg = registry_fit(proj)[:, cats]
    if reg.nnz:
        reg = reg.astype(float)
        reg.data = _REGISTRY_CODE[reg.data.astype(np.int64)].astype(float)
        parts.append(reg)
    out = parts[0]
    for p in parts[1:]:
        out = out.maximum(p)
    return out.tocsr()


# --- factors ----------------------------------------------------------------------------


def _prune(partner: np.ndarray, partial: np.ndarray, slack: float, k: int) -> np.ndarray | None:
    """Pairs that can still reach the top ``k`` partners (exact), or None to keep all.

    ``partial`` is the score without the stage-2 factor (distance), which adds
    between 0 and ``slack``. Let θ be the k-th best partner's best ``partial``
    (found among the best ``16 k`` pairs by ``argpartition``, or by a full sort
    when those hold fewer than ``k`` partners): at least ``k`` partners score
    ≥ θ, so a pair with ``partial + slack < θ`` can be neither in the top k nor
    the best pair of a top-k partner.
    """
    n = len(partial)
    if n <= 4 * k:
        return None
    m = min(n, 16 * k)
    top = np.argpartition(-partial, m - 1)[:m]
    top = top[np.argsort(-partial[top], kind="stable")]
    _, first = np.unique(partner[top], return_index=True)
    if len(first) >= k:
        theta = partial[top[np.sort(first)[k - 1]]]
    else:
        order = np.lexsort((-partial, partner))
        grp = partner[order]
        heads = order[np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])]
        best = partial[heads]
        if len(best) <= k:
            return None
        theta = np.partition(best, len(best) - k)[len(best) - k]
    return partial + slack >= theta - 1e-12


def _score(proj: Projection, ix: MatchIndex, pairs: CandidatePairs, side: _Side,
           cols: dict[str, np.ndarray], filters: CheckedFilters, prof: WeightProfile,
           direction: Direction, k: int | None = None) -> None:
    """Fill ``pairs.values`` / ``total`` / ``raw`` and drop the pairs the filters reject.

    Stage 1 computes every factor but distance as gathers from the index; with
    ``k`` and no filters, pairs that cannot reach the top ``k`` are dropped
    (:func:`_prune`, exact) before stage 2 computes the distances.
    """
    w = prof.vector()
    n = len(pairs.partner)
    d = pairs.dem
    partner = pairs.partner
    flags = ix.dem_flags[d]
    qty = ix.dem_qty[d]
    if "qty_override" in cols:
        qty = np.where(np.isfinite(cols["qty_override"]), cols["qty_override"], qty)
    needrow = ix.dem_need[d]
    n_req = ix.need_n_certs[needrow]
    held = np.zeros(n)
    with_certs = np.flatnonzero(n_req > 0)
    cv = ix.cert_valid_dense(proj) if (len(with_certs) or filters.certs) else None
    if len(with_certs) and cv is not None:
        sup_rows = (np.full(len(with_certs), side.me) if direction == "buyers"
                    else partner[with_certs])
        held[with_certs] = (cv[sup_rows] & ix.need_cert_dense[needrow[with_certs]]).sum(axis=1)
    z = side.z
    zp = z[partner] if z is not None else np.zeros(n)
    zmax = side.zmax
    free = cols["capacity_raw"]
    lead = cols["lead_raw"]
    stage1: dict[str, np.ndarray] = {
        "capability": _FIT_VALUE[pairs.fit],
        "demand": ix.dem_value[d],
        "capacity": capacity_value(free, qty, banded=side.banded),
        "certs": np.where(n_req > 0, held / np.maximum(n_req, 1), 1.0),
        "import": ix.dem_import[d],
        "cluster": (side.shared[partner].astype(float) if side.shared is not None
                    else np.zeros(n)),
        "network": np.minimum(zp / zmax, 1.0) if zmax > 0 else np.zeros(n),
        "relation": side.is_current[partner].astype(float),
        "lead_time": lead_time_value(lead),
        "popularity": cols["popularity"],
        "activity": cols["activity"],
    }
    raw = {"capacity": free, "demand_qty": qty, "lead_time": lead, "certs": n_req,
           "network": zp, "flags": flags.astype(np.int64), "popularity": cols["popularity_raw"]}
    max_km = ix.need_max_km[needrow]
    if k is not None and filters.empty and n:
        pairs.n_partners = int(np.count_nonzero(mark(ix.n, partner)))
        partial = np.zeros(n)
        for name, col in stage1.items():
            if w[FACTOR_INDEX[name]]:
                partial += w[FACTOR_INDEX[name]] * col
        keep = _prune(partner, partial, float(w[FACTOR_INDEX["distance"]]), k)
        if keep is not None:
            pairs.partner, pairs.cat, pairs.fit, pairs.dem = (
                partner[keep], pairs.cat[keep], pairs.fit[keep], d[keep])
            partner = pairs.partner
            stage1 = {key: val[keep] for key, val in stage1.items()}
            raw = {key: val[keep] for key, val in raw.items()}
            max_km = max_km[keep]
            n = len(partner)
    dist = proj.distance_km(side.me, partner) if n else np.zeros(0)
    raw["distance"] = dist
    v = np.empty((n, len(FACTORS)))
    for name, col in stage1.items():
        v[:, FACTOR_INDEX[name]] = col
    v[:, FACTOR_INDEX["distance"]] = distance_value(dist, max_km)

    keep = np.ones(n, dtype=bool)
    if filters.max_distance_km is not None:
        keep &= np.isfinite(dist) & (dist <= filters.max_distance_km)
    if filters.region is not None:
        keep &= ix.region_code[partner] == filters.region
    if filters.same_cluster:
        keep &= side.shared[partner] if side.shared is not None else False
    if filters.cluster is not None:
        col = mark(ix.n, _slice(ix.membership_csc, filters.cluster)[0])
        keep &= col[partner]
    if filters.certs and cv is not None:
        has_all = np.asarray(cv[:, list(filters.certs)].all(axis=1), dtype=bool)
        keep &= has_all[side.me] if direction == "buyers" else has_all[partner]
    if filters.min_free_capacity is not None:
        free = raw["capacity"]
        keep &= np.isfinite(free) & (free >= filters.min_free_capacity)
    if not filters.registry:
        keep &= ~np.isin(pairs.fit, _REGISTRY_CODE[1:])
    if not keep.all():
        pairs.partner, pairs.cat, pairs.fit, pairs.dem = (
            partner[keep], pairs.cat[keep], pairs.fit[keep], pairs.dem[keep])
        v = v[keep]
        raw = {key: val[keep] for key, val in raw.items()}
    pairs.values = v
    pairs.raw = raw
    # rounded so that ties do not depend on where a row sits in the matrix product
    pairs.total = np.round(v @ w, 12)


def best_per_partner(pairs: CandidatePairs) -> np.ndarray:
    """Index of the best pair of each partner (highest total, then lowest category)."""
    if len(pairs.partner) == 0:
        return np.zeros(0, dtype=np.int64)
    assert pairs.total is not None
    order = np.lexsort((pairs.cat, -pairs.total, pairs.partner))
    grp = pairs.partner[order]
    return order[np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])]
