"""API keys: random secrets shown once, kept only as SHA-256 hashes in the store.

A key reads ``cg_<id>_<secret>``: ``id`` (8 hex digits) names the record,
``secret`` is 32 random bytes. Because the secret is random and long, a fast
hash is enough (nobody can brute-force 256 bits); a slow password hash would
only make every request slower. Hashes are compared in constant time.

The records live in the graph store as the internal kind ``api_key``
(:class:`graph.models.ServerKey`), so every API replica over the same store
reads the same keys: :class:`KeyStore` keeps no copy between calls, and a key
revoked through one replica (or ``coopgraph keys revoke``) is refused by all of
them from the next request on. That costs one store read per request (an
in-memory lookup for the embedded store, one indexed round trip for Neo4j).

Keys used to live in a JSON file (``api_keys.json`` in the data directory,
:class:`KeysFile`). The first :class:`KeyStore` that finds such a file imports
its keys (a key already in the store wins) and renames the file
``api_keys.json.migrated``, so the import happens once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import cast

from pydantic import BaseModel, Field, ValidationError

from coopgraph.graph.errors import ConfigError, InvalidQuery, NotFound
from coopgraph.graph.models import Record, ServerKey
from coopgraph.graph.schema import PROVENANCE_FIELDS, EntityKind
from coopgraph.graph.store import GraphStore

__all__ = ["ApiKey", "KeyRole", "KeyStore", "KeysFile", "hash_secret"]

_PREFIX = "cg_"



def _checked_role(role: KeyRole | str, company_id: str | None) -> KeyRole:
    """The key's role, refused with :class:`InvalidQuery` when it does not fit the company:
    a member key needs one, another role must have none."""
    role = KeyRole(role)
    if role is KeyRole.MEMBER and not company_id:
        raise InvalidQuery("a member key needs --company (the company it acts for)")
    if role is not KeyRole.MEMBER and company_id:
        raise InvalidQuery(f"only member keys are bound to a company, not {role.value} keys")
    return role

class KeyRole(StrEnum):
    """What a key may do (see ``api.auth``)."""

    ADMIN = "admin"  # the cluster centre: everything
    ANALYST = "analyst"  # reads everything, runs plans/gaps/KPIs/match/export; no writes
    MEMBER = "member"  # one company: reads the network, writes its own data


class ApiKey(BaseModel):
    """One stored key (never the secret itself)."""

    id: str
    name: str | None = None
    role: KeyRole
    company_id: str | None = None
    hash: str = Field(description="sha256 of the whole key, hex")
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_secret(key: str) -> str:
    """The hex SHA-256 of a whole key string."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeysFile:
    """The former keys file (JSON, mode 0600): read once by :class:`KeyStore` to migrate it.

    It can still be written (``create``/``revoke``), which is how tests make a file
    to migrate; nothing in the server writes it any more.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._keys: dict[str, ApiKey] = {}
        self._stamp: tuple[int, int] | None = None
        self._mutex = threading.Lock()

    # --- reading ----------------------------------------------------------------

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _read(self) -> dict[str, ApiKey]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {k["id"]: ApiKey.model_validate(k) for k in raw.get("keys", [])}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            raise ConfigError(f"the API keys file {self.path} cannot be read: {exc}") from None

    def _refresh(self) -> dict[str, ApiKey]:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._mutex:
                keys = self._read()
                self._keys, self._stamp = keys, stamp
        return self._keys

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        return sorted(self._refresh().values(), key=lambda k: (k.created_at, k.id))

    def is_empty(self) -> bool:
        """True when no active key exists."""
        return not any(k.active for k in self._refresh().values())

    def verify(self, presented: str) -> ApiKey | None:
        """The active key matching ``presented``, or ``None``."""
        presented = presented.strip()
        if not presented.startswith(_PREFIX):
            return None
        key_id = presented[len(_PREFIX):].split("_", 1)[0]
        record = self._refresh().get(key_id)
        if record is None or not record.active:
            return None
        if not hmac.compare_digest(record.hash, hash_secret(presented)):
            return None
        return record

    # --- writing ----------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[dict[str, ApiKey]]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with os.fdopen(os.open(lock_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600),
                       "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                keys = self._read()
                yield keys
                self._write(keys)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, keys: dict[str, ApiKey]) -> None:
        data = {"format": 1, "keys": [k.model_dump(mode="json") for k in keys.values()]}
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def create(
        self, role: KeyRole | str, *, company_id: str | None = None, name: str | None = None
    ) -> tuple[ApiKey, str]:
        """Make a key; return its record and the secret key string (shown only now).

        Raises
        ------
        InvalidQuery
            When a member key has no company, or another role has one.
        """
        role = _checked_role(role, company_id)
        with self._locked() as keys:
            key_id = secrets.token_hex(4)
            while key_id in keys:
                key_id = secrets.token_hex(4)
            secret = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
            record = ApiKey(
                id=key_id, name=name, role=role, company_id=company_id,
                hash=hash_secret(secret),
                created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            )
            keys[key_id] = record
        return record, secret

    def revoke(self, key_id: str) -> ApiKey:
        """Mark a key revoked (kept in the file for the record); :class:`NotFound` if unknown."""
        with self._locked() as keys:
            record = keys.get(key_id)
            if record is None:
                raise NotFound(f"no API key with id {key_id!r}")
            if record.revoked_at is None:
                record.revoked_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return record


def _parse_id(presented: str) -> str | None:
    presented = presented.strip()
    if not presented.startswith(_PREFIX):
        return None
    return presented[len(_PREFIX):].split("_", 1)[0] or None


class KeyStore:
    """The keys in the graph store: create, list, revoke, and verify presented keys.

    ``store`` is the store or a function that opens it (the API's
    :meth:`api.state.StoreHolder.get`, so that a store that is down answers 503
    rather than stopping the app from starting). ``legacy_file`` is the former
    keys file, migrated on first use.
    """

    def __init__(self, store: GraphStore | Callable[[], GraphStore], *,
                 legacy_file: str | Path | None = None) -> None:
        self._opener: Callable[[], GraphStore] = (
            store if callable(store) and not isinstance(store, GraphStore)
            else (lambda: cast(GraphStore, store)))
        self.legacy_file = Path(legacy_file) if legacy_file is not None else None
        self._migrated = self.legacy_file is None
        self._mutex = threading.Lock()

    def _store(self) -> GraphStore:
        store = self._opener()
        if not self._migrated:
            with self._mutex:
                if not self._migrated:
                    self._migrate(store)
                    self._migrated = True
        return store

    def _migrate(self, store: GraphStore) -> int:
        """Import the former keys file once; how many keys it added to the store."""
        assert self.legacy_file is not None
        if not self.legacy_file.exists():
            return 0
        records = KeysFile(self.legacy_file).list()  # ConfigError when unreadable
        new = [_to_record(k, source="api_keys.json") for k in records
               if not store.exists(EntityKind.API_KEY, k.id)]
        if new:
            store.upsert(new)
        # FileNotFoundError: another replica migrated it meanwhile (same keys, same result)
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.legacy_file,
                       self.legacy_file.with_name(self.legacy_file.name + ".migrated"))
        return len(new)

    def migrate(self) -> int:
        """Import the former keys file now (``coopgraph keys migrate``); keys added."""
        with self._mutex:
            added = self._migrate(self._opener()) if self.legacy_file is not None else 0
            self._migrated = True
        return added

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        keys = [_from_record(r) for r in self._store().iter_all(EntityKind.API_KEY)]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def is_empty(self) -> bool:
        """True when no active key exists."""
        return not any(k.active for k in self.list())

    def verify(self, presented: str) -> ApiKey | None:
        """The active key matching ``presented``, or ``None`` (read from the store now)."""
        key_id = _parse_id(presented)
        if key_id is None:
            return None
        store = self._store()
        try:
            record = _from_record(store.get(EntityKind.API_KEY, key_id))
        except (NotFound, InvalidQuery):
            return None
        if not record.active:
            return None
        if not hmac.compare_digest(record.hash, hash_secret(presented.strip())):
            return None
        return record

    def create(
        self, role: KeyRole | str, *, company_id: str | None = None, name: str | None = None,
        source: str = "cli",
    ) -> tuple[ApiKey, str]:
        """Make a key; return its record and the secret key string (shown only now).

        Raises
        ------
        InvalidQuery
            When a member key has no company, or another role has one.
        """
        role = _checked_role(role, company_id)
        store = self._store()
        key_id = secrets.token_hex(4)
        while store.exists(EntityKind.API_KEY, key_id):
            key_id = secrets.token_hex(4)
        secret = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            id=key_id, name=name, role=role, company_id=company_id,
            hash=hash_secret(secret),
            created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        )
        store.upsert([_to_record(record, source=source)])
        return record, secret

    def revoke(self, key_id: str, *, source: str = "cli") -> ApiKey:
        """Mark a key revoked (kept for the record); :class:`NotFound` if unknown."""
        store = self._store()
        try:
            record = _from_record(store.get(EntityKind.API_KEY, key_id))
        except (NotFound, InvalidQuery):
            raise NotFound(f"no API key with id {key_id!r}") from None
        if record.revoked_at is None:
            record.revoked_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
            store.upsert([_to_record(record, source=source)])
        return record


def _to_record(key: ApiKey, *, source: str) -> ServerKey:
    return ServerKey(**key.model_dump(), source=source)


def _from_record(record: Record) -> ApiKey:
    return ApiKey.model_validate(record.model_dump(exclude=set(PROVENANCE_FIELDS)))
