"""Entity resolution for companies, in separate pure steps (the shape of splink / dedupe).

normalise → block → exact keys (INN, then OGRN) → compare the pairs the blocking
rules produce, level by level → merge above ``merge_at``, leave the review band
(``review_at`` … ``merge_at``, or a guard that half holds) for a human.

Blocking rules and comparison levels are data (:data:`BLOCKING_RULES`,
:data:`COMPARISON_LEVELS`); every company passes through blocking, with or
without ids, and no block is ever compared all-pairs beyond :data:`MAX_BLOCK`
members (a larger block is compared as a sorted neighbourhood), so the cost grows
with the number of companies, not its square.

Rules that never bend:

* two companies with different INNs are never merged (every INN that reaches
  this step has passed its check digits);
* two companies in different municipalities, or regions (countries), are never
  merged without a shared INN/OGRN — a place is part of the block, and of the
  generated id (:func:`derive_company_id`);
* names whose distinctive tokens disagree on both sides (``MicroChip`` vs
  ``Micron``), or whose numbers disagree (``CN43082`` vs ``CN4382``), are two
  firms: not merged, and not sent for review;
* a reviewer's decision (:class:`Decisions`) is honoured by every later load;
* the merged record keeps the id of the earliest record — a company already in
  the store before any in the files, then file order — and fills its empty
  fields from the others; every merge records why and with what score.

Names are compared after :func:`normalize_name`: Russian and international legal
forms (ООО, АО, LLC, Co. Ltd., GmbH, S.A., Sp. z o.o. …) and quotes removed,
accents, case and ё/е folded, Cyrillic transliterated to Latin (and common Latin
spellings of Russian sounds folded) so that ``Агротехмаш`` and ``Agrotekhmash``
meet; common abbreviations are spelled out (``Finl`` → financial), a word a list
shortened is read as the word (``Res`` → resources, ``Bancshs`` → bancshares; never the
first word), and the common words of Russian firms' names translated by a small
general glossary (биржа →
exchange, металлургический комбинат → steel, Московский → moscow). Ids keep the name
as written: Latin stays Latin (:func:`name_slug`).

Generic words (:data:`WEAK_WORDS`: holdings, industries, systems …) are weak: two
names that differ only by them (``Nomura Holdings`` / ``Nomura``) are merged when
other evidence agrees (same main OKVED, or the same surveyed coordinates), and
otherwise go to review — a holding and its operating company are often two firms.
A record may also carry an industry (a supplier or ranking list's own label: weak-word
evidence like the main OKVED) and the lists that name each firm once (a register
extract, a yearly ranking): two records of one such list are never merged.

Within a country, the country's own name does not tell firms apart (``GAIL (India)`` /
``GAIL India``), and a name that spells out the other's acronym is the same name
(``Petrobras-Petróleo Brasil`` / ``Petrobras``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from coopgraph.graph.models import Company

__all__ = [
    "BLOCKING_RULES",
    "COMPARISON_LEVELS",
    "GENERIC_WORDS",
    "MAX_BLOCK",
    "MERGE_AT",
    "REVIEW_AT",
    "WEAK_WORDS",
    "BlockingRule",
    "Candidate",
    "ComparisonLevel",
    "Decisions",
    "MergeEdge",
    "Resolution",
    "ReviewEdge",
    "compare",
    "derive_company_id",
    "merge_companies",
    "name_slug",
    "normalize_name",
    "normalize_place",
    "resolve",
    "transliterate",
]

# Fitted on tests/data/er (ingest.resolve_eval.fit_merge_at; BENCHMARKS.md, "Entity
# resolution"): the most cautious merge threshold with the best recall at precision
# ≥ 0.99. The review threshold is chosen by hand from the same runs: below 80 the
# queue grows by a third for a few more true pairs.
MERGE_AT = 85.0
REVIEW_AT = 80.0
MAX_BLOCK = 24  # members compared all-pairs; larger blocks as a sorted neighbourhood

_LONG_FORMS = (  # matched on the text as written (Cyrillic) …
    "общество с ограниченной ответственностью",
    "открытое акционерное общество",
    "закрытое акционерное общество",
    "публичное акционерное общество",
    "непубличное акционерное общество",
    "акционерное общество",
    "индивидуальный предприниматель",
    "федеральное государственное унитарное предприятие",
    "государственное унитарное предприятие",
    "муниципальное унитарное предприятие",
    "сельскохозяйственный производственный кооператив",
    "производственный кооператив",
    "товарищество с ограниченной ответственностью",
    "нефтяная компания",  # "НК": says what the firm does, like "oil company"
)
_LATIN_LONG_FORMS = (  # … and on the Latin words (spaces for punctuation)
    "limited liability company", "limited liability partnership", "public limited company",
    "public joint stock company", "joint stock company", "public company limited",
    "company limited", "co ltd", "sp z o o", "s a de c v", "s a b de c v", "s de r l",
    "s r l", "s r o", "pte ltd", "pty ltd", "sdn bhd", "co kg", "gmbh co kg",
    "national association", "aktiengesellschaft", "societe anonyme", "sociedad anonima",
    "naamloze vennootschap", "besloten vennootschap", "kabushiki kaisha", "public company",
)
# Legal forms as single tokens (after transliteration, punctuation gone: "S.A." → "s a"
# is handled by joining one-letter runs first, see _join_initials).
_SHORT_FORMS = frozenset({
    # Russian
    "ooo", "oao", "ao", "zao", "pao", "nao", "ip", "gup", "mup", "fgup", "pk", "spk", "too",
    "tov", "chup", "uchrezhdenie",
    # English and international
    "llc", "llp", "lp", "jsc", "ojsc", "cjsc", "pjsc", "ltd", "limited", "inc", "incorporated",
    "co", "cos", "corp", "corporation", "company", "companies", "plc", "pte", "pty", "gmbh",
    "ag", "kg", "kgaa", "se", "sa", "sas", "sarl", "srl", "spa", "sab", "nv", "bv", "oy", "oyj",
    "ab",
    "asa", "as", "aps", "spzoo", "sro", "kk", "bhd", "sdn", "tbk", "pt", "ltda", "cv",
    "ulc", "lc", "pllc", "na", "dd", "doo", "kft", "zrt", "nyrt", "ad", "ead",
})
# Words that do not tell two firms apart: they need not agree between two names.
# ("Holding" is not one of them: a holding and its operating company are often two
# listed firms — Heineken Holding N.V. and Heineken N.V.)
GENERIC_WORDS = frozenset({
    "the", "and", "of", "de", "du", "des", "la", "le", "el", "y", "und", "et", "i",
    "group", "grupo", "grupa", "gruppe", "groupe", "gruppa", "com", "www", "ru", "net", "org",
    # Russian prefixes that say what kind of company it is, not which one
    "gk", "nk", "ak", "afk", "gmk", "kompaniya", "kompaniia", "korporatsiya", "rossii",
    "kompaniy",
})
_GENERIC = GENERIC_WORDS | {w.replace("iy", "y").replace("ii", "i") for w in GENERIC_WORDS}
# Abbreviations lists use for the same word: compared as the full word.
_ABBREVIATIONS = {
    "intl": "international", "inds": "industries", "ind": "industries", "sys": "systems",
    "mfg": "manufacturing", "hldgs": "holdings", "grp": "group", "natl": "national",
    "svcs": "services", "ins": "insurance", "tech": "technology", "techs": "technologies",
    "st": "saint", "mtrs": "motors", "elec": "electric", "bk": "bank",
}
# More of the same, used when comparing names only (ids keep the words as written).
_COMPARE_ABBREVIATIONS = {
    "hldg": "holdings", "holding": "holdings", "dev": "development", "devt": "development",
    "telecom": "telecommunications", "telecoms": "telecommunications",
    "bancorp": "bancorporation", "fin": "financial", "finl": "financial",
    "chem": "chemical", "chems": "chemicals", "pharm": "pharmaceutical",
    "pharma": "pharmaceutical", "pharmaceuticals": "pharmaceutical", "mgmt": "management",
    "bros": "brothers", "prods": "products", "prop": "properties", "props": "properties",
    "engg": "engineering", "constr": "construction", "svc": "services", "assoc": "associates",
    "comms": "communications", "transp": "transportation", "utils": "utilities",
    "banque": "bank", "banco": "bank", "banca": "bank", "bankas": "bank",
}
# Words that say what kind of firm it is but not which one: a name that differs from
# another only by these (``Nomura Holdings`` / ``Nomura``, ``Cablevision Systems`` /
# ``Cablevision``) is often the same firm, but also often a holding and its operating
# company (``Heineken Holding`` / ``Heineken``). Such a pair is merged only when other
# evidence agrees (:func:`_evidence`), else it goes to review. Compared after
# abbreviation expansion and translation (``Inds`` → industries, завод → plant).
WEAK_WORDS = frozenset({
    "holdings", "industries", "systems", "international", "worldwide", "global",
    "enterprises", "trust", "plant", "works", "factory", "mill", "sgps",
})
# "… имени В. Д. Шашина": what follows "named after" is not part of the firm's name
_NAMED_AFTER = re.compile(r"\s(?:имени|им\.)\s.*$")
# "Baker Hughes, a GE company": an appositive naming the parent is not the firm's name
_A_COMPANY = re.compile(r",\s*an?\s+[^,]{1,40}\s+company\s*$")
_PLACE_WORDS = frozenset({
    "raion", "rayon", "r", "n", "rn", "gorod", "g", "gorodskoy", "gorodskoi", "okrug", "go",
    "munitsipalnyy", "munitsipalnyi", "mr", "district", "city", "oblast", "obl", "selo",
    "poselok", "pos", "region", "province", "oblasti", "kray", "krai", "respublika",
    "republic", "of", "the",
})
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "i", "є": "e",
}
_TRANSLIT_TABLE = str.maketrans(_TRANSLIT)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['’`ʼ]")
_PARENS = re.compile(r"\([^()]*\)")
_LONG_RE = re.compile("|".join(re.escape(f) for f in _LONG_FORMS))
_DIGITS = re.compile(r"\d+")
# Latin spellings people use for the same sounds, folded to one form.
_LATIN_FOLD = (("yy", "y"), ("iy", "y"), ("ij", "y"), ("yi", "y"), ("ei", "ey"), ("ai", "ay"),
               ("oi", "oy"), ("ui", "uy"), ("kh", "h"), ("x", "ks"),
               ("ja", "ya"), ("ju", "yu"), ("zh", "j"), ("ck", "k"),
               ("gidro", "hydro"))  # Russian Г for a foreign H: гидро = hydro


def transliterate(text: str) -> str:
    """Cyrillic letters to Latin (a simple GOST-like scheme); other text unchanged.

    Examples
    --------
    >>> transliterate("агротехмаш")
    'agrotekhmash'
    """
    return text.lower().translate(_TRANSLIT_TABLE)


_HOMOGLYPHS = str.maketrans("асеорухкмтнвіј", "aceopyxkmtnbij")
_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-яё]")


def _homoglyphs(text: str) -> str:
    """A Cyrillic letter inside a Latin word is a look-alike typed by mistake (``Inс.``)."""
    if not (_LATIN.search(text) and _CYRILLIC.search(text)):
        return text
    return " ".join(w.translate(_HOMOGLYPHS) if _LATIN.search(w) and _CYRILLIC.search(w)
                    else w for w in text.split())


def _ascii(text: str) -> str:
    """Lower case, ё → е, Cyrillic → Latin, accents dropped (``Nestlé`` → ``nestle``)."""
    low = transliterate(_homoglyphs(text.lower().replace("ё", "е")))
    if low.isascii():
        return low
    return unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode()


def _join_initials(words: list[str]) -> list[str]:
    """``s a`` → ``sa``, ``b v`` → ``bv``: legal forms written with dots, as one token."""
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        if len(run) >= 2 and "".join(run) in _SHORT_FORMS:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if w:
            out.append(w)
    return out


def _fold(words: list[str]) -> str:
    text = " ".join(words)
    before = None
    while before != text:  # to a fixed point, so that normalising twice changes nothing
        before = text
        for a, b in _LATIN_FOLD:
            text = text.replace(a, b)
    return text


def _long_re(forms: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(
        re.escape(f) for f in sorted(forms, key=len, reverse=True)) + r")(?![0-9a-z])")


_LATIN_LONG_RE = _long_re(_LATIN_LONG_FORMS)


def _words(name: str) -> list[str]:
    """The name's words without legal forms, quotes or a parenthesis (Latin)."""
    low = _APOSTROPHES.sub("", name.lower().replace("ё", "е"))
    low = _NAMED_AFTER.sub("", low)
    low = _A_COMPANY.sub("", low)
    if "(" in low:
        bare = _PARENS.sub(" ", low)
        if _NON_WORD.sub("", _ascii(bare)):  # "(ПАО)" alone is not the whole name
            low = bare
    low = _LONG_RE.sub(" ", low)
    text = _LATIN_LONG_RE.sub(" ", " ".join(_NON_WORD.sub(" ", _ascii(low)).split()))
    forms = _SHORT_FORMS
    plain = [_ABBREVIATIONS.get(w, w) for w in text.split()]
    words = _join_initials(plain)
    kept = [w for w in words if w not in forms]
    if kept:
        return kept
    # nothing but legal forms: keep what was written as letters (S.A. → "sa"), else all
    initials = set(words) - set(plain)
    return [w for w in words if w in initials or w not in forms] or words


