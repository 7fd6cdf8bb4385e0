"""The types of ids and numbers the routes take as query or path parameters.

One definition, used by every route, so that every route agrees on what is
valid and says so with a 422 problem (``/problems/validation``) — never a 404
for an empty id, never a 500 for a number too large to compute with:

- :data:`Id` — a key of the graph: whitespace stripped, then 1 to
  :data:`graph.models.MAX_KEY` characters (the models' ``Key``). An empty or
  blank id is refused, not looked up.
- :data:`DistanceKm` — a distance filter: finite, > 0 and at most
  :data:`MAX_DISTANCE_KM` (more than any distance on Earth, so no real filter
  is lost). Larger values are refused rather than clamped, so the caller
  learns the bound.
- :data:`Amount` — a capacity or volume filter: finite, ≥ 0 and at most
  :data:`graph.models.MAX_AMOUNT` (the largest figure the store accepts).

Use them inside ``Annotated`` with FastAPI's ``Query``/``Path``::

    supplier: Annotated[Id, Query(description="The supplier's company id")]
    cluster: Annotated[Id | None, Query(description="Only this cluster")] = None
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from coopgraph.graph.models import MAX_AMOUNT, MAX_KEY

__all__ = ["MAX_DISTANCE_KM", "Amount", "DistanceKm", "Id"]

MAX_DISTANCE_KM = 40_000.0  # Earth's circumference; the longest great circle is ~20 015 km

# ``pattern`` says in the OpenAPI schema what the stripping enforces: not blank.
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEY,
                                      pattern=r"\S")]
DistanceKm = Annotated[float, Field(gt=0, le=MAX_DISTANCE_KM, allow_inf_nan=False)]
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
