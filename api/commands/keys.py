"""``coopgraph keys create|list|revoke|migrate``: the API keys, kept hashed in the store.

The secret is printed once, by ``create``; the store keeps only its hash. Keys
live in the configured store (so every API replica over it sees them at once);
the former keys file (``COOPGRAPH_KEYS_FILE`` or ``api_keys.json`` in the data
directory) is imported by the first command or server that finds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, friendly_errors, store_from_settings
from coopgraph.api.keys import KeyRole, KeyStore
from coopgraph.api.settings import load_api_settings
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore

__all__ = ["register"]


@contextmanager
def _key_store(*, create: bool = False) -> Iterator[tuple[KeyStore, GraphStore]]:
    with store_from_settings(create=create) as store, friendly_errors():
        yield KeyStore(store, legacy_file=load_api_settings().resolved_keys_file()), store


def register(app: typer.Typer) -> None:
    """Attach the ``keys`` command group to ``app``."""
    keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
    app.add_typer(keys_app, name="keys")

    @keys_app.command("create")
    def create(
        role: Annotated[KeyRole, typer.Option(help="admin, analyst or member.")],
        company: Annotated[str | None, typer.Option(
            help="The company a member key acts for (required for members).")] = None,
        name: Annotated[str | None, typer.Option(help="A label to recognise the key by.")] = None,
    ) -> None:
        """Create a key and print it (it is shown this once; only its hash is kept)."""
        if role is KeyRole.MEMBER and not company:
            fail("a member key needs --company ID (the company it acts for)")
        with _key_store(create=role is not KeyRole.MEMBER) as (keys, store):
            if role is KeyRole.MEMBER:
                assert company is not None
                if not store.exists(EntityKind.COMPANY, company):
                    fail(f"no company with id {company!r} in the store; load it first")
            record, secret = keys.create(role, company_id=company, name=name)
        console.print(f"created {record.role.value} key [bold]{record.id}[/]"
                      + (f" for company {record.company_id}" if record.company_id else ""),
                      highlight=False)
        console.print("store it now — it will not be shown again:", highlight=False)
        typer.echo(secret)

    @keys_app.command("list")
    def list_keys() -> None:
        """List keys (ids, roles, companies; never the secrets)."""
        with _key_store() as (keys, _):
            records = keys.list()
        if not records:
            console.print("no API keys in the store", highlight=False)
            return
        table = Table("id", "name", "role", "company", "created", "status")
        for k in records:
            table.add_row(k.id, k.name or "", k.role.value, k.company_id or "",
                          k.created_at.isoformat(),
                          "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d}")
        console.print(table)

    @keys_app.command("revoke")
    def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")]
               ) -> None:
        """Revoke a key; every API replica refuses it from its next request on."""
        with _key_store() as (keys, _):
            record = keys.revoke(key_id)
        console.print(f"revoked key {record.id}", highlight=False)

    @keys_app.command("migrate")
    def migrate() -> None:
        """Import the former keys file into the store now (done by any first use anyway)."""
        with _key_store(create=True) as (keys, _):
            added = keys.migrate()
        console.print(f"imported {added} key(s) from the keys file into the store",
                      highlight=False)
