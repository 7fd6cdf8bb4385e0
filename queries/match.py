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
   the top ``k`` become result objects with their sentences.

Examples
--------
>>> from queries.projection import Projection                  # doctest: +SKIP
>>> rank_buyers(Projection.from_snapshot(store.snapshot()), "cast-1", k=5)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import scipy.sparse as sp

from graph.errors import InvalidQuery
from queries.candidates import (
    IMPORT,
    NEED,
    SUPPLIED,
    CheckedFilters,
    MatchIndex,
    check_filters,
    match_index,
)
from queries.factors import (
    FACTORS,
    FIT_CODES,
    FIT_VALUES,
    WeightProfile,
    capacity_value,
    distance_value,
    explain,
    lead_time_value,
    resolve_profile,
)
from queries.network import cf_buyers, cf_suppliers
from queries.projection import Projection
from queries.results import FactorValue, FitKind, MatchCandidate, MatchFilters, MatchResult

__all__ = [
    "CandidatePairs",
    "PartnerScores",
    "best_per_partner",
    "candidate_pairs",
    "rank_buyers",
    "rank_suppliers",
    "score_partners",
]

Direction = Literal["buyers", "suppliers"]
_FIT_VALUE = np.array([FIT_VALUES[k] for k in FIT_CODES])
_CODE = {k: i for i, k in enumerate(FIT_CODES)}
_F = {name: i for i, name in enumerate(FACTORS)}
MAX_K = 1000


@dataclass
class CandidatePairs:
    """Candidate pairs of one query and everything computed about them (unfiltered by k)."""

    partner: np.ndarray
    cat: np.ndarray
    fit: np.ndarray
    dem: np.ndarray  # index into the demand table, -1 when none
    values: np.ndarray | None = None
    total: np.ndarray | None = None
    raw: dict[str, np.ndarray] | None = None
    n_partners: int | None = None  # distinct partners before pruning (when pruned)


@dataclass
class PartnerScores:
    """The best score per candidate partner (for evaluation and benchmarks)."""

    partners: np.ndarray
    scores: np.ndarray
    n_pairs: int


# --- public API ------------------------------------------------------------------------


def rank_buyers(proj: Projection, supplier_id: str, *, k: int = 10, category: str | None = None,
                filters: MatchFilters | dict[str, Any] | None = None,
                profile: WeightProfile | str | None = None) -> MatchResult:
    """Rank potential new buyers of ``supplier_id``.

    Parameters
    ----------
    proj : the projection to read
    supplier_id : the supplier's company id
    k : how many candidates to return (1..1000)
    category : only pairs for this category code
    filters : :class:`MatchFilters` (or a dict of its fields)
    profile : a :class:`WeightProfile`, a profile name, or ``None`` (``DEFAULT_PROFILE``)

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
    prof = resolve_profile(profile)
    ix = match_index(proj)
    pairs = _buyer_pairs(proj, ix, s, cat, checked, prof, k)
    return _result(proj, ix, "buyers", s, pairs, k, prof, filters, category, None)


def rank_suppliers(proj: Projection, buyer_id: str, *, k: int = 10, category: str | None = None,
                   product: str | None = None,
                   filters: MatchFilters | dict[str, Any] | None = None,
                   profile: WeightProfile | str | None = None) -> MatchResult:
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

    Raises
    ------
    NotFound
        unknown buyer, category or product.
    InvalidQuery
        ``category`` and ``product`` together, a product of another maker, bad ``k``
        or filters.
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
    prof = resolve_profile(profile)
    ix = match_index(proj)
    pairs = _supplier_pairs(proj, ix, b, cat, prod, checked, prof, k)
    return _result(proj, ix, "suppliers", b, pairs, k, prof, filters, category, product)


def candidate_pairs(proj: Projection, company: int, direction: Direction, *,
                    profile: WeightProfile | str | None = None) -> CandidatePairs:
    """All scored candidate pairs of company index ``company`` (no filters, no top-k).

    ``values`` is the ``pairs × FACTORS`` matrix, so another weight vector
    re-scores the same candidates with one product (the profile fitter does).
    """
    prof = resolve_profile(profile)
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


def _supplier_fit(proj: Projection, ix: MatchIndex, s: int) -> np.ndarray:
    """Fit code per category for supplier ``s`` (see ``FIT_CODES``)."""
    row = ix.decl[s].toarray().ravel()
    code = np.zeros(ix.ncat, dtype=np.int8)
    code[row == 1] = _CODE["supplied"]
    code[row == 2] = _CODE["declared"]
    has = row > 0
    procs = proj.company_process[s].toarray().ravel().astype(float)
    if procs.any():
        held = ix.cat_proc @ procs
        inferred = (ix.n_proc > 0) & (held >= ix.n_proc)
        code[inferred & (code == 0)] = _CODE["inferred"]
    if has.any() and ix.related.nnz:
        rel = (ix.related @ has.astype(float)) > 0
        code[rel & (code == 0)] = _CODE["related"]
    return code


def _lookup(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``m[rows[i], cols[i]]`` as an int64 array (0 where absent or ``cols < 0``)."""
    out = np.zeros(len(rows), dtype=np.int64)
    ok = cols >= 0
    if ok.any():
        out[ok] = np.asarray(m[rows[ok], cols[ok]]).ravel().astype(np.int64)
    return out


