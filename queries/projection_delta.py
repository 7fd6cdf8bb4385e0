"""Incremental projection: a new :class:`Projection` from an old one plus the writes since.

A store lists the writes after a revision (:meth:`GraphStore.changes_since`, see
:mod:`graph.changelog`); :func:`apply_changes` re-reads only the records those
writes touched (:meth:`GraphStore.fetch`) and patches a *copy* of the arrays
they live in — the old projection is never changed, so readers holding it need
no lock. What it patches:

* capabilities, supply links, imports and needs — parallel arrays in key order
  (the order :meth:`Projection.from_snapshot` gives them): a changed row is
  overwritten in place of the copy, a new one inserted where its key sorts, a
  removed one deleted; the places are found by binary search on the arrays
  themselves (ids and codes are numbered in key order, so the rows are sorted by
  their index columns: :data:`_KEY_COLUMNS`), each column copied once;
* processes held (the company × process matrix), certifications held,
  memberships; a product's attributes (its maker, volume) when it already existed;
* cooperation ties of every type (``tie_rows``, the Resolution 779 KPIs' input):
  the touched keys' rows replaced, the list kept in key order;
* a company's attributes (name, place, roles…);
* companies added or removed: every company index shifts, so the projection is
  first *renumbered* (:func:`_renumber_companies`: the company lists get the new
  companies, every array of company indices is mapped to the new numbering, the
  rows of a removed company are dropped — the store's cascade lists them in the
  same change anyway), then the other kinds are patched on the renumbered one.

Anything else answers ``None`` and the caller rebuilds from a snapshot: a
category, process, product, cluster or certification added or removed (the
taxonomy's shape changed), BOM lines, a ``clear``, a load of more than
:data:`~graph.changelog.MAX_KEYS` rows (logged as ``full``; a smaller one lists its
keys on both stores, so a small ingest is patched), a projection built
with dangling references left out, or a delta larger than :data:`MAX_FRACTION`
of the projection's rows.

The column tables below mirror :meth:`Projection._build`; the oracle test
(``tests/test_projection_delta.py``) compares every field of a patched
projection with one built from scratch, on both stores, so a column added
there and not here fails it.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import logging
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.changelog import ANALYTIC_KINDS, Change, merge_changes
from coopgraph.graph.schema import KINDS, EntityKind
from coopgraph.graph.store import GraphStore, row_keys
from coopgraph.queries.candidates import MatchIndex
from coopgraph.queries.index_patch import Touched, patch_match_index, renumber_match_index
from coopgraph.queries.projection import (
    DERIVED_INPUTS,
    PATCHABLE_MARK,
    InsertedList,
    Projection,
    okved_codes,
    same_value,
)
from coopgraph.queries.ranking_caches import patch_ranking_caches
from coopgraph.queries.registry import registry_rows
from coopgraph.queries.sparse_rows import (
    insert_rows,
    renumbered_sorted,
    row_numbers,
    shifted_stretches,
    splice_rows,
)
from coopgraph.queries.sparse_rows import (
    renumbered as renumbered_numbers,  # the local name ``renumbered`` is the result below
)

__all__ = ["MAX_FRACTION", "PATCHABLE_MARK", "ShiftedIndex", "apply_changes",
           "diff_match_indexes", "diff_projections", "mark_patchable"]

MAX_FRACTION = 0.05  # a delta touching more of the projection's rows: rebuild instead
log = logging.getLogger("coopgraph.projection")
_NAN = float("nan")
Key = tuple[str, ...]
Row = dict[str, Any]


def _float(field: str) -> Callable[[Row, Projection], float]:
    def get(row: Row, _p: Projection) -> float:
        v = row.get(field)
        return _NAN if v is None else float(v)
    return get


def _company(field: str) -> Callable[[Row, Projection], int]:
    return lambda row, p: p.company_index[str(row[field])]


def _category(field: str) -> Callable[[Row, Projection], int]:
    return lambda row, p: p.category_index[str(row[field])]


# kind -> [(projection field, value of a row)]: numpy fields are int32 (indices) or float64.
_COLUMNS: dict[EntityKind, list[tuple[str, Callable[[Row, Projection], Any]]]] = {
    EntityKind.CAPABILITY: [
        ("cap_company", _company("company_id")), ("cap_category", _category("category")),
        ("cap_capacity", _float("capacity_per_year")), ("cap_lead_time", _float("lead_time_days")),
        ("cap_min_order", _float("min_order")), ("cap_price", _float("unit_price"))],
    EntityKind.SUPPLY: [
        ("sup_supplier", _company("supplier_id")), ("sup_buyer", _company("buyer_id")),
        ("sup_category", _category("category")), ("sup_volume", _float("volume_per_year")),
        ("sup_price", _float("unit_price")), ("sup_since", lambda r, _p: r.get("since"))],
    EntityKind.IMPORT: [
        ("imp_company", _company("company_id")), ("imp_category", _category("category")),
        ("imp_volume", _float("volume_per_year")), ("imp_price", _float("unit_price")),
        ("imp_country", lambda r, _p: str(r.get("country", "unknown")))],
    EntityKind.NEED: [
        ("need_company", _company("company_id")), ("need_category", _category("category")),
        ("need_qty", _float("qty_per_year")), ("need_max_distance", _float("max_distance_km")),
        ("need_certs", lambda r, _p: list(r.get("required_certs", ())))],
}
_OTHER = frozenset({EntityKind.COMPANY, EntityKind.PRODUCT, EntityKind.COMPANY_PROCESS,
                    EntityKind.HELD_CERTIFICATION, EntityKind.MEMBERSHIP, EntityKind.TIE})
PATCHABLE = frozenset(_COLUMNS) | _OTHER


# kind -> the index columns its key names, in key order, and the index each looks up. Ids
# and codes are numbered in key order, so the rows (in key order) are sorted by these
# columns too, lexicographically: a key's row — or where a new one goes — is found by
# binary search on the arrays themselves, with no list of keys kept beside them.
_KEY_COLUMNS: dict[EntityKind, tuple[tuple[str, str], ...]] = {
    EntityKind.CAPABILITY: (("cap_company", "company"), ("cap_category", "category")),
    EntityKind.SUPPLY: (("sup_supplier", "company"), ("sup_buyer", "company"),
                        ("sup_category", "category")),
    EntityKind.IMPORT: (("imp_company", "company"), ("imp_category", "category")),
    EntityKind.NEED: (("need_company", "company"), ("need_category", "category")),
}
# the last part of a key held as text (an import's country), after the index columns
_KEY_TEXT: dict[EntityKind, str] = {EntityKind.IMPORT: "imp_country"}


def mark_patchable(projection: Projection) -> Projection:
    """Mark ``projection`` as one :func:`apply_changes` can patch: built from every row of
    a snapshot (none skipped), its ids, codes and table rows in key order (checked here,
    vectorised: milliseconds beside the seconds of a build; a projection failing the
    check is rebuilt after each write instead)."""
    if projection.skipped:
        return projection
    if _in_key_order(projection):
        projection.extra[PATCHABLE_MARK] = True
    else:
        log.warning("projection of revision %s: rows not in key order; every write will "
                    "rebuild it instead of patching it", projection.revision)
    return projection


def _in_key_order(proj: Projection) -> bool:
    """True when the companies, categories and every table's rows are in key order."""
    for codes in (proj.company_ids, proj.category_codes):
        if not all(map(operator.lt, codes, codes[1:])):
            return False
    sizes = {"company": proj.n_companies, "category": proj.n_categories}
    for kind, columns in _KEY_COLUMNS.items():
        n = len(getattr(proj, columns[0][0]))
        if n < 2:
            continue
        code = np.zeros(n, dtype=np.int64)  # the index tuple as one number (< 2**63)
        for name, index in columns:
            code = code * sizes[index] + getattr(proj, name)
        step = np.diff(code)
        text = _KEY_TEXT.get(kind)
        if text is None:
            if not (step > 0).all():
                return False
            continue
        values = getattr(proj, text)
        if (step < 0).any() or any(values[i] >= values[i + 1]
                                   for i in np.flatnonzero(step == 0).tolist()):
            return False
    return True


