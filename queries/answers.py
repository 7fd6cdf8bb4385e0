"""Answered cooperation requests as labelled data for the ranking (issue 13, item 4).

A supply request that was ``agreed`` or ``declined`` says whether a
(supplier, buyer) pair the engine might recommend turned into a contract. This
module reads those answers from a snapshot (:func:`answers_from`) and gives the
graph as it was *before* them (:func:`before_answers`: the supply links of
answered pairs removed — an agreement records its supply link, which would
otherwise make the pair a current partner and not a candidate).

:func:`queries.evaluate.answers_precision` reports the engine's precision on
them (``coopgraph evaluate``); :func:`queries.evaluate.fit_profile` can use
them (``coopgraph fit --use-answers``): agreed pairs as positives, declined
ones as negatives, on that "before" graph.

Requests usually start from a recommendation, so the answered pairs are a
biased sample (those the engine already ranked high): a precision here says how
often its recommendations were taken, not how it ranks pairs nobody asked about.
"""

from __future__ import annotations

from dataclasses import dataclass

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot

__all__ = ["Answer", "answers_from", "before_answers"]

_ANSWERED = {"agreed": True, "declined": False}


@dataclass(frozen=True)
class Answer:
    """One answered supply request: the pair and whether it was agreed."""

    supplier_id: str
    buyer_id: str
    agreed: bool
    category: str | None = None


def answers_from(snapshot: Snapshot) -> list[Answer]:
    """The agreed and declined *supply* requests of ``snapshot``, as supplier–buyer pairs.

    The requester's role says which side it is on (``buyer``: it asked the
    addressee to supply; ``supplier``: it offered to supply). Requests for other
    kinds of tie (R&D, training, …) and open or expired ones are no label for a
    supply ranking and are left out. A pair answered more than once keeps its
    latest answer (by ``updated_at``, then id).
    """
    latest: dict[tuple[str, str], tuple[str, str, Answer]] = {}
    for r in snapshot.rows(EntityKind.COOP_REQUEST):
        agreed = _ANSWERED.get(str(r.get("state")))
        if agreed is None or str(r.get("tie_type") or "supply") != "supply":
            continue
        role = str(r.get("requester_role") or "buyer")
        if role == "buyer":
            supplier, buyer = str(r["to_id"]), str(r["from_id"])
        elif role == "supplier":
            supplier, buyer = str(r["from_id"]), str(r["to_id"])
        else:
            continue
        cat = r.get("category")
        answer = Answer(supplier, buyer, agreed, str(cat) if cat else None)
        key = (str(r.get("updated_at") or ""), str(r.get("id") or ""))
        got = latest.get((supplier, buyer))
        if got is None or key >= got[:2]:
            latest[(supplier, buyer)] = (*key, answer)
    return [v[2] for _, v in sorted(latest.items())]


def before_answers(snapshot: Snapshot, answers: list[Answer], revision: int) -> Snapshot:
    """``snapshot`` without the supply links of the answered pairs (a fresh ``revision``)."""
    pairs = {(a.supplier_id, a.buyer_id) for a in answers}
    tables = dict(snapshot.tables)
    tables[EntityKind.SUPPLY] = [
        r for r in snapshot.rows(EntityKind.SUPPLY)
        if (str(r["supplier_id"]), str(r["buyer_id"])) not in pairs]
    return Snapshot(revision=revision, tables=tables)
