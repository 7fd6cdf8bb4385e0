"""Readers: turn CSV, XLSX, JSON and JSON Lines files into tables of rows.

A :class:`Table` is a header plus rows numbered as the user sees them — in a
CSV the header is row 1 and the first data row is row 2; in a spreadsheet it
is the sheet's row number; in JSON the position of the object (from 1); in
JSON Lines the line number. Rows are produced lazily in chunks, so a
million-row file never sits in memory as a whole.

CSV encodings are detected in the order that cannot be fooled: a byte-order
mark first, then strict UTF-8 over the whole file, then Windows-1251 (which
decodes any bytes, so it is the last resort). The delimiter (``,`` ``;`` or
tab) is the one that splits the header and the next lines into the most,
equally many, columns.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from coopgraph.graph.errors import IngestError
from coopgraph.graph.messages import Msg

__all__ = [
    "DATA_SUFFIXES",
    "Malformed",
    "Table",
    "cell_text",
    "detect_encoding",
    "expand_paths",
    "open_tables",
    "sniff_binary",
    "sniff_delimiter",
]

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
JSON_SUFFIXES = frozenset({".json"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
DATA_SUFFIXES = CSV_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | XLSX_SUFFIXES

Row = tuple[int, list[Any]]


@dataclass
class Table:
    """One table of an input file: a header and numbered rows.

    ``name`` is how reports refer to it (``companies.csv``, ``book.xlsx[Лист1]``);
    ``hint`` is the name that suggests its kind (file stem or sheet name).
    ``rows()`` opens the source again each time it is called.
    """

    path: Path
    name: str
    hint: str
    headers: list[str]
    _rows: Callable[[], Iterator[Row]]
    encoding: str | None = None
    delimiter: str | None = None
    kind_hint: str | None = None  # a JSON object's key ({"companies": [...]})
    notes: list[str] = field(default_factory=list)

    def rows(self) -> Iterator[Row]:
        """``(row_number, values)`` pairs, values aligned with ``headers``."""
        return self._rows()

    def chunks(self, size: int) -> Iterator[list[Row]]:
        """The rows in lists of at most ``size``."""
        rows = self._rows()
        while chunk := list(islice(rows, size)):
            yield chunk


# --- paths -----------------------------------------------------------------------


def expand_paths(paths: list[str | Path] | tuple[str | Path, ...]) -> list[Path]:
    """Files named directly, plus the data files (by extension) in named directories.

    Raises
    ------
    IngestError
        When a path does not exist or a directory holds no data file.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                           and not p.name.startswith((".", "~$")))
            if not found:
                raise IngestError(Msg("f.no_data_files", path=str(path)))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise IngestError(Msg("f.not_regular", path=str(path)))
        else:
            raise IngestError(Msg("f.missing", path=str(path)))
    unique: dict[Path, None] = {}
    for f in files:
        unique.setdefault(f.resolve(), None)
    return list(unique)


def open_tables(path: Path) -> list[Table]:
    """The tables of one file (several for a workbook or a JSON object of lists).

    Raises
    ------
    IngestError
        When the file cannot be read or parsed, or its extension is unknown.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in JSON_SUFFIXES | JSONL_SUFFIXES | CSV_SUFFIXES:
            with open(path, "rb") as handle:
                what = sniff_binary(handle.read(8192))
            if what is not None:
                raise _not_text(path.name, what)
        if suffix in XLSX_SUFFIXES:
            return _xlsx_tables(path)
        if suffix in JSON_SUFFIXES:
            return _json_tables(path)
        if suffix in JSONL_SUFFIXES:
            return [_jsonl_table(path)]
        if suffix in CSV_SUFFIXES:
            return [_csv_table(path)]
    except IngestError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(Msg("f.unreadable", file=path.name, detail=str(exc))) from exc
    raise IngestError(Msg("f.unknown_type", file=path.name, suffix=suffix or "(—)"))


# --- CSV -------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (a BOM), ``utf-8`` (decodes strictly) or ``cp1251`` (anything else).

    The file is decoded in 1 MiB pieces, so a large file is never held whole.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise IngestError(Msg("f.utf16", file=path.name))
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while piece := handle.read(1 << 20):
                decoder.decode(piece)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"
    return "utf-8"


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``,`` ``;`` tab that splits ``sample`` most consistently.

    Examples
    --------
    >>> sniff_delimiter("a;b;c\\n1;2,5;3\\n")
    ';'
    >>> sniff_delimiter("a,b\\n1,2\\n")
    ','
    """
    lines = [ln for ln in sample.splitlines() if ln.strip()][:20]
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for delim in (";", "\t", ","):
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        agree = sum(1 for r in rows[1:] if len(r) == width)
        score = (agree, width)
        if score > best_score:
            best, best_score = delim, score
    return best


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "ZIP"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "XLS"),
    (b"%PDF", "PDF"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
)