def apply_changes(projection: Projection, changes: list[Change], store: GraphStore,
                  revision: int | None = None) -> Projection | None:
    """``projection`` with ``changes`` applied (rows re-read from ``store``), or ``None``.

    ``None`` means: rebuild from a snapshot (see the module docstring for when).
    ``revision`` labels the result (default: the last change's).
    """
    if not changes:
        return projection
    if not projection.extra.get(PATCHABLE_MARK) or projection.skipped:
        return None
    touched, full = merge_changes(changes)
    # kinds no analysis reads (workflow records) change nothing here
    touched = {k: v for k, v in touched.items() if k in ANALYTIC_KINDS}
    if full or not touched.keys() <= PATCHABLE:
        return None
    total = len(projection.cap_company) + len(projection.sup_supplier) + projection.n_companies
    if sum(map(len, touched.values())) > max(50, MAX_FRACTION * total):
        return None
    fields: dict[str, Any] = {}
    base, renumbered = projection, None
    edited: list[str] = []  # companies whose attributes were rewritten
    try:
        company_keys = touched.pop(EntityKind.COMPANY, None)
        if company_keys:
            wanted = sorted(company_keys)
            rows = store.fetch(EntityKind.COMPANY, wanted)
            renumbered = _renumber_companies(projection, wanted, rows)
            if renumbered is not None:
                base = renumbered.projection
                rows = [r for r in rows if str(r["id"]) not in renumbered.added]
            _patch_companies(base, wanted, rows, fields)
            edited = [str(r["id"]) for r in rows]
        written = _written(base, touched)
        edits: dict[EntityKind, list[_Edit]] = {}  # per table kind, as _patch_table made them
        for kind, keys in touched.items():
            wanted = sorted(keys)
            rows = store.fetch(kind, wanted)
            patch = _NODE_PATCHES.get(kind)
            if patch is None:
                edits[kind] = _patch_table(base, kind, wanted, rows, fields)
            elif not patch(base, wanted, rows, fields):
                return None
    except KeyError:  # a row names a node the projection does not have: rebuild
        return None
    patched = dataclasses.replace(
        base, revision=changes[-1].revision if revision is None else revision,
        extra={PATCHABLE_MARK: True}, **fields)
    _carry_derived(base, patched)
    _patch_committed(base, patched, written, edits.get(EntityKind.CAPABILITY, []))
    if "capability_matrix" in vars(projection) and "capability_matrix" not in vars(patched):
        vars(patched)["capability_matrix"] = _capability_matrix(  # the ranking reads it
            patched, vars(base).get("capability_matrix"), edits.get(EntityKind.CAPABILITY, []),
            base)
    _carry_registry(projection, patched, renumbered, edited)
    old_ix = projection.extra.get("match_index")
    if isinstance(old_ix, MatchIndex):  # patched too: rebuilding it costs seconds at 100k
        base_ix = None
        if renumbered is not None and not renumbered.removed:
            base_ix = renumber_match_index(old_ix, base, renumbered.old_to_new,
                                           renumbered.inserted)
        elif renumbered is None:
            base_ix = old_ix
        if base_ix is not None:
            notes: dict[str, Any] = {}
            ix = patch_match_index(base_ix, base, patched, written, notes)
            if "demand" in notes and ix is not base_ix:  # the ranking's caches follow
                patch_ranking_caches(base_ix, ix, notes["demand"])
            patched.extra["match_index"] = ix
        else:  # companies removed: the index is built afresh (keeping what carries over)
            patched.extra["match_index"] = patch_match_index(old_ix, projection, patched)
    return patched


