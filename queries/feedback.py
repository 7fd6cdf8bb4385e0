"""Learning from answers: declined requests lower similar recommendations, and say so.

A ranking (:class:`~queries.results.MatchResult`) for a company is adjusted by
the requests that company was a party to and that were declined
(:class:`~graph.models.CoopRequest` in state ``declined``): a candidate's score
is multiplied by the :data:`PENALTIES` that apply, the candidates are ranked
again, and each lowered candidate's first reason says why (with the decline
reasons). The rules are data:

``same_partner_and_category``
    the partner declined a request in this category (per decline);
``same_partner``
    the partner declined a request in another category (per decline);
``category_declined_again``
    requests in this category were declined by two or more partners (per decline
    beyond the first) — the category itself seems hard to place.

Only requests the ranked company is a party to are read, so a member learns
nothing here about other companies' requests.

Every ranking applies them: the cooperation-aware ``/requests/suggestions`` and
the plain ``/match`` routes, the dashboard's company page (which calls ``/match``)
and ``coopgraph match`` (:func:`rank_with_declines`). :class:`DeclineIndex` keeps
every company's declines at the store's revision, so a ranking re-reads the
requests only after a write that touched one (the change log says which).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from coopgraph.graph.models import CoopRequest, RequestState
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.queries.results import MatchResult

__all__ = ["PENALTIES", "DeclineIndex", "Declines", "apply_declines", "declined_requests",
           "declines_of", "rank_with_declines"]

PENALTIES: dict[str, float] = {
    "same_partner_and_category": 0.5,
    "same_partner": 0.8,
    "category_declined_again": 0.9,
}
_REASON_RU = {"price": "цена", "capacity": "мощности", "quality": "качество/сертификация",
              "distance": "расстояние", "lead_time": "сроки", "not_relevant": "не профиль",
              "other": "другое"}


@dataclass
class Declines:
    """The declined requests of one company, counted by partner, category and both."""

    company_id: str
    pair_category: Counter[tuple[str, str]] = field(default_factory=Counter)
    partner: Counter[str] = field(default_factory=Counter)
    category_partners: dict[str, set[str]] = field(default_factory=dict)
    category: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(default_factory=dict)  # partner → reasons

    def __bool__(self) -> bool:
        return bool(self.partner)


def _count(out: Declines, r: CoopRequest) -> None:
    partner = r.to_id if r.from_id == out.company_id else r.from_id
    out.partner[partner] += 1
    if r.category:
        out.pair_category[(partner, r.category)] += 1
        out.category[r.category] += 1
        out.category_partners.setdefault(r.category, set()).add(partner)
    if r.decline_reason:
        out.reasons.setdefault(partner, Counter())[r.decline_reason.value] += 1


def declines_of(requests: Iterable[CoopRequest], company_id: str) -> Declines:
    """Count the declined requests ``company_id`` was a party to."""
    out = Declines(company_id)
    for r in requests:
        if r.state is RequestState.DECLINED and company_id in (r.from_id, r.to_id):
            _count(out, r)
    return out


def declined_requests(store: GraphStore, company_id: str | None = None
                      ) -> Iterator[CoopRequest]:
    """The store's declined requests (of ``company_id`` only, when given), page by page."""
    filters: list[dict[str, str]] = [{"state": RequestState.DECLINED.value}]
    if company_id is not None:
        filters = [{**filters[0], "from_id": company_id}, {**filters[0], "to_id": company_id}]
    for f in filters:
        offset = 0
        while True:
            page = store.list(EntityKind.COOP_REQUEST, filters=f, offset=offset, limit=5_000)
            for r in page.items:
                assert isinstance(r, CoopRequest)
                yield r
            offset += len(page.items)
            if offset >= page.total or not page.items:
                break