@lru_cache(maxsize=262_144)
def normalize_name(name: str) -> str:
    """A company name reduced for comparison.

    Examples
    --------
    >>> normalize_name('ООО «Агротехмаш»') == normalize_name('Agrotekhmash LLC')
    True
    >>> normalize_name('АО "Липецкий литейный завод"')  # glossary words in English
    'lipetsk foundry plant'
    >>> normalize_name('ПАО «Московская Биржа»') == normalize_name('Moscow Exchange')
    True
    >>> normalize_name('Murata Manufacturing Co. Ltd.') == normalize_name(
    ...     'Murata Manufacturing Company Limited')
    True
    """
    words = [_COMPARE_ABBREVIATIONS.get(w, w) for w in _words(name)]
    return _fold(_translate(_fold(words).split()))


# A small general glossary of Russian words common in firms' names, written from
# general knowledge of how Russian firms render their names in English (not from any
# test set): the stem as written → the usual English word. A stem matches a word that
# is the stem plus a Russian ending (``биржа``, ``биржевой`` → exchange).
_RU_GLOSSARY = {
    "бирж": "exchange", "банк": "bank", "кредитн": "credit", "сберегательн": "savings",
    "страхов": "insurance", "стал": "steel", "стальн": "steel",
    "металлургическ": "metallurgical", "комбинат": "works", "завод": "plant",
    "фабрик": "factory", "машиностроительн": "engineering", "нефтян": "oil", "нефт": "oil",
    "газ": "gas", "газов": "gas", "химическ": "chemical", "электрическ": "electric",
    "энергетическ": "energy", "авиастроительн": "aircraft", "авиационн": "aviation",
    "судостроительн": "shipbuilding", "объединенн": "united", "российск": "russian",
    "национальн": "national", "международн": "international", "торгов": "trading",
    "транспортн": "transport", "строительн": "construction", "горнодобывающ": "mining",
    "горн": "mining", "угольн": "coal", "золот": "gold", "алмаз": "diamond", "лесн": "forest",
    "бумажн": "paper", "пищев": "food", "молочн": "dairy", "пивоваренн": "brewery",
    "медн": "copper", "никелев": "nickel", "алюминиев": "aluminium", "трубн": "pipe",
    "шинн": "tyre", "автомобильн": "automobile", "тракторн": "tractor", "литейн": "foundry",
    "кабельн": "cable", "промышленн": "industrial", "железнодорожн": "railway",
    "телекоммуникационн": "telecommunications", "холдинг": "holdings", "групп": "group",
    # the two capitals and large regions, whose English names are not transliterations
    "москв": "moscow", "московск": "moscow", "петербургск": "petersburg",
    "сибирск": "siberian", "сибир": "siberia", "уральск": "ural",
}
_RU_ENDINGS = (
    "", "ь", "ы", "и", "а", "я", "у", "ю", "е", "о", "ой", "ей", "ий", "ый", "ая", "яя", "ое",
    "ее", "ые", "ие", "ого", "его", "ому", "ему", "ую", "юю", "ом", "ем", "ам", "ям", "ами",
    "ями", "ах", "ях", "ов", "ев", "ых", "их", "ым", "им", "ыми", "ими")
