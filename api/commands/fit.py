"""The ``coopgraph fit`` command: fit the ranking profile on the store's own history.

Fits the factor weights and the network walk's parameters (degree penalty,
RP3β, recency) on the configured store's supply links with an inner split
(:func:`queries.profiles.fit_store_profile`) and stores the profile with its
report in ``<COOPGRAPH_DATA_DIR>/fitted_profile.json`` — for the embedded and
the Neo4j store alike. ``coopgraph match`` then uses it when no ``--profile``
is given. With too little history the default profile is stored and the
report says so. ``--show`` prints what is stored without fitting.
"""

from __future__ import annotations

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, friendly_errors, print_json, store_from_settings
from coopgraph.graph.settings import load_settings
from coopgraph.queries.profiles import StoredProfile, fit_store_profile, load_profile, save_profile

__all__ = ["register", "render"]


def render(stored: StoredProfile) -> Table:
    """The chosen profile: settings, weights and why."""
    r = stored.result
    p = r.profile
    table = Table(title=f"profile {p.name} ({'default kept' if r.used_default else 'fitted'}), "
                        f"store revision {stored.revision}, {stored.fitted_at}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("why", r.reason)
    table.add_row("inner MRR: chosen / default", f"{r.cv_mrr:.4f} / {r.default_cv_mrr:.4f}")
    table.add_row("supplier–buyer pairs, folds, held-out pairs",
                  f"{r.n_pairs}, {r.folds}, {r.n_held_out}")
    table.add_row("network: degree penalty, β, half-life (days)",
                  f"{p.network_norm}, {p.beta}, {p.half_life_days or '—'}")
    table.add_row("fallback ordered by the degree", p.fallback_degree)
    if r.n_answers_agreed or r.n_answers_declined:
        table.add_row("answered requests used: agreed / declined",
                      f"{r.n_answers_agreed} / {r.n_answers_declined}")
    for name, w in sorted(p.weights.items(), key=lambda kv: -kv[1]):
        table.add_row(f"weight {name}", f"{w:g}")
    return table


def register(app: typer.Typer) -> None:
    """Attach this module's commands to ``app``."""

    @app.command("fit")
    def fit_command(
        direction: str = typer.Option("buyers", "--direction",
                                      help="Fit for ranking buyers (default) or suppliers"),
        folds: int = typer.Option(3, "--folds", help="Inner random folds"),
        seed: int = typer.Option(0, "--seed", help="Random seed of the inner folds"),
        max_queries: int = typer.Option(200, "--max-queries",
                                        help="At most this many queries per fold"),
        show: bool = typer.Option(False, "--show", help="Print the stored profile, fit nothing"),
        use_answers: bool = typer.Option(False, "--use-answers",
                                         help="Also learn from agreed (positive) and declined "
                                         "(negative) supply requests"),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    ) -> None:
        """Fit the ranking profile on the store's own history and store it with its report."""
        data_dir = load_settings().data_dir
        if show:
            with friendly_errors():
                stored = load_profile(data_dir)
            if stored is None:
                fail(f"no fitted profile in {data_dir}; run `coopgraph fit`")
        else:
            if folds < 1 or folds > 10:
                fail(f"--folds must be from 1 to 10, not {folds}")
            with store_from_settings(as_json=as_json) as store, friendly_errors():
                snapshot = store.snapshot()
                stored = fit_store_profile(snapshot, direction=direction, folds=folds,
                                           seed=seed, max_queries=max_queries,
                                           use_answers=use_answers)
                path = save_profile(data_dir, stored)
            if not as_json:
                console.print(f"stored in {path}")
        if as_json:
            print_json(stored.model_dump(mode="json"))
        else:
            console.print(render(stored))
