"""List, get, upsert and delete routes for one stored kind, built from the schema.

Every resource router calls :func:`add_crud_routes`; custom routes (the
category tree, a product's BOM) are added to the router *before* it, so that
``/categories/tree`` is not taken for a category code.

Routes (``{key}`` is the kind's key fields as path segments, e.g.
``/capabilities/{company_id}/{category}``):

- ``GET ""`` — a page, filtered by any field given as a query parameter
- ``GET {key}`` — one record (404 problem when unknown)
- ``POST ""`` — create or replace (201 when new, 200 when replaced)
- ``PUT {key}`` — replace at that key (the body's key must agree)
- ``DELETE {key}`` — under the kind's delete policy (``graph.schema.DELETE_POLICY``):
  204 when only the record went; 200 listing what went with it (``deleted``,
  ``detached``) when the delete cascaded; 409 (``has-dependents``, listing them)
  when a ``restrict`` kind is still referred to; 404 when there was nothing to
  delete. ``?cascade=true`` (admin only) cascades whatever the policy.

Members write only their own company's records and see other companies'
confidential fields nulled (see :mod:`api.auth`). What members may delete (their
capabilities, supplies, needs…) nothing refers to, so their deletes never
cascade; ``?cascade=true`` from a member is a 403.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the generated
# body models, which are local variables, as real annotation objects.

import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_origin

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from coopgraph.api.auth import CONFIDENTIAL, MEMBER_WRITABLE, Principal, owners_of, redact_record
from coopgraph.api.deps import PrincipalDep, StoreDep
from coopgraph.api.keys import KeyRole
from coopgraph.api.params import Id
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.schemas import _NAMES, FAMILIES
from coopgraph.graph.errors import AccessDenied, InvalidQuery, ValidationFailed
from coopgraph.graph.models import Company, Record
from coopgraph.graph.regions import canonical_region
from coopgraph.graph.schema import (
    DELETE_POLICY,
    KINDS,
    PROVENANCE_FIELDS,
    EntityKind,
    OnDelete,
    references_from,
)
from coopgraph.graph.store import MAX_OFFSET, GraphStore
from coopgraph.ingest.gazetteer import place_company

__all__ = ["Deleted", "add_crud_routes", "check_write", "public_props"]

_PAGING = {"offset", "limit"}


class Deleted(BaseModel):
    """What a cascading delete removed (``deleted``) or changed (``detached``), by kind."""

    deleted: dict[str, list[list[str]]]
    detached: dict[str, list[list[str]]]


def _filterable(kind: EntityKind) -> list[str]:
    """Fields usable as filters: every domain field (lists match when they contain the value)."""
    return [n for n in KINDS[kind].model.model_fields if n not in PROVENANCE_FIELDS]


def _filters_dependency(kind: EntityKind) -> Callable[..., dict[str, Any]]:
    """A dependency taking each filterable field as an optional query parameter."""
    names = _filterable(kind)
    allowed = set(names) | _PAGING

    def filters(request: Request, **values: str | None) -> dict[str, Any]:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise InvalidQuery(
                f"unknown filter(s) {', '.join(map(repr, unknown))} for "
                f"{_NAMES[kind][1].lower()}; filters: {', '.join(names)}")
        return {k: v for k, v in values.items() if v is not None}

    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=Request)]
    ids = _id_fields(kind)
    params += [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[Id | None if name in ids else str | None, Query(
                description=f"Only records whose {name} "
                f"{'contains' if _is_list(kind, name) else 'equals'} this value")])
        for name in names
    ]
    filters.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return filters


def _id_fields(kind: EntityKind) -> set[str]:
    """The fields holding keys (the record's own, or the ones it refers to): filtered as ids."""
    return set(KINDS[kind].key_fields) | {r.field for r in references_from(kind)}


def _is_list(kind: EntityKind, name: str) -> bool:
    return get_origin(KINDS[kind].model.model_fields[name].annotation) is list


def _key_dependency(kind: EntityKind) -> Callable[..., tuple[str, ...]]:
    """A dependency reading the kind's key fields from the path."""
    fields = KINDS[kind].key_fields

    def key(**parts: str) -> tuple[str, ...]:
        return tuple(parts[f] for f in fields)

    key.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(f, inspect.Parameter.KEYWORD_ONLY,
                          annotation=Annotated[Id, Path(description=f"The record's {f}")])
        for f in fields
    ])
    return key


