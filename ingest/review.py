"""The entity-resolution review queue: pairs, decisions, and undoing a merge.

Each pair entity resolution merged or left for review is an
:class:`~graph.models.ErPair` in the store (both stores), keyed by the two company
ids (:func:`pair_id`). A reviewer works through the ``review`` pairs:

* **accept** — one company: ``b`` is folded into ``a`` now (its empty fields
  filled, every record naming ``b`` repointed to ``a``, ``b`` deleted), and
  every later load merges them;
* **reject** — two companies: nothing changes now, and no later load merges them
  or asks again;
* **split** — undo a merge (a load's or an accepted one): ``b`` comes back as it
  was, ``a`` loses the fields it took from ``b``, the records a reviewer's
  accept repointed go back to ``b``; later loads keep them apart;
* **undo** — take the last decision back (accept → review, reject → review,
  split → merged again).

What a merge folded is kept on the pair (``folded``, ``kept_before``, ``moved``):
that is what makes a split possible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any, Literal

from coopgraph.graph.errors import CoopGraphError, NotFound
from coopgraph.graph.models import Company, ErPair, Record
from coopgraph.graph.schema import EntityKind, references_to, spec, to_props
from coopgraph.graph.store import MAX_PAGE, GraphStore
from coopgraph.ingest.resolve import Decisions, merge_companies

__all__ = [
    "ACTIONS",
    "ReviewError",
    "decide",
    "decisions_of",
    "list_pairs",
    "pair_id",
]

_K = EntityKind
Action = Literal["accept", "reject", "split", "undo"]
ACTIONS: tuple[str, ...] = ("accept", "reject", "split", "undo")
# which statuses each action may start from, and the status it leaves
_FROM: dict[str, tuple[str, ...]] = {
    "accept": ("review", "rejected", "split"),
    "reject": ("review",),
    "split": ("merged", "accepted"),
}


class ReviewError(CoopGraphError):
    """A decision that cannot be taken on this pair in its present state (409)."""


def pair_id(a_id: str, b_id: str) -> str:
    """The pair's key: the same for (a, b) and (b, a).

    Examples
    --------
    >>> pair_id("x", "y") == pair_id("y", "x")
    True
    """
    x, y = sorted((a_id, b_id))
    return "erp-" + hashlib.sha1(f"{x}\x1f{y}".encode()).hexdigest()[:16]


def list_pairs(store: GraphStore, status: str | None = "review") -> list[ErPair]:
    """The pairs with ``status`` (all when None), the most likely matches first."""
    filters = {"status": status} if status else None
    pairs: list[ErPair] = []
    offset = 0
    while True:
        page = store.list(_K.ER_PAIR, filters=filters, offset=offset, limit=MAX_PAGE)
        pairs.extend(p for p in page.items if isinstance(p, ErPair))
        offset += len(page.items)
        if offset >= page.total or not page.items:
            break
    pairs.sort(key=lambda p: (-p.score, p.a_id, p.b_id))
    return pairs


def decisions_of(pairs: Iterable[ErPair]) -> Decisions:
    """The reviewers' decisions a load must honour."""
    out = Decisions()
    for p in pairs:
        if p.status == "accepted":
            out.same.add(frozenset((p.a_id, p.b_id)))
        elif p.status in ("rejected", "split"):
            out.different.add(frozenset((p.a_id, p.b_id)))
    return out


def decide(store: GraphStore, key: str, action: str, *, by: str | None = None) -> ErPair:
    """Take ``action`` on the pair ``key``; return the pair as stored afterwards.

    Raises
    ------
    NotFound
        No pair with that key.
    ReviewError
        The action does not apply to the pair's present status, or a company it
        needs is gone.
    """
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    pair = store.get(_K.ER_PAIR, key)
    assert isinstance(pair, ErPair)
    if action == "undo":
        return _undo(store, pair, by)
    if pair.status not in _FROM[action]:
        raise ReviewError(
            f"cannot {action} pair {key}: its status is {pair.status!r} "
            f"(accept: review/rejected/split; reject: review; split: merged/accepted)")
    if action == "split" and (pair.reason or "").startswith(("same INN", "same OGRN")):
        raise ReviewError(f"pair {key} was merged by a shared INN/OGRN: one legal entity. "
                          "If a number is wrong, correct it in the file and load it again")
    if action == "accept":
        return _save(store, _fold(store, pair), "accepted", pair.status, by)
    if action == "reject":
        return _save(store, pair, "rejected", pair.status, by)
    return _save(store, _unfold(store, pair), "split", pair.status, by)


def _undo(store: GraphStore, pair: ErPair, by: str | None) -> ErPair:
    if pair.status == "accepted":
        return _save(store, _unfold(store, pair), "review", None, by)
    if pair.status == "rejected":
        return _save(store, pair, "review", None, by)
    if pair.status == "split":
        back = pair.previous if pair.previous in ("merged", "accepted") else "accepted"
        return _save(store, _fold(store, pair), back, None, by)
    if pair.status == "merged":
        return _save(store, _unfold(store, pair), "split", "merged", by)
    raise ReviewError(f"nothing to undo on pair {pair.id}: it is still waiting for review")


