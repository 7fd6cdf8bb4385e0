"""API keys: hashed storage, verification, revocation, and the ``coopgraph keys`` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.api.keys import KeyStore, hash_secret
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import InvalidQuery, NotFound
from coopgraph.graph.models import Company


def test_secret_is_stored_only_hashed(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys.json")
    record, secret = ks.create("admin", name="centre")
    text = (tmp_path / "keys.json").read_text()
    assert secret not in text and secret.split("_", 2)[2] not in text
    assert json.loads(text)["keys"][0]["hash"] == hash_secret(secret)
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    assert ks.verify(secret) == record


def test_two_keys_differ_and_verify_separately(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys.json")
    a, sa = ks.create("analyst")
    b, sb = ks.create("member", company_id="x")
    assert sa != sb and a.id != b.id
    assert ks.verify(sa) == a and ks.verify(sb) == b
    assert ks.verify(sa[:-1]) is None and ks.verify("") is None


def test_revoke(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys.json")
    record, secret = ks.create("admin")
    ks.revoke(record.id)
    assert ks.verify(secret) is None
    assert ks.list()[0].revoked_at is not None
    with pytest.raises(NotFound):
        ks.revoke("ffffffff")


def test_member_needs_a_company_and_others_do_not(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys.json")
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
    ks = KeyStore(cli_env / "api_keys.json")
    record = ks.verify(secret)
    assert record is not None and record.company_id == "sup1" and record.name == "Гидравлика"

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and record.id in listed.output and secret not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", record.id])
    assert revoked.exit_code == 0 and ks.verify(secret) is None
    assert "revoked" in runner.invoke(app, ["keys", "list"]).output


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