# every stem with every ending, folded as a whole word is folded
_GLOSSARY = {_fold([transliterate(stem + end)]): word for stem, word in _RU_GLOSSARY.items()
             for end in _RU_ENDINGS}
# Phrases said two ways (after the glossary): "металлургический комбинат" is a steel works
_PHRASES = {
    ("metallurgical", "works"): "steel", ("metallurgical", "plant"): "steel",
    ("iron", "steel"): "steel", ("iron", "and", "steel"): "steel",
    ("steel", "works"): "steel", ("steel", "mill"): "steel",
}
# A Russian adjective of a place is the place (новолипецкий → novolipetsk)
_PLACE_ADJECTIVE = re.compile(
    r"^([a-z]{3,}t?sk)(?:y|aya|oe|ie|ye|ogo|omu|oy|uyu|ih|im|ey|ya)$")


def _translate(tokens: list[str]) -> list[str]:
    """Russian words of the glossary → English; place adjectives → the place; phrases."""
    out: list[str] = []
    for tok in tokens:
        word = _GLOSSARY.get(tok)
        if word is None:
            adjective = _PLACE_ADJECTIVE.match(tok)
            word = adjective.group(1) if adjective else tok
        out.append(word)
    for phrase, word in _PHRASES.items():
        size = len(phrase)
        i = 0
        while i + size <= len(out):
            if tuple(out[i:i + size]) == phrase:
                out[i:i + size] = [word]
            i += 1
    return out


