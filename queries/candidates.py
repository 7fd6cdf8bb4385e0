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

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.regions import canonical_region
from coopgraph.queries.projection import PATCHABLE_MARK, Projection, same_value
from coopgraph.queries.results import MatchFilters

__all__ = [
    "BOM",
    "DEFERRED_FIELDS",
    "FEW_INSERTED",
    "IMPORT",
    "NEED",
    "SUPPLIED",
    "CheckedFilters",
    "Deferred",
    "DemandPatch",
    "MatchIndex",
    "Touched",
    "bom_closure",
    "check_filters",
    "insert_rows",
    "insert_zero_bits",
    "inserted_pointers",
    "match_index",
    "packed_bit_bytes",
    "patch_match_index",
    "renumber_match_index",
    "renumbered",
    "renumbered_sorted",
    "row_numbers",
    "row_ranges",
    "shared_ones",
    "shifted_stretches",
    "since_days",
    "splice_csc_rows",
    "splice_rows",
]

BOM, NEED, IMPORT, SUPPLIED = 1, 2, 4, 8
_MAX_BOM_LEVELS = 64  # a deeper (or cyclic) BOM is cut here; chains report the cycle


class Deferred:
    """A :class:`MatchIndex` field computed on first read: ``make(*args)`` (a module-level
    function, so that the index pickles with the field still deferred)."""

    __slots__ = ("args", "make")

    def __init__(self, make: Callable[..., Any], *args: Any) -> None:
        self.make, self.args = make, args


def _to_csc(m: sp.spmatrix) -> sp.csc_matrix:
    return m.tocsc()


