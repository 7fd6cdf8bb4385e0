"""Chain planning: capacities respected, demand met exactly, options honoured, current vs plan."""

from __future__ import annotations

from collections import defaultdict

import pytest

from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.graph.models import Capability, Supply
from coopgraph.queries.chains import ChainPlan, PlanOptions, plan_chain, plan_cluster
from coopgraph.queries.projection import ProjectionCache
from tests.chains_graphs import projection_of, small_cluster


@pytest.fixture(scope="module")
def records():
    return small_cluster()


@pytest.fixture(scope="module")
def proj(records):
    return projection_of(records)


def _capacity_from_records(records, makers: set[str],
                           release: bool) -> dict[tuple[str, str], float]:
    """Independent: capacity − volume sold (+ what is sold to the planned makers, if released)."""
    cap = {(r.company_id, r.category): r.capacity_per_year for r in records
           if isinstance(r, Capability) and r.capacity_per_year is not None}
    for r in records:
        if (isinstance(r, Supply) and (r.supplier_id, r.category) in cap
                and not (release and r.buyer_id in makers)):
            cap[(r.supplier_id, r.category)] -= r.volume_per_year or 0.0
    return cap


def _check_plan(plans: list[ChainPlan], capacity: dict[tuple[str, str], float]) -> None:
    used: dict[tuple[str, str], float] = defaultdict(float)
    for plan in plans:
        for cat in plan.categories:
            total = sum(a.qty for a in cat.allocations)
            assert total == pytest.approx(cat.demand, rel=1e-7, abs=1e-6), cat.category
            imported = sum(a.qty for a in cat.allocations if a.imported)
            assert imported == pytest.approx(cat.imported_qty, abs=1e-6)
            for a in cat.allocations:
                assert a.qty > 0
                if a.supplier_id is not None and not a.inferred:
                    used[(a.supplier_id, cat.category)] += a.qty
    for key, qty in used.items():
        assert qty <= capacity.get(key, 0.0) + 1e-6, f"{key}: {qty} > {capacity.get(key)}"


def test_plan_hand_checked(proj, records):
    plan = plan_chain(proj, "P1")
    cats = {c.category: c for c in plan.categories}
    assert {c: cats[c].demand for c in cats} == {
        "CAST": 400, "WELD": 100, "HYD": 200, "GEAR": 300, "CABIN": 100, "PAINT": 500}
    assert plan.in_house == ["FRAME"]
    assert sorted(plan.uncovered) == ["CABIN", "WELD"]  # nobody declares them
    assert cats["CABIN"].imported_qty == 100 and cats["WELD"].imported_qty == 100
    # S1: capacity 500 (its 200 to OEM1 given back) and the member discount beat S2
    assert [(a.supplier_id, a.qty) for a in cats["CAST"].allocations] == [("S1", 400)]
    assert cats["CAST"].allocations[0].in_cluster and cats["CAST"].allocations[0].local
    # GEAR: S3 (member, 100) then S4 (Voronezh) for the rest
    gear = {a.supplier_id: a.qty for a in cats["GEAR"].allocations}
    assert gear["S3"] == pytest.approx(100) and gear["S4"] == pytest.approx(200)
    _check_plan([plan], _capacity_from_records(records, {"OEM1"}, release=True))
    assert plan.total_cost == pytest.approx(sum(a.value for c in plan.categories
                                                for a in c.allocations))
    # current chain beside the plan
    assert [(link.supplier_id, link.qty) for link in cats["CAST"].current] == [("S1", 200)]
    assert any(link.imported for link in cats["CABIN"].current)
    changes = {(d.category, d.supplier_id): d.change for d in plan.diff}
    assert changes[("CAST", "S1")] == "more" and changes[("HYD", "S3")] == "new"
    assert changes[("GEAR", "S4")] == "less"
    assert 0 < plan.localization_share_value < 1
    assert plan.localization_share_count == pytest.approx(3 / 6)  # CAST, HYD, PAINT
    assert plan.model_dump(mode="json")["product_id"] == "P1"


def test_without_release_plan_stays_under_free_capacity(proj, records):
    plan = plan_chain(proj, "P1", options=PlanOptions(release_current=False))
    _check_plan([plan], _capacity_from_records(records, set(), release=False))
    casting = next(c for c in plan.categories if c.category == "CAST")
    cast = {a.supplier_id: a.qty for a in casting.allocations}
    assert cast == {"S1": pytest.approx(200), "S2": pytest.approx(200)}  # S1 sells 300 of 500


