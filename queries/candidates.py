"""The matching index: per-projection arrays from which a query's candidates are sliced.

Built once per projection (:func:`match_index`, kept in ``projection.extra``) so
that a query is a handful of sparse row/column slices:

* ``decl`` — company × category: 2 where a capability is declared, 1 where the
  company only *supplies* the category today (evidence it can make it);
* ``related`` — category × category: parent, children and siblings;
* ``cat_proc`` — category × process, and ``n_proc`` — how many processes each
  category needs (a company holding them all has an *inferred* capability);
* the demand table — one row per (buyer, category) the buyer wants, sorted by
  buyer then category (``dem_keys``, ``buyer_dem_indptr``) and grouped by
  category (``cat_dem_indptr``/``cat_dem_rows``), with bit flags for the
  evidence (``BOM`` of a product it makes, expanded through ``category_bom``
  at every level, or the direct BOM inputs of a category it makes itself; an
  explicit ``NEED``; an ``IMPORT``; buying it today, ``SUPPLIED``), the largest
  known yearly quantity, and per row the ``demand``, ``import`` and
  ``popularity`` factor values, so that a query gathers them by row number;
* sales per (supplier, category) (``sell``) and the supplier's popularity there;
* the existing supply triples as sorted ``(supplier, buyer, category)`` keys;
* needs, their required certifications, cluster membership, regions.

:func:`check_filters` turns a :class:`~queries.results.MatchFilters` into
checked values (or :class:`~graph.errors.InvalidQuery`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.regions import canonical_region
from coopgraph.queries.projection import PATCHABLE_MARK, Projection
from coopgraph.queries.results import MatchFilters
from coopgraph.queries.sparse_rows import row_numbers, row_ranges

__all__ = [
    "BOM",
    "CARRIED_CACHE",
    "CARRY_DRIFT",
    "DEFERRED_FIELDS",
    "IMPORT",
    "INDEX_PARTS",
    "NEED",
    "PART_FIELDS",
    "SUPPLIED",
    "CheckedFilters",
    "Deferred",
    "MatchIndex",
    "bom_closure",
    "build_index",
    "carry_cache",
    "changed_pairs",
    "check_filters",
    "demand_table",
    "demand_value",
    "float_csc",
    "log_share",
    "match_index",
    "need_rows",
    "positions_in",
    "row_argmax",
    "since_days",
    "table_rows",
    "to_csc",
    "with_sentinel",
]

BOM, NEED, IMPORT, SUPPLIED = 1, 2, 4, 8
_MAX_BOM_LEVELS = 64  # a deeper (or cyclic) BOM is cut here; chains report the cycle


class Deferred:
    """A :class:`MatchIndex` field computed on first read: ``make(*args)`` (a module-level
    function, so that the index pickles with the field still deferred)."""

    __slots__ = ("args", "make")

    def __init__(self, make: Callable[..., Any], *args: Any) -> None:
        self.make, self.args = make, args


def to_csc(m: sp.spmatrix) -> sp.csc_matrix:
    return m.tocsc()


def float_csc(m: sp.spmatrix) -> sp.csc_matrix:
    return m.astype(np.float64).tocsc()


#: the column-major copies no ranking of buyers reads (the rankings of suppliers and the
#: cluster filter do): built on first read, so that a write patching or renumbering the
#: row-major matrix does not redo them while nobody reads them
DEFERRED_FIELDS = ("decl_csc", "company_process_csc", "membership_csc")


@dataclass(eq=False)
class MatchIndex:
    """Everything a match query slices (see the module docstring).

    Per-demand-pair arrays (``dem_*``) have one extra last element, a neutral
    sentinel, so that ``dem = -1`` (a pair with no known demand) gathers
    "nothing known" without a branch.
    """

    n: int
    ncat: int
    decl: sp.csr_matrix  # 2 declared, 1 supplied today
    decl_csc: sp.csc_matrix
    related: sp.csr_matrix
    related_dense: np.ndarray  # ncat × ncat bool
    cat_proc: sp.csr_matrix
    cat_proc_dense: np.ndarray  # ncat × nproc, 1.0 where the category needs the process
    n_proc: np.ndarray
    cat_root: np.ndarray  # per category: its top-level ancestor (itself for a root)
    company_process_csc: sp.csc_matrix
    # the demand table: one row per (buyer, category), sorted by buyer then category
    dem_keys: np.ndarray  # buyer * ncat + category, sorted
    dem_buyer: np.ndarray
    dem_cat: np.ndarray
    buyer_dem_indptr: np.ndarray  # buyer b's demand rows are indptr[b]:indptr[b+1]
    cat_dem_indptr: np.ndarray  # category c's demand rows are cat_dem_rows[indptr[c]:...]
    cat_dem_rows: np.ndarray
    dem_flags: np.ndarray  # + sentinel
    dem_qty: np.ndarray  # + sentinel (NaN)
    dem_suppliers: np.ndarray  # + sentinel: suppliers selling it to the buyer today
    dem_value: np.ndarray  # + sentinel: the ``demand`` factor's value
    dem_import: np.ndarray  # + sentinel: 1.0 where the buyer imports the category
    dem_pop: np.ndarray  # + sentinel: the buyer's ``popularity`` in the category
    dem_need: np.ndarray  # + sentinel: the need row, -1 where none
    closure: sp.csr_matrix  # product × category, qty per unit through every BOM level
    supply_keys: np.ndarray  # sorted (s * n + b) * ncat + c of existing links
    # sales per (supplier, category) today
    sell: sp.csr_matrix  # supplier × category, number of buyers
    sell_keys: np.ndarray  # sorted s * ncat + c
    sell_pop: np.ndarray  # aligned with sell_keys: the supplier's popularity in c
    cap_keys: np.ndarray  # sorted s * ncat + c of capabilities
    cap_rows: np.ndarray  # aligned: the capability row
    A: sp.csr_matrix  # supplier × buyer, 1 where any link
    AT: sp.csr_matrix  # buyer × supplier
    A_age: np.ndarray  # aligned with A.data: days from the pair's latest ``since`` to the newest
    A_newest: float  # the newest ``since`` of any link (day number), NaN when none
    out_deg: np.ndarray
    in_deg: np.ndarray
    main_category: np.ndarray  # per company: its most supplied (else declared) category, -1
    need_cert: sp.csr_matrix  # need row × cert
    need_cert_dense: np.ndarray  # the same, dense bool, + a sentinel row (for need row -1)
    need_n_certs: np.ndarray  # + sentinel 0
    need_max_km: np.ndarray  # + sentinel NaN
    cert_codes: list[str]
    cert_index: dict[str, int]
    membership: sp.csr_matrix  # company × cluster
    membership_csc: sp.csc_matrix
    cluster_ids: list[str]
    region_code: np.ndarray  # per company, index into region_names or -1
    region_names: dict[str, int]
    _cert_valid: dict[str, Any] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)  # per-profile orders (queries.match)

    def __post_init__(self) -> None:
        # a field given as Deferred is held aside; its first read computes it (__getattr__)
        deferred = {name: value for name in DEFERRED_FIELDS
                    if isinstance(value := self.__dict__.get(name), Deferred)}
        for name in deferred:
            del self.__dict__[name]
        self.__dict__["_deferred"] = deferred

    if not TYPE_CHECKING:  # (hidden from mypy: it would type every unknown name as Any)
        def __getattr__(self, name: str) -> Any:  # only for attributes not set: deferred
            deferred = self.__dict__.get("_deferred")
            if deferred is None or name not in deferred:
                raise AttributeError(name)
            made = deferred[name]
            value = made.make(*made.args)  # racing readers compute the same value
            self.__dict__[name] = value
            return value

    def raw(self, name: str) -> Any:
        """Field ``name`` as held: its value, or its :class:`Deferred` if not read yet."""
        if name in self.__dict__:
            return self.__dict__[name]
        return self.__dict__["_deferred"][name]

    def computed(self, name: str) -> bool:
        """Whether field ``name`` holds its value (a deferred field read at least once)."""
        return name in self.__dict__

    def cert_valid(self, proj: Projection, as_of: dt.date | None = None) -> sp.csr_matrix:
        """company × cert: 1 where held and not expired on ``as_of`` (default today)."""
        day = (as_of or dt.date.today()).isoformat()
        cached = self._cert_valid.get(day)
        if cached is not None:
            return cached
        rows: list[int] = []
        cols: list[int] = []
        for i, certs in enumerate(proj.company_certs):
            for code, until in certs.items():
                if code in self.cert_index and (until is None or str(until)[:10] >= day):
                    rows.append(i)
                    cols.append(self.cert_index[code])
        m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                          shape=(self.n, len(self.cert_codes)))
        self._cert_valid[day] = m
        return m

    def cert_valid_dense(self, proj: Projection, as_of: dt.date | None = None) -> np.ndarray:
        """:meth:`cert_valid` as a dense bool array (companies × a handful of certificates)."""
        day = (as_of or dt.date.today()).isoformat()
        key = "dense:" + day
        cached = self._cert_valid.get(key)
        if cached is None:
            cached = self.cert_valid(proj, as_of).toarray() > 0
            self._cert_valid[key] = cached
        return np.asarray(cached, dtype=bool)

    def existing(self, s: np.ndarray | int, b: np.ndarray | int, c: np.ndarray) -> np.ndarray:
        """True where ``(s, b, c)`` is an existing supply link (vectorised)."""
        key = (np.asarray(s, dtype=np.int64) * self.n + np.asarray(b, dtype=np.int64)) \
            * self.ncat + np.asarray(c, dtype=np.int64)
        return positions_in(self.supply_keys, key) >= 0

    def demand_row(self, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The demand row of each ``(b[i], c[i])``, -1 where the buyer has no such demand."""
        key = np.asarray(b, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        return np.where(np.asarray(c) >= 0, positions_in(self.dem_keys, key), -1)

    def capability_row(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The capability row of each ``(s[i], c[i])``, -1 where none is declared."""
        key = np.asarray(s, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        pos = positions_in(self.cap_keys, key)
        return np.where((pos >= 0) & (np.asarray(c) >= 0),
                        self.cap_rows[np.maximum(pos, 0)] if len(self.cap_rows) else -1, -1)

    def supplier_sales(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """How many buyers supplier ``s[i]`` sells category ``c[i]`` to today."""
        key = np.asarray(s, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        pos = positions_in(self.sell_keys, key)
        return np.where(pos >= 0, self.sell.data[np.maximum(pos, 0)] if self.sell.nnz else 0.0,
                        0.0)

    def supplier_popularity(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The ``popularity`` of supplier ``s[i]`` in category ``c[i]`` (0 where it sells none)."""
        key = np.asarray(s, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        pos = positions_in(self.sell_keys, key)
        return np.where(pos >= 0, self.sell_pop[np.maximum(pos, 0)] if len(self.sell_pop)
                        else 0.0, 0.0)


def positions_in(sorted_keys: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Position of each ``key`` in ``sorted_keys``, -1 where absent."""
    key = np.asarray(key, dtype=np.int64)
    if len(sorted_keys) == 0:
        return np.full(np.shape(key), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, key), len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == key, pos, -1)


def match_index(proj: Projection) -> MatchIndex:
    """The projection's :class:`MatchIndex`, built on first use and kept in ``proj.extra``."""
    found = proj.extra.get("match_index")
    if found is None:
        found = build_index(proj)
        before = proj.extra.pop("previous_match_index", None)
        if isinstance(before, MatchIndex):
            # a rebuild from the store after writes (queries.projection): keep the tuned walk
            # if the network changed little (pairs counted from the link totals)
            carry_cache(before, found, abs(found.A.nnz - before.A.nnz) + abs(found.n - before.n))
        proj.extra["match_index"] = found
    return found


# --- construction --------------------------------------------------------------------


def bom_closure(proj: Projection) -> sp.csr_matrix:
    """product × category: quantity per product unit summed over every BOM level."""
    ncat = proj.n_categories
    pr, pc, pq = [], [], []
    for p, lines in enumerate(proj.product_bom):
        for c, q in lines:
            pr.append(p)
            pc.append(c)
            pq.append(q)
    direct = sp.csr_matrix((pq, (pr, pc)), shape=(len(proj.product_ids), ncat))
    step = _category_step(proj)
    total = direct.copy()
    term = direct
    for _ in range(_MAX_BOM_LEVELS):
        if term.nnz == 0 or step.nnz == 0:
            break
        term = term @ step
        total = total + term
    total.sum_duplicates()
    return total.tocsr()


def _category_step(proj: Projection) -> sp.csr_matrix:
    """category × category: qty of the child per unit of the parent (one BOM level)."""
    ncat = proj.n_categories
    cr, cc, cq = [], [], []
    for c0, lines in enumerate(proj.category_bom):
        for c, q in lines:
            cr.append(c0)
            cc.append(c)
            cq.append(q)
    step = sp.csr_matrix((cq, (cr, cc)), shape=(ncat, ncat))
    step.sum_duplicates()
    return step


def _pairs_table(ncat: int, rows: np.ndarray, cols: np.ndarray, bits: np.ndarray,
                 qty: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique sorted keys ``row * ncat + col`` with OR-ed flags and the largest quantity."""
    key = rows.astype(np.int64) * ncat + cols.astype(np.int64)
    if len(key) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    flags = np.bitwise_or.reduceat(bits[order], starts).astype(np.int8)
    q = np.fmax.reduceat(qty[order], starts)
    q = np.where(q > 0, q, np.nan)
    return key[starts], flags, q


def row_argmax(m: sp.csr_matrix) -> np.ndarray:
    """Per row: the column of the largest value (lowest column on ties), -1 for empty rows."""
    m = m.tocsr()
    m.sum_duplicates()
    out = np.full(m.shape[0], -1, dtype=np.int32)
    if m.nnz == 0:
        return out
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, rows))
    first = np.flatnonzero(np.r_[True, rows[order][1:] != rows[order][:-1]])
    out[rows[order][first]] = m.indices[order][first]
    return out


def log_share(count: np.ndarray, group: np.ndarray, ngroups: int) -> np.ndarray:
    """log(1 + count) / log(1 + the largest count in the same group): 0..1."""
    top = np.zeros(ngroups)
    if len(count):
        np.maximum.at(top, group, count)
    denom = np.log1p(top[group]) if len(count) else np.zeros(0)
    return np.divide(np.log1p(count), denom, out=np.zeros(len(count)), where=denom > 0)


def since_days(values: list[Any]) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of ``since`` values; NaN where missing or bad."""
    text = [str(v)[:10] if v else "NaT" for v in values]
    try:
        days = np.array(text, dtype="datetime64[D]")
    except ValueError:
        days = np.array([_one_day(t) for t in text], dtype="datetime64[D]")
    out = days.astype(np.int64).astype(float)
    out[np.isnat(days)] = np.nan
    return out


def _one_day(text: str) -> np.datetime64:
    try:
        return np.datetime64(text, "D")
    except ValueError:
        return np.datetime64("NaT")


def _pair_age(proj: Projection, a: sp.csr_matrix) -> tuple[np.ndarray, float]:
    """Per stored entry of ``a`` (sorted CSR): days from the pair's latest ``since`` to the newest
    ``since`` of any link, NaN where the pair has no date; and that newest day (NaN: none)."""
    out = np.full(a.nnz, np.nan)
    if a.nnz == 0 or not any(proj.sup_since):
        return out, float("nan")
    day = since_days(proj.sup_since)
    known = np.isfinite(day)
    if not known.any():
        return out, float("nan")
    key = proj.sup_supplier.astype(np.int64)[known] * a.shape[1] + proj.sup_buyer[known]
    order = np.argsort(key, kind="stable")
    key, d = key[order], day[known][order]
    heads = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    latest = np.maximum.reduceat(d, heads)
    rows = np.repeat(np.arange(a.shape[0], dtype=np.int64), np.diff(a.indptr))
    pos = positions_in(key[heads], rows * a.shape[1] + a.indices)
    found = pos >= 0
    newest = float(np.nanmax(day))
    out[found] = newest - latest[pos[found]]
    return out, newest


def demand_value(flags: np.ndarray, n_sup: np.ndarray) -> np.ndarray:
    """The ``demand`` factor per demand pair (see :mod:`queries.factors`)."""
    return np.select(
        [(flags & NEED) > 0, (flags & SUPPLIED) > 0, (flags & IMPORT) > 0, flags > 0],
        [1.0, 1.0 - 0.3 * 0.5 ** np.maximum(n_sup - 1, 0), 0.75, 0.6], 0.0)


# --- construction by parts (patched by queries.index_patch) ------------------------------
#
# The index is made of parts; each reads a few fields of the projection (and maybe
# other parts) and gives some of MatchIndex's fields. A projection patched from the
# change log (queries.projection_delta) shares or equals most fields of the old one,
# so ``patch_match_index`` rebuilds only the parts whose inputs changed and takes the
# rest from the old index: a capacity, a price or a company's name changes no part,
# a new supply link the decl, demand and network parts.


def _decl_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    """Capabilities: declared (2) and supplied today (1); sales per (supplier, category)."""
    n, ncat = proj.n_companies, proj.n_categories
    capbin = sp.csr_matrix((np.full(len(proj.cap_company), 2.0),
                            (proj.cap_company, proj.cap_category)), shape=(n, ncat))
    capbin.data[:] = 2.0
    supcat = sp.csr_matrix((np.ones(len(proj.sup_supplier)),
                            (proj.sup_supplier, proj.sup_category)), shape=(n, ncat))
    supcat.sum_duplicates()
    supbin = supcat.copy()
    supbin.data[:] = 1.0
    decl = capbin.maximum(supbin).tocsr()
    decl.data = decl.data.astype(np.int8)
    sell_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(supcat.indptr))
    return dict(decl=decl, decl_csc=Deferred(to_csc, decl),
                main_category=row_argmax(supcat * 2.0 + capbin * 0.5),
                sell=supcat, sell_keys=sell_rows * ncat + supcat.indices,
                sell_pop=log_share(supcat.data, supcat.indices, ncat))


def _taxonomy_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    """Taxonomy relatives and the processes each category needs."""
    ncat, nproc = proj.n_categories, len(proj.process_codes)
    child = np.flatnonzero(proj.category_parent >= 0)
    par = sp.csr_matrix((np.ones(len(child)), (child, proj.category_parent[child])),
                        shape=(ncat, ncat))
    related = (par + par.T + par @ par.T).tocsr()
    related.setdiag(0)
    related.eliminate_zeros()
    related.data[:] = 1.0
    cp_rows = np.repeat(np.arange(ncat), [len(p) for p in proj.category_processes])
    cp_cols = (np.concatenate(proj.category_processes) if ncat else np.zeros(0)).astype(np.int64)
    cat_proc = sp.csr_matrix((np.ones(len(cp_rows)), (cp_rows, cp_cols)), shape=(ncat, nproc))
    cat_proc.data[:] = 1.0
    # each category's top-level ancestor (its taxonomy branch; itself for a root)
    root = np.arange(ncat, dtype=np.int64)
    parent = proj.category_parent.astype(np.int64)
    for _ in range(32):  # deeper taxonomies than this do not exist (cycles are cut)
        up = parent[root]
        step = up >= 0
        if not step.any():
            break
        root = np.where(step, up, root)
    return dict(related=related, related_dense=related.toarray() > 0, cat_proc=cat_proc,
                cat_proc_dense=cat_proc.toarray(),
                n_proc=np.diff(cat_proc.indptr).astype(np.int64), cat_root=root)


def _process_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    return dict(company_process_csc=Deferred(float_csc, proj.company_process))


def _closure_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    return dict(closure=bom_closure(proj))


#: up to this many buyers, a row-wise patch finds their links by a comparison per buyer
_FEW_BUYERS = 4


def demand_table(proj: Projection, closure: sp.csr_matrix, decl: sp.csr_matrix,
                  buyers: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The demand pairs ``(keys, flags, quantities, suppliers today)`` in key order, of every
    buyer or only of ``buyers`` (ascending; what a row-wise patch recomputes)."""
    n, ncat = proj.n_companies, proj.n_categories
    mine = None
    if buyers is not None:
        mine = np.zeros(n, dtype=bool)
        mine[buyers] = True

    def of(companies: np.ndarray) -> np.ndarray:  # the entries whose buyer is wanted
        return np.ones(len(companies), dtype=bool) if mine is None \
            else mine[companies]  # an integer index of any width: no cast of the column

    makers = np.flatnonzero(proj.product_maker >= 0)
    makers = makers[of(proj.product_maker[makers])]
    volume = np.array([proj.product_rows[p].get("annual_volume") or 0.0
                       for p in makers.tolist()], dtype=float)
    # one matrix row per buyer wanted (all companies, or ``buyers``: their rows in order)
    maker_row = proj.product_maker[makers] if buyers is None \
        else np.searchsorted(buyers, proj.product_maker[makers])
    shape = (n if buyers is None else len(buyers), len(proj.product_ids))
    if buyers is not None:  # only the rows of the buyers' products: no copy of the closure
        closure = closure[makers]
        shape, makers = (len(buyers), len(makers)), np.arange(len(makers))
    maker_bin = sp.csr_matrix((np.ones(len(makers)), (maker_row, makers)), shape=shape)
    maker_vol = sp.csr_matrix((volume, (maker_row, makers)), shape=shape)
    closure_bin = closure.copy()
    closure_bin.data[:] = 1.0
    bom_bin = (maker_bin @ closure_bin).tocoo()
    bom_qty = np.asarray((maker_vol @ closure).tocsr()[bom_bin.row, bom_bin.col]).ravel() \
        if bom_bin.nnz else np.zeros(0)
    bom_row = bom_bin.row if buyers is None \
        else np.asarray(buyers, dtype=np.int64)[bom_bin.row]
    # a maker of an assembly category needs its components (one BOM level down)
    step = _category_step(proj)
    step.data[:] = 1.0
    if mine is None:
        makes = decl.astype(np.float64)
        makes.data[:] = 1.0
        inputs = (makes @ step).tocoo()
        in_row = inputs.row
    else:
        assert buyers is not None
        makes = decl[buyers].astype(np.float64)
        makes.data[:] = 1.0
        inputs = (makes @ step).tocoo()
        in_row = np.asarray(buyers, dtype=np.int64)[inputs.row]
    if buyers is None:
        need, imp = of(proj.need_company), of(proj.imp_company)
    else:  # the rows of the buyers (searched where the table is in key order)
        need = table_rows(proj, proj.need_company, buyers)
        imp = table_rows(proj, proj.imp_company, buyers)
    if buyers is not None and len(buyers) <= _FEW_BUYERS:  # a comparison per buyer, cheaper
        sup = proj.sup_buyer == proj.sup_buyer.dtype.type(buyers[0]) if len(buyers) \
            else np.zeros(len(proj.sup_buyer), dtype=bool)  # than a gather over the column
        for b in buyers[1:].tolist():
            sup |= proj.sup_buyer == proj.sup_buyer.dtype.type(b)
    else:
        sup = of(proj.sup_buyer)
    parts = [
        (bom_row, bom_bin.col, BOM, bom_qty),
        (in_row, inputs.col, BOM, np.full(inputs.nnz, np.nan)),
        (proj.need_company[need], proj.need_category[need], NEED, proj.need_qty[need]),
        (proj.imp_company[imp], proj.imp_category[imp], IMPORT, proj.imp_volume[imp]),
        (proj.sup_buyer[sup], proj.sup_category[sup], SUPPLIED, proj.sup_volume[sup]),
    ]
    rows = np.concatenate([np.asarray(p[0], dtype=np.int64) for p in parts])
    cols = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    bits = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
    qty = np.concatenate([np.asarray(p[3], dtype=float) for p in parts])
    dkeys, flags, dqty = _pairs_table(ncat, rows, cols, bits, qty)
    # how many suppliers sell each (buyer, category) today: a popular purchase is a likely one
    skeys, scount = np.unique(proj.sup_buyer[sup].astype(np.int64) * ncat
                              + proj.sup_category[sup], return_counts=True)
    n_sup = np.zeros(len(dkeys))
    pos = positions_in(skeys, dkeys)
    n_sup[pos >= 0] = scount[pos[pos >= 0]]
    return dkeys, flags, dqty, n_sup


def need_rows(proj: Projection, dkeys: np.ndarray) -> np.ndarray:
    """Per demand key: the need row of the same (buyer, category), -1 where none."""
    need_keys = proj.need_company.astype(np.int64) * proj.n_categories + proj.need_category
    dem_need = np.full(len(dkeys), -1, dtype=np.int64)
    if len(need_keys):
        order = np.argsort(need_keys, kind="stable")
        pos = positions_in(need_keys[order], dkeys)
        dem_need[pos >= 0] = order[pos[pos >= 0]]
    return dem_need


def _category_groups(dem_cat: np.ndarray, ncat: int) -> tuple[np.ndarray, np.ndarray]:
    """``(cat_dem_indptr, cat_dem_rows)``: the demand rows grouped by category, stable."""
    small = dem_cat.astype(np.int16) if ncat < 2**15 else dem_cat  # a radix sort
    cat_rows = np.argsort(small, kind="stable").astype(np.int64)
    cat_indptr = np.zeros(ncat + 1, dtype=np.int64)
    np.cumsum(np.bincount(dem_cat, minlength=ncat), out=cat_indptr[1:])
    return cat_indptr, cat_rows


def _demand_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    """The demand table (see the module docstring), from the BOM closure and ``decl``."""
    n, ncat = proj.n_companies, proj.n_categories
    dkeys, flags, dqty, n_sup = demand_table(proj, got["closure"], got["decl"])
    dem_buyer = (dkeys // max(ncat, 1)).astype(np.int32)
    dem_cat = (dkeys % max(ncat, 1)).astype(np.int32)
    cat_indptr, cat_rows = _category_groups(dem_cat, ncat)
    buyer_indptr = np.searchsorted(dem_buyer, np.arange(n + 1)).astype(np.int64)
    return dict(
        dem_keys=dkeys, dem_buyer=dem_buyer, dem_cat=dem_cat, buyer_dem_indptr=buyer_indptr,
        cat_dem_indptr=cat_indptr, cat_dem_rows=cat_rows,
        dem_flags=with_sentinel(flags, 0).astype(np.int8), dem_qty=with_sentinel(dqty, np.nan),
        dem_suppliers=with_sentinel(n_sup, 0.0),
        dem_value=with_sentinel(demand_value(flags, n_sup), 0.0),
        dem_import=with_sentinel(((flags & IMPORT) > 0).astype(float), 0.0),
        dem_pop=with_sentinel(log_share(n_sup, dem_cat, ncat), 0.0),
        dem_need=with_sentinel(need_rows(proj, dkeys), -1).astype(np.int64))


def _cert_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    """Certification codes (nodes, held, required) and the certifications each need requires."""
    cert_set = set(proj.certification_codes)
    for held in proj.company_certs:
        cert_set.update(held)
    for required in proj.need_certs:
        cert_set.update(required)
    cert_codes = sorted(cert_set)
    cert_index = {c: i for i, c in enumerate(cert_codes)}
    nr = np.repeat(np.arange(len(proj.need_certs)), [len(c) for c in proj.need_certs])
    nc = [cert_index[c] for certs in proj.need_certs for c in certs]
    need_cert = sp.csr_matrix((np.ones(len(nr)), (nr, nc)),
                              shape=(len(proj.need_certs), len(cert_codes)))
    need_cert.data[:] = 1.0
    return dict(need_cert=need_cert,
                need_cert_dense=np.vstack([need_cert.toarray() > 0,
                                           np.zeros((1, len(cert_codes)), dtype=bool)]),
                need_n_certs=with_sentinel(np.diff(need_cert.indptr).astype(float), 0.0),
                cert_codes=cert_codes, cert_index=cert_index)


def _need_km_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    return dict(need_max_km=with_sentinel(np.asarray(proj.need_max_distance, dtype=float), np.nan))


def _network_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    """Existing links: their keys, the supplier × buyer matrix, its ages and degrees."""
    n, ncat = proj.n_companies, proj.n_categories
    keys = (proj.sup_supplier.astype(np.int64) * n + proj.sup_buyer) * ncat + proj.sup_category
    A = proj.supply_matrix.copy().tocsr()
    A.data[:] = 1.0
    A.sort_indices()
    AT = A.T.tocsr()
    # the rows are in key order (supplier, buyer, category): sorted and unique already
    strictly_rising = len(keys) < 2 or bool((keys[1:] > keys[:-1]).all())
    age, newest = _pair_age(proj, A)
    return dict(supply_keys=keys if strictly_rising else np.unique(keys), A=A, AT=AT,
                A_age=age, A_newest=newest,
                out_deg=np.diff(A.indptr).astype(float), in_deg=np.diff(AT.indptr).astype(float))


def _cap_keys_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    cap_all = proj.cap_company.astype(np.int64)  # written in place: one array
    cap_all *= proj.n_categories
    cap_all += proj.cap_category
    # in key order already: a patchable projection's tables are (checked once per build)
    if proj.extra.get(PATCHABLE_MARK) or len(cap_all) < 2 \
            or bool((cap_all[1:] > cap_all[:-1]).all()):
        return dict(cap_keys=cap_all, cap_rows=row_numbers(len(cap_all)))
    cap_order = np.argsort(cap_all, kind="stable")
    return dict(cap_keys=cap_all[cap_order], cap_rows=cap_order.astype(np.int64))


def _membership_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    cluster_ids = sorted(proj.cluster_rows)
    cl_index = {c: i for i, c in enumerate(cluster_ids)}
    mr = [i for i, cs in enumerate(proj.company_clusters) for c in cs if c in cl_index]
    mc = [cl_index[c] for cs in proj.company_clusters for c in cs if c in cl_index]
    membership = sp.csr_matrix((np.ones(len(mr)), (mr, mc)),
                               shape=(proj.n_companies, len(cluster_ids)))
    return dict(membership=membership, membership_csc=Deferred(to_csc, membership),
                cluster_ids=cluster_ids)


def _region_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    region_names: dict[str, int] = {}
    region_code = np.full(proj.n_companies, -1, dtype=np.int32)
    for i, region in enumerate(proj.company_regions):
        if region:
            region_code[i] = region_names.setdefault(str(region), len(region_names))
    return dict(region_code=region_code, region_names=region_names)


def with_sentinel(values: np.ndarray, last: float) -> np.ndarray:
    return np.append(values, last)


_PartBuilder = Callable[[Projection, dict[str, Any]], dict[str, Any]]
# name -> (builder, the projection fields it reads, the parts it reads), in build order.
# A part must read the projection only through the fields listed here: the oracle test
# (tests/test_projection_delta.py) patches after random writes and compares with a build.
INDEX_PARTS: dict[str, tuple[_PartBuilder, tuple[str, ...], tuple[str, ...]]] = {
    "decl": (_decl_part, ("cap_company", "cap_category", "sup_supplier", "sup_category"), ()),
    "taxonomy": (_taxonomy_part, ("category_parent", "category_processes", "process_codes"),
                 ()),
    "processes": (_process_part, ("company_process",), ()),
    "closure": (_closure_part, ("product_bom", "category_bom", "product_ids"), ()),
    "demand": (_demand_part, ("product_maker", "product_rows", "product_ids", "category_bom",
                              "need_company", "need_category", "need_qty", "imp_company",
                              "imp_category", "imp_volume", "sup_buyer", "sup_category",
                              "sup_volume"), ("decl", "closure")),
    "certs": (_cert_part, ("certification_codes", "company_certs", "need_certs"), ()),
    "need_km": (_need_km_part, ("need_max_distance",), ()),
    "network": (_network_part, ("sup_supplier", "sup_buyer", "sup_category", "sup_since"), ()),
    "cap_keys": (_cap_keys_part, ("cap_company", "cap_category"), ()),
    "membership": (_membership_part, ("cluster_rows", "company_clusters"), ()),
    "regions": (_region_part, ("company_regions",), ()),
}


# the MatchIndex fields each part gives (tests check that they cover the class exactly)
PART_FIELDS: dict[str, tuple[str, ...]] = {
    "decl": ("decl", "decl_csc", "main_category", "sell", "sell_keys", "sell_pop"),
    "taxonomy": ("related", "related_dense", "cat_proc", "cat_proc_dense", "n_proc", "cat_root"),
    "processes": ("company_process_csc",),
    "closure": ("closure",),
    "demand": ("dem_keys", "dem_buyer", "dem_cat", "buyer_dem_indptr", "cat_dem_indptr",
               "cat_dem_rows", "dem_flags", "dem_qty", "dem_suppliers", "dem_value",
               "dem_import", "dem_pop", "dem_need"),
    "certs": ("need_cert", "need_cert_dense", "need_n_certs", "cert_codes", "cert_index"),
    "need_km": ("need_max_km",),
    "network": ("supply_keys", "A", "AT", "A_age", "A_newest", "out_deg", "in_deg"),
    "cap_keys": ("cap_keys", "cap_rows"),
    "membership": ("membership", "membership_csc", "cluster_ids"),
    "regions": ("region_code", "region_names"),
}


def build_index(proj: Projection) -> MatchIndex:
    """The match index of ``proj`` built from scratch, part by part in build order."""
    got: dict[str, Any] = {}
    for builder, _fields, _needs in INDEX_PARTS.values():
        got.update(builder(proj, got))
    return MatchIndex(n=proj.n_companies, ncat=proj.n_categories, **got)


#: cache entries computed from the supply network as a whole that survive a write changing
#: at most :data:`CARRY_DRIFT` of the supplier–buyer pairs (counted over successive writes):
#: the walk tuning of the automatic network-only profile (queries.factors)
CARRIED_CACHE: tuple[str, ...] = ("network_only_profile",)
CARRY_DRIFT = 0.05
_DRIFT = "carried_drift"  # cache key: supplier–buyer pairs changed since the carried entries


def carry_cache(old_ix: MatchIndex, ix: MatchIndex, pairs_changed: int) -> None:
    """Copy :data:`CARRIED_CACHE` from ``old_ix`` into ``ix`` unless the network drifted.

    The drift adds up over writes (``pairs_changed`` each), relative to the links
    when the entries were computed; past :data:`CARRY_DRIFT` nothing is carried
    and the next ranking computes them afresh.
    """
    found = dict(old_ix.cache)  # one copy: readers may add to or clear it meanwhile
    kept = {k: found[k] for k in CARRIED_CACHE if k in found}
    if not kept:
        return
    base, drift = old_ix.cache.get(_DRIFT, (max(old_ix.A.nnz, 1), 0))
    drift += pairs_changed
    if drift > CARRY_DRIFT * base:
        return
    ix.cache.update(kept)
    ix.cache[_DRIFT] = (base, drift)


def changed_pairs(a: sp.csr_matrix, b: sp.csr_matrix) -> int:
    """Supplier–buyer pairs in one of two same-shape link matrices and not the other."""
    if a is b:
        return 0
    return int((a != b).nnz)


def table_rows(proj: Projection, column: np.ndarray, companies: np.ndarray) -> np.ndarray:
    """The rows (ascending) of a table whose ``column`` — the first of its key, as for
    capabilities by company and links by supplier — names one of ``companies``
    (ascending): searched in a patchable projection (its tables in key order), else
    scanned."""
    if proj.extra.get(PATCHABLE_MARK):
        who = np.asarray(companies).astype(column.dtype)  # the column's own type: no copy
        lo = np.searchsorted(column, who, side="left")
        return row_ranges(lo, np.searchsorted(column, who, side="right") - lo)
    mine = np.zeros(proj.n_companies, dtype=bool)
    mine[companies] = True
    return np.flatnonzero(mine[column])


# --- filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFilters:
    """A :class:`MatchFilters` checked against one projection (indices resolved)."""

    max_distance_km: float | None = None
    region: int | None = None
    cluster: int | None = None  # a cluster column of ``membership``
    same_cluster: bool = False
    certs: tuple[int, ...] = ()
    min_free_capacity: float | None = None
    registry: bool = True  # keep registry-evidence (OKVED) fits

    @property
    def empty(self) -> bool:
        return self == CheckedFilters()


def check_filters(proj: Projection, filters: MatchFilters | dict[str, Any] | None
                  ) -> CheckedFilters:
    """Validate ``filters`` against ``proj``; :class:`InvalidQuery` names what makes no sense."""
    if filters is None:
        return CheckedFilters()
    if isinstance(filters, dict):
        try:
            filters = MatchFilters.model_validate(filters)
        except ValueError as exc:
            raise InvalidQuery(f"bad filters: {exc}") from None
    if not isinstance(filters, MatchFilters):
        raise InvalidQuery(f"filters must be a MatchFilters, got {type(filters).__name__}")
    ix = match_index(proj)
    dist = filters.max_distance_km
    if dist is not None and (not np.isfinite(dist) or dist < 0):
        raise InvalidQuery(f"max_distance_km must be a non-negative number, got {dist}")
    region = None
    if filters.region is not None:
        if filters.region not in ix.region_names:  # "Липецкая обл.", "48": the official name
            official = canonical_region(filters.region)
            if official is not None and official in ix.region_names:
                filters = filters.model_copy(update={"region": official})
        if filters.region not in ix.region_names:
            known = ", ".join(sorted(ix.region_names)[:10]) or "none"
            raise InvalidQuery(f"no company is in region {filters.region!r} (known: {known})")
        region = ix.region_names[filters.region]
    cluster, same = None, False
    if isinstance(filters.cluster_only, str):
        if filters.cluster_only not in ix.cluster_ids:
            known = ", ".join(ix.cluster_ids[:10]) or "none"
            raise InvalidQuery(f"unknown cluster {filters.cluster_only!r} (known: {known})")
        cluster = ix.cluster_ids.index(filters.cluster_only)
    elif filters.cluster_only:
        same = True
    certs = []
    for code in filters.required_certs:
        if code not in ix.cert_index:
            known = ", ".join(ix.cert_codes[:10]) or "none"
            raise InvalidQuery(f"unknown certification {code!r} (known: {known})")
        certs.append(ix.cert_index[code])
    cap = filters.min_free_capacity
    if cap is not None and (not np.isfinite(cap) or cap < 0):
        raise InvalidQuery(f"min_free_capacity must be a non-negative number, got {cap}")
    return CheckedFilters(max_distance_km=dist, region=region, cluster=cluster,
                          same_cluster=same, certs=tuple(certs), min_free_capacity=cap,
                          registry=filters.registry)
