"""Exports for other tools: a plan and a gap report as CSV, the cooperation network as GraphML.

CSV files have a header row, one row per allocation, or per gap finding with its
``kind``. For people (``lang=`` given) they are what Excel opens as it is: UTF-8
with a byte-order mark, and in Russian ``;`` between cells, a decimal comma and
Russian headers (Russian Excel's list separator is ``;``); without ``lang`` they
are plain UTF-8 with ``,`` and ``.`` for scripts. Both carry names and ids; text
cells that a spreadsheet would run as a formula (a company name such as
``=HYPERLINK(…)``) get a leading ``'``. The GraphML holds companies (with region,
roles, cluster membership, coordinates) and their ``SUPPLIES`` links (category,
volume, price), without the characters XML 1.0 forbids; Gephi, yEd and networkx
open it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import networkx as nx

from coopgraph.graph.i18n import Lang, csv_number
from coopgraph.graph.safe_output import csv_dict_rows, xml_text
from coopgraph.queries.chains import ChainPlan, ClusterPlan
from coopgraph.queries.gaps import GapReport
from coopgraph.queries.projection import Projection

__all__ = [
    "COLUMN_NAMES_RU",
    "GAP_COLUMNS",
    "GAP_KINDS_RU",
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
GAP_COLUMNS = ["kind", "category", "name", "company_id", "company_name", "qty", "value",
               "capacity", "detail"]

# Russian headers and kinds of the people's CSV (the English ones are the column ids).
COLUMN_NAMES_RU = {
    "kind": "вид", "category": "категория (код)", "name": "наименование",
    "company_id": "компании (id)", "company_name": "компании", "qty": "количество, шт./год",
    "value": "стоимость, ₽/год", "capacity": "мощность, шт./год", "detail": "пояснение",
    "product_id": "изделие (id)", "maker_id": "изготовитель (id)",
    "category_name": "категория", "demand": "потребность, шт./год",
    "supplier_id": "поставщик (id)", "supplier_name": "поставщик", "unit_price": "цена, ₽/шт.",
    "unit_cost": "затраты, ₽/шт.", "distance_km": "расстояние, км", "local": "в регионе",
    "in_cluster": "в кластере", "inferred": "выведенная возможность", "imported": "импорт",
    "current_qty": "сейчас, шт./год",
}
GAP_KINDS_RU = {
    "import_dependency": "нет поставщика в регионе", "single_source": "единственный поставщик",
    "over_capacity": "спрос выше мощностей", "idle_capacity": "простаивающая мощность",
    "untied": "без кооперационных связей", "critical": "критичная компания",
    "attract": "привлечь возможность",
}


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


def gaps_rows(report: GapReport, names: dict[str, str] | None = None,
              lang: Lang = "en") -> list[dict[str, Any]]:
    """One row per finding of a gap report, ``kind`` saying which list it comes from.

    ``names`` maps company ids to names for the ``company_name`` column (ids stand in
    for unknown ones); ``lang`` picks the language of ``kind`` and ``detail``.
    """
    known = names or {}
    ru = lang == "ru"

    def who(ids: list[str]) -> dict[str, str]:
        return {"company_id": "|".join(ids), "company_name": "|".join(known.get(i, i)
                                                                      for i in ids)}

    def row(kind: str, text_ru: str, text_en: str, **cells: Any) -> dict[str, Any]:
        return {"kind": GAP_KINDS_RU[kind] if ru else kind, **cells,
                "detail": text_ru if ru else text_en}

    rows: list[dict[str, Any]] = []
    for g in report.import_dependency:
        rows.append(row("import_dependency", g.text_ru, g.text_en, category=g.category,
                        name=g.name, **who(g.buyers), qty=g.demand_qty, value=g.demand_value,
                        capacity=0))
    for s in report.single_source:
        rows.append(row("single_source", s.text_ru, s.text_en, category=s.category, name=s.name,
                        company_id=s.supplier_id, company_name=s.supplier_name,
                        qty=s.demand_qty, value=s.demand_value,
                        capacity=s.capacity if s.capacity is not None else ""))
    for o in report.over_capacity:
        rows.append(row("over_capacity", o.text_ru, o.text_en, category=o.category, name=o.name,
                        **who(o.suppliers), qty=o.shortfall, value=o.shortfall_value,
                        capacity=o.capacity))
    for i in report.idle_capacity:
        rows.append(row("idle_capacity", i.text_ru, i.text_en, category=i.category,
                        name=i.category_name, company_id=i.company_id, company_name=i.name,
                        qty=i.free_capacity, value="", capacity=i.capacity))
    for u in report.untied:
        rows.append(row("untied", "нет кооперационной связи с другой компанией в охвате",
                        "no cooperation link to another company in scope", category="",
                        name=u.name, company_id=u.company_id, company_name=u.name, qty="",
                        value="", capacity=""))
    for c in report.critical:
        rows.append(row("critical", c.text_ru, c.text_en, category="", name=c.name,
                        company_id=c.company_id, company_name=c.name, qty=c.degree,
                        value=c.betweenness, capacity=""))
    for a in report.attract:
        rows.append(row("attract", a.text_ru, a.text_en, category=a.category, name=a.name,
                        **who(a.could_develop), qty=a.unlock_qty, value=a.unlock_value,
                        capacity=""))
    return rows


def _excel_cell(value: Any, lang: Lang) -> Any:
    """A cell as ``lang``'s Excel reads it: decimal comma in Russian, да/нет for booleans."""
    if isinstance(value, bool):
        return ("да" if value else "нет") if lang == "ru" else ("yes" if value else "no")
    if isinstance(value, int | float):
        return csv_number(value, lang, 4)
    return value


def write_csv(rows: Iterable[dict[str, Any]], columns: list[str],
              target: str | Path | TextIO, *, lang: Lang | None = None) -> int:
    """Write ``rows`` as CSV (header first) to a path or an open text file.

    Without ``lang``: plain UTF-8, ``,`` and ``.`` (for scripts). With ``lang``: for
    Excel — a byte-order mark, and in Russian ``;``, a decimal comma and Russian
    headers. Returns the number of data rows written.
    """
    rows = list(rows)
    if isinstance(target, str | Path):
        encoding = "utf-8" if lang is None else "utf-8-sig"  # -sig writes the BOM
        with Path(target).open("w", encoding=encoding, newline="") as fh:
            return write_csv(rows, columns, fh, lang=lang)
    if lang is None:
        writer = csv.DictWriter(target, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(csv_dict_rows(rows))
        return len(rows)
    out = csv.writer(target, delimiter=";" if lang == "ru" else ",")
    out.writerow([COLUMN_NAMES_RU.get(c, c) if lang == "ru" else c for c in columns])
    # Formulas are neutralised on the values, before numbers become text ("-5" is a number).
    safe = csv_dict_rows([{c: r.get(c, "") for c in columns} for r in rows])
    out.writerows([[_excel_cell(r[c], lang) for c in columns] for r in safe])
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