def _buyer_pairs(proj: Projection, ix: MatchIndex, s: int, cat: int | None,
                 filters: CheckedFilters, prof: WeightProfile, k: int | None = None
                 ) -> CandidatePairs:
    fit = _supplier_fit(proj, ix, s)
    cats = np.array([cat]) if cat is not None else np.flatnonzero(fit)
    sub = ix.demand_csc[:, cats].tocoo()
    partner = sub.row.astype(np.int64)
    pcat = cats[sub.col].astype(np.int64)
    dem = sub.data.astype(np.int64) - 1
    z = cf_buyers(ix, s) if prof.weights.get("network", 0) > 0 or len(partner) == 0 else None
    if z is not None:
        # CF reaches the supplier's current buyers too; they are not *new* network evidence
        current = ix.A.indices[ix.A.indptr[s]:ix.A.indptr[s + 1]]
        extra = _reached_only(z, partner, current)
        if len(extra):
            c0 = cat if cat is not None else int(ix.main_category[s])
            ecat = np.full(len(extra), c0, dtype=np.int64)
            edem = _lookup(ix.demand_csr, extra, ecat) - 1
            partner = np.concatenate([partner, extra])
            pcat = np.concatenate([pcat, ecat])
            dem = np.concatenate([dem, edem])
    pfit = np.where(pcat >= 0, fit[np.maximum(pcat, 0)], 0).astype(np.int8)
    keep = (partner != s) & ~_existing(ix, s, "buyers", partner, pcat)
    pairs = CandidatePairs(partner[keep], pcat[keep], pfit[keep], dem[keep])
    sup = np.full(len(pairs.partner), s, dtype=np.int64)
    _score(proj, ix, pairs, sup, pairs.partner, s, z, filters, prof, "buyers", k=k)
    return pairs


