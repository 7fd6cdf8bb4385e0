"""One exception hierarchy for the whole project.

Every error CoopGraph raises on purpose derives from :class:`CoopGraphError`, so a
caller (the CLI, the HTTP API) can catch one base and turn it into a readable
message without ever showing a traceback::

    CoopGraphError
    ├── ConfigError              a setting has a bad value
    ├── ValidationFailed         a record or a row does not satisfy the model
    ├── StoreError               the store could not do what was asked
    │   ├── StoreUnavailable     the database cannot be reached
    │   ├── StoreMissing         no store where the settings point (nothing ingested yet)
    │   ├── MissingReference     a relationship names a node that does not exist
    │   ├── HasDependents        a delete is refused: other records still name the record
    │   └── StoreCorrupted       the embedded store's files cannot be read
    ├── NotFound                 an id, code or key that the store does not hold
    ├── InvalidQuery             a query's arguments make no sense (bad filter, k < 1…)
    ├── BomCycleError            a bill of materials refers to itself
    ├── IngestError              an input file cannot be used at all
    ├── AccessDenied             the caller's role may not do this
    └── Conflict                 the record changed, or is not in a state that allows this
        ├── VersionConflict      another writer changed it first (optimistic concurrency)
        └── IllegalTransition    a workflow move its current state does not allow
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AccessDenied",
    "BomCycleError",
    "ConfigError",
    "Conflict",
    "CoopGraphError",
    "HasDependents",
    "IllegalTransition",
    "IngestError",
    "InvalidQuery",
    "MissingReference",
    "NotFound",
    "StoreCorrupted",
    "StoreError",
    "StoreMissing",
    "StoreUnavailable",
    "ValidationFailed",
    "VersionConflict",
]


class CoopGraphError(Exception):
    """Base of every error CoopGraph raises on purpose."""


class ConfigError(CoopGraphError):
    """A configuration value is missing or invalid (names the setting)."""


class ValidationFailed(CoopGraphError):
    """A record failed validation; ``problems`` lists ``(field, message)`` pairs."""

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class StoreError(CoopGraphError):
    """The store could not complete an operation."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, wrong URI, wrong credentials)."""


class DatabaseNotFound(StoreUnavailable):
    """The Neo4j server answers but has no database of the configured name."""


class MissingReference(StoreError):
    """A relationship refers to a node that is neither stored nor in the same write."""

    def __init__(self, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = list(missing)


class HasDependents(StoreError):
    """A delete was refused because other records still refer to what it would delete.

    ``dependents`` lists them as dicts ``{"kind", "key", "field", "refers_to"}``
    (``key`` and ``refers_to`` are lists of key parts); ``total`` is how many
    there are in all, ``dependents`` holds at most ``limit`` of them.
    """

    def __init__(self, message: str, dependents: Sequence[dict[str, object]] = (),
                 total: int | None = None) -> None:
        super().__init__(message)
        self.dependents = list(dependents)
        self.total = len(self.dependents) if total is None else total


class StoreCorrupted(StoreError):
    """The embedded store's files exist but cannot be read back."""


class NotFound(CoopGraphError):
    """The store holds no record with the given id, code or key."""


class InvalidQuery(CoopGraphError):
    """The arguments of a query or a filter are not meaningful."""


class BomCycleError(CoopGraphError):
    """A bill of materials contains a cycle; ``cycle`` lists it in order."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        path = " → ".join([*self.cycle, self.cycle[0]]) if self.cycle else "?"
        super().__init__(f"the bill of materials has a cycle: {path}")


class IngestError(CoopGraphError):
    """An input file cannot be used at all (unreadable, unknown format)."""


class AccessDenied(CoopGraphError):
    """The caller's role or company does not allow this operation."""


class Conflict(CoopGraphError):
    """The request conflicts with the record's current state (HTTP 409)."""


class VersionConflict(Conflict):
    """A conditional write found another ``version`` than expected; ``current`` is it."""

    def __init__(self, message: str, current: object = None) -> None:
        super().__init__(message)
        self.current = current


class IllegalTransition(Conflict):
    """A workflow move that the record's current state does not allow."""


class StoreMissing(StoreError):
    """No store where the settings point: a read command never creates one."""
