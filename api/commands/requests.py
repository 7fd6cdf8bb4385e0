"""``coopgraph requests …``: cooperation requests from the command line (as the cluster centre).

``open`` a request, ``list`` them, ``show`` one, ``move`` it (sent, in_talks,
agreed, declined, expired; the version read is required), ``expire`` the
overdue ones, read the change feed (``events``) and the ``pipeline``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from coopgraph.api.console import console, fail, print_json, store_from_settings
from coopgraph.graph.models import RequestOrigin, RequestState, TieType
from coopgraph.queries import requests as wf
from coopgraph.queries.projection import ProjectionCache

requests_app = typer.Typer(help="Cooperation requests: open, list, move, follow.",
                           no_args_is_help=True)


@requests_app.command("open")
def open_(
    from_id: Annotated[str, typer.Option("--from", help="The requesting company.")],
    to_id: Annotated[str, typer.Option("--to", help="The company asked.")],
    category: Annotated[str | None, typer.Option(help="Category code.")] = None,
    volume: Annotated[float | None, typer.Option(help="Units per year.", min=0)] = None,
    price: Annotated[float | None, typer.Option(help="Target unit price, RUB.", min=0)] = None,
    role: Annotated[str, typer.Option(help="buyer, supplier or partner.")] = "buyer",
    tie_type: Annotated[TieType, typer.Option(help="The tie it should lead to.")] = TieType.SUPPLY,
    origin: Annotated[RequestOrigin, typer.Option(
        help="What it was opened from (a recommendation, a need, an import…).")
    ] = RequestOrigin.OTHER,
    message: Annotated[str | None, typer.Option(help="A message to the company asked.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Send it at once.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Open a request from one company to another."""
    try:
        draft = wf.RequestDraft.model_validate({
            "from_id": from_id, "to_id": to_id, "category": category,
            "volume_per_year": volume, "target_price": price, "requester_role": role,
            "tie_type": tie_type, "origin": origin, "message": message,
            "due_date": due, "send": send})
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    with store_from_settings(as_json=as_json) as store:
        created = wf.open_request(store, draft)
    if as_json:
        print_json(created.model_dump(mode="json"))
    else:
        console.print(f"{created.id}: {created.state.value} (version {created.version})")


@requests_app.command("list")
def list_(
    company: Annotated[str | None, typer.Option(help="Either party.")] = None,
    state: Annotated[RequestState | None, typer.Option(help="Only requests in this state.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List requests, newest first."""
    with store_from_settings(as_json=as_json) as store:
        found = wf.list_requests(store, company=company, state=state)
    if as_json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    table = Table(title="Запросы о кооперации / Cooperation requests")
    for col in ("id", "from", "to", "category", "state", "version", "reason"):
        table.add_column(col)
    for r in found:
        table.add_row(r.id, r.from_id, r.to_id, r.category or "", r.state.value,
                      str(r.version), r.decline_reason.value if r.decline_reason else "")
    console.print(table)


@requests_app.command("show")
def show(request_id: Annotated[str, typer.Argument(help="The request's id.")]) -> None:
    """One request with its history, as JSON."""
    with store_from_settings(as_json=True) as store:
        print_json(wf.get_request(store, request_id).model_dump(mode="json"))


@requests_app.command("move")
def move(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    to: Annotated[RequestState, typer.Argument(help="The state to move it to.")],
    version: Annotated[int, typer.Option(help="The version you read (conflict when stale).")],
    reason: Annotated[str | None, typer.Option(help="Decline reason code.")] = None,
    text: Annotated[str | None, typer.Option(help="Decline text.")] = None,
    agreed_on: Annotated[str | None, typer.Option(help="Agreement date, YYYY-MM-DD.")] = None,
    record_supply: Annotated[bool, typer.Option(
        "--record-supply", help="With agreed: record the supply link it agreed on.")] = False,
) -> None:
    """Move a request to another state."""
    with store_from_settings() as store:
        moved = wf.move(store, request_id, to, version=version, reason=reason, text=text,
                        agreed_on=dt.date.fromisoformat(agreed_on) if agreed_on else None,
                        record_supply=record_supply)
    console.print(f"{moved.id}: {moved.state.value} (version {moved.version})")


@requests_app.command("expire")
def expire(today: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None) -> None:
    """Expire every open request past its due date."""
    with store_from_settings() as store:
        done = wf.expire_overdue(store, dt.date.fromisoformat(today) if today else None)
    console.print(f"Истекло запросов / expired: {len(done)}")


@requests_app.command("events")
def events(since: Annotated[str | None, typer.Option(
               help="After this time (ISO) or cursor.")] = None,
           limit: Annotated[int, typer.Option(min=1, max=10_000,
                                              help="At most this many events.")] = 500) -> None:
    """The change feed after ``--since`` (a time or a cursor), as JSON."""
    with store_from_settings(as_json=True) as store:
        print_json(wf.events(store, since=since, limit=limit).model_dump(mode="json"))


@requests_app.command("pipeline")
def pipeline(company: Annotated[str | None, typer.Option(
                 help="Only this company's requests.")] = None,
             as_json: Annotated[bool, typer.Option("--json",
                                                   help="Print JSON for machines.")] = False
             ) -> None:
    """How requests fared: by state, category, member; decline reasons."""
    with store_from_settings(as_json=as_json) as store:
        report = wf.pipeline(store, company=company)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    console.print(report.text_ru, highlight=False)
    console.print(report.text_en, highlight=False)


@requests_app.command("suggest")
def suggest(
    company: Annotated[str, typer.Option(help="The company to rank partners for.")],
    direction: Annotated[str, typer.Option(help="suppliers or buyers.")] = "suppliers",
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    k: Annotated[int, typer.Option(min=1, max=200, help="How many partners.")] = 10,
) -> None:
    """Partners to ask, ranked, lowered where they declined before (JSON)."""
    if direction not in ("suppliers", "buyers"):
        fail("--direction is suppliers or buyers")
    with store_from_settings(as_json=True) as store:
        result = wf.suggest(ProjectionCache(store).get(), store, company,
                            direction="suppliers" if direction == "suppliers" else "buyers",
                            k=k, category=category)
    print_json(result.model_dump(mode="json"))


def register(app: typer.Typer) -> None:
    """Attach ``requests`` to ``app``."""
    app.add_typer(requests_app, name="requests")
