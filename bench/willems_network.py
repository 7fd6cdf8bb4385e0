"""Link prediction on real supply-chain networks: the Willems (2008) chains, network only.

The engine must also work where there is nothing but supply links (no
capabilities, BOMs or geography). Each stage of a Willems chain becomes a
company, each arc ``source → destination`` a supply link whose category is the
source stage's classification (Part / Manuf / Trans / Dist / Retail). Then
:func:`queries.evaluate.evaluate` hides 20 % of the links (random split) and
compares the engine with the networkx baselines on the same split.

Data: Sean P. Willems, "Real-World Multi-Echelon Supply Chains Used for
Inventory Optimization", Manufacturing & Service Operations Management
10(1):19–23, 2008 (the workbook in ``shared/data/willems2008``).

Usage: ``.venv/bin/python bench/willems_network.py [--chains 38 30 …] [--min-arcs 300]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.schema import EntityKind  # noqa: E402
from graph.store import Snapshot  # noqa: E402
from queries.evaluate import evaluate  # noqa: E402
from tests.chains_graphs import WILLEMS_XLSX  # noqa: E402


def _chains(min_arcs: int, wanted: list[int] | None) -> dict[int, tuple[dict[str, str], list]]:
    import openpyxl

    workbook = openpyxl.load_workbook(WILLEMS_XLSX, read_only=True)
    out: dict[int, tuple[dict[str, str], list]] = {}
    try:
        for chain in wanted or range(1, 39):
            stages: dict[str, str] = {}
            for row in workbook[f"{chain:02d}_SD"].iter_rows(min_row=2, values_only=True):
                if row and row[0] is not None:
                    stages[str(row[0])] = str(row[3] or "Part").rstrip("s")
            arcs = [(str(r[0]), str(r[1]))
                    for r in workbook[f"{chain:02d}_LL"].iter_rows(min_row=2, values_only=True)
                    if r and r[0] is not None and r[1] is not None]
            if len(arcs) >= min_arcs:
                out[chain] = (stages, arcs)
    finally:
        workbook.close()
    return out


def _snapshot(stages: dict[str, str], arcs: list[tuple[str, str]]) -> Snapshot:
    classes = sorted(set(stages.values()))
    companies = [{"id": s, "name": s, "roles": []} for s in sorted(stages)]
    supplies = sorted(
        ({"supplier_id": s, "buyer_id": d, "category": stages.get(s, "Part")}
         for s, d in set(arcs) if s != d and s in stages and d in stages),
        key=lambda r: (r["supplier_id"], r["buyer_id"], r["category"]))
    return Snapshot(revision=1, tables={
        EntityKind.COMPANY: companies,
        EntityKind.CATEGORY: [{"code": c, "name_ru": c} for c in classes],
        EntityKind.SUPPLY: supplies,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, nargs="*", default=None)
    parser.add_argument("--min-arcs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for chain, (stages, arcs) in _chains(args.min_arcs, args.chains).items():
        started = time.perf_counter()
        report = evaluate(_snapshot(stages, arcs), split="random", seed=args.seed,
                          max_queries=300)
        best = report.methods[report.best_baseline]
        engine = report.methods["engine"]
        row = {"chain": chain, "stages": len(stages), "arcs": len(arcs),
               "test_pairs": report.n_test_pairs, "best_baseline": report.best_baseline,
               "engine_hits10": engine.hits_at_10, "engine_mrr": engine.mrr,
               "best_hits10": best.hits_at_10, "best_mrr": best.mrr,
               "beats": report.engine_beats_best_baseline,
               "seconds": round(time.perf_counter() - started, 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    wins = sum(r["beats"] for r in rows)
    print(f"engine beats the best baseline on Hits@10 and MRR in {wins} of {len(rows)} chains")


if __name__ == "__main__":
    main()
