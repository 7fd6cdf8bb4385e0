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
import zlib
from dataclasses import dataclass
from pathlib import Path

from coopgraph.graph.models import Company
from coopgraph.ingest.resolve import MERGE_AT, REVIEW_AT, Candidate, resolve

__all__ = ["Fold", "LabelledSet", "Scores", "cross_validate", "evaluate", "firms", "fit_merge_at",
           "pooled", "read_labelled_set"]


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


def _resolve(data: LabelledSet, merge_at: float, review_at: float, industry: bool = False
             ) -> tuple[dict[str, int], set[frozenset[int]]]:
    """Each record's group, and the pairs of groups sent for review.

    A record's ``lists`` (the yearly rankings that name it; each names a firm once) always
    take part; its ``industry`` only when asked: the rankings' ~80 industries are much
    coarser than a main OKVED and do not tell a holding from its operating company, so
    they are not evidence enough for a weak-word merge (BENCHMARKS.md, issue 10, third pass).
    """
    candidates = [Candidate(Company(id=r["rec_id"], name=r["name"], region=r["region"] or None),
                            industry=(r.get("industry") or "") if industry else "",
                            lists=frozenset((r.get("lists") or "").split()))
                  for r in data.records]
    res = resolve(candidates, merge_at=merge_at, review_at=review_at)
    group_of: dict[str, int] = {}
    index: dict[int, int] = {}
    for g, members in enumerate(res.groups):
        for m in members:
            group_of[candidates[m].company.id] = g
            index[m] = g
    # a review edge joins two groups: accepting it merges every record of both
    reviewed = {frozenset((index[e.a], index[e.b])) for e in res.review}
    return group_of, reviewed


def _score(pairs: list[tuple[str, str, bool]], group_of: dict[str, int],
           reviewed: set[frozenset[int]]) -> Scores:
    counts = {"merged_true": 0, "merged_false": 0, "review_true": 0, "review_false": 0}
    for a, b, match in pairs:
        label = "true" if match else "false"
        if group_of[a] == group_of[b]:
            counts[f"merged_{label}"] += 1
        elif frozenset((group_of[a], group_of[b])) in reviewed:
            counts[f"review_{label}"] += 1
    true_pairs = sum(1 for *_ab, m in pairs if m)
    return Scores(true_pairs=true_pairs, false_pairs=len(pairs) - true_pairs, **counts)


def evaluate(data: LabelledSet, *, merge_at: float = MERGE_AT,
             review_at: float = REVIEW_AT, industry: bool = False) -> Scores:
    """Resolve every record of ``data`` with no ids and score the labelled pairs.

    ``industry``: give the resolver each record's industry as evidence (off by default).
    """
    return _score(data.pairs, *_resolve(data, merge_at, review_at, industry))


GRID = (75.0, 80.0, 85.0, 90.0, 95.0, 100.0)


def _fit(results: list[tuple[float, Scores]], precision: float) -> tuple[float, Scores]:
    good = [(m, s) for m, s in results if s.precision >= precision]
    if not good:
        return max(results, key=lambda ms: (ms[1].precision, ms[0]))
    return max(good, key=lambda ms: (ms[1].recall, ms[0]))


def fit_merge_at(data: LabelledSet, *, precision: float = 0.99,
                 grid: tuple[float, ...] = GRID,
                 review_at: float = REVIEW_AT) -> tuple[float, Scores]:
    """The ``merge_at`` on ``grid`` with the best recall at ``precision`` or better.

    Among equally good thresholds the highest wins (the most cautious one); when
    none reaches ``precision``, the one with the best precision.
    """
    return _fit([(m, evaluate(data, merge_at=m, review_at=min(review_at, m))) for m in grid],
                precision)


@dataclass(frozen=True)
class Fold:
    """One fold of :func:`cross_validate`: the threshold fitted without it, and its scores."""

    fold: int
    merge_at: float
    train: Scores
    test: Scores


def firms(data: LabelledSet) -> dict[str, str]:
    """Each record's firm: records joined by an identifier or a "one firm" label."""
    parent: dict[str, str] = {r["rec_id"]: r["rec_id"] for r in data.records}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first: dict[str, str] = {}
    links = [(first.setdefault(r["entity"], r["rec_id"]), r["rec_id"]) for r in data.records]
    links += [(a, b) for a, b, m in data.pairs if m]
    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def cross_validate(data: LabelledSet, *, k: int = 5, precision: float = 0.99,
                   grid: tuple[float, ...] = GRID, review_at: float = REVIEW_AT,
                   industry: bool = False) -> list[Fold]:
    """k-fold by firm: fit ``merge_at`` on k−1 folds, score the held-out one.

    A firm (:func:`firms`) lies in one fold (by a hash of its first record id), and a
    labelled pair belongs to the fold of its first record's firm, so no "one firm"
    pair is scored in a fold whose firm helped to fit the threshold. Resolution
    always runs over every record (blocking is part of what is measured); only the
    pairs that are counted change.
    """
    firm = firms(data)
    fold_of = {r: zlib.crc32(f.encode()) % k for r, f in firm.items()}
    runs = {m: _resolve(data, m, min(review_at, m), industry) for m in grid}
    out: list[Fold] = []
    for fold in range(k):
        train = [p for p in data.pairs if fold_of[p[0]] != fold]
        test = [p for p in data.pairs if fold_of[p[0]] == fold]
        merge_at, train_scores = _fit([(m, _score(train, *runs[m])) for m in grid], precision)
        out.append(Fold(fold, merge_at, train_scores, _score(test, *runs[merge_at])))
    return out


def pooled(folds: list[Fold]) -> Scores:
    """The held-out scores of every fold added up."""
    return Scores(**{name: sum(getattr(f.test, name) for f in folds)
                     for name in ("true_pairs", "false_pairs", "merged_true", "merged_false",
                                  "review_true", "review_false")})
