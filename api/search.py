"""Faceted company search over the projection: the dashboard's and the API's "find a company".

Facets: category (a code, its sub-tree included, or an OKPD2 prefix), OKVED2 code
(the class or finer, from the registries), process,
certificate, region, distance from a company or a town, role, cluster membership
and free capacity; free text over names and what a company can make (its
categories' Russian and English names and synonyms, its processes), with Russian
morphology (``отливки`` finds ``Отливки из серого чугуна``: both lemmatise to
``отливка``). Sorted by name without the legal form (``АО «Агросев»`` sorts
under А for Агросев, not under А for АО), or by distance; paged.

It lives in api/ because it joins ingest's text tools (lemmas) with the
projection of queries/; both may be imported from here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np

from coopgraph.graph.confidentiality import CENTRE, Viewer
from coopgraph.graph.errors import AccessDenied, InvalidQuery, NotFound
from coopgraph.ingest.categorize import lemmas
from coopgraph.queries.projection import Projection
from coopgraph.queries.registry import find_by_code

__all__ = ["CompanyHit", "SearchResult", "search_companies", "sort_name"]

Sort = Literal["name", "-name", "distance"]

_FORMS = re.compile(
    r"^\s*(?:(?:общество с ограниченной ответственностью|(?:публичное |непубличное |закрытое |"
    r"открытое )?акционерное общество|индивидуальный предприниматель|ооо|оао|зао|пао|нао|ао|ип|"
    r"фгуп|гуп|муп|нпп|нпо|ао нпп|llc|jsc|ojsc|cjsc|ltd)\b\.?\s*)+", re.IGNORECASE)
_QUOTES = re.compile(r"[«»\"'“”„]")


def sort_name(name: str) -> str:
    """The name as people sort it: without the legal form and quotes, case-folded.

    >>> sort_name('АО «Липецкий комбайновый завод»')
    'липецкий комбайновый завод'
    >>> sort_name('ООО "Ёлка"')
    'елка'
    """
    return _QUOTES.sub("", _FORMS.sub("", name)).strip().casefold().replace("ё", "е")


@dataclass(frozen=True)
class CompanyHit:
    """One company found, with why it matched (its matching categories)."""

    id: str
    name: str
    region: str | None
    municipality: str | None
    roles: list[str]
    clusters: list[str]
    categories: list[str]
    distance_km: float | None


@dataclass(frozen=True)
class SearchResult:
    total: int
    offset: int
    limit: int
    data: list[CompanyHit]
    facets: dict[str, dict[str, int]]


@dataclass
class _Index:
    words: list[frozenset[str]]  # per company: lemmas of its name, categories, processes
    sort_keys: list[str]
    declared: list[frozenset[int]]  # per company: categories it declares


def _index(proj: Projection) -> _Index:
    cached = proj.extra.get("company_search_index")
    if isinstance(cached, _Index):
        return cached
    cat_words: list[set[str]] = []
    for row in proj.category_rows:
        text = " ".join(str(row.get(k) or "") for k in ("name_ru", "name_en"))
        syn = row.get("synonyms") or []
        text += " " + " ".join(syn if isinstance(syn, list) else str(syn).split("|"))
        cat_words.append(set(lemmas(text)))
    proc_words = [set(lemmas(" ".join(str(r.get(k) or "") for k in ("name_ru", "name_en",
                                                                       "name"))))
                  for r in proj.process_rows]
    declared: list[set[int]] = [set() for _ in range(len(proj.company_ids))]
    for m, c in zip(proj.cap_company.tolist(), proj.cap_category.tolist(), strict=True):
        declared[m].add(c)
    cp = proj.company_process.tocsr()
    words = []
    for i, name in enumerate(proj.company_names):
        bag = set(lemmas(name))
        for c in declared[i]:
            bag |= cat_words[c]
        for p in cp.indices[cp.indptr[i]:cp.indptr[i + 1]].tolist():
            bag |= proc_words[p]
        words.append(frozenset(bag))
    index = _Index(words=words, sort_keys=[sort_name(n) for n in proj.company_names],
                   declared=[frozenset(d) for d in declared])
    proj.extra["company_search_index"] = index
    return index


def _subtree(proj: Projection, category: str) -> set[int]:
    """The category (a code, or an OKPD2 prefix) and everything under it."""
    roots = [proj.category_index[category]] if category in proj.category_index else [
        i for i, row in enumerate(proj.category_rows)
        if str(row.get("okpd2") or "").startswith(category)]
    if not roots:
        raise NotFound(f"no category with code or OKPD2 prefix {category!r}")
    out: set[int] = set()
    todo = list(roots)
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(proj.category_children[c])
    return out


def _origin(proj: Projection, near: str) -> int:
    """The company distances are measured from: ``near`` itself, or a town's central one.

    A town's centre is the company of that town nearest to the mean of their
    coordinates, so every distance comes from :meth:`Projection.distance_km` (the
    one haversine of the ranking).
    """
    if near in proj.company_index:
        i = proj.company_index[near]
        if math.isnan(float(proj.lat[i])):
            raise InvalidQuery(f"company {near!r} has no coordinates")
        return i
    town = near.casefold()
    rows = [i for i, m in enumerate(proj.company_municipalities)
            if m and m.casefold() == town and not math.isnan(float(proj.lat[i]))]
    if not rows:
        raise NotFound(f"no company or town {near!r} with coordinates")
    lat, lon = float(np.mean(proj.lat[rows])), float(np.mean(proj.lon[rows]))
    return min(rows, key=lambda i: ((float(proj.lat[i]) - lat) ** 2
                                    + (float(proj.lon[i]) - lon) ** 2, proj.company_ids[i]))


def search_companies(
    proj: Projection, *, text: str | None = None, category: str | None = None,
    process: str | None = None, cert: str | None = None, region: str | None = None,
    near: str | None = None, max_km: float | None = None, role: str | None = None,
    cluster: str | None = None, min_free_capacity: float | None = None,
    okved: str | None = None,
    sort: Sort = "name", offset: int = 0, limit: int = 50, viewer: Viewer = CENTRE,
) -> SearchResult:
    """Companies matching every facet given, sorted and paged.

    Raises
    ------
    NotFound
        an unknown category, process, certificate, cluster or place.
    InvalidQuery
        a distance without a place, sorting by distance without one, bad paging.
    AccessDenied
        a member filtering by free capacity (other companies' capacities are
        confidential: a filter would reveal them one threshold at a time).
    """
    if offset < 0 or not 1 <= limit <= 500:
        raise InvalidQuery("offset must be ≥ 0 and limit between 1 and 500")
    if max_km is not None and near is None:
        raise InvalidQuery("max_km needs near (a company id or a town)")
    if sort == "distance" and near is None:
        raise InvalidQuery("sort=distance needs near (a company id or a town)")
    if min_free_capacity is not None and not viewer.is_centre:
        raise AccessDenied("filtering by free capacity is for the cluster centre "
                           "(capacities are confidential)")
    ix = _index(proj)
    n = len(proj.company_ids)
    keep = np.ones(n, dtype=bool)
    matched: dict[int, set[int]] = {}
    if text:
        wanted = lemmas(text)
        if wanted:
            keep &= np.fromiter((all(w in ix.words[i] for w in wanted) for i in range(n)),
                                dtype=bool, count=n)
    cats: set[int] | None = None
    if category:
        cats = _subtree(proj, category)
        for i in range(n):
            hit = ix.declared[i] & cats
            if hit:
                matched[i] = set(hit)
            else:
                keep[i] = False
    if process:
        if process not in proj.process_index:
            raise NotFound(f"no process with code {process!r}")
        col = proj.company_process.tocsc()[:, proj.process_index[process]]
        keep &= np.asarray(col.toarray()).ravel() > 0
    if cert:
        keep &= np.fromiter((cert in held for held in proj.company_certs), dtype=bool, count=n)
    if region:
        keep &= np.fromiter((r == region for r in proj.company_regions), dtype=bool, count=n)
    if role:
        keep &= np.fromiter((role in r for r in proj.company_roles), dtype=bool, count=n)
    if cluster:
        keep &= np.isin(np.arange(n), proj.cluster(cluster))
    if okved:  # the class or finer, as `coopgraph codes` finds them (one rule)
        registered = {company for company, *_ in find_by_code(proj, okved).companies}
        keep &= np.fromiter((c in registered for c in proj.company_ids), dtype=bool, count=n)
    if min_free_capacity is not None:
        free = np.nan_to_num(proj.free_capacity)
        rows = np.flatnonzero(free >= min_free_capacity)
        if cats is not None:
            rows = rows[np.isin(proj.cap_category[rows], list(cats))]
        keep &= np.isin(np.arange(n), proj.cap_company[rows])
    dist: np.ndarray | None = None
    if near is not None:
        dist = proj.distance_km(_origin(proj, near), np.arange(n))
        if max_km is not None:
            keep &= np.nan_to_num(dist, nan=np.inf) <= max_km
    found = np.flatnonzero(keep).tolist()
    if sort == "distance" and dist is not None:
        found.sort(key=lambda i: (math.isnan(dist[i]), float(np.nan_to_num(dist[i])),
                                  ix.sort_keys[i]))
    else:
        found.sort(key=lambda i: (ix.sort_keys[i], proj.company_names[i], proj.company_ids[i]),
                   reverse=sort == "-name")
    facets = {
        "region": dict(Counter(proj.company_regions[i] or "" for i in found).most_common()),
        "role": dict(Counter(r for i in found for r in proj.company_roles[i]).most_common()),
        "cluster": dict(Counter(c for i in found for c in proj.company_clusters[i])
                        .most_common()),
    }
    page = found[offset:offset + limit]
    data = [CompanyHit(
        id=proj.company_ids[i], name=proj.company_names[i], region=proj.company_regions[i],
        municipality=proj.company_municipalities[i], roles=sorted(proj.company_roles[i]),
        clusters=sorted(proj.company_clusters[i]),
        categories=sorted(proj.category_codes[c] for c in matched.get(i, ())),
        distance_km=None if dist is None or math.isnan(dist[i]) else round(float(dist[i]), 1))
        for i in page]
    return SearchResult(total=len(found), offset=offset, limit=limit, data=data, facets=facets)