def _written(proj: Projection, touched: dict[EntityKind, Any]) -> Touched | None:
    """The companies and supply links the writes name, as indices of ``proj`` (for the
    match index's row-wise patches); ``None`` when a written key names a company or
    category ``proj`` lacks (then the match index parts are rebuilt whole)."""
    ci, cat = proj.company_index, proj.category_index
    try:
        companies = [ci[k[0]] for kind in (EntityKind.CAPABILITY, EntityKind.NEED,
                                           EntityKind.IMPORT) for k in touched.get(kind, ())]
        links = [(ci[s], ci[b], cat[c]) for s, b, c in touched.get(EntityKind.SUPPLY, ())]
    except KeyError:
        return None
    return Touched(np.array(companies, dtype=np.int64),
                   np.array(links, dtype=np.int64).reshape(-1, 3))


def _patch_committed(old: Projection, new: Projection, written: Touched | None,
                     cap_edits: list[_Edit]) -> None:
    """``committed_volume`` and ``free_capacity`` of ``new`` from ``old``'s: the capability
    rows added or removed (``cap_edits``, from :func:`_patch_table`) spliced in or out,
    and the rows of the (supplier, category) pairs of the written supply links and of the
    added capabilities summed again, in row order as the build sums them."""
    computed, mine = vars(old), vars(new)
    if written is None or "committed_volume" not in computed or "committed_volume" in mine:
        return
    moved = [(pos, what, [0.0] if what == _INSERT else None)
             for pos, what, _values in cap_edits if what != _REPLACE]
    pairs = {(int(s), int(c)) for s, _b, c in written.links.tolist()}
    pairs.update((int(values[0]), int(values[1])) for _pos, what, values in cap_edits
                 if what == _INSERT and values is not None)
    free: np.ndarray | None = None
    if moved:
        committed = _splice(computed["committed_volume"], moved, 0)
    else:
        committed = computed["committed_volume"].copy()
        if "free_capacity" in computed and new.cap_capacity is old.cap_capacity:
            free = computed["free_capacity"].copy()  # patched row by row below
    suppliers = new.sup_supplier
    for s, c in sorted(pairs):
        row, found = _find(new, EntityKind.CAPABILITY, (s, c))
        if not found:
            continue
        # the column's own type: searching with Python ints would cast a copy of it
        lo, hi = suppliers.searchsorted(np.array([s, s + 1], dtype=suppliers.dtype))
        total = 0.0  # np.add.at's order: one row after the other
        for v in np.nan_to_num(new.sup_volume[lo:hi][new.sup_category[lo:hi] == c]).tolist():
            total += v
        committed[row] = total
        if free is not None:
            free[row] = new.cap_capacity[row] - total
    mine["committed_volume"] = committed
    mine["free_capacity"] = new.cap_capacity - committed if free is None else free


