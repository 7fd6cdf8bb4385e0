"""Cooperation requests: from a recommendation to a contract.

A member (or the cluster centre on its behalf) opens a request to another
company — from a recommendation, a need, an import or idle capacity — and the
request moves through these states (:data:`MOVES`)::

    proposed ──► sent ──► in_talks ──► agreed
        │          │  └──────────────► agreed | declined | expired
        └──────────┴─────────────────► expired      (in_talks ► declined | expired too)

``agreed``, ``declined`` and ``expired`` are final. Who may make a move
(:data:`WHO`): the requester sends; the addressee agrees or declines (with a
:class:`~graph.models.DeclineReason` and free text); either party opens talks
or lets it expire; the centre may do any legal move. Every change writes the
request with ``version + 1`` through
:meth:`~graph.store.GraphStore.upsert_versioned`: a caller names the version it
read, and of two concurrent moves one wins and the other gets
:class:`~graph.errors.VersionConflict` (no move is lost). An illegal move is
:class:`~graph.errors.IllegalTransition`; both are HTTP 409.

``agreed`` records the :class:`~graph.models.Tie` (type, date, parties) and,
for a supply when asked, the :class:`~graph.models.Supply` link with its
volume and price — in the same write as the request.

Only the two parties and the centre see a request (:func:`can_see_request`);
everyone else is told it does not exist. Each state change is one line of the
request's ``history``; :func:`events` reads them as a change feed.

Requests are a workflow kind (:data:`graph.schema.WORKFLOW_KINDS`): writing
them does not move the analytic revision, so no projection is rebuilt — but
the tie and supply link an agreement writes do (they change the KPIs).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from coopgraph.graph.confidentiality import CENTRE, Viewer
from coopgraph.graph.errors import (
    AccessDenied,
    IllegalTransition,
    InvalidQuery,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from coopgraph.graph.models import (
    CoopRequest,
    DeclineReason,
    Record,
    RequestOrigin,
    RequestState,
    Supply,
    Tie,
    TieType,
)
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.queries.feedback import apply_declines, declines_of
from coopgraph.queries.projection import Projection
from coopgraph.queries.results import MatchResult

__all__ = [
    "CENTRE_ACTOR",
    "FINAL",
    "MOVES",
    "WHO",
    "Event",
    "EventPage",
    "Pipeline",
    "RequestDraft",
    "can_see_request",
    "events",
    "expire_overdue",
    "get_request",
    "list_requests",
    "move",
    "open_request",
    "pipeline",
    "suggest",
]

S = RequestState
CENTRE_ACTOR = "centre"
# The legal moves from each state.
MOVES: dict[RequestState, frozenset[RequestState]] = {
    S.PROPOSED: frozenset({S.SENT, S.EXPIRED}),
    S.SENT: frozenset({S.IN_TALKS, S.AGREED, S.DECLINED, S.EXPIRED}),
    S.IN_TALKS: frozenset({S.AGREED, S.DECLINED, S.EXPIRED}),
    S.AGREED: frozenset(),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
}
FINAL = frozenset(s for s, nxt in MOVES.items() if not nxt)
# Which party may make the move into each state (the centre may make any legal move).
WHO: dict[RequestState, frozenset[Literal["requester", "addressee"]]] = {
    S.SENT: frozenset({"requester"}),
    S.IN_TALKS: frozenset({"requester", "addressee"}),
    S.AGREED: frozenset({"addressee"}),
    S.DECLINED: frozenset({"addressee"}),
    S.EXPIRED: frozenset({"requester", "addressee"}),
}


class RequestDraft(BaseModel):
    """What opening a request takes (the API body and the CLI's options)."""

    to_id: str = Field(min_length=1, max_length=200)
    from_id: str | None = Field(default=None, max_length=200,
                                description="The requester (a member key: its own company)")
    requester_role: Literal["buyer", "supplier", "partner"] = "buyer"
    tie_type: TieType = TieType.SUPPLY
    origin: RequestOrigin = RequestOrigin.OTHER
    category: str | None = Field(default=None, max_length=200)
    volume_per_year: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    target_price: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    message: str | None = Field(default=None, max_length=500)
    due_date: dt.date | None = None
    send: bool = Field(default=False, description="Send it at once (proposed → sent)")


class Event(BaseModel):
    """One state change of one request."""

    at: dt.datetime
    request_id: str
    version: int
    from_state: RequestState | None
    to_state: RequestState
    actor: str
    cursor: str = Field(description="Pass as ?since= to get the events after this one")


class EventPage(BaseModel):
    """The change feed: events after ``since``, oldest first."""

    events: list[Event]
    next: str | None = Field(description="The cursor to ask for the events after these")


class Pipeline(BaseModel):
    """How recommendations became talks and contracts (the centre's view)."""

    total: int
    by_state: dict[str, int]
    from_recommendations: dict[str, int]
    talk_rate: float | None = Field(description="Share of sent requests that reached talks "
                                                 "or an answer")
    agree_rate: float | None = Field(description="Share of answered requests agreed")
    by_category: dict[str, dict[str, int]]
    by_member: dict[str, dict[str, int]]
    decline_reasons: dict[str, int]
    text_ru: str
    text_en: str


# --- visibility and helpers -----------------------------------------------------------


def _actor(viewer: Viewer) -> str:
    return CENTRE_ACTOR if viewer.is_centre else str(viewer.company_id)


def can_see_request(viewer: Viewer, request: CoopRequest) -> bool:
    """True for the centre and the request's two parties."""
    return viewer.is_centre or viewer.company_id in (request.from_id, request.to_id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _line(at: dt.datetime, version: int, before: RequestState | None, after: RequestState,
          actor: str) -> str:
    return f"{at.isoformat()};{version};{before.value if before else '-'};{after.value};{actor}"


def _validated(data: dict[str, Any]) -> CoopRequest:
    try:
        return CoopRequest.model_validate(data)
    except ValidationError as exc:
        problems = [(".".join(map(str, e["loc"])) or "request", e["msg"]) for e in exc.errors()]
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in problems), problems) from None


