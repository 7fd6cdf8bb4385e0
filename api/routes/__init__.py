"""The API's routers, one module per resource; :data:`ROUTER_MODULES` lists them in order.

``dashboard`` (the web pages) is included by :func:`api.main.create_app` when present.
"""

from __future__ import annotations

__all__ = ["ROUTER_MODULES"]

ROUTER_MODULES = (
    "health", "me", "companies", "clusters", "memberships", "categories", "processes",
    "certifications", "products", "capabilities", "supplies", "imports", "needs",
    "ingest", "keys", "match", "plans", "gaps", "kpis", "export", "codes",
    # cooperation (issue #13)
    "requests", "events", "ties", "projects", "project_participants", "project_costs",
    "review",
)
