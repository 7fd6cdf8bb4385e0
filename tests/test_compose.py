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


# --- profile "replicas": two API replicas behind nginx (issue #15) ---------------------


def _replicas() -> tuple[dict, list[str]]:
    services = _compose()["services"]
    names = sorted(n for n, s in services.items()
                   if "replicas" in s.get("profiles", []) and s.get("build"))
    return services, names


def test_replicas_profile_runs_two_api_replicas_configured_like_the_api():
    services, names = _replicas()
    assert len(names) == 2, names
    api = services["api"]
    assert "profiles" not in api and "profiles" not in services["neo4j"]  # the default stays
    for name in names:
        replica = services[name]
        assert replica["build"] == api["build"] and replica["command"] == api["command"]
        assert replica["environment"] == api["environment"]
        assert replica["depends_on"]["neo4j"]["condition"] == "service_healthy"
        assert "ports" not in replica, f"{name} is reached through the proxy only"
    # no shared local state: each replica has a volume of its own, none the single API's
    volumes = [services[n]["volumes"][0].split(":")[0] for n in names]
    assert len(set(volumes)) == 2 and api["volumes"][0].split(":")[0] not in volumes
    assert set(volumes) <= set(_compose()["volumes"])


def test_replicas_proxy_is_official_nginx_with_its_config_in_the_repository():
    services, names = _replicas()
    proxy = next(s for s in services.values()
                 if "replicas" in s.get("profiles", []) and "image" in s)
    repository, _, tag = proxy["image"].partition(":")
    assert repository == "nginx" and tag  # the official image, a pinned tag
    assert sorted(proxy["depends_on"]) == names
    assert proxy["ports"] == ["8080:80"]
    mounts = [v.split(":") for v in proxy["volumes"]]
    source = next(m[0] for m in mounts if m[1] == "/etc/nginx/conf.d/default.conf")
    config = (ROOT / source).read_text(encoding="utf-8")
    # every replica is an upstream server on the port its command serves
    upstream = config[config.index("upstream"):config.index("}")]
    for name in names:
        command = services[name]["command"]
        port = command[command.index("--port") + 1]
        assert f"server {name}:{port}" in upstream, (name, upstream)
    assert upstream.count("server ") == len(names)
    assert "listen 80;" in config and "proxy_pass http://" in config
    # an upload the API may take (50 MiB by default) passes the proxy
    size = config.split("client_max_body_size", 1)[1].split(";", 1)[0].strip()
    assert size.endswith("m") and int(size[:-1]) >= 50, size


def test_the_proxy_config_ships_with_the_repository_not_the_wheel():
    # compose mounts it from the checkout; a relative path that exists there
    services, _ = _replicas()
    source = services["proxy"]["volumes"][0].split(":")[0]
    assert source.startswith("./") and (ROOT / source).is_file()