def _save(store: GraphStore, pair: ErPair, status: str, previous: str | None,
          by: str | None) -> ErPair:
    data = pair.model_dump(exclude_none=True) | {
        "status": status, "decided_by": by or "reviewer",
        "decided_at": dt.datetime.now(dt.UTC), "source": "review", "ingested_at": None}
    data.pop("previous", None)
    if previous is not None:
        data["previous"] = previous
    saved = ErPair.model_validate(data)
    store.upsert([saved])
    return saved


def _company(store: GraphStore, company_id: str, pair: ErPair) -> Company:
    try:
        company = store.get(_K.COMPANY, company_id)
    except NotFound:
        raise ReviewError(f"pair {pair.id}: company {company_id!r} is no longer in the "
                          "store") from None
    assert isinstance(company, Company)
    return company


def _referring(store: GraphStore, company_id: str) -> list[tuple[EntityKind, str, Record]]:
    """Every record naming ``company_id``: (kind, field, record)."""
    out: list[tuple[EntityKind, str, Record]] = []
    for ref in references_to(_K.COMPANY):
        offset = 0
        while True:
            page = store.list(ref.source, filters={ref.field: company_id}, offset=offset,
                              limit=MAX_PAGE)
            out.extend((ref.source, ref.field, r) for r in page.items)
            offset += len(page.items)
            if offset >= page.total or not page.items:
                break
    return out


def _fold(store: GraphStore, pair: ErPair) -> ErPair:
    """Fold company ``b`` into ``a`` in the store; the pair remembers what moved."""
    a = _company(store, pair.a_id, pair)
    b = _company(store, pair.b_id, pair)
    if a.inn and b.inn and a.inn != b.inn:
        raise ReviewError(f"pair {pair.id}: {a.id} and {b.id} have different INNs "
                          f"({a.inn}, {b.inn}) and are never merged")
    merged = merge_companies([a, b])
    moved: list[dict[str, Any]] = []
    new: list[Record] = []
    gone: dict[EntityKind, list[tuple[str, ...]]] = {}
    for kind, field, record in _referring(store, b.id):
        props = to_props(record)
        kind_spec = spec(kind)
        repointed = props | {field: a.id}
        entry: dict[str, Any] = {"kind": kind.value, "props": props, "field": field}
        if kind_spec.is_node:
            new.append(kind_spec.model.model_validate(repointed))
        else:
            gone.setdefault(kind, []).append(kind_spec.key_of(props))
            target = kind_spec.key_of(repointed)
            ends = {repointed.get(e.field) for e in (kind_spec.start, kind_spec.end) if e}
            entry["collided"] = store.exists(kind, target)
            # a supply between the two becomes a company supplying itself: dropped
            if not entry["collided"] and not (kind is _K.SUPPLY and len(ends) == 1):
                new.append(kind_spec.model.model_validate(repointed))
            else:
                entry["collided"] = True
        moved.append(entry)
    store.upsert([merged])
    if new:
        store.upsert(new)
    for kind, keys in gone.items():
        store.remove(kind, keys)
    store.remove(_K.COMPANY, [b.id])
    return pair.model_copy(update={
        "folded": json.dumps(to_props(b), ensure_ascii=False),
        "kept_before": json.dumps(to_props(a), ensure_ascii=False),
        "moved": json.dumps(moved, ensure_ascii=False)})


def _unfold(store: GraphStore, pair: ErPair) -> ErPair:
    """Bring company ``b`` back from the pair's record of the merge."""
    if not pair.folded:
        raise ReviewError(f"pair {pair.id}: what was merged was not recorded; "
                          "it cannot be split")
    folded = json.loads(pair.folded)
    before = json.loads(pair.kept_before) if pair.kept_before else None
    if store.exists(_K.COMPANY, pair.b_id):
        raise ReviewError(f"pair {pair.id}: company {pair.b_id!r} exists again; "
                          "nothing to split")
    restored: list[Record] = [Company.model_validate(folded)]
    if store.exists(_K.COMPANY, pair.a_id) and before is not None:
        now = to_props(_company(store, pair.a_id, pair))
        for name, value in folded.items():  # the gaps ``a`` filled from ``b`` are emptied
            if name in ("id", "source", "row", "ingested_at", "roles") or name in before:
                continue
            if now.get(name) == value:
                now.pop(name)
        now["roles"] = [r for r in now.get("roles", [])
                        if r in before.get("roles", []) or r not in folded.get("roles", [])]
        if ("lat" in now) != ("lon" in now):
            now.pop("lat", None)
            now.pop("lon", None)
        restored.append(Company.model_validate(now))
    store.upsert(restored)
    back: list[Record] = []
    for entry in json.loads(pair.moved or "[]"):
        kind = EntityKind(entry["kind"])
        kind_spec = spec(kind)
        props = entry["props"]
        if not kind_spec.is_node and not entry.get("collided"):
            store.remove(kind, [kind_spec.key_of(props | {entry["field"]: pair.a_id})])
        back.append(kind_spec.model.model_validate(props))
    if back:
        store.upsert(back)
    return pair.model_copy(update={"moved": "[]"})
