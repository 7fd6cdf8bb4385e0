"""``coopgraph generate``: write a synthetic dataset of N companies for scale tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coopgraph.api.console import console, fail, friendly_errors, print_json
from coopgraph.ingest.generate import FORMATS, generate


def register(app: typer.Typer) -> None:
    """Attach ``generate`` to ``app``."""

    @app.command("generate")
    def generate_command(
        companies: Annotated[int, typer.Option("--companies", "-n",
                                               help="How many companies to make.")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")]
        = 0,
        out: Annotated[Path, typer.Option("--out", help="Directory to write the files into.")]
        = Path("generated"),
        fmt: Annotated[str, typer.Option("--format", help="File format: csv.")] = "csv",
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """Write a synthetic country of companies (the sample's file formats) into --out."""
        if fmt not in FORMATS:
            fail(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
        if out.exists() and not out.is_dir():
            fail(f"--out {out} exists and is not a directory")
        with friendly_errors():
            report = generate(out, companies=companies, seed=seed, fmt=fmt,
                              progress=not (quiet or as_json))
        summary = {
            "out": str(report.out_dir), "companies": report.companies, "seed": report.seed,
            "seconds": round(report.seconds, 2), "rows": report.rows,
            "capability_and_supply_rows": report.capability_and_supply_rows,
            "rows_per_second": round(report.total_rows / report.seconds) if report.seconds else 0,
        }
        if as_json:
            print_json(summary)
            return
        table = Table(title=f"generated into {report.out_dir}")
        table.add_column("file")
        table.add_column("rows", justify="right")
        for name, n in report.rows.items():
            table.add_row(name, f"{n:,}")
        console.print(table)
        console.print(
            f"{report.total_rows:,} rows ({report.capability_and_supply_rows:,} capability and "
            f"supply rows) in {report.seconds:.1f} s — seed {report.seed}", highlight=False)