def get_request(store: GraphStore, request_id: str, viewer: Viewer = CENTRE) -> CoopRequest:
    """The request, if ``viewer`` may see it (:class:`NotFound` otherwise, as if absent)."""
    try:
        record = store.get(EntityKind.COOP_REQUEST, request_id)
    except NotFound:
        record = None
    if not isinstance(record, CoopRequest) or not can_see_request(viewer, record):
        raise NotFound(f"no cooperation request {request_id!r}")
    return record


def _all(store: GraphStore) -> Iterable[CoopRequest]:
    for record in store.iter_all(EntityKind.COOP_REQUEST):
        assert isinstance(record, CoopRequest)
        yield record


# --- opening and moving -----------------------------------------------------------------


def open_request(store: GraphStore, draft: RequestDraft, viewer: Viewer = CENTRE, *,
                 now: dt.datetime | None = None) -> CoopRequest:
    """Open a request (``proposed``, or ``sent`` with ``draft.send``) and store it.

    Raises
    ------
    AccessDenied
        a member opening a request from another company.
    ValidationFailed
        a request to oneself, bad values.
    MissingReference
        an unknown company or category.
    """
    from_id = draft.from_id or viewer.company_id
    if from_id is None:
        raise ValidationFailed("name the requesting company (from_id)", [("from_id", "missing")])
    if not viewer.is_centre and from_id != viewer.company_id:
        raise AccessDenied(f"a member key of {viewer.company_id!r} may open requests only "
                           "from its own company")
    at = now or _now()
    actor = _actor(viewer)
    history = [_line(at, 1, None, S.PROPOSED, actor)]
    state, version = S.PROPOSED, 1
    if draft.send:
        state, version = S.SENT, 2
        history.append(_line(at, 2, S.PROPOSED, S.SENT, actor))
    request = _validated({
        **draft.model_dump(exclude={"send", "from_id"}, exclude_none=True),
        "id": f"rq-{uuid.uuid4().hex[:12]}", "from_id": from_id, "opened_by": actor,
        "state": state, "version": version, "created_at": at, "updated_at": at,
        "history": history, "source": "api"})
    store.upsert_versioned(request, expected=None)
    return request


def _party(viewer: Viewer, request: CoopRequest) -> Literal["requester", "addressee"] | None:
    if viewer.company_id == request.from_id:
        return "requester"
    if viewer.company_id == request.to_id:
        return "addressee"
    return None


