"""Shared helpers of the CLI: one console, readable errors instead of tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from coopgraph.graph.errors import CoopGraphError, IngestError, InvalidQuery, NotFound, StoreMissing
from coopgraph.graph.i18n import Lang, default_lang, tr

if TYPE_CHECKING:  # pragma: no cover
    from coopgraph.graph.store import GraphStore

# graph.factory and graph.settings (pydantic, the stores) are imported where a store is
# opened: ``coopgraph --help`` must not pay for them.
__all__ = ["console", "err_console", "error_text", "fail", "friendly_errors", "lang",
           "print_json", "set_lang", "store_from_settings", "store_header", "t"]

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
    except (NotFound, InvalidQuery, IngestError, StoreMissing) as exc:
        fail(error_text(exc), 2)
    except CoopGraphError as exc:
        fail(error_text(exc), 3)


def error_text(exc: BaseException) -> str:
    """The error's sentence in the CLI's language (a coded one: :mod:`graph.messages`)."""
    from coopgraph.graph.messages import render

    return render(exc.args[0], lang()) if len(exc.args) == 1 else str(exc)


# The store the running command uses; :func:`print_json` adds it to a JSON object.
_STORE: ContextVar[dict[str, Any] | None] = ContextVar("coopgraph_store", default=None)


def store_header(location: dict[str, Any], *, created: bool = False) -> str:
    """The header line naming the store (RU / EN)."""
    from coopgraph.graph.factory import store_location_text

    where = store_location_text(location)
    if created:
        return t(f"Хранилище создано: {where}", f"Store created: {where}")
    return t(f"Хранилище: {where}", f"Store: {where}")


@contextmanager
def store_from_settings(*, create: bool = False, as_json: bool = False,
                        lazy: bool = False) -> Iterator[GraphStore]:
    """Open the configured store for one command, name it, and close it afterwards.

    A read command (``create=False``) on a store that does not exist fails with
    "no store at …" (exit 2) instead of silently creating an empty one; only
    ingest passes ``create=True``. The store is named in the command's header
    (stdout) or, with ``--json``, under ``"store"`` in the JSON object. ``lazy``: an
    embedded store reads its files only when asked for data (a command answered
    from the cached projection never does, see :mod:`queries.projection_disk`).
    """
    from coopgraph.graph.factory import embedded_store_exists, open_store, store_location
    from coopgraph.graph.settings import load_settings

    with friendly_errors():
        settings = load_settings()
        location = store_location(settings)
        new = create and settings.store == "embedded" \
            and not embedded_store_exists(settings.data_dir)
        store = open_store(settings, create=create, lazy=lazy and not create)
        if settings.store == "neo4j" and create:
            new = store.revision() == 0
        location = {**location, "created": new} if create else location
        _STORE.set(location)
        if not as_json:
            console.print(store_header(location, created=new), highlight=False, soft_wrap=True)
        try:
            yield store
        finally:
            store.close()


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (no colours, no wrapping: for machines).

    An object gets the store the command used under ``"store"`` (when it opened one).
    """
    location = _STORE.get()
    _STORE.set(None)  # named once: a later command in the same process opens its own
    if location is not None and isinstance(data, dict) and "store" not in data:
        data = {**data, "store": location}
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
