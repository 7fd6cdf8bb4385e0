"""docker-compose.yml cannot be run here (no Docker engine), so check its shape instead."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_neo4j_service_uses_the_official_526_community_image_with_a_volume_and_healthcheck():
    neo4j = _compose()["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert any(v.endswith(":/data") for v in neo4j["volumes"])
    assert "NEO4J_PASSWORD" in neo4j["environment"]["NEO4J_AUTH"]
    assert neo4j["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
    assert "7687:7687" in neo4j["ports"]


def test_api_waits_for_a_healthy_neo4j_and_is_configured_for_it():
    compose = _compose()
    api = compose["services"]["api"]
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["environment"]["COOPGRAPH_STORE"] == "neo4j"
    assert api["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert (ROOT / api["build"] / "Dockerfile").exists()
    assert "neo4j-data" in compose["volumes"]


def test_env_example_names_every_variable_the_compose_file_requires():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for variable in ("NEO4J_PASSWORD",):
        assert "${" + variable in text
        assert f"{variable}=" in example
