"""``coopgraph export``: the cooperation network as GraphML (plans and gaps: ``--csv`` options)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coopgraph.api.console import console, fail, store_from_settings
from coopgraph.queries.export import write_graphml
from coopgraph.queries.projection_disk import DiskProjection


def register(app: typer.Typer) -> None:
    """Attach ``export`` to ``app``."""

    @app.command()
    def export(
        fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="Only 'graphml' for now.")],
        target: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write.")],
    ) -> None:
        """Export the network: `coopgraph export graphml FILE` (Gephi, yEd, networkx).

        Plans and gap reports export as CSV with `coopgraph plan --csv` / `gaps --csv`.
        """
        if fmt.lower() != "graphml":
            fail(f"unknown export format {fmt!r}; known: graphml "
                 "(plans and gaps: use `plan --csv` / `gaps --csv`)")
        with store_from_settings(lazy=True) as store:
            proj = DiskProjection(store).get()
        try:
            nodes, edges = write_graphml(proj, target)
        except OSError as exc:
            fail(f"cannot write {target}: {exc.strerror}")
        console.print(f"wrote {nodes} companies and {edges} supply links to {target}")
