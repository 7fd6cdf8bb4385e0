"""Row-wise edits of CSR/CSC matrices and sorted arrays, each written once.

The match index (:mod:`queries.candidates`) is patched after a write instead of being
rebuilt (:mod:`queries.index_patch`, :mod:`queries.projection_delta`); these are the
array operations those patches share: splicing the rows of some companies into a
matrix, inserting empty rows or zero bits for new companies, renumbering company
indices after an insertion, moving the stretches of an array by their shifts, and the
read-only shared ``arange``/``ones`` prefixes that spare a patch writing them. They
know nothing of companies or categories: plain numpy and scipy in, new arrays out,
their inputs never written (readers of the previous index still hold them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "FEW_INSERTED",
    "insert_rows",
    "insert_zero_bits",
    "inserted_pointers",
    "packed_bit_bytes",
    "renumbered",
    "renumbered_sorted",
    "row_numbers",
    "row_ranges",
    "shared_ones",
    "shifted_stretches",
    "splice_csc_rows",
    "splice_rows",
]


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


def row_ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + lens[i] - 1`` for every ``i``, joined (the rows of CSR-style
    groups: one vectorised pass, no Python loop per group)."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(starts)), lens)
    return np.arange(total, dtype=np.int64) + (starts - (np.cumsum(lens) - lens))[owner]


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