def sniff_binary(head: bytes) -> str | None:
    r"""What a file that is not a text table looks like (``gzip``, ``XLSX``…), or None.

    Examples
    --------
    >>> sniff_binary(b"\x1f\x8b\x08\x00"), sniff_binary("ИНН;Наименование\n".encode())
    ('gzip', None)
    """
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            if what == "ZIP" and (b"[Content_Types].xml" in head or b"xl/" in head):
                return "XLSX"
            return what
    if b"\x00" in head:
        return "binary"
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    if head and controls > max(2, len(head) // 100):
        return "binary"
    return None


def _not_text(name: str, what: str) -> IngestError:
    return IngestError(Msg("r.not_text", file=name, what=what))


class Malformed(list[Any]):
    """The cells of a record the reader could not split right, with the reason.

    The pipeline rejects such a row (file, record number, reason) instead of
    loading what the split happened to give.
    """

    def __init__(self, values: list[Any], reason: str) -> None:
        super().__init__(values)
        self.reason = reason


def _csv_table(path: Path) -> Table:
    encoding = detect_encoding(path)
    try:
        with open(path, encoding=encoding, newline="") as handle:
            sample = handle.read(64 * 1024)
    except UnicodeDecodeError:
        raise _not_text(path.name, "binary") from None
    if not sample.strip():
        raise IngestError(Msg("f.empty", file=path.name))
    delimiter = sniff_delimiter(sample)
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    headers = [h.strip() for h in header]
    while len(headers) > 1 and not headers[-1]:
        headers.pop()  # a trailing delimiter in the header adds no column

    def rows() -> Iterator[Row]:
        try:
            yield from _csv_records(path, encoding, delimiter, len(headers))
        except UnicodeDecodeError:
            raise _not_text(path.name, "binary") from None

    return Table(path, path.name, path.stem, headers, rows, encoding=encoding,
                 delimiter=delimiter)


def _csv_records(path: Path, encoding: str, delimiter: str, width: int) -> Iterator[Row]:
    """The data records of a CSV file, numbered as Excel numbers its rows.

    The header is record 1; a line break inside a quoted cell does not start a
    new record, a blank line does (Excel shows it as an empty row). A record
    with more cells than the header, a stray quote, or a quote that is never
    closed comes back as :class:`Malformed`; after a quote error, reading
    resumes on the physical line after the one where the bad record began.
    """
    skip_lines = 1  # physical lines to skip: the header first
    number = 1  # the record number of the last record read
    bad: tuple[int, str] | None = None  # a record to reject once its line is re-read
    while True:
        with open(path, encoding=encoding, newline="") as handle:
            line = ""
            for _ in range(skip_lines):
                line = handle.readline()
                if not line:
                    break
            if bad is not None:
                yield bad[0], Malformed([line.rstrip("\r\n")], bad[1])
                bad = None
            if not line:
                return
            lines_before = skip_lines
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            resume_at = None
            while True:
                start_line = lines_before + reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    number += 1
                    if "unexpected end of data" in str(exc):
                        reason = Msg("r.unclosed_quote", line=start_line)
                    else:
                        reason = Msg("r.misplaced_quote", line=start_line, detail=str(exc))
                    bad = (number, reason)
                    resume_at = start_line  # go on with the line after the one it began on
                    break
                number += 1
                if not values or (not values[0].strip() and not "".join(values).strip()):
                    continue  # a blank line or a row of empty cells
                if len(values) > width and any(v.strip() for v in values[width:]):
                    extra = len(values) - width
                    yield number, Malformed(values[:width], Msg(
                        "r.extra_cells", cells=len(values), width=width, extra=extra))
                    continue
                if len(values) < width:
                    values.extend([""] * (width - len(values)))
                elif len(values) > width:
                    del values[width:]  # trailing empty cells
                yield number, values
        if resume_at is None:
            return
        skip_lines = resume_at


# --- XLSX ------------------------------------------------------------------------


def cell_text(value: Any) -> Any:
    """A spreadsheet or JSON value as the text a CSV would hold (lists stay lists).

    Integral floats lose their ``.0`` (an INN typed as a number comes back as
    ``7707083893.0``), dates become ISO text, ``None`` becomes ``''``.

    Examples
    --------
    >>> cell_text(7707083893.0), cell_text(2.5), cell_text(None)
    ('7707083893', '2.5', '')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [cell_text(v) for v in value]
    return str(value)


def _xlsx_tables(path: Path) -> list[Table]:
    import openpyxl  # imported here: only workbooks need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise IngestError(Msg("f.workbook", file=path.name, detail=str(exc))) from exc
    tables: list[Table] = []
    try:
        for sheet in book.worksheets:
            header_row, headers = 0, []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if any(v is not None and str(v).strip() for v in values):
                    header_row = number
                    headers = [str(cell_text(v)).strip() for v in values]
                    break
            while headers and not headers[-1]:
                headers.pop()
            if not headers:
                continue
            tables.append(Table(path, f"{path.name}[{sheet.title}]", sheet.title, headers,
                                _sheet_rows(path, sheet.title, header_row, len(headers))))
    finally:
        book.close()
    return tables


def _sheet_rows(path: Path, title: str, header_row: int, width: int) -> Callable[[], Iterator[Row]]:
    def rows() -> Iterator[Row]:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book[title]
            for number, values in enumerate(
                    sheet.iter_rows(min_row=header_row + 1, values_only=True),
                    start=header_row + 1):
                cells = [cell_text(v) for v in values[:width]]
                if not any(isinstance(c, list) or c.strip() for c in cells):
                    continue
                if len(cells) < width:
                    cells.extend([""] * (width - len(cells)))
                yield number, cells
        finally:
            book.close()

    return rows


# --- JSON ------------------------------------------------------------------------


def _objects_table(path: Path, name: str, hint: str, objects: list[Any],
                   numbers: list[int], kind_hint: str | None = None) -> Table:
    headers: dict[str, None] = {}
    for obj in objects:
        if not isinstance(obj, dict):
            raise IngestError(Msg("f.json_objects", file=name, found=type(obj).__name__))
        for key in obj:
            headers.setdefault(str(key), None)
    order = list(headers)

    def rows() -> Iterator[Row]:
        for number, obj in zip(numbers, objects, strict=True):
            yield number, [cell_text(obj.get(h)) for h in order]

    return Table(path, name, hint, order, rows, kind_hint=kind_hint)


def _json_tables(path: Path) -> list[Table]:
    with open(path, encoding="utf-8-sig") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            raise IngestError(Msg("f.json_invalid", file=path.name, line=exc.lineno,
                                  column=exc.colno, detail=exc.msg)) from exc
    if isinstance(data, list):
        return [_objects_table(path, path.name, path.stem, data, list(range(1, len(data) + 1)))]
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        return [
            _objects_table(path, f"{path.name}[{key}]", key, items,
                           list(range(1, len(items) + 1)), kind_hint=key)
            for key, items in data.items() if items
        ]
    raise IngestError(Msg("f.json_shape", file=path.name))


def _jsonl_table(path: Path) -> Table:
    objects: list[Any] = []
    numbers: list[int] = []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise IngestError(Msg("f.jsonl_invalid", file=path.name, line=number,
                                             detail=exc.msg)) from exc
            numbers.append(number)
    if not objects:
        raise IngestError(Msg("f.empty", file=path.name))
    return _objects_table(path, path.name, path.stem, objects, numbers)
