"""Entity resolution measured on the labelled set in tests/data/er (figures in BENCHMARKS.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coopgraph.ingest.resolve import MERGE_AT, REVIEW_AT
from coopgraph.ingest.resolve_eval import LabelledSet, evaluate, fit_merge_at, read_labelled_set

ER = Path(__file__).resolve().parent / "data" / "er"
PRECISION_TARGET = 0.99
# The target is 0.95; measured 0.810 (BENCHMARKS.md says why: renames and
# translations no name matcher finds). This floor keeps the measured figure from sliding.
RECALL_FLOOR = 0.80
RECALL_WITH_REVIEW_FLOOR = 0.87


@pytest.fixture(scope="module")
def labelled() -> LabelledSet:
    return read_labelled_set(ER)


def test_the_set_is_large_bilingual_and_labelled_both_ways(labelled: LabelledSet) -> None:
    ids = {r["rec_id"] for r in labelled.records}
    assert len(labelled.pairs) >= 500
    assert all(a in ids and b in ids for a, b, _m in labelled.pairs)
    matches = sum(m for *_ab, m in labelled.pairs)
    assert matches >= 300 and len(labelled.pairs) - matches >= 300
    names = {r["rec_id"]: r["name"] for r in labelled.records}
    cyrillic = [p for p in labelled.pairs
                if any("а" <= ch <= "я" for ch in (names[p[0]] + names[p[1]]).lower())]
    assert sum(m for *_ab, m in cyrillic) >= 30  # Russian ↔ English pairs of one firm


def test_precision_and_recall_on_firm_identity(labelled: LabelledSet) -> None:
    scores = evaluate(labelled)
    assert scores.precision >= PRECISION_TARGET, scores
    assert scores.recall >= RECALL_FLOOR, scores
    assert scores.recall_with_review >= RECALL_WITH_REVIEW_FLOOR, scores


def test_the_thresholds_in_the_code_are_the_fitted_ones(labelled: LabelledSet) -> None:
    merge_at, scores = fit_merge_at(labelled, precision=PRECISION_TARGET)
    assert merge_at == MERGE_AT, scores
    assert REVIEW_AT < MERGE_AT


def test_the_metrics_count_what_a_hand_count_gives(tmp_path: Path) -> None:
    """Four records, four labelled pairs; the answer counted by hand."""
    records = [("r1", "ООО «Агротехмаш»"), ("r2", "Agrotekhmash LLC"),
               ("r3", "MicroChip Technology Incorporated"), ("r4", "Micron Technology Inc.")]
    with (tmp_path / "records.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rec_id", "source", "name", "region", "entity"])
        w.writerows([(r, "t", n, "", r) for r, n in records])
    with (tmp_path / "pairs.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "match"])
        # r1~r2 one firm (merged: right); r3~r4 two firms (kept apart: right);
        # r1~r3 labelled one firm on purpose (a miss); r2~r4 two firms (right)
        w.writerows([("r1", "r2", 1), ("r3", "r4", 0), ("r1", "r3", 1), ("r2", "r4", 0)])
    scores = evaluate(read_labelled_set(tmp_path))
    assert (scores.true_pairs, scores.false_pairs) == (2, 2)
    assert (scores.merged_true, scores.merged_false) == (1, 0)
    assert scores.precision == 1.0
    assert scores.recall == 0.5