def move(store: GraphStore, request_id: str, to: RequestState | str, *, version: int,
         viewer: Viewer = CENTRE, reason: DeclineReason | str | None = None,
         text: str | None = None, agreed_on: dt.date | None = None,
         agreed_volume: float | None = None, agreed_price: float | None = None,
         record_supply: bool = False, now: dt.datetime | None = None) -> CoopRequest:
    """Move a request to state ``to``; ``version`` is the version the caller read.

    Raises
    ------
    NotFound
        no such request, or the viewer may not see it.
    AccessDenied
        the viewer's side may not make this move.
    IllegalTransition
        the move is not legal from the current state (409).
    VersionConflict
        the request changed since the caller read ``version`` (409).
    ValidationFailed
        a decline without a reason; a supply link without a category.
    """
    try:
        target = RequestState(to)
    except ValueError:
        names = ", ".join(s.value for s in RequestState)
        raise InvalidQuery(f"unknown request state {to!r}; states: {names}") from None
    request = get_request(store, request_id, viewer)
    if request.version != version:  # stale: say so before judging the move
        raise VersionConflict(
            f"request {request_id!r} is at version {request.version}, not {version}: it was "
            "changed by someone else; read it again and retry", request.version)
    if target not in MOVES[request.state]:
        legal = ", ".join(sorted(s.value for s in MOVES[request.state])) or "none (final)"
        raise IllegalTransition(f"request {request_id!r} is {request.state.value}: it cannot "
                                f"become {target.value} (legal moves: {legal})")
    if not viewer.is_centre and _party(viewer, request) not in WHO[target]:
        who = " or ".join(sorted(WHO[target]))
        raise AccessDenied(f"only the {who} (or the cluster centre) may make a request "
                           f"{target.value}")
    at = now or _now()
    changes: dict[str, Any] = {"state": target, "version": version + 1, "updated_at": at,
                               "history": [*request.history,
                                           _line(at, version + 1, request.state, target,
                                                 _actor(viewer))]}
    also: list[Record] = []
    if target is S.DECLINED:
        if reason is None:
            codes = ", ".join(r.value for r in DeclineReason)
            raise ValidationFailed(f"a decline needs a reason code ({codes})",
                                   [("reason", "missing")])
        changes.update(decline_reason=reason, decline_text=text)
    if target is S.AGREED:
        day = agreed_on or at.date()
        changes.update(agreed_on=day, agreed_volume=agreed_volume, agreed_price=agreed_price)
        also.append(Tie(company_id=request.from_id, partner_id=request.to_id,
                        tie_type=request.tie_type, since=day, category=request.category,
                        request_id=request.id, source="api"))
        if record_supply:
            also.append(_supply_of(request, day, agreed_volume, agreed_price))
    updated = _validated({**request.model_dump(), **changes})
    store.upsert_versioned(updated, expected=version, also=also)
    return updated


def _supply_of(request: CoopRequest, day: dt.date, volume: float | None,
               price: float | None) -> Supply:
    if request.tie_type is not TieType.SUPPLY or request.requester_role == "partner":
        raise ValidationFailed("only a supply request between a buyer and a supplier makes a "
                               "supply link", [("record_supply", "not a supply")])
    if request.category is None:
        raise ValidationFailed("a supply link needs the request's category",
                               [("category", "missing")])
    supplier, buyer = ((request.to_id, request.from_id) if request.requester_role == "buyer"
                       else (request.from_id, request.to_id))
    return Supply(supplier_id=supplier, buyer_id=buyer, category=request.category,
                  volume_per_year=volume if volume is not None else request.volume_per_year,
                  unit_price=price if price is not None else request.target_price,
                  since=day, source="api")


def expire_overdue(store: GraphStore, today: dt.date | None = None) -> list[CoopRequest]:
    """Move every open request whose ``due_date`` has passed to ``expired`` (as the centre)."""
    today = today or _now().date()
    done = []
    for request in list(_all(store)):
        if request.state not in FINAL and request.due_date and request.due_date < today:
            done.append(move(store, request.id, S.EXPIRED, version=request.version))
    return done


# --- reading ------------------------------------------------------------------------------


def list_requests(store: GraphStore, viewer: Viewer = CENTRE, *,
                  box: Literal["all", "inbox", "outbox"] = "all",
                  state: RequestState | None = None,
                  company: str | None = None) -> list[CoopRequest]:
    """The requests ``viewer`` may see, newest first.

    ``box``: ``inbox`` — addressed to the viewer's company (or to ``company`` for
    the centre); ``outbox`` — opened by it. ``company`` (centre only): either party.
    """
    me = viewer.company_id if not viewer.is_centre else company
    out = []
    for request in _all(store):
        if not can_see_request(viewer, request):
            continue
        if state is not None and request.state is not state:
            continue
        if me is not None:
            if box == "inbox" and request.to_id != me:
                continue
            if box == "outbox" and request.from_id != me:
                continue
            if box == "all" and me not in (request.from_id, request.to_id):
                continue
        out.append(request)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    out.sort(key=lambda r: (r.updated_at or epoch, r.id), reverse=True)
    return out


def _parse_since(since: str | None) -> tuple[dt.datetime, str, int] | None:
    if not since:
        return None
    at, _, rest = since.partition("|")
    request_id, _, version = rest.partition("|")
    try:
        when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when, request_id, int(version) if version else 0
    except ValueError:
        raise InvalidQuery(f"since must be a time (2026-01-31T12:00:00Z) or a cursor from "
                           f"the feed, got {since!r}") from None


