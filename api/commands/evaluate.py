"""The ``coopgraph evaluate`` command: hide links, rank, compare with baselines.

Reads the configured store (or ``--data PATH``: files or directories loaded
into a throw-away in-memory store, e.g. ``data/sample`` or the output of
``coopgraph generate``), runs :func:`queries.evaluate.evaluate_seeds` for the random
and/or time split, and prints a table (or ``--json``). See the docstring of
:mod:`queries.evaluate` for the protocol and what the engine can see. Every
figure is a mean over ``--seeds`` (default 5) with its 95 % interval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from coopgraph.api.console import console, fail, friendly_errors, print_json, store_from_settings
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.store import Snapshot
from coopgraph.queries.evaluate import AnswersReport, SeedsReport, answers_precision, evaluate_seeds

__all__ = ["register", "render"]


def _snapshot(data: list[Path] | None, as_json: bool = False) -> Snapshot:
    if not data:
        with store_from_settings(as_json=as_json) as store:
            return store.snapshot()
    from coopgraph.ingest.pipeline import ingest_paths  # imported lazily: ingest is heavy to import

    with friendly_errors():
        store = EmbeddedStore(None)
        ingest_paths(store, [str(p) for p in data])
        return store.snapshot()


def render(report: SeedsReport) -> Table:
    """One table per split: every method's mean and 95 % interval, the engine first."""
    gap = report.engine_minus_best
    title = (f"{report.split} split ({report.direction}, frac {report.frac}, "
             f"{len(report.seeds)} seeds" + (f", cut {report.cut_date}" if report.cut_date else "")
             + f"): {report.n_test_pairs:.0f} held-out pairs, {report.n_queries:.0f} queries "
             f"per seed — engine {report.verdict} against the best baseline "
             f"({report.best_baseline}): MRR {gap.mrr.mean:+.3f} "
             f"[{gap.mrr.lo:+.3f}, {gap.mrr.hi:+.3f}]")
    # compact (no vertical rules, "0.741±0.052"): an 80-column terminal shows every interval
    # whole instead of cutting it to "0.741 ± 0.…"
    table = Table(title=title, caption=f"mean ± half-width of the 95 % interval: "
                                       f"{report.interval}", box=box.SIMPLE_HEAD,
                  padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    for col in ("method", "Hits@10", "Hits@50", "MRR", "NDCG@10"):
        table.add_column(col, justify="left" if col == "method" else "right", no_wrap=True)
    for name, m in report.methods.items():
        table.add_row(name, *(f"{i.mean:.3f}±{(i.hi - i.lo) / 2:.3f}"
                              for i in (m.hits_at_10, m.hits_at_50, m.mrr, m.ndcg_at_10)))
    return table


def render_answers(report: AnswersReport) -> Table:
    """The engine's precision on answered requests (agreed = positive)."""
    prec = "—" if report.precision_at_k is None else f"{report.precision_at_k:.3f}"
    table = Table(title=f"answered supply requests ({report.direction}, profile "
                        f"{report.profile}): precision@{report.k} of agreed {prec}",
                  caption=report.note)
    table.add_column("answers")
    for col in ("pairs", f"in top {report.k}", "MRR"):
        table.add_column(col, justify="right")
    for label, n, top, mrr in (("agreed", report.n_agreed, report.agreed_in_top_k,
                                report.mrr_agreed),
                               ("declined", report.n_declined, report.declined_in_top_k,
                                report.mrr_declined)):
        table.add_row(label, str(n), str(top), "—" if mrr is None else f"{mrr:.3f}")
    return table


def register(app: typer.Typer) -> None:
    """Attach this module's commands to ``app``."""

    @app.command("evaluate")
    def evaluate_command(
        split: str = typer.Option("both", "--split", help="random, time or both"),
        frac: float = typer.Option(0.2, "--frac", help="Share of supplier–buyer pairs to hide"),
        seeds: int = typer.Option(5, "--seeds", help="Seeds (random split) or bootstrap "
                                  "resamples (time split) behind each mean and interval"),
        direction: str = typer.Option("buyers", "--direction",
                                      help="buyers: rank buyers per supplier; suppliers: the "
                                      "reverse"),
        max_queries: int = typer.Option(500, "--max-queries", help="At most this many queries"),
        fit: bool = typer.Option(False, "--fit", help="Also fit a profile on each training "
                                 "split (inner folds) and score it"),
        profile: str | None = typer.Option(None, "--profile", help="Weight profile name"),
        data: list[Path] | None = typer.Option(None, "--data",
                                               help="Evaluate these files/directories instead "
                                               "of the configured store"),
        answers_k: int = typer.Option(10, "--answers-k", help="k of the precision on answered "
                                      "requests"),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    ) -> None:
        """Hide supply links, rank, and report Hits@10/50, MRR, NDCG@10 vs baselines.

        Also the engine's precision@k on answered supply requests (agreed = positive,
        declined = negative), each ranked on the graph without the answered links.

        Each split runs on its own: one that cannot run (a time split without
        real dates) is reported as skipped, with the reason, and the other stays.
        """
        splits = {"both": ["random", "time"], "random": ["random"], "time": ["time"]}.get(split)
        if splits is None:
            fail(f"--split must be random, time or both, not {split!r}")
        if direction not in ("buyers", "suppliers"):
            fail(f"--direction must be buyers or suppliers, not {direction!r}")
        if seeds < 1:
            fail(f"--seeds must be at least 1, not {seeds}")
        snapshot = _snapshot(data, as_json)
        reports: list[dict[str, Any]] = []
        skipped: dict[str, str] = {}
        for kind in splits:
            try:
                report = evaluate_seeds(snapshot, split=kind,  # type: ignore[arg-type]
                                        seeds=seeds, frac=frac,
                                        direction=direction,  # type: ignore[arg-type]
                                        max_queries=max_queries, profile=profile, fit=fit)
            except InvalidQuery as exc:
                skipped[kind] = str(exc)
                if not as_json:
                    console.print(f"[yellow]{kind} split skipped:[/] {exc}")
                continue
            reports.append(report.model_dump(mode="json"))
            if not as_json:
                console.print(render(report))
        with friendly_errors():
            answers = answers_precision(snapshot, direction=direction,  # type: ignore[arg-type]
                                        k=answers_k, profile=profile)
        if answers is not None and not as_json:
            console.print(render_answers(answers))
        if as_json:
            print_json({"reports": reports, "skipped": skipped,
                        "answers": answers.model_dump(mode="json") if answers else None})
        if not reports:
            fail("no split could run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
