"""Settings of the HTTP API, read from the environment and refused at start-up when unsafe.

=========================  ===========================================  ==========================
variable                   meaning                                      default
=========================  ===========================================  ==========================
COOPGRAPH_AUTH             ``on`` / ``off``: require API keys           ``on``
COOPGRAPH_HOST             the address the server binds (serve sets it) ``127.0.0.1``
COOPGRAPH_KEYS_FILE        the hashed API keys (JSON)                   ``<data>/api_keys.json``
COOPGRAPH_JOBS_DIR         where uploads and ingest jobs live           ``<data>/jobs``
COOPGRAPH_UPLOAD_LIMIT     the largest upload to ``POST /ingest``       ``52428800`` (50 MiB)
COOPGRAPH_BODY_LIMIT       the largest other request body, in bytes     ``1048576`` (1 MiB)
=========================  ===========================================  ==========================

Auth may be switched off only when the server binds a loopback address: an API
without keys on a public interface would hand the cluster's confidential
capacities and prices to anyone, so :func:`load_api_settings` refuses it.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from coopgraph.graph.errors import ConfigError
from coopgraph.graph.settings import load_settings

__all__ = ["ApiSettings", "is_loopback", "load_api_settings"]

_ENV_NAMES = {
    "auth": "COOPGRAPH_AUTH",
    "host": "COOPGRAPH_HOST",
    "keys_file": "COOPGRAPH_KEYS_FILE",
    "jobs_dir": "COOPGRAPH_JOBS_DIR",
    "upload_limit": "COOPGRAPH_UPLOAD_LIMIT",
    "body_limit": "COOPGRAPH_BODY_LIMIT",
}


class ApiSettings(BaseSettings):
    """The API's settings; paths left empty are placed in the store's data directory."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_prefix="", populate_by_name=True)

    auth: bool = Field(default=True, validation_alias=AliasChoices("COOPGRAPH_AUTH"))
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("COOPGRAPH_HOST"))
    keys_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("COOPGRAPH_KEYS_FILE"))
    jobs_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("COOPGRAPH_JOBS_DIR"))
    upload_limit: int = Field(
        default=50 * 1024 * 1024, ge=1, validation_alias=AliasChoices("COOPGRAPH_UPLOAD_LIMIT"))
    body_limit: int = Field(
        default=1024 * 1024, ge=1024, validation_alias=AliasChoices("COOPGRAPH_BODY_LIMIT"))
    # seconds a request waits for a projection being refreshed before it is answered from
    # the previous one (see api.state); 0: never waits — answered from the projection
    # held, which a background worker brings up to the store after each write
    projection_wait: float = Field(
        default=0.0, ge=0, le=600, validation_alias=AliasChoices("COOPGRAPH_PROJECTION_WAIT"))
    # patch the projection from the store's change log (off: rebuild after every write)
    projection_incremental: bool = Field(
        default=True, validation_alias=AliasChoices("COOPGRAPH_PROJECTION_INCREMENTAL"))

    def resolved_keys_file(self) -> Path:
        """The keys file: the configured one, or ``api_keys.json`` in the data directory."""
        return self.keys_file or load_settings().data_dir / "api_keys.json"

    def resolved_jobs_dir(self) -> Path:
        """The jobs directory: the configured one, or ``jobs/`` in the data directory."""
        return self.jobs_dir or load_settings().data_dir / "jobs"

    def check_safe(self) -> None:
        """Raise :class:`ConfigError` when auth is off on a non-loopback address."""
        if not self.auth and not is_loopback(self.host):
            raise ConfigError(
                f"COOPGRAPH_AUTH=off is allowed only when binding a loopback address "
                f"(127.0.0.1, ::1, localhost), not {self.host!r}; create a key with "
                f"`coopgraph keys create --role admin` instead")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host.strip().lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket
    return address.is_loopback


def load_api_settings(**overrides: object) -> ApiSettings:
    """Read and check the API settings; raise :class:`ConfigError` naming each bad variable."""
    try:
        settings = ApiSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{_ENV_NAMES.get(field, field)}: {error['msg']} "
                            f"(got {error.get('input')!r})")
        raise ConfigError("invalid API configuration — " + "; ".join(problems)) from None
    settings.check_safe()
    return settings
