"""Shared helpers of the CLI: one console, readable errors instead of tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from graph.errors import CoopGraphError, IngestError, InvalidQuery, NotFound
from graph.i18n import Lang, default_lang, tr

if TYPE_CHECKING:  # pragma: no cover
    from graph.store import GraphStore

__all__ = ["console", "err_console", "fail", "friendly_errors", "lang", "print_json", "set_lang",
           "store_from_settings", "t"]

console = Console()
err_console = Console(stderr=True)

# The language of this command line: ``--lang`` sets it, the locale gives the default.
_lang: list[Lang] = [default_lang()]


def lang() -> Lang:
    """The language the CLI speaks in this run (``coopgraph --lang ru|en``)."""
    return _lang[0]


def set_lang(value: Lang) -> None:
    """Speak ``value`` from now on (the ``--lang`` option calls this)."""
    _lang[0] = value


def t(ru: str, en: str) -> str:
    """The text in the CLI's language."""
    return tr(lang(), ru, en)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code`` (2: unusable input or setup)."""
    err_console.print(f"[bold red]{t('ошибка', 'error')}:[/] {message}", highlight=False,
                      soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn CoopGraph's errors into one readable line and an exit code, never a traceback."""
    try:
        yield
    except (NotFound, InvalidQuery, IngestError) as exc:
        fail(str(exc), 2)
    except CoopGraphError as exc:
        fail(str(exc), 3)


@contextmanager
def store_from_settings() -> Iterator[GraphStore]:
    """Open the configured store for one command and close it afterwards."""
    from graph.factory import open_store
    from graph.settings import load_settings

    with friendly_errors():
        store = open_store(load_settings())
        try:
            yield store
        finally:
            store.close()


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (no colours, no wrapping: for machines)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