def _float_csc(m: sp.spmatrix) -> sp.csc_matrix:
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
        return _member(self.supply_keys, key) >= 0

    def demand_row(self, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The demand row of each ``(b[i], c[i])``, -1 where the buyer has no such demand."""
        key = np.asarray(b, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        return np.where(np.asarray(c) >= 0, _member(self.dem_keys, key), -1)

    def capability_row(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The capability row of each ``(s[i], c[i])``, -1 where none is declared."""
        key = np.asarray(s, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        pos = _member(self.cap_keys, key)
        return np.where((pos >= 0) & (np.asarray(c) >= 0),
                        self.cap_rows[np.maximum(pos, 0)] if len(self.cap_rows) else -1, -1)

    def supplier_sales(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """How many buyers supplier ``s[i]`` sells category ``c[i]`` to today."""
        key = np.asarray(s, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        pos = _member(self.sell_keys, key)
        return np.where(pos >= 0, self.sell.data[np.maximum(pos, 0)] if self.sell.nnz else 0.0,
                        0.0)

    def supplier_popularity(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The ``popularity`` of supplier ``s[i]`` in category ``c[i]`` (0 where it sells none)."""
        key = np.asarray(s, dtype=np.int64) * self.ncat + np.asarray(c, dtype=np.int64)
        pos = _member(self.sell_keys, key)
        return np.where(pos >= 0, self.sell_pop[np.maximum(pos, 0)] if len(self.sell_pop)
                        else 0.0, 0.0)


def _member(sorted_keys: np.ndarray, key: np.ndarray) -> np.ndarray:
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
        found = _build(proj)
        before = proj.extra.pop("previous_match_index", None)
        if isinstance(before, MatchIndex):
            # a rebuild from the store after writes (queries.projection): keep the tuned walk
            # if the network changed little (pairs counted from the link totals)
            _carry(before, found, abs(found.A.nnz - before.A.nnz) + abs(found.n - before.n))
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


def _row_argmax(m: sp.csr_matrix) -> np.ndarray:
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


def _log_share(count: np.ndarray, group: np.ndarray, ngroups: int) -> np.ndarray:
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
    pos = _member(key[heads], rows * a.shape[1] + a.indices)
    found = pos >= 0
    newest = float(np.nanmax(day))
    out[found] = newest - latest[pos[found]]
    return out, newest


def _demand_value(flags: np.ndarray, n_sup: np.ndarray) -> np.ndarray:
    """The ``demand`` factor per demand pair (see :mod:`queries.factors`)."""
    return np.select(
        [(flags & NEED) > 0, (flags & SUPPLIED) > 0, (flags & IMPORT) > 0, flags > 0],
        [1.0, 1.0 - 0.3 * 0.5 ** np.maximum(n_sup - 1, 0), 0.75, 0.6], 0.0)


# --- construction by parts, and patching ------------------------------------------------
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
    return dict(decl=decl, decl_csc=Deferred(_to_csc, decl),
                main_category=_row_argmax(supcat * 2.0 + capbin * 0.5),
                sell=supcat, sell_keys=sell_rows * ncat + supcat.indices,
                sell_pop=_log_share(supcat.data, supcat.indices, ncat))


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
    return dict(company_process_csc=Deferred(_float_csc, proj.company_process))


def _closure_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    return dict(closure=bom_closure(proj))


#: up to this many buyers, a row-wise patch finds their links by a comparison per buyer
_FEW_BUYERS = 4


def _demand_table(proj: Projection, closure: sp.csr_matrix, decl: sp.csr_matrix,
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
        need = _table_rows(proj, proj.need_company, buyers)
        imp = _table_rows(proj, proj.imp_company, buyers)
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
    pos = _member(skeys, dkeys)
    n_sup[pos >= 0] = scount[pos[pos >= 0]]
    return dkeys, flags, dqty, n_sup


def _need_rows(proj: Projection, dkeys: np.ndarray) -> np.ndarray:
    """Per demand key: the need row of the same (buyer, category), -1 where none."""
    need_keys = proj.need_company.astype(np.int64) * proj.n_categories + proj.need_category
    dem_need = np.full(len(dkeys), -1, dtype=np.int64)
    if len(need_keys):
        order = np.argsort(need_keys, kind="stable")
        pos = _member(need_keys[order], dkeys)
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
    dkeys, flags, dqty, n_sup = _demand_table(proj, got["closure"], got["decl"])
    dem_buyer = (dkeys // max(ncat, 1)).astype(np.int32)
    dem_cat = (dkeys % max(ncat, 1)).astype(np.int32)
    cat_indptr, cat_rows = _category_groups(dem_cat, ncat)
    buyer_indptr = np.searchsorted(dem_buyer, np.arange(n + 1)).astype(np.int64)
    return dict(
        dem_keys=dkeys, dem_buyer=dem_buyer, dem_cat=dem_cat, buyer_dem_indptr=buyer_indptr,
        cat_dem_indptr=cat_indptr, cat_dem_rows=cat_rows,
        dem_flags=_sentinel(flags, 0).astype(np.int8), dem_qty=_sentinel(dqty, np.nan),
        dem_suppliers=_sentinel(n_sup, 0.0),
        dem_value=_sentinel(_demand_value(flags, n_sup), 0.0),
        dem_import=_sentinel(((flags & IMPORT) > 0).astype(float), 0.0),
        dem_pop=_sentinel(_log_share(n_sup, dem_cat, ncat), 0.0),
        dem_need=_sentinel(_need_rows(proj, dkeys), -1).astype(np.int64))


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
                need_n_certs=_sentinel(np.diff(need_cert.indptr).astype(float), 0.0),
                cert_codes=cert_codes, cert_index=cert_index)


def _need_km_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    return dict(need_max_km=_sentinel(np.asarray(proj.need_max_distance, dtype=float), np.nan))


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


_SHARED: dict[str, np.ndarray] = {}  # read-only arrays shared by every patch (see below)


def _shared_prefix(name: str, n: int, make: Callable[[int], np.ndarray]) -> np.ndarray:
    """The first ``n`` items of the shared read-only array ``name`` (made by ``make``),
    grown with headroom when too short: views of the older one stay valid."""
    array = _SHARED.get(name)
    if array is None or len(array) < n:
        array = make(n + n // 4 + 1024)
        array.flags.writeable = False
        _SHARED[name] = array
    return array[:n]


def row_numbers(n: int) -> np.ndarray:
    """``np.arange(n)`` (int64) as a read-only view of one shared array: a patch that adds
    a row gets it without writing 3 MB per 400k rows."""
    return _shared_prefix("rows", n, lambda size: np.arange(size, dtype=np.int64))


def shared_ones(n: int) -> np.ndarray:
    """``np.ones(n)`` (float64) as a read-only view of one shared array: the data of a 0/1
    matrix patched per write (the link matrices: 4.6 MB per 580k links) without writing
    it each time. Readers never write a match index's matrices."""
    return _shared_prefix("ones", n, np.ones)


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
    return dict(membership=membership, membership_csc=Deferred(_to_csc, membership),
                cluster_ids=cluster_ids)


def _region_part(proj: Projection, got: dict[str, Any]) -> dict[str, Any]:
    region_names: dict[str, int] = {}
    region_code = np.full(proj.n_companies, -1, dtype=np.int32)
    for i, region in enumerate(proj.company_regions):
        if region:
            region_code[i] = region_names.setdefault(str(region), len(region_names))
    return dict(region_code=region_code, region_names=region_names)


def _sentinel(values: np.ndarray, last: float) -> np.ndarray:
    return np.append(values, last)


_PartBuilder = Callable[[Projection, dict[str, Any]], dict[str, Any]]
# name -> (builder, the projection fields it reads, the parts it reads), in build order.
# A part must read the projection only through the fields listed here: the oracle test
# (tests/test_projection_delta.py) patches after random writes and compares with a build.
_PARTS: dict[str, tuple[_PartBuilder, tuple[str, ...], tuple[str, ...]]] = {
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
_PART_FIELDS: dict[str, tuple[str, ...]] = {
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


def _build(proj: Projection) -> MatchIndex:
    got: dict[str, Any] = {}
    for builder, _fields, _needs in _PARTS.values():
        got.update(builder(proj, got))
    return MatchIndex(n=proj.n_companies, ncat=proj.n_categories, **got)


#: cache entries computed from the supply network as a whole that survive a write changing
#: at most :data:`CARRY_DRIFT` of the supplier–buyer pairs (counted over successive writes):
#: the walk tuning of the automatic network-only profile (queries.factors)
CARRIED_CACHE: tuple[str, ...] = ("network_only_profile",)
CARRY_DRIFT = 0.05
_DRIFT = "carried_drift"  # cache key: supplier–buyer pairs changed since the carried entries


def _carry(old_ix: MatchIndex, ix: MatchIndex, changed_pairs: int) -> None:
    """Copy :data:`CARRIED_CACHE` from ``old_ix`` into ``ix`` unless the network drifted.

    The drift adds up over writes (``changed_pairs`` each), relative to the links
    when the entries were computed; past :data:`CARRY_DRIFT` nothing is carried
    and the next ranking computes them afresh.
    """
    found = dict(old_ix.cache)  # one copy: readers may add to or clear it meanwhile
    kept = {k: found[k] for k in CARRIED_CACHE if k in found}
    if not kept:
        return
    base, drift = old_ix.cache.get(_DRIFT, (max(old_ix.A.nnz, 1), 0))
    drift += changed_pairs
    if drift > CARRY_DRIFT * base:
        return
    ix.cache.update(kept)
    ix.cache[_DRIFT] = (base, drift)


def _changed_pairs(a: sp.csr_matrix, b: sp.csr_matrix) -> int:
    """Supplier–buyer pairs in one of two same-shape link matrices and not the other."""
    if a is b:
        return 0
    return int((a != b).nnz)


@dataclass(frozen=True)
class DemandPatch:
    """How a row-wise patch moved the demand table: per old row its new number (-1:
    dropped or rewritten), the new numbers of the rows written, and the buyers whose
    (buyer, category) pairs were redone (none when every pair kept its row: then the
    key and grouping arrays are the old objects and only values were written)."""

    where: np.ndarray
    fresh: np.ndarray
    buyers: np.ndarray


def patch_match_index(old_ix: MatchIndex, old: Projection, new: Projection,
                      touched: Touched | None = None,
                      notes: dict[str, Any] | None = None) -> MatchIndex:
    """The match index of ``new``, a projection patched from ``old``, reusing ``old_ix``.

    Only the parts whose input fields differ between ``old`` and ``new`` (by
    identity, else by value) are rebuilt; a part whose output equals the old one
    counts as unchanged for the parts that read it. When no part changed, ``old_ix``
    itself is answered, with its caches. Otherwise the caches (``cache``: values
    computed from the index alone; ``_cert_valid``) start empty, unless the
    certifications part is unchanged (then ``_cert_valid`` is kept) — except
    :data:`CARRIED_CACHE` (the tuned walk), kept while the network has changed
    little since it was computed (:func:`_carry`), also when companies were
    added or removed and the index is built afresh.
    With ``touched`` (what the writes between ``old`` and ``new`` were: capabilities,
    needs and imports of some companies, supply links), the ``decl``, ``demand`` and
    ``network`` parts are patched row by row — only the companies and pairs written —
    instead of being rebuilt; ``notes["demand"]`` then tells how the demand rows moved
    (a :class:`DemandPatch`, for the ranking's caches: ``queries.match``).
    The result equals ``_build(new)`` field by field (the oracle test checks it).
    """
    if (old.company_ids is not new.company_ids and old.company_ids != new.company_ids) \
            or old.category_codes != new.category_codes:
        fresh_ix = _build(new)
        # companies added or removed: the pairs changed counted from the link totals
        _carry(old_ix, fresh_ix, abs(fresh_ix.A.nnz - old_ix.A.nnz)
               + abs(new.n_companies - old.n_companies))
        return fresh_ix
    got: dict[str, Any] = {}
    changed: set[str] = set()
    notes = {} if notes is None else notes
    notes.pop("changed_pairs", None)
    for name, (builder, fields, needs) in _PARTS.items():
        outputs = _PART_FIELDS[name]
        if any(not same_value(getattr(old, f), getattr(new, f)) for f in fields) \
                or changed.intersection(needs):
            fresh = _patch_part(name, old_ix, old, new, got, touched, changed, notes)
            patched = fresh is not None
            if fresh is None:
                fresh = builder(new, got)
            # a row-wise patch answers the old matrix itself when its rows came out the same
            if name == "decl" and (fresh["decl"] is old_ix.decl or (
                    not patched and same_value(fresh["decl"], old_ix.decl))):
                fresh["decl"] = old_ix.decl  # the demand part reads only this
            else:
                changed.add(name)
            got.update(fresh)
        else:
            got.update({f: old_ix.raw(f) for f in outputs})
    if not changed and all(got[f] is old_ix.raw(f) for f in got):
        return old_ix
    ix = MatchIndex(n=new.n_companies, ncat=new.n_categories, **got)
    if "certs" not in changed:
        ix._cert_valid.update(old_ix._cert_valid)
    # the pairs that came or went: counted by the network part's row-wise patch if any
    flipped = notes.pop("changed_pairs", None)
    _carry(old_ix, ix, _changed_pairs(old_ix.A, ix.A) if flipped is None else flipped)
    return ix


@dataclass(frozen=True)
class Touched:
    """What a patch changed, for the row-wise patches of the match index: the companies
    whose capabilities, needs or imports were written, and the supply links written
    (supplier, buyer, category indices in the new projection's numbering)."""

    companies: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    links: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))


def _table_rows(proj: Projection, column: np.ndarray, companies: np.ndarray) -> np.ndarray:
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


def _decl_rows(new: Projection, rows: np.ndarray
               ) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """``decl``, ``sell`` and ``main_category`` of the companies ``rows`` (ascending) only."""
    ncat = new.n_categories
    cap = _table_rows(new, new.cap_company, rows)
    sup = _table_rows(new, new.sup_supplier, rows)
    at = np.searchsorted(rows, new.cap_company[cap])
    capbin = sp.csr_matrix((np.full(len(at), 2.0), (at, new.cap_category[cap])),
                           shape=(len(rows), ncat))
    capbin.data[:] = 2.0
    supcat = sp.csr_matrix((np.ones(len(sup)),
                            (np.searchsorted(rows, new.sup_supplier[sup]), new.sup_category[sup])),
                           shape=(len(rows), ncat))
    supcat.sum_duplicates()
    supbin = supcat.copy()
    supbin.data[:] = 1.0
    decl = capbin.maximum(supbin).tocsr()
    decl.data = decl.data.astype(np.int8)
    return decl, supcat, _row_argmax(supcat * 2.0 + capbin * 0.5)


def _patch_decl(old_ix: MatchIndex, new: Projection, rows: np.ndarray) -> dict[str, Any]:
    """The ``decl`` part of ``new`` from ``old_ix``'s, the rows of companies ``rows`` redone.

    A matrix whose rows came out the same is the old object (with the arrays derived from
    it); sales whose (supplier, category) pairs stayed keep their keys."""
    decl_rows, sell_rows, main_rows = _decl_rows(new, rows)
    part: dict[str, Any] = {}
    if _same_rows(old_ix.decl, rows, decl_rows):
        part.update(decl=old_ix.decl, decl_csc=old_ix.raw("decl_csc"))
    else:
        decl = splice_rows(old_ix.decl, rows, decl_rows)
        part.update(decl=decl, decl_csc=splice_csc_rows(
            old_ix.decl_csc, rows, old_ix.decl[rows], decl_rows)
            if old_ix.computed("decl_csc") else Deferred(_to_csc, decl))
    if _same_rows(old_ix.sell, rows, sell_rows):
        part.update(sell=old_ix.sell, sell_keys=old_ix.sell_keys, sell_pop=old_ix.sell_pop)
    else:
        part.update(_patch_sell(old_ix, new, rows, sell_rows))
    if np.array_equal(old_ix.main_category[rows], main_rows):
        part["main_category"] = old_ix.main_category
    else:
        part["main_category"] = old_ix.main_category.copy()
        part["main_category"][rows] = main_rows
    return part


def _patch_sell(old_ix: MatchIndex, new: Projection, rows: np.ndarray,
                sell_rows: sp.csr_matrix) -> dict[str, Any]:
    """``sell``, ``sell_keys`` and ``sell_pop`` with the rows of companies ``rows`` (ascending)
    replaced by ``sell_rows``. When those rows keep their (supplier, category) pairs (a
    link to a category the supplier sells already), only the counts are written (the
    old structure and keys kept). The popularity is recomputed in the categories of the
    rows' old and new entries only: an entry's value depends on its count and its
    category's largest count, which no other category's entries change."""
    old = old_ix.sell
    sub = sell_rows.tocsr()
    sub.sum_duplicates()
    ptr = old.indptr.astype(np.int64)
    starts, stops = ptr[rows], ptr[rows + 1]
    at = row_ranges(starts, stops - starts)  # the rows' entries in the old matrix
    if np.array_equal(np.diff(sub.indptr), stops - starts) \
            and np.array_equal(sub.indices, old.indices[at]):
        values = sub.data.astype(old.data.dtype, copy=False)
        data = old.data.copy()
        data[at] = values
        sell = sp.csr_matrix((data, old.indices, old.indptr), shape=old.shape)
        keys = old_ix.sell_keys
        pop = old_ix.sell_pop.copy()
        redo = np.unique(old.indices[at[values != old.data[at]]])
    else:
        sell = splice_rows(old, rows, sub)
        owner = np.repeat(np.arange(new.n_companies, dtype=np.int64), np.diff(sell.indptr))
        keys = owner * new.n_categories + sell.indices
        # the old values moved with their entries (the rows' own entries recomputed below)
        pop = splice_rows(sp.csr_matrix((old_ix.sell_pop, old.indices, old.indptr),
                                        shape=old.shape),
                          rows, sp.csr_matrix((np.zeros(sub.nnz), sub.indices, sub.indptr),
                                              shape=sub.shape)).data
        if pop is old_ix.sell_pop:
            pop = pop.copy()
        redo = np.unique(np.concatenate([old.indices[at], sub.indices]))
    for c in redo.tolist():
        mine = np.flatnonzero(sell.indices == c)
        pop[mine] = _log_share(sell.data[mine], np.zeros(len(mine), dtype=np.int64), 1)
    return dict(sell=sell, sell_keys=keys, sell_pop=pop)


def _same_rows(m: sp.csr_matrix, rows: np.ndarray, sub: sp.csr_matrix) -> bool:
    """Rows ``rows`` of the canonical CSR ``m`` equal the rows of ``sub`` (same dtype)."""
    sub = sub.tocsr()
    sub.sum_duplicates()
    old = m[rows]
    return bool(np.array_equal(old.indptr, sub.indptr) and np.array_equal(old.indices, sub.indices)
                and np.array_equal(old.data, sub.data.astype(old.data.dtype)))


def row_ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + lens[i] - 1`` for every ``i``, joined (the rows of CSR-style
    groups: one vectorised pass, no Python loop per group)."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(starts)), lens)
    return np.arange(total, dtype=np.int64) + (starts - (np.cumsum(lens) - lens))[owner]


def _same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per position: ``a`` equals ``b`` (NaN equals NaN)."""
    same = a == b
    if a.dtype.kind == "f":
        same |= np.isnan(a) & np.isnan(b)
    return same


def _demand_pop(pop: np.ndarray, n_sup: np.ndarray, cat_indptr: np.ndarray,
                cat_rows: np.ndarray, dirty: np.ndarray, *, own: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """``dem_pop`` with the rows of the categories ``dirty`` recomputed, and the rows whose
    value changed. ``pop`` itself is answered when nothing changed; it is written in
    place only when ``own`` (a fresh copy), else copied first."""
    moved: list[np.ndarray] = []
    out = pop
    for c in np.flatnonzero(dirty).tolist():
        rows = cat_rows[cat_indptr[c]:cat_indptr[c + 1]]
        values = _log_share(n_sup[rows], np.zeros(len(rows), dtype=np.int64), 1)
        differs = ~_same_values(out[rows], values)
        if differs.any():
            if out is pop and not own:
                out = pop.copy()
            out[rows] = values
            moved.append(rows[differs])
    return out, np.sort(np.concatenate(moved)) if moved else np.zeros(0, dtype=np.int64)


def _demand_rows(new: Projection, got: dict[str, Any], buyers: np.ndarray
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The demand keys of ``buyers`` (ascending) in ``new``, and their per-row values by
    field name (the value arrays a patch writes; each of the index's ends with a sentinel)."""
    keys, flags, qty, n_sup = _demand_table(new, got["closure"], got["decl"], buyers)
    return keys, {"dem_flags": flags, "dem_qty": qty, "dem_suppliers": n_sup,
                  "dem_value": _demand_value(flags, n_sup),
                  "dem_import": ((flags & IMPORT) > 0).astype(float),
                  "dem_need": _need_rows(new, keys)}


def _patch_demand(old_ix: MatchIndex, new: Projection, got: dict[str, Any], buyers: np.ndarray,
                  needs_changed: bool) -> tuple[dict[str, Any], DemandPatch]:
    """The ``demand`` part of ``new`` from ``old_ix``'s, the rows of ``buyers`` (ascending)
    recomputed, and how the rows moved (:class:`DemandPatch`, for the ranking's caches).

    A buyer whose (buyer, category) pairs stay the same keeps its rows' numbers (a
    capacity, a quantity, a link to a category it already wants). When every buyer
    does, the key and grouping arrays are the old objects and each value array is the
    old object or a copy with the changed rows written. Otherwise the rows after a
    buyer that gained or lost pairs move: every per-row array is the old one's
    stretches between the buyers joined with the buyers' new rows (a copy, no sort),
    and the category grouping is the old one renumbered, with only the categories that
    gained or lost rows regrouped. ``dem_pop`` is recomputed in the categories whose
    supplier counts or rows changed only (the others keep their largest count, hence
    their values). Written, for the caches: every row of a buyer whose pairs changed,
    and the other rows whose values changed."""
    ncat = max(new.n_categories, 1)
    buyers = np.asarray(buyers, dtype=np.int64)
    keys, values = _demand_rows(new, got, buyers)
    if needs_changed:  # need rows renumbered: every row's need is looked up again below
        del values["dem_need"]
    ptr = old_ix.buyer_dem_indptr
    starts, stops = ptr[buyers], ptr[buyers + 1]
    old_rows = row_ranges(starts, stops - starts)
    old_keys = old_ix.dem_keys[old_rows]  # ascending, like ``keys``
    new_counts = np.bincount(np.searchsorted(buyers, keys // ncat), minlength=len(buyers))
    # per new row: the old row of the same pair, -1 for a new pair
    at = np.minimum(np.searchsorted(old_keys, keys), max(len(old_keys) - 1, 0))
    kept = (old_keys[at] == keys) if len(old_keys) else np.zeros(len(keys), dtype=bool)
    before = np.where(kept, old_rows[at] if len(old_rows) else 0, -1)
    same_pairs = np.zeros(len(buyers), dtype=bool)  # per buyer
    kept_count = np.bincount(np.searchsorted(buyers, keys[kept] // ncat),
                             minlength=len(buyers))
    same_pairs[(new_counts == stops - starts) & (kept_count == new_counts)] = True
    # rows whose values changed, among the kept pairs
    changed = ~kept
    for name, sub in values.items():
        old = getattr(old_ix, name)
        changed[kept] |= ~_same_values(old[before[kept]], sub[kept].astype(old.dtype))
    if same_pairs.all():
        return _patch_demand_values(old_ix, new, before, values, changed, needs_changed)
    return _patch_demand_moved(old_ix, new, buyers, keys, values, before, changed,
                               same_pairs, needs_changed, old_rows, new_counts)


def _patch_demand_values(old_ix: MatchIndex, new: Projection, before: np.ndarray,
                         values: dict[str, np.ndarray], changed: np.ndarray,
                         needs_changed: bool) -> tuple[dict[str, Any], DemandPatch]:
    """:func:`_patch_demand` when no pair came or went: the value arrays patched at the
    rows ``before`` (per recomputed row its number) whose values ``changed``."""
    rows = before[changed]
    part: dict[str, Any] = {}
    for name, sub in values.items():
        old = getattr(old_ix, name)
        sub = sub[changed].astype(old.dtype, copy=False)
        if len(rows) and not _same_values(old[rows], sub).all():
            part[name] = old.copy()
            part[name][rows] = sub
        else:
            part[name] = old
    if needs_changed:
        need = _sentinel(_need_rows(new, old_ix.dem_keys), -1).astype(np.int64)
        part["dem_need"] = old_ix.dem_need if np.array_equal(need, old_ix.dem_need) else need
    dirty = np.zeros(new.n_categories, dtype=bool)
    if part["dem_suppliers"] is not old_ix.dem_suppliers:
        dirty[old_ix.dem_cat[rows]] = True
    pop, pop_rows = _demand_pop(old_ix.dem_pop, part["dem_suppliers"], old_ix.cat_dem_indptr,
                                old_ix.cat_dem_rows, dirty)
    part.update(dem_keys=old_ix.dem_keys, dem_buyer=old_ix.dem_buyer, dem_cat=old_ix.dem_cat,
                buyer_dem_indptr=old_ix.buyer_dem_indptr, cat_dem_indptr=old_ix.cat_dem_indptr,
                cat_dem_rows=old_ix.cat_dem_rows, dem_pop=pop)
    written = np.union1d(rows, pop_rows)  # a row whose popularity moved is written too
    where = np.arange(len(old_ix.dem_keys), dtype=np.int64)
    where[written] = -1
    return part, DemandPatch(where, written, np.zeros(0, dtype=np.int64))


def _patch_demand_moved(old_ix: MatchIndex, new: Projection, buyers: np.ndarray,
                        keys: np.ndarray, values: dict[str, np.ndarray], before: np.ndarray,
                        changed: np.ndarray, same_pairs: np.ndarray, needs_changed: bool,
                        old_rows: np.ndarray, new_counts: np.ndarray
                        ) -> tuple[dict[str, Any], DemandPatch]:
    """:func:`_patch_demand` when some buyer gained or lost pairs (``~same_pairs``);
    ``old_rows``: the buyers' old rows, ``new_counts``: per buyer its rows now."""
    ncat = max(new.n_categories, 1)
    ptr = old_ix.buyer_dem_indptr
    starts, stops = ptr[buyers], ptr[buyers + 1]
    d_old = len(old_ix.dem_keys)
    sub_ptr = np.zeros(len(buyers) + 1, dtype=np.int64)
    np.cumsum(new_counts, out=sub_ptr[1:])
    shift = np.cumsum(new_counts - (stops - starts))  # rows gained up to each buyer
    new_starts = starts + np.r_[0, shift[:-1]]
    fresh = row_ranges(new_starts, new_counts)  # the new number of each recomputed row
    # old row -> new row: the stretch after each buyer moves by the rows gained before
    pos = shifted_stretches(row_numbers(d_old), [0, *stops.tolist(), d_old],
                            [0, *shift.tolist()])
    pos[old_rows] = -1
    pos[before[before >= 0]] = fresh[before >= 0]

    def merged(values: np.ndarray, sub: np.ndarray) -> np.ndarray:
        sub = sub.astype(values.dtype, copy=False)
        pieces, last = [], 0
        for j in range(len(buyers)):
            pieces += [values[last:starts[j]], sub[sub_ptr[j]:sub_ptr[j + 1]]]
            last = int(stops[j])
        pieces.append(values[last:])  # the sentinel too, where the array has one
        return np.concatenate(pieces)

    part: dict[str, Any] = {name: merged(getattr(old_ix, name), sub)
                            for name, sub in values.items()}
    dem_cat = merged(old_ix.dem_cat, keys % ncat)
    part.update(dem_keys=merged(old_ix.dem_keys, keys),
                dem_buyer=merged(old_ix.dem_buyer, keys // ncat), dem_cat=dem_cat)
    counts = np.diff(ptr)
    counts[buyers] = new_counts
    part["buyer_dem_indptr"] = np.zeros(len(ptr), dtype=np.int64)
    np.cumsum(counts, out=part["buyer_dem_indptr"][1:])
    # categories that gained or lost rows are regrouped; the others renumbered
    gone = old_rows[pos[old_rows] < 0]
    added = fresh[before < 0]
    regroup = np.zeros(new.n_categories, dtype=bool)
    regroup[old_ix.dem_cat[gone]] = True
    regroup[dem_cat[added]] = True
    steps = [(int(stops[j]), int(d)) for j, d in
             enumerate((new_counts - (stops - starts)).tolist()) if d]
    cat_indptr, cat_rows = _regroup(old_ix, dem_cat, pos, added, regroup, steps, old_rows)
    part.update(cat_dem_indptr=cat_indptr, cat_dem_rows=cat_rows)
    if needs_changed:
        part["dem_need"] = _sentinel(_need_rows(new, part["dem_keys"]), -1).astype(np.int64)
    # popularity: kept pairs keep theirs until their category is recomputed
    kept = before >= 0
    pop = merged(old_ix.dem_pop, np.where(kept, old_ix.dem_pop[np.maximum(before, 0)], 0.0))
    dirty = regroup.copy()
    sup_moved = kept & ~_same_values(old_ix.dem_suppliers[np.maximum(before, 0)],
                                     values["dem_suppliers"])
    dirty[dem_cat[fresh[sup_moved]]] = True
    part["dem_pop"], pop_rows = _demand_pop(pop, part["dem_suppliers"], cat_indptr, cat_rows,
                                            dirty, own=True)
    # written: every row of a buyer whose pairs changed, the changed rows of the others,
    # and the rows whose popularity moved (their old numbers dropped from ``where``)
    moved_buyer = ~same_pairs[np.searchsorted(buyers, keys // ncat)]
    written = np.union1d(fresh[moved_buyer | changed], pop_rows)
    if len(pop_rows):
        cats = np.flatnonzero(dirty)
        olds = np.concatenate([old_ix.cat_dem_rows[old_ix.cat_dem_indptr[c]:
                                                   old_ix.cat_dem_indptr[c + 1]]
                               for c in cats.tolist()])
        pos[olds[np.isin(pos[olds], pop_rows)]] = -1
    where = pos  # no longer read as the renumbering: marked in place
    where[old_rows[~same_pairs[np.repeat(np.arange(len(buyers)), stops - starts)]]] = -1
    where[before[changed & kept]] = -1
    return part, DemandPatch(where, written, buyers[~same_pairs])


def _regroup(old_ix: MatchIndex, dem_cat: np.ndarray, pos: np.ndarray, added: np.ndarray,
             dirty: np.ndarray, steps: list[tuple[int, int]], fixed: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(cat_dem_indptr, cat_dem_rows)`` of the moved table: each clean category's rows
    are its old rows renumbered by ``pos`` (which keeps their order); each ``dirty`` one's
    its kept rows (``pos >= 0``) and its ``added`` rows, sorted.

    ``pos`` moves an old row ``r`` by the ``delta`` of each ``(boundary, delta)`` of
    ``steps`` with ``boundary <= r``, except the rows ``fixed`` (the rewritten buyers'
    rows): the clean stretches are renumbered by a comparison and an add per step,
    written once into the result (a gather through ``pos`` reads it at random), and the
    fixed rows of clean categories are then looked up in ``pos``."""
    ncat = len(dirty)
    old_ptr, old_rows = old_ix.cat_dem_indptr, old_ix.cat_dem_rows
    counts = np.diff(old_ptr)
    added_cat = dem_cat[added]
    regrouped = {}
    for c in np.flatnonzero(dirty).tolist():
        mine = pos[old_rows[old_ptr[c]:old_ptr[c + 1]]]
        mine = np.sort(np.concatenate([mine[mine >= 0], added[added_cat == c]]))
        counts[c] = len(mine)
        regrouped[c] = mine
    cat_indptr = np.zeros(ncat + 1, dtype=np.int64)
    np.cumsum(counts, out=cat_indptr[1:])
    out = np.empty(int(cat_indptr[-1]), dtype=np.int64)

    def clean(lo: int, hi: int) -> None:  # categories lo..hi-1, none dirty
        src = old_rows[old_ptr[lo]:old_ptr[hi]]
        dest = out[cat_indptr[lo]:cat_indptr[hi]]
        if not steps:
            dest[:] = src
        for j, (boundary, delta) in enumerate(steps):
            base = src if j == 0 else dest
            if delta == 1:
                np.add(base, src >= boundary, out=dest, casting="unsafe")
            elif delta == -1:
                np.subtract(base, src >= boundary, out=dest, casting="unsafe")
            else:
                np.add(base, (src >= boundary) * np.int64(delta), out=dest)

    last = 0
    for c, mine in regrouped.items():
        clean(last, c)
        out[cat_indptr[c]:cat_indptr[c + 1]] = mine
        last = c + 1
    clean(last, ncat)
    fixed_cat = old_ix.dem_cat[fixed]
    for r, c in zip(fixed.tolist(), fixed_cat.tolist(), strict=True):
        if not dirty[c]:  # its place in the category: the old rows there are ascending
            k = int(np.searchsorted(old_rows[old_ptr[c]:old_ptr[c + 1]], r))
            out[cat_indptr[c] + k] = pos[r]
    return cat_indptr, out


def _pair_values(a: sp.csr_matrix, data: np.ndarray, pairs: np.ndarray, n: int
                 ) -> np.ndarray:
    """``data`` (one value per stored entry of the sorted CSR ``a``) at each supplier–buyer
    pair ``supplier * n + buyer``; NaN where ``a`` has no entry."""
    out = np.full(len(pairs), np.nan)
    for j, (s, b) in enumerate(zip((pairs // n).tolist(), (pairs % n).tolist(), strict=True)):
        lo, hi = int(a.indptr[s]), int(a.indptr[s + 1])
        at = lo + int(np.searchsorted(a.indices[lo:hi], b))
        if at < hi and a.indices[at] == b:
            out[j] = data[at]
    return out


def _patch_network(old_ix: MatchIndex, new: Projection, links: np.ndarray
                   ) -> tuple[dict[str, Any], int] | None:
    """The ``network`` part of ``new`` from ``old_ix``'s, the supplier–buyer pairs of the
    written ``links`` redone, and how many pairs came or went; ``None`` when the newest
    link date may have gone back."""
    n, ncat = new.n_companies, new.n_categories
    pairs = np.unique(links[:, 0] * n + links[:, 1])
    # the new rows of each pair: its supplier's rows to its buyer (a table in key order,
    # as snapshots and patches leave it, is searched; any other is scanned)
    sup = new.sup_supplier
    if new.extra.get(PATCHABLE_MARK) or len(sup) < 2 or bool((sup[1:] >= sup[:-1]).all()):
        who = (pairs // n).astype(sup.dtype)  # the column's own type: no copy of it
        lo = np.searchsorted(sup, who, side="left")
        hi = np.searchsorted(sup, who, side="right")
        hits = [a + np.flatnonzero(new.sup_buyer[a:z] == b)
                for a, z, b in zip(lo.tolist(), hi.tolist(), (pairs % n).tolist(), strict=True)]
        new_hit = np.concatenate([*hits, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    else:
        new_hit = np.flatnonzero(np.isin(sup.astype(np.int64) * n + new.sup_buyer, pairs))
    new_pair = sup[new_hit].astype(np.int64) * n + new.sup_buyer[new_hit]
    new_days = since_days([new.sup_since[i] for i in new_hit.tolist()])
    newest = old_ix.A_newest
    top_new = float(np.nanmax(new_days)) if np.isfinite(new_days).any() else float("nan")
    # a pair held the newest date before when its age was 0
    if (_pair_values(old_ix.A, old_ix.A_age, pairs, n) <= 0).any() and not top_new >= newest:
        return None  # the newest dated link was among those rewritten: rebuild the part
    shift = 0.0
    if top_new > newest or (not np.isfinite(newest) and np.isfinite(top_new)):
        shift = top_new - newest if np.isfinite(newest) else 0.0
        newest = top_new
    age_all = old_ix.A_age + shift if shift else old_ix.A_age
    if not np.isfinite(old_ix.A_newest) and np.isfinite(newest):
        age_all = old_ix.A_age  # no link was dated before: every old pair stays undated
    # per pair: does it exist now, and its latest date
    exists = np.isin(pairs, new_pair)
    flipped = int((np.isfinite(_pair_values(old_ix.A, old_ix.A.data, pairs, n)) != exists).sum())
    latest = np.full(len(pairs), np.nan)
    for j, pair in enumerate(pairs.tolist()):
        days = new_days[new_pair == pair]
        if np.isfinite(days).any():
            latest[j] = float(np.nanmax(days))
    # rows of A (suppliers) and of AT (buyers) redone
    age_m = sp.csr_matrix((age_all, old_ix.A.indices, old_ix.A.indptr), shape=old_ix.A.shape)
    sup_rows = np.unique(pairs // n)
    buy_rows = np.unique(pairs % n)
    sub_a, sub_age, sub_at = [], [], []
    for s in sup_rows.tolist():
        lo, hi = old_ix.A.indptr[s], old_ix.A.indptr[s + 1]
        cols = dict(zip(old_ix.A.indices[lo:hi].tolist(), age_m.data[lo:hi].tolist(),
                        strict=True))
        for j in np.flatnonzero(pairs // n == s).tolist():
            b = int(pairs[j] % n)
            if exists[j]:
                cols[b] = newest - latest[j] if np.isfinite(latest[j]) else np.nan
            else:
                cols.pop(b, None)
        order = sorted(cols)
        sub_a.append(order)
        sub_age.append([cols[b] for b in order])
    for b in buy_rows.tolist():
        lo, hi = old_ix.AT.indptr[b], old_ix.AT.indptr[b + 1]
        have = set(old_ix.AT.indices[lo:hi].tolist())
        for j in np.flatnonzero(pairs % n == b).tolist():
            (have.add if exists[j] else have.discard)(int(pairs[j] // n))
        sub_at.append(sorted(have))

    def sub(rows: list[list[int]], data: list[list[float]] | None) -> sp.csr_matrix:
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=indptr[1:])
        cols = np.array([c for r in rows for c in r], dtype=np.int64)
        values = np.ones(len(cols)) if data is None \
            else np.array([v for r in data for v in r], dtype=float)
        return sp.csr_matrix((values, cols, indptr), shape=(len(rows), n))

    ages = splice_rows(age_m, sup_rows, sub(sub_a, sub_age))
    # 0/1 matrices: their data a shared read-only array of ones, not 4.6 MB written per write
    A = sp.csr_matrix((shared_ones(ages.nnz), ages.indices, ages.indptr), shape=ages.shape)
    AT = splice_rows(old_ix.AT, buy_rows, sub(sub_at, None), ones=True)
    # the link keys: the written ones in or out
    keys = np.unique(links[:, 0] * n * ncat + links[:, 1] * ncat + links[:, 2])
    now = np.isin(keys, new.sup_supplier[new_hit].astype(np.int64) * n * ncat
                  + new.sup_buyer[new_hit].astype(np.int64) * ncat + new.sup_category[new_hit])
    supply_keys = old_ix.supply_keys
    was = _member(supply_keys, keys) >= 0
    if (was & ~now).any():
        supply_keys = np.delete(supply_keys, _member(supply_keys, keys[was & ~now]))
    if (now & ~was).any():
        supply_keys = np.insert(supply_keys, np.searchsorted(supply_keys, keys[now & ~was]),
                                keys[now & ~was])
    out_deg, in_deg = old_ix.out_deg.copy(), old_ix.in_deg.copy()
    out_deg[sup_rows] = np.diff(A.indptr)[sup_rows]
    in_deg[buy_rows] = np.diff(AT.indptr)[buy_rows]
    return dict(supply_keys=supply_keys, A=A, AT=AT, A_age=ages.data.astype(float, copy=False),
                A_newest=newest, out_deg=out_deg, in_deg=in_deg), flipped


def _patch_part(name: str, old_ix: MatchIndex, old: Projection, new: Projection,
                got: dict[str, Any], touched: Touched | None, changed: set[str],
                notes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Part ``name`` of ``new`` patched row by row from ``old_ix`` (see
    :func:`patch_match_index`), or ``None``: build it whole."""
    if touched is None or old.n_companies != new.n_companies:
        return None
    suppliers, buyers = touched.links[:, 0], touched.links[:, 1]
    if name == "decl":
        return _patch_decl(old_ix, new, np.unique(np.concatenate([touched.companies,
                                                                  suppliers])))
    if name == "demand":
        if "closure" in changed or any(
                not same_value(getattr(old, f), getattr(new, f))
                for f in ("product_maker", "product_rows", "product_ids", "category_bom")):
            return None
        rows = np.unique(np.concatenate([touched.companies, suppliers, buyers]))
        needs_changed = not (same_value(old.need_company, new.need_company)
                             and same_value(old.need_category, new.need_category))
        part, moved = _patch_demand(old_ix, new, got, rows, needs_changed)
        if notes is not None:
            notes["demand"] = moved
        return part
    if name == "network" and len(touched.links):
        patched = _patch_network(old_ix, new, touched.links)
        if patched is None:
            return None
        if notes is not None:
            notes["changed_pairs"] = patched[1]
        return patched[0]
    return None


def inserted_pointers(ptr: np.ndarray, inserted: np.ndarray) -> np.ndarray:
    """Row pointers ``ptr`` with empty rows inserted at the new indices ``inserted``
    (ascending): each one's pointer repeated once, in one pass (no gather)."""
    at = inserted - np.arange(len(inserted))  # the old rows they precede
    return np.insert(ptr, at, ptr[at])


def insert_rows(m: sp.spmatrix, inserted: np.ndarray, mapped: np.ndarray,
                 *, columns_too: bool = False) -> sp.spmatrix:
    """A CSR (rows are companies) or CSC (row indices are companies) matrix with empty
    companies inserted at the new indices ``inserted``; ``mapped``: old index -> new."""
    n = m.shape[0] + len(inserted)
    if sp.isspmatrix_csc(m):
        return sp.csc_matrix((m.data, renumbered(m.indices, mapped, inserted), m.indptr),
                             shape=(n, m.shape[1]))
    indptr = inserted_pointers(m.indptr, inserted)
    if columns_too:  # a company × company matrix
        return sp.csr_matrix((m.data, renumbered(m.indices, mapped, inserted), indptr),
                             shape=(n, n))
    return sp.csr_matrix((m.data, m.indices, indptr), shape=(n, m.shape[1]))


#: up to this many companies inserted, company numbers are moved by one pass per insertion
#: (sequential, cheaper than a gather through the whole map)
FEW_INSERTED = 8


def renumbered(values: np.ndarray, mapped: np.ndarray, inserted: np.ndarray) -> np.ndarray:
    """``mapped[values]`` in ``values``' dtype, for company numbers ``values`` after the
    insertions ``inserted`` (new indices, ascending): with a few insertions, each number
    moves up by those at or before it (a comparison each, cheaper than a gather)."""
    if len(inserted) > FEW_INSERTED:
        return mapped[values].astype(values.dtype)
    if len(inserted) == 0:
        return values.copy()
    out = np.empty_like(values)  # the first insertion writes it (no copy pass before)
    for j, at in enumerate((inserted - np.arange(len(inserted))).tolist()):  # old numbers
        np.add(values if j == 0 else out, values >= at, out=out, casting="unsafe")
    return out


def renumbered_sorted(values: np.ndarray, mapped: np.ndarray, inserted: np.ndarray
                      ) -> np.ndarray:
    """:func:`renumbered` of company numbers in ascending order: with a few insertions,
    each moves the numbers from the first at or after it up by one (a search and a run)."""
    if len(inserted) > FEW_INSERTED:
        return mapped[values].astype(values.dtype)
    # the numbers from each insertion point on move up by the insertions up to it: each
    # stretch between two points written once, by a copy or an add
    cuts = np.searchsorted(values, (inserted - np.arange(len(inserted))).astype(values.dtype))
    return shifted_stretches(values, [0, *cuts.tolist(), len(values)], range(len(cuts) + 1))


def shifted_stretches(values: np.ndarray, bounds: Sequence[int], shifts: Iterable[int], *,
                      dtype: Any = None) -> np.ndarray:
    """``values`` with each stretch ``bounds[j]:bounds[j + 1]`` moved by ``shifts[j]``,
    written once into a new array (no copy pass before, no gather): how renumbering and
    spliced row pointers move everything after each change point."""
    out = np.empty(len(values), dtype=values.dtype if dtype is None else dtype)
    for j, shift in enumerate(shifts):
        lo, hi = bounds[j], bounds[j + 1]
        if shift:
            np.add(values[lo:hi], shift, out=out[lo:hi], casting="unsafe")
        else:
            out[lo:hi] = values[lo:hi]
    return out


def splice_rows(m: sp.csr_matrix, rows: np.ndarray, sub: sp.csr_matrix, *,
                ones: bool = False) -> sp.csr_matrix:
    """``m`` (CSR) with its rows ``rows`` (ascending, unique) replaced by the rows of ``sub``
    (one per entry of ``rows``, same columns): a few slices copied, no sort. With
    ``ones`` (a 0/1 matrix whose stored values are all 1.0, as in ``sub``), the data is a
    read-only view of :func:`shared_ones` instead of a copy."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return m
    sub = sub.tocsr()
    sub.sum_duplicates()  # canonical: sorted columns, no duplicates
    ptr = m.indptr  # read by slices and single items only: no copy
    sub_ptr = sub.indptr.astype(np.int64)
    idx_pieces, data_pieces = [], []
    last = 0
    for r, row in enumerate(rows.tolist()):
        idx_pieces += [m.indices[ptr[last]:ptr[row]], sub.indices[sub_ptr[r]:sub_ptr[r + 1]]]
        if not ones:
            data_pieces += [m.data[ptr[last]:ptr[row]], sub.data[sub_ptr[r]:sub_ptr[r + 1]]]
        last = row + 1
    idx_pieces.append(m.indices[ptr[last]:])
    if not ones:
        data_pieces.append(m.data[ptr[last]:])
    # the row pointers after each replaced row move by the entries it gained: one pass,
    # a stretch per row
    gained = np.cumsum(np.diff(sub_ptr) - (ptr[rows + 1] - ptr[rows]).astype(np.int64)).tolist()
    total = int(ptr[-1]) + (gained[-1] if gained else 0)
    wide = total >= 2**31 and ptr.dtype != np.int64
    indptr = shifted_stretches(ptr.astype(np.int64) if wide else ptr,
                               [0, *(rows + 1).tolist(), len(ptr)], [0, *gained])
    indices = np.concatenate(idx_pieces).astype(m.indices.dtype, copy=False)
    data = shared_ones(len(indices)) if ones \
        else np.concatenate(data_pieces).astype(m.data.dtype, copy=False)
    return sp.csr_matrix((data, indices, indptr), shape=m.shape)


def splice_csc_rows(m: sp.csc_matrix, rows: np.ndarray, old: sp.csr_matrix,
                    new: sp.csr_matrix) -> sp.csc_matrix:
    """The CSC ``m`` (sorted row indices) with its rows ``rows`` (ascending, unique) changed
    from ``old`` to ``new`` (their rows, one per entry of ``rows``): the old entries taken
    out and the new ones put where they sort in their columns — one copy of the arrays,
    no conversion of the whole matrix (what ``tocsc`` of the spliced CSR gives)."""
    old, new = old.tocsr(), new.tocsr()
    old.sum_duplicates()
    new.sum_duplicates()
    rows = np.asarray(rows, dtype=np.int64)
    ptr = m.indptr.astype(np.int64)

    def entries(sub: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = rows[np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))]
        c = sub.indices.astype(np.int64)
        # each entry's place in its column: the first position not below its row
        at = np.array([ptr[cj] + np.searchsorted(m.indices[ptr[cj]:ptr[cj + 1]], rj)
                       for rj, cj in zip(r.tolist(), c.tolist(), strict=True)], dtype=np.int64)
        return r, c, at

    _r, gone_c, gone_at = entries(old)
    put_r, put_c, put_at = entries(new)
    order = np.lexsort((put_r, put_c))  # by column, then row: np.insert keeps the order
    put_r, put_c, put_at = put_r[order], put_c[order], put_at[order]
    put_at -= np.searchsorted(np.sort(gone_at), put_at)  # positions once the old are out
    indices = np.insert(np.delete(m.indices, gone_at), put_at, put_r.astype(m.indices.dtype))
    data = np.insert(np.delete(m.data, gone_at), put_at,
                     new.data[order].astype(m.data.dtype, copy=False))
    counts = np.diff(ptr) - np.bincount(gone_c, minlength=m.shape[1]) \
        + np.bincount(put_c, minlength=m.shape[1])
    indptr = np.zeros(m.shape[1] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return sp.csc_matrix((data, indices, indptr.astype(m.indptr.dtype)), shape=m.shape)


def packed_bit_bytes(n: int) -> int:
    """Bytes per row of a packed company bitset for ``n`` companies: whole 64-bit words,
    so that the ranking's unions and counts run on ``uint64`` (the one definition of the
    layout of the ranking's ``bits`` cache, built in :mod:`coopgraph.queries.match`)."""
    return -(-max(n, 1) // 64) * 8


def insert_zero_bits(bits: np.ndarray, n: int, inserted: np.ndarray) -> np.ndarray:
    """Rows of packed bits (``np.packbits(..., axis=1)``, :func:`packed_bit_bytes` wide)
    with zero bits inserted at the final positions ``inserted`` (ascending), for ``n`` bits
    per row in all: each insertion shifts the bytes from its own by one bit, a few vector
    operations per insertion."""
    width = packed_bit_bytes(n)
    out = np.zeros((bits.shape[0], width), dtype=np.uint8)
    out[:, :bits.shape[1]] = bits
    for p in inserted.tolist():
        q, r = p >> 3, p & 7
        tail = out[:, q:].copy()
        shifted = tail >> 1
        shifted[:, 1:] |= (tail[:, :-1] & 1) << 7
        keep = (0xFF << (8 - r)) & 0xFF  # the bits before position r in byte q stay
        shifted[:, 0] = (tail[:, 0] & keep) | (shifted[:, 0] & (0xFF >> (r + 1)))
        out[:, q:] = shifted
    last = (n - 1) // 8 if n else -1  # padding past the last company stays zero
    out[:, last + 1:] = 0
    if n % 8:
        out[:, last] &= (0xFF << (8 - n % 8)) & 0xFF
    return out


def _insert_regions(old_ix: MatchIndex, proj: Projection, inserted: np.ndarray
                    ) -> dict[str, Any]:
    """:func:`_region_part` of ``proj`` from ``old_ix``'s, companies inserted at ``inserted``:
    the codes stay numbered in order of each region's first company."""
    names = dict(old_ix.region_names)
    added = []
    for i in inserted.tolist():
        region = proj.company_regions[i]
        added.append(names.setdefault(str(region), len(names)) if region else -1)
    code = np.insert(old_ix.region_code, inserted - np.arange(len(inserted)),
                     np.array(added, dtype=old_ix.region_code.dtype))
    if len(names) == 0:
        return dict(region_code=code, region_names=names)
    first = np.full(len(names), len(code), dtype=np.int64)
    known = np.flatnonzero(code >= 0)
    np.minimum.at(first, code[known], known)
    order = np.argsort(first, kind="stable")
    if (order == np.arange(len(names))).all():
        return dict(region_code=code, region_names=names)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    code = np.where(code >= 0, rank[np.maximum(code, 0)], -1).astype(old_ix.region_code.dtype)
    return dict(region_code=code, region_names={name: int(rank[c]) for name, c in sorted(
        names.items(), key=lambda item: rank[item[1]])})


def renumber_match_index(old_ix: MatchIndex, proj: Projection, old_to_new: np.ndarray,
                         inserted: np.ndarray) -> MatchIndex | None:
    """``old_ix`` for ``proj``, the same projection with companies (no rows) inserted at
    the indices ``inserted`` (``old_to_new``: each old company's new index, none removed).

    Every part is the old one with its company indices mapped (an order-keeping map,
    so sorted keys stay sorted): equal to a build of ``proj``, milliseconds instead
    of seconds. The caches that depend on company numbers are dropped; the demand
    rows' orders (they are numbered by demand row) and the carried walk are kept.
    """
    if (old_to_new < 0).any() or len(inserted) == 0:
        return None
    n, ncat, n_old = proj.n_companies, proj.n_categories, old_ix.n
    mapped = old_to_new.astype(np.int64)

    # the old company indices before which companies were inserted, and how many
    at_old = inserted - np.arange(len(inserted))

    def keys_of(keys: np.ndarray) -> np.ndarray:  # company * ncat + category, sorted
        # the map keeps the order: each key moves by ncat per company inserted before its
        # company, a run of keys per insertion point (no division over the whole array)
        cuts = np.searchsorted(keys, at_old.astype(np.int64) * ncat).tolist()
        return shifted_stretches(keys, [0, *cuts, len(keys)],
                                 [j * ncat for j in range(len(cuts) + 1)])

    def grow(values: np.ndarray, fill: Any) -> np.ndarray:
        return np.insert(values, inserted - np.arange(len(inserted)), fill)

    sk = old_ix.supply_keys  # (supplier * n + buyer) * ncat + category
    if proj.extra.get(PATCHABLE_MARK) and len(sk) == len(proj.sup_supplier):
        # the link table is in key order, its company columns renumbered already: its keys
        # are these (a build takes them so), in one array written in place
        supply_keys = proj.sup_supplier.astype(np.int64)
        supply_keys *= n
        supply_keys += proj.sup_buyer
        supply_keys *= ncat
        supply_keys += proj.sup_category
    else:
        supplier = sk // (n_old * max(ncat, 1))
        buyer = sk // max(ncat, 1) - supplier * n_old
        supply_keys = sk + ((renumbered_sorted(supplier, mapped, inserted) * n
                             - supplier * n_old)
                            + (renumbered(buyer, mapped, inserted) - buyer)) * ncat
    got: dict[str, Any] = {f.name: old_ix.raw(f.name) for f in dataclasses.fields(MatchIndex)
                           if f.name not in ("n", "ncat", "cache", "_cert_valid")}
    got.update(
        decl=insert_rows(old_ix.decl, inserted, mapped),
        main_category=grow(old_ix.main_category, -1).astype(old_ix.main_category.dtype),
        sell=insert_rows(old_ix.sell, inserted, mapped),
        sell_keys=keys_of(old_ix.sell_keys),
        dem_keys=keys_of(old_ix.dem_keys),
        dem_buyer=renumbered_sorted(old_ix.dem_buyer, mapped, inserted),
        buyer_dem_indptr=inserted_pointers(old_ix.buyer_dem_indptr, inserted),
        supply_keys=supply_keys,
        A=insert_rows(old_ix.A, inserted, mapped, columns_too=True),
        AT=insert_rows(old_ix.AT, inserted, mapped, columns_too=True),
        out_deg=grow(old_ix.out_deg, 0.0), in_deg=grow(old_ix.in_deg, 0.0),
        cap_keys=keys_of(old_ix.cap_keys),
        membership=insert_rows(old_ix.membership, inserted, mapped),
        **_insert_regions(old_ix, proj, inserted))
    # the column-major copies renumbered where computed, else left to their first read
    for name, source in (("decl_csc", got["decl"]), ("membership_csc", got["membership"]),
                         ("company_process_csc", proj.company_process)):
        got[name] = insert_rows(getattr(old_ix, name), inserted, mapped) \
            if old_ix.computed(name) else Deferred(
                _float_csc if name == "company_process_csc" else _to_csc, source)
    ix = MatchIndex(n=n, ncat=ncat, **got)
    ix.cache.update({k: v for k, v in list(old_ix.cache.items())
                     if isinstance(k, tuple) and k[:1] == ("order",)})
    bits = old_ix.cache.get("bits")  # category × packed company bits (queries.match)
    if isinstance(bits, np.ndarray):
        ix.cache["bits"] = insert_zero_bits(bits, n, inserted)
    _carry(old_ix, ix, len(inserted))
    for day, m in old_ix._cert_valid.items():
        ix._cert_valid[day] = (np.insert(m, inserted - np.arange(len(inserted)), False, axis=0)
                               if isinstance(m, np.ndarray)
                               else insert_rows(m.tocsr(), inserted, mapped))
    return ix


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
