"""BOM expansion: totals multiplied down the levels, cycles named, real scale (Willems 2008)."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from coopgraph.graph.errors import BomCycleError, InvalidQuery, NotFound
from coopgraph.graph.models import BomLine, Category, Product
from coopgraph.queries.bom import expand_bom, purchase_demand
from tests.chains_graphs import WILLEMS_XLSX, projection_of, small_cluster, willems_projection


def _by_code(expansion):
    return {e.category: e for e in expansion.entries}


def test_small_bom_hand_checked():
    proj = projection_of(small_cluster())
    exp = expand_bom(proj, "P1")
    got = {c: e.total_qty for c, e in _by_code(exp).items()}
    assert got == {"FRAME": 100, "HYD": 200, "GEAR": 300, "CABIN": 100, "PAINT": 500,
                   "CAST": 400, "WELD": 100}
    entries = _by_code(exp)
    assert not entries["FRAME"].is_leaf and entries["CAST"].is_leaf
    assert entries["CAST"].level == 2 and entries["HYD"].level == 1
    assert entries["CAST"].value == 400 * 100
    assert exp.n_assemblies == 1 and exp.n_leaves == 6 and exp.depth == 2
    assert expand_bom(proj, "P1", volume=3).volume == 3
    assert _by_code(expand_bom(proj, "P2", volume=10))["CAST"].total_qty == 80


def _naive(lines, children, n):
    """Independent reference: explicit recursion over every path (small graphs only)."""
    out = np.zeros(n)

    def walk(c, q):
        out[c] += q
        for ch, k in children.get(c, []):
            walk(ch, q * k)

    for c, q in lines:
        walk(c, q)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_shared_subassemblies_summed_random_dags(seed):
    rng = random.Random(seed)
    n = 12
    recs = [Category(code=f"C{i:02d}", name_ru=f"к{i}") for i in range(n)]
    children: dict[int, list[tuple[int, float]]] = {}
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < 0.3:
                q = float(rng.randint(1, 4))
                children.setdefault(i, []).append((j, q))
                recs.append(BomLine(parent=f"C{i:02d}", child=f"C{j:02d}", qty=q,
                                    parent_kind="category"))
    lines = [(0, 1.0), (1, 2.0)]
    recs += [Product(id="X", name="x", annual_volume=7),
             BomLine(parent="X", child="C00", qty=1), BomLine(parent="X", child="C01", qty=2)]
    proj = projection_of(recs)
    want = _naive(lines, children, n) * 7
    got = {e.category: e.total_qty for e in expand_bom(proj, "X").entries}
    for i in range(n):
        assert got.get(f"C{i:02d}", 0.0) == pytest.approx(want[i]), f"seed={seed} C{i:02d}"


def test_cycle_is_named_in_order():
    recs = [Category(code=c, name_ru=c) for c in ("A", "B", "C", "D")]
    recs += [Product(id="P", name="p"), BomLine(parent="P", child="D"),
             BomLine(parent="D", child="A", parent_kind="category"),
             BomLine(parent="A", child="B", parent_kind="category"),
             BomLine(parent="B", child="C", parent_kind="category"),
             BomLine(parent="C", child="A", parent_kind="category")]
    proj = projection_of(recs)
    with pytest.raises(BomCycleError) as info:
        expand_bom(proj, "P")
    cycle = info.value.cycle
    assert sorted(cycle) == ["A", "B", "C"]
    edges = {("A", "B"), ("B", "C"), ("C", "A")}
    assert all((cycle[i], cycle[(i + 1) % 3]) in edges for i in range(3))
    assert " → ".join([*cycle, cycle[0]]) in str(info.value)
    with pytest.raises(BomCycleError):
        purchase_demand(proj, proj.product("P"), np.zeros(proj.n_categories, bool), 1.0)


def test_cycle_elsewhere_does_not_break_other_products():
    recs = [Category(code=c, name_ru=c) for c in ("A", "B", "E")]
    recs += [Product(id="P", name="p"), Product(id="Q", name="q"),
             BomLine(parent="P", child="A"), BomLine(parent="Q", child="E"),
             BomLine(parent="A", child="B", parent_kind="category"),
             BomLine(parent="B", child="A", parent_kind="category")]
    proj = projection_of(recs)
    assert [e.category for e in expand_bom(proj, "Q").entries] == ["E"]
    with pytest.raises(BomCycleError):
        expand_bom(proj, "P")


def test_bad_input():
    proj = projection_of(small_cluster())
    with pytest.raises(NotFound):
        expand_bom(proj, "nope")
    with pytest.raises(InvalidQuery):
        expand_bom(proj, "P1", volume=-1)
    with pytest.raises(InvalidQuery):
        expand_bom(proj, "P1", volume=float("nan"))


def test_purchase_level_stops_at_buyable_assemblies():
    proj = projection_of(small_cluster())
    buyable = np.zeros(proj.n_categories, dtype=bool)
    demand, house = purchase_demand(proj, proj.product("P1"), buyable, 100)
    codes = {proj.category_codes[c]: q for c, q in demand.items()}
    assert "FRAME" not in codes and codes["CAST"] == 400 and codes["WELD"] == 100
    assert [proj.category_codes[c] for c in house] == ["FRAME"]
    buyable[proj.category("FRAME")] = True
    demand, house = purchase_demand(proj, proj.product("P1"), buyable, 100)
    codes = {proj.category_codes[c]: q for c, q in demand.items()}
    assert codes["FRAME"] == 100 and "CAST" not in codes and house == []


willems = pytest.mark.skipif(not WILLEMS_XLSX.exists(), reason="Willems (2008) data not present")


@pytest.fixture(scope="module")
def willems_proj():
    return willems_projection(38)


@willems
def test_willems_38_expands_fast_and_right(willems_proj):
    proj = willems_proj
    n_lines = sum(len(c) for c in proj.category_bom)
    assert proj.n_categories >= 2000 and n_lines >= 16000
    started = time.perf_counter()
    exp = expand_bom(proj, "W")
    seconds = time.perf_counter() - started
    assert seconds < 1.0, f"expansion took {seconds:.3f}s"
    # independent check: total demand x solves (I - Qᵀ) x = d0 (Q[parent, child] = qty)
    rows, cols, vals = [], [], []
    for parent, lines in enumerate(proj.category_bom):
        for child, q in lines:
            rows.append(parent)
            cols.append(child)
            vals.append(q)
    n = proj.n_categories
    q_mat = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    d0 = np.zeros(n)
    for c, q in proj.product_bom[0]:
        d0[c] += q
    x = spla.spsolve((sp.identity(n, format="csc") - q_mat.T.tocsc()), d0) * exp.volume
    got = np.zeros(n)
    for e in exp.entries:
        got[proj.category(e.category)] = e.total_qty
    np.testing.assert_allclose(got, x, rtol=1e-9)


@willems
def test_willems_38_with_a_back_arc_names_the_cycle():
    stages_arc = ("Manuf_0001", "Trans_0001")  # the first real arc of chain 38
    proj = willems_projection(38, extra_arcs=[(stages_arc[1], stages_arc[0])])
    with pytest.raises(BomCycleError) as info:
        expand_bom(proj, "W")
    assert set(info.value.cycle) == set(stages_arc)
