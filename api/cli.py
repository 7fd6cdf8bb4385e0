"""The ``coopgraph`` command line: ``coopgraph --help`` lists every command."""

from __future__ import annotations

from typing import Annotated

import typer

from api.commands import register_all
from coopgraph import __version__

app = typer.Typer(
    name="coopgraph",
    help="CoopGraph — supplier–manufacturer matchmaking for industrial clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"coopgraph {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Show the version and exit. / Показать версию и выйти.")] = False,
) -> None:
    """CoopGraph — supplier–manufacturer matchmaking for industrial clusters.

    CoopGraph — подбор поставщиков и заказчиков в промышленном кластере.
    """


register_all(app)

if __name__ == "__main__":  # pragma: no cover
    app()
