"""The analytic projection: the whole graph as index maps, numpy arrays and sparse matrices.

Every ranking and analytic function in ``queries/`` reads a :class:`Projection`
rather than the store, so both stores give the same answers and a query never
makes a round trip to the database. The projection is built once from
``store.snapshot()`` and rebuilt by :class:`ProjectionCache` only when the
store's revision changes.

A snapshot with dangling references (written around the stores' checks: an
edit in Neo4j Browser, an old journal) still builds: the rows are taken as
``coopgraph check --repair`` would leave them (:func:`graph.integrity.consistent_tables`
— a record whose required reference dangles is skipped, an optional reference
is cleared), each kind of problem is logged once as a warning, and
``projection.skipped`` counts them.

Conventions: companies, categories, processes and products are numbered
``0..n-1`` in key order (``company_index[id] -> i``); relationship tables are
parallel arrays (``cap_company[j]``, ``cap_category[j]``…); a missing number is
``NaN``.
"""

from __future__ import annotations

import bisect
import logging
import operator
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.errors import NotFound
from coopgraph.graph.integrity import Problem, consistent_snapshot
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore, Snapshot

if TYPE_CHECKING:  # networkx costs ~0.5 s to import; only cooperation_graph needs it
    import networkx as nx

__all__ = ["DERIVED_INPUTS", "InsertedList", "Projection", "ProjectionCache", "okved_codes",
           "same_value"]

_NAN = float("nan")
log = logging.getLogger("coopgraph.projection")
# Records whose references the build below does not look up strictly (a category's
# parent, a product's maker, a membership's cluster, a held or required certification):
# checked before every build. Every other reference raises KeyError when it dangles.
_LENIENT = frozenset({EntityKind.CATEGORY, EntityKind.PRODUCT, EntityKind.MEMBERSHIP,
                      EntityKind.HELD_CERTIFICATION, EntityKind.NEED})


def _ids(rows: list[dict[str, Any]], key: str) -> tuple[list[str], dict[str, int]]:
    ids = [str(r[key]) for r in rows]
    return ids, {v: i for i, v in enumerate(ids)}


def _floats(values: Sequence[Any]) -> np.ndarray:
    """A column (``Snapshot.column``) as floats, NaN where missing."""
    return np.fromiter((_NAN if v is None else float(v) for v in values),
                       dtype=np.float64, count=len(values))


def okved_codes(company: Mapping[str, Any]) -> tuple[str, ...]:
    """A stored company's OKVED2 codes, the main one first."""
    codes = list(company.get("okved") or ())
    main = company.get("okved_main")
    if main:
        codes = [main, *[c for c in codes if c != main]]
    return tuple(codes)


def _shared(values: Iterable[Any]) -> list[Any]:
    """``values`` (immutable: strings, tuples, frozensets) as a list in which equal values
    are one object: copying the list (a patch inserting a row copies it) then touches a
    few objects, not one per row."""
    seen: dict[Any, Any] = {}
    return [seen.setdefault(v, v) for v in values]


def _index_array(values: Sequence[Any], index: Mapping[str, int]) -> np.ndarray:
    """A column of keys as positions in ``index`` (``KeyError`` for an unknown or missing one)."""
    return np.fromiter((index[str(v)] for v in values), dtype=np.int32, count=len(values))



#: in ``projection.extra``: the projection was built from every row of a snapshot and its
#: ids, codes and table rows are in key order (``queries.projection_delta.mark_patchable``)
PATCHABLE_MARK = "patchable"