def _capability_matrix(proj: Projection, before: sp.csr_matrix | None = None,
                       edits: list[_Edit] | None = None, base: Projection | None = None
                       ) -> sp.csr_matrix:
    """:attr:`Projection.capability_matrix` of a patchable projection, built as CSR directly:
    its capability rows are in key order, so a company's entries are one run of them,
    categories ascending — no sort (a few ms at 100k companies instead of a coo build).
    With the matrix ``before`` of ``base`` (same companies) and the capability ``edits``
    that made ``proj`` from it, the row pointers are ``before``'s moved by the rows each
    company gained or lost (a stretch per company) instead of counted again."""
    n = len(proj.cap_company)
    index_type = np.int32 if max(n, proj.n_categories) < 2**31 else np.int64
    indptr = None
    if before is not None and edits is not None and base is not None \
            and before.shape == (proj.n_companies, proj.n_categories) \
            and len(edits) <= _FEW and before.indptr[-1] == len(base.cap_company):
        gained: dict[int, int] = {}
        for pos, what, values in edits:
            if what == _INSERT and values is not None:
                gained[int(values[0])] = gained.get(int(values[0]), 0) + 1
            elif what == _DELETE:
                company = int(base.cap_company[pos])
                gained[company] = gained.get(company, 0) - 1
        companies = sorted(gained)
        indptr = shifted_stretches(
            before.indptr, [0, *(c + 1 for c in companies), proj.n_companies + 1],
            [0, *itertools.accumulate(gained[c] for c in companies)], dtype=np.int64)
        if indptr[-1] != n:  # not the edits that made proj: count again
            indptr = None
    if indptr is None:
        counts = np.bincount(proj.cap_company, minlength=proj.n_companies)
        indptr = np.zeros(proj.n_companies + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
    # the values (row + 1) a read-only view of one shared range, the categories the column
    # itself when its type fits (the projection's arrays are never written after a patch)
    return sp.csr_matrix((row_numbers(n + 1)[1:],
                          proj.cap_category.astype(index_type, copy=False),
                          indptr.astype(index_type)),
                         shape=(proj.n_companies, proj.n_categories))


def _carry_registry(old: Projection, new: Projection, renumbered: _Renumbered | None,
                    edited: list[str]) -> None:
    """Give ``new`` the registry fit (company × category from OKVED codes) of ``old``, with
    the rows of added and edited companies computed afresh (no company removed)."""
    found = old.extra.get("registry_fit")
    if found is None or (renumbered is not None and renumbered.removed):
        return
    changed = [new.company_index[c] for c in edited]
    if not changed and renumbered is None:  # no company's codes or rows changed
        new.extra["registry_fit"] = found
        return
    if renumbered is not None:
        found = insert_rows(found.tocsr(), renumbered.inserted, renumbered.old_to_new)
        changed += renumbered.inserted.tolist()
    rows = np.unique(np.array(changed, dtype=np.int64))
    new.extra["registry_fit"] = splice_rows(found, rows, registry_rows(new, rows.tolist()))


def _carry_derived(old: Projection, new: Projection) -> None:
    """Give ``new`` the derived structures ``old`` computed whose inputs did not change."""
    computed = vars(old)
    for name, inputs in DERIVED_INPUTS.items():  # a patched field is a new object
        if name in computed and all(getattr(old, f) is getattr(new, f) for f in inputs):
            vars(new)[name] = computed[name]


# what an edit of a table does to the row at its position (the order of edits at one spot)
_INSERT, _REPLACE, _DELETE = 0, 1, 2
# (position in the old arrays, _INSERT/_REPLACE/_DELETE, the row's values in _COLUMNS order)
_Edit = tuple[int, int, list[Any] | None]
_FEW = 16  # up to this many edits, a list column is copied and edited in place


def _locate(proj: Projection, kind: EntityKind, key: Key) -> tuple[int, bool] | None:
    """Where the row of ``key`` is in ``kind``'s arrays, or where it would go: ``(position,
    found)``; ``None`` when the key names a company or category ``proj`` lacks."""
    columns = _KEY_COLUMNS[kind]
    try:
        numbers = tuple((proj.company_index if index == "company" else proj.category_index)[part]
                        for (_name, index), part in zip(columns, key, strict=False))
    except KeyError:
        return None
    return _find(proj, kind, numbers, key[len(columns)] if kind in _KEY_TEXT else None)


def _find(proj: Projection, kind: EntityKind, numbers: tuple[int, ...],
          text: str | None = None) -> tuple[int, bool]:
    """:func:`_locate` for a key given as its index numbers (and its text part)."""
    columns = _KEY_COLUMNS[kind]
    lo, hi = 0, len(getattr(proj, columns[0][0]))
    for (name, _index), number in zip(columns, numbers, strict=True):
        column = getattr(proj, name)
        value = column.dtype.type(number)  # the column's own type: no copy of it cast
        window = column[lo:hi]
        lo, hi = (lo + int(window.searchsorted(value, "left")),
                  lo + int(window.searchsorted(value, "right")))
    if text is not None:
        values = getattr(proj, _KEY_TEXT[kind])
        lo = bisect.bisect_left(values, text, lo, hi)
        hi = bisect.bisect_right(values, text, lo, hi)
    return lo, hi > lo


def _patch_table(proj: Projection, kind: EntityKind, wanted: list[Key], rows: list[Row],
                 fields: dict[str, Any]) -> list[_Edit]:
    """Patch the parallel arrays of ``kind``: the rows of ``wanted`` keys are ``rows``
    (a key without a row is deleted). Each column is copied once, edits spliced in.
    Returns the edits (for the structures derived per row)."""
    kind_spec = KINDS[kind]
    present = {kind_spec.key_of(r): r for r in rows}
    columns = _COLUMNS[kind]
    # (position in the old arrays, what, the row's values): in position order, and at one
    # position the inserts (keys sorting before the row there) in key order, then that row
    edits: list[_Edit] = []
    for key in wanted:
        row = present.get(key)
        spot = _locate(proj, kind, key)
        if spot is None:
            if row is not None:  # names a node the projection lacks: rebuild
                raise KeyError(key)
            continue  # its company was removed (renumbered away) with its rows
        pos, found = spot
        if row is not None:
            edits.append((pos, _REPLACE if found else _INSERT,
                          [get(row, proj) for _name, get in columns]))
        elif found:
            edits.append((pos, _DELETE, None))
    edits.sort(key=lambda e: e[:2])  # stable: inserts at one spot stay in key order
    if all(what == _REPLACE for _pos, what, _values in edits):
        # values changed in place: a column none of them changes is kept as it is
        for c, (name, _get) in enumerate(columns):
            old = getattr(proj, name)
            moved = [(pos, values[c]) for pos, _what, values in edits
                     if values is not None and not same_value(old[pos], values[c])]
            if moved:
                new = old.copy()
                for pos, value in moved:
                    new[pos] = value
                fields[name] = new
        return edits
    for c, (name, _get) in enumerate(columns):
        fields[name] = _splice(getattr(proj, name), edits, c)
    return edits


def _splice(old: np.ndarray | list[Any], edits: list[_Edit], c: int) -> Any:
    """Column ``old`` with ``edits`` (see :func:`_patch_table`) applied, value ``c`` of each
    edit's values written: a new array or list, the runs between edits copied whole."""
    if isinstance(old, list | InsertedList) and len(edits) <= _FEW \
            and all(what == _INSERT for _pos, what, _values in edits):
        # rows only added (a new link): the old list with them inserted, not a copy of it
        # (copying a list of 580k items touches each one's reference count)
        return InsertedList.over(old, [pos + k for k, (pos, _what, _values) in enumerate(edits)],
                                 [values[c] for _pos, _what, values in edits
                                  if values is not None])
    if isinstance(old, list | InsertedList) and len(edits) <= _FEW:
        # one copy, then each edit a memmove: from the last one down
        items = list(old) if isinstance(old, InsertedList) else old.copy()
        for pos, what, values in reversed(edits):
            if values is None:  # a delete
                del items[pos]
            elif what == _INSERT:
                items.insert(pos, values[c])
            else:
                items[pos] = values[c]
        return items
    size = len(old) + sum(1 if what == _INSERT else -1 if what == _DELETE else 0
                          for _pos, what, _values in edits)
    out: Any = np.empty(size, dtype=old.dtype) if isinstance(old, np.ndarray) else [None] * size
    src = dst = 0
    for pos, what, values in edits:
        run = pos - src
        out[dst:dst + run] = old[src:pos]
        dst, src = dst + run, pos
        if values is not None:  # not a delete
            out[dst] = values[c]
            dst += 1
        if what != _INSERT:
            src += 1
    out[dst:] = old[src:]
    return out


class ShiftedIndex(Mapping[str, int]):
    """A company index (id → index) after companies were inserted into ``base``'s numbering,
    without building a new dict: a company of ``base`` moves up by the insertions at or
    before its old index (``cuts``: per inserted company, how many of ``base``'s companies
    precede it, ascending), an inserted one is looked up in ``added``. Successive
    insertions compose into one level over the same base dict."""

    __slots__ = ("_added", "_base", "_cuts")

    def __init__(self, base: dict[str, int], cuts: list[int], added: dict[str, int]) -> None:
        self._base, self._cuts, self._added = base, cuts, added

    @classmethod
    def over(cls, index: Mapping[str, int], cuts: list[int], added: dict[str, int]
             ) -> ShiftedIndex:
        """``index`` with companies inserted: ``cuts`` and ``added`` in ``index``'s terms."""
        if not isinstance(index, ShiftedIndex):  # never changed once built: shared
            return cls(index if isinstance(index, dict) else dict(index), cuts, added)
        # the new cuts in the base's numbering: of the first c positions of ``index``,
        # those not taken by its own added companies are base companies
        before = sorted(index._added.values())
        base_cuts = [c - bisect.bisect_left(before, c) for c in cuts]
        moved = {k: v + bisect.bisect_right(cuts, v) for k, v in index._added.items()}
        moved.update(added)
        return cls(index._base, sorted(index._cuts + base_cuts), moved)

    def __getitem__(self, key: str) -> int:
        found = self._added.get(key)
        if found is not None:
            return found
        i = self._base[key]
        return i + bisect.bisect_right(self._cuts, i)

    def __contains__(self, key: object) -> bool:
        return key in self._added or key in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from self._added

    def __len__(self) -> int:
        return len(self._base) + len(self._added)


@dataclasses.dataclass(frozen=True)
class _Renumbered:
    """A projection with companies added or removed, nothing else changed yet."""

    projection: Projection
    old_to_new: np.ndarray  # per old company index: its new index, -1 when removed
    inserted: np.ndarray  # the new companies' indices (ascending)
    added: frozenset[str]
    removed: frozenset[str]


def _company_values(row: Row) -> tuple[Any, ...]:
    """What the projection keeps of a company row, in :data:`_COMPANY_LISTS` order + lat, lon."""
    return (str(row["name"]), row.get("region"), row.get("municipality"),
            frozenset(row.get("roles", ())), row.get("inn"), okved_codes(row), frozenset(),
            {}, _NAN if row.get("lat") is None else float(row["lat"]),
            _NAN if row.get("lon") is None else float(row["lon"]))


# per-company lists, in the order of _company_values (then the arrays lat, lon)
_COMPANY_LISTS = ("company_names", "company_regions", "company_municipalities",
                  "company_roles", "company_inn", "company_okved", "company_clusters",
                  "company_certs")
# arrays of company indices, by the table kind whose rows they belong to
_COMPANY_COLUMNS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.CAPABILITY: ("cap_company",),
    EntityKind.SUPPLY: ("sup_supplier", "sup_buyer"),
    EntityKind.IMPORT: ("imp_company",),
    EntityKind.NEED: ("need_company",),
}