def name_slug(name: str) -> str:
    """The name as an id part: legal forms dropped, Latin kept as written (``jabil``)."""
    return "-".join(_words(name))[:80].strip("-")


@lru_cache(maxsize=8192)  # a load has a few hundred municipalities and 10⁵ companies
def normalize_place(place: str | None) -> str:
    """A municipality or region reduced for blocking.

    ``'Липецкий р-н'`` and ``'Lipetsky district'`` give the same text.
    """
    if not place:
        return ""
    words = _NON_WORD.sub(" ", _ascii(place)).split()
    kept = [w for w in words if w not in _PLACE_WORDS] or words
    return _fold(kept)


def _place_slug(place: str) -> str:
    words = _NON_WORD.sub(" ", _ascii(place)).split()
    return "-".join([w for w in words if w not in _PLACE_WORDS] or words)[:40]


def derive_company_id(inn: str | None, ogrn: str | None, name: str | None,
                      municipality: str | None = None, region: str | None = None) -> str:
    """An id for a company row without one: from its INN, else its OGRN, else name and place.

    The place is part of the id, so that the same name in two towns stays two
    companies (``name-romashka--elets`` and ``name-romashka--lipetsk``).

    Examples
    --------
    >>> derive_company_id(None, None, 'Jabil Incorporated')
    'name-jabil'
    >>> derive_company_id(None, None, 'ООО «Ромашка»', 'Елец')
    'name-romashka--elets'
    """
    if inn:
        return f"inn-{inn}"
    if ogrn:
        return f"ogrn-{ogrn}"
    slug = name_slug(name or "") or "unnamed"
    place = _place_slug(municipality or region or "")
    return f"name-{slug}--{place}" if place else f"name-{slug}"


# --- candidates ----------------------------------------------------------------------


@dataclass
class Candidate:
    """One company record taking part in resolution."""

    company: Company
    from_store: bool = False
    file: str | None = None
    row: int | None = None
    norm: str = ""
    block: str = ""  # the place block: municipality, else "@region", else ""
    region: str = ""
    core: str = ""  # the distinctive part of ``norm`` (what blocking looks at)
    key: str = ""  # ``core`` without the names of the record's own country (what is compared)
    # the firm's industry as a supplier or ranking list states it, besides the main
    # OKVED: evidence for names that differ by weak words only (:func:`_evidence`)
    industry: str = ""
    # lists known to name each firm once (a register extract, a yearly ranking) that
    # hold this record: two records of one such list are two firms, never merged
    lists: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.norm:
            self.norm = normalize_name(self.company.name)
        self.core = _core(self.norm)
        self.region = normalize_place(self.company.region)
        self.key = self.core
        own = _country_words(self.region) if self.region else frozenset()
        if own and own.intersection(self.core.split()):
            # "GAIL India" in India: the country's own name does not tell its firms apart
            self.key = " ".join(w for w in self.core.split() if w not in own) or self.core
        if not self.block:
            muni = normalize_place(self.company.municipality)
            self.block = muni or (f"@{self.region}" if self.region else "")


_WEAK = WEAK_WORDS | {_fold([w]) for w in WEAK_WORDS}
# Why two groups may not merge when a list that names each firm once holds both.
LISTED_APART = "both in one list that names each firm once"


def _strong(core: str) -> str:
    return " ".join(w for w in core.split() if w not in _WEAK)


def _evidence(ca: Candidate, cb: Candidate) -> str | None:
    """Evidence besides the name that two records in one place are one company."""
    a, b = ca.company, cb.company
    if a.okved_main and a.okved_main == b.okved_main:
        return f"same main OKVED {a.okved_main}"
    if ca.industry and cb.industry and _trade(ca.industry) == _trade(cb.industry):
        return f"same industry {ca.industry}"
    if (a.lat is not None and a.lon is not None and a.coords_source is None
            and b.coords_source is None and (a.lat, a.lon) == (b.lat, b.lon)):
        return "same coordinates"
    return None


@lru_cache(maxsize=4096)
def _trade(industry: str) -> str:
    """An industry label compared without case, punctuation or spelling noise."""
    return " ".join(_NON_WORD.sub(" ", _ascii(industry.casefold())).split())


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    """Normalised country name or ISO code (as :func:`normalize_place` gives it) → code."""
    from babel import Locale  # lazy: only loads with a country in them need it

    codes: dict[str, str] = {}
    for code, name in Locale("en").territories.items():
        if len(code) == 2 and code.isalpha():
            codes.setdefault(normalize_place(name), code)
            codes.setdefault(normalize_place(code), code)
    return codes


@lru_cache(maxsize=512)
def _country_words(region: str) -> frozenset[str]:
    """One-word names of the country ``region`` names, in English and its official languages.

    ``India`` → {india}, ``Brazil`` → {brazil, brasil}, ``Poland`` → {poland, polska};
    empty when ``region`` is not a country (a Russian oblast, a town).
    """
    code = _country_codes().get(region)
    if code is None:
        return frozenset()
    from babel import Locale, UnknownLocaleError
    from babel.languages import get_official_languages

    names = {Locale("en").territories.get(code, "")}
    for lang in get_official_languages(code):
        try:
            names.add(Locale.parse(lang).territories.get(code, ""))
        except (UnknownLocaleError, ValueError):
            continue
    words = {normalize_name(n) for n in names if n}
    return frozenset(w for w in words if w and " " not in w)


