"""CLI commands, one module each; every module exposes ``register(app)``.

Adding a command means adding a module here and its name to ``COMMAND_MODULES``
(and, for a fast ``coopgraph --help`` in both languages, its one line to
``COMMAND_HELP``).

A command's module is imported only when that command runs (or its own
``--help`` is asked for): the engines pull in numpy, scipy and networkx, which
cost seconds that ``coopgraph --help`` or a typo should not pay.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from coopgraph.graph.i18n import Lang, default_lang, parse_lang

COMMAND_MODULES = (
    "stats", "serve", "demo", "ingest", "generate", "match", "evaluate", "fit",
    "plan", "gaps", "kpi", "keys", "export", "check", "codes",
    "requests", "projects",  # issue #13
    "review",
)

# One line per command for the top-level help, Russian then English, so that listing
# the commands imports none of them. A module missing here is imported for its line.
COMMAND_HELP: dict[str, tuple[str, str]] = {
    "stats": ("Сколько записей каждого вида в хранилище.",
              "Count the records of each kind in the configured store."),
    "serve": ("Запустить API и дашборд (на настроенном хранилище).",
              "Serve the API and the dashboard (uses the configured store)."),
    "demo": ("Загрузить пример кластера и открыть дашборд на http://127.0.0.1:PORT.",
             "Load the sample cluster and serve the dashboard on http://127.0.0.1:PORT."),
    "ingest": ("Загрузить файлы: проверка, слияние дублей, отчёт о каждой отклонённой строке.",
               "Load files: validate, de-duplicate companies, report every reject."),
    "generate": ("Сгенерировать синтетическую страну компаний в --out.",
                 "Write a synthetic country of companies into --out."),
    "match": ("Подобрать партнёров по кооперации, с объяснением.",
              "Rank potential cooperation partners, with reasons."),
    "evaluate": ("Проверить ранжирование на скрытых связях (Hits@k, MRR, NDCG).",
                 "Hide supply links, rank, and report Hits@10/50, MRR, NDCG@10 vs baselines."),
    "fit": ("Подобрать веса ранжирования по истории хранилища.",
            "Fit the ranking profile on the store's own history."),
    "plan": ("Спланировать, кто что поставляет, в пределах свободных мощностей.",
             "Plan who should supply what, within suppliers' free capacities."),
    "gaps": ("Пробелы: нет поставщика, единственный поставщик, простаивающие мощности.",
             "Find gaps: missing and single-source categories, idle capacity, untied members."),
    "kpi": ("Показатели кластера (ПП № 779) и связи, которые их улучшат.",
            "The cluster's KPIs (Resolution No. 779) and the links that would fix them."),
    "keys": ("Создать, показать и отозвать ключи API (хранятся в хранилище).",
             "Create, list and revoke API keys (kept in the store)."),
    "export": ("Выгрузить сеть: coopgraph export graphml ФАЙЛ.",
               "Export the network: coopgraph export graphml FILE."),
    "check": ("Проверить ссылочную целостность (или --repair).",
              "Check referential integrity: list dangling references, or --repair them."),
    "requests": ("Запросы о кооперации: открыть, показать, перевести, следить.",
                 "Cooperation requests: open, list, move, follow."),
    "codes": ("Компании и категории по коду ОКВЭД2 / ОКПД2 (класс и более точные коды).",
              "Companies and categories by OKVED2 / OKPD2 code (the class and finer codes)."),
    "review": ("Очередь проверки дублей компаний: показать, принять, отклонить, разделить, "
               "отменить.",
               "Entity-resolution review queue: list, accept, reject, split, undo."),
    "projects": ("Совместные проекты: оценка субсидии, участники, выгрузка XLSX.",
                 "Joint projects: subsidy estimate, proposed participants, XLSX export."),
}

APP_HELP = ("CoopGraph — подбор поставщиков и производителей для промышленных кластеров.",
            "CoopGraph — supplier–manufacturer matchmaking for industrial clusters.")


def scan_lang(args: Sequence[str]) -> Lang | None:
    """The ``--lang`` given on a command line, read before parsing (help is printed eagerly)."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            return parse_lang(args[i + 1])
        if arg.startswith("--lang="):
            return parse_lang(arg.split("=", 1)[1])
    return None