def _renumber_companies(proj: Projection, wanted: list[Key], rows: list[Row]
                        ) -> _Renumbered | None:
    """``proj`` with the companies of ``rows`` that it lacks added and those of ``wanted``
    that are gone removed — every company index mapped to the new numbering, the rows
    naming a removed company dropped (with their row keys) — or ``None`` when no
    company was added or removed. The other fields are shared with ``proj``."""
    present = {str(r["id"]): r for r in rows}
    index = proj.company_index
    added = sorted(c for c in present if c not in index)
    removed = sorted(c for (c,) in wanted if c not in present and c in index)
    if not added and not removed:
        return None
    n_old = proj.n_companies
    if n_old == 0:
        raise KeyError("no company to renumber from")  # the caller rebuilds
    keep = np.ones(n_old, dtype=bool)
    keep[[index[c] for c in removed]] = False
    kept_ids = [c for c, k in zip(proj.company_ids, keep.tolist(), strict=True) if k] \
        if removed else proj.company_ids  # only read: copied once below
    # where each added company goes in the kept list (ascending), and its final index
    spots = [bisect.bisect_left(kept_ids, c) for c in added]
    final = np.array(spots, dtype=np.int64) + np.arange(len(added), dtype=np.int64)
    ids: Sequence[str]
    if removed:  # kept_ids is a new list already
        for position, company in zip(final.tolist(), added, strict=True):
            kept_ids.insert(position, company)
        ids = kept_ids
    else:  # the old list not copied (see InsertedList)
        ids = InsertedList.over(proj.company_ids, final.tolist(), added)
    kept_rank = np.cumsum(keep) - 1  # old index -> index among the kept
    old_to_new = np.where(keep, kept_rank + np.searchsorted(np.array(spots, dtype=np.int64),
                                                            kept_rank, side="right"), -1)
    kept_idx = np.flatnonzero(keep)
    company_index: Mapping[str, int]
    if removed:
        company_index = dict(zip(ids, range(len(ids)), strict=True))
    else:  # building a 100k-entry dict costs tens of ms: the old one, shifted on lookup
        company_index = ShiftedIndex.over(index, (final - np.arange(len(final))).tolist(),
                                          dict(zip(added, final.tolist(), strict=True)))
    fields: dict[str, Any] = {"company_ids": ids, "company_index": company_index}
    new_values = [_company_values(present[c]) for c in added]
    for n, name in enumerate(_COMPANY_LISTS):
        old = getattr(proj, name)
        if not removed:  # the old list not copied (nor its items' counts touched)
            fields[name] = InsertedList.over(old, final.tolist(), [v[n] for v in new_values])
            continue
        every = list(old)
        items = [every[i] for i in kept_idx.tolist()]
        for position, company_values in zip(final.tolist(), new_values, strict=True):
            items.insert(position, company_values[n])
        fields[name] = items
    for n, name in ((8, "lat"), (9, "lon")):
        old = getattr(proj, name)
        fields[name] = np.insert(old[kept_idx] if removed else old, spots,
                                 np.array([v[n] for v in new_values], dtype=old.dtype))
    mapped = old_to_new.astype(np.int32)

    def remap(values: np.ndarray, ascending: bool = False) -> np.ndarray:
        if not len(values):
            return values
        if removed:
            return mapped[values]
        # no company removed: index i moves up by the added ones at or before it (a table's
        # first key column is ascending: a run per insertion, no comparison per row)
        return (renumbered_sorted if ascending else renumbered_numbers)(values, mapped, final)

    fields["product_maker"] = np.where(proj.product_maker >= 0,
                                       remap(np.maximum(proj.product_maker, 0)), -1
                                       ).astype(np.int32)
    fields["cluster_members"] = {c: (lambda m: m[m >= 0])(remap(v)).astype(np.int32)
                                 for c, v in proj.cluster_members.items()}
    if removed:
        held = proj.company_process.tocoo()
        new_rows = mapped[held.row] if held.nnz else held.row
        ok = new_rows >= 0
        matrix = sp.csr_matrix((held.data[ok], (new_rows[ok], held.col[ok])),
                               shape=(len(ids), proj.company_process.shape[1]))
        matrix.sum_duplicates()
        fields["company_process"] = matrix
    else:  # empty rows inserted: the same entries, row pointers repeated
        fields["company_process"] = insert_rows(proj.company_process.tocsr(), final, old_to_new)
    for kind, columns in _COMPANY_COLUMNS.items():
        values = {name: remap(getattr(proj, name), ascending=name == columns[0])
                  for name in columns}
        if not removed:  # every row stays
            fields.update(values)
            continue
        alive = np.ones(len(next(iter(values.values()))), dtype=bool)
        for v in values.values():
            alive &= v >= 0
        if alive.all():
            fields.update(values)
            continue
        drop = np.flatnonzero(~alive)
        for name, _get in _COLUMNS[kind]:
            old = values.get(name, getattr(proj, name))
            if isinstance(old, np.ndarray):
                fields[name] = np.delete(old, drop)
            else:
                gone = set(drop.tolist())
                fields[name] = [x for i, x in enumerate(old) if i not in gone]
    if removed:
        gone_ids = set(removed)
        fields["tie_rows"] = [r for r in proj.tie_rows if r["company_id"] not in gone_ids
                              and r["partner_id"] not in gone_ids]
    renumbered = dataclasses.replace(proj, extra={PATCHABLE_MARK: True}, **fields)
    if not removed:  # derived per capability row, or cheap to renumber: carried
        computed = vars(proj)
        for name in ("committed_volume", "free_capacity", "capabilities_by_category"):
            if name in computed:
                vars(renumbered)[name] = computed[name]
        if "capability_matrix" in computed:  # the same entries, empty rows inserted
            vars(renumbered)["capability_matrix"] = insert_rows(
                computed["capability_matrix"], final, old_to_new)
    return _Renumbered(renumbered, old_to_new, final, frozenset(added), frozenset(removed))


