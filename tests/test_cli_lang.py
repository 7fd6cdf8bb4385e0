"""The CLI's language (``--lang``, the locale), its number rules, and its lazy start."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.api.commands import COMMAND_HELP, COMMAND_MODULES, scan_lang
from coopgraph.api.console import lang, set_lang
from coopgraph.graph.i18n import count, csv_number, default_lang, number, percent, plural_form

RU_LINK = ("рекомендованная связь", "рекомендованные связи", "рекомендованных связей")
EN_LINK = ("recommended link", "recommended links")


@pytest.fixture(autouse=True)
def _restore_lang():
    before = lang()
    yield
    set_lang(before)


def _ru_form(n: int) -> int:
    """Russian plural form index by the grammar-book rule, written independently of CLDR."""
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8, 11, 12, 14, 21, 22, 25, 101, 111, 1002])
def test_russian_plurals_follow_the_grammar(n: int) -> None:
    assert count(n, "ru", RU_LINK, EN_LINK).endswith(" " + RU_LINK[_ru_form(n)])
    assert count(n, "en", RU_LINK, EN_LINK).endswith(" " + EN_LINK[0 if n == 1 else 1])


def test_the_reported_plurals() -> None:
    assert count(3, "ru", RU_LINK, EN_LINK) == "3 рекомендованные связи"
    assert count(8, "ru", ("участник", "участника", "участников"),
                 ("member", "members")) == "8 участников"
    assert plural_form(1.5, "ru") == "other"


def test_numbers_use_the_language_separators() -> None:
    assert number(815101941, "ru") == "815\u00a0101\u00a0941"
    assert number(815101941, "en") == "815,101,941"
    assert number(0.734, "ru", 2) == "0,73"
    assert percent(0.734, "ru") == "73\u00a0%"
    assert percent(0.734, "en", 1) == "73.4%"
    assert csv_number(1234.5, "ru") == "1234,5"
    assert number(None, "ru") == "?"


@pytest.mark.parametrize(("env", "want"), [
    ({"LANG": "ru_RU.UTF-8"}, "ru"), ({"LANG": "en_GB.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"),
    ({"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
    ({"COOPGRAPH_LANG": "en", "LC_ALL": "ru_RU.UTF-8"}, "en"), ({}, "en"),
])
def test_default_language_comes_from_the_locale(env: dict[str, str], want: str) -> None:
    assert default_lang(env) == want


def test_scan_lang_reads_the_flag_before_parsing() -> None:
    assert scan_lang(["--lang", "ru", "--help"]) == "ru"
    assert scan_lang(["--lang=en", "gaps"]) == "en"
    assert scan_lang(["gaps", "--", "--lang", "ru"]) is None


def test_help_in_both_languages_lists_every_command() -> None:
    runner = CliRunner()
    ru = runner.invoke(app, ["--lang", "ru", "--help"])
    en = runner.invoke(app, ["--lang", "en", "--help"])
    assert ru.exit_code == en.exit_code == 0, (ru.output, en.output)
    assert "Команды" in ru.output and "Commands" in en.output
    assert "Параметры" in ru.output and "Запуск:" in ru.output and "Usage:" not in ru.output
    assert "Options" in en.output and "Язык" not in en.output
    for name in COMMAND_MODULES:
        assert name in ru.output and name in en.output
    assert COMMAND_HELP["gaps"][0].split(":")[0] in ru.output
    assert "Пробелы" not in en.output


def test_a_command_help_in_russian_leads_with_the_russian_line() -> None:
    out = CliRunner().invoke(app, ["--lang", "ru", "kpi", "--help"])
    assert out.exit_code == 0, out.output
    assert "Показатели кластера" in out.output


def test_an_unknown_language_is_refused() -> None:
    out = CliRunner().invoke(app, ["--lang", "de", "stats"])
    assert out.exit_code == 2
    assert "--lang" in out.output


def test_help_imports_no_engine() -> None:
    """``coopgraph --help`` must not pay for numpy, scipy, networkx or the store."""
    code = ("import sys\nfrom coopgraph.api.cli import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'scipy', 'networkx', 'neo4j', 'pydantic', "
            "'coopgraph.queries.projection', 'coopgraph.graph.store') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


@given(x=st.floats(min_value=-1e13, max_value=1e13, allow_nan=False)
       | st.sampled_from([2.675, 0.125, 1.005, 0.345, 2.5, -0.004, 1e12]),
       digits=st.integers(min_value=0, max_value=3), lang=st.sampled_from(["ru", "en"]))
def test_fast_numbers_equal_babels_pattern(x: float, digits: int, lang: str) -> None:
    """The f-string shortcut of ``number`` gives what Babel's own pattern gives."""
    from coopgraph.graph.i18n import _format, _pattern

    want = _format(x, _pattern(digits), lang)  # type: ignore[arg-type]
    got = number(x, lang, digits)  # type: ignore[arg-type]
    assert got == ("0" if want == "-0" else want), (x, digits, lang)


