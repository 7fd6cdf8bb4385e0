"""Sentences with a stable code: what ingest says about a row, in Russian and English.

A :class:`Msg` is a ``str`` (its English text, so every existing join, log line and
substring check keeps working) that also carries a ``code`` and its ``params``. Any
layer renders it in the reader's language with :func:`render` — the ingest report on
the CLI (``--lang``), ``POST /ingest`` (``Accept-Language`` / ``?lang=``), the rejects
CSV and the dashboard's upload page. Numbers follow :mod:`graph.i18n` (CLDR through
Babel); a quoted value is ``'x'`` in English and ``«x»`` in Russian.

>>> m = Msg("v.negative", field="volume", value=-5)
>>> str(m)
'volume must not be negative (got -5)'
>>> render(m, "ru")
'volume: значение не может быть отрицательным (указано -5)'
>>> render("plain text", "ru")  # a sentence without a code is shown as it is
'plain text'
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

from coopgraph.graph.i18n import Lang, number

__all__ = ["CATALOGUE", "KIND_RU", "Msg", "kind_name", "render", "render_code"]

# The kinds of records, in Russian, as "among …" (genitive plural) and as a noun.
KIND_RU: dict[str, tuple[str, str]] = {
    "company": ("компаний", "компания"), "cluster": ("кластеров", "кластер"),
    "category": ("категорий", "категория"), "process": ("процессов", "процесс"),
    "product": ("изделий", "изделие"), "certification": ("сертификатов", "сертификат"),
    "membership": ("членств в кластерах", "членство в кластере"),
    "bom_line": ("строк состава изделий", "строка состава изделия"),
    "capability": ("возможностей", "возможность"),
    "held_certification": ("сертификатов компаний", "сертификат компании"),
    "company_process": ("процессов компаний", "процесс компании"),
    "supply": ("поставок", "поставка"), "import": ("импортных закупок", "импортная закупка"),
    "need": ("потребностей", "потребность"), "tie": ("связей", "связь"),
    "coop_request": ("запросов о кооперации", "запрос о кооперации"),
    "joint_project": ("совместных проектов", "совместный проект"),
    "project_participant": ("участников проектов", "участник проекта"),
    "project_cost": ("затрат проектов", "затрата проекта"),
}

_KIND_EN = {"bom_line": "bill of materials line", "coop_request": "cooperation request",
            "held_certification": "held certificate", "company_process": "company process",
            "certification": "certificate", "tie": "tie (link)"}


def kind_name(kind: str, lang: Lang) -> str:
    """A kind of record (``company``, ``bom_line``…) by its name in ``lang``, not its id."""
    if lang == "ru":
        return KIND_RU.get(kind, ("", kind))[1]
    return _KIND_EN.get(kind, kind.replace("_", " "))


# code -> (Russian, English). Placeholders: ``{name}`` as is (numbers in the
# language's format), ``{name!q}`` quoted, ``{name!l}`` a list joined in the language.
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- validation (pydantic errors, in our words) ---
    "v.missing": ("не заполнено обязательное поле {field}", "{field} is required but missing"),
    "v.empty": ("обязательное поле {field} пустое", "{field} is required but empty"),
    "v.outside_globe": ("{coord_ru} {value} вне земного шара (−{limit}…{limit})",
                        "{coord_en} {value} is outside the globe (−{limit}…{limit})"),
    "v.negative": ("{field}: значение не может быть отрицательным (указано {value})",
                   "{field} must not be negative (got {value})"),
    "v.ge": ("{field}: значение должно быть не меньше {limit} (указано {value})",
             "{field} must be ≥ {limit} (got {value})"),
    "v.gt": ("{field}: значение должно быть больше {limit} (указано {value})",
             "{field} must be greater than {limit} (got {value})"),
    "v.le": ("{field}: значение должно быть не больше {limit} (указано {value})",
             "{field} must be ≤ {limit} (got {value})"),
    "v.number": ("{field}: нужно число, а не {value!q}", "{field} must be a number, not {value!q}"),
    "v.whole": ("{field}: нужно целое число, а не {value!q}",
                "{field} must be a whole number, not {value!q}"),
    "v.date": ("{field}: {value!q} — не дата (пишите ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
               "{field} {value!q} is not a date (use YYYY-MM-DD or DD.MM.YYYY)"),
    "v.enum": ("{field}: неизвестное значение {value!q} (допустимо: {choices!l})",
               "unknown {what} {value!q} (expected {choices!l})"),
    "v.control": ("{field}: {value!q} содержит управляющий символ",
                  "{field} {value!q} contains a control character"),
    "v.too_long": ("{field}: больше {limit} символов или элементов",
                   "{field} is longer than {limit} characters or items"),
    "v.bool": ("{field}: нужно да или нет (true/false), а не {value!q}",
               "{field} must be yes or no (true/false), not {value!q}"),
    "v.text": ("{field}: нужен текст, а не {value!q}", "{field} must be text, not {value!q}"),
    "v.other": ("{field}: недопустимое значение {value!q}", "{field}: {text}"),
    # --- the models' own rules (graph.models, graph.ids) ---
    "id.inn_digits": ("ИНН {value!q} должен состоять только из цифр",
                      "INN {value!q} must contain only digits"),
    "id.inn_check": ("ИНН {value} не проходит проверку контрольной цифры (последней должна "
                     "быть {expected})",
                     "INN {value} fails its check digit (expected {expected} as the last digit)"),
    "id.inn_checks": ("ИНН {value} не проходит проверку контрольных цифр (в конце должно быть "
                      "…{expected})",
                      "INN {value} fails its check digits (expected …{expected} at the end)"),
    "id.inn_length": ("в ИНН {value} должно быть 10 цифр (организация) или 12 (ИП), а не "
                      "{length}",
                      "INN {value} must have 10 digits (organisation) or 12 (individual), not "
                      "{length}"),
    "id.ogrn_digits": ("ОГРН {value!q} должен состоять только из цифр",
                       "OGRN {value!q} must contain only digits"),
    "id.ogrn_length": ("в ОГРН {value} должно быть 13 цифр (ОГРН) или 15 (ОГРНИП), а не {length}",
                       "OGRN {value} must have 13 digits (OGRN) or 15 (OGRNIP), not {length}"),
    "id.ogrn_check": ("ОГРН {value} не проходит проверку контрольной цифры (последней должна "
                      "быть {expected})",
                      "OGRN {value} fails its check digit (expected {expected} as the last "
                      "digit)"),
    "m.okved": ("{value!q} — не код ОКВЭД2 (пример: 24.51)",
                "{value!q} is not an OKVED2 code (e.g. 24.51)"),
    "m.lat_lon": ("широта и долгота указываются только вместе",
                  "lat and lon must be given together"),
    "m.own_parent": ("категория {code} не может быть родителем самой себя",
                     "category {code} cannot be its own parent"),
    "m.bom_self": ("строка состава изделия ссылается сама на себя ({code})",
                   "bill of materials line refers to itself ({code})"),
    "m.supply_self": ("компания {id} не может поставлять сама себе",
                      "company {id} cannot supply itself"),
    "m.request_self": ("компания {id} не может отправить запрос сама себе",
                       "company {id} cannot send a request to itself"),
    "m.tie_self": ("у компании {id} не может быть связи с самой собой",
                   "company {id} cannot have a tie with itself"),
    "m.tie_dates": ("связь не может закончиться ({until}) раньше, чем началась ({since})",
                    "a tie cannot end ({until}) before it starts ({since})"),
    "m.project_dates": ("проект не может закончиться раньше, чем начался",
                        "a project cannot end before it starts"),
    # --- readers ---
    "r.unclosed_quote": ("незакрытая кавычка: ячейка, открытая в строке файла {line}, не "
                         "закрыта до конца файла",
                         "unclosed quote: the quoted cell opened on line {line} of the file "
                         "runs to the end of the file"),
    "r.misplaced_quote": ("кавычка не на месте: строка файла {line} не читается как CSV",
                          "misplaced quote: line {line} of the file does not parse as CSV "
                          "({detail})"),
    "r.extra_cells": ("в строке {cells} ячеек, а в заголовке {width} — лишний разделитель или "
                      "незакрытая кавычка?",
                      "{cells} cells but the header has {width} ({extra} more): a stray "
                      "delimiter or quote?"),
    "r.not_text": ("{file}: не текстовая таблица (похоже на {what}); сохраните её как CSV "
                   "(UTF-8 или Windows-1251) или дайте файлу его настоящее расширение",
                   "{file}: not a text table (looks like {what}); save it as CSV (UTF-8 or "
                   "Windows-1251) or give the file its real extension"),
    "r.date_calendar": ("{value!q} — такой даты нет в календаре",
                        "{value!q} is not a date on the calendar"),
    "r.date_ambiguous": ("{value!q} неоднозначна: {day_a} {month_a_ru} или {day_b} "
                         "{month_b_ru}? укажите формат в заголовке столбца, например «Дата "
                         "(ДД/ММ/ГГГГ)»",
                         "{value!q} is ambiguous: {day_a} {month_a_en} or {month_b_en} {day_b}? "
                         "state the format in the column's header, e.g. `since (DD/MM/YYYY)` "
                         "or `since (MM/DD/YYYY)`"),
    "r.date_format": ("{value!q} — не дата в принятом формате (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
                      "{value!q} is not a date in a documented format (YYYY-MM-DD or "
                      "DD.MM.YYYY)"),
    "f.no_data_files": ("в {path} нет ни одного файла CSV, XLSX, JSON или JSONL",
                        "{path} holds no CSV, XLSX, JSON or JSONL file"),
    "f.not_regular": ("{path} — не обычный файл", "{path} is not a regular file"),
    "f.missing": ("{path} не существует", "{path} does not exist"),
    "f.unreadable": ("не удаётся прочитать {file}: {detail}", "cannot read {file}: {detail}"),
    "f.unknown_type": ("{file}: неизвестный тип файла {suffix}; используйте .csv, .tsv, .xlsx, "
                       ".json или .jsonl",
                       "{file}: unknown file type {suffix}; use .csv, .tsv, .xlsx, .json or "
                       ".jsonl"),
    "f.utf16": ("{file} в кодировке UTF-16; сохраните его как CSV в UTF-8 или Windows-1251",
                "{file} is UTF-16; save it as UTF-8 or Windows-1251 CSV"),
    "f.empty": ("{file} пуст", "{file} is empty"),
    "f.workbook": ("не удаётся открыть {file} как книгу Excel: {detail}",
                   "cannot open {file} as a workbook: {detail}"),
    "f.json_objects": ("{file}: ожидались объекты, а найдено {found}",
                       "{file}: expected objects, found {found}"),
    "f.json_invalid": ("{file} — не корректный JSON (строка {line}, позиция {column})",
                       "{file} is not valid JSON (line {line}, column {column}): {detail}"),
    "f.json_shape": ("{file}: ожидался список объектов или объект со списками по видам "
                     "записей",
                     "{file}: expected a list of objects or an object of lists by kind"),
    "f.jsonl_invalid": ("{file}, строка {line}: не корректный JSON",
                        "{file} line {line} is not valid JSON: {detail}"),
    "h.no_known": ("{file}: заголовок ({shown}) не подходит ни к одному известному формату; "
                   "столбцы каждого вида записей описаны в docs/formats.md",
                   "{file}: the header ({shown}) matches no known format; see docs/formats.md "
                   "for the columns of each kind"),
    "h.no_sheet": ("{file}: ни один лист не подходит к известному формату",
                   "{file}: no sheet matches a known format"),
    "h.no_format": ("{file}: заголовок не подходит ни к одному известному формату; лист "
                    "пропущен",
                    "{file}: the header matches no known format; skipped"),
    "h.guessed": ("{file}: столбец {header!q} прочитан как {field}",
                  "{file}: column {header!q} read as {field}"),
    "h.unknown": ("{file}: пропущены неизвестные столбцы: {columns}",
                  "{file}: ignored unknown column(s) {columns}"),
    "h.unknown_one": ("{header!q}", "{header!q}"),
    "h.unknown_hint": ("{header!q} (может быть, {hint}?)", "{header!q} (did you mean {hint}?)"),
    "h.region": ("{file}: регион не из перечня субъектов РФ, оставлен как написан: {shown}",
                 "{file}: region not among the subjects of the Russian Federation, kept as "
                 "written: {shown}"),
    "h.region_more": ("{shown} и ещё {more}", "{shown} and {more} more"),
    "h.region_one": ("{region!q} (строка {row})", "{region!q} (row {row})"),
    # --- references, duplicates, cycles ---
    "ref.unknown": ("нет записи {key!q} среди {kind_ru}{note}", "unknown {label} {key!q}{note}"),
    "ref.bom_parent": ("нет родителя состава изделия {key!q} среди {kind_ru}{note}",
                       "unknown bill-of-materials parent {label} {key!q}{note}"),
    "ref.parent_category": ("нет родительской категории {key!q}{note}",
                            "unknown parent category {key!q}{note}"),
    "ref.process": ("нет процесса {key!q}", "unknown process {key!q}"),
    "ref.rejected_note": (" (её собственная строка {row} в {file} отклонена)",
                          " (its own row, row {row} of {file}, was rejected)"),
    "ref.company_by_id": ("нет компании с {label_ru} {value} ни в этой загрузке, ни в хранилище",
                          "no company with {label} {value} in this load or the store"),
    "dup.conflict": ("противоречит строке {row} файла {file}: те же {keys}, но другие значения",
                     "conflicts with row {row} of {file}: same {keys} but different values"),
    "dup.category": ("противоречит строке {row} файла {file}: тот же код, но другие {fields}",
                     "conflicts with row {row} of {file}: same key but different {fields}"),
    "dup.company_inn": ("идентификатор {id!q} уже занят строкой {row} файла {file} для "
                        "компании с ИНН {inn}, а не {other}",
                        "id {id!q} is already used by row {row} of {file} for a company with "
                        "INN {inn}, not {other}"),
    "bom.cycle": ("замыкает цикл в составе изделия: {path}",
                  "closes a cycle in the bill of materials: {path}"),
    "cat.cycle": ("родитель замыкает цикл в дереве категорий: {path}",
                  "parent makes a cycle in the category tree: {path}"),
    "cat.unmapped": ("не удалось отнести {text!q} к категории (ближайшие: {guesses})",
                     "cannot map {text!q} to a category (best guesses: {guesses})"),
    # --- loads found interrupted when a store opens (graph.loads) ---
    "load.completed": ("прерванная загрузка ({load_id}{when_ru}) уже начала фиксироваться и "
                       "была завершена: строк сохранено — {rows}",
                       "an interrupted load ({load_id}{when_en}) had begun to commit and was "
                       "completed: {rows_en} now stored"),
    "load.rolled_back": ("прерванная загрузка ({load_id}{when_ru}) откачена: ни одна из её "
                         "подготовленных строк (всего {rows}) не сохранена; запустите эту "
                         "загрузку снова",
                         "an interrupted load ({load_id}{when_en}) was rolled back: none of its "
                         "staged rows ({rows}) were kept; run that ingest again"),
    "load.rolled_back_direct": ("прерванная загрузка ({load_id}{when_ru}) в пустое хранилище "
                                "откачена: ни одна из её строк не сохранена; запустите эту "
                                "загрузку снова",
                                "an interrupted load ({load_id}{when_en}) into the empty store "
                                "was rolled back: none of its rows were kept; run that ingest "
                                "again"),
    "load.direct_running": ("идёт первая загрузка в пустое хранилище ({load_id}); до её "
                            "окончания запись невозможна — повторите позже",
                            "a first load into the empty store ({load_id}) is running; "
                            "nothing else can be written until it ends — try again then"),
    # --- FNS registry files (ingest.registry, ingest.registry_fill): where and why ---
    "reg.pos_file": ("файл", "file"),
    "reg.pos_root": ("корневой элемент", "root element"),
    "reg.pos_record": ("запись {record}", "record {record}"),
    "reg.pos_record_id": ("запись {record} ({tag} {value})", "record {record} ({tag} {value})"),
    "reg.pos_in_file": ("{file}, запись {record}", "{file}, record {record}"),
    "reg.pos_line": ("строка {line}, позиция {column} (после записи {record})",
                     "line {line}, column {column} (after record {record})"),
    "reg.pos_row": ("строка {row}", "row {row}"),
    "reg.not_xml": ("не файл XML; пропущен", "not an XML file; skipped"),
    "reg.truncated": ("файл обрывается внутри элемента (обрезан?); записи до этого места "
                      "прочитаны", "the file ends inside an element (truncated?); the records "
                      "before it were read"),
    "reg.bad_xml": ("некорректный XML; записи до этого места прочитаны",
                    "not well-formed XML ({detail}); the records before it were read"),
    "reg.namespace": ("элемент <{local}> в пространстве имён XML {uri!q}; у файлов реестров "
                      "ФНС нет пространства имён — не прочитан",
                      "element <{local}> is in the XML namespace {uri!q}; FNS registry files "
                      "have no namespace — not read"),
    "reg.not_fns": ("корневой элемент <{tag}> — не файл реестра ФНС (ожидался <Файл>, <СвЮЛ> "
                    "или <СвИП>) — не прочитан",
                    "root element <{tag}> is not an FNS registry file (expected <Файл>, <СвЮЛ> "
                    "or <СвИП>) — not read"),
    "reg.not_sme": ("нет ни ОргВклМСП, ни ИПВклМСП: не документ реестра МСП",
                    "neither ОргВклМСП nor ИПВклМСП: not an SME-register document"),
    "reg.kind_mismatch": ("ВидСубМСП={value!q} не соответствует блоку {block} записи",
                          "ВидСубМСП={value!q} does not match the record's {block}"),
    "reg.no_inn": ("нет ИНН", "no INN"),
    "reg.no_name": ("нет названия", "no name"),
    "reg.without": ("{reason}; загружено без него", "{reason}; loaded without it"),
    "reg.okved_2001": ("ОКВЭД {code} — редакции 2001 года (ОК 029-2001), не ОКВЭД2; не загружен",
                       "OKVED {code} is of the 2001 edition (ОК 029-2001), not OKVED2; "
                       "not loaded"),
    "reg.okved_edition": ("неизвестная редакция ОКВЭД {version!q} для кода {code}; ожидалась "
                          "2014 (ОКВЭД2); не загружен",
                          "unknown OKVED edition {version!q} for code {code}; expected 2014 "
                          "(OKVED2); not loaded"),
    "reg.not_okved2": ("{code!q} — не код ОКВЭД2; не загружен",
                       "{code!q} is not an OKVED2 code; not loaded"),
    "reg.inn_repeated": ("ИНН {inn} уже прочитан ({where}); эта запись пропущена",
                         "INN {inn} was already read ({where}); this record is skipped"),
    "reg.no_file": ("{path}: нет такого файла", "{path}: no such file"),
    "reg.no_inn_column": ("{file}: нет столбца inn или ИНН (столбцы: {columns})",
                          "{file}: no column named inn or ИНН (columns: {columns})"),
    # --- entity resolution: why two companies were merged or are up for review ---
    "er.same_id": ("тот же {label_ru} {value}", "same {label} {value}"),
    "er.same_id_other_inn": ("тот же {label_ru} {value} — разные ИНН, не сливаются никогда",
                             "same {label} {value} but different INNs — never merged"),
    "er.accepted": ("принято проверяющим", "accepted by a reviewer"),
    "er.same_row_id": ("тот же идентификатор {id!q}, что в строке {row} файла {file}",
                       "same id {id!q} as row {row} of {file}"),
    "er.same_company": ("та же компания", "same company"),
    "er.similar": ("похожее название, {where}: {names}{extra}",
                   "similar name in {where_en}: {names_en}{extra_en}"),
}

_COORD = {"lat": ("широта", "latitude"), "lon": ("долгота", "longitude")}
_ID_LABEL = {"INN": "ИНН", "OGRN": "ОГРН"}
_WHAT_RU = {"binary": "двоичный файл"}


class Msg(str):
    """A sentence with a stable ``code`` and ``params``; as a ``str``, its English text."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> Msg:
        if code not in CATALOGUE:
            raise KeyError(f"no message {code!r} in graph.messages.CATALOGUE")
        text = render_code(code, params, "en")
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = params
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, self.params))

    def render(self, lang: Lang) -> str:
        """The sentence in ``lang``."""
        return render_code(self.code, self.params, lang)