# a company's attributes the projection keeps per company, and their value from its row
_COMPANY_ATTRIBUTES: tuple[tuple[str, Callable[[Row], Any]], ...] = (
    ("company_names", lambda r: str(r["name"])),
    ("company_regions", lambda r: r.get("region")),
    ("company_municipalities", lambda r: r.get("municipality")),
    ("company_roles", lambda r: frozenset(r.get("roles", ()))),
    ("company_inn", lambda r: r.get("inn")),
    ("company_okved", okved_codes),
    ("lat", lambda r: _NAN if r.get("lat") is None else float(r["lat"])),
    ("lon", lambda r: _NAN if r.get("lon") is None else float(r["lon"])),
)


def _patch_companies(proj: Projection, wanted: list[Key], rows: list[Row],
                     fields: dict[str, Any]) -> bool:
    """Attributes of the companies in ``rows`` (all in ``proj``: renumbered before); a list
    or array none of them changes is kept as it is (one object: readers comparing the
    old and new projection see it unchanged at once)."""
    at = [(proj.company_index[str(r["id"])], r) for r in rows]
    for name, value_of in _COMPANY_ATTRIBUTES:
        old = getattr(proj, name)
        moved = [(i, value) for i, r in at if not same_value(old[i], value := value_of(r))]
        if moved:
            new = old.copy()
            for i, value in moved:
                new[i] = value
            fields[name] = new
    return True


