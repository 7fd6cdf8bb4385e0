"""Helpers for the API tests: a small seeded network, an app with one key per role.

The network: cluster ``c1``; OEM ``oem`` (makes product ``drill``) and supplier
``sup1`` in the cluster, supplier ``sup2`` outside it; categories ``hyd`` ⊃
``hyd.cyl``; ``sup1`` and ``sup2`` declare ``hyd.cyl`` with capacities and
prices; ``sup1`` supplies ``oem``; ``oem`` imports and needs ``hyd.cyl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coopgraph.api.keys import KeyStore
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.models import (
    BomLine,
    Capability,
    Category,
    Certification,
    Cluster,
    Company,
    CompanyProcess,
    HeldCertification,
    Import,
    Membership,
    Need,
    Process,
    Product,
    Record,
    Role,
    Supply,
)
from coopgraph.graph.store import GraphStore

__all__ = ["ROLES", "ApiCase", "assert_problem", "make_case", "seed_records"]

ROLES = ("admin", "analyst", "member_sup1", "member_oem")


def seed_records() -> list[Record]:
    """The small network described in the module docstring."""
    return [
        Cluster(id="c1", name="Агрокластер"),
        Company(id="oem", name="Завод сеялок", inn="4823006703", region="Липецкая область",
                lat=52.6, lon=39.6, roles=[Role.OEM]),
        Company(id="sup1", name="Гидравлика", inn="4822001117", region="Липецкая область",
                lat=52.5, lon=39.5, roles=[Role.SUPPLIER]),
        Company(id="sup2", name="Литейный цех", inn="4825002221", region="Тамбовская область",
                lat=52.7, lon=41.4, roles=[Role.SUPPLIER]),
        Category(code="hyd", name_ru="Гидравлика", name_en="Hydraulics"),
        Category(code="hyd.cyl", name_ru="Гидроцилиндры", name_en="Hydraulic cylinders",
                 parent="hyd", processes=["machining"], unit_price=100.0),
        Process(code="machining", name_ru="Механообработка"),
        Process(code="welding", name_ru="Сварка"),
        Certification(code="ISO9001"),
        Product(id="drill", name="Сеялка", maker_id="oem", annual_volume=100, unit_price=1e6),
        Product(id="plough", name="Плуг", maker_id="sup2", annual_volume=10),
        BomLine(parent="drill", child="hyd.cyl", qty=4),
        Membership(company_id="oem", cluster_id="c1"),
        Membership(company_id="sup1", cluster_id="c1"),
        Capability(company_id="sup1", category="hyd.cyl", capacity_per_year=1000,
                   unit_price=90, min_order=10, lead_time_days=20),
        Capability(company_id="sup2", category="hyd.cyl", capacity_per_year=500,
                   unit_price=95, min_order=5),
        CompanyProcess(company_id="sup1", process="machining"),
        HeldCertification(company_id="sup1", cert="ISO9001"),
        Supply(supplier_id="sup1", buyer_id="oem", category="hyd.cyl", volume_per_year=200,
               unit_price=92),
        Import(company_id="oem", category="hyd.cyl", country="IT", volume_per_year=100,
               unit_price=150),
        Need(company_id="oem", category="hyd.cyl", qty_per_year=300),
    ]


@dataclass
class ApiCase:
    """A test client over an app, and a key per role."""

    client: TestClient
    keys: dict[str, str]
    store: GraphStore
    app: Any
    extra: dict[str, Any] = field(default_factory=dict)

    def h(self, role: str | None) -> dict[str, str]:
        """Headers authenticating as ``role`` (``None``: no key)."""
        return {} if role is None else {"X-API-Key": self.keys[role]}

    def get(self, path: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.get(path, headers=self.h(role), **kw)

    def post(self, path: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.post(path, headers=self.h(role), **kw)

    def put(self, path: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.put(path, headers=self.h(role), **kw)

    def delete(self, path: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.delete(path, headers=self.h(role), **kw)


def make_case(store: GraphStore, tmp: Path, *, seed: bool = True, **settings: Any) -> ApiCase:
    """An app over ``store`` with admin, analyst and two member keys in ``tmp``."""
    if seed:
        store.upsert(seed_records())
    keys_file = tmp / "keys.json"
    ks = KeyStore(store)
    keys = {
        "admin": ks.create("admin")[1],
        "analyst": ks.create("analyst")[1],
        "member_sup1": ks.create("member", company_id="sup1")[1],
        "member_oem": ks.create("member", company_id="oem")[1],
    }
    # The tests read their own writes: wait for a rebuild rather than answer from the
    # previous projection (that path is tested in tests/test_projection_delta.py).
    settings.setdefault("projection_wait", 60.0)
    api_settings = ApiSettings(keys_file=keys_file, jobs_dir=tmp / "jobs", **settings)
    app = create_app(api_settings, store)
    client = TestClient(app, raise_server_exceptions=False)
    return ApiCase(client, keys, store, app)


def assert_problem(response: Any, status: int, *, contains: str | None = None,
                   slug: str | None = None) -> dict[str, Any]:
    """Check a problem response: status, media type, members; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), (
        response.headers["content-type"])
    body = response.json()
    assert body["status"] == status
    assert body["title"] and isinstance(body["title"], str)
    assert body["detail"] and isinstance(body["detail"], str)
    assert "Traceback" not in response.text
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    if contains is not None:
        assert contains in body["detail"], body["detail"]
    return body


def rank_at_current_revision(api: ApiCase, store: GraphStore) -> tuple[str, int]:
    """Rank buyers for the store's first capability's supplier; check the answer is
    at the store's revision. Returns the supplier and that revision."""
    from coopgraph.api.state import REVISION_HEADER
    from coopgraph.graph.schema import EntityKind

    supplier = store.snapshot().rows(EntityKind.CAPABILITY)[0]["company_id"]
    got = api.get("/match/buyers", "analyst", params={"supplier": supplier, "k": 3})
    assert got.status_code == 200, got.text
    revision = int(got.headers[REVISION_HEADER])
    assert revision == store.revision()
    return supplier, revision


def first_capability_with_new_capacity(store: GraphStore) -> dict[str, Any]:
    """The store's first capability row with its capacity changed (a patchable write)."""
    from coopgraph.graph.schema import EntityKind

    row = dict(store.snapshot().rows(EntityKind.CAPABILITY)[0])
    row["capacity_per_year"] = 4321.0
    return row