def _rebuild(code: str, params: dict[str, Any]) -> Msg:
    return Msg(code, **params)


def _show_number(x: float | int, lang: Lang) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or float(x).is_integer():
        return number(x, lang) if abs(x) < 1e15 else repr(x)
    digits = min(6, max(1, len(repr(float(x)).split(".")[-1].split("e")[0])))
    return number(x, lang, digits)


class _Formatter(string.Formatter):
    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "q":
            if self.lang == "ru":
                return f"«{value}»"
            return repr(value)
        if conversion == "l":
            items = [str(v) for v in value] if isinstance(value, Sequence) \
                and not isinstance(value, str) else [str(value)]
            if len(items) <= 1:
                return "".join(items)
            last = " или " if self.lang == "ru" else " or "
            return ", ".join(items[:-1]) + last + items[-1]
        if conversion is None and isinstance(value, (int, float)) and not isinstance(value, bool):
            return _show_number(value, self.lang)
        return super().convert_field(value, conversion)


def _prepared(code: str, params: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """``params`` with nested messages rendered and the derived words the templates use."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, list) and any(isinstance(v, Msg) for v in value):
            out[key] = ", ".join(render(v, lang) for v in value)
        else:
            out[key] = render(value, lang) if isinstance(value, Msg) else value
    if "coord" in params:
        out["coord_ru"], out["coord_en"] = _COORD.get(params["coord"], (params["coord"],) * 2)
    if "label" in params:
        out["label_ru"] = _ID_LABEL.get(str(params["label"]), params["label"])
    if "kind" in params:
        out["kind_ru"] = KIND_RU.get(str(params["kind"]), (str(params["kind"]),))[0]
        out.setdefault("label", params["kind"])
    if code.startswith("load."):
        started = params.get("started_at")
        out["when_ru"] = f", начата {started}" if started else ""
        out["when_en"] = f", started {started}" if started else ""
        rows = int(params.get("rows", 0))
        out["rows_en"] = f"its {number(rows, 'en')} " + ("row is" if rows == 1 else "rows are")
    if code == "r.not_text" and lang == "ru":
        out["what"] = _WHAT_RU.get(str(params.get("what")), params.get("what"))
    for key in ("note", "extra", "extra_en"):
        out.setdefault(key, "")
    # positions, not quantities: never grouped ("row 1234")
    for key in ("row", "line", "column", "record"):
        if isinstance(out.get(key), int):
            out[key] = str(out[key])
    return out


def render_code(code: str, params: Mapping[str, Any], lang: Lang) -> str:
    """The sentence of ``code`` with ``params`` in ``lang``."""
    ru, en = CATALOGUE[code]
    return _Formatter(lang).vformat(ru if lang == "ru" else en, (), _prepared(code, params, lang))


def render(text: Any, lang: Lang) -> str:
    """A :class:`Msg` in ``lang``; any other text as it is."""
    if isinstance(text, Msg):
        return text.render(lang)
    return str(text)
