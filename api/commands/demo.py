"""``coopgraph demo``: load the sample cluster into the embedded store and serve the dashboard.

The README's first command, so it needs nothing but the installed package: no
Neo4j (the demo always uses the embedded store), no network, no source tree: the
sample cluster is package data. The store goes to ``--data DIR``, else to
``COOPGRAPH_DATA_DIR`` when that is set, else to a per-user data directory
(:func:`demo_data_dir`; ``~/.local/share/coopgraph/demo`` on Linux), and the demo
names it on start. Loading is idempotent, and a store that already holds data is
reused as it is, so a second run starts at once; ``--reset`` wipes it and loads afresh.

Access: by default the demo makes a fresh local **admin** key (revoking the key
of the previous demo run) and prints the dashboard address with it; the page
keeps the key in the browser. ``--no-auth`` serves without keys instead, which
:mod:`api.settings` allows only because the demo binds 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, friendly_errors
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.settings import load_settings
from coopgraph.graph.store import GraphStore

if TYPE_CHECKING:
    from coopgraph.ingest.pipeline import IngestReport

__all__ = [
    "DEMO_HOST", "DEMO_KEY_NAME", "DemoAccess", "demo_data_dir", "load_sample", "make_access",
    "register",
]

DEMO_HOST = "127.0.0.1"
DEMO_KEY_NAME = "coopgraph demo"


@dataclass(frozen=True)
class DemoAccess:
    """How the browser reaches the demo: the address to open and the key in it (if any)."""

    base_url: str
    key: str | None

    @property
    def dashboard_url(self) -> str:
        """The dashboard's address; with a key, the page stores it and drops it from the bar."""
        return f"{self.base_url}/?key={self.key}" if self.key else f"{self.base_url}/"


def demo_data_dir(data: Path | None) -> Path:
    """Where the demo keeps its store: ``--data``, else ``COOPGRAPH_DATA_DIR``, else per user.

    The per-user directory (platformdirs) lets an installed ``coopgraph demo`` run from
    any folder without writing into it; ``make demo`` passes ``--data var/data``.
    """
    if data is not None:
        return data
    settings = load_settings()
    if "data_dir" in settings.model_fields_set:
        return settings.data_dir
    from platformdirs import user_data_path

    return user_data_path("coopgraph", appauthor=False) / "demo"


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def load_sample(store: GraphStore, *, reset: bool = False) -> IngestReport | None:
    """Load the sample cluster into ``store`` unless it already holds companies.

    Returns the ingest report, or ``None`` when the store's data was reused.
    """
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import sample_dir

    if reset:
        store.clear()
    elif store.stats().get(EntityKind.COMPANY.value, 0):
        return None
    return ingest_paths(store, [sample_dir()])


def make_access(store: GraphStore, keys_file: Path, port: int, *, auth: bool) -> DemoAccess:
    """A fresh local admin key (the previous demo key revoked), or none when auth is off."""
    base = f"http://{DEMO_HOST}:{port}"
    if not auth:
        return DemoAccess(base, None)
    from coopgraph.api.keys import KeyRole, KeyStore

    keys = KeyStore(store, legacy_file=keys_file)
    for old in keys.list():
        if old.name == DEMO_KEY_NAME and old.active:
            keys.revoke(old.id)
    _, secret = keys.create(KeyRole.ADMIN, name=DEMO_KEY_NAME)
    return DemoAccess(base, secret)