def test_inferred_capability_and_max_suppliers(proj):
    plan = plan_chain(proj, "P1", options=PlanOptions(allow_inferred=True,
                                                      max_suppliers_per_category=1))
    assert plan.solver == "highs-milp"
    cats = {c.category: c for c in plan.categories}
    weld = cats["WELD"].allocations
    assert weld[0].supplier_id == "S2" and weld[0].inferred and weld[0].qty == 100
    for cat in plan.categories:
        assert len({a.supplier_id for a in cat.allocations if not a.imported}) <= 1


def test_dual_sourcing_caps_each_supplier(proj):
    plan = plan_chain(proj, "P1", options=PlanOptions(critical_categories=["CAST"],
                                                      max_share=0.6))
    cast = next(c for c in plan.categories if c.category == "CAST")
    assert cast.dual_sourced
    assert all(a.qty <= 0.6 * 400 + 1e-6 for a in cast.allocations if not a.imported)
    assert len([a for a in cast.allocations if not a.imported]) == 2


def test_cluster_preference_raises_intra_share(proj):
    base = PlanOptions(release_current=False)
    off = plan_chain(proj, "P2", options=base.model_copy(update={"prefer_cluster": False}))
    on = plan_chain(proj, "P2", options=base.model_copy(update={"cluster_discount": 0.3}))
    assert on.intra_cluster_share > off.intra_cluster_share


def test_local_only_and_region(proj):
    plan = plan_chain(proj, "P1", options=PlanOptions(local_only=True))
    gear = next(c for c in plan.categories if c.category == "GEAR")
    assert {a.supplier_id for a in gear.allocations} == {"S3", None}  # S4 is not local
    assert gear.imported_qty == pytest.approx(200)
    far = plan_chain(proj, "P1", options=PlanOptions(region="Voronezh Oblast"))
    gear = next(c for c in far.categories if c.category == "GEAR")
    assert all(a.local == (a.supplier_id == "S4") for a in gear.allocations)


def test_cluster_plan_shares_capacities(proj, records):
    cp = plan_cluster(proj, "K1")
    assert {p.product_id for p in cp.plans} == {"P1", "P2"}
    _check_plan(cp.plans, _capacity_from_records(records, {"OEM1", "OEM2"}, release=True))
    hyd = sum(a.qty for p in cp.plans for c in p.categories if c.category == "HYD"
              for a in c.allocations if a.supplier_id == "S3")
    assert hyd == pytest.approx(250)  # S3's whole capacity, shared by both products
    assert cp.total_cost == pytest.approx(sum(p.total_cost for p in cp.plans))


def test_bad_input(proj):
    with pytest.raises(NotFound):
        plan_chain(proj, "nope")
    with pytest.raises(NotFound):
        plan_cluster(proj, "nope")
    with pytest.raises(NotFound):
        plan_chain(proj, "P1", options=PlanOptions(cluster_id="nope"))
    with pytest.raises(InvalidQuery):
        plan_chain(proj, "P1", volume=-5)
    with pytest.raises(ValueError):
        PlanOptions(max_share=0)


def test_sample_plans_respect_capacity(sample_store):
    proj = ProjectionCache(sample_store).get()
    snap = sample_store.snapshot()
    from coopgraph.graph.schema import EntityKind

    products = snap.rows(EntityKind.PRODUCT)
    makers = {str(p.get("maker_id")) for p in products}
    cap = {(r["company_id"], r["category"]): float(r["capacity_per_year"])
           for r in snap.rows(EntityKind.CAPABILITY) if r.get("capacity_per_year") is not None}
    for r in snap.rows(EntityKind.SUPPLY):
        key = (r["supplier_id"], r["category"])
        if key in cap and r["buyer_id"] not in makers:
            cap[key] -= float(r.get("volume_per_year") or 0.0)
    for cluster in snap.rows(EntityKind.CLUSTER):
        cp = plan_cluster(proj, cluster["id"])
        cluster_makers = {p.maker_id for p in cp.plans}
        # released capacity is only what goes to *this* cluster's makers
        cap_c = dict(cap)
        for r in snap.rows(EntityKind.SUPPLY):
            key = (r["supplier_id"], r["category"])
            if key in cap_c and r["buyer_id"] in makers - cluster_makers:
                cap_c[key] -= float(r.get("volume_per_year") or 0.0)
        _check_plan(cp.plans, cap_c)
    for p in products[:5]:
        plan = plan_chain(proj, p["id"])
        _check_plan([plan], _capacity_with(snap, plan.maker_id))


