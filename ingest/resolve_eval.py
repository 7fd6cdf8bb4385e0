"""Measuring entity resolution on a labelled set (tests/data/er), and fitting its thresholds.

A labelled set is ``records.csv`` (rec_id, source, name, region, entity) and
``pairs.csv`` (a, b, match). :func:`evaluate` resolves every record at once — the
way a load does, so blocking is part of what is measured — and counts, over the
labelled pairs, the pairs put in one company (predicted matches) against the
labels: precision = right merges / all merges, recall = right merges / all true
pairs. Pairs sent for review are counted apart (neither merged nor missed is
quite right for them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from coopgraph.graph.models import Company
from coopgraph.ingest.resolve import MERGE_AT, REVIEW_AT, Candidate, resolve

__all__ = ["LabelledSet", "Scores", "evaluate", "fit_merge_at", "read_labelled_set"]


@dataclass(frozen=True)
class LabelledSet:
    """Records to resolve and labelled pairs of them."""

    records: list[dict[str, str]]
    pairs: list[tuple[str, str, bool]]


@dataclass(frozen=True)
class Scores:
    """What :func:`evaluate` measured."""

    true_pairs: int
    false_pairs: int
    merged_true: int
    merged_false: int
    review_true: int
    review_false: int

    @property
    def precision(self) -> float:
        merged = self.merged_true + self.merged_false
        return self.merged_true / merged if merged else 1.0

    @property
    def recall(self) -> float:
        return self.merged_true / self.true_pairs if self.true_pairs else 1.0

    @property
    def recall_with_review(self) -> float:
        """True pairs merged or put in front of a reviewer."""
        if not self.true_pairs:
            return 1.0
        return (self.merged_true + self.review_true) / self.true_pairs


def read_labelled_set(folder: Path) -> LabelledSet:
    """Read ``records.csv`` and ``pairs.csv`` from ``folder``."""
    with (folder / "records.csv").open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    with (folder / "pairs.csv").open(encoding="utf-8") as f:
        pairs = [(r["a"], r["b"], r["match"] == "1") for r in csv.DictReader(f)]
    return LabelledSet(records, pairs)


def evaluate(data: LabelledSet, *, merge_at: float = MERGE_AT,
             review_at: float = REVIEW_AT) -> Scores:
    """Resolve every record of ``data`` with no ids and score the labelled pairs."""
    candidates = [Candidate(Company(id=r["rec_id"], name=r["name"], region=r["region"] or None))
                  for r in data.records]
    res = resolve(candidates, merge_at=merge_at, review_at=review_at)
    group_of: dict[str, int] = {}
    for g, members in enumerate(res.groups):
        for m in members:
            group_of[candidates[m].company.id] = g
    reviewed = {frozenset((candidates[e.a].company.id, candidates[e.b].company.id))
                for e in res.review}
    counts = {"merged_true": 0, "merged_false": 0, "review_true": 0, "review_false": 0}
    for a, b, match in data.pairs:
        merged = group_of[a] == group_of[b]
        label = "true" if match else "false"
        if merged:
            counts[f"merged_{label}"] += 1
        elif frozenset((a, b)) in reviewed:
            counts[f"review_{label}"] += 1
    true_pairs = sum(1 for *_ab, m in data.pairs if m)
    return Scores(true_pairs=true_pairs, false_pairs=len(data.pairs) - true_pairs, **counts)


def fit_merge_at(data: LabelledSet, *, precision: float = 0.99,
                 grid: tuple[float, ...] = (75, 80, 85, 90, 95, 100),
                 review_at: float = REVIEW_AT) -> tuple[float, Scores]:
    """The ``merge_at`` on ``grid`` with the best recall at ``precision`` or better.

    Among equally good thresholds the highest wins (the most cautious one); when
    none reaches ``precision``, the one with the best precision.
    """
    results = [(m, evaluate(data, merge_at=m, review_at=min(review_at, m))) for m in grid]
    good = [(m, s) for m, s in results if s.precision >= precision]
    if not good:
        return max(results, key=lambda ms: (ms[1].precision, ms[0]))
    return max(good, key=lambda ms: (ms[1].recall, ms[0]))
