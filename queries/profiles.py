"""Fitted weight profiles, stored beside the data they were fitted on.

``coopgraph fit`` (:func:`fit_store_profile`) fits a profile on a store's own
supply history (:func:`queries.evaluate.fit_profile`: an inner split of the
links, the factor weights and the network walk's degree penalty, β and
recency chosen by inner MRR) and stores it with its report in one JSON file,
:data:`PROFILE_FILE`, in the configured data directory
(``COOPGRAPH_DATA_DIR``) — for *both* stores: the embedded store keeps its
journal there, and a Neo4j deployment uses the same directory for its keys and
jobs, so the profile is a file an operator can read, diff and delete, and the
graph holds no derived data. :func:`load_profile` reads it back; the ranking
commands use it when no ``--profile`` is given.

The file records the store's revision at fitting time: a profile fitted on an
older graph is still used (weights change slowly), and ``coopgraph fit
--show`` says how stale it is.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

from pydantic import BaseModel, ValidationError

from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.store import Snapshot
from coopgraph.queries.answers import answers_from
from coopgraph.queries.evaluate import FitResult, fit_profile
from coopgraph.queries.factors import WeightProfile

__all__ = ["PROFILE_FILE", "ProfileFile", "StoredProfile", "fit_store_profile", "load_profile",
           "save_profile"]

PROFILE_FILE = "fitted_profile.json"


class StoredProfile(BaseModel):
    """The file's content: the fit's result and where it came from."""

    fitted_at: str
    revision: int
    direction: str
    result: FitResult

    @property
    def profile(self) -> WeightProfile:
        return self.result.profile


def fit_store_profile(snapshot: Snapshot, *, direction: str = "buyers", folds: int = 3,
                      seed: int = 0, max_queries: int = 200,
                      use_answers: bool = False) -> StoredProfile:
    """Fit a profile on ``snapshot``'s links (see the module docstring); nothing is written.

    ``use_answers``: the agreed and declined supply requests of the store join the
    objective as positives and negatives (:func:`queries.evaluate.fit_profile`).
    """
    if direction not in ("buyers", "suppliers"):
        raise InvalidQuery(f"direction must be buyers or suppliers, got {direction!r}")
    result = fit_profile(snapshot, direction=direction,  # type: ignore[arg-type]
                         folds=folds, seed=seed, max_queries=max_queries,
                         answers=answers_from(snapshot) if use_answers else None)
    return StoredProfile(fitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                         revision=snapshot.revision, direction=direction, result=result)


def save_profile(data_dir: Path, stored: StoredProfile) -> Path:
    """Write ``stored`` to ``data_dir / PROFILE_FILE`` atomically; return the path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PROFILE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stored.model_dump(mode="json"), ensure_ascii=False, indent=2),
                   encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_profile(data_dir: Path) -> StoredProfile | None:
    """The stored profile, or ``None`` when there is none.

    Raises
    ------
    InvalidQuery
        the file exists but cannot be read as a stored profile.
    """
    path = data_dir / PROFILE_FILE
    if not path.exists():
        return None
    try:
        return StoredProfile.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, OSError, ValueError) as exc:
        raise InvalidQuery(f"{path} is not a stored profile ({exc}); delete it or run "
                           f"`coopgraph fit` again") from None


class ProfileFile:
    """The stored profile of one data directory, re-read only when the file changes.

    For a server: :meth:`profile` costs one ``stat`` per call, so a ranking can
    ask for it every time and picks up a new ``coopgraph fit`` without a
    restart. A file that cannot be read is logged and ignored (the ranking
    falls back to the automatic profile) rather than failing every request.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / PROFILE_FILE
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._stored: StoredProfile | None = None

    def stored(self) -> StoredProfile | None:
        """The stored profile now, or ``None`` (no file, or an unreadable one)."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._seen:
                try:
                    self._stored = load_profile(self.path.parent)
                except InvalidQuery as exc:
                    logging.getLogger(__name__).warning("ignoring the stored profile: %s", exc)
                    self._stored = None
                self._seen = key
            return self._stored

    def profile(self, direction: str) -> WeightProfile | None:
        """The stored profile when it was fitted for ``direction`` (buyers / suppliers)."""
        stored = self.stored()
        if stored is None or stored.direction != direction:
            return None
        return stored.profile