class InsertedList(Sequence[Any]):
    """A per-company list (names, INNs, regions…) after companies were inserted into
    ``base``, without copying it: copying a list touches every item's reference count,
    ~7 ms for 100k distinct strings out of the cache (queries.projection_delta inserts
    companies). Item ``i`` is an inserted value (``positions``: ascending, in this list's
    numbering) or ``base``'s item ``i`` less the insertions before it; the length is
    ``base``'s plus the insertions. Anything else (iteration, slices, comparison, a
    copy), or more than :data:`MAX_READS` items read, reads the whole list, made once and
    kept; it pickles as that list. Readers
    never change a projection's lists, and neither does this."""

    __slots__ = ("_base", "_list", "_positions", "_reads", "_values")

    #: more insertions than this over one base: the list is made (one copy), see :meth:`over`
    MAX_INSERTED = 64
    #: items read one by one (a bisect each) before the list is made: a reader going
    #: through many companies by index pays one copy, not a bisect per item
    MAX_READS = 256

    def __init__(self, base: Sequence[Any], positions: list[int], values: list[Any]) -> None:
        self._base, self._positions, self._values = base, positions, values
        self._list: list[Any] | None = None
        self._reads = 0

    @classmethod
    def over(cls, old: Sequence[Any], final: list[int], values: list[Any]) -> Sequence[Any]:
        """``old`` with ``values`` inserted at the ascending positions ``final`` of the result
        (a list when ``old`` is one made long ago; successive insertions compose)."""
        if isinstance(old, InsertedList) and old._list is None:
            cuts = [f - k for k, f in enumerate(final)]  # old positions the new ones precede
            merged = sorted([(p + bisect.bisect_right(cuts, p), v)
                             for p, v in zip(old._positions, old._values, strict=True)]
                            + list(zip(final, values, strict=True)), key=lambda pv: pv[0])
            base: Sequence[Any] = old._base
        else:
            merged = list(zip(final, values, strict=True))
            base = old._list if isinstance(old, InsertedList) and old._list is not None \
                else old
        made = cls(base, [p for p, _ in merged], [v for _, v in merged])
        return made.made() if len(merged) > cls.MAX_INSERTED else made

    def made(self) -> list[Any]:
        """The whole list (made on first use, then kept)."""
        if self._list is None:
            items = list(self._base)
            for p, v in zip(self._positions, self._values, strict=True):
                items.insert(p, v)
            self._list = items
        return self._list

    def __len__(self) -> int:
        return len(self._base) + len(self._positions)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return self.made()[i]
        i = operator.index(i)
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("list index out of range")
        if self._list is not None:
            return self._list[i]
        self._reads += 1  # racing readers may miss a count: harmless
        if self._reads > self.MAX_READS:
            return self.made()[i]
        k = bisect.bisect_left(self._positions, i)
        if k < len(self._positions) and self._positions[k] == i:
            return self._values[k]
        return self._base[i - k]

    def __iter__(self) -> Any:
        return iter(self.made())

    def __contains__(self, x: object) -> bool:
        return x in self.made()

    def index(self, x: Any, start: int = 0, stop: int | None = None) -> int:
        return self.made().index(x, start, len(self) if stop is None else stop)

    def count(self, x: Any) -> int:
        return self.made().count(x)

    def copy(self) -> list[Any]:
        return list(self.made())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, InsertedList):
            other = other.made()
        if isinstance(other, list):
            return self.made() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (self.made(),))

    def __repr__(self) -> str:
        return repr(self.made())


def same_value(x: Any, y: Any) -> bool:
    """True when ``x`` and ``y`` hold the same value: arrays (dtype, shape, NaN = NaN),
    sparse matrices, mappings and sequences of them, or plain values; ``x is y`` first."""
    if x is y:
        return True
    if isinstance(x, InsertedList):
        x = x.made()
    if isinstance(y, InsertedList):
        y = y.made()
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                and x.dtype == y.dtype and x.shape == y.shape
                and bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f")))
    if sp.issparse(x) or sp.issparse(y):
        return (sp.issparse(x) and sp.issparse(y) and x.shape == y.shape
                and x.dtype == y.dtype and (x != y).nnz == 0)
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and (_equal_fast(x, y)
                                         or all(same_value(x[k], y[k]) for k in x))
    if isinstance(x, list | tuple) and isinstance(y, list | tuple):
        return len(x) == len(y) and (_equal_fast(x, y) or all(
            same_value(u, v) for u, v in zip(x, y, strict=True)))
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    return bool(x == y)


