"""Incremental projection: a new :class:`Projection` from an old one plus the writes since.

A store lists the writes after a revision (:meth:`GraphStore.changes_since`, see
:mod:`graph.changelog`); :func:`apply_changes` re-reads only the records those
writes touched (:meth:`GraphStore.fetch`) and patches a *copy* of the arrays
they live in — the old projection is never changed, so readers holding it need
no lock. What it patches:

* capabilities, supply links, imports and needs — parallel arrays in key order
  (the order :meth:`Projection.from_snapshot` gives them): a changed row is
  overwritten in place of the copy, a new one inserted where its key sorts, a
  removed one deleted; the rows' keys are kept beside the projection
  (``projection.extra["row_keys"]``) to find the places;
* processes held (the company × process matrix), certifications held,
  memberships;
* cooperation ties of every type (``tie_rows``, the Resolution 779 KPIs' input):
  the touched keys' rows replaced, the list kept in key order;
* a company's attributes (name, place, roles…) when the company already existed.

Anything else answers ``None`` and the caller rebuilds from a snapshot: a
company, category, process, product, cluster or certification added or
removed (every index would shift; the taxonomy's shape changed), BOM lines, a
``clear``, a load, a projection built with dangling references left out, or a
delta larger than :data:`MAX_FRACTION` of the projection's rows.

The column tables below mirror :meth:`Projection._build`; the oracle test
(``tests/test_projection_delta.py``) compares every field of a patched
projection with one built from scratch, on both stores, so a column added
there and not here fails it.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.changelog import ANALYTIC_KINDS, Change, merge_changes
from coopgraph.graph.schema import KINDS, EntityKind
from coopgraph.graph.store import GraphStore, Snapshot, row_keys
from coopgraph.queries.candidates import MatchIndex, patch_match_index
from coopgraph.queries.projection import DERIVED_INPUTS, Projection, okved_codes, same_value

__all__ = ["MAX_FRACTION", "apply_changes", "attach_row_keys", "diff_match_indexes",
           "diff_projections"]

MAX_FRACTION = 0.05  # a delta touching more of the projection's rows: rebuild instead
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
_OTHER = frozenset({EntityKind.COMPANY, EntityKind.COMPANY_PROCESS,
                    EntityKind.HELD_CERTIFICATION, EntityKind.MEMBERSHIP, EntityKind.TIE})
PATCHABLE = frozenset(_COLUMNS) | _OTHER


def attach_row_keys(projection: Projection, snapshot: Snapshot) -> Projection:
    """Keep the keys of the array kinds' rows beside ``projection`` (what deltas need).

    Only for a projection built from every row of ``snapshot`` (none skipped).
    """
    if not projection.skipped:
        projection.extra["row_keys"] = {  # read as columns: no dict per row
            kind: list(zip(*(snapshot.column(kind, f) for f in KINDS[kind].key_fields),
                           strict=True)) for kind in _COLUMNS}
    return projection


def apply_changes(projection: Projection, changes: list[Change], store: GraphStore,
                  revision: int | None = None) -> Projection | None:
    """``projection`` with ``changes`` applied (rows re-read from ``store``), or ``None``.

    ``None`` means: rebuild from a snapshot (see the module docstring for when).
    ``revision`` labels the result (default: the last change's).
    """
    if not changes:
        return projection
    keys_by_kind = projection.extra.get("row_keys")
    if keys_by_kind is None or projection.skipped:
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
    new_keys = dict(keys_by_kind)
    try:
        for kind, keys in touched.items():
            wanted = sorted(keys)
            rows = store.fetch(kind, wanted)
            patch = _NODE_PATCHES.get(kind)
            if patch is None:
                new_keys[kind] = _patch_table(projection, kind, keys_by_kind[kind], wanted,
                                              rows, fields)
            elif not patch(projection, wanted, rows, fields):
                return None
    except KeyError:  # a row names a node the projection does not have: rebuild
        return None
    patched = dataclasses.replace(
        projection, revision=changes[-1].revision if revision is None else revision,
        extra={"row_keys": new_keys}, **fields)
    _carry_derived(projection, patched)
    old_ix = projection.extra.get("match_index")
    if isinstance(old_ix, MatchIndex):  # patched too: rebuilding it costs seconds at 100k
        patched.extra["match_index"] = patch_match_index(old_ix, projection, patched)
    return patched


def _carry_derived(old: Projection, new: Projection) -> None:
    """Give ``new`` the derived structures ``old`` computed whose inputs did not change."""
    computed = vars(old)
    for name, inputs in DERIVED_INPUTS.items():
        if name in computed and all(same_value(getattr(old, f), getattr(new, f))
                                    for f in inputs):
            vars(new)[name] = computed[name]


def _patch_table(proj: Projection, kind: EntityKind, old_keys: list[Key], wanted: list[Key],
                 rows: list[Row], fields: dict[str, Any]) -> list[Key]:
    """Patch the parallel arrays of ``kind``; return its new key list."""
    kind_spec = KINDS[kind]
    present = {kind_spec.key_of(r): r for r in rows}
    columns = _COLUMNS[kind]
    values = {k: [get(r, proj) for _name, get in columns] for k, r in present.items()}
    updates: list[tuple[int, Key]] = []
    deletes: list[int] = []
    inserts: list[Key] = []
    for key in wanted:
        pos = bisect.bisect_left(old_keys, key)
        found = pos < len(old_keys) and old_keys[pos] == key
        if key in present:
            (updates.append((pos, key)) if found else inserts.append(key))
        elif found:
            deletes.append(pos)
    if not deletes and not inserts:  # values changed in place: keep every other column
        for c, (name, _get) in enumerate(columns):
            old = getattr(proj, name)
            moved = [(pos, values[key][c]) for pos, key in updates
                     if not same_value(old[pos], values[key][c])]
            if moved:
                new = old.copy()
                for pos, value in moved:
                    new[pos] = value
                fields[name] = new
        return old_keys
    keys = list(old_keys)
    for pos in sorted(deletes, reverse=True):
        del keys[pos]
    # where each new key goes, counted in the list after the deletes (ascending keys)
    spots = [bisect.bisect_left(keys, key) for key in inserts]
    # highest spot first, and at one spot the largest key first: each lands before the last
    placed = sorted(zip(spots, inserts, strict=True), reverse=True)
    for spot, key in placed:
        keys.insert(spot, key)
    for c, (name, _get) in enumerate(columns):
        old = getattr(proj, name)
        if isinstance(old, np.ndarray):
            array = old.copy()
            for pos, key in updates:
                array[pos] = values[key][c]
            if deletes:
                array = np.delete(array, deletes)
            if inserts:
                array = np.insert(array, spots, np.array([values[k][c] for k in inserts],
                                                         dtype=old.dtype))
            fields[name] = array
            continue
        items = list(old)
        for pos, key in updates:
            items[pos] = values[key][c]
        for pos in sorted(deletes, reverse=True):
            del items[pos]
        for spot, key in placed:
            items.insert(spot, values[key][c])
        fields[name] = items
    return keys


def _patch_companies(proj: Projection, wanted: list[Key], rows: list[Row],
                     fields: dict[str, Any]) -> bool:
    """Attributes of companies that exist before and after; ``False`` for any other change."""
    if len(rows) != len(wanted) or any(str(r["id"]) not in proj.company_index for r in rows):
        return False  # a company added or removed: every company index shifts
    names, regions = list(proj.company_names), list(proj.company_regions)
    munis, roles = list(proj.company_municipalities), list(proj.company_roles)
    inn, lat, lon = list(proj.company_inn), proj.lat.copy(), proj.lon.copy()
    okved = list(proj.company_okved)
    for r in rows:
        i = proj.company_index[str(r["id"])]
        names[i], regions[i] = str(r["name"]), r.get("region")
        munis[i], roles[i] = r.get("municipality"), frozenset(r.get("roles", ()))
        inn[i] = r.get("inn")
        okved[i] = okved_codes(r)
        lat[i] = _NAN if r.get("lat") is None else float(r["lat"])
        lon[i] = _NAN if r.get("lon") is None else float(r["lon"])
    fields.update(company_names=names, company_regions=regions, company_municipalities=munis,
                  company_roles=roles, company_inn=inn, company_okved=okved, lat=lat,
                  lon=lon)
    return True


def _patch_processes(proj: Projection, wanted: list[Key], rows: list[Row],
                     fields: dict[str, Any]) -> bool:
    present = {(str(r["company_id"]), str(r["process"])) for r in rows}
    matrix = proj.company_process
    add_i, add_j, val = [], [], []
    for cid, code in wanted:
        i, j = proj.company_index[cid], proj.process_index[code]
        held = matrix[i, j] != 0
        step = 1 if (cid, code) in present and not held else \
            -1 if (cid, code) not in present and held else 0
        if step:
            add_i.append(i)
            add_j.append(j)
            val.append(step)
    if val:
        delta = sp.csr_matrix((np.array(val, dtype=np.int8), (add_i, add_j)), shape=matrix.shape)
        new = (matrix + delta).astype(np.int8).tocsr()
        new.eliminate_zeros()
        new.sort_indices()
        fields["company_process"] = new
    return True


def _patch_certs(proj: Projection, wanted: list[Key], rows: list[Row],
                 fields: dict[str, Any]) -> bool:
    known = set(proj.certification_codes)
    present = {(str(r["company_id"]), str(r["cert"])): r for r in rows}
    certs = list(proj.company_certs)
    for cid, code in wanted:
        i = proj.company_index[cid]
        mine = dict(certs[i])
        row = present.get((cid, code))
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
    EntityKind.COMPANY: _patch_companies,
    EntityKind.COMPANY_PROCESS: _patch_processes,
    EntityKind.HELD_CERTIFICATION: _patch_certs,
    EntityKind.MEMBERSHIP: _patch_memberships,
    EntityKind.TIE: _patch_ties,
}
