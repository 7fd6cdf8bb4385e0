"""``coopgraph keys create|list|revoke``: the API keys, kept hashed in the keys file.

The secret is printed once, by ``create``; the file keeps only its hash. The
file is ``COOPGRAPH_KEYS_FILE`` or ``api_keys.json`` in the data directory.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, friendly_errors, store_from_settings
from coopgraph.api.keys import KeyRole, KeyStore
from coopgraph.api.settings import load_api_settings
from coopgraph.graph.schema import EntityKind

__all__ = ["register"]


def _key_store() -> KeyStore:
    with friendly_errors():
        return KeyStore(load_api_settings().resolved_keys_file())


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
        if role is KeyRole.MEMBER:
            if not company:
                fail("a member key needs --company ID (the company it acts for)")
            with store_from_settings() as store:
                if not store.exists(EntityKind.COMPANY, company):
                    fail(f"no company with id {company!r} in the store; load it first")
        keys = _key_store()
        with friendly_errors():
            record, secret = keys.create(role, company_id=company, name=name)
        console.print(f"created {record.role.value} key [bold]{record.id}[/]"
                      + (f" for company {record.company_id}" if record.company_id else ""),
                      highlight=False)
        console.print("store it now — it will not be shown again:", highlight=False)
        typer.echo(secret)

    @keys_app.command("list")
    def list_keys() -> None:
        """List keys (ids, roles, companies; never the secrets)."""
        keys = _key_store()
        with friendly_errors():
            records = keys.list()
        if not records:
            console.print(f"no keys in {keys.path}", highlight=False)
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
        """Revoke a key; requests with it are refused from now on."""
        keys = _key_store()
        with friendly_errors():
            record = keys.revoke(key_id)
        console.print(f"revoked key {record.id}", highlight=False)