def _patch_products(proj: Projection, wanted: list[Key], rows: list[Row],
                    fields: dict[str, Any]) -> bool:
    """Products that exist before and after (their maker, volume…: a company removed
    detaches its products); ``False`` for a product added or removed (indices shift)."""
    if len(rows) != len(wanted) or any(str(r["id"]) not in proj.product_index for r in rows):
        return False
    product_rows, maker = list(proj.product_rows), proj.product_maker.copy()
    for r in rows:
        i = proj.product_index[str(r["id"])]
        product_rows[i] = r
        maker[i] = proj.company_index.get(str(r.get("maker_id")), -1)
    fields.update(product_rows=product_rows, product_maker=maker)
    return True


def _patch_processes(proj: Projection, wanted: list[Key], rows: list[Row],
                     fields: dict[str, Any]) -> bool:
    """The company × process matrix with the touched companies' rows rewritten (one pass
    over the matrix: the other rows' runs copied whole)."""
    present = {(str(r["company_id"]), str(r["process"])) for r in rows}
    now: dict[int, dict[int, bool]] = {}  # company -> {process: held after the writes}
    for cid, code in wanted:
        if cid not in proj.company_index and (cid, code) not in present:
            continue  # the company was removed (renumbered away) with its rows
        now.setdefault(proj.company_index[cid], {})[proj.process_index[code]] = \
            (cid, code) in present
    matrix = proj.company_process.tocsr()
    companies = sorted(now)
    indices: list[int] = []
    indptr = [0]
    changed = False
    for i in companies:
        held = set(matrix.indices[matrix.indptr[i]:matrix.indptr[i + 1]].tolist())
        after = held | {j for j, h in now[i].items() if h}
        after -= {j for j, h in now[i].items() if not h}
        changed = changed or after != held
        indices += sorted(after)
        indptr.append(len(indices))
    if changed:
        sub = sp.csr_matrix((np.ones(len(indices), dtype=matrix.dtype),
                             np.array(indices, dtype=np.int32), np.array(indptr)),
                            shape=(len(companies), matrix.shape[1]))
        fields["company_process"] = splice_rows(matrix, np.array(companies, dtype=np.int64),
                                                sub)
    return True


