"""Link prediction on real supply-chain networks: the Willems (2008) chains, network only.

The engine must also work where there is nothing but supply links (no
capabilities, BOMs or geography). Each stage of a Willems chain becomes a
company, each arc ``source → destination`` a supply link whose category is the
source stage's classification (Part / Manuf / Trans / Dist / Retail). Then
:func:`queries.evaluate.evaluate_seeds` hides 20 % of the links (random split,
five seeds) and compares the engine — the profile it picks by itself, and the
profile ``coopgraph fit`` would choose on each seed's *training* links
(``engine_fitted``) — with every baseline on the same splits. The chains carry
no dates, so there is no time split.

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

from coopgraph.graph.schema import EntityKind  # noqa: E402
from coopgraph.graph.store import Snapshot  # noqa: E402
from coopgraph.queries.evaluate import MethodSummary, evaluate_seeds  # noqa: E402
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
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-fit", action="store_true", help="skip engine_fitted")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for chain, (stages, arcs) in _chains(args.min_arcs, args.chains).items():
        started = time.perf_counter()
        report = evaluate_seeds(_snapshot(stages, arcs), split="random", seeds=args.seeds,
                                max_queries=300, fit=not args.no_fit)
        m = report.methods

        def fmt(name: str, m: dict[str, MethodSummary] = m) -> str:
            return (f"{m[name].hits_at_10.mean:.3f} / {m[name].mrr.mean:.3f} "
                    f"± {(m[name].mrr.hi - m[name].mrr.lo) / 2:.3f}")
        row = {"chain": chain, "stages": len(stages), "arcs": len(arcs),
               "test_pairs": report.n_test_pairs, "engine": fmt("engine"),
               "engine_fitted": fmt("engine_fitted") if "engine_fitted" in m else None,
               "best_baseline": report.best_baseline, "best": fmt(report.best_baseline),
               "verdict": report.verdict,
               "fitted_minus_best_mrr": round(m["engine_fitted"].mrr.mean
                                              - m[report.best_baseline].mrr.mean, 4)
               if "engine_fitted" in m else None,
               "seconds": round(time.perf_counter() - started, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    for verdict in ("wins", "level", "loses"):
        n = sum(r["verdict"] == verdict for r in rows)
        print(f"engine (own profile) {verdict} against the best baseline: {n} of {len(rows)}")


if __name__ == "__main__":
    main()
