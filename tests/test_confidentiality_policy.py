"""The confidentiality policy (graph/confidentiality.py), rule by rule, figures known by hand."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import coopgraph.graph.confidentiality as policy
from coopgraph.graph.confidentiality import (
    CENTRE,
    MIN_FOR_EXTREMES,
    MIN_OTHERS,
    Viewer,
    aggregate,
    can_see,
    can_see_record,
    capacity_band,
    coarse,
    total_with_own,
)
from coopgraph.graph.schema import EntityKind, confidential_fields
from coopgraph.queries.factors import capacity_value

ME = Viewer("me")


def test_doctests() -> None:
    assert doctest.testmod(policy).failed == 0


def test_thresholds_are_the_documented_ones() -> None:
    assert (MIN_OTHERS, MIN_FOR_EXTREMES) == (3, 5)


def test_confidential_fields_come_from_the_models() -> None:
    assert policy.CONFIDENTIAL[EntityKind.CAPABILITY] == confidential_fields("capability")
    assert set(policy.CONFIDENTIAL) == {k for k in EntityKind if confidential_fields(k)}


def test_can_see_needs_every_owner_to_be_the_viewer() -> None:
    assert can_see(CENTRE, "a", "b") and can_see(ME, "me") and can_see(ME, "me", "me")
    assert not can_see(ME, "me", "other") and not can_see(ME, "other") and not can_see(ME, None)


def test_a_supply_link_is_each_of_its_owners() -> None:
    link = {"supplier_id": "me", "buyer_id": "b", "category": "c"}
    assert can_see_record(ME, EntityKind.SUPPLY, link)
    assert can_see_record(Viewer("b"), EntityKind.SUPPLY, link)
    assert not can_see_record(Viewer("x"), EntityKind.SUPPLY, link)


def test_own_rows_never_count_towards_the_threshold() -> None:
    # two competitors and the member's own zero capability: not three others
    rows = {"a": [100.0], "b": [200.0], "me": [0.0]}
    agg = aggregate(ME, rows)
    assert (agg.companies, agg.total, agg.median, agg.withheld) == (2, None, None, True)
    assert aggregate(CENTRE, rows).total == 300.0


def test_exactly_three_other_suppliers_give_a_sum_but_no_price_range() -> None:
    prices = {"a": [101.0], "b": [205.0], "c": [333.0]}
    agg = aggregate(ME, prices)
    assert agg.total == coarse(639.0) == 640.0
    assert (agg.minimum, agg.median, agg.maximum) == (None, None, None)
    centre = aggregate(CENTRE, prices)
    assert (centre.minimum, centre.median, centre.maximum) == (101.0, 205.0, 333.0)


def test_five_other_companies_give_a_rounded_range() -> None:
    prices = {c: [p] for c, p in zip("abcde", (101.0, 205.0, 333.0, 478.0, 512.0), strict=True)}
    agg = aggregate(ME, {**prices, "me": [1.0]})
    assert (agg.minimum, agg.median, agg.maximum) == (100.0, 330.0, 510.0)
    assert agg.withheld is False


def test_unknown_figures_do_not_count() -> None:
    agg = aggregate(ME, {"a": [None], "b": [float("nan")], "c": [1.0], "d": [2.0]})
    assert agg.companies == 2 and agg.total is None


def test_total_with_own_adds_what_the_member_knows() -> None:
    rows = {"a": [1000.0], "b": [2000.0], "c": [3000.0], "me": [123.0]}
    assert total_with_own(ME, rows) == coarse(6123.0) == 6100.0
    assert total_with_own(ME, {"me": [123.0]}) == 123.0
    assert total_with_own(ME, {"a": [1.0], "me": [123.0]}) is None
    assert total_with_own(CENTRE, rows) == 6123.0


def test_capacity_band() -> None:
    assert capacity_band(10.0, 5.0) == capacity_band(5.0, 5.0) == 1.0
    assert capacity_band(3.9, 5.0) == 0.0
    # At one significant digit: 4.99 against 5 is "enough", 539 694 against 600 000 short.
    assert capacity_band(4.99, 5.0) == 1.0
    assert capacity_band(539_694, 600_000) == 0.0


@given(st.integers(1, 9), st.integers(0, 8), st.floats(0, 0.45), st.floats(0, 0.45),
       st.floats(1.0, 1e10))
def test_binary_search_on_the_band_finds_only_one_significant_digit(
        digit: int, exponent: int, a: float, b: float, demand: float) -> None:
    """Two hidden capacities with the same leading digit answer every demand alike."""
    secret, other = (digit + a) * 10**exponent, (digit + b) * 10**exponent
    assert capacity_band(secret, demand) == capacity_band(other, demand)


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_coarse_keeps_two_significant_digits(x: float) -> None:
    y = coarse(x)
    assert y is not None
    assert abs(y - x) <= abs(x) * 0.05 + 1e-12
    assert len(f"{y:.6e}".split("e")[0].rstrip("0").replace(".", "").lstrip("0")) <= 2


@pytest.mark.parametrize("n_others", range(0, 7))
def test_sums_and_ranges_appear_at_their_thresholds(n_others: int) -> None:
    rows = {f"c{i}": [1000.0 + 17 * i] for i in range(n_others)}
    agg = aggregate(ME, rows)
    assert (agg.total is not None) == (n_others >= MIN_OTHERS)
    assert (agg.median is not None) == (n_others >= MIN_FOR_EXTREMES)


@given(st.lists(st.tuples(st.floats(0, 1e9) | st.just(math.nan),
                          st.floats(0, 1e9) | st.just(math.nan)), max_size=20))
def test_the_rankings_band_is_the_policys(pairs: list[tuple[float, float]]) -> None:
    free = np.array([p[0] for p in pairs], dtype=float)
    demand = np.array([p[1] for p in pairs], dtype=float)
    assert capacity_value(free, demand, banded=True).tolist() == [
        capacity_band(f, d) for f, d in pairs]


def test_a_member_key_without_a_company_is_never_the_centre() -> None:
    from coopgraph.api.auth import Principal
    from coopgraph.api.keys import KeyRole
    from coopgraph.graph.errors import AccessDenied

    assert Principal(KeyRole.ANALYST).viewer is CENTRE
    assert Principal(KeyRole.MEMBER, company_id="me").viewer == ME
    with pytest.raises(AccessDenied):
        _ = Principal(KeyRole.MEMBER).viewer
