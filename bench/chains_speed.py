"""Benchmark of chain planning: one product over 10,000 suppliers, a 30-maker cluster, and
HiGHS beside networkx's network simplex on the same instances.

Run from the repository root::

    .venv/bin/python -m bench.chains_speed            # or: --repeat 5 --skip-simplex

Instances are synthetic (seeded, so every run builds the same ones):

* **product**: one end product whose BOM has 550 categories — 50 assemblies
  (qty 1–2) of 10 components each (qty 1–4), nobody declares the assemblies,
  so the 500 components are bought; 10,000 suppliers declare 1–4 components
  each (≈25,000 capabilities, ≈50 candidates per category) with integer
  capacities and prices, spread over 20 regions around Lipetsk.
* **cluster**: 30 end-product makers in one cluster, each with a product of
  ``--cluster-assemblies`` assemblies drawn from a pool of 100 (over the same
  500 components and 10,000 suppliers), planned in one LP over shared capacities.

Also timed: the expansion of the real BOM shape of Willems (2008) chain 38
(see ``tests/chains_graphs.py``; S. P. Willems, "Real-World Multi-Echelon
Supply Chains Used for Inventory Optimization", M&SOM 10(1):19–23, 2008).

Timed: the whole ``plan_chain`` / ``plan_cluster`` call (BOM expansion, problem
building, HiGHS, reading the result back) and, separately, the solver alone;
then networkx's ``network_simplex`` on a min-cost-flow graph of the very same
LP (units → capabilities → sink, plus import arcs; costs in kopecks as
integers). Medians of ``--repeat`` runs; the objective values are compared.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import networkx as nx
import numpy as np
import scipy

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.bom import expand_bom, purchase_demand
from coopgraph.queries.chains import (
    PlanOptions,
    PlanProblem,
    build_problem,
    plan_chain,
    plan_cluster,
    solve_problem,
)
from coopgraph.queries.projection import Projection

N_SUPPLIERS = 10_000
N_LEAVES = 500
N_ASSEMBLY_POOL = 100
CLUSTER = "bench-cluster"


def build_instance(*, seed: int = 2017, makers: int = 30, assemblies_per_product: int = 50,
                   suppliers: int = N_SUPPLIERS) -> Projection:
    """The synthetic projection (see the module docstring)."""
    rng = random.Random(seed)
    regions = [f"region-{i:02d}" for i in range(20)]
    companies: list[dict[str, Any]] = []
    for i in range(suppliers):
        companies.append({"id": f"s{i:05d}", "name": f"Supplier {i}",
                          "region": regions[i % 20], "roles": ["supplier"],
                          "lat": 52.6 + rng.uniform(-4, 4), "lon": 39.6 + rng.uniform(-6, 6)})
    for m in range(makers):
        companies.append({"id": f"oem{m:02d}", "name": f"OEM {m}", "region": regions[0],
                          "roles": ["oem"], "lat": 52.6 + rng.uniform(-0.5, 0.5),
                          "lon": 39.6 + rng.uniform(-0.5, 0.5)})
    leaves = [f"leaf{i:03d}" for i in range(N_LEAVES)]
    pool = [f"asm{i:03d}" for i in range(N_ASSEMBLY_POOL)]
    categories: list[dict[str, Any]] = [
        {"code": c, "name_ru": c, "unit_price": float(rng.randint(50, 5000))}
        for c in leaves + pool]
    bom: list[dict[str, Any]] = []
    for a, code in enumerate(pool):
        # assembly a uses 10 components; the first 50 assemblies cover all 500 exactly
        parts = (leaves[10 * a:10 * a + 10] if a < 50
                 else rng.sample(leaves, 10))
        bom += [{"parent_kind": "category", "parent": code, "child": leaf,
                 "qty": float(rng.randint(1, 4))} for leaf in parts]
    products: list[dict[str, Any]] = []
    for m in range(makers):
        chosen = pool[:50] if m == 0 and assemblies_per_product >= 50 else rng.sample(
            pool, assemblies_per_product)
        products.append({"id": f"prod{m:02d}", "name": f"Product {m}", "maker_id": f"oem{m:02d}",
                         "annual_volume": float(rng.choice([200, 500, 1000]))})
        bom += [{"parent_kind": "product", "parent": f"prod{m:02d}", "child": code,
                 "qty": float(rng.randint(1, 2))} for code in chosen]
    price: dict[str, float] = {c["code"]: c["unit_price"] for c in categories}
    caps: dict[tuple[str, str], dict[str, Any]] = {}
    for i in range(suppliers):
        for leaf in rng.sample(leaves, rng.randint(1, 4)):
            caps[(f"s{i:05d}", leaf)] = {
                "company_id": f"s{i:05d}", "category": leaf,
                "capacity_per_year": float(rng.randint(100, 3000)),
                "unit_price": round(price[leaf] * rng.uniform(0.8, 1.3), 2)}
    members = [{"company_id": f"oem{m:02d}", "cluster_id": CLUSTER} for m in range(makers)]
    members += [{"company_id": f"s{i:05d}", "cluster_id": CLUSTER}
                for i in range(0, min(600, suppliers), 3)]
    tables = {
        EntityKind.COMPANY: sorted(companies, key=lambda r: r["id"]),
        EntityKind.CLUSTER: [{"id": CLUSTER, "name": "Bench cluster", "region": regions[0],
                              "intra_share_threshold": 0.2}],
        EntityKind.CATEGORY: sorted(categories, key=lambda r: r["code"]),
        EntityKind.PRODUCT: products,
        EntityKind.BOM_LINE: bom,
        EntityKind.CAPABILITY: [caps[k] for k in sorted(caps)],
        EntityKind.MEMBERSHIP: members,
    }
    return Projection.from_snapshot(Snapshot(revision=1, tables=tables))


CPU: dict[str, float] = {}


def _median(fn: Callable[[], Any], repeat: int, label: str = "") -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls (the median CPU time goes to ``CPU[label]``).

    Both are kept because the benchmark machine is shared: wall time includes
    waiting for a core, CPU time does not.
    """
    times, cpu, result = [], [], None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    if label:
        CPU[label] = statistics.median(cpu)
    return statistics.median(times), result


