"""One ranking query's candidate pairs, and the top ``k`` partners among them.

:class:`CandidatePairs` is what the ranking (:mod:`queries.match`) computes about every
(partner, category) pair of a query before ``k`` is applied; :func:`top_pairs` picks the
best pair of each of the ``k`` best partners. Both the ranking and the result building
(:mod:`queries.match_render`) read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["CandidatePairs", "Direction", "PartnerScores", "mark", "top_pairs"]


Direction = Literal["buyers", "suppliers"]


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
    is_fallback: np.ndarray | None = None  # per pair: filled in by the popularity fallback
    note: tuple[str, str] | None = None  # (ru, en): why the list is a fallback or empty


@dataclass
class PartnerScores:
    """The best score per candidate partner (for evaluation and benchmarks)."""

    partners: np.ndarray
    scores: np.ndarray
    n_pairs: int


def mark(n: int, *index_arrays: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for a in index_arrays:
        out[a] = True
    return out


def top_pairs(pairs: CandidatePairs, k: int) -> np.ndarray:
    """The best pair of each of the top ``k`` partners, best first.

    Order: score descending, then partner index; a partner's best pair is its
    highest-scoring one, then the lowest category (as :func:`best_per_partner`).
    Only the pairs at or above the ``m``-th best score are sorted (``m`` grows
    until they hold ``k`` partners): every partner outside them scores lower.
    """
    total = pairs.total
    assert total is not None
    n = len(total)
    m = 4 * k
    while True:
        if m < n:
            cut = np.partition(total, n - m)[n - m]
            idx = np.flatnonzero(total >= cut)
        else:
            idx = np.arange(n)
        order = idx[np.lexsort((pairs.cat[idx], pairs.partner[idx], -total[idx]))]
        p = pairs.partner[order]
        _, first = np.unique(p, return_index=True)
        first = np.sort(first)
        if len(first) >= k or len(idx) == n:
            return order[first[:k]]
        m *= 4