def _core(norm: str) -> str:
    """The distinctive part of a normalised name: generic words dropped."""
    kept = [w for w in norm.split() if w not in _GENERIC]
    return " ".join(kept) or norm


# --- comparison levels (data) -------------------------------------------------------


@dataclass(frozen=True)
class ComparisonLevel:
    """One level of the name comparison, checked in order; the first that holds wins.

    ``outcome``: ``merge`` (one company when the score is ≥ ``merge_at``), ``review``
    (a human decides when the score is ≥ ``review_at``), ``weak`` (merged when other
    evidence agrees — :func:`_evidence` — else reviewed) or ``distinct`` (two firms,
    never even reviewed).
    """

    name: str
    holds: Callable[[_Facts], bool]
    outcome: str


@dataclass(frozen=True)
class _Facts:
    """What the levels look at, computed once per pair of distinctive names."""

    same_letters: bool
    numbers_a: tuple[str, ...]
    numbers_b: tuple[str, ...]
    extra_a: bool  # a distinctive word of ``a`` has no close word in ``b``
    extra_b: bool
    weak: bool = False  # words without a close word on the other side, all weak ones
    # the two names with every abbreviated word written out (``res`` → ``resources``),
    # when a word of one is an abbreviation of a word of the other (:func:`_abbreviates`)
    spelled: tuple[str, str] | None = None


def _token_close(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 6:  # short tokens must be equal (India/Indian, "m"/"n")
        return False
    return fuzz.ratio(a, b) >= 85.0


def _abbreviates(short: str, long: str) -> bool:
    """``short`` is a list's abbreviation of the word ``long``.

    Lists shorten long words to fit a column, in two usual ways: the word's beginning
    (``Res`` → resources, ``Commun`` → communications, ``Amer`` → american) or its
    letters kept in order with the first two and the last (``Bancshs`` → bancshares,
    ``Labs`` → laboratories). Three letters at least; a beginning must drop four letters
    or more (``India`` / ``Indian``, ``Viacom`` / ``ViacomCBS`` stay two words), a
    contraction two or more.
    """
    if len(short) < 3 or len(long) < len(short) + 2 or short.isdigit() or long.isdigit():
        return False
    if long.startswith(short):
        return len(long) >= len(short) + 4
    return (len(short) >= 4 and short[:2] == long[:2] and short[-1] == long[-1]
            and _subsequence(short, long))


def _facts(a: str, b: str) -> _Facts:
    ta, tb = a.split(), b.split()
    sa, sb = set(ta), set(tb)
    # only the words that are not in both need a fuzzy look (digits are compared apart)
    ua = [t for t in sa - sb if not t.isdigit()]
    ub = [t for t in sb - sa if not t.isdigit()]
    full: dict[str, str] = {}  # an abbreviated word → the word it abbreviates
    if ua and ub:  # never the first word: lists shorten what a name says, not who it is
        for t in ua:
            for u in ub:
                if t != ta[0] and _abbreviates(t, u):
                    full.setdefault(t, u)
                elif u != tb[0] and _abbreviates(u, t):
                    full.setdefault(u, t)
    lone_a = [t for t in ua if t not in full
              and not any(_token_close(t, u) or full.get(u) == t for u in ub)]
    lone_b = [t for t in ub if t not in full
              and not any(_token_close(t, u) or full.get(u) == t for u in ua)]
    weak = bool(lone_a or lone_b) and all(t in _WEAK for t in lone_a + lone_b) and bool(
        (sa | sb) - _WEAK)
    spelled = None
    if full:
        spelled = (" ".join(full.get(t, t) for t in ta), " ".join(full.get(t, t) for t in tb))
    return _Facts(a.replace(" ", "") == b.replace(" ", ""),
                  tuple(sorted(_DIGITS.findall(a))), tuple(sorted(_DIGITS.findall(b))),
                  any(t not in _WEAK for t in lone_a), any(t not in _WEAK for t in lone_b),
                  weak, spelled)


def _acronym(a: str, b: str) -> bool:
    """The words of one name only spell out a word both share, or are the other's initials.

    ``Petrobras`` / ``Petrobras-Petróleo Brasil`` (p…b in petrobras), ``BRF`` / ``BRF-Brasil
    Foods`` (b…f in brf): two extra words at least, right after the name's first word,
    so that one initial never decides;
    ``National Australia Bank`` / ``NAB - National Australia Bank``: one extra word that is
    the initials of three or more words of the other name, in order; or, written first,
    whose letters begin with the initials of two or more (``ASE-Advanced Semiconductor``).
    """
    ta, tb = a.split(), b.split()
    shared = set(ta) & set(tb)
    extra_a = [t for t in ta if t not in shared]
    extra_b = [t for t in tb if t not in shared]
    if bool(extra_a) == bool(extra_b):
        return False
    extra, words = (extra_a, ta) if extra_a else (extra_b, tb)
    other = tb if extra_a else ta
    if any(t.isdigit() or t in _WEAK for t in extra):
        return False
    if len(extra) == 1:
        initials = "".join(w[0] for w in other)
        if len(other) >= 3 and extra[0] == initials:
            return True
        # an acronym written before the name it stands for, which may go on past the
        # words listed ("CCCC-China Communications Construction": …Company; "ASE-Advanced
        # Semiconductor": …Engineering): the first word, two more letters at most
        acronym = extra[0]
        return (words[0] == acronym and len(other) >= 2 and len(acronym) >= 3
                and acronym.startswith(initials) and len(acronym) <= len(initials) + 2)
    # the expansion directly follows the name's first word, which it spells out:
    # "BRF-Brasil Foods", "SEB-Skand Enskilda Bank"
    head = words[0]
    if words[1:1 + len(extra)] != extra or head not in shared or len(head) < 3:
        return False
    initials = "".join(w[0] for w in extra)
    return head[0] == initials[0] and _subsequence(initials, head)


def _subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


COMPARISON_LEVELS: tuple[ComparisonLevel, ...] = (
    ComparisonLevel("same distinctive name", lambda f: f.same_letters, "merge"),
    ComparisonLevel("numbers differ",
                    lambda f: bool(f.numbers_a and f.numbers_b and f.numbers_a != f.numbers_b),
                    "distinct"),
    ComparisonLevel("distinctive words differ on both sides",
                    lambda f: f.extra_a and f.extra_b, "distinct"),
    ComparisonLevel("a number on one side only",
                    lambda f: bool(f.numbers_a) != bool(f.numbers_b), "review"),
    ComparisonLevel("a distinctive word on one side only",
                    lambda f: f.extra_a or f.extra_b, "review"),
    ComparisonLevel("only generic words differ (holdings, industries …)",
                    lambda f: f.weak, "weak"),
    ComparisonLevel("similar name, every distinctive word agrees", lambda f: True, "merge"),
)


def compare(a: str, b: str) -> tuple[float, ComparisonLevel]:
    """Score (0–100, ``token_sort_ratio`` of the distinctive parts) and level of two names.

    ``a`` and ``b`` are normalised names (:func:`normalize_name`).

    Examples
    --------
    >>> compare(normalize_name('MicroChip Technology Incorporated'),
    ...         normalize_name('Micron Technology Incorporated'))[1].outcome
    'distinct'
    >>> compare(normalize_name('CN43082'), normalize_name('CN4382'))[1].name
    'numbers differ'
    """
    return _compare_cores(_core(a), _core(b))


# A name that spells out the other's acronym (checked on the whole distinctive names,
# before a word on one side only sends the pair to review).
ACRONYM = ComparisonLevel("an acronym and its expansion", lambda f: True, "merge")


def _compare_cores(ca: str, cb: str, full_a: str | None = None, full_b: str | None = None
                   ) -> tuple[float, ComparisonLevel]:
    facts = _facts(ca, cb)
    if facts.spelled:  # abbreviations read as the words they stand for
        ca, cb = facts.spelled
    score = 100.0 if facts.same_letters else float(fuzz.token_sort_ratio(ca, cb))
    for level in COMPARISON_LEVELS:
        if level.holds(facts):
            if level.outcome == "review" and (facts.extra_a != facts.extra_b) and _acronym(
                    full_a or ca, full_b or cb):
                return 100.0, ACRONYM
            if level.outcome == "review":  # a subset of the other's words: between the two
                score = (score + fuzz.token_set_ratio(ca, cb)) / 2
            elif level.outcome == "weak":  # the score of what is left without weak words
                score = float(fuzz.token_sort_ratio(_strong(ca), _strong(cb)))
            return score, level
    raise AssertionError("the last level always holds")  # pragma: no cover


# --- blocking rules (data) ----------------------------------------------------------


@dataclass(frozen=True)
class BlockingRule:
    """A rule giving each candidate the keys of the blocks it joins (within its place)."""

    name: str
    keys: Callable[[str, Counter[str]], list[str]]


def _rare_tokens(core: str, df: Counter[str]) -> list[str]:
    """The two rarest distinctive tokens: two names of one firm share at least one."""
    tokens = sorted(set(core.split()), key=lambda t: (df[t], t))
    return [f"t:{t}" for t in tokens[:2]]


def _prefix(core: str, _df: Counter[str]) -> list[str]:
    """The first four letters of the name with spaces gone: catches split/joined words."""
    return [f"p:{core.replace(' ', '')[:4]}"]


BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("same place, a shared rare distinctive word", _rare_tokens),
    BlockingRule("same place, the same first letters", _prefix),
)
# A name whose words are all in a longer name (``PPG`` / ``PPG Industries``) is one
# block of its own: the longer names are looked up by their word subsets. Names with
# more words than this are looked up by their subsets of up to this many words.
_SUBSET_WORDS = 4