def _options_help(output: str) -> list[str]:
    """The option lines of a typer help panel (``│ --name … help │``)."""
    return [line for line in output.splitlines() if "--" in line and line.startswith("│")]


@pytest.mark.parametrize("command", [
    ["match", "buyers"], ["match", "suppliers"], ["plan"], ["ingest"], ["gaps"], ["kpi"],
    ["stats"], ["serve"], ["demo"], ["generate"], ["evaluate"], ["fit"], ["keys", "create"],
    ["export"], ["check"], ["codes"], ["requests", "open"], ["requests", "move"],
    ["projects", "export"], ["review", "list"]])
def test_option_help_follows_the_language(command: list[str]) -> None:
    import re

    from coopgraph.api.commands.help_ru import COVERED

    assert command[0] in COVERED
    runner = CliRunner()
    ru = runner.invoke(app, ["--lang", "ru", *command, "--help"], env={"COLUMNS": "200"})
    en = runner.invoke(app, ["--lang", "en", *command, "--help"], env={"COLUMNS": "200"})
    assert ru.exit_code == 0 and en.exit_code == 0, ru.output + en.output
    ru_lines, en_lines = _options_help(ru.output), _options_help(en.output)
    assert ru_lines and len(ru_lines) == len(en_lines)
    cyrillic = re.compile("[а-яё]", re.IGNORECASE)
    for line in ru_lines:  # every option explained in Russian
        assert cyrillic.search(line), line
    for line in en_lines:  # and in English with --lang en
        assert not cyrillic.search(line.replace("ИНН", "")), line
    assert "Параметры" in ru.output and "Options" in en.output


def _help_texts(command: Any, path: str) -> list[tuple[str, str]]:
    """``(where, English help)`` of a click command, its parameters and subcommands."""
    out = [(path, command.help.strip())] if command.help else []
    for param in command.params:
        out.append((f"{path} {param.name}", (getattr(param, "help", None) or "").strip()))
    for name, sub in getattr(command, "commands", {}).items():
        out += _help_texts(sub, f"{path} {name}")
    return out


def test_every_option_of_every_command_has_russian_help() -> None:
    """Every command of COMMAND_MODULES: its help, every option's and argument's, in Russian."""
    import importlib
    import re

    import typer
    import typer.main

    from coopgraph.api.commands import COMMAND_MODULES
    from coopgraph.api.commands.help_ru import COVERED, HELP_RU

    assert set(COVERED) == set(COMMAND_MODULES)
    missing, blank = [], []
    checked = 0
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"coopgraph.api.commands.{name}")
        holder = typer.Typer(add_completion=False)
        module.register(holder)
        command = typer.main.get_group(holder).commands[name]
        for where, text in _help_texts(command, name):
            checked += 1
            if not text:
                blank.append(where)
            elif text not in HELP_RU:
                missing.append(f"{where}: {text!r}")
    assert not blank, f"options without any help: {blank}"
    assert not missing, "no Russian help for:\n" + "\n".join(missing)
    assert checked > 150
    cyrillic = re.compile("[а-яё]", re.IGNORECASE)
    assert all(cyrillic.search(ru) for ru in HELP_RU.values())
