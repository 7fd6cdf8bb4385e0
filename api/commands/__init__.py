"""CLI commands, one module each; every module exposes ``register(app)``.

Adding a command means adding a module here and its name to ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "stats", "serve", "demo", "ingest", "generate", "match", "evaluate", "fit",
    "plan", "gaps", "kpi", "keys", "export", "check", "codes",
)


def register_all(app: typer.Typer) -> None:
    """Attach every command module's commands to ``app``."""
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"api.commands.{name}")
        module.register(app)
