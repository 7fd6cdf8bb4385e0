"""CSV (UTF-8 BOM, ';') and XLSX exports of plans and gaps through the API.

Each export is read back and compared with the API's JSON answer for the same
caller: a member's export holds what its JSON holds (aggregates, withheld
figures), never more; text that a spreadsheet would run stays text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Company, Membership
from tests.api_support import ApiCase, assert_problem, make_case


@pytest.fixture
def case(tmp_path: Path) -> ApiCase:
    c = make_case(EmbeddedStore(None), tmp_path)
    # a member whose name a spreadsheet would run as a formula
    c.store.upsert([Company(id="evil", name='=HYPERLINK("http://x","y")\x01', lat=52.6,
                            lon=39.6, region="Липецкая область"),
                    Membership(company_id="evil", cluster_id="c1")])
    return c


def _sheets(content: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


def _csv(content: bytes, sep: str = ";") -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=sep))


def _findings(report: dict[str, Any]) -> int:
    return sum(len(report[k]) for k in ("import_dependency", "single_source", "over_capacity",
                                        "idle_capacity", "untied", "critical", "attract"))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_gaps_xlsx_has_every_finding(case: ApiCase, lang: str) -> None:
    report = case.get("/gaps", params={"cluster": "c1"}).json()
    r = case.get("/gaps/export.xlsx", params={"cluster": "c1", "lang": lang})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = _sheets(r.content)
    [(title, rows)] = sheets.items()
    assert title == ("Разрывы" if lang == "ru" else "Gaps")
    assert rows[0][0] == ("вид" if lang == "ru" else "kind")
    assert len(rows) - 1 == _findings(report) > 0
    idle = report["idle_capacity"][0]
    row = next(r for r in rows[1:] if r[3] == idle["company_id"])
    assert row[5] == idle["free_capacity"] and row[7] == idle["capacity"]  # numbers stay numbers
    # the evil name is text, without its control character, never a formula
    names = [r[4] for r in rows[1:] if r[3] == "evil"]
    assert names and all(n == "'=HYPERLINK(\"http://x\",\"y\")" for n in names)


def test_a_members_gaps_export_holds_only_what_it_may_see(case: ApiCase) -> None:
    mine = case.get("/gaps", params={"cluster": "c1"}, role="member_sup1").json()
    idle = mine["idle_capacity"][0]
    assert idle["company_id"] == "sup2" and idle["capacity"] is None  # another's capacity
    rows = _sheets(case.get("/gaps/export.xlsx", params={"cluster": "c1"},
                            role="member_sup1").content)["Разрывы"]
    row = next(r for r in rows[1:] if r[3] == "sup2")
    assert row[5] is None and row[7] is None
    assert 500 not in [c for r in rows for c in r]  # sup2's capacity, seen by the centre only
    lines = _csv(case.get("/gaps/export.csv", params={"cluster": "c1"},
                          role="member_sup1").content)
    assert len(lines) - 1 == _findings(mine)
    assert not any(c == "500" for r in lines for c in r)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_cluster_plan_csv_and_xlsx(case: ApiCase, lang: str) -> None:
    plan = case.post("/plans", json={"cluster": "c1"}).json()
    allocations = [a for p in plan["plans"] for c in p["categories"] for a in c["allocations"]]
    r = case.post(f"/plans/export.csv?lang={lang}", json={"cluster": "c1"})
    assert r.status_code == 200, r.text
    lines = _csv(r.content, ";" if lang == "ru" else ",")
    assert lines[0][0] == ("изделие (id)" if lang == "ru" else "product_id")
    assert len(lines) - 1 == len(allocations) > 0
    book = _sheets(case.post(f"/plans/export.xlsx?lang={lang}", json={"cluster": "c1"}).content)
    totals, rows = book["Итоги" if lang == "ru" else "Totals"], book[
        "Поставки" if lang == "ru" else "Allocations"]
    assert len(rows) - 1 == len(allocations)
    assert len(totals) - 1 == len(plan["plans"]) + 1  # a row per product and the sum
    assert totals[-1][4] == pytest.approx(plan["total_cost"])
    assert sum(r[4] for r in totals[1:-1]) == pytest.approx(plan["total_cost"])
    value = rows[0].index("стоимость, ₽/год" if lang == "ru" else "value")
    assert sum(r[value] for r in rows[1:]) == pytest.approx(plan["total_cost"], rel=1e-6)


def test_a_members_plan_export_withholds_other_companies_figures(case: ApiCase) -> None:
    plan = case.post("/plans", json={"product": "drill"}, role="member_oem").json()
    alloc = plan["categories"][0]["allocations"][0]
    assert alloc["supplier_id"] == "sup1" and alloc["unit_price"] is None
    rows = _sheets(case.post("/plans/export.xlsx", json={"product": "drill"},
                             role="member_oem").content)["Поставки"]
    head = rows[0]
    row = rows[1]
    assert row[head.index("поставщик (id)")] == "sup1"
    assert row[head.index("цена, ₽/шт.")] is None and row[head.index("количество, шт./год")] is None
    assert_problem(case.post("/plans/export.xlsx", json={"cluster": "c1"}, role="member_oem"),
                   403)
    assert_problem(case.post("/plans/export.csv", json={"product": "plough"},
                             role="member_oem"), 403)
    assert_problem(case.post("/plans/export.csv?lang=xx", json={"product": "drill"}), 422)
    assert_problem(case.get("/gaps/export.xlsx", params={"cluster": "nope"}), 404)
