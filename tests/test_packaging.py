"""The packaged product's commands, in-process: ``--version``, ``python -m coopgraph``,
``ingest --sample``, and where the demo keeps its store.

tests/test_wheel.py runs the same from an installed wheel; these are the fast checks.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.api.commands.demo import demo_data_dir
from coopgraph.ingest.sample import FILE_NAMES, SAMPLE_DIR, sample_dir

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _written_version() -> str:
    """The version as written in its one place, read without importing it."""
    text = (ROOT / "coopgraph" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert match
    return match.group(1)


def test_version_comes_from_one_place() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.output.strip()) == (0, f"coopgraph {_written_version()}")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "coopgraph.__version__"}


def test_python_dash_m_coopgraph_is_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "coopgraph", "--version"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"coopgraph {_written_version()}")
    proc = subprocess.run([sys.executable, "-m", "coopgraph", "ingest", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and "--sample" in proc.stdout


def test_ingest_sample_loads_the_shipped_sample(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", "--sample", "--json"])
    assert result.exit_code == 0, result.output
    loaded = {f["file"]: f["loaded"] for f in json.loads(result.stdout)["files"]}
    for name in FILE_NAMES.values():
        with (ROOT / "data" / "sample" / name).open(encoding="utf-8", newline="") as f:
            assert loaded[name] == sum(1 for _ in csv.DictReader(f)), name


def test_ingest_without_files_or_sample_says_what_to_do(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 2
    assert "--sample" in result.output
    assert not (tmp_path / "data").exists()


def test_the_sample_is_found_as_package_data() -> None:
    assert SAMPLE_DIR.resolve() == (ROOT / "data" / "sample").resolve()
    assert sample_dir() == SAMPLE_DIR


def test_an_incomplete_sample_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    import coopgraph.ingest.sample as sample
    from coopgraph.graph.errors import ConfigError

    (tmp_path / "companies.csv").write_text("id\n", encoding="utf-8")
    monkeypatch.setattr(sample, "SAMPLE_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"missing .*supplies\.csv.*reinstall"):
        sample.sample_dir()


def test_the_demo_store_goes_to_data_else_the_setting_else_a_per_user_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "configured"))
    assert demo_data_dir(tmp_path / "given") == tmp_path / "given"
    assert demo_data_dir(None) == tmp_path / "configured"
    monkeypatch.delenv("COOPGRAPH_DATA_DIR")
    assert demo_data_dir(None) == tmp_path / "share" / "coopgraph" / "demo"


# The libraries whose major version's behaviour the code relies on (issue #15); networkx
# is left to the store's own issue.
BOUNDED = {"pydantic": 3, "pydantic-settings": 3, "numpy": 3, "scipy": 2, "neo4j": 7,
           "neo4j-rust-ext": 7, "fastapi": 1}


def test_dependencies_we_rely_on_have_an_upper_bound_the_installed_version_meets() -> None:
    from importlib.metadata import version

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = {}
    for line in pyproject["project"]["dependencies"]:
        requirement = Requirement(line)
        found[requirement.name] = requirement
    for name, major in BOUNDED.items():
        specs = {s.operator: s.version for s in found[name].specifier}
        assert specs.get("<") == str(major), (name, str(found[name].specifier))
        assert found[name].specifier.contains(version(name)), (name, version(name))
