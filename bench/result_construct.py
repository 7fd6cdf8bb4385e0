"""What pydantic's public ``model_construct`` costs a ranking, beside the private way it replaced.

Usage::

    .venv/bin/python bench/result_construct.py

Builds the 130 result objects of one ranking (10 candidates x 12 factors, and the 10
candidates) both ways, 300 interleaved rounds, and prints the CPU medians. The old way
(``_construct`` below, removed from ``queries/match.py`` by issue #15) wrote pydantic's
private attributes directly; it is kept here only as the baseline.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from coopgraph.queries.results import FactorValue, MatchCandidate


def _construct(cls: Any, data: dict[str, Any]) -> Any:
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", data)
    object.__setattr__(obj, "__pydantic_fields_set__", set(data))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _factor() -> dict[str, Any]:
    return {"name": "distance", "value": 0.5, "raw": 12.0, "unit": "km", "weight": 0.2,
            "contribution": 0.1, "text_ru": "a", "text_en": "b"}


def _candidate(factors: list[Any]) -> dict[str, Any]:
    return {"rank": 1, "company_id": "x", "company_name": "X", "region": None,
            "category": "c", "category_name": "C", "categories": ["c"], "fit": "exact",
            "related": False, "inferred": False, "score": 0.5, "relative_score": 50.0,
            "source": "demand", "distance_km": 1.0, "factors": factors, "reasons_ru": [],
            "reasons_en": []}


def _private() -> None:
    for _ in range(10):
        factors = [_construct(FactorValue, _factor()) for _ in range(12)]
        _construct(MatchCandidate, _candidate(factors))


def _public() -> None:
    for _ in range(10):
        factors = [FactorValue.model_construct(**_factor()) for _ in range(12)]
        MatchCandidate.model_construct(**_candidate(factors))


def main() -> None:
    times: dict[str, list[float]] = {"private": [], "public": []}
    for _ in range(300):
        for name, build in (("private", _private), ("public", _public)):
            started = time.process_time_ns()
            build()
            times[name].append((time.process_time_ns() - started) / 1e3)
    old, new = statistics.median(times["private"]), statistics.median(times["public"])
    print(f"one ranking's 130 objects: private _construct {old:.0f} µs, model_construct "
          f"{new:.0f} µs (CPU medians of 300 interleaved rounds), ratio {new / old:.2f}")
    a, b = _construct(FactorValue, _factor()), FactorValue.model_construct(**_factor())
    assert a.model_dump_json() == b.model_dump_json()


if __name__ == "__main__":
    main()
