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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.keys import ApiKey, KeyRole, KeyStore
from graph.errors import AccessDenied
from graph.schema import EntityKind, confidential_fields

__all__ = [
    "CONFIDENTIAL",
    "MEMBER_WRITABLE",
    "OWNER_FIELDS",
    "AuthRequired",
    "Principal",
    "authenticate",
    "redact_record",
    "redact_tree",
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

    def sees_confidential_of(self, company_ids: Iterable[str | None]) -> bool:
        """Admins and analysts see every value; a member only its own company's."""
        return not self.is_member or self.company_id in set(company_ids)


LOCAL_ADMIN = Principal(KeyRole.ADMIN, key_id="local", name="auth off (localhost)")

# Which fields of a relationship name the companies that own it.
OWNER_FIELDS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.COMPANY: ("id",),
    EntityKind.CAPABILITY: ("company_id",),
    EntityKind.COMPANY_PROCESS: ("company_id",),
    EntityKind.HELD_CERTIFICATION: ("company_id",),
    EntityKind.SUPPLY: ("supplier_id", "buyer_id"),
    EntityKind.IMPORT: ("company_id",),
    EntityKind.NEED: ("company_id",),
    EntityKind.PRODUCT: ("maker_id",),
    EntityKind.MEMBERSHIP: ("company_id",),
}

# The kinds a member may write for its own company (the others are admin-only).
MEMBER_WRITABLE = frozenset({
    EntityKind.COMPANY, EntityKind.CAPABILITY, EntityKind.COMPANY_PROCESS,
    EntityKind.HELD_CERTIFICATION, EntityKind.SUPPLY, EntityKind.IMPORT, EntityKind.NEED,
})

# Fields a member sees only for its own company (others get them aggregated): the
# marks in graph/models.py, read through graph.schema.
CONFIDENTIAL: dict[EntityKind, tuple[str, ...]] = {
    k: confidential_fields(k) for k in EntityKind if confidential_fields(k)
}

# Keys that hold a confidential number in an analytic result (match, plans, gaps…).
_CONFIDENTIAL_KEYS = frozenset({
    "capacity_per_year", "unit_price", "volume_per_year", "qty_per_year", "min_order",
    "annual_volume", "capacity", "free_capacity", "idle_capacity", "committed_volume",
    "volume", "price", "cost",
})
_COMPANY_KEYS = ("company_id", "supplier_id", "buyer_id", "company", "supplier", "buyer")


def owners_of(kind: EntityKind, props: Mapping[str, Any]) -> list[str | None]:
    """The companies that own a record of ``kind`` (empty for reference data)."""
    return [props.get(f) for f in OWNER_FIELDS.get(kind, ())]


def redact_record(
    principal: Principal, kind: EntityKind, props: dict[str, Any]
) -> dict[str, Any]:
    """Null the confidential fields of another company's record for a member.

    Adds ``redacted`` (the nulled field names) so a client can tell "hidden"
    from "unknown".
    """
    fields = CONFIDENTIAL.get(kind)
    if not fields:
        return props
    if principal.sees_confidential_of(owners_of(kind, props)):
        props["redacted"] = []
        return props
    hidden = [f for f in fields if props.get(f) is not None]
    for f in fields:
        props[f] = None
    props["redacted"] = hidden
    return props


_HIDDEN_RU = "скрыто: конфиденциальные данные другой компании"
_HIDDEN_EN = "hidden: another company's confidential figures"
# In a ranking, the factor that carries the *partner's* confidential figure.
_PARTNER_FACTOR = {"buyers": "demand", "suppliers": "capacity"}


def redact_tree(principal: Principal, data: Any) -> Any:
    """Null confidential numbers of other companies anywhere in an analytic result.

    A dict that names a company (``company_id``, ``supplier_id``…) other than
    the member's own loses its confidential numbers (capacity, price, volume…),
    and so does everything nested in it; its ``text_ru``/``text_en`` sentences,
    which quote those numbers, are replaced by a note. In a ranking the
    partner's factor (demand of a buyer, free capacity of a supplier) loses its
    raw value and sentence. Totals that name no company stay: they are aggregates.
    """
    if not principal.is_member:
        return data
    partner_factor = _PARTNER_FACTOR.get(data.get("direction", "")) if isinstance(
        data, dict) else None
    return _redact(principal, data, foreign=False, partner_factor=partner_factor)


def _redact(principal: Principal, data: Any, *, foreign: bool,
            partner_factor: str | None) -> Any:
    if isinstance(data, list):
        return [_redact(principal, item, foreign=foreign, partner_factor=partner_factor)
                for item in data]
    if not isinstance(data, dict):
        return data
    named = [data[k] for k in _COMPANY_KEYS if isinstance(data.get(k), str)]
    if named:
        foreign = principal.company_id not in named
    out: dict[str, Any] = {}
    hidden = False
    for key, value in data.items():
        if foreign and key in _CONFIDENTIAL_KEYS and isinstance(value, int | float):
            out[key] = None
            hidden = True
        else:
            out[key] = _redact(principal, value, foreign=foreign, partner_factor=partner_factor)
    if foreign and partner_factor is not None and out.get("name") == partner_factor:
        out["raw"] = None
        hidden = True
    if foreign and partner_factor is not None and isinstance(data.get("factors"), list):
        secret = {t for f in data["factors"] if isinstance(f, dict)
                  and f.get("name") == partner_factor for t in (f.get("text_ru"), f.get("text_en"))}
        for key, note in (("reasons_ru", _HIDDEN_RU), ("reasons_en", _HIDDEN_EN)):
            if isinstance(out.get(key), list):
                out[key] = [note if r in secret else r for r in out[key]]
    if hidden:
        if "text_ru" in out:
            out["text_ru"] = _HIDDEN_RU
        if "text_en" in out:
            out["text_en"] = _HIDDEN_EN
    return out


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
