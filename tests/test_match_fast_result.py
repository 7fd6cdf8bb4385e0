"""Result objects built without validation, and cached wording, agree with the plain calls.

Rankings build their results with pydantic's public ``model_construct`` (no private
attributes set by hand), and ``graph.i18n`` keeps the worded figures (``number``,
``percent``, plural forms) in caches across queries. Both must give exactly what
the plain calls give: the same objects, the same JSON, the same words — including
the cases a cache could conflate (``1`` and ``1.0``, ``0.0`` and ``-0.0``).
"""

from __future__ import annotations

import pytest

from coopgraph.graph.i18n import _locale, _number, count, number, percent, plural_form
from coopgraph.queries.match import rank_buyers, rank_suppliers
from coopgraph.queries.projection import Projection
from coopgraph.queries.results import FactorValue, MatchCandidate


@pytest.fixture(scope="module")
def reference(sample_snapshot) -> Projection:  # type: ignore[no-untyped-def]
    return Projection.from_snapshot(sample_snapshot)


def _check_same_as_model_construct(cand: MatchCandidate) -> None:
    for obj in (cand, *cand.factors):
        cls = type(obj)
        assert list(obj.__dict__) == list(cls.model_fields), cls  # every field, in order
        slow = cls.model_construct(**dict(obj.__dict__))
        assert obj == slow
        assert obj.model_fields_set == slow.model_fields_set
        assert obj.model_dump_json() == slow.model_dump_json()
        assert obj.__pydantic_extra__ is None and obj.__pydantic_private__ is None


def test_built_candidates_equal_model_construct_on_the_sample(reference):
    seen = 0
    for company in reference.company_ids[:40]:
        for rank in (rank_buyers, rank_suppliers):
            result = rank(reference, company, k=10)
            for cand in result.candidates:
                assert isinstance(cand, MatchCandidate)
                assert all(isinstance(f, FactorValue) for f in cand.factors)
                _check_same_as_model_construct(cand)
                seen += 1
            # the whole result round-trips through validation unchanged
            again = type(result).model_validate_json(result.model_dump_json())
            assert again.model_dump_json() == result.model_dump_json()
    assert seen > 50


def _plain_plural(n: float, lang: str) -> str:
    return str(_locale(lang).plural_form(abs(n)))  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_cached_wording_equals_the_uncached(lang):
    values = [0, 0.0, -0.0, 1, 1.0, 1.5, 2, 2.0, 5, 21, 21.0, 0.731, 0.005, 2.675, 1234.5,
              1234, 99.95, -3.25, 1e6, 0.999]
    for _ in range(2):  # the second pass reads the caches
        for x in values:
            assert plural_form(x, lang) == _plain_plural(x, lang), x  # type: ignore[arg-type]
            for digits in (0, 1, 2):
                assert number(x, lang, digits) == _number.__wrapped__(x, lang, digits), x
                assert percent(x, lang, digits) == _plain_percent(x, lang, digits), (x, digits)
    # 1 and 1.0 are different keys: English says "1 day" but "1.0 days" is "other"
    assert plural_form(1, "en") == "one"
    assert plural_form(1.0, "en") == _plain_plural(1.0, "en")
    assert percent(-0.0, lang) == _plain_percent(-0.0, lang, 0)
    assert percent(0.0, lang) == _plain_percent(0.0, lang, 0)
    assert count(2, lang, ("a", "b", "c"), ("d", "e")).startswith("2")


def _plain_percent(x: float, lang: str, digits: int) -> str:
    from coopgraph.graph.i18n import _format, _pattern

    base = _locale(lang).percent_formats[None].pattern  # type: ignore[arg-type]
    return _format(x, base.replace("#,##0", _pattern(digits)), lang)  # type: ignore[arg-type]
