"""Configuration from the environment (and a ``.env`` file), checked at start-up.

=====================  =========================================  ==================
variable               meaning                                    default
=====================  =========================================  ==================
COOPGRAPH_STORE        ``embedded`` or ``neo4j``                  ``embedded``
COOPGRAPH_DATA_DIR     the embedded store's directory             ``./var/data``
NEO4J_URI              e.g. ``bolt://127.0.0.1:7687``             ``bolt://localhost:7687``
NEO4J_USER             Neo4j user                                 ``neo4j``
NEO4J_PASSWORD         Neo4j password                             (empty)
NEO4J_DATABASE         database name                              ``neo4j``
COOPGRAPH_BATCH_SIZE   rows per Neo4j write transaction           ``10000``
=====================  =========================================  ==================
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from coopgraph.graph.errors import ConfigError

__all__ = ["Settings", "load_settings"]

ENV_FILE = ".env"


def _dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (``export``, quotes and comments allowed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


class Settings(BaseModel):
    """CoopGraph's settings; a bad value fails :func:`load_settings` naming the variable.

    Read from the environment (names case-insensitive), then a ``.env`` file in the
    working directory; keyword arguments (field names) win over both. A plain pydantic
    model, not ``pydantic_settings``: that package (asyncio, dotenv, cloud secret
    providers) cost a CLI call 0.15 s of imports.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    store: Literal["embedded", "neo4j"] = Field(
        default="embedded", validation_alias=AliasChoices("COOPGRAPH_STORE"))
    data_dir: Path = Field(
        default=Path("var/data"), validation_alias=AliasChoices("COOPGRAPH_DATA_DIR"))
    neo4j_uri: str = Field(
        default="bolt://localhost:7687", validation_alias=AliasChoices("NEO4J_URI"))
    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USER"))
    neo4j_password: str = Field(default="", validation_alias=AliasChoices("NEO4J_PASSWORD"))
    neo4j_database: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE"))
    batch_size: int = Field(
        default=10_000, ge=100, le=100_000, validation_alias=AliasChoices("COOPGRAPH_BATCH_SIZE"))

    @field_validator("neo4j_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not value.startswith(schemes):
            raise ValueError(f"must start with one of {', '.join(schemes)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        given = dict(data) if isinstance(data, dict) else {}
        sources = [{k.upper(): v for k, v in os.environ.items()},
                   {k.upper(): v for k, v in _dotenv(Path(ENV_FILE)).items()}]
        for field, name in _ENV_NAMES.items():
            if field in given or name in given:
                continue
            for source in sources:
                if name in source:
                    given[name] = source[name]
                    break
        return given


_ENV_NAMES = {
    "store": "COOPGRAPH_STORE",
    "data_dir": "COOPGRAPH_DATA_DIR",
    "neo4j_uri": "NEO4J_URI",
    "neo4j_user": "NEO4J_USER",
    "neo4j_password": "NEO4J_PASSWORD",
    "neo4j_database": "NEO4J_DATABASE",
    "batch_size": "COOPGRAPH_BATCH_SIZE",
}


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise :class:`ConfigError` naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = _ENV_NAMES.get(field, field)
            problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
        raise ConfigError("invalid configuration — " + "; ".join(problems)) from None
