"""API keys: hashed storage in the store, verification, revocation, migration of the former
keys file, the ``/keys`` routes and the ``coopgraph keys`` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.api.keys import KeysFile, KeyStore, hash_secret
from coopgraph.api.main import create_app
from coopgraph.api.settings import ApiSettings
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.graph.models import Company
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from tests.api_support import assert_problem


def test_secret_is_stored_only_hashed(store: GraphStore) -> None:
    ks = KeyStore(store)
    record, secret = ks.create("admin", name="centre")
    stored = [r.model_dump(mode="json") for r in store.iter_all(EntityKind.API_KEY)]
    assert len(stored) == 1 and stored[0]["hash"] == hash_secret(secret)
    text = json.dumps(stored)
    assert secret not in text and secret.split("_", 2)[2] not in text
    assert ks.verify(secret) == record


def test_former_keys_file_is_migrated_once(store: GraphStore, tmp_path: Path) -> None:
    legacy = KeysFile(tmp_path / "keys.json")
    kept, kept_secret = legacy.create("analyst", name="old")
    gone, gone_secret = legacy.create("admin")
    legacy.revoke(gone.id)
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    ks = KeyStore(store, legacy_file=tmp_path / "keys.json")
    assert ks.verify(kept_secret) == kept and ks.verify(gone_secret) is None
    assert not (tmp_path / "keys.json").exists()
    assert (tmp_path / "keys.json.migrated").exists()
    # a key revoked in the store stays revoked if an old copy of the file turns up
    ks.revoke(kept.id)
    (tmp_path / "keys.json.migrated").rename(tmp_path / "keys.json")
    again = KeyStore(store, legacy_file=tmp_path / "keys.json")
    assert again.verify(kept_secret) is None
    assert sorted(k.id for k in again.list()) == sorted([kept.id, gone.id])


def test_two_keys_differ_and_verify_separately(store: GraphStore) -> None:
    ks = KeyStore(store)
    a, sa = ks.create("analyst")
    b, sb = ks.create("member", company_id="x")
    assert sa != sb and a.id != b.id
    assert ks.verify(sa) == a and ks.verify(sb) == b
    assert ks.verify(sa[:-1]) is None and ks.verify("") is None


def test_revoke(store: GraphStore) -> None:
    ks = KeyStore(store)
    record, secret = ks.create("admin")
    ks.revoke(record.id)
    assert ks.verify(secret) is None
    assert ks.list()[0].revoked_at is not None
    with pytest.raises(NotFound):
        ks.revoke("ffffffff")


def test_member_needs_a_company_and_others_do_not(store: GraphStore) -> None:
    ks = KeyStore(store)
    with pytest.raises(InvalidQuery, match="--company"):
        ks.create("member")
    with pytest.raises(InvalidQuery, match="only member keys"):
        ks.create("admin", company_id="x")
    with pytest.raises(ValueError):
        ks.create("root")


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(data))
    monkeypatch.delenv("COOPGRAPH_KEYS_FILE", raising=False)
    with EmbeddedStore(data) as store:
        store.upsert([Company(id="sup1", name="S")])
    return data


def test_cli_create_list_revoke(cli_env: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--role", "member", "--company", "sup1",
                                  "--name", "Гидравлика"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("cg_")
    store = EmbeddedStore(cli_env)
    ks = KeyStore(store)
    record = ks.verify(secret)
    assert record is not None and record.company_id == "sup1" and record.name == "Гидравлика"

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and record.id in listed.output and secret not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", record.id])
    assert revoked.exit_code == 0 and ks.verify(secret) is None
    assert "revoked" in runner.invoke(app, ["keys", "list"]).output
    store.close()


def test_cli_migrates_the_former_keys_file(cli_env: Path) -> None:
    _, secret = KeysFile(cli_env / "api_keys.json").create("admin", name="before")
    result = CliRunner().invoke(app, ["keys", "migrate"])
    assert result.exit_code == 0 and "imported 1 key" in result.output, result.output
    with EmbeddedStore(cli_env) as store:
        record = KeyStore(store).verify(secret)
    assert record is not None and record.name == "before"


def test_keys_routes_create_list_revoke(store: GraphStore, tmp_path: Path) -> None:
    store.upsert([Company(id="sup1", name="S")])
    admin = KeyStore(store).create("admin")[1]
    client = TestClient(create_app(ApiSettings(keys_file=tmp_path / "k.json",
                                               jobs_dir=tmp_path / "jobs"), store),
                        raise_server_exceptions=False)
    client.headers["X-API-Key"] = admin
    made = client.post("/keys", json={"role": "member", "company_id": "sup1", "name": "М"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["key"].startswith(f"cg_{body['id']}_") and body["active"] is True
    member = {"X-API-Key": body["key"]}
    assert client.get("/me", headers=member).json()["company_id"] == "sup1"
    listed = client.get("/keys").json()
    assert {k["id"] for k in listed} >= {body["id"]}
    assert all("hash" not in k and "key" not in k for k in listed)
    assert_problem(client.get("/keys", headers=member), 403)
    assert_problem(client.post("/keys", json={"role": "member", "company_id": "ghost"}), 400,
                   contains="ghost")
    assert_problem(client.post("/keys", json={"role": "admin", "company_id": "sup1"}), 400,
                   contains="only member keys")
    assert_problem(client.delete("/keys/ffffffff"), 404)
    # server state is no part of the graph: the full export carries no key record
    full = client.get("/export/graphml", params={"view": "full"})
    assert full.status_code == 200 and "Company:sup1" in full.text
    assert "ApiKey" not in full.text and hash_secret(body["key"]) not in full.text
    revoked = client.delete(f"/keys/{body['id']}")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert_problem(client.get("/me", headers=member), 401, contains="revoked")


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "member"], "--company"),
    (["--role", "member", "--company", "ghost"], "no company with id 'ghost'"),
    (["--role", "admin", "--company", "sup1"], "only member keys"),
])
def test_cli_refuses_bad_keys(cli_env: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["keys", "create", *args])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")


def test_cli_revoke_unknown_is_an_error(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "revoke", "ffffffff"])
    assert result.exit_code == 2 and "no API key" in result.output


def test_serve_refuses_auth_off_on_a_public_address(cli_env: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOPGRAPH_AUTH", "off")
    monkeypatch.setenv("COOPGRAPH_HOST", "127.0.0.1")  # serve overwrites it; restored after
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 3
    assert "loopback" in result.output.replace("\n", " ")
