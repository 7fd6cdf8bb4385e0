"""``GET /export/graphml``: the graph as GraphML, for Gephi, yEd or networkx.

``view=network`` (the default) is the cooperation network of
``queries.export.write_graphml``: companies and their supply links.
``view=full`` is every node and relationship of the store; GraphML has no list
type, so list properties are joined with ``|`` (the separator the CSV files use).
Admins and analysts only: the export carries every confidential figure.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import networkx as nx
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from coopgraph.api.deps import AnalystDep
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.routes._engine import engine
from coopgraph.api.state import StoreHolder
from coopgraph.graph.schema import KINDS, NODE_KINDS, REL_KINDS
from coopgraph.graph.store import Snapshot

__all__ = ["router", "snapshot_to_graphml"]

router = APIRouter(prefix="/export", tags=["export"], responses=PROBLEM_RESPONSES)


def _attrs(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, list):
            out[key] = "|".join(str(v) for v in value)
        elif value is not None:
            out[key] = value
    return out


def snapshot_to_graphml(snapshot: Snapshot) -> bytes:
    """The snapshot as a GraphML document (nodes ``<Label>:<key>``, edges typed by ``type``)."""
    graph = nx.MultiDiGraph()
    for kind in NODE_KINDS:
        spec = KINDS[kind]
        if spec.internal:  # API keys, ingest jobs: the server's, not the graph's
            continue
        for row in snapshot.rows(kind):
            graph.add_node(f"{spec.label}:{spec.key_text(row)}", label=spec.label, **_attrs(row))
    for kind in REL_KINDS:
        spec = KINDS[kind]
        for row in snapshot.rows(kind):
            start_kind, start = spec.start_of(row)
            end_kind, end = spec.end_of(row)
            graph.add_edge(f"{KINDS[start_kind].label}:{start}", f"{KINDS[end_kind].label}:{end}",
                           key=f"{spec.rel_type}:{spec.key_text(row)}", type=spec.rel_type,
                           **_attrs(row))
    buffer = io.BytesIO()
    write_safe_graphml = engine("coopgraph.queries.export", "write_safe_graphml")
    write_safe_graphml(graph, buffer)  # drops what XML 1.0 forbids from ids and values
    return buffer.getvalue()


@router.get("/graphml", response_class=Response,
            responses={200: {"content": {"application/graphml+xml": {}},
                             "description": "The graph as GraphML"}})
def export_graphml(
    principal: AnalystDep,
    request: Request,
    view: Annotated[Literal["network", "full"], Query(
        description="'network': companies and supply links; 'full': every node and link")
    ] = "network",
) -> Response:
    """The cooperation network (or the whole graph) as a GraphML file (admin or analyst)."""
    holder: StoreHolder = request.app.state.holder
    if view == "full":
        content = snapshot_to_graphml(holder.get().snapshot())
    else:
        write_graphml = engine("coopgraph.queries.export", "write_graphml")
        buffer = io.BytesIO()
        write_graphml(holder.projection(), buffer)
        content = buffer.getvalue()
    return Response(content, media_type="application/graphml+xml",
                    headers={"Content-Disposition":
                             f'attachment; filename="coopgraph-{view}.graphml"'})
