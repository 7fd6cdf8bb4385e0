"""Russian help for commands and options, keyed by the English text the command declares.

:class:`~api.commands.LazyGroup` swaps each option's (and subcommand's) English help
for its entry here when the CLI speaks Russian (``--lang ru``, or the locale).
``tests/test_cli_lang.py`` checks that every option of :data:`COVERED` has one, so a
changed English text without its translation fails the tests.
"""

from __future__ import annotations

__all__ = ["COVERED", "HELP_RU", "PANELS_RU"]

# The commands whose every option and subcommand has Russian help: all of them
# (``tests/test_cli_lang.py::test_every_option_of_every_command_has_russian_help``).
COVERED = ("stats", "serve", "demo", "ingest", "generate", "match", "evaluate", "fit",
           "plan", "gaps", "kpi", "keys", "export", "check", "codes", "requests", "projects",
           "review")

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
    # serve
    "Serve the API and the dashboard (uses the configured store).":
        "Запустить API и дашборд (на настроенном хранилище).",
    "Address to listen on.": "Адрес, на котором слушать.",
    "Port to listen on.": "Порт, на котором слушать.",
    "Worker processes.": "Число рабочих процессов.",
    # demo
    "Load the sample cluster and serve the dashboard on http://127.0.0.1:PORT.":
        "Загрузить пример кластера и открыть дашборд на http://127.0.0.1:PORT.",
    "Port to serve on (127.0.0.1 only).": "Порт дашборда (только 127.0.0.1).",
    "Do not open a web browser.": "Не открывать браузер.",
    "Wipe the embedded store and load the sample again.":
        "Очистить встроенное хранилище и загрузить пример заново.",
    "Serve without API keys (allowed on 127.0.0.1 only).":
        "Работать без ключей API (можно только на 127.0.0.1).",
    "Keep the demo's store in DIR (default: COOPGRAPH_DATA_DIR if set, else a per-user data "
    "directory).":
        "Хранить данные демо в каталоге DIR (по умолчанию — COOPGRAPH_DATA_DIR, если задан, "
        "иначе каталог данных пользователя).",
    # generate
    "Write a synthetic country of companies (the sample's file formats) into --out.":
        "Сгенерировать синтетическую страну компаний (в форматах файлов примера) в --out.",
    "How many companies to make.": "Сколько компаний создать.",
    "Random seed (same seed, same files).":
        "Начальное число генератора (то же число — те же файлы).",
    "Directory to write the files into.": "Каталог, куда записать файлы.",
    "File format: csv.": "Формат файлов: csv.",
    "No progress bar.": "Без индикатора выполнения.",
    # evaluate
    "Hide supply links, rank, and report Hits@10/50, MRR, NDCG@10 vs baselines.\n\n"
    "Also the engine's precision@k on answered supply requests (agreed = positive,\n"
    "declined = negative), each ranked on the graph without the answered links.\n\n"
    "Each split runs on its own: one that cannot run (a time split without\n"
    "real dates) is reported as skipped, with the reason, and the other stays.":
        "Скрыть часть связей поставки, ранжировать и сообщить Hits@10/50, MRR, NDCG@10 "
        "в сравнении с простыми методами.\n\nТакже точность@k на запросах о поставке с "
        "ответом (согласовано — верно, отклонено — неверно), каждый ранжируется на графе без "
        "этих связей.\n\nКаждое разбиение считается отдельно: то, которое нельзя выполнить "
        "(разбиение по времени без настоящих дат), отмечается как пропущенное, с причиной, а "
        "другое остаётся.",
    "random, time or both": "random (случайное), time (по времени) или both (оба)",
    "Share of supplier–buyer pairs to hide": "Доля пар «поставщик — покупатель», которую скрыть",
    "Seeds (random split) or bootstrap resamples (time split) behind each mean and interval":
        "Число запусков (случайное разбиение) или бутстреп-выборок (по времени) для каждого "
        "среднего и интервала",
    "buyers: rank buyers per supplier; suppliers: the reverse":
        "buyers — ранжировать покупателей для поставщика; suppliers — наоборот",
    "At most this many queries": "Не больше стольких запросов",
    "Also fit a profile on each training split (inner folds) and score it":
        "Также подобрать профиль на каждой обучающей части (внутренние блоки) и оценить его",
    "Weight profile name": "Название профиля весов",
    "Evaluate these files/directories instead of the configured store":
        "Оценивать на этих файлах или каталогах вместо настроенного хранилища",
    "k of the precision on answered requests": "k для точности на запросах с ответом",
    # fit
    "Fit the ranking profile on the store's own history and store it with its report.":
        "Подобрать профиль ранжирования по истории хранилища и сохранить его с отчётом.",
    "Fit for ranking buyers (default) or suppliers":
        "Подбирать для ранжирования покупателей (по умолчанию) или поставщиков",
    "Inner random folds": "Число внутренних случайных блоков",
    "Random seed of the inner folds": "Начальное число для внутренних блоков",
    "At most this many queries per fold": "Не больше стольких запросов на блок",
    "Print the stored profile, fit nothing": "Показать сохранённый профиль, ничего не подбирать",
    "Also learn from agreed (positive) and declined (negative) supply requests":
        "Учитывать также согласованные (верно) и отклонённые (неверно) запросы о поставке",
    # keys
    "Create, list and revoke API keys.": "Создать, показать и отозвать ключи API.",
    "Create a key and print it (it is shown this once; only its hash is kept).":
        "Создать ключ и показать его (он показывается один раз; хранится только его хеш).",
    "admin, analyst or member.": "admin (администратор), analyst (аналитик) или member "
                                 "(участник).",
    "The company a member key acts for (required for members).":
        "Компания, от имени которой действует ключ участника (для участников обязательно).",
    "A label to recognise the key by.": "Метка, по которой узнать ключ.",
    "List keys (ids, roles, companies; never the secrets).":
        "Показать ключи (идентификаторы, роли, компании; сами ключи — никогда).",
    "Revoke a key; every API replica refuses it from its next request on.":
        "Отозвать ключ; каждый экземпляр API отклоняет его со следующего запроса.",
    "The key's id (see `keys list`).": "Идентификатор ключа (см. `keys list`).",
    "Import the former keys file into the store now (done by any first use anyway).":
        "Перенести прежний файл ключей в хранилище сейчас (иначе это сделает первое "
        "обращение).",
    # export
    "Export the network: `coopgraph export graphml FILE` (Gephi, yEd, networkx).\n\n"
    "Plans and gap reports export as CSV with `coopgraph plan --csv` / `gaps --csv`.":
        "Выгрузить сеть: `coopgraph export graphml ФАЙЛ` (Gephi, yEd, networkx).\n\n"
        "Планы и пробелы выгружаются в CSV командами `coopgraph plan --csv` / `gaps --csv`.",
    "Only 'graphml' for now.": "Пока только «graphml».",
    "Where to write.": "Куда записать.",
    # check
    "Check referential integrity: list dangling references (exit 1), or --repair them.":
        "Проверить ссылочную целостность: перечислить висячие ссылки (код выхода 1) или "
        "исправить их (--repair).",
    "Repair what is found: delete the records whose required reference dangles, clear "
    "optional references (Category.parent, Product.maker_id, list entries).":
        "Исправить найденное: удалить записи с висячей обязательной ссылкой, очистить "
        "необязательные ссылки (Category.parent, Product.maker_id, элементы списков).",
    # codes
    "Find companies by OKVED2 code and categories by OKPD2 code.":
        "Найти компании по коду ОКВЭД2 и категории по коду ОКПД2.",
    "An OKVED2 or OKPD2 code, e.g. 24.51": "Код ОКВЭД2 или ОКПД2, например 24.51",
    "Print JSON.": "Вывести JSON.",
    # requests
    "Cooperation requests: open, list, move, follow.":
        "Запросы о кооперации: открыть, показать, перевести, следить.",
    "Open a request from one company to another.":
        "Открыть запрос от одной компании к другой.",
    "The requesting company.": "Компания, которая запрашивает.",
    "The company asked.": "Компания, к которой обращаются.",
    "Category code.": "Код категории.",
    "Units per year.": "Штук в год.",
    "Target unit price, RUB.": "Целевая цена за штуку, ₽.",
    "buyer, supplier or partner.": "buyer (покупатель), supplier (поставщик) или partner "
                                   "(партнёр).",
    "The tie it should lead to.": "Связь, к которой запрос должен привести.",
    "What it was opened from (a recommendation, a need, an import…).":
        "Откуда открыт запрос (рекомендация, потребность, импорт…).",
    "A message to the company asked.": "Сообщение компании, к которой обращаются.",
    "Due date, YYYY-MM-DD.": "Срок ответа, ГГГГ-ММ-ДД.",
    "Send it at once.": "Сразу отправить.",
    "List requests, newest first.": "Показать запросы, сначала новые.",
    "Either party.": "Любая из сторон.",
    "Only requests in this state.": "Только запросы в этом состоянии.",
    "One request with its history, as JSON.": "Один запрос с историей, в JSON.",
    "The request's id.": "Идентификатор запроса.",
    "Move a request to another state.": "Перевести запрос в другое состояние.",
    "The state to move it to.": "Состояние, в которое перевести.",
    "The version you read (conflict when stale).":
        "Прочитанная версия (конфликт, если она устарела).",
    "Decline reason code.": "Код причины отказа.",
    "Decline text.": "Текст отказа.",
    "Agreement date, YYYY-MM-DD.": "Дата соглашения, ГГГГ-ММ-ДД.",
    "With agreed: record the supply link it agreed on.":
        "При согласовании: записать согласованную связь поставки.",
    "Expire every open request past its due date.":
        "Закрыть как просроченные все открытые запросы после их срока.",
    "YYYY-MM-DD": "ГГГГ-ММ-ДД",
    "The change feed after ``--since`` (a time or a cursor), as JSON.":
        "Лента изменений после ``--since`` (время или курсор), в JSON.",
    "After this time (ISO) or cursor.": "После этого времени (ISO) или курсора.",
    "At most this many events.": "Не больше стольких событий.",
    "How requests fared: by state, category, member; decline reasons.":
        "Итоги запросов: по состояниям, категориям, участникам; причины отказов.",
    "Only this company's requests.": "Только запросы этой компании.",
    "Partners to ask, ranked, lowered where they declined before (JSON).":
        "К кому обратиться, по убыванию оценки; ниже — те, кто уже отказывал (JSON).",
    "The company to rank partners for.": "Компания, для которой подобрать партнёров.",
    "suppliers or buyers.": "suppliers (поставщики) или buyers (покупатели).",
    "Only this category.": "Только эта категория.",
    "How many partners.": "Сколько партнёров.",
    # projects
    "Joint cluster projects and their subsidy estimate.":
        "Совместные проекты кластера и оценка их субсидии.",
    "The subsidy estimate (Resolution No. 41; says when its rules are unverified).":
        "Оценка субсидии (постановление № 41; с пометкой, если правила не сверены).",
    "The project's id.": "Идентификатор проекта.",
    "The subsidy rules version (default: the one the project names, else the current one).":
        "Версия правил субсидии (по умолчанию — указанная в проекте, иначе текущая).",
    "Members proposed for the project's parts by the matching engine, with reasons (JSON).":
        "Участники, предложенные подбором для частей проекта, с причинами (JSON).",
    "Members proposed per part.": "Сколько участников предложить на часть.",
    "Write the project card as an XLSX workbook.": "Записать карточку проекта в файл XLSX.",
    "The XLSX file to write.": "Файл XLSX, который записать.",
    # review
    "Entity-resolution review queue: list, accept, reject, split, undo.":
        "Очередь проверки дублей компаний: показать, принять, отклонить, разделить, "
        "отменить.",
    "List pairs with their evidence (the most likely matches first).":
        "Показать пары с доводами (сначала самые вероятные совпадения).",
    "review, merged, accepted, rejected, split or all":
        "review (на проверке), merged (слиты), accepted (приняты), rejected (отклонены), "
        "split (разделены) или all (все)",
    "Pairs shown (all in --json)": "Сколько пар показать (в --json — все)",
    "One company: merge B into A now, and in every later load.":
        "Одна компания: слить B в A сейчас и при каждой следующей загрузке.",
    "The pair's id (erp-…), from `review list`": "Идентификатор пары (erp-…) из `review list`",
    "Who decides (kept with the pair)": "Кто решает (сохраняется вместе с парой)",
    "Two companies: never merge them, never ask again.":
        "Две разные компании: никогда не сливать и больше не спрашивать.",
    "Undo a merge: bring company B back as it was; later loads keep them apart.":
        "Отменить слияние: вернуть компанию B как была; следующие загрузки держат их раздельно.",
    "Take the pair's last decision back.": "Отменить последнее решение по паре.",
}