def _supplier_pairs(proj: Projection, ix: MatchIndex, b: int, cat: int | None, prod: int | None,
                    filters: CheckedFilters, prof: WeightProfile, k: int | None = None
                    ) -> CandidatePairs:
    if cat is not None:
        cats = np.array([cat], dtype=np.int64)
    elif prod is not None:
        row = ix.closure[prod]
        cats = row.indices.astype(np.int64)
    else:
        lo, hi = ix.demand_csr.indptr[b], ix.demand_csr.indptr[b + 1]
        cats = ix.demand_csr.indices[lo:hi].astype(np.int64)
    fitm = _fit_matrix(proj, ix, cats).tocoo()
    partner = fitm.row.astype(np.int64)
    pcat = cats[fitm.col]
    pfit = fitm.data.astype(np.int8)
    z = cf_suppliers(ix, b) if prof.weights.get("network", 0) > 0 or len(partner) == 0 else None
    if z is not None:
        current = ix.AT.indices[ix.AT.indptr[b]:ix.AT.indptr[b + 1]]
        extra = _reached_only(z, partner, current)
        if len(extra):
            ecat = (np.full(len(extra), cat, dtype=np.int64) if cat is not None
                    else ix.main_category[extra].astype(np.int64))
            efit = _lookup(ix.decl, extra, ecat)
            efit = np.select([efit == 2, efit == 1], [_CODE["declared"], _CODE["supplied"]], 0)
            partner = np.concatenate([partner, extra])
            pcat = np.concatenate([pcat, ecat])
            pfit = np.concatenate([pfit, efit.astype(np.int8)])
    dem = _lookup(ix.demand_csr, np.full(len(partner), b, dtype=np.int64), pcat) - 1
    keep = (partner != b) & ~_existing(ix, b, "suppliers", partner, pcat)
    pairs = CandidatePairs(partner[keep], pcat[keep], pfit[keep], dem[keep])
    qty = None
    if prod is not None:
        volume = proj.product_rows[prod].get("annual_volume")
        if volume:
            per_unit = np.asarray(ix.closure[prod].toarray()).ravel()
            qty = np.where(pairs.cat >= 0, per_unit[np.maximum(pairs.cat, 0)] * volume, np.nan)
    buy = np.full(len(pairs.partner), b, dtype=np.int64)
    _score(proj, ix, pairs, pairs.partner, buy, b, z, filters, prof, "suppliers", qty, k=k)
    return pairs


