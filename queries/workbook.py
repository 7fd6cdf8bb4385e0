"""Exports as XLSX workbooks: a plan (rows and totals) and a gap report, for Excel.

The rows are :mod:`queries.export`'s (the CSV files' columns, with names and
ids), headers in the chosen language; every cell goes through
:func:`graph.safe_output.sheet_row`, so a member's company name such as
``=HYPERLINK(…)`` stays text and a control character cannot break the sheet's
XML. Numbers stay numbers (Excel formats them in the reader's locale); yes/no
cells are words in the chosen language.
"""

from __future__ import annotations

import io
from typing import Any

from coopgraph.graph.i18n import Lang
from coopgraph.graph.safe_output import sheet_row, xml_text
from coopgraph.queries.chains import ChainPlan, ClusterPlan
from coopgraph.queries.export import COLUMN_NAMES_RU

__all__ = ["PLAN_SUMMARY_COLUMNS", "SUMMARY_NAMES_RU", "plan_summary_rows", "workbook_bytes"]

PLAN_SUMMARY_COLUMNS = ["product_id", "product_name", "maker_id", "volume", "total_cost",
                        "localization_share_value", "intra_cluster_share", "uncovered"]
SUMMARY_NAMES_RU = {
    "product_name": "изделие", "volume": "объём, шт./год", "total_cost": "стоимость, ₽/год",
    "localization_share_value": "доля закупок в регионе (по стоимости)",
    "intra_cluster_share": "доля закупок у участников", "uncovered": "импортируемые категории",
}


def plan_summary_rows(plan: ChainPlan | ClusterPlan) -> list[dict[str, Any]]:
    """One row per planned product, and (for a cluster plan) a last row of totals."""
    plans = plan.plans if isinstance(plan, ClusterPlan) else [plan]
    rows: list[dict[str, Any]] = [{
        "product_id": p.product_id, "product_name": p.product_name, "maker_id": p.maker_id,
        "volume": p.volume, "total_cost": p.total_cost,
        "localization_share_value": p.localization_share_value,
        "intra_cluster_share": p.intra_cluster_share, "uncovered": list(p.uncovered)}
        for p in plans]
    if isinstance(plan, ClusterPlan):
        rows.append({"product_id": "", "product_name": "Σ", "maker_id": "", "volume": None,
                     "total_cost": plan.total_cost,
                     "localization_share_value": plan.localization_share_value,
                     "intra_cluster_share": plan.intra_cluster_share,
                     "uncovered": list(plan.uncovered)})
    return rows


def _header(column: str, lang: Lang) -> str:
    if lang != "ru":
        return column
    return SUMMARY_NAMES_RU.get(column) or COLUMN_NAMES_RU.get(column, column)


def _cell(value: Any, lang: Lang) -> Any:
    if isinstance(value, bool):
        return ("да" if value else "нет") if lang == "ru" else ("yes" if value else "no")
    return None if value == "" else value


def workbook_bytes(sheets: list[tuple[str, list[dict[str, Any]], list[str]]],
                   lang: Lang = "ru") -> bytes:
    """An XLSX file with one sheet per ``(title, rows, columns)``, headers in ``lang``."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows, columns in sheets:
        sheet = book.create_sheet(xml_text(title)[:31] or "Sheet")
        sheet.append(sheet_row([_header(c, lang) for c in columns]))
        for row in rows:
            sheet.append(sheet_row([_cell(row.get(c, ""), lang) for c in columns]))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
