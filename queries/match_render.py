"""A ranking's top ``k`` partners as result objects, with reasons, in Russian and English.

:func:`match_result` turns the scored :class:`~queries.match_pairs.CandidatePairs` of one
query (:mod:`queries.match`) into a :class:`~queries.results.MatchResult`: per partner
every factor's value, raw figure, weight, contribution and sentence, names rather than
ids. What the viewer may see is decided here, once per pair: a supplier's free capacity
and a buyer's demand are the confidential raw figures (:data:`_CONFIDENTIAL_RAW`), shown
to the centre and to their own company only (:func:`graph.confidentiality.can_see`);
a hidden figure is ``None`` and stays out of the sentences.
"""

from __future__ import annotations

import math
from typing import Any, Literal, cast

import numpy as np

from coopgraph.graph.confidentiality import CENTRE, MIN_OTHERS, Viewer, can_see
from coopgraph.queries.candidates import IMPORT, NEED, SUPPLIED, MatchIndex
from coopgraph.queries.factors import FACTORS, FIT_CODES, WeightProfile, explain
from coopgraph.queries.match_pairs import CandidatePairs, Direction, mark, top_pairs
from coopgraph.queries.network import QueryPaths
from coopgraph.queries.projection import Projection
from coopgraph.queries.registry import registry_evidence
from coopgraph.queries.results import (
    CandidateSource,
    FactorValue,
    FitKind,
    MatchCandidate,
    MatchFilters,
    MatchResult,
)

__all__ = ["match_result"]


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


# per factor (FACTORS order): the raw column, unit, and the ``extra`` column of its sentence;
# a raw column of None means the raw value is the factor's own value
_RAW_SPEC: tuple[tuple[str | None, str | None, str | None], ...] = tuple(
    {"distance": ("distance", "km", None),
     "capacity": ("capacity", "per year", "demand_qty"),
     "demand": ("demand_qty", "per year", "demand_qty"),
     "lead_time": ("lead_time", "days", None),
     "certs": ("certs", "required", "certs"),
     "network": ("network", None, None),
     "popularity": ("popularity", "partners", None)}.get(name, (None, None, None))
    for name in FACTORS)


# the raw columns that hold one side's confidential figure: the supplier's free
# capacity, the buyer's demand (its need, imports, purchases or product volume)
_CONFIDENTIAL_RAW: dict[str, Literal["supplier", "buyer"]] = {
    "capacity": "supplier", "demand_qty": "buyer"}


def _hidden_columns(viewer: Viewer, supplier_id: str, buyer_id: str) -> frozenset[str]:
    """The raw columns of one pair that ``viewer`` may not see."""
    if viewer.is_centre:
        return frozenset()
    owner = {"supplier": supplier_id, "buyer": buyer_id}
    return frozenset(col for col, side in _CONFIDENTIAL_RAW.items()
                     if not can_see(viewer, owner[side]))


