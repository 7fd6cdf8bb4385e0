"""Configuration: bad values fail naming the variable; ``coopgraph stats`` on both stores."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.errors import ConfigError
from coopgraph.graph.settings import load_settings
from tests.graph_factories import full_graph

ROOT = Path(__file__).resolve().parents[1]
_VARS = ("COOPGRAPH_STORE", "COOPGRAPH_DATA_DIR", "COOPGRAPH_BATCH_SIZE", "NEO4J_URI",
         "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No CoopGraph variables and no ``.env`` file (settings read one from the cwd)."""
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_defaults(clean_env):
    settings = load_settings()
    assert settings.store == "embedded"
    assert settings.neo4j_database == "neo4j"
    assert settings.batch_size == 10_000


@pytest.mark.parametrize("name, value", [
    ("COOPGRAPH_STORE", "mongodb"),
    ("COOPGRAPH_STORE", ""),
    ("NEO4J_URI", "http://localhost:7474"),
    ("NEO4J_URI", "localhost:7687"),
    ("COOPGRAPH_BATCH_SIZE", "lots"),
    ("COOPGRAPH_BATCH_SIZE", "5"),
    ("COOPGRAPH_BATCH_SIZE", "10000000"),
])
def test_bad_value_is_a_config_error_naming_the_variable(clean_env, name: str, value: str):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert name in str(info.value)
    assert repr(value) in str(info.value)


def test_env_file_is_read_and_checked_too(clean_env, tmp_path: Path):
    (tmp_path / ".env").write_text("COOPGRAPH_STORE=cassandra\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="COOPGRAPH_STORE"):
        load_settings()


def test_stats_json_on_the_embedded_default(clean_env, tmp_path: Path):
    clean_env.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "data"))
    from coopgraph.graph.embedded import EmbeddedStore

    EmbeddedStore(tmp_path / "data").upsert(full_graph())
    result = CliRunner().invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["store"] == "embedded"
    assert info["counts"]["company"] == 3 and info["counts"]["need"] == 1
    assert info["revision"] == 1


@pytest.mark.neo4j
def test_stats_json_on_neo4j(clean_env, neo4j_server, neo4j_store):
    neo4j_store.upsert(full_graph())
    clean_env.setenv("COOPGRAPH_STORE", "neo4j")
    clean_env.setenv("NEO4J_URI", neo4j_server.uri)
    clean_env.setenv("NEO4J_USER", neo4j_server.user)
    clean_env.setenv("NEO4J_PASSWORD", neo4j_server.password)
    result = CliRunner().invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["store"] == "neo4j" and info["uri"] == neo4j_server.uri
    assert info["counts"] == neo4j_store.stats()
    assert info["counts"]["capability"] == 1
    assert info["revision"] == neo4j_store.revision()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_stats_against_a_closed_port_is_one_line_without_traceback(tmp_path: Path):
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if k not in _VARS}
    env.update(COOPGRAPH_STORE="neo4j", NEO4J_URI=f"bolt://127.0.0.1:{port}",
               NEO4J_PASSWORD="whatever")
    proc = subprocess.run([sys.executable, "-m", "coopgraph.api.cli", "stats"], cwd=tmp_path, env={
        **env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error" in lines[0] and f"127.0.0.1:{port}" in lines[0]
    assert "unreachable" in lines[0]
    assert proc.stdout == ""


def test_stats_with_a_bad_setting_names_it(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in _VARS}
    env.update(COOPGRAPH_STORE="oracle", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "coopgraph.api.cli", "stats"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "COOPGRAPH_STORE" in proc.stderr and "Traceback" not in proc.stderr
