"""The two languages people read CoopGraph in, and their number and plural rules.

Russian is the first language. Numbers, shares and plurals follow CLDR through
Babel (``1 234 567,5``, ``3 рекомендованные связи``, ``8 участников``) rather than
Python's English ``f"{x:,}"``. Every layer (ingest reports, query sentences, the CLI,
exports) formats through these few functions, so a figure reads the same
everywhere. Babel is imported on first use: ``coopgraph --help`` stays fast.

>>> count(3, "ru", ("рекомендованная связь", "рекомендованные связи",
...                 "рекомендованных связей"), ("recommended link", "recommended links"))
'3 рекомендованные связи'
>>> number(1234567.5, "ru", 1)
'1\\xa0234\\xa0567,5'
>>> number(1234567.5, "en")
'1,234,568'
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from babel import Locale

__all__ = [
    "LANGS", "Lang", "count", "csv_number", "default_lang", "number", "parse_lang", "percent",
    "plural_form", "rub", "tr",
]

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")


def parse_lang(value: str | None) -> Lang | None:
    """``"ru"``/``"en"`` from a flag or a locale (``ru_RU.UTF-8`` → ``"ru"``); else ``None``."""
    if not value:
        return None
    head = value.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    return "ru" if head == "ru" else "en" if head == "en" else None


def default_lang(environ: Mapping[str, str] | None = None) -> Lang:
    """The language of a command line: ``COOPGRAPH_LANG``, else the POSIX locale, else English.

    The locale variables are read in POSIX order of precedence (``LC_ALL``,
    ``LC_MESSAGES``, ``LANG``); ``C``/``POSIX`` and unknown languages give English.
    """
    env = os.environ if environ is None else environ
    for var in ("COOPGRAPH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return parse_lang(value) or "en"
    return "en"


def tr(lang: Lang, ru: str, en: str) -> str:
    """The text in ``lang``."""
    return ru if lang == "ru" else en


@lru_cache(maxsize=4)
def _locale(lang: Lang) -> Locale:
    from babel import Locale

    return Locale.parse("ru_RU" if lang == "ru" else "en_US")


def _pattern(digits: int, group: bool = True) -> str:
    head = "#,##0" if group else "0"
    return head + ("." + "#" * digits if digits > 0 else "")


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> Any:
    """A parsed Babel number pattern: parsing is most of ``format_decimal``'s cost."""
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


def _format(x: float | int, pattern: str, lang: Lang) -> str:
    return str(_compiled(pattern).apply(x, _locale(lang)))


@lru_cache(maxsize=4)
def _symbols(lang: Lang) -> tuple[str, str] | None:
    """The locale's (group, decimal) symbols from CLDR, when it groups by threes.

    Then a figure is Python's ``format(Decimal, ",.Nf")`` with the symbols swapped — what
    Babel's pattern gives, at a tenth of its cost (a ranking words ~200 figures).
    """
    loc = _locale(lang)
    if _compiled(loc.decimal_formats[None].pattern).grouping != (3, 3):
        return None  # pragma: no cover - neither Russian nor English
    return str(loc.number_symbols["latn"]["group"]), str(loc.number_symbols["latn"]["decimal"])


def number(x: float | int | None, lang: Lang, digits: int = 0, *, unknown: str = "?") -> str:
    """``x`` with the language's separators and at most ``digits`` decimals (no trailing 0s)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return unknown
    return _number(x, lang, digits)


# typed: 1 and 1.0 are different keys (their plural forms differ: "1 day", "1.0 days");
# a ranking words ~200 figures, many of them repeating across queries (counts, demands)
@lru_cache(maxsize=16384, typed=True)
def _number(x: float | int, lang: Lang, digits: int) -> str:
    symbols = _symbols(lang)
    if symbols is None:  # pragma: no cover - see _symbols
        return _format(x, _pattern(digits), lang)
    # Decimal(repr(x)): rounds the figure as written (2.675 → 2.68, half to even), as Babel
    text = format(Decimal(repr(x)) if isinstance(x, float) else x, f",.{max(digits, 0)}f")
    if digits > 0:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    group, decimal = symbols
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def percent(share: float | None, lang: Lang, digits: int = 0, *, unknown: str = "?") -> str:
    """A share (0.731) as a percentage in the language's style: ``73 %`` / ``73%``."""
    if share is None or not math.isfinite(share):
        return unknown
    if share == 0:  # 0.0 and -0.0 are one cache key, but Babel writes "-0 %"
        return _percent.__wrapped__(share, lang, digits)
    return _percent(share, lang, digits)


@lru_cache(maxsize=16384, typed=True)
def _percent(share: float, lang: Lang, digits: int) -> str:
    # The locale's own pattern (Russian puts a no-break space before %), our decimals.
    base = _locale(lang).percent_formats[None].pattern
    return _format(share, base.replace("#,##0", _pattern(digits)), lang)


def rub(x: float | None, lang: Lang, *, per_year: bool = False, unknown: str = "?") -> str:
    """Roubles, whole: ``1 234 ₽`` / ``1,234 RUB`` (``/год``, ``/yr`` with ``per_year``)."""
    if x is None or not math.isfinite(x):
        return unknown
    unit = tr(lang, "₽/год" if per_year else "₽", "RUB/yr" if per_year else "RUB")
    return f"{number(x, lang)}\u00a0{unit}"


def plural_form(n: float, lang: Lang) -> str:
    """The CLDR plural category of ``n`` in ``lang``: ``one``, ``few``, ``many`` or ``other``."""
    return _plural_form(n, lang)


@lru_cache(maxsize=16384, typed=True)
def _plural_form(n: float, lang: Lang) -> str:
    return str(_locale(lang).plural_form(abs(n)))


def count(n: float, lang: Lang, ru: tuple[str, str, str], en: tuple[str, str],
          digits: int = 0) -> str:
    """``n`` and the noun in its plural form: ``ru`` = (one, few, many), ``en`` = (one, other).

    A fractional ``n`` takes the ``other`` form in both languages (``1,5 тысячи``),
    which in Russian is the "few" (genitive singular) word.
    """
    form = plural_form(n, lang)
    if lang == "ru":
        word = {"one": ru[0], "few": ru[1], "many": ru[2]}.get(form, ru[1])
    else:
        word = en[0] if form == "one" else en[1]
    return f"{number(n, lang, digits)} {word}"


def csv_number(x: float | int | None, lang: Lang, digits: int = 2) -> str:
    """A number for a spreadsheet cell: no grouping, the language's decimal mark (``1234,5``).

    Russian Excel reads ``1234,5`` as a number; ``1 234,5`` (with a no-break space)
    and ``1234.5`` would stay text.
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return _format(x, _pattern(digits, group=False), lang)
