"""The ``coopgraph`` command line: ``coopgraph --help`` lists every command.

Commands are loaded on use (:class:`api.commands.LazyGroup`), so listing them
costs no numpy, scipy or store start-up.
"""

from __future__ import annotations

from typing import Annotated

import typer

from coopgraph import __version__
from coopgraph.api.commands import APP_HELP, LazyGroup
from coopgraph.graph.i18n import parse_lang

app = typer.Typer(
    name="coopgraph",
    cls=LazyGroup,
    help=APP_HELP[1],
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich's help renderer would import every command to list it.
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"coopgraph {__version__}")
        raise typer.Exit()


def _lang_option(value: str | None) -> str | None:
    if value is not None and parse_lang(value) is None:
        raise typer.BadParameter("ru | en")
    return value


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Show the version and exit. / Показать версию и выйти.")] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", metavar="ru|en", callback=_lang_option,
        help="Output language (default: COOPGRAPH_LANG, else the locale).")] = None,
) -> None:
    """CoopGraph — supplier–manufacturer matchmaking for industrial clusters."""
    from coopgraph.api.console import set_lang

    chosen = parse_lang(lang)
    if chosen is not None:
        set_lang(chosen)


if __name__ == "__main__":  # pragma: no cover
    app()