def _reached_only(z: np.ndarray, partner: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Companies the CF path reaches that are neither candidates yet nor current partners."""
    mark = z > 0
    mark[partner] = False
    mark[current] = False
    return np.flatnonzero(mark)


def _existing(ix: MatchIndex, me: int, direction: Direction, partner: np.ndarray,
              cat: np.ndarray) -> np.ndarray:
    """True where (me, partner, cat) is an existing link; only current partners are looked up."""
    m = ix.A if direction == "buyers" else ix.AT
    current = np.zeros(ix.n, dtype=bool)
    current[m.indices[m.indptr[me]:m.indptr[me + 1]]] = True
    out = np.zeros(len(partner), dtype=bool)
    check = np.flatnonzero(current[partner])
    if len(check):
        if direction == "buyers":
            out[check] = ix.existing(me, partner[check], cat[check])
        else:
            out[check] = ix.existing(partner[check], me, cat[check])
    return out


def _fit_matrix(proj: Projection, ix: MatchIndex, cats: np.ndarray) -> sp.csr_matrix:
    """company × len(cats): the fit code of each company as a supplier of each category."""
    n, m = ix.n, len(cats)
    if m == 0:
        return sp.csr_matrix((n, 0))
    d = ix.decl_csc[:, cats]
    declared = d.copy()
    declared.data = np.where(d.data == 2, _CODE["declared"], _CODE["supplied"]).astype(float)
    parts = [declared.tocsr()]
    rk = ix.related[cats]
    if rk.nnz:
        used = np.unique(rk.indices)
        holders = ix.decl_csc[:, used].copy()
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
    out = parts[0]
    for p in parts[1:]:
        out = out.maximum(p)
    return out.tocsr()


# --- factors ----------------------------------------------------------------------------


_STAGE1 = ("capability", "demand", "import", "cluster", "network", "relation")
_STAGE2 = ("capacity", "distance", "certs", "lead_time")


def _subset(pairs: CandidatePairs, keep: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    pairs.partner, pairs.cat, pairs.fit, pairs.dem = (
        pairs.partner[keep], pairs.cat[keep], pairs.fit[keep], pairs.dem[keep])
    return [a[keep] for a in arrays]


def _prune(partner: np.ndarray, partial: np.ndarray, slack: float, k: int, n: int
           ) -> np.ndarray | None:
    """Pairs that can still reach the top ``k`` partners (exact), or None to keep all.

    ``partial`` is the score without the stage-2 factors, which add between 0 and
    ``slack``; a pair whose ``partial + slack`` is below the k-th best partner's
    ``partial`` can be neither in the top k nor the best pair of a top-k partner.
    """
    if len(partner) <= 4 * k:
        return None
    best = np.full(n, -np.inf)
    np.maximum.at(best, partner, partial)
    reached = best[np.isfinite(best)]
    if len(reached) <= k:
        return None
    theta = np.partition(reached, len(reached) - k)[len(reached) - k]
    return partial + slack >= theta - 1e-12


def _score(proj: Projection, ix: MatchIndex, pairs: CandidatePairs, sup: np.ndarray,
           buy: np.ndarray, me: int, z: np.ndarray | None, filters: CheckedFilters,
           prof: WeightProfile, direction: Direction, qty_override: np.ndarray | None = None,
           k: int | None = None) -> None:
    """Fill ``pairs.values`` / ``total`` / ``raw`` and drop the pairs the filters reject.

    Stage 1 computes the factors that are plain gathers for every pair; with
    ``k`` and no filters, pairs that cannot reach the top ``k`` are dropped
    (:func:`_prune`, exact) before stage 2 computes the rest.
    """
    w = prof.vector()
    n = len(pairs.partner)
    has_dem = pairs.dem >= 0
    dem = np.maximum(pairs.dem, 0)
    flags = np.where(has_dem, ix.dem_flags[dem] if len(ix.dem_flags) else 0, 0)
    shared = np.asarray((ix.membership @ ix.membership[me].T).toarray()).ravel() > 0 \
        if ix.membership.nnz else np.zeros(ix.n, dtype=bool)
    m = ix.A if direction == "buyers" else ix.AT
    is_current = np.zeros(ix.n, dtype=bool)
    is_current[m.indices[m.indptr[me]:m.indptr[me + 1]]] = True
    zp = z[pairs.partner] if z is not None else np.zeros(n)
    zmax = zp.max() if n else 0.0

    v1 = np.zeros((n, len(FACTORS)))
    v1[:, _F["capability"]] = _FIT_VALUE[pairs.fit]
    n_sup = np.where(has_dem, ix.dem_suppliers[dem] if len(ix.dem_suppliers) else 0.0, 0.0)
    v1[:, _F["demand"]] = np.select(
        [(flags & NEED) > 0, (flags & SUPPLIED) > 0, (flags & IMPORT) > 0, flags > 0],
        [1.0, 1.0 - 0.3 * 0.5 ** np.maximum(n_sup - 1, 0), 0.75, 0.6], 0.0)
    v1[:, _F["import"]] = ((flags & IMPORT) > 0).astype(float)
    v1[:, _F["cluster"]] = shared[pairs.partner] if n else 0.0
    v1[:, _F["network"]] = zp / zmax if zmax > 0 else 0.0
    v1[:, _F["relation"]] = is_current[pairs.partner] if n else 0.0

    if k is not None and filters.empty and n:
        pairs.n_partners = int(np.count_nonzero(np.bincount(pairs.partner, minlength=ix.n)))
        slack = float(sum(w[_F[f]] for f in _STAGE2))
        keep = _prune(pairs.partner, v1 @ w, slack, k, ix.n)
        if keep is not None:
            v1, flags, zp, buy, sup = _subset(pairs, keep, v1, flags, zp, buy, sup)
            if qty_override is not None:
                qty_override = qty_override[keep]
            n = len(pairs.partner)
    cat = pairs.cat
    dem = np.maximum(pairs.dem, 0)
    qty = np.where(pairs.dem >= 0, ix.dem_qty[dem] if len(ix.dem_qty) else np.nan, np.nan)
    if qty_override is not None:
        qty = np.where(np.isfinite(qty_override), qty_override, qty)
    caprow = _lookup(proj.capability_matrix, sup, cat) - 1
    has_cap = caprow >= 0
    cr = np.maximum(caprow, 0)
    free = np.where(has_cap, proj.free_capacity[cr] if len(proj.free_capacity) else np.nan,
                    np.nan)
    lead = np.where(has_cap, proj.cap_lead_time[cr] if len(proj.cap_lead_time) else np.nan,
                    np.nan)
    dist = proj.distance_km(me, pairs.partner) if n else np.zeros(0)
    needrow = _lookup(ix.need_idx, buy, cat) - 1 if ix.need_idx.nnz else np.full(n, -1)
    has_need = needrow >= 0
    nr = np.maximum(needrow, 0)
    max_km = np.where(has_need, proj.need_max_distance[nr] if len(proj.need_max_distance)
                      else np.nan, np.nan)
    n_req = np.where(has_need, ix.need_n_certs[nr] if len(ix.need_n_certs) else 0.0, 0.0)
    held = np.zeros(n)
    with_certs = np.flatnonzero(n_req > 0)
    cv = ix.cert_valid(proj) if (len(with_certs) or filters.certs) else None
    if len(with_certs) and cv is not None:
        held[with_certs] = np.asarray(
            cv[sup[with_certs]].multiply(ix.need_cert[nr[with_certs]]).sum(axis=1)).ravel()

    v = v1
    v[:, _F["capacity"]] = capacity_value(free, qty)
    v[:, _F["distance"]] = distance_value(dist, max_km)
    v[:, _F["certs"]] = np.where(n_req > 0, held / np.maximum(n_req, 1), 1.0)
    v[:, _F["lead_time"]] = lead_time_value(lead)

    keep = np.ones(n, dtype=bool)
    if filters.max_distance_km is not None:
        keep &= np.isfinite(dist) & (dist <= filters.max_distance_km)
    if filters.region is not None:
        keep &= ix.region_code[pairs.partner] == filters.region
    if filters.same_cluster:
        keep &= shared[pairs.partner]
    if filters.cluster is not None:
        col = np.asarray(ix.membership[:, filters.cluster].toarray()).ravel() > 0
        keep &= col[pairs.partner]
    if filters.certs and cv is not None:
        has_all = np.asarray(cv[:, list(filters.certs)].sum(axis=1)).ravel() >= len(filters.certs)
        keep &= has_all[sup]
    if filters.min_free_capacity is not None:
        keep &= np.isfinite(free) & (free >= filters.min_free_capacity)

    raw = {"distance": dist, "capacity": free, "demand_qty": qty, "lead_time": lead,
           "certs": n_req, "network": zp, "flags": flags.astype(np.int64)}
    if not keep.all():
        pairs.partner, pairs.cat, pairs.fit, pairs.dem = (
            pairs.partner[keep], cat[keep], pairs.fit[keep], pairs.dem[keep])
        v = v[keep]
        raw = {key: val[keep] for key, val in raw.items()}
    pairs.values = v
    pairs.raw = raw
    pairs.total = v @ w


def best_per_partner(pairs: CandidatePairs) -> np.ndarray:
    """Index of the best pair of each partner (highest total, then lowest category)."""
    if len(pairs.partner) == 0:
        return np.zeros(0, dtype=np.int64)
    assert pairs.total is not None
    if len(np.unique(pairs.partner[:2])) == len(pairs.partner[:2]) and _unique(pairs.partner):
        return np.arange(len(pairs.partner))
    order = np.lexsort((pairs.cat, -pairs.total, pairs.partner))
    _, first = np.unique(pairs.partner[order], return_index=True)
    return order[first]


def _unique(values: np.ndarray) -> bool:
    marks = np.bincount(values)
    return bool(marks.max(initial=0) <= 1)


# --- result objects ----------------------------------------------------------------------


def _demand_source(flags: int) -> str:
    for bit, name in ((NEED, "need"), (SUPPLIED, "supplied"), (IMPORT, "import"), (1, "bom")):
        if flags & bit:
            return name
    return ""


def _cat_name(proj: Projection, c: int, lang: str = "ru") -> str:
    if c < 0:
        return "—"
    row = proj.category_rows[c]
    return str(row.get(f"name_{lang}") or row.get("name_ru") or row.get("code"))


def _result(proj: Projection, ix: MatchIndex, direction: Direction, me: int, pairs: CandidatePairs,
            k: int, prof: WeightProfile, filters: MatchFilters | dict[str, Any] | None,
            category: str | None, product: str | None) -> MatchResult:
    assert pairs.total is not None and pairs.values is not None and pairs.raw is not None
    best = best_per_partner(pairs)
    totals = pairs.total[best]
    partners = pairs.partner[best]
    top = np.argpartition(-totals, k - 1)[:k] if len(best) > k else np.arange(len(best))
    top = top[np.lexsort((partners[top], -totals[top]))]
    weights = prof.vector()
    top_mark = np.zeros(ix.n, dtype=bool)
    top_mark[partners[top]] = True
    in_top = np.flatnonzero(top_mark[pairs.partner])
    candidates = []
    for rank, t in enumerate(top, start=1):
        j = int(best[t])
        p = int(pairs.partner[j])
        same = in_top[pairs.partner[in_top] == p]
        same = same[np.lexsort((pairs.cat[same], -pairs.total[same]))]
        c = int(pairs.cat[j])
        fit = cast(FitKind, FIT_CODES[int(pairs.fit[j])])
        cat_label = _cat_name(proj, c)
        cat_en = _cat_name(proj, c, "en")
        factors = []
        for f, name in enumerate(FACTORS):
            value = float(pairs.values[j, f])
            raw, unit, extra = _raw_of(name, pairs.raw, j, value)
            ru, en = explain(name, value, raw, cat=cat_label, cat_en=cat_en, fit=fit,
                             demand_src=_demand_source(int(pairs.raw["flags"][j])), extra=extra)
            factors.append(FactorValue(
                name=name, value=round(value, 6), raw=None if raw is None or not np.isfinite(raw)
                else round(float(raw), 6), unit=unit, weight=float(weights[f]),
                contribution=round(float(weights[f] * value), 6), text_ru=ru, text_en=en))
        top_reasons = sorted((f for f in factors if f.contribution > 0),
                             key=lambda f: -f.contribution)[:3]
        dist = float(pairs.raw["distance"][j])
        candidates.append(MatchCandidate(
            rank=rank, company_id=proj.company_ids[p], company_name=proj.company_names[p],
            region=proj.company_regions[p],
            category=proj.category_codes[c] if c >= 0 else None,
            category_name=cat_label if c >= 0 else None,
            categories=list(dict.fromkeys(proj.category_codes[int(x)]
                                          for x in pairs.cat[same] if x >= 0)),
            fit=fit, related=fit == "related", inferred=fit == "inferred",
            score=round(float(pairs.total[j]), 6),
            distance_km=round(dist, 1) if np.isfinite(dist) else None,
            factors=factors, reasons_ru=[f.text_ru for f in top_reasons],
            reasons_en=[f.text_en for f in top_reasons]))
    if isinstance(filters, MatchFilters):
        shown = filters
    else:
        shown = MatchFilters.model_validate(filters or {})
    return MatchResult(direction=direction, company_id=proj.company_ids[me],
                       company_name=proj.company_names[me], category=category, product=product,
                       k=k, profile=prof.name, filters=shown,
                       n_candidates=pairs.n_partners or len(best),
                       revision=proj.revision, candidates=candidates)


def _raw_of(name: str, raw: dict[str, np.ndarray], j: int, value: float
            ) -> tuple[float | None, str | None, float | None]:
    """(raw value, unit, extra number for the sentence) of factor ``name`` for pair ``j``."""
    if name == "distance":
        return float(raw["distance"][j]), "km", None
    if name == "capacity":
        return float(raw["capacity"][j]), "per year", float(raw["demand_qty"][j])
    if name == "demand":
        return float(raw["demand_qty"][j]), "per year", float(raw["demand_qty"][j])
    if name == "lead_time":
        return float(raw["lead_time"][j]), "days", None
    if name == "certs":
        return float(raw["certs"][j]), "required", float(raw["certs"][j])
    if name == "network":
        return float(raw["network"][j]), None, None
    return value, None, None