class DeclineIndex:
    """Every company's :class:`Declines`, read from a store at one revision.

    :meth:`get` re-reads the declined requests only when the store's revision has
    moved since (one scan of the declined requests, then a dictionary look-up per
    ranking); :meth:`peek` answers without asking the store, for a caller that
    knows the revision already.
    """

    def __init__(self) -> None:
        self._revision: int | None = None
        self._by_company: dict[str, Declines] = {}
        self._lock = threading.Lock()

    @property
    def revision(self) -> int | None:
        """The store revision the index was read at (``None``: never read)."""
        return self._revision

    def peek(self, revision: int | None, company_id: str) -> Declines | None:
        """The declines of ``company_id`` if the index is at ``revision``, else ``None``."""
        if revision is None or revision != self._revision:
            return None
        return self._by_company.get(company_id) or Declines(company_id)

    def get(self, store: GraphStore, company_id: str) -> Declines:
        """The declines of ``company_id`` at the store's current revision."""
        revision = store.revision()
        found = self.peek(revision, company_id)
        if found is not None:
            return found
        with self._lock:
            revision = store.revision()
            if revision != self._revision and self._revision is not None:
                # writes that touched no request (a capacity, a job's heartbeat): still valid
                changes = store.changes_since(self._revision)
                if changes is not None and not any(
                        c.full or EntityKind.COOP_REQUEST in c.keys for c in changes):
                    revision = self._revision = changes[-1].revision if changes \
                        else self._revision
            if revision != self._revision:
                by_company: dict[str, Declines] = {}
                for r in declined_requests(store):
                    for side in {r.from_id, r.to_id}:
                        _count(by_company.setdefault(side, Declines(side)), r)
                self._by_company, self._revision = by_company, revision
            return self._by_company.get(company_id) or Declines(company_id)


def rank_with_declines(rank: Callable[[int], MatchResult], k: int,
                       declines: Declines) -> MatchResult:
    """``rank(k)`` lowered by ``declines``: ranks ``3 k`` (at most 1000) when there are any,
    so that candidates lowered out of the top ``k`` are replaced, and keeps ``k``."""
    if not declines or not 1 <= k <= 1000:
        return rank(k)  # nothing to lower (or a k the ranking itself refuses)
    adjusted = apply_declines(rank(min(3 * k, 1000)), declines)
    return adjusted.model_copy(update={"candidates": adjusted.candidates[:k], "k": k})


def _multiplier(d: Declines, partner: str, category: str | None) -> tuple[float, list[str]]:
    rules: list[str] = []
    m = 1.0
    same = d.pair_category[(partner, category)] if category else 0
    if same:
        m *= PENALTIES["same_partner_and_category"] ** same
        rules.append("same_partner_and_category")
    other = d.partner[partner] - same
    if other > 0:
        m *= PENALTIES["same_partner"] ** other
        rules.append("same_partner")
    if category and len(d.category_partners.get(category, ())) >= 2:
        m *= PENALTIES["category_declined_again"] ** (d.category[category] - 1)
        rules.append("category_declined_again")
    return m, rules


def apply_declines(result: MatchResult, declines: Declines) -> MatchResult:
    """``result`` with the candidates' scores lowered by ``declines`` and ranked again."""
    candidates = []
    for cand in result.candidates:
        m, rules = _multiplier(declines, cand.company_id, cand.category)
        if m >= 1.0:
            candidates.append(cand)
            continue
        reasons = declines.reasons.get(cand.company_id, Counter())
        said_ru = ", ".join(f"{_REASON_RU.get(k, k)} ×{n}" for k, n in sorted(reasons.items()))
        said_en = ", ".join(f"{k.replace('_', ' ')} ×{n}" for k, n in sorted(reasons.items()))
        n = declines.partner[cand.company_id]
        if "category_declined_again" in rules and not n:
            ru = (f"Понижено ×{m:.2f}: запросы по категории {cand.category} уже отклоняли "
                  f"{len(declines.category_partners[cand.category or ''])} партнёра.")
            en = (f"Lowered ×{m:.2f}: requests in {cand.category} were declined by "
                  f"{len(declines.category_partners[cand.category or ''])} partners before.")
        else:
            ru = (f"Понижено ×{m:.2f}: этот партнёр уже отклонял запросы ({n} раз"
                  + (f"; причины: {said_ru}" if said_ru else "") + ").")
            en = (f"Lowered ×{m:.2f}: this partner declined requests before ({n} time(s)"
                  + (f"; reasons: {said_en}" if said_en else "") + ").")
        candidates.append(cand.model_copy(update={
            "score": cand.score * m, "reasons_ru": [ru, *cand.reasons_ru],
            "reasons_en": [en, *cand.reasons_en]}))
    candidates.sort(key=lambda c: (-c.score, c.company_id))
    best = candidates[0].score if candidates and candidates[0].score > 0 else None
    ranked = [c.model_copy(update={
        "rank": i + 1, "relative_score": 100.0 * c.score / best if best else c.relative_score})
        for i, c in enumerate(candidates)]
    return result.model_copy(update={"candidates": ranked})
