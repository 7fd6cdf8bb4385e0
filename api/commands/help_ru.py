"""Russian help for commands and options, keyed by the English text the command declares.

:class:`~api.commands.LazyGroup` swaps each option's (and subcommand's) English help
for its entry here when the CLI speaks Russian (``--lang ru``, or the locale).
``tests/test_cli_lang.py`` checks that every option of :data:`COVERED` has one, so a
changed English text without its translation fails the tests.
"""

from __future__ import annotations

__all__ = ["COVERED", "HELP_RU", "PANELS_RU"]

# The commands whose every option and subcommand has Russian help.
COVERED = ("match", "plan", "ingest", "gaps", "kpi", "stats")

# typer's panel titles and click's help option
PANELS_RU = {"ARGUMENTS_PANEL_TITLE": "Аргументы", "OPTIONS_PANEL_TITLE": "Параметры",
             "COMMANDS_PANEL_TITLE": "Команды", "REQUIRED_LONG_STRING": "[обязательно]",
             "DEFAULT_STRING": "[по умолчанию: {}]"}

HELP_RU: dict[str, str] = {
    # ingest --bulk
    "First load into an EMPTY Neo4j database, offline: write the bulk importer's CSV files "
    "into this directory and run `neo4j-admin database import full` (server stopped).":
        "Первая загрузка в ПУСТУЮ базу Neo4j без сервера: записать CSV-файлы для импорта "
        "в этот каталог и выполнить `neo4j-admin database import full` (сервер остановлен).",
    "With --bulk: the Neo4j home the database is imported into.":
        "С --bulk: каталог Neo4j (NEO4J_HOME), куда импортируется база.",
    "With --bulk: the neo4j-admin command (default: neo4j-admin on PATH; without one the "
    "files are written and the command printed).":
        "С --bulk: команда neo4j-admin (по умолчанию neo4j-admin из PATH; без неё файлы "
        "записываются, а команда печатается).",
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Print JSON for machines.": "Вывести JSON для программ.",
    "Machine-readable output": "Вывод для программ (JSON)",
    # match
    "Rank potential cooperation partners, with reasons.":
        "Подобрать партнёров по кооперации, с объяснением.",
    "Who could buy what SUPPLIER makes — ranked, with reasons.":
        "Кто мог бы покупать то, что делает ПОСТАВЩИК, — по убыванию оценки, с причинами.",
    "Who could make what BUYER needs — ranked, with reasons.":
        "Кто мог бы делать то, что нужно ПОКУПАТЕЛЮ, — по убыванию оценки, с причинами.",
    "The supplier's company id": "Идентификатор компании-поставщика",
    "The buyer's company id": "Идентификатор компании-покупателя",
    "Only this category": "Только эта категория",
    "Only the categories of this product's BOM": "Только категории из состава этого изделия",
    "How many candidates": "Сколько кандидатов показать",
    "Max distance, km": "Наибольшее расстояние, км",
    "Only buyers in this region": "Только покупатели из этого региона",
    "Only suppliers in this region": "Только поставщики из этого региона",
    "Only buyers sharing a cluster with the supplier":
        "Только покупатели из одного кластера с поставщиком",
    "Only suppliers sharing a cluster with the buyer":
        "Только поставщики из одного кластера с покупателем",
    "Only members of this cluster": "Только участники этого кластера",
    "Required certification (repeatable)": "Обязательный сертификат (можно несколько раз)",
    "Minimum free yearly capacity": "Наименьшая свободная мощность в год",
    "Leave out capabilities inferred only from OKVED codes (registry evidence)":
        "Не учитывать возможности, выведенные только из кодов ОКВЭД (данные реестров)",
    "Weight profile name (default: the one `coopgraph fit` stored, else automatic)":
        "Профиль весов (по умолчанию — сохранённый `coopgraph fit`, иначе автоматический)",
    "Reasons in English (as --lang en)": "Причины по-английски (как --lang en)",
    # plan
    "Plan who should supply what: an LP over suppliers' free capacities (HiGHS).":
        "Спланировать, кто что поставляет: линейная программа по свободным мощностям "
        "поставщиков (HiGHS).",
    "Product id.": "Идентификатор изделия.",
    "Plan every end product of this cluster at once.":
        "Спланировать сразу все конечные изделия этого кластера.",
    "Units per year (default: the product's annual volume).":
        "Штук в год (по умолчанию — годовой объём изделия).",
    "At most this many suppliers per category.": "Не больше стольких поставщиков на категорию.",
    "Dual-source this category (repeatable).":
        "Два поставщика для этой категории (можно несколько раз).",
    "Allow inferred capabilities.": "Учитывать возможности, выведенные по процессам.",
    "Only suppliers in the maker's region.": "Только поставщики из региона изготовителя.",
    "Also write the allocations to this CSV file.":
        "Также записать распределение в этот CSV-файл.",
    "Order of the categories: cost (the dearest first) or name.":
        "Порядок категорий: cost — сначала самые дорогие, name — по названию.",
    # ingest
    "Load files into the store: validate, de-duplicate companies, report every reject.":
        "Загрузить файлы: проверка, слияние дублей компаний, отчёт о каждой отклонённой "
        "строке.",
    "CSV, XLSX, JSON or JSONL files, or directories of them.":
        "Файлы CSV, XLSX, JSON или JSONL либо папки с ними.",
    "Where to write report.json, report.md and rejected rows.":
        "Куда записать report.json, report.md и отклонённые строки.",
    "Print the report as JSON.": "Вывести отчёт в JSON.",
    "Load the sample cluster shipped with CoopGraph (fictional companies).":
        "Загрузить пример кластера из поставки CoopGraph (вымышленные компании).",
    "An FNS registry file (SME register, EGRUL/EGRIP XML, or a ZIP of them); repeat for "
    "several.":
        "Файл реестра ФНС (реестр МСП, XML ЕГРЮЛ/ЕГРИП или ZIP с ними); для нескольких — "
        "повторить.",
    "With --registry: load only the INNs listed in this CSV/XLSX (an inn/ИНН column, or one "
    "INN per line).":
        "С --registry: загрузить только ИНН из этого CSV/XLSX (столбец inn/ИНН или по одному "
        "ИНН в строке).",
    "With --registry: load only companies of this region code (48).":
        "С --registry: загрузить только компании региона с этим кодом (48).",
    # gaps
    "Find gaps: missing and single-source categories, idle capacity, untied members.":
        "Пробелы: нет поставщика, единственный поставщик, простаивающие мощности, участники "
        "без связей.",
    "Scope: this cluster's members.": "Область: участники этого кластера.",
    "Suppliers (and, without a cluster, the scope): this region.":
        "Поставщики (а без --cluster и область): этот регион.",
    "Also write every finding to this CSV file (for Excel: UTF-8 with BOM; in Russian ';' and "
    "a decimal comma).":
        "Также записать все находки в этот CSV-файл (для Excel: UTF-8 с BOM; по-русски — «;» "
        "и десятичная запятая).",
    "Write the CSV for scripts: UTF-8, ',' and '.', column ids.":
        "CSV для программ: UTF-8, «,» и «.», идентификаторы столбцов.",
    # kpi
    "Show the cluster's KPIs (value, threshold, pass/fail) and what-if links.":
        "Показатели кластера (значение, порог, выполнен ли) и связи, которые их улучшат.",
    "Cluster id.": "Идентификатор кластера.",
    "Propose links that raise failing KPIs.":
        "Предложить связи, поднимающие невыполненные показатели.",
    # stats
    "Count the records of each kind in the configured store.":
        "Сколько записей каждого вида в хранилище.",
}