def events(store: GraphStore, viewer: Viewer = CENTRE, *, since: str | None = None,
           limit: int = 500) -> EventPage:
    """The state changes of the requests ``viewer`` may see, after ``since``, oldest first.

    ``since`` is a time or the ``next`` cursor of an earlier page. Events are
    ordered by time, then request id, then version.
    """
    if not 1 <= limit <= 10_000:
        raise InvalidQuery(f"limit must be between 1 and 10000, got {limit}")
    after = _parse_since(since)
    found: list[tuple[tuple[dt.datetime, str, int], Event]] = []
    for request in _all(store):
        if not can_see_request(viewer, request):
            continue
        for line in request.history:
            parts = line.split(";")
            if len(parts) != 5:
                continue
            at = dt.datetime.fromisoformat(parts[0])
            key = (at, request.id, int(parts[1]))
            if after is not None and key <= after:
                continue
            found.append((key, Event(
                at=at, request_id=request.id, version=int(parts[1]),
                from_state=None if parts[2] == "-" else RequestState(parts[2]),
                to_state=RequestState(parts[3]), actor=parts[4],
                cursor=f"{at.isoformat()}|{request.id}|{parts[1]}")))
    found.sort(key=lambda pair: pair[0])
    page = [event for _, event in found[:limit]]
    return EventPage(events=page, next=page[-1].cursor if page else since)


def pipeline(store: GraphStore, *, company: str | None = None) -> Pipeline:
    """How requests fared, by state, category and member (the centre's pipeline view)."""
    requests = [r for r in _all(store)
                if company is None or company in (r.from_id, r.to_id)]
    by_state = Counter(r.state.value for r in requests)
    from_recs = Counter(r.state.value for r in requests
                        if r.origin is RequestOrigin.RECOMMENDATION)
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    by_member: dict[str, Counter[str]] = defaultdict(Counter)
    for r in requests:
        by_category[r.category or "-"][r.state.value] += 1
        by_member[r.from_id][r.state.value] += 1
    sent = sum(n for s, n in by_state.items() if s != S.PROPOSED.value)
    talked = sum(by_state[s.value] for s in (S.IN_TALKS, S.AGREED, S.DECLINED))
    answered = by_state[S.AGREED.value] + by_state[S.DECLINED.value]
    talk_rate = talked / sent if sent else None
    agree_rate = by_state[S.AGREED.value] / answered if answered else None
    reasons = Counter(r.decline_reason.value for r in requests if r.decline_reason)
    rec_total = sum(from_recs.values())
    return Pipeline(
        total=len(requests), by_state=dict(by_state), from_recommendations=dict(from_recs),
        talk_rate=talk_rate, agree_rate=agree_rate,
        by_category={k: dict(v) for k, v in sorted(by_category.items())},
        by_member={k: dict(v) for k, v in sorted(by_member.items())},
        decline_reasons=dict(reasons),
        text_ru=(f"Запросов: {len(requests)}, из рекомендаций {rec_total}; в переговоры или к "
                 f"ответу дошли {talked} из {sent} отправленных; договорились "
                 f"{by_state[S.AGREED.value]}, отказов {by_state[S.DECLINED.value]}."),
        text_en=(f"{len(requests)} request(s), {rec_total} from recommendations; {talked} of "
                 f"{sent} sent reached talks or an answer; {by_state[S.AGREED.value]} agreed, "
                 f"{by_state[S.DECLINED.value]} declined."))


def suggest(proj: Projection, store: GraphStore, company_id: str, *,
            direction: Literal["suppliers", "buyers"] = "suppliers", k: int = 10,
            category: str | None = None, viewer: Viewer = CENTRE) -> MatchResult:
    """The matching engine's ranking for ``company_id``, lowered by its declined requests.

    See :mod:`queries.feedback`: a partner (or a category) that declined before is
    ranked lower, and the candidate's first reason says so.
    """
    from coopgraph.queries.match import rank_buyers, rank_suppliers

    if not 1 <= k <= 200:
        raise InvalidQuery(f"k must be between 1 and 200, got {k}")
    rank = rank_suppliers if direction == "suppliers" else rank_buyers
    # rank more than k, so that candidates lowered out of the top k are replaced
    result = rank(proj, company_id, k=min(3 * k, 1000), category=category, viewer=viewer)
    adjusted = apply_declines(result, declines_of(_all(store), company_id))
    return adjusted.model_copy(update={"candidates": adjusted.candidates[:k], "k": k})