def public_props(principal: Principal, kind: EntityKind, record: Record) -> dict[str, Any]:
    """A record as the caller may see it (confidential fields nulled for other members)."""
    return redact_record(principal, kind, record.model_dump(mode="json"))


def check_write(principal: Principal, kind: EntityKind, props: dict[str, Any],
                *, delete: bool = False) -> None:
    """Raise :class:`AccessDenied` unless the caller may write (or delete) this record."""
    if principal.role is KeyRole.ADMIN:
        return
    if principal.role is KeyRole.ANALYST:
        raise AccessDenied("an analyst key reads and analyses but may not change data")
    what = _NAMES[kind][1].lower()
    if kind not in MEMBER_WRITABLE:
        raise AccessDenied(f"{what} are shared reference data: only an admin key may change them")
    if kind is EntityKind.COMPANY and delete:
        raise AccessDenied("only an admin key may delete a company")
    owners = owners_of(kind, props)
    if not principal.owns(owners):
        named = " or ".join(repr(o) for o in owners if o)
        raise AccessDenied(
            f"a member key for company {principal.company_id!r} may write only its own "
            f"company's {what}, not those of {named}")


def _build(kind: EntityKind, body: BaseModel) -> Record:
    """The domain record for a Create body (the domain model's own checks run here).

    As a load does: a region is stored under its official name (``Липецкая обл.``,
    ``Lipetsk Oblast``, ``48`` → ``Липецкая область``; graph/regions.py), and a company
    without coordinates gets its municipality's, flagged approximate (ingest/gazetteer.py).
    """
    record = KINDS[kind].model.model_validate({**body.model_dump(), "source": "api"})
    if isinstance(record, Company):
        return place_company(record)[0]
    region = getattr(record, "region", None)
    if isinstance(region, str) and (official := canonical_region(region)) not in (None, region):
        return record.model_copy(update={"region": official})
    return record


def _upsert(store: GraphStore, principal: Principal, kind: EntityKind, body: BaseModel,
            response: Response) -> dict[str, Any]:
    record = _build(kind, body)
    props = record.model_dump(mode="json")
    check_write(principal, kind, props)
    kind_spec = KINDS[kind]
    key = kind_spec.key_of(props)
    existed = store.exists(kind, key)
    store.upsert([record])
    response.status_code = 200 if existed else 201
    return public_props(principal, kind, store.get(kind, key))