def _cli_lang() -> Lang:
    from coopgraph.api.console import lang

    return lang()


_PANELS_EN: dict[str, str] = {}


def _panels(ru: bool) -> None:
    """typer's panel titles ("Options"…) in the CLI's language (they are module globals)."""
    import typer.rich_utils as rich_utils

    from coopgraph.api.commands.help_ru import PANELS_RU

    if not _PANELS_EN:
        _PANELS_EN.update({k: getattr(rich_utils, k) for k in PANELS_RU})
    for key, value in (PANELS_RU if ru else _PANELS_EN).items():
        setattr(rich_utils, key, value)


def _translate_help(command: Any, table: dict[str, str]) -> bool:
    """Swap the help of ``command``, its options and subcommands for ``table``'s entries.

    True when the command's own help had an entry.
    """
    own = command.help is not None and command.help.strip() in table
    if own:
        command.help = table[command.help.strip()]
    for param in command.params:
        text = getattr(param, "help", None)
        if text is not None and text.strip() in table:
            param.help = table[text.strip()]
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:  # click makes the --help option on demand
        option = original(ctx)
        if option is not None and option.help in table:
            option.help = table[option.help]
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _translate_help(sub, table)
    return own


class LazyGroup(TyperGroup):
    """The top-level group: lists commands from ``COMMAND_HELP``, imports one on use.

    Typer vendors its own click (``typer._click``), a private module: the overrides
    take ``Any`` rather than name its classes.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMAND_MODULES, *(n for n in super().list_commands(ctx)
                                    if n not in COMMAND_MODULES)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMAND_MODULES:
            return super().get_command(ctx, cmd_name)
        cached = self.commands.get(cmd_name)
        if cached is not None:
            return cached
        module = importlib.import_module(f"coopgraph.api.commands.{cmd_name}")
        holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        module.register(holder)
        group = typer.main.get_group(holder)
        command = group.commands.get(cmd_name)
        if command is None:
            return None
        line = COMMAND_HELP.get(cmd_name)
        ru = _cli_lang() == "ru"
        _panels(ru)
        if ru:
            from coopgraph.api.commands.help_ru import HELP_RU

            translated = _translate_help(command, HELP_RU)
            if line is not None and not translated:
                command.help = line[0] + "\n\n" + (command.help or "")
            if line is not None:
                command.short_help = line[0]
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        ru = _cli_lang() == "ru"
        for name in self.list_commands(ctx):
            line = COMMAND_HELP.get(name)
            if line is not None:
                rows.append((name, line[0] if ru else line[1]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=formatter.width - 6)))
        if rows:
            with formatter.section("Команды" if ru else "Commands"):
                formatter.write_dl(rows)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.help = APP_HELP[0] if _cli_lang() == "ru" else APP_HELP[1]
        super().format_help(ctx, formatter)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        ru = _cli_lang() == "ru"
        pieces = self.collect_usage_pieces(ctx)
        if ru:
            pieces = ["[ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]..."]
        formatter.write_usage(ctx.command_path, " ".join(pieces),
                              prefix="Запуск: " if ru else "Usage: ")

    def format_options(self, ctx: Any, formatter: Any) -> None:
        ru = _cli_lang() == "ru"
        rows = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if ru and "--help" in getattr(param, "opts", ()):
                record = (record[0], "Показать эту справку и выйти.")
            if ru and "--lang" in getattr(param, "opts", ()):
                record = (record[0], "Язык вывода (по умолчанию — COOPGRAPH_LANG, иначе локаль).")
            rows.append(record)
        if rows:
            with formatter.section("Параметры" if ru else "Options"):
                formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        from coopgraph.api.console import set_lang

        argv = list(sys.argv[1:] if args is None else args)
        # every run starts from its own --lang or the locale (tests run many in one process)
        set_lang(scan_lang(argv) or default_lang())
        return super().main(argv, *a, **kw)


def register_all(app: typer.Typer) -> None:
    """Attach every command module's commands to ``app`` now (not lazily).

    ``api.cli.app`` loads commands lazily through :class:`LazyGroup`; this eager form
    is kept for callers that want a plain Typer app with everything registered.
    """
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"coopgraph.api.commands.{name}")
        module.register(app)
