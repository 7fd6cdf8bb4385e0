"""``coopgraph review``: work through the entity-resolution review queue.

``review list`` shows the pairs waiting (or, with ``--status``, merged, accepted,
rejected or split ones) with their evidence; ``review accept|reject|split|undo
PAIR`` decides one (see :mod:`ingest.review`). Decisions are stored in the store
and every later load honours them. Exit codes: 0 done, 2 no such pair or a
decision that does not apply, 3 the store failed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, print_json, store_from_settings
from coopgraph.graph.errors import NotFound
from coopgraph.ingest.review import ReviewError, decide, list_pairs

_STATUS_RU = {"review": "на проверке", "merged": "объединены загрузкой",
              "accepted": "объединены проверяющим", "rejected": "разные компании",
              "split": "разделены"}
_DONE = {"accept": ("Объединены", "Merged"), "reject": ("Оставлены раздельно", "Kept apart"),
         "split": ("Разделены", "Split"), "undo": ("Решение отменено", "Decision undone")}

_By = Annotated[str | None, typer.Option("--by", help="Who decides (kept with the pair)")]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
_Pair = Annotated[str, typer.Argument(help="The pair's id (erp-…), from `review list`")]


def register(app: typer.Typer) -> None:
    """Attach the ``review`` group to ``app``."""
    group = typer.Typer(help="Entity-resolution review queue: list, accept, reject, split, "
                             "undo.",
                        no_args_is_help=True)
    app.add_typer(group, name="review")

    @group.command("list")
    def list_(
        status: Annotated[str, typer.Option(
            help="review, merged, accepted, rejected, split or all")] = "review",
        limit: Annotated[int, typer.Option(min=1, help="Pairs shown (all in --json)")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """List pairs with their evidence (the most likely matches first)."""
        if status not in (*_STATUS_RU, "all"):
            fail(f"неизвестный статус {status!r} / unknown status {status!r}: "
                 f"{', '.join(_STATUS_RU)} or all", 2)
        with store_from_settings(as_json=as_json) as store:
            pairs = list_pairs(store, None if status == "all" else status)
        if as_json:
            print_json({"status": status, "total": len(pairs),
                        "pairs": [p.model_dump(mode="json", exclude_none=True,
                                               exclude={"folded", "kept_before", "moved"})
                                  for p in pairs]})
            return
        if not pairs:
            console.print(f"Пар со статусом «{status}» нет.\nNo pairs with status {status!r}.",
                          highlight=False)
            return
        table = Table(title=f"{len(pairs)} pair(s) / пар: {status} "
                            f"(first {min(limit, len(pairs))})")
        for column in ("pair / пара", "score", "company A", "company B", "status",
                       "evidence / основание"):
            table.add_column(column)
        for p in pairs[:limit]:
            table.add_row(p.id, f"{p.score:.1f}", f"{p.a_name} ({p.a_id})",
                          f"{p.b_name} ({p.b_id})", f"{p.status} / {_STATUS_RU[p.status]}",
                          p.reason or "")
        console.print(table)
        console.print("Решение: coopgraph review accept|reject|split|undo PAIR\n"
                      "Decide: coopgraph review accept|reject|split|undo PAIR", highlight=False)

    def _decide(pair: str, action: str, by: str | None, as_json: bool) -> None:
        with store_from_settings(as_json=as_json) as store:
            try:
                saved = decide(store, pair, action, by=by)
            except (NotFound, ReviewError) as exc:
                fail(str(exc), 2)
        if as_json:
            print_json(saved.model_dump(mode="json", exclude_none=True,
                                        exclude={"folded", "kept_before", "moved"}))
            return
        ru, en = _DONE[action]
        console.print(f"{ru}: {saved.a_name} ({saved.a_id}) / {saved.b_name} ({saved.b_id}); "
                      f"статус {_STATUS_RU[saved.status]}.\n"
                      f"{en}: {saved.a_id} / {saved.b_id}; status {saved.status}.",
                      highlight=False)

    @group.command()
    def accept(pair: _Pair, by: _By = None, as_json: _Json = False) -> None:
        """One company: merge B into A now, and in every later load."""
        _decide(pair, "accept", by, as_json)

    @group.command()
    def reject(pair: _Pair, by: _By = None, as_json: _Json = False) -> None:
        """Two companies: never merge them, never ask again."""
        _decide(pair, "reject", by, as_json)

    @group.command()
    def split(pair: _Pair, by: _By = None, as_json: _Json = False) -> None:
        """Undo a merge: bring company B back as it was; later loads keep them apart."""
        _decide(pair, "split", by, as_json)

    @group.command()
    def undo(pair: _Pair, by: _By = None, as_json: _Json = False) -> None:
        """Take the pair's last decision back."""
        _decide(pair, "undo", by, as_json)