# The projection's derived structures (cached properties below) and the fields each is
# computed from: a projection patched from another (queries.projection_delta) takes the
# old one's value when these fields are unchanged.
_CAPS = ("cap_company", "cap_category", "company_ids", "category_codes")
_SUPS = ("sup_supplier", "sup_buyer", "company_ids")
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {
    "capability_matrix": _CAPS,
    "capabilities_by_category": ("cap_category", "category_codes"),
    "committed_volume": (*_CAPS, "sup_supplier", "sup_category", "sup_volume"),
    "free_capacity": (*_CAPS, "cap_capacity", "sup_supplier", "sup_category", "sup_volume"),
    "supply_matrix": _SUPS,
    "cooperation_graph": _SUPS,
}


def _equal_fast(x: Any, y: Any) -> bool:
    """``x == y`` where Python can tell (in C); False where it cannot (arrays inside)."""
    try:
        return bool(x == y)
    except ValueError:  # an array's truth value is ambiguous
        return False

@dataclass(eq=False)
class Projection:
    """An immutable, query-ready view of one store revision (see the module docstring)."""

    revision: int
    # companies
    company_ids: list[str]
    company_index: Mapping[str, int]  # a dict, or a shifted one (queries.projection_delta)
    company_names: list[str]
    company_regions: list[str | None]
    company_municipalities: list[str | None]
    company_roles: list[frozenset[str]]
    company_inn: list[str | None]
    # OKVED2 codes from the registries, the main one first (empty when it has none)
    company_okved: list[tuple[str, ...]]
    lat: np.ndarray
    lon: np.ndarray
    # clusters
    cluster_rows: dict[str, dict[str, Any]]
    cluster_members: dict[str, np.ndarray]
    company_clusters: list[frozenset[str]]
    # taxonomy
    category_codes: list[str]
    category_index: dict[str, int]
    category_rows: list[dict[str, Any]]
    category_parent: np.ndarray  # -1 for roots
    category_children: list[list[int]]
    category_depth: np.ndarray
    category_price: np.ndarray
    category_processes: list[np.ndarray]  # process indices each category needs
    process_codes: list[str]
    process_index: dict[str, int]
    process_rows: list[dict[str, Any]]
    # products and bills of materials
    product_ids: list[str]
    product_index: dict[str, int]
    product_rows: list[dict[str, Any]]
    product_maker: np.ndarray  # company index or -1
    product_bom: list[list[tuple[int, float]]]  # product -> [(category, qty)]
    category_bom: list[list[tuple[int, float]]]  # category -> [(category, qty)]
    # capabilities (declared)
    cap_company: np.ndarray
    cap_category: np.ndarray
    cap_capacity: np.ndarray
    cap_lead_time: np.ndarray
    cap_min_order: np.ndarray
    cap_price: np.ndarray
    # existing supply links
    sup_supplier: np.ndarray
    sup_buyer: np.ndarray
    sup_category: np.ndarray
    sup_volume: np.ndarray
    sup_price: np.ndarray
    sup_since: list[str | None]
    # imports and needs
    imp_company: np.ndarray
    imp_category: np.ndarray
    imp_volume: np.ndarray
    imp_price: np.ndarray
    imp_country: list[str]
    need_company: np.ndarray
    need_category: np.ndarray
    need_qty: np.ndarray
    need_max_distance: np.ndarray
    need_certs: list[list[str]]
    # processes and certifications held
    company_process: sp.csr_matrix  # company x process, 1 where held
    company_certs: list[dict[str, str | None]]  # company -> {cert: valid_until}
    extra: dict[str, Any] = field(default_factory=dict)
    certification_codes: list[str] = field(default_factory=list)  # the Certification nodes
    # dangling references left out, by reference ("supply.category → category": 20)
    skipped: dict[str, int] = field(default_factory=dict)
    # cooperation ties of every type (graph.models.Tie), as stored, between known companies
    tie_rows: list[dict[str, Any]] = field(default_factory=list)

    # --- construction ---------------------------------------------------------------

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> Projection:
        """Build the projection from a store snapshot (dangling references left out).

        The build looks most references up strictly (``cidx[row["company_id"]]``),
        so a consistent snapshot is checked beforehand only for the references it
        would let through (:data:`_LENIENT`: a membership's cluster, a held
        certification's code…), which are few rows; a strict lookup that fails
        means a dangling reference, and the build starts again from the fully
        checked tables. Either way the projection is the repaired store's.
        """
        checked, problems = consistent_snapshot(snapshot, kinds=_LENIENT)
        try:
            return cls._build(checked, problems)
        except KeyError:
            checked, problems = consistent_snapshot(snapshot)
            if not problems:
                raise  # not a dangling reference: a real bug
            return cls._build(checked, problems)

    @classmethod
    def _build(cls, snapshot: Snapshot, problems: list[Problem]) -> Projection:
        skipped: dict[str, int] = {}
        for problem in problems:
            skipped[problem.reference.text] = skipped.get(problem.reference.text, 0) + 1
        for text, n in skipped.items():
            log.warning("projection of revision %s: %d dangling reference(s) %s left out; "
                        "run `coopgraph check` to list them, `--repair` to fix them",
                        snapshot.revision, n, text)
        companies = snapshot.rows(EntityKind.COMPANY)
        company_ids, cidx = _ids(companies, "id")
        categories = snapshot.rows(EntityKind.CATEGORY)
        category_codes, kidx = _ids(categories, "code")
        processes = snapshot.rows(EntityKind.PROCESS)
        process_codes, pidx = _ids(processes, "code")
        products = snapshot.rows(EntityKind.PRODUCT)
        product_ids, prodidx = _ids(products, "id")
        n_comp, n_cat = len(company_ids), len(category_codes)

        parent = np.full(n_cat, -1, dtype=np.int32)
        children: list[list[int]] = [[] for _ in range(n_cat)]
        for i, row in enumerate(categories):
            p = row.get("parent")
            if p is not None and p in kidx:
                parent[i] = kidx[p]
                children[kidx[p]].append(i)
        depth = np.zeros(n_cat, dtype=np.int32)
        for i in range(n_cat):
            d, j, seen = 0, int(parent[i]), 0
            while j >= 0 and seen <= n_cat:
                d, j, seen = d + 1, int(parent[j]), seen + 1
            depth[i] = d

        clusters = {str(r["id"]): r for r in snapshot.rows(EntityKind.CLUSTER)}
        members: dict[str, list[int]] = {c: [] for c in clusters}
        company_clusters: list[set[str]] = [set() for _ in range(n_comp)]
        for row in snapshot.rows(EntityKind.MEMBERSHIP):
            i = cidx[row["company_id"]]
            members.setdefault(row["cluster_id"], []).append(i)
            company_clusters[i].add(row["cluster_id"])

        product_bom: list[list[tuple[int, float]]] = [[] for _ in products]
        category_bom: list[list[tuple[int, float]]] = [[] for _ in categories]
        for row in snapshot.rows(EntityKind.BOM_LINE):
            line = (kidx[row["child"]], float(row.get("qty", 1.0)))
            if row.get("parent_kind", "product") == "product":
                product_bom[prodidx[row["parent"]]].append(line)
            else:
                category_bom[kidx[row["parent"]]].append(line)

        # the large kinds are read a column at a time (a columnar snapshot makes no dicts)
        def caps(name: str) -> Sequence[Any]:
            return snapshot.column(EntityKind.CAPABILITY, name)

        def sups(name: str) -> Sequence[Any]:
            return snapshot.column(EntityKind.SUPPLY, name)

        def imps(name: str) -> Sequence[Any]:
            return snapshot.column(EntityKind.IMPORT, name)

        def needs(name: str) -> Sequence[Any]:
            return snapshot.column(EntityKind.NEED, name)

        def held(name: str) -> Sequence[Any]:
            return snapshot.column(EntityKind.COMPANY_PROCESS, name)

        company_process = sp.csr_matrix(
            (np.ones(snapshot.count(EntityKind.COMPANY_PROCESS), dtype=np.int8),
             (_index_array(held("company_id"), cidx), _index_array(held("process"), pidx))),
            shape=(n_comp, len(process_codes)))
        certs: list[dict[str, str | None]] = [{} for _ in range(n_comp)]
        for row in snapshot.rows(EntityKind.HELD_CERTIFICATION):
            certs[cidx[row["company_id"]]][row["cert"]] = row.get("valid_until")

        return cls(
            revision=snapshot.revision,
            company_ids=company_ids,
            company_index=cidx,
            company_names=[str(r["name"]) for r in companies],
            company_regions=_shared(r.get("region") for r in companies),
            company_municipalities=_shared(r.get("municipality") for r in companies),
            company_roles=_shared(frozenset(r.get("roles", ())) for r in companies),
            company_inn=[r.get("inn") for r in companies],
            company_okved=_shared(okved_codes(r) for r in companies),
            lat=_floats([r.get("lat") for r in companies]),
            lon=_floats([r.get("lon") for r in companies]),
            cluster_rows=clusters,
            cluster_members={c: np.array(sorted(v), dtype=np.int32) for c, v in members.items()},
            company_clusters=_shared(frozenset(s) for s in company_clusters),
            category_codes=category_codes,
            category_index=kidx,
            category_rows=categories,
            category_parent=parent,
            category_children=children,
            category_depth=depth,
            category_price=_floats([r.get("unit_price") for r in categories]),
            category_processes=[
                np.array(sorted(pidx[p] for p in r.get("processes", ()) if p in pidx),
                         dtype=np.int32)
                for r in categories
            ],
            process_codes=process_codes,
            process_index=pidx,
            process_rows=processes,
            product_ids=product_ids,
            product_index=prodidx,
            product_rows=products,
            product_maker=np.fromiter(
                (cidx.get(str(r.get("maker_id")), -1) for r in products),
                dtype=np.int32, count=len(products)),
            product_bom=product_bom,
            category_bom=category_bom,
            cap_company=_index_array(caps("company_id"), cidx),
            cap_category=_index_array(caps("category"), kidx),
            cap_capacity=_floats(caps("capacity_per_year")),
            cap_lead_time=_floats(caps("lead_time_days")),
            cap_min_order=_floats(caps("min_order")),
            cap_price=_floats(caps("unit_price")),
            sup_supplier=_index_array(sups("supplier_id"), cidx),
            sup_buyer=_index_array(sups("buyer_id"), cidx),
            sup_category=_index_array(sups("category"), kidx),
            sup_volume=_floats(sups("volume_per_year")),
            sup_price=_floats(sups("unit_price")),
            sup_since=_shared(sups("since")),
            imp_company=_index_array(imps("company_id"), cidx),
            imp_category=_index_array(imps("category"), kidx),
            imp_volume=_floats(imps("volume_per_year")),
            imp_price=_floats(imps("unit_price")),
            imp_country=_shared("unknown" if v is None else str(v) for v in imps("country")),
            need_company=_index_array(needs("company_id"), cidx),
            need_category=_index_array(needs("category"), kidx),
            need_qty=_floats(needs("qty_per_year")),
            need_max_distance=_floats(needs("max_distance_km")),
            need_certs=[list(v or ()) for v in needs("required_certs")],
            company_process=company_process,
            company_certs=certs,
            certification_codes=[str(r["code"]) for r in snapshot.rows(EntityKind.CERTIFICATION)],
            skipped=skipped,
            tie_rows=[r for r in snapshot.rows(EntityKind.TIE)
                      if r["company_id"] in cidx and r["partner_id"] in cidx],
        )

    # --- sizes and lookups ----------------------------------------------------------

    @property
    def n_companies(self) -> int:
        return len(self.company_ids)

    @property
    def n_categories(self) -> int:
        return len(self.category_codes)

    def company(self, company_id: str) -> int:
        """The index of ``company_id``; :class:`NotFound` when unknown."""
        try:
            return self.company_index[company_id]
        except KeyError:
            raise NotFound(f"no company with id {company_id!r}") from None

    def category(self, code: str) -> int:
        """The index of category ``code``; :class:`NotFound` when unknown."""
        try:
            return self.category_index[code]
        except KeyError:
            raise NotFound(f"no category with code {code!r}") from None

    def product(self, product_id: str) -> int:
        """The index of ``product_id``; :class:`NotFound` when unknown."""
        try:
            return self.product_index[product_id]
        except KeyError:
            raise NotFound(f"no product with id {product_id!r}") from None

    def cluster(self, cluster_id: str) -> np.ndarray:
        """The member indices of ``cluster_id``; :class:`NotFound` when unknown."""
        if cluster_id not in self.cluster_rows:
            raise NotFound(f"no cluster with id {cluster_id!r}")
        return self.cluster_members.get(cluster_id, np.zeros(0, dtype=np.int32))

    # --- derived structures (computed on first use, then kept) ------------------------

    @cached_property
    def capability_matrix(self) -> sp.csr_matrix:
        """company × category, value = 1 + the capability row (0 where none is declared)."""
        rows = np.arange(len(self.cap_company), dtype=np.int64) + 1
        return sp.csr_matrix((rows, (self.cap_company, self.cap_category)),
                             shape=(self.n_companies, self.n_categories))

    @cached_property
    def capabilities_by_category(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, rows)``: category ``c``'s capability rows are ``rows[indptr[c]:indptr[c+1]]``.

        CSR-style grouping (rows in stable order) so that chains/gaps find a
        category's declared suppliers without scanning every capability.
        """
        n = self.n_categories
        # a stable sort of 8- or 16-bit integers is a radix sort: 10-15× faster than of int32
        narrow = np.uint8 if n <= 256 else np.uint16 if n <= 65536 else self.cap_category.dtype
        rows = np.argsort(self.cap_category.astype(narrow), kind="stable").astype(np.int64)
        counts = np.bincount(self.cap_category, minlength=self.n_categories)
        indptr = np.zeros(self.n_categories + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, rows

    @cached_property
    def committed_volume(self) -> np.ndarray:
        """Per capability row: the yearly volume already sold in that category (existing links)."""
        committed = np.zeros(len(self.cap_company))
        if len(self.sup_supplier) == 0 or len(self.cap_company) == 0:
            return committed
        lookup = self.capability_matrix[self.sup_supplier, self.sup_category].A1
        volume = np.nan_to_num(self.sup_volume)
        has = lookup > 0
        np.add.at(committed, lookup[has] - 1, volume[has])
        return committed

    @cached_property
    def free_capacity(self) -> np.ndarray:
        """Per capability row: capacity minus committed volume (NaN when capacity is unknown)."""
        return self.cap_capacity - self.committed_volume

    @cached_property
    def supply_matrix(self) -> sp.csr_matrix:
        """supplier × buyer, value = number of categories supplied (existing links)."""
        ones = np.ones(len(self.sup_supplier), dtype=np.float64)
        m = sp.csr_matrix((ones, (self.sup_supplier, self.sup_buyer)),
                          shape=(self.n_companies, self.n_companies))
        m.sum_duplicates()
        return m

    @cached_property
    def cooperation_graph(self) -> nx.Graph:
        """Undirected company graph of existing supply links (for centrality, components)."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.n_companies))
        coo = self.supply_matrix.tocoo()
        graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
        return graph

    def category_ancestors(self, index: int) -> list[int]:
        """The parents of category ``index`` up to the root (nearest first)."""
        out: list[int] = []
        j = int(self.category_parent[index])
        while j >= 0 and len(out) <= self.n_categories:
            out.append(j)
            j = int(self.category_parent[j])
        return out

    def distance_km(self, i: int, j: np.ndarray | int) -> np.ndarray:
        """Great-circle (haversine) distance from company ``i`` to company/companies ``j``."""
        lat1, lon1 = np.radians(self.lat[i]), np.radians(self.lon[i])
        lat2, lon2 = np.radians(self.lat[j]), np.radians(self.lon[j])
        a = (np.sin((lat2 - lat1) / 2) ** 2
             + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
        return np.asarray(6371.0088 * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


class ProjectionCache:
    """Holds one projection per store and keeps it at the store's analytic revision.

    When the store has moved on, the projection is first *patched* with the
    writes since (:mod:`queries.projection_delta`, milliseconds); only when that
    cannot be done is it rebuilt from ``store.snapshot()`` (seconds). One
    refresh runs at a time.

    ``max_wait=None`` (the CLI, tests): :meth:`get` answers the current revision,
    waiting for the refresh. ``max_wait=s`` (the API): the refresh runs on a
    background thread and :meth:`get` waits for it at most ``s`` seconds, then
    answers the previous projection — a reader is never held up by a rebuild;
    ``projection.revision`` says which revision it was computed at.

    :meth:`serve` (the API with ``projection_wait=0``) never waits at all: it answers
    the projection held now and :meth:`poke` s the background worker, which looks at
    the store and refreshes while readers go on being answered.

    Projections are immutable and shared across threads: a refresh makes a new
    object and swaps it in (one reference assignment), so readers take no lock.
    """

    # the background worker looks at the store at most this often when poked repeatedly
    # (a Neo4j revision is a round trip; readers poke on every request)
    poll_s = 0.02
    # a poked refresh starts at least this long after the last one ended, and after
    # ``spacing`` times the time that one took (capped at 2 s): the writes in between are
    # applied together, and refreshing takes at most 1 / (1 + spacing) of the time
    min_interval_s = 0.25
    spacing = 2.0

    def __init__(self, store: GraphStore,
                 builder: Callable[[Snapshot], Projection] = Projection.from_snapshot,
                 *, max_wait: float | None = None, incremental: bool = True,
                 warm: Callable[[Projection], object] | None = None,
                 also: Callable[[], object] | None = None) -> None:
        self.store = store
        self._builder = builder
        self.max_wait = max_wait
        self.incremental = incremental  # False: always rebuild (the baseline of the benches)
        self._warm = warm  # run on a new projection before it is published (indexes)
        self._projection: Projection | None = None
        self._lock = threading.Lock()  # held by the one refresh that runs
        self._worker: threading.Thread | None = None
        self._worker_guard = threading.Lock()
        self.builds = 0  # full rebuilds from a snapshot
        self.deltas = 0  # refreshes by patching
        self.last_error: BaseException | None = None
        self._published_at = 0.0  # time.monotonic() of the last refresh's end
        self._last_refresh_s = 0.0  # how long it took
        self._poked = False  # asked to look at the store again (guarded by _worker_guard)
        self._checked_at = -1e9  # time.monotonic() when the worker last looked at the store
        self.also = also  # run by the background worker after each look (e.g. other caches)
        self._closed = False  # set by close(): the worker stops looking

    @property
    def current(self) -> Projection | None:
        """The projection held now, whatever its revision (never blocks)."""
        return self._projection

    def serve(self) -> Projection | None:
        """The projection held now without waiting for anything (``None`` before the first
        build), after :meth:`poke`: the worker brings it up to the store meanwhile."""
        current = self._projection
        if current is not None:
            self.poke()
        return current

    def poke(self) -> None:
        """Have the background worker look at the store (and refresh) soon; never blocks.

        A worker already running looks again after its refresh; a new one starts after
        the spacing of refreshes (the time the last one took) and at most every
        :attr:`poll_s` seconds, so a stream of requests is one look per interval.
        """
        with self._worker_guard:
            self._poked = True
            worker = self._worker
            if worker is not None and worker.is_alive():
                return
            worker = threading.Thread(target=self._refresh_in_background, args=(True,),
                                      name="coopgraph-projection", daemon=True)
            self._worker = worker
            worker.start()

    def _delay(self) -> float:
        """Seconds to sleep before the next look: the spacing of refreshes and of looks."""
        now = time.monotonic()
        spaced = max(self.min_interval_s, min(self.spacing * self._last_refresh_s, 2.0))
        return max(self._published_at + spaced - now, self._checked_at + self.poll_s - now, 0.0)

    def _stale(self, projection: Projection | None) -> bool:
        return projection is None or self.store.analytic_revision() > projection.revision

    def get(self) -> Projection:
        """The projection of the store's current revision (see the class docstring)."""
        current = self._projection
        if current is not None and self.max_wait is not None \
                and self.max_wait < self._last_refresh_s and self._refreshing():
            # A refresh is under way and the reader would not wait it out: answer now,
            # without asking the store (whose lock a snapshot may hold).
            return current
        if not self._stale(current):
            assert current is not None
            return current
        if current is None or self.max_wait is None:
            with self._lock:
                if self._stale(self._projection):
                    self._refresh()
                projection = self._projection
                assert projection is not None
                return projection
        patient = self.max_wait >= self._last_refresh_s  # would wait out a whole refresh
        worker, started = self._start_worker(patient)
        if worker is not None and (started or patient):
            worker.join(self.max_wait)  # a refresh started now is often a patch of ms
        projection = self._projection
        assert projection is not None
        return projection

    def _refreshing(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

    def _start_worker(self, patient: bool) -> tuple[threading.Thread | None, bool]:
        """The running background refresh, or a new one; and whether it was started now.

        Unless the reader is ``patient`` (would wait for a whole refresh), refreshes
        are spaced by at least the time the last one took — at most half of the
        time is spent refreshing while writes keep coming, so readers keep a share
        of the CPU, and the writes in between are applied together: ``(None, False)``.
        """
        with self._worker_guard:
            worker = self._worker
            if worker is not None and worker.is_alive():
                return worker, False
            if not patient and time.monotonic() < self._published_at + self._last_refresh_s:
                return None, False
            worker = threading.Thread(target=self._refresh_in_background,
                                      name="coopgraph-projection", daemon=True)
            self._worker = worker
            worker.start()
            return worker, True

    def _refresh_in_background(self, spaced: bool = False) -> None:
        """Refresh if the store moved; again while :meth:`poke` was called meanwhile.

        ``spaced`` (started by a poke): sleep out the spacing first (:meth:`_delay`).
        """
        while True:
            if spaced and (delay := self._delay()) > 0:
                time.sleep(delay)
            spaced = True
            with self._worker_guard:
                self._poked = False
                if self._closed:
                    self._worker = None
                    return
            self._checked_at = time.monotonic()
            try:
                with self._lock:
                    if self._stale(self._projection):
                        self._refresh()
                self.last_error = None
                if self.also is not None and not self._closed:
                    self.also()
            except Exception as exc:  # the store is down: keep serving what we have
                self.last_error = exc
                log.warning("projection refresh failed; serving revision %s: %s",
                            getattr(self._projection, "revision", None), exc)
            with self._worker_guard:
                if not self._poked:  # a later poke() finds no worker and starts one
                    if self._worker is threading.current_thread():
                        self._worker = None
                    return

    def _refresh(self) -> None:
        """Patch the projection up to the store's revision, or rebuild it (lock held)."""
        started = time.monotonic()
        try:
            self._refresh_now()
        finally:
            self._published_at = time.monotonic()
            self._last_refresh_s = self._published_at - started

    def _refresh_now(self) -> None:
        from coopgraph.queries.projection_delta import apply_changes, mark_patchable

        current = self._projection
        if current is not None and self.incremental:
            changes = self.store.changes_since(current.revision)
            if changes is not None:
                patched = apply_changes(current, changes, self.store)
                if patched is not None:
                    self._publish(patched)
                    self.deltas += 1
                    return
        snapshot = self.store.snapshot()
        built = self._builder(snapshot)
        if isinstance(built, Projection):
            mark_patchable(built)
            old_ix = current.extra.get("match_index") if current is not None else None
            if old_ix is not None and "match_index" not in built.extra:
                # what the old index learnt about the network (the tuned walk) may carry over
                built.extra["previous_match_index"] = old_ix
        del snapshot
        self._publish(built)
        self.builds += 1

    def _publish(self, projection: Projection) -> None:
        if self._warm is not None:
            try:
                self._warm(projection)
            except Exception:  # a warm-up is an optimisation: the request builds what it needs
                log.warning("warming projection %s failed", projection.revision, exc_info=True)
        self._projection = projection

    def close(self, timeout: float = 30.0) -> None:
        """Stop the background worker looking at the store (the store is being closed),
        and wait up to ``timeout`` seconds for a refresh under way to end, so that no
        worker reads — or reopens — a store after it was closed."""
        with self._worker_guard:
            self._closed = True
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def invalidate(self) -> None:
        """Forget the cached projection (the next get() rebuilds)."""
        with self._lock:
            self._projection = None


def iter_company_ids(projection: Projection, indices: Iterable[int]) -> list[str]:
    """Company ids for an iterable of indices."""
    return [projection.company_ids[int(i)] for i in indices]
