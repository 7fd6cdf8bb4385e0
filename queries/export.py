"""Exports for other tools: a plan and a gap report as CSV, the cooperation network as GraphML.

CSV files are UTF-8 with a header row and ``,`` separators (one row per
allocation, or per gap finding with its ``kind``), so Excel, pandas and
LibreOffice read them as they are; text cells that a spreadsheet would run as a
formula (a company name such as ``=HYPERLINK(…)``) get a leading ``'``. The
GraphML holds companies (with region, roles, cluster membership, coordinates)
and their ``SUPPLIES`` links (category, volume, price), without the characters
XML 1.0 forbids; Gephi, yEd and networkx open it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import networkx as nx

from graph.safe_output import csv_dict_rows, xml_text
from queries.chains import ChainPlan, ClusterPlan
from queries.gaps import GapReport
from queries.projection import Projection

__all__ = [
    "GAP_COLUMNS",
    "PLAN_COLUMNS",
    "gaps_rows",
    "network_graph",
    "plan_rows",
    "write_csv",
    "write_graphml",
    "write_safe_graphml",
    "xml_safe_graph",
]

PLAN_COLUMNS = ["product_id", "maker_id", "category", "category_name", "demand", "supplier_id",
                "supplier_name", "qty", "unit_price", "unit_cost", "value", "distance_km",
                "local", "in_cluster", "inferred", "imported", "current_qty"]
GAP_COLUMNS = ["kind", "category", "name", "company_id", "qty", "value", "capacity", "detail"]


def _round(x: float | None, digits: int) -> float | str:
    """A figure for a CSV cell; a withheld one (``None``) is an empty cell."""
    return "" if x is None else round(x, digits)


def plan_rows(plan: ChainPlan | ClusterPlan) -> list[dict[str, Any]]:
    """One row per allocation of a chain (or of every chain of a cluster plan)."""
    plans = plan.plans if isinstance(plan, ClusterPlan) else [plan]
    rows: list[dict[str, Any]] = []
    for p in plans:
        for cat in p.categories:
            current: dict[str | None, float] = {}
            for link in cat.current:
                current[link.supplier_id] = current.get(link.supplier_id, 0.0) + link.qty
            for a in cat.allocations:
                rows.append({
                    "product_id": p.product_id, "maker_id": p.maker_id,
                    "category": cat.category, "category_name": cat.name, "demand": cat.demand,
                    "supplier_id": a.supplier_id or "", "supplier_name": a.supplier_name,
                    "qty": _round(a.qty, 6), "unit_price": _round(a.unit_price, 4),
                    "unit_cost": _round(a.unit_cost, 4), "value": _round(a.value, 2),
                    "distance_km": a.distance_km if a.distance_km is not None else "",
                    "local": a.local, "in_cluster": a.in_cluster, "inferred": a.inferred,
                    "imported": a.imported, "current_qty": current.get(a.supplier_id, 0.0)})
    return rows


def gaps_rows(report: GapReport) -> list[dict[str, Any]]:
    """One row per finding of a gap report, ``kind`` saying which list it comes from."""
    rows: list[dict[str, Any]] = []
    for g in report.import_dependency:
        rows.append({"kind": "import_dependency", "category": g.category, "name": g.name,
                     "company_id": "|".join(g.buyers), "qty": g.demand_qty,
                     "value": g.demand_value, "capacity": 0, "detail": g.text_en})
    for s in report.single_source:
        rows.append({"kind": "single_source", "category": s.category, "name": s.name,
                     "company_id": s.supplier_id, "qty": s.demand_qty, "value": s.demand_value,
                     "capacity": s.capacity if s.capacity is not None else "",
                     "detail": s.text_en})
    for o in report.over_capacity:
        rows.append({"kind": "over_capacity", "category": o.category, "name": o.name,
                     "company_id": "|".join(o.suppliers), "qty": o.shortfall,
                     "value": o.shortfall_value, "capacity": o.capacity, "detail": o.text_en})
    for i in report.idle_capacity:
        rows.append({"kind": "idle_capacity", "category": i.category, "name": i.category_name,
                     "company_id": i.company_id, "qty": i.free_capacity, "value": "",
                     "capacity": i.capacity, "detail": i.text_en})
    for u in report.untied:
        rows.append({"kind": "untied", "category": "", "name": u.name,
                     "company_id": u.company_id, "qty": "", "value": "", "capacity": "",
                     "detail": "no cooperation link to another company in scope"})
    for c in report.critical:
        rows.append({"kind": "critical", "category": "", "name": c.name,
                     "company_id": c.company_id, "qty": c.degree, "value": c.betweenness,
                     "capacity": "", "detail": c.text_en})
    for a in report.attract:
        rows.append({"kind": "attract", "category": a.category, "name": a.name,
                     "company_id": "|".join(a.could_develop), "qty": a.unlock_qty,
                     "value": a.unlock_value, "capacity": "", "detail": a.text_en})
    return rows


def write_csv(rows: Iterable[dict[str, Any]], columns: list[str],
              target: str | Path | TextIO) -> int:
    """Write ``rows`` as CSV (UTF-8, header first) to a path or an open text file.

    Returns the number of data rows written.
    """
    rows = list(rows)
    if isinstance(target, str | Path):
        with Path(target).open("w", encoding="utf-8", newline="") as fh:
            return write_csv(rows, columns, fh)
    writer = csv.DictWriter(target, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(csv_dict_rows(rows))
    return len(rows)


def network_graph(proj: Projection) -> nx.MultiDiGraph:
    """Companies and their existing supply links as a networkx graph with plain attributes."""
    graph = nx.MultiDiGraph()
    for i, cid in enumerate(proj.company_ids):
        attrs: dict[str, Any] = {
            "label": proj.company_names[i], "kind": "company",
            "region": proj.company_regions[i] or "",
            "roles": "|".join(sorted(proj.company_roles[i])),
            "clusters": "|".join(sorted(proj.company_clusters[i])),
        }
        if proj.lat[i] == proj.lat[i]:  # not NaN
            attrs["lat"], attrs["lon"] = float(proj.lat[i]), float(proj.lon[i])
        graph.add_node(cid, **attrs)
    for j in range(len(proj.sup_supplier)):
        attrs = {"type": "SUPPLIES", "category": proj.category_codes[int(proj.sup_category[j])]}
        for key, value in (("volume_per_year", proj.sup_volume[j]),
                           ("unit_price", proj.sup_price[j])):
            if value == value:
                attrs[key] = float(value)
        graph.add_edge(proj.company_ids[int(proj.sup_supplier[j])],
                       proj.company_ids[int(proj.sup_buyer[j])], **attrs)
    return graph


def _xml_value(value: Any) -> Any:
    return xml_text(value) if isinstance(value, str) else value


def xml_safe_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``graph`` whose ids, edge keys, attribute names and text values XML 1.0 allows.

    A member's company name or id may hold a NUL or another control character
    (the models cap lengths, not code points); GraphML is XML 1.0, where such a
    character makes the whole file unreadable. They are dropped, not escaped:
    XML 1.0 has no escape for them either.
    """
    safe = nx.MultiDiGraph()
    for node, attrs in graph.nodes(data=True):
        safe.add_node(_xml_value(node),
                      **{xml_text(str(k)): _xml_value(v) for k, v in attrs.items()})
    for start, end, key, attrs in graph.edges(keys=True, data=True):
        safe.add_edge(_xml_value(start), _xml_value(end), key=_xml_value(key),
                      **{xml_text(str(k)): _xml_value(v) for k, v in attrs.items()})
    return safe


def write_safe_graphml(graph: nx.MultiDiGraph, target: str | Path | io.BufferedIOBase) -> None:
    """Write ``graph`` as UTF-8 GraphML after :func:`xml_safe_graph`."""
    nx.write_graphml(xml_safe_graph(graph), target, encoding="utf-8")


def write_graphml(proj: Projection, target: str | Path | io.BufferedIOBase) -> tuple[int, int]:
    """Write the cooperation network as GraphML; returns ``(nodes, edges)``."""
    graph = network_graph(proj)
    write_safe_graphml(graph, target)
    return graph.number_of_nodes(), graph.number_of_edges()
