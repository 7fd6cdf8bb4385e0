"""The ingest report: what was read, loaded, merged and rejected — and why.

:class:`IngestReport` is the result of :func:`ingest.pipeline.ingest_paths`:
per-file counts (``read = loaded + merged + rejected``, so no row is lost
silently), every rejected row's problems as ``(file, row, column, reason)``,
every company merge with its reason and score, pairs left for review, and the
capability texts mapped to categories with low confidence. It serialises to
JSON and renders as a short Markdown page; :func:`write_rejects` writes each
file's rejected rows (same columns + ``_row``, ``_column``, ``_reason``) next
to them.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from coopgraph.graph.i18n import Lang, number
from coopgraph.graph.messages import CATALOGUE, KIND_RU, Msg, render
from coopgraph.graph.safe_output import csv_row

__all__ = [
    "CategoryMapping",
    "Coded",
    "FileSummary",
    "IngestReport",
    "Merge",
    "Reject",
    "ReviewPair",
    "coded",
    "er_message",
    "localize_json",
    "write_rejects",
    "write_report",
]


class Reject(BaseModel):
    """One problem of one rejected row: ``code`` and ``params`` say it in any language
    (:mod:`graph.messages`); ``reason`` is its text in the report's language."""

    file: str
    row: int
    column: str
    reason: str
    code: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class Coded(BaseModel):
    """A warning's code and parameters (empty when it has none)."""

    code: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"$msg": value.code, "params": _jsonable(value.params)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _restored(value: Any) -> Any:
    if isinstance(value, dict):
        if "$msg" in value and value["$msg"] in CATALOGUE:
            return Msg(value["$msg"], **_restored(value.get("params") or {}))
        return {k: _restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restored(v) for v in value]
    return value


def coded(text: Any) -> dict[str, Any]:
    """``{"code", "params"}`` of a :class:`~graph.messages.Msg` (JSON-ready); empty for text."""
    if isinstance(text, Msg):
        return {"code": text.code, "params": _jsonable(text.params)}
    return {"code": "", "params": {}}


def _say(code: str, params: dict[str, Any], fallback: str, lang: Lang) -> str:
    """The sentence of ``code`` in ``lang``; ``fallback`` when there is no such code."""
    if code in CATALOGUE:
        try:
            return Msg(code, **_restored(params)).render(lang)
        except (KeyError, IndexError, ValueError, TypeError):  # params of another version
            return fallback
    return fallback


# --- entity resolution's notes (ingest.resolve writes them in English) ---------------

_ER_PHRASES = {
    "different INNs": "разные ИНН",
    "different regions": "разные регионы",
    "same coordinates": "те же координаты",
    "same distinctive name": "то же отличительное название",
    "a number on one side only": "число только в одном названии",
    "a distinctive word on one side only": "отличительное слово только в одном названии",
    "only generic words differ (holdings, industries …)":
        "различаются только общие слова (холдинг, индастриз …)",
    "similar name, every distinctive word agrees":
        "похожие названия, все отличительные слова совпадают",
    "no municipality": "муниципалитет не указан",
}
_SAME_ID = re.compile(r"^same (INN|OGRN) (\S+)$")
_SAME_ID_OTHER = re.compile(r"^same (INN|OGRN) (\S+) but different INNs — never merged$")
_SIMILAR = re.compile(r"^similar name in (?P<where>.*?): (?P<names>'.*' ~ '.*'|\".*\" ~ .*?)"
                      r"(?P<tail>(?:, [^()]*)?(?: \((?P<why>[^()]*(?:\([^()]*\)[^()]*)*)\))?)$")
_OKVED = re.compile(r"^same main OKVED (\S+)$")


def _er_phrase(text: str) -> str:
    match = _OKVED.match(text)
    if match:
        return f"тот же основной ОКВЭД {match.group(1)}"
    return _ER_PHRASES.get(text, text)


def er_message(reason: str) -> Msg | str:
    """A merge or review note of :mod:`ingest.resolve` as a coded message (else as is).

    The resolver's rules (and their English notes) belong to entity resolution; this
    only reads them back, so that the report can say them in Russian too.
    """
    if isinstance(reason, Msg):
        return reason
    if reason == "accepted by a reviewer":
        return Msg("er.accepted")
    if reason == "same company":
        return Msg("er.same_company")
    match = _SAME_ID_OTHER.match(reason)
    if match:
        return Msg("er.same_id_other_inn", label=match.group(1), value=match.group(2))
    match = _SAME_ID.match(reason)
    if match:
        return Msg("er.same_id", label=match.group(1), value=match.group(2))
    match = _SIMILAR.match(reason)
    if match:
        tail = match.group("tail") or ""
        why = match.group("why")
        also = tail[2:].split(" (")[0] if tail.startswith(", ") else ""
        extra_ru = (f", {_er_phrase(also)}" if also else "") + (
            f" ({_er_phrase(why)})" if why else "")
        return Msg("er.similar", where=_er_phrase(match.group("where")),
                   where_en=match.group("where"), names=match.group("names").replace(
                       "' ~ '", "» ~ «").replace("'", "«", 1)[:-1] + "»"
                   if match.group("names").startswith("'") else match.group("names"),
                   extra=extra_ru, extra_en=tail, names_en=match.group("names"))
    return reason


