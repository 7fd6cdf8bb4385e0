"""What evidence besides the name would merge the labelled set's remaining one-firm pairs.

Measures, on tests/data/er (figures in BENCHMARKS.md, "Entity resolution, fourth pass"):

* the shipped rules (names, country, lists that name each firm once);
* plus the lists' industry as evidence for names that differ by weak words only
  (``evaluate(industry=True)``);
* plus *succession in a ranking* — an experiment, not shipped: a pair with one
  distinctive word on one side only is merged when both records carry the same
  industry and the yearly lists never name both in one year (one spelling
  replaced the other);
* with ``--forbes DIR`` (the Forbes CSVs of the set's README, ``forbes_YEAR.csv``):
  how many of the pairs left in the review queue the chief executive's name (in
  the lists from 2017 only) would tell apart, and how many it would merge wrongly.

Usage::

    .venv/bin/python bench/er_evidence.py [--forbes DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import coopgraph.ingest.resolve as resolve_mod  # noqa: E402
from coopgraph.graph.models import Company  # noqa: E402
from coopgraph.ingest import resolve_eval  # noqa: E402

ER = ROOT / "tests" / "data" / "er"
SUCCESSION = resolve_mod.ComparisonLevel("one spelling replaced the other in a ranking",
                                         lambda f: True, "merge")


def _line(label: str, data: resolve_eval.LabelledSet, **kw: Any) -> None:
    s = resolve_eval.evaluate(data, **kw)
    held = resolve_eval.pooled(resolve_eval.cross_validate(data, **kw))
    print(f"| {label} | {s.precision:.4f} | {s.recall:.4f} | {s.recall_with_review:.4f} | "
          f"{s.merged_false} | {held.precision:.4f} | {held.recall:.4f} |")


def _with_succession(data: resolve_eval.LabelledSet) -> None:
    judge = resolve_mod._judge

    def succession(cands: Any, groups: Any, decisions: Any, res: Any, i: int, j: int,
                   score: float, level: Any, merge_at: float, review_at: float) -> None:
        a, b = cands[i], cands[j]
        if (level.outcome == "review" and a.industry and b.industry
                and resolve_mod._trade(a.industry) == resolve_mod._trade(b.industry)
                and a.lists and b.lists and not a.lists & b.lists):
            level = SUCCESSION
        judge(cands, groups, decisions, res, i, j, score, level, merge_at, review_at)

    resolve_mod._judge = succession  # type: ignore[assignment]
    try:
        _line("+ industry + succession in a ranking (experiment)", data, industry=True)
        group_of, _rev = resolve_eval._resolve(data, resolve_mod.MERGE_AT,
                                               resolve_mod.REVIEW_AT, True)
        names = {r["rec_id"]: r["name"] for r in data.records}
        wrong = [f"{names[a]} / {names[b]}" for a, b, m in data.pairs
                 if not m and group_of[a] == group_of[b]]
        print(f"\nwrong merges with succession ({len(wrong)}): " + "; ".join(wrong))
    finally:
        resolve_mod._judge = judge


def _ceo(data: resolve_eval.LabelledSet, folder: Path) -> None:
    heads: dict[tuple[str, str, str], set[str]] = {}
    for path in sorted(folder.glob("forbes_*.csv")):
        with path.open(encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                slug = (row.get("Forbes Webpage") or "").rstrip("/").split("/")[-1]
                if row.get("CEO"):
                    key = (row["Company"].strip(), row["Country"].strip(), slug)
                    heads.setdefault(key, set()).add(row["CEO"].strip())
    by_id = {r["rec_id"]: r for r in data.records}

    def ceo(r: dict[str, str]) -> set[str]:
        return heads.get((r["name"], r["region"], r["entity"].split(":", 1)[1]), set())

    group_of, reviewed = resolve_eval._resolve(data, resolve_mod.MERGE_AT,
                                               resolve_mod.REVIEW_AT)
    counts: Counter[tuple[str, str, str]] = Counter()
    for a, b, match in data.pairs:
        ga, gb = group_of[a], group_of[b]
        if ga == gb or frozenset((ga, gb)) not in reviewed:
            continue
        ra, rb = by_id[a], by_id[b]
        ca = resolve_mod.Candidate(Company(id="a", name=ra["name"], region=ra["region"] or None))
        cb = resolve_mod.Candidate(Company(id="b", name=rb["name"], region=rb["region"] or None))
        _score, level = resolve_mod._compare_cores(ca.key, cb.key, ca.core, cb.core)
        xa, xb = ceo(ra), ceo(rb)
        known = "same CEO" if xa & xb else ("CEO differs" if xa and xb else "CEO unknown")
        counts[(level.outcome, "one firm" if match else "two firms", known)] += 1
    print("\nPairs in the review queue by comparison level, label and chief executive:")
    for key, n in sorted(counts.items()):
        print(f"  {key[0]:7} {key[1]:9} {key[2]:12} {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forbes", type=Path, help="folder of forbes_YEAR.csv (2011–2019)")
    args = parser.parse_args()
    data = resolve_eval.read_labelled_set(ER)
    print("| rules | precision | recall | with review | wrong merges | held-out P | "
          "held-out R |\n|---|---:|---:|---:|---:|---:|---:|")
    _line("shipped (names, country, lists)", data)
    _line("+ industry for weak-word pairs", data, industry=True)
    _with_succession(data)
    if args.forbes:
        _ceo(data, args.forbes)


if __name__ == "__main__":
    main()