# --- resolution ---------------------------------------------------------------------


@dataclass(frozen=True)
class MergeEdge:
    """Candidates ``a`` and ``b`` (indices) are one company: why, and how sure."""

    a: int
    b: int
    reason: str
    score: float


@dataclass(frozen=True)
class ReviewEdge:
    """Candidates ``a`` and ``b`` may be one company; a human should decide."""

    a: int
    b: int
    reason: str
    score: float


@dataclass
class Resolution:
    """Groups of candidate indices (the earliest first), with the evidence."""

    groups: list[list[int]]
    merges: list[MergeEdge] = field(default_factory=list)
    review: list[ReviewEdge] = field(default_factory=list)
    compared: int = 0  # pairs scored: what blocking let through


@dataclass
class Decisions:
    """What reviewers decided, by company id pair: honoured by every load."""

    same: set[frozenset[str]] = field(default_factory=set)  # accepted: always merged
    different: set[frozenset[str]] = field(default_factory=set)  # rejected / split

    def decided(self, a: str, b: str) -> bool:
        pair = frozenset((a, b))
        return pair in self.same or pair in self.different


class _Groups:
    """Union–find whose root is always the earliest index; tracks what may not join."""

    def __init__(self, candidates: Sequence[Candidate], decisions: Decisions) -> None:
        self.parent = list(range(len(candidates)))
        self.inns: dict[int, set[str]] = {
            i: ({c.company.inn} if c.company.inn else set()) for i, c in enumerate(candidates)}
        self.regions: dict[int, set[str]] = {
            i: ({c.region} if c.region else set()) for i, c in enumerate(candidates)}
        self.ids: dict[int, set[str]] = {i: {c.company.id} for i, c in enumerate(candidates)}
        self.lists: dict[int, frozenset[str]] = {
            i: c.lists for i, c in enumerate(candidates) if c.lists}
        self.never: dict[str, set[str]] = defaultdict(set)
        for pair in decisions.different:
            if len(pair) == 2:
                x, y = tuple(pair)
                self.never[x].add(y)
                self.never[y].add(x)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def why_not(self, i: int, j: int) -> str | None:
        """Why the groups of ``i`` and ``j`` may not be merged, or None."""
        ri, rj = self.find(i), self.find(j)
        if len(self.inns[ri] | self.inns[rj]) > 1:
            return "different INNs"
        if len(self.regions[ri] | self.regions[rj]) > 1:
            return "different regions"
        if self.lists and ri in self.lists and rj in self.lists:
            both = self.lists[ri] & self.lists[rj]
            if both:
                return LISTED_APART
        small, big = sorted((self.ids[ri], self.ids[rj]), key=len)
        if self.never and any(self.never.get(x, set()) & big for x in small):
            return "a reviewer said they are different"
        return None

    def compatible(self, i: int, j: int) -> bool:
        return self.why_not(i, j) is None

    def union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        keep, gone = min(ri, rj), max(ri, rj)
        self.parent[gone] = keep
        self.inns[keep] |= self.inns.pop(gone)
        self.regions[keep] |= self.regions.pop(gone)
        self.ids[keep] |= self.ids.pop(gone)
        if gone in self.lists:
            self.lists[keep] = self.lists.get(keep, frozenset()) | self.lists.pop(gone)
        return True


