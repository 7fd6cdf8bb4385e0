"""The ``coopgraph`` command line: ``coopgraph --help`` lists every command."""

from __future__ import annotations

import typer

from api.commands import register_all

app = typer.Typer(
    name="coopgraph",
    help="CoopGraph — supplier–manufacturer matchmaking for industrial clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_all(app)

if __name__ == "__main__":  # pragma: no cover
    app()