def _capacity_with(snap, maker):
    from coopgraph.graph.schema import EntityKind

    cap = {(r["company_id"], r["category"]): float(r["capacity_per_year"])
           for r in snap.rows(EntityKind.CAPABILITY) if r.get("capacity_per_year") is not None}
    for r in snap.rows(EntityKind.SUPPLY):
        key = (r["supplier_id"], r["category"])
        if key in cap and r["buyer_id"] != maker:
            cap[key] -= float(r.get("volume_per_year") or 0.0)
    return cap


@pytest.mark.parametrize("seed", [3, 11])
def test_block_solve_equals_one_big_lp(seed):
    """The LP is block-diagonal by category: solving blocks gives the one-solve optimum."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.optimize import linprog

    from bench.chains_speed import CLUSTER, _problem, build_instance
    from coopgraph.queries.chains import _solve_lp

    proj = build_instance(seed=seed, makers=4, assemblies_per_product=8, suppliers=300)
    problem = _problem(proj, list(range(4)), PlanOptions(critical_categories=["leaf001"]))
    x, _msg = _solve_lp(problem, 60, chunk=50)
    nv, nu = problem.n_vars, problem.n_units
    n = nv + nu
    cost = np.concatenate([problem.var_model_cost, problem.unit_import_cost])
    eq = sp.csr_matrix((np.ones(n), (np.concatenate([problem.var_unit, np.arange(nu)]),
                                     np.arange(n))), shape=(nu, n))
    used, row = np.unique(problem.var_cap, return_inverse=True)
    ub = sp.csr_matrix((np.ones(nv), (row, np.arange(nv))), shape=(len(used), n))
    ref = linprog(cost, A_ub=ub, b_ub=problem.cap_capacity[used], A_eq=eq,
                  b_eq=problem.unit_demand, method="highs",
                  bounds=np.column_stack([np.zeros(n), np.concatenate(
                      [problem.var_upper, problem.unit_demand])]))
    assert cost @ x == pytest.approx(ref.fun, rel=1e-9), f"seed={seed}"
    assert eq @ x == pytest.approx(problem.unit_demand)
    assert (ub @ x <= problem.cap_capacity[used] + 1e-6).all()
    assert plan_cluster(proj, CLUSTER).plans


def test_product_without_maker_or_bom():
    from coopgraph.graph.models import BomLine, Product

    records = [*small_cluster(), Product(id="P3", name="orphan", annual_volume=10),
               BomLine(parent="P3", child="CAST", qty=2), Product(id="P4", name="empty")]
    proj = projection_of(records)
    plan = plan_chain(proj, "P3")
    assert plan.maker_id is None and plan.categories[0].demand == 20
    assert all(a.distance_km is None for a in plan.categories[0].allocations)
    empty = plan_chain(proj, "P4")
    assert empty.categories == [] and empty.total_cost == 0 and empty.volume_assumed


def _shown_cost(category) -> float:
    """Independently of the planner: quantity × unit cost over the allocations shown."""
    return sum(a.qty * a.unit_cost for a in category.allocations
               if a.qty is not None and a.unit_cost is not None)


def test_categories_come_dearest_first_or_by_name(proj):
    plan = plan_chain(proj, "P1")
    costs = [_shown_cost(c) for c in plan.categories]
    assert len(set(costs)) > 1
    assert costs == sorted(costs, reverse=True)
    by_name = plan_chain(proj, "P1", options=PlanOptions(sort="name"))
    names = [c.name.casefold() for c in by_name.categories]
    assert names == sorted(names)
    assert [c.category for c in by_name.categories] != [c.category for c in plan.categories]
    assert sorted(c.model_dump_json() for c in by_name.categories) == \
        sorted(c.model_dump_json() for c in plan.categories)  # the same rows, reordered
    with pytest.raises(ValueError):
        PlanOptions(sort="size")  # type: ignore[arg-type]


def test_cluster_plans_come_dearest_first(proj):
    plans = plan_cluster(proj, "K1").plans
    totals = [p.total_cost or 0.0 for p in plans]
    assert totals == sorted(totals, reverse=True)
    named = plan_cluster(proj, "K1", options=PlanOptions(sort="name")).plans
    assert [p.product_name for p in named] == sorted(p.product_name for p in plans)