class Merge(BaseModel):
    """A company folded into another: ``merged_id`` now lives on as ``kept_id``."""

    kept_id: str
    kept_name: str
    merged_id: str
    merged_name: str
    file: str | None = None
    row: int | None = None
    reason: str
    score: float
    code: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class ReviewPair(BaseModel):
    """Two companies that may be the same; not merged, a human should decide."""

    a_id: str
    a_name: str
    b_id: str
    b_name: str
    reason: str
    score: float
    code: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class CategoryMapping(BaseModel):
    """A capability text mapped to a category with less than full confidence."""

    file: str
    row: int
    text: str
    category: str
    confidence: float
    alternatives: list[tuple[str, float]] = Field(default_factory=list)


class FileSummary(BaseModel):
    """Counts for one input table: ``read = loaded + unchanged + merged + rejected``.

    ``unchanged``: rows the store already held with exactly these values (a second
    load of the same file reports them here, not as ``loaded``).
    """

    file: str
    kind: str
    read: int = 0
    loaded: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


class IngestReport(BaseModel):
    """Everything one ingest did (see the module docstring)."""

    files: list[FileSummary] = Field(default_factory=list)
    rejects: list[Reject] = Field(default_factory=list)
    merges: list[Merge] = Field(default_factory=list)
    review: list[ReviewPair] = Field(default_factory=list)
    low_confidence: list[CategoryMapping] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    warning_codes: list[Coded] = Field(default_factory=list)  # one per warning
    lang: Lang = "en"  # the language of every reason and warning text
    seconds: float = 0.0
    rejects_dir: str | None = None
    load_id: str | None = None  # the store load that wrote it (graph.loads)
    report_files: list[str] = Field(default_factory=list)

    def code_texts(self) -> None:
        """Give every merge, review pair and warning its code (rejects get theirs when made)."""
        items: list[Merge | ReviewPair] = [*self.merges, *self.review]
        for item in items:
            if not item.code:
                said = coded(er_message(item.reason))
                item.code, item.params = said["code"], said["params"]
        codes = list(self.warning_codes)
        self.warning_codes = [
            codes[i] if i < len(codes) and codes[i].code else Coded(**coded(w))
            for i, w in enumerate(self.warnings)]

    def set_lang(self, lang: Lang) -> None:
        """Say every reason and warning in ``lang`` from now on (in place)."""
        new = self.localized(lang)
        for name in ("rejects", "merges", "review", "warnings", "warning_codes", "lang"):
            setattr(self, name, getattr(new, name))

    def localized(self, lang: Lang) -> IngestReport:
        """A copy with every reason and warning in ``lang`` (codes and params unchanged)."""
        self.code_texts()
        data = localize_json(self.model_dump(mode="json"), lang)
        return IngestReport.model_validate(data)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejects

    def total(self, what: str) -> int:
        """The sum of one count (``read``, ``loaded``, ``unchanged``, ``merged``, ``rejected``)."""
        return sum(int(getattr(f, what)) for f in self.files)

    @property
    def rejected_rows(self) -> int:
        return self.total("rejected")

    @property
    def rows_per_s(self) -> float:
        return self.total("read") / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The totals as a small dict."""
        return {
            "ok": self.ok,
            "read": self.total("read"),
            "loaded": self.total("loaded"),
            "unchanged": self.total("unchanged"),
            "merged": self.total("merged"),
            "rejected": self.total("rejected"),
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s),
        }

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (with the totals and per-file throughput)."""
        self.code_texts()
        data = self.model_dump(mode="json")
        data["summary"] = self.summary()
        for item, summary in zip(data["files"], self.files, strict=True):
            item["rows_per_s"] = round(summary.rows_per_s)
        return data

    def to_markdown(self, *, limit: int = 50, lang: Lang | None = None) -> str:
        """A short human-readable page: per-file table, then the first problems.

        In ``lang`` (default: the report's own language)."""
        lg: Lang = lang or self.lang
        if lg != self.lang:
            return self.localized(lg).to_markdown(limit=limit)
        ru = lg == "ru"
        s = self.summary()

        def n(x: float) -> str:
            return number(x, lg)

        lines = [
            "# Отчёт о загрузке" if ru else "# Ingest report", "",
            (f"Прочитано строк: {n(s['read'])}, загружено {n(s['loaded'])}, без изменений "
             f"{n(s['unchanged'])}, слито {n(s['merged'])}, отклонено {n(s['rejected'])} за "
             f"{number(s['seconds'], lg, 3)} с ({n(s['rows_per_s'])} строк/с)." if ru else
             f"{s['read']} rows read, {s['loaded']} loaded, {s['unchanged']} unchanged, "
             f"{s['merged']} merged, {s['rejected']} rejected in {s['seconds']} s "
             f"({s['rows_per_s']} rows/s)."), "",
            ("| файл | вид | прочитано | загружено | без изменений | слито | отклонено | "
             "строк/с |" if ru else
             "| file | kind | read | loaded | unchanged | merged | rejected | rows/s |"),
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for f in self.files:
            kind = KIND_RU.get(f.kind, ("", f.kind))[1] if ru else f.kind
            lines.append(f"| {f.file} | {kind} | {n(f.read)} | {n(f.loaded)} | "
                         f"{n(f.unchanged)} | {n(f.merged)} | {n(f.rejected)} | "
                         f"{n(round(f.rows_per_s))} |")
        score = "оценка" if ru else "score"
        sections: list[tuple[str, Sequence[str]]] = [
            ("Отклонённые строки" if ru else "Rejected rows", [
                (f"- {r.file}, строка {r.row}, столбец `{r.column}`: {r.reason}" if ru else
                 f"- {r.file} row {r.row}, column `{r.column}`: {r.reason}")
                for r in self.rejects]),
            ("Слитые компании" if ru else "Merged companies", [
                f"- {m.merged_id} → {m.kept_id} ({m.reason}; {score} {number(m.score, lg, 1)})"
                for m in self.merges]),
            ("На проверку (не слиты)" if ru else "For review (not merged)", [
                f"- {p.a_id} ? {p.b_id}: {p.reason} ({score} {number(p.score, lg, 1)})"
                for p in self.review]),
            ("Категории, отнесённые неуверенно" if ru else "Low-confidence category mappings", [
                f"- {c.file} {'строка' if ru else 'row'} {c.row}: {c.text!r} → {c.category} "
                f"({number(c.confidence, lg, 2)})" for c in self.low_confidence]),
            ("Предупреждения" if ru else "Warnings", [f"- {w}" for w in self.warnings]),
        ]
        for title, items in sections:
            if not items:
                continue
            lines += ["", f"## {title} ({n(len(items))})", ""]
            lines += list(items[:limit])
            if len(items) > limit:
                lines.append(f"- … и ещё {n(len(items) - limit)} (см. report.json)" if ru else
                             f"- … and {len(items) - limit} more (see report.json)")
        return "\n".join(lines) + "\n"


def localize_json(data: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """A report's JSON (:meth:`IngestReport.to_json`, or a job's copy of it) with every
    reason and warning rendered in ``lang`` from its code and params."""
    out = dict(data)
    out["lang"] = lang
    rejects = []
    for item in data.get("rejects") or []:
        if isinstance(item, dict) and item.get("code"):
            item = {**item, "reason": _say(item["code"], item.get("params") or {},
                                           str(item.get("reason", "")), lang)}
        rejects.append(item)
    out["rejects"] = rejects
    for key in ("merges", "review"):
        items = []
        for item in data.get(key) or []:
            if isinstance(item, dict):
                code, params = item.get("code"), item.get("params") or {}
                if not code:
                    said = coded(er_message(str(item.get("reason", ""))))
                    code, params = said["code"], said["params"]
                item = {**item, "code": code, "params": params,
                        "reason": _say(code or "", params, str(item.get("reason", "")), lang)}
            items.append(item)
        out[key] = items
    warnings = list(data.get("warnings") or [])
    codes = list(data.get("warning_codes") or [])
    out["warnings"] = [
        _say(c.get("code", ""), c.get("params") or {}, str(w), lang)
        if i < len(codes) and isinstance(c := codes[i], dict) else str(w)
        for i, w in enumerate(warnings)]
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_rejects(directory: Path, table_name: str, headers: Sequence[str],
                  rows: Sequence[tuple[int, Sequence[Any], str, Any]],
                  delimiter: str = ",", lang: Lang = "en") -> Path:
    """Write one table's rejected rows: its columns plus ``_row``, ``_column``, ``_reason``.

    ``rows`` holds ``(row, values, columns, reasons)`` (``reasons``: a text, or the
    row's messages, rendered in ``lang`` and joined with ``"; "``); the file is UTF-8 with a
    BOM so that Excel opens it with Cyrillic intact, and text cells that a
    spreadsheet would run as formulas are neutralised (:func:`graph.safe_output.csv_cell`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_safe(table_name)}.rejects.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(csv_row([*headers, "_row", "_column", "_reason"]))
        for row, values, columns, reasons in rows:
            if isinstance(reasons, list | tuple):
                reasons = "; ".join(render(r, lang) for r in reasons)
            cells = ["|".join(map(str, v)) if isinstance(v, list) else v for v in values]
            writer.writerow(csv_row([*cells, row, columns, reasons]))
    return path


def write_report(directory: Path, report: IngestReport) -> list[Path]:
    """Write ``report.json`` and ``report.md`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "report.json", directory / "report.md"
    json_path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2),
                         encoding="utf-8")
    md_path.write_text(report.to_markdown(), encoding="utf-8")  # in report.lang
    return [json_path, md_path]