def _problem(proj: Projection, products: list[int], options: PlanOptions) -> PlanProblem:
    demands = []
    buyable = np.zeros(proj.n_categories, dtype=bool)
    buyable[proj.cap_category] = True
    for p in products:
        vol = float(proj.product_rows[p]["annual_volume"])
        demand, _house = purchase_demand(proj, p, buyable, vol)
        demands.append((p, int(proj.product_maker[p]), demand))
    return build_problem(proj, demands, options)


def simplex_graph(problem: PlanProblem) -> nx.DiGraph:
    """The LP as a min-cost flow: unit → capability → sink, unit → sink (import)."""
    graph = nx.DiGraph()
    total = 0
    for u, d in enumerate(problem.unit_demand.tolist()):
        graph.add_node(("u", u), demand=-round(d))
        total += round(d)
        graph.add_edge(("u", u), "sink", weight=round(problem.unit_import_cost[u] * 100))
    graph.add_node("sink", demand=total)
    for cap_id in np.unique(problem.var_cap).tolist():
        graph.add_edge(("c", cap_id), "sink", weight=0,
                       capacity=round(problem.cap_capacity[cap_id]))
    for v in range(problem.n_vars):
        graph.add_edge(("u", int(problem.var_unit[v])), ("c", int(problem.var_cap[v])),
                       weight=round(problem.var_model_cost[v] * 100),
                       capacity=round(problem.var_upper[v]))
    return graph


def _lp_objective(problem: PlanProblem) -> float:
    assert problem.solution is not None
    cost = np.concatenate([problem.var_model_cost, problem.unit_import_cost])
    return float(cost @ problem.solution)


def run(repeat: int, skip_simplex: bool, cluster_assemblies: int, *, simplex_repeat: int = 3,
        simplex_cluster: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    options = PlanOptions()
    proj = build_instance(assemblies_per_product=cluster_assemblies)
    n_caps = len(proj.cap_company)
    # warm the projection's cached structures once (they are kept between queries)
    plan_chain(proj, "prod00")
    t, plan = _median(lambda: plan_chain(proj, "prod00"), repeat, "product")
    out["product"] = {"seconds": t, "categories": len(plan.categories),
                      "bom_categories": 550, "suppliers": N_SUPPLIERS, "capabilities": n_caps,
                      "imported": len(plan.uncovered)}
    single = _problem(proj, [0], options)
    out["product"]["variables"] = single.n_vars + single.n_units
    t, cplan = _median(lambda: plan_cluster(proj, CLUSTER), repeat, "cluster")
    out["cluster"] = {"seconds": t, "makers": len(cplan.plans), "variables": cplan.n_variables,
                      "solver_seconds": cplan.solve_seconds,
                      "units": sum(len(p.categories) for p in cplan.plans)}
    targets = [] if skip_simplex else [("product", [0])]
    if simplex_cluster:
        targets.append(("cluster", list(range(len(proj.product_ids)))))
    for key, products in targets:
        problem = _problem(proj, products, options)
        graph = simplex_graph(problem)
        n_ns = simplex_repeat if key == "product" else 1
        t_ns, (cost, _flow) = _median(partial(nx.network_simplex, graph), n_ns, "ns-" + key)
        runs = [solve_problem(_problem(proj, products, options)) for _ in range(repeat)]
        solved = runs[-1]
        out[key]["simplex_seconds"] = t_ns
        out[key]["simplex_cpu_seconds"] = CPU["ns-" + key]
        out[key]["simplex_runs"] = n_ns
        out[key]["highs_seconds_same_instance"] = statistics.median(r.seconds for r in runs)
        out[key]["objective_highs"] = _lp_objective(solved)
        out[key]["objective_simplex"] = cost / 100
    for key in ("product", "cluster"):
        out[key]["cpu_seconds"] = CPU[key]
    out["willems38"] = _willems(repeat)
    return out


def _willems(repeat: int) -> dict[str, Any]:
    """BOM expansion of Willems (2008) chain 38 (2,025 stages, 16,225 arcs) as one product."""
    try:
        from tests.chains_graphs import WILLEMS_XLSX, willems_projection
    except ImportError:  # pragma: no cover - run from the repository root
        return {"skipped": "run from the repository root"}
    if not WILLEMS_XLSX.exists():
        return {"skipped": f"{WILLEMS_XLSX} not found"}
    proj = willems_projection(38)
    t, exp = _median(lambda: expand_bom(proj, "W"), repeat, "willems")
    return {"seconds": t, "cpu_seconds": CPU["willems"], "categories": len(exp.entries),
            "bom_lines": sum(len(c) for c in proj.category_bom) + len(proj.product_bom[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-simplex", action="store_true")
    parser.add_argument("--cluster-assemblies", type=int, default=50)
    parser.add_argument("--simplex-repeat", type=int, default=3)
    parser.add_argument("--simplex-cluster", action="store_true",
                        help="Also run network_simplex on the cluster instance (minutes)")
    args = parser.parse_args()
    result = run(args.repeat, args.skip_simplex, args.cluster_assemblies,
                 simplex_repeat=args.simplex_repeat, simplex_cluster=args.simplex_cluster)
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, scipy {scipy.__version__}, "
          f"networkx {nx.__version__}")
    for key, r in result.items():
        print(key, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})


if __name__ == "__main__":
    main()
