"""The ingest report: what was read, loaded, merged and rejected — and why.

:class:`IngestReport` is the result of :func:`ingest.pipeline.ingest_paths`:
per-file counts (``read = loaded + merged + rejected``, so no row is lost
silently), every rejected row's problems as ``(file, row, column, reason)``,
every company merge with its reason and score, pairs left for review, and the
capability texts mapped to categories with low confidence. It serialises to
JSON and renders as a short Markdown page; :func:`write_rejects` writes each
file's rejected rows (same columns + ``_row``, ``_column``, ``_reason``) next
to them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from coopgraph.graph.safe_output import csv_row

__all__ = [
    "CategoryMapping",
    "FileSummary",
    "IngestReport",
    "Merge",
    "Reject",
    "ReviewPair",
    "write_rejects",
    "write_report",
]


class Reject(BaseModel):
    """One problem of one rejected row."""

    file: str
    row: int
    column: str
    reason: str


class Merge(BaseModel):
    """A company folded into another: ``merged_id`` now lives on as ``kept_id``."""

    kept_id: str
    kept_name: str
    merged_id: str
    merged_name: str
    file: str | None = None
    row: int | None = None
    reason: str
    score: float


class ReviewPair(BaseModel):
    """Two companies that may be the same; not merged, a human should decide."""

    a_id: str
    a_name: str
    b_id: str
    b_name: str
    reason: str
    score: float


class CategoryMapping(BaseModel):
    """A capability text mapped to a category with less than full confidence."""

    file: str
    row: int
    text: str
    category: str
    confidence: float
    alternatives: list[tuple[str, float]] = Field(default_factory=list)


class FileSummary(BaseModel):
    """Counts for one input table: ``read = loaded + unchanged + merged + rejected``.

    ``unchanged``: rows the store already held with exactly these values (a second
    load of the same file reports them here, not as ``loaded``).
    """

    file: str
    kind: str
    read: int = 0
    loaded: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


class IngestReport(BaseModel):
    """Everything one ingest did (see the module docstring)."""

    files: list[FileSummary] = Field(default_factory=list)
    rejects: list[Reject] = Field(default_factory=list)
    merges: list[Merge] = Field(default_factory=list)
    review: list[ReviewPair] = Field(default_factory=list)
    low_confidence: list[CategoryMapping] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    rejects_dir: str | None = None
    load_id: str | None = None  # the store load that wrote it (graph.loads)
    report_files: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejects

    def total(self, what: str) -> int:
        """The sum of one count (``read``, ``loaded``, ``unchanged``, ``merged``, ``rejected``)."""
        return sum(int(getattr(f, what)) for f in self.files)

    @property
    def rejected_rows(self) -> int:
        return self.total("rejected")

    @property
    def rows_per_s(self) -> float:
        return self.total("read") / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The totals as a small dict."""
        return {
            "ok": self.ok,
            "read": self.total("read"),
            "loaded": self.total("loaded"),
            "unchanged": self.total("unchanged"),
            "merged": self.total("merged"),
            "rejected": self.total("rejected"),
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s),
        }

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (with the totals and per-file throughput)."""
        data = self.model_dump(mode="json")
        data["summary"] = self.summary()
        for item, summary in zip(data["files"], self.files, strict=True):
            item["rows_per_s"] = round(summary.rows_per_s)
        return data

    def to_markdown(self, *, limit: int = 50) -> str:
        """A short human-readable page: per-file table, then the first problems."""
        s = self.summary()
        lines = [
            "# Ingest report", "",
            f"{s['read']} rows read, {s['loaded']} loaded, {s['unchanged']} unchanged, "
            f"{s['merged']} merged, {s['rejected']} rejected in {s['seconds']} s "
            f"({s['rows_per_s']} rows/s).", "",
            "| file | kind | read | loaded | unchanged | merged | rejected | rows/s |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for f in self.files:
            lines.append(f"| {f.file} | {f.kind} | {f.read} | {f.loaded} | {f.unchanged} | "
                         f"{f.merged} | {f.rejected} | {round(f.rows_per_s)} |")
        sections: list[tuple[str, Sequence[str]]] = [
            ("Rejected rows", [f"- {r.file} row {r.row}, column `{r.column}`: {r.reason}"
                               for r in self.rejects]),
            ("Merged companies", [f"- {m.merged_id} → {m.kept_id} ({m.reason}; score "
                                  f"{m.score:g})" for m in self.merges]),
            ("For review (not merged)", [f"- {p.a_id} ? {p.b_id}: {p.reason} (score "
                                         f"{p.score:g})" for p in self.review]),
            ("Low-confidence category mappings", [
                f"- {c.file} row {c.row}: {c.text!r} → {c.category} ({c.confidence:.2f})"
                for c in self.low_confidence]),
            ("Warnings", [f"- {w}" for w in self.warnings]),
        ]
        for title, items in sections:
            if not items:
                continue
            lines += ["", f"## {title} ({len(items)})", ""]
            lines += list(items[:limit])
            if len(items) > limit:
                lines.append(f"- … and {len(items) - limit} more (see report.json)")
        return "\n".join(lines) + "\n"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_rejects(directory: Path, table_name: str, headers: Sequence[str],
                  rows: Sequence[tuple[int, Sequence[Any], str, str]],
                  delimiter: str = ",") -> Path:
    """Write one table's rejected rows: its columns plus ``_row``, ``_column``, ``_reason``.

    ``rows`` holds ``(row, values, columns, reasons)``; the file is UTF-8 with a
    BOM so that Excel opens it with Cyrillic intact, and text cells that a
    spreadsheet would run as formulas are neutralised (:func:`graph.safe_output.csv_cell`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_safe(table_name)}.rejects.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(csv_row([*headers, "_row", "_column", "_reason"]))
        for row, values, columns, reasons in rows:
            cells = ["|".join(map(str, v)) if isinstance(v, list) else v for v in values]
            writer.writerow(csv_row([*cells, row, columns, reasons]))
    return path


def write_report(directory: Path, report: IngestReport) -> list[Path]:
    """Write ``report.json`` and ``report.md`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "report.json", directory / "report.md"
    json_path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2),
                         encoding="utf-8")
    md_path.write_text(report.to_markdown(), encoding="utf-8")
    return [json_path, md_path]