def add_crud_routes(router: APIRouter, kind: EntityKind) -> APIRouter:
    """Add the five routes of ``kind`` to ``router`` (see the module docstring)."""
    family = FAMILIES[kind]
    single, plural = _NAMES[kind]
    noun = single.lower() if kind is not EntityKind.BOM_LINE else "BOM line"
    nouns = plural.lower() if kind is not EntityKind.BOM_LINE else "BOM lines"
    key_fields = KINDS[kind].key_fields
    key_path = "/" + "/".join("{" + f + "}" for f in key_fields)
    create_model, public_model, page_model = family.create, family.public, family.page
    filters_dep = _filters_dependency(kind)
    key_dep = _key_dependency(kind)
    confidential = set(CONFIDENTIAL.get(kind, ()))
    responses: dict[int | str, dict[str, Any]] = dict(PROBLEM_RESPONSES)

    def list_records(
        principal: PrincipalDep,
        store: StoreDep,
        filters: Annotated[dict[str, Any], Depends(filters_dep)],
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="Page size")] = 50,
    ) -> dict[str, Any]:
        if principal.is_member and confidential & set(filters):
            hidden = ", ".join(sorted(confidential & set(filters)))
            raise AccessDenied(f"a member key may not filter by confidential field(s) {hidden}")
        page = store.list(kind, filters=filters, offset=offset, limit=limit)
        return {"data": [public_props(principal, kind, r) for r in page.items],
                "total": page.total, "offset": page.offset, "limit": page.limit}

    def get_record(
        principal: PrincipalDep,
        store: StoreDep,
        key: Annotated[tuple[str, ...], Depends(key_dep)],
    ) -> dict[str, Any]:
        return public_props(principal, kind, store.get(kind, key))

    def create_record(
        principal: PrincipalDep,
        store: StoreDep,
        body: create_model,  # type: ignore[valid-type]
        response: Response,
    ) -> dict[str, Any]:
        return _upsert(store, principal, kind, body, response)

    def replace_record(
        principal: PrincipalDep,
        store: StoreDep,
        key: Annotated[tuple[str, ...], Depends(key_dep)],
        body: create_model,  # type: ignore[valid-type]
        response: Response,
    ) -> dict[str, Any]:
        given = body.model_dump()  # type: ignore[attr-defined]
        problems = [(f, f"is {given.get(f)!r} in the body but {k!r} in the path")
                    for f, k in zip(key_fields, key, strict=True) if str(given.get(f)) != k]
        if problems:
            raise ValidationFailed("the body's key differs from the path", problems)
        return _upsert(store, principal, kind, body, response)

    def delete_record(
        principal: PrincipalDep,
        store: StoreDep,
        key: Annotated[tuple[str, ...], Depends(key_dep)],
        cascade: Annotated[bool, Query(
            description="Admin only: delete (or detach) what refers to it, whatever the "
            "kind's policy")] = False,
    ) -> Response:
        check_write(principal, kind, dict(zip(key_fields, key, strict=True)), delete=True)
        if cascade and principal.role is not KeyRole.ADMIN:
            raise AccessDenied("only an admin key may delete with cascade=true")
        removal = store.remove(kind, [key], cascade=cascade)
        if not removal.count:
            store.get(kind, key)  # raises NotFound with the store's message
        if not removal.cascaded:
            return Response(status_code=204)
        return JSONResponse(Deleted.model_validate(removal.summary()).model_dump())

    router.add_api_route(
        "", list_records, methods=["GET"], response_model=page_model, responses=responses,
        summary=f"List {nouns}", name=f"list_{kind.value}",
        description=f"A page of {nouns} in key order, filtered by field values.")
    router.add_api_route(
        key_path, get_record, methods=["GET"], response_model=public_model, responses=responses,
        summary=f"Get one {noun}", name=f"get_{kind.value}",
        description=f"The {noun} with this key; 404 when there is none.")
    router.add_api_route(
        "", create_record, methods=["POST"], response_model=public_model, status_code=201,
        responses=responses, summary=f"Create or replace a {noun}", name=f"upsert_{kind.value}",
        description=f"Upsert one {noun}: 201 when it is new, 200 when it replaced one.")
    router.add_api_route(
        key_path, replace_record, methods=["PUT"], response_model=public_model,
        responses=responses, summary=f"Replace the {noun} at this key",
        name=f"replace_{kind.value}",
        description=f"Upsert one {noun}; the key in the body must match the path.")
    rule = {OnDelete.CASCADE: "what refers to it goes with it (200 lists it)",
            OnDelete.RESTRICT: "refused with 409 while other records refer to it, "
                               "unless ?cascade=true (admin)"}
    rule_text = rule[DELETE_POLICY[kind]] if kind in DELETE_POLICY else "nothing refers to it"
    router.add_api_route(
        key_path, delete_record, methods=["DELETE"], status_code=204,
        responses={**responses,
                   200: {"model": Deleted, "description": "Deleted, with what went with it"},
                   409: {**PROBLEM_RESPONSES[422], "description": "Other records refer to it"}},
        summary=f"Delete a {noun}", name=f"delete_{kind.value}",
        description=f"Delete the {noun}: {rule_text}.")
    return router