def match_result(proj: Projection, ix: MatchIndex, direction: Direction, me: int,
                 pairs: CandidatePairs, k: int, prof: WeightProfile,
                 filters: MatchFilters | dict[str, Any] | None, category: str | None,
                 product: str | None, viewer: Viewer = CENTRE) -> MatchResult:
    """The top ``k`` partners as result objects (built unvalidated: the values are ours).

    The numbers of all ``k × FACTORS`` factor rows are gathered and rounded as
    whole arrays; only the sentences are made one by one. A raw figure the
    viewer may not see is ``None`` and stays out of the sentences.
    """
    assert pairs.total is not None and pairs.values is not None and pairs.raw is not None
    chosen = top_pairs(pairs, k) if len(pairs.partner) else np.zeros(0, dtype=np.int64)
    w = prof.vector()
    weights = w.tolist()
    values = pairs.values[chosen]
    raw_cols = {key: val[chosen] for key, val in pairs.raw.items()}
    raws = np.column_stack([raw_cols[col] if col is not None else values[:, f]
                            for f, (col, _, _) in enumerate(_RAW_SPEC)]) if len(chosen) \
        else np.zeros((0, len(FACTORS)))
    extras = {col: raw_cols[col].tolist() for _, _, col in _RAW_SPEC if col is not None}
    value_rows = values.tolist()
    raw_rows = raws.tolist()
    # Python's round, not np.round: numpy scales by 10⁶ first and so rounds some
    # values (0.9953125 = the demand of three suppliers) the other way
    shown_values = [[round(x, 6) for x in row] for row in value_rows]
    shown_raws = [[round(x, 6) if math.isfinite(x) else None for x in row] for row in raw_rows]
    shown_contrib = [[round(x, 6) for x in row] for row in (values * w).tolist()]
    flags = raw_cols["flags"].tolist() if "flags" in raw_cols else [0] * len(chosen)
    dist_rows = raw_cols["distance"].tolist()
    # every candidate category of each top partner, best pair first (for ``categories``)
    in_top = np.flatnonzero(mark(ix.n, pairs.partner[chosen])[pairs.partner])
    in_top = in_top[np.lexsort((pairs.cat[in_top], -pairs.total[in_top], pairs.partner[in_top]))]
    cats_of: dict[int, list[str]] = {}
    codes = proj.category_codes
    for p, c in zip(pairs.partner[in_top].tolist(), pairs.cat[in_top].tolist(), strict=True):
        if c >= 0:
            cats_of.setdefault(p, []).append(codes[c])
    candidates = []
    best_total = float(pairs.total[chosen[0]]) if len(chosen) else 0.0
    paths: QueryPaths | None = None  # built on the first network reason
    for i, j in enumerate(chosen.tolist()):
        p = int(pairs.partner[j])
        c = int(pairs.cat[j])
        fit = cast(FitKind, FIT_CODES[int(pairs.fit[j])])
        cat_label = _cat_name(proj, c)
        cat_en = _cat_name(proj, c, "en")
        src = _demand_source(int(flags[i]))
        vrow, rrow, srow, sraw, crow = (value_rows[i], raw_rows[i], shown_values[i],
                                        shown_raws[i], shown_contrib[i])
        me_id, partner_id = proj.company_ids[me], proj.company_ids[p]
        hidden = _hidden_columns(viewer, *((me_id, partner_id) if direction == "buyers"
                                           else (partner_id, me_id)))
        factors = []
        fallback = pairs.is_fallback is not None and bool(pairs.is_fallback[j])
        source: CandidateSource
        if fallback:
            # the result's note says why; the tier is in the score (fallback_scores)
            region = int(ix.region_code[me])
            tiers = prof.fallback_degree != "flat"
            source = "popular_in_category" if tiers and float(pairs.total[j]) >= -1.0 \
                else "popular_in_region" if tiers and region >= 0 and ix.region_code[p] == region \
                else "popular"
        elif direction == "buyers":
            source = "demand" if int(pairs.dem[j]) >= 0 else "network"
        else:
            source = "network" if fit == "network" else "demand"
        # a popularity filler is labelled by where it came from, not "network" (code 0: no
        # capability); its capability sentence says so unless a real fit stands behind it
        shown_fit = cast(FitKind, source) if fallback else fit
        fit_text = source if fallback and fit == "network" else fit
        for f, name in enumerate(FACTORS):
            raw_col, unit, extra_col = _RAW_SPEC[f]
            raw, shown_raw = rrow[f], sraw[f]
            extra = None if extra_col is None else extras[extra_col][i]
            if raw_col in hidden:
                raw, shown_raw = math.nan, None
            if extra_col in hidden:
                extra = None
            named: dict[str, Any] = {}
            if name == "capability" and fit in ("registry_main", "registry_extra"):
                named = {"okved": registry_evidence(
                    proj, me if direction == "buyers" else p, c)}
            if name == "network" and vrow[f] > 0:
                if paths is None:
                    paths = QueryPaths(ix, me, direction)
                named = _network_names(proj, paths, p, prof, viewer)
            if name == "popularity" and fallback:
                # a fallback partner stands for its trade as a whole, not in the category
                ru, en = explain(name, vrow[f], raw, cat="—")
                factors.append(FactorValue.model_construct(**{
                    "name": name, "value": srow[f], "raw": shown_raw,
                    "unit": unit, "weight": weights[f], "contribution": crow[f],
                    "text_ru": ru, "text_en": en}))
                continue
            ru, en = explain(name, vrow[f], raw, cat=cat_label, cat_en=cat_en, fit=fit_text,
                             demand_src=src, extra=extra,
                             qualitative=name == "capacity" and not viewer.is_centre,
                             direction=direction, **named)
            factors.append(FactorValue.model_construct(**{
                "name": name, "value": srow[f], "raw": shown_raw,
                "unit": unit, "weight": weights[f], "contribution": crow[f],
                "text_ru": ru, "text_en": en}))
        top_reasons = sorted((f for f in factors if f.contribution > 0),
                             key=lambda f: -f.contribution)[:3]
        reasons_ru = [f.text_ru for f in top_reasons]
        reasons_en = [f.text_en for f in top_reasons]
        dist = dist_rows[i]
        candidates.append(MatchCandidate.model_construct(**cast(dict[str, Any], {
            "rank": i + 1, "company_id": proj.company_ids[p],
            "company_name": proj.company_names[p], "region": proj.company_regions[p],
            "category": codes[c] if c >= 0 else None,
            "category_name": cat_label if c >= 0 else None,
            "categories": list(dict.fromkeys(cats_of.get(p, ()))),
            "fit": shown_fit, "related": fit == "related", "inferred": fit == "inferred",
            "score": round(float(pairs.total[j]), 6),
            "relative_score": round(100.0 * float(pairs.total[j]) / best_total, 1)
            if best_total > 0 and pairs.total[j] >= 0 else 0.0,
            "source": source,
            "distance_km": round(dist, 1) if math.isfinite(dist) else None,
            "factors": factors, "reasons_ru": reasons_ru, "reasons_en": reasons_en})))
    if isinstance(filters, MatchFilters):
        shown_filters = filters
    else:
        shown_filters = MatchFilters.model_validate(filters or {})
    return MatchResult.model_construct(
        direction=direction, company_id=proj.company_ids[me],
        company_name=proj.company_names[me], category=category, product=product,
        k=k, profile=prof.name, filters=shown_filters,
        n_candidates=pairs.n_partners if pairs.n_partners is not None
        else len(np.unique(pairs.partner)),
        revision=proj.revision, candidates=candidates,
        note_ru=pairs.note[0] if pairs.note else None,
        note_en=pairs.note[1] if pairs.note else None)


def _network_names(proj: Projection, paths: QueryPaths, partner: int, prof: WeightProfile,
                   viewer: Viewer) -> dict[str, Any]:
    """The company names behind a network signal, as far as ``viewer`` may see them.

    The cluster centre reads up to three peers (same-side companies that share
    partners with ``me`` and already deal with ``partner``) and the shared
    partners. A member may not see other companies' supply links, so it reads
    no peer names; its own partners behind the signal are named only when at
    least :data:`~graph.confidentiality.MIN_OTHERS` peers stand behind it (an
    aggregate, not one company's link).
    """
    peers, shared, n_peers = paths.behind(partner, norm=prof.network_norm)
    names = proj.company_names
    if viewer.is_centre:
        return {"peers": [names[i] for i in peers], "shared": [names[i] for i in shared]}
    if n_peers >= MIN_OTHERS:
        return {"shared": [names[i] for i in shared]}
    return {}
