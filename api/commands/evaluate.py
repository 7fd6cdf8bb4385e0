"""The ``coopgraph evaluate`` command: hide links, rank, compare with baselines.

Reads the configured store (or ``--data PATH``: files or directories loaded
into a throw-away in-memory store, e.g. ``data/sample`` or the output of
``coopgraph generate``), runs :func:`queries.evaluate.evaluate` for the random
and/or time split, and prints a table (or ``--json``). See the docstring of
:mod:`queries.evaluate` for the protocol and what the engine can see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from api.console import console, fail, friendly_errors, print_json, store_from_settings
from graph.embedded import EmbeddedStore
from graph.store import Snapshot
from queries.evaluate import EvalReport, evaluate

__all__ = ["register", "render"]


def _snapshot(data: list[Path] | None) -> Snapshot:
    if not data:
        with store_from_settings() as store:
            return store.snapshot()
    from ingest.pipeline import ingest_paths  # imported lazily: ingest is heavy to import

    with friendly_errors():
        store = EmbeddedStore(None)
        ingest_paths(store, [str(p) for p in data])
        return store.snapshot()


def render(report: EvalReport) -> Table:
    """One table per split: the metrics of every method, the engine first."""
    verdict = "beats" if report.engine_beats_best_baseline else "does NOT beat"
    title = (f"{report.split} split ({report.direction}, frac {report.frac}, seed {report.seed}"
             + (f", cut {report.cut_date}" if report.cut_date else "")
             + f"): {report.n_test_pairs} held-out pairs, {report.n_queries} queries — "
             f"engine {verdict} the best baseline ({report.best_baseline})")
    table = Table(title=title)
    for col in ("method", "Hits@10", "Hits@50", "MRR", "NDCG@10"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, m in report.methods.items():
        table.add_row(name, f"{m.hits_at_10:.3f}", f"{m.hits_at_50:.3f}", f"{m.mrr:.3f}",
                      f"{m.ndcg_at_10:.3f}")
    return table


def register(app: typer.Typer) -> None:
    """Attach this module's commands to ``app``."""

    @app.command("evaluate")
    def evaluate_command(
        split: str = typer.Option("both", "--split", help="random, time or both"),
        frac: float = typer.Option(0.2, "--frac", help="Share of supplier–buyer pairs to hide"),
        seed: int = typer.Option(0, "--seed", help="Random seed"),
        direction: str = typer.Option("buyers", "--direction",
                                      help="buyers: rank buyers per supplier; suppliers: the "
                                      "reverse"),
        max_queries: int = typer.Option(500, "--max-queries", help="At most this many queries"),
        fit: bool = typer.Option(False, "--fit", help="Also fit the weight profile (CV)"),
        profile: str | None = typer.Option(None, "--profile", help="Weight profile name"),
        data: list[Path] | None = typer.Option(None, "--data",
                                               help="Evaluate these files/directories instead "
                                               "of the configured store"),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    ) -> None:
        """Hide supply links, rank, and report Hits@10/50, MRR, NDCG@10 vs baselines."""
        splits = {"both": ["random", "time"], "random": ["random"], "time": ["time"]}.get(split)
        if splits is None:
            fail(f"--split must be random, time or both, not {split!r}")
        if direction not in ("buyers", "suppliers"):
            fail(f"--direction must be buyers or suppliers, not {direction!r}")
        snapshot = _snapshot(data)
        reports: list[dict[str, Any]] = []
        with friendly_errors():
            for kind in splits:
                report = evaluate(snapshot, split=kind,  # type: ignore[arg-type]
                                  frac=frac, seed=seed, direction=direction,  # type: ignore[arg-type]
                                  max_queries=max_queries, fit=fit, profile=profile)
                reports.append(report.model_dump(mode="json"))
                if not as_json:
                    console.print(render(report))
                    if report.fitted_profile:
                        console.print(f"fitted profile (inner CV MRR {report.fit_cv_mrr}): "
                                      f"{report.fitted_profile}")
        if as_json:
            print_json({"reports": reports})