def _exact(candidates: Sequence[Candidate], groups: _Groups, attr: str, label: str,
           res: Resolution) -> None:
    first: dict[str, int] = {}
    for i, cand in enumerate(candidates):
        value = getattr(cand.company, attr)
        if not value:
            continue
        j = first.setdefault(value, i)
        if j == i or groups.find(i) == groups.find(j):
            continue
        if len(groups.inns[groups.find(i)] | groups.inns[groups.find(j)]) <= 1:
            groups.union(i, j)
            res.merges.append(MergeEdge(j, i, f"same {label} {value}", 100.0))
        else:
            res.review.append(ReviewEdge(
                j, i, f"same {label} {value} but different INNs — never merged", 100.0))


def _decided(candidates: Sequence[Candidate], groups: _Groups, decisions: Decisions,
             res: Resolution) -> None:
    """Pairs a reviewer accepted: merged first, whatever their names (INNs still rule)."""
    if not decisions.same:
        return
    index: dict[str, int] = {}
    for i, cand in enumerate(candidates):
        index.setdefault(cand.company.id, i)
    for pair in decisions.same:
        if len(pair) != 2:
            continue
        x, y = sorted(pair)
        if x in index and y in index:
            i, j = sorted((index[x], index[y]))
            if groups.find(i) != groups.find(j) and groups.compatible(i, j):
                groups.union(i, j)
                res.merges.append(MergeEdge(i, j, "accepted by a reviewer", 100.0))


def _pairs(candidates: Sequence[Candidate], reps: list[int], review_at: float
           ) -> Iterable[tuple[int, int, float]]:
    """Candidate pairs from the blocking rules whose score may reach ``review_at``."""
    by_place: dict[str, list[int]] = defaultdict(list)
    for i in reps:
        by_place[candidates[i].block].append(i)
    # A pair of two companies with INNs is never scored (one INN: merged by the exact
    # step; two: never one firm), nor one of two store companies (resolved by an
    # earlier load): only places and windows with a member of neither kind can yield
    # a pair :func:`resolve` scores. Skipping the others changes no decision: the
    # pairs left come out in the same order.
    settled = [bool(c.company.inn) for c in candidates]
    stored = [c.from_store for c in candidates]
    seen: set[tuple[int, int]] = set()

    def fresh(i: int, j: int) -> tuple[int, int] | None:
        """``(i, j)`` in order, if the pair is one to score and was not yielded yet."""
        if (settled[i] and settled[j]) or (stored[i] and stored[j]):
            return None
        pair = (i, j) if i < j else (j, i)
        if pair in seen:
            return None
        seen.add(pair)
        return pair

    for members in by_place.values():
        if len(members) < 2:
            continue
        if all(settled[i] for i in members) or all(stored[i] for i in members):
            continue
        cores = {i: candidates[i].core for i in members}
        df: Counter[str] = Counter()
        for c in cores.values():
            df.update(set(c.split()))
        blocks: dict[str, list[int]] = defaultdict(list)
        for i in members:
            for rule in BLOCKING_RULES:
                for key in rule.keys(cores[i], df):
                    blocks[key].append(i)
        by_words: dict[frozenset[str], list[int]] = defaultdict(list)
        for i in members:
            word_set = frozenset(cores[i].split())
            if len(word_set) <= _SUBSET_WORDS:
                by_words[word_set].append(i)
        for i in members:  # the shorter names whose words are all in this one
            words = sorted(set(cores[i].split()))
            found: list[int] = []
            for size in range(1, min(len(words) - 1, _SUBSET_WORDS) + 1):
                for subset in itertools.combinations(words, size):
                    found.extend(by_words.get(frozenset(subset), ()))
                    if len(found) > MAX_BLOCK:
                        break
            for j in found[:MAX_BLOCK]:
                if (pair := fresh(i, j)) is not None:
                    yield pair[0], pair[1], 0.0
        # a name written shorter scores low as written (``Charter Commun`` /
        # ``Charter Communications``, ``Luzhou Laojiao`` / ``Luzhou Lao Jiao``): names
        # alike in every word's first three letters, or without spaces, meet here
        shortened: dict[str, list[int]] = defaultdict(list)
        for i in members:
            words = cores[i].split()
            shortened["s:" + " ".join(w[:3] for w in words)].append(i)
            shortened["j:" + "".join(words)].append(i)
        for group in shortened.values():
            if not 2 <= len(group) <= MAX_BLOCK:
                continue
            for i, j in itertools.combinations(group, 2):
                if (pair := fresh(i, j)) is not None:
                    yield pair[0], pair[1], 0.0
        for block in blocks.values():
            if len(block) < 2:
                continue
            block.sort(key=lambda i: cores[i])
            # all pairs in a small block; a large one as overlapping windows (sorted
            # neighbourhood), so no block costs more than MAX_BLOCK² comparisons
            step = MAX_BLOCK // 2
            starts = range(0, max(len(block) - step, 1), step) if len(block) > MAX_BLOCK else [0]
            for start in starts:
                window = block[start:start + MAX_BLOCK]
                if all(settled[i] for i in window) or all(stored[i] for i in window):
                    continue
                texts = [cores[i] for i in window]
                scores = process.cdist(texts, texts, scorer=fuzz.token_sort_ratio,
                                       score_cutoff=review_at, dtype=np.uint8)
                rows, cols = np.nonzero(np.triu(scores, 1))
                for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                    if (pair := fresh(window[row], window[col])) is not None:
                        yield pair[0], pair[1], float(scores[row][col])


