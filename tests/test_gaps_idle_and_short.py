"""One category both over capacity and idle at the same supplier: both figures right, and said why.

In the small cluster GEAR is demanded 340/yr (OEM1's BOM: 100 combines × 3, also
bought from S4 in Voronezh; OEM2's need: 40) while the only regional supplier, S3,
declares 100 — over capacity by 240. S3 sells GEAR to nobody, so its 100 are
100 % idle. Over capacity compares the whole demand with the declared capacity;
idle is capacity no supply link uses: not a contradiction, and the idle row says so.
"""

from __future__ import annotations

from coopgraph.graph.confidentiality import Viewer
from coopgraph.queries.gaps import find_gaps
from tests.chains_graphs import projection_of, small_cluster


def test_gear_is_short_and_idle_at_s3_with_an_explanation() -> None:
    report = find_gaps(projection_of(small_cluster()), cluster_id="K1")
    [over] = [o for o in report.over_capacity if o.category == "GEAR"]
    assert (over.demand_qty, over.capacity, over.shortfall) == (300 + 40, 100, 240)
    [idle] = [i for i in report.idle_capacity if i.category == "GEAR"]
    assert idle.company_id == "S3"
    assert idle.capacity == idle.free_capacity == 100  # all of it idle
    assert idle.demand_in_scope == 340
    assert idle.category_over_capacity
    assert "договора с этим поставщиком пока нет" in idle.text_ru
    assert "no contract with this supplier yet" in idle.text_en
    # an idle category nobody is short of carries no such sentence
    for row in report.idle_capacity:
        if row.category not in {o.category for o in report.over_capacity}:
            assert not row.category_over_capacity and "договора" not in row.text_ru


def test_a_member_reads_the_same_explanation_without_the_figures() -> None:
    report = find_gaps(projection_of(small_cluster()), cluster_id="K1", viewer=Viewer("OEM1"))
    [idle] = [i for i in report.idle_capacity if i.category == "GEAR"]
    assert idle.free_capacity is None and idle.category_over_capacity
    assert "no contract with this supplier yet" in idle.text_en