def _print_loaded(report: IngestReport | None, store: GraphStore, data_dir: Path) -> None:
    """What the demo serves: the files just loaded, or the counts of the data reused."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    if report is None:
        console.print(f"Reusing the data already in [bold]{data_dir}[/] "
                      "(run with [bold]--reset[/] to load the sample afresh).")
        table.add_column("kind")
        table.add_column("records", justify="right")
        for kind, count in store.stats().items():
            if count:
                table.add_row(kind, f"{count:,}")
    else:
        console.print(f"Loaded the sample cluster into [bold]{data_dir}[/] "
                      f"in {report.seconds:.1f} s:")
        for name in ("file", "kind", "loaded", "merged", "rejected"):
            table.add_column(name, justify="left" if name in ("file", "kind") else "right")
        for f in report.files:
            table.add_row(Path(f.file).name, f.kind, f"{f.loaded:,}", f"{f.merged:,}",
                          f"[red]{f.rejected:,}[/]" if f.rejected else "0")
    console.print(table)
    if report is not None and not report.ok:
        console.print(f"[yellow]note:[/] {report.rejected_rows} rows were rejected "
                      "(see `coopgraph ingest` for the report).")


def register(app: typer.Typer) -> None:
    """Attach ``demo`` to ``app``."""

    @app.command()
    def demo(
        port: Annotated[int, typer.Option(help="Port to serve on (127.0.0.1 only).")] = 8000,
        no_browser: Annotated[bool, typer.Option(
            "--no-browser", help="Do not open a web browser.")] = False,
        reset: Annotated[bool, typer.Option(
            "--reset", help="Wipe the embedded store and load the sample again.")] = False,
        no_auth: Annotated[bool, typer.Option(
            "--no-auth", help="Serve without API keys (allowed on 127.0.0.1 only).")] = False,
        data: Annotated[Path | None, typer.Option(
            "--data", metavar="DIR", file_okay=False,
            help="Keep the demo's store in DIR (default: COOPGRAPH_DATA_DIR if set, else a "
                 "per-user data directory).")] = None,
    ) -> None:
        """Load the sample cluster and serve the dashboard on http://127.0.0.1:PORT."""
        import uvicorn

        from coopgraph.api.main import create_app
        from coopgraph.api.settings import load_api_settings

        if not 0 < port < 65536:
            fail(f"--port must be between 1 and 65535, not {port}")
        if not _port_free(DEMO_HOST, port):
            fail(f"port {port} on {DEMO_HOST} is in use — stop what runs there or "
                 f"pick another one with --port {port + 1}")
        with friendly_errors():
            settings = load_settings()
            if settings.store != "embedded":
                console.print("[yellow]note:[/] the demo always uses the embedded store "
                              f"(COOPGRAPH_STORE={settings.store} is ignored here).")
            data_dir = demo_data_dir(data)
            # Everything this process reads from the settings (keys, jobs, fitted
            # profile) must agree with the store the demo serves.
            os.environ["COOPGRAPH_DATA_DIR"] = str(data_dir)
            console.print(f"Data directory / каталог данных: [bold]{data_dir}[/]",
                          soft_wrap=True, highlight=False)
            store = EmbeddedStore(data_dir)
            try:
                report = load_sample(store, reset=reset)
                _print_loaded(report, store, data_dir)
                api_settings = load_api_settings(host=DEMO_HOST, auth=not no_auth)
                access = make_access(store, api_settings.resolved_keys_file(), port,
                                     auth=not no_auth)
                app_ = create_app(settings=api_settings, store=store)
                console.print()
                console.print(f"Dashboard: [bold link={access.dashboard_url}]"
                              f"{access.dashboard_url}[/]", soft_wrap=True)
                if access.key:
                    console.print(f"Local admin API key (this run only): [bold]{access.key}[/]",
                                  soft_wrap=True)
                    console.print(f"  e.g. curl -H 'X-API-Key: {access.key}' "
                                  f"{access.base_url}/kpis", soft_wrap=True, highlight=False)
                else:
                    console.print("Auth is [bold]off[/] (allowed for 127.0.0.1 only).")
                console.print(f"API docs: {access.base_url}/docs · stop with Ctrl+C")

                server = uvicorn.Server(uvicorn.Config(
                    app_, host=DEMO_HOST, port=port, log_level="warning"))
                if not no_browser:
                    threading.Thread(target=_open_when_up, args=(server, access.dashboard_url),
                                     daemon=True).start()
                server.run()
            finally:
                store.close()


def _open_when_up(server: object, url: str) -> None:
    """Open the browser once uvicorn reports it is listening (gives up after 30 s)."""
    import time

    for _ in range(300):
        if getattr(server, "started", False):
            webbrowser.open(url)
            return
        time.sleep(0.1)
