"""``coopgraph ingest`` exit codes and messages: 0 all loaded, 1 rejects, 2 unusable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app

MESSY = Path(__file__).parent / "data" / "messy"
EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COOPGRAPH_LANG", "en")  # the messages below are the English ones
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["ingest", *args])

    return invoke


def test_examples_load_cleanly(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(str(EXAMPLES), "--rejects-dir", str(tmp_path / "r"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["rejected"] == 0 and data["summary"]["loaded"] == 16


def test_rejects_exit_1_and_say_where(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(str(MESSY), "--rejects-dir", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert "15 rows rejected" in result.output
    assert "report.md" in result.output
    assert (tmp_path / "r" / "capabilities_excel.csv.rejects.csv").exists()


def test_rejects_report_in_russian(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOPGRAPH_LANG", "ru")
    result = run(str(MESSY), "--rejects-dir", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert "15 строк отклонено" in result.output and "Итоги загрузки" in result.output
    assert "row(s)" not in result.output


def test_unusable_input_exit_2_without_traceback(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = run(str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    junk = tmp_path / "junk.csv"
    junk.write_text("foo;bar\n1;2\n", encoding="utf-8")
    unknown = run(str(junk))
    assert unknown.exit_code == 2 and "matches no known format" in unknown.output
    assert "Traceback" not in missing.output + unknown.output
