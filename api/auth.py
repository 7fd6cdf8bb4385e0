"""Who is calling, and what they may do: roles, ownership, confidential fields.

Three roles (see :class:`api.keys.KeyRole`):

=========  ===================================  =============================================
role       reads                                writes / runs
=========  ===================================  =============================================
admin      everything                           everything (the cluster centre)
analyst    everything                           plans, gaps, KPIs, match, export; no writes
member     the network; other companies'        its own company's record, capabilities,
           confidential fields only aggregated  processes, certifications, supplies (as
                                                supplier or buyer), imports and needs
=========  ===================================  =============================================

A key comes in the ``X-API-Key`` header or as ``Authorization: Bearer <key>``
(the dashboard may also keep it in the ``coopgraph_key`` cookie). No key → 401,
a key whose role does not allow the action → 403, both as problem documents.

What a member may see of other companies' figures is the policy of
:mod:`graph.confidentiality`; :attr:`Principal.viewer` hands it to the engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from coopgraph.api.keys import ApiKey, KeyRole, KeyStore
from coopgraph.graph.confidentiality import (
    CENTRE,
    CONFIDENTIAL,
    OWNER_FIELDS,
    Viewer,
    can_see_record,
    owners_of,
)
from coopgraph.graph.errors import AccessDenied
from coopgraph.graph.schema import EntityKind

__all__ = [
    "CONFIDENTIAL",
    "MEMBER_WRITABLE",
    "OWNER_FIELDS",
    "AuthRequired",
    "Principal",
    "authenticate",
    "owners_of",
    "redact_record",
]


class AuthRequired(Exception):
    """No valid key was presented (turned into a 401 problem)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Principal:
    """The caller: a role, and for a member the company it acts for."""

    role: KeyRole
    company_id: str | None = None
    key_id: str | None = None
    name: str | None = None

    @property
    def is_member(self) -> bool:
        return self.role is KeyRole.MEMBER

    def require(self, *roles: KeyRole, action: str) -> None:
        """Raise :class:`AccessDenied` unless the caller has one of ``roles``."""
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise AccessDenied(f"a {self.role.value} key may not {action} (allowed: {allowed})")

    def owns(self, company_ids: Iterable[str | None]) -> bool:
        """True for admins, and for a member when its company is among ``company_ids``."""
        if self.role is KeyRole.ADMIN:
            return True
        return self.is_member and self.company_id in set(company_ids)

    @property
    def viewer(self) -> Viewer:
        """Who the outputs are built for: the centre, or a member's company.

        Admins and analysts are the cluster centre and see every figure; a
        member sees what :mod:`graph.confidentiality` allows it.
        """
        if not self.is_member:
            return CENTRE
        if not self.company_id:  # never the centre by accident
            raise AccessDenied("a member key must name its company")
        return Viewer(self.company_id)


LOCAL_ADMIN = Principal(KeyRole.ADMIN, key_id="local", name="auth off (localhost)")

# The kinds a member may write for its own company (the others are admin-only).
MEMBER_WRITABLE = frozenset({
    EntityKind.COMPANY, EntityKind.CAPABILITY, EntityKind.COMPANY_PROCESS,
    EntityKind.HELD_CERTIFICATION, EntityKind.SUPPLY, EntityKind.IMPORT, EntityKind.NEED,
    EntityKind.TIE,  # a contract it is a party to (requests have their own routes)
})


def redact_record(
    principal: Principal, kind: EntityKind, props: dict[str, Any]
) -> dict[str, Any]:
    """Null the confidential fields of another company's record for a member.

    Adds ``redacted`` (the nulled field names) so a client can tell "hidden"
    from "unknown". The rule is :func:`graph.confidentiality.can_see_record`.
    """
    fields = CONFIDENTIAL.get(kind)
    if not fields:
        return props
    if can_see_record(principal.viewer, kind, props):
        props["redacted"] = []
        return props
    hidden = [f for f in fields if props.get(f) is not None]
    for f in fields:
        props[f] = None
    props["redacted"] = hidden
    return props


def principal_for(key: ApiKey) -> Principal:
    """The principal a stored key stands for."""
    return Principal(key.role, company_id=key.company_id, key_id=key.id, name=key.name)


def extract_key(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """The key presented in ``X-API-Key``, ``Authorization: Bearer`` or the cookie."""
    value = headers.get("x-api-key")
    if value:
        return value.strip()
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = cookies.get("coopgraph_key")
    return cookie.strip() if cookie else None


def authenticate(
    keys: KeyStore | None, headers: Mapping[str, str], cookies: Mapping[str, str]
) -> Principal:
    """The caller's principal; :class:`AuthRequired` without a valid key.

    ``keys=None`` means auth is off (allowed on loopback only): everyone is admin.
    """
    if keys is None:
        return LOCAL_ADMIN
    presented = extract_key(headers, cookies)
    if not presented:
        hint = (" (no keys exist yet: create one with `coopgraph keys create --role admin`)"
                if keys.is_empty() else "")
        raise AuthRequired("send an API key in the X-API-Key header or as "
                           "'Authorization: Bearer <key>'" + hint)
    record = keys.verify(presented)
    if record is None:
        raise AuthRequired("the API key is unknown or revoked")
    return principal_for(record)