def _where(cand: Candidate) -> str:
    return cand.company.municipality or cand.company.region or "no municipality"


def resolve(candidates: Sequence[Candidate], *, merge_at: float = MERGE_AT,
            review_at: float = REVIEW_AT, decisions: Decisions | None = None) -> Resolution:
    """Group candidates that are the same company.

    Parameters
    ----------
    candidates
        Store companies first, then the incoming ones in file order; candidates
        that share an id must already be one record.
    merge_at, review_at
        Name-similarity thresholds (0–100, ``token_sort_ratio`` on the distinctive
        part of normalised names): merge at or above ``merge_at`` when the
        comparison level allows it; between the two, or when a guard half holds,
        report for review.
    decisions
        Reviewers' decisions by company id: accepted pairs are merged, rejected
        and split ones never are, and neither is reviewed again.

    Returns
    -------
    Resolution
        Each group lists its members, the earliest (whose id is kept) first.

    Examples
    --------
    >>> a = Candidate(Company(id="a", name="ООО «Литмаш»", municipality="Елец"))
    >>> b = Candidate(Company(id="b", name="Литмаш", municipality="г. Елец"))
    >>> resolve([a, b]).groups
    [[0, 1]]
    """
    if not 0 <= review_at <= merge_at <= 100:
        raise ValueError("thresholds must satisfy 0 ≤ review_at ≤ merge_at ≤ 100")
    decisions = decisions or Decisions()
    res = Resolution(groups=[])
    groups = _Groups(candidates, decisions)
    _exact(candidates, groups, "inn", "INN", res)
    _exact(candidates, groups, "ogrn", "OGRN", res)
    _decided(candidates, groups, decisions, res)
    # one representative per (place, name): identical names are compared once
    reps: list[int] = []
    first: dict[tuple[str, str], int] = {}
    for i, cand in enumerate(candidates):
        j = first.setdefault((cand.block, cand.norm), i)
        if j == i:
            reps.append(i)
            continue
        _judge(candidates, groups, decisions, res, j, i, 100.0,
               COMPARISON_LEVELS[0], merge_at, review_at)
    for i, j, _score in _pairs(candidates, reps, review_at):
        a, b = candidates[i], candidates[j]
        if a.from_store and b.from_store:
            continue  # resolved by an earlier load
        if a.company.inn and b.company.inn:
            continue  # same INN: merged above; different INNs: never
        res.compared += 1
        score, level = _compare_cores(a.key, b.key, a.core, b.core)
        _judge(candidates, groups, decisions, res, i, j, score, level, merge_at, review_at)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(candidates)):
        members[groups.find(i)].append(i)
    res.groups = [members[root] for root in sorted(members)]
    return res


def _judge(candidates: Sequence[Candidate], groups: _Groups, decisions: Decisions,
           res: Resolution, i: int, j: int, score: float, level: ComparisonLevel,
           merge_at: float, review_at: float) -> None:
    a, b = candidates[i], candidates[j]
    if groups.find(i) == groups.find(j) or level.outcome == "distinct" or score < review_at:
        return
    if decisions.decided(a.company.id, b.company.id):
        return
    names = f"{a.company.name!r} ~ {b.company.name!r}"
    where = _where(b)
    blocked = groups.why_not(i, j)
    evidence = _evidence(a, b) if level.outcome == "weak" else None
    if (level.outcome == "merge" or evidence) and score >= merge_at and blocked is None:
        groups.union(i, j)
        also = f", {evidence}" if evidence else ""
        res.merges.append(MergeEdge(i, j, f"similar name in {where}: {names}{also}",
                                    round(score, 1)))
        return
    if blocked in ("a reviewer said they are different", LISTED_APART):
        return
    why = f" ({blocked})" if blocked else ("" if level.outcome == "merge" else f" ({level.name})")
    res.review.append(ReviewEdge(i, j, f"similar name in {where}: {names}{why}",
                                 round(score, 1)))


def merge_companies(records: Sequence[Company]) -> Company:
    """One company from several: the first's id and values, gaps filled in order; roles united.

    Provenance (source, row) stays the first record's.
    """
    first = records[0]
    if len(records) == 1:
        return first
    data = first.model_dump(exclude_none=True)
    roles = list(first.roles)
    for other in records[1:]:
        for name, value in other.model_dump(exclude_none=True).items():
            if name in {"roles", "source", "row", "ingested_at"}:
                continue
            data.setdefault(name, value)
        roles.extend(r for r in other.roles if r not in roles)
    if "lat" in data and "lon" not in data:
        data.pop("lat")
    if "lon" in data and "lat" not in data:
        data.pop("lon")
    data["roles"] = roles
    return Company.model_validate(data)
