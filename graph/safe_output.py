"""Make text safe to put in files other programs open: CSV cells and XML 1.0.

Two rules, each written once and imported by every writer:

- :func:`csv_cell` neutralises spreadsheet formulas (OWASP "CSV injection"): a
  text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is prefixed with ``'``, so Excel and LibreOffice show it as text
  instead of running it. Numbers stay numbers — only ``str`` cells change. A
  company name is a member's own text; ``=HYPERLINK(…)`` in it must not become a
  link in the cluster centre's spreadsheet.
- :func:`xml_text` drops the characters XML 1.0 forbids (NUL and the other C0
  controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF), which would
  otherwise produce a GraphML file no parser reads back.

:func:`sheet_row` applies both to a row of an XLSX sheet: a worksheet is XML, and
openpyxl would store a text beginning with ``=`` as a formula.

``graph`` holds this because every package writes files: ``ingest`` its rejects,
``queries`` its exports, ``api`` the CLI's CSV options.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["FORMULA_PREFIXES", "csv_cell", "csv_dict_rows", "csv_row", "csv_rows", "sheet_row",
           "xml_text"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# XML 1.0 Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def csv_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Examples
    --------
    >>> csv_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> csv_cell("-1+1"), csv_cell(-1), csv_cell(2.5), csv_cell("ООО Литьё")
    ("'-1+1", -1, 2.5, 'ООО Литьё')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`csv_cell`."""
    return [csv_cell(v) for v in values]


def csv_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Every row through :func:`csv_row` (for ``csv.writer.writerows``)."""
    return [csv_row(r) for r in rows]


def csv_dict_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every value of dict rows through :func:`csv_cell` (for ``csv.DictWriter``)."""
    return [{k: csv_cell(v) for k, v in r.items()} for r in rows]


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry.

    Examples
    --------
    >>> xml_text("ООО\\x00 Литьё\\x01\\ufffe")
    'ООО Литьё'
    """
    return _NOT_XML.sub("", value)


def sheet_row(values: Iterable[Any]) -> list[Any]:
    """A row for an XLSX sheet: text XML-safe and never a formula; lists joined with ``|``.

    Examples
    --------
    >>> sheet_row(["=1+1", "Литьё\\x01", 5, ["a", "b"], None])
    ["'=1+1", 'Литьё', 5, 'a|b', None]
    """
    row = []
    for value in values:
        if isinstance(value, list | tuple | set):
            value = "|".join(map(str, value))
        elif isinstance(value, dict):
            value = str(value)
        row.append(csv_cell(xml_text(value)) if isinstance(value, str) else value)
    return row