def _patch_certs(proj: Projection, wanted: list[Key], rows: list[Row],
                 fields: dict[str, Any]) -> bool:
    known = set(proj.certification_codes)
    present = {(str(r["company_id"]), str(r["cert"])): r for r in rows}
    certs = list(proj.company_certs)
    for cid, code in wanted:
        row = present.get((cid, code))
        if cid not in proj.company_index and row is None:
            continue  # the company was removed (renumbered away) with its rows
        i = proj.company_index[cid]
        mine = dict(certs[i])
        if row is None:
            mine.pop(code, None)
        elif code not in known:
            return False  # the build leaves such a row out: let it decide
        else:
            mine[code] = row.get("valid_until")
        certs[i] = mine
    fields["company_certs"] = certs
    return True


def _patch_memberships(proj: Projection, wanted: list[Key], rows: list[Row],
                       fields: dict[str, Any]) -> bool:
    present = {(str(r["company_id"]), str(r["cluster_id"])) for r in rows}
    members = {c: set(v.tolist()) for c, v in proj.cluster_members.items()}
    of_company = list(proj.company_clusters)
    for cid, cluster in wanted:
        if cluster not in proj.cluster_rows:
            return False
        if cid not in proj.company_index and (cid, cluster) not in present:
            continue  # the company was removed (renumbered away) with its rows
        i = proj.company_index[cid]
        mine = set(of_company[i])
        if (cid, cluster) in present:
            members.setdefault(cluster, set()).add(i)
            mine.add(cluster)
        else:
            members.get(cluster, set()).discard(i)
            mine.discard(cluster)
        of_company[i] = frozenset(mine)
    fields["cluster_members"] = {c: np.array(sorted(v), dtype=np.int32)
                                 for c, v in members.items()}
    fields["company_clusters"] = of_company
    return True


def _patch_ties(proj: Projection, wanted: list[Key], rows: list[Row],
                fields: dict[str, Any]) -> bool:
    """Replace the touched ties in ``tie_rows`` (key order, as a build lists them); a tie
    naming a company the projection lacks is left out, as a build leaves it out."""
    tie = KINDS[EntityKind.TIE]
    by_key = dict(zip(row_keys(tie, proj.tie_rows), proj.tie_rows, strict=True))
    for key in wanted:
        by_key.pop(key, None)
    for row in rows:
        if row["company_id"] in proj.company_index and row["partner_id"] in proj.company_index:
            by_key[tie.key_of(row)] = row
    fields["tie_rows"] = [by_key[k] for k in sorted(by_key)]
    return True


def diff_projections(a: Projection, b: Projection) -> list[str]:
    """The fields where ``a`` and ``b`` differ (``extra`` and caches aside); empty when equal."""
    out = []
    for f in dataclasses.fields(Projection):
        if f.name in ("extra", "revision"):
            continue
        if not same_value(getattr(a, f.name), getattr(b, f.name)):
            out.append(f.name)
    return out


def diff_match_indexes(a: MatchIndex, b: MatchIndex) -> list[str]:
    """The fields where two match indexes differ (their caches aside); empty when equal."""
    return [f.name for f in dataclasses.fields(MatchIndex)
            if f.name not in ("cache", "_cert_valid")
            and not same_value(getattr(a, f.name), getattr(b, f.name))]

def changed_kinds(changes: Iterable[Change]) -> set[EntityKind]:
    """The kinds ``changes`` touched (for logs)."""
    return set(merge_changes(changes)[0])


# Kinds patched by their own function (a company's attributes, or a per-company set);
# every other kind is a table of rows patched by ``_patch_table``. A patch answers False
# when the write needs a rebuild instead.
_NODE_PATCHES: dict[EntityKind, Callable[[Projection, list[Key], list[Row], dict[str, Any]],
                                         bool]] = {
    EntityKind.COMPANY_PROCESS: _patch_processes,
    EntityKind.PRODUCT: _patch_products,
    EntityKind.HELD_CERTIFICATION: _patch_certs,
    EntityKind.MEMBERSHIP: _patch_memberships,
    EntityKind.TIE: _patch_ties,
}
