"""Entity resolution for companies, in separate pure steps (the way splink does it).

normalise → block → exact match on INN, then OGRN → fuzzy match (rapidfuzz) on
the normalised names of what remains, within municipality blocks → merge above
``merge_at``, leave pairs between ``review_at`` and ``merge_at`` for a human.

Rules that never bend:

* two companies with different INNs are never merged (every INN that reaches
  this step has passed its check digits);
* the merged record keeps the id of the earliest record — a company already in
  the store before any in the files, then file order — and fills its empty
  fields from the others; every merge records why and with what score.

Names are compared after :func:`normalize_name`: legal forms (ООО, АО, LLC,
«Общество с ограниченной ответственностью»…) and quotes removed, case and
ё/е folded, Cyrillic transliterated to Latin so that ``Агротехмаш`` and
``Agrotekhmash`` meet.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from graph.models import Company

__all__ = [
    "MERGE_AT",
    "REVIEW_AT",
    "Candidate",
    "MergeEdge",
    "Resolution",
    "ReviewEdge",
    "derive_company_id",
    "merge_companies",
    "normalize_name",
    "normalize_place",
    "resolve",
    "transliterate",
]

MERGE_AT = 92.0
REVIEW_AT = 80.0

_LONG_FORMS = (
    "общество с ограниченной ответственностью",
    "открытое акционерное общество",
    "закрытое акционерное общество",
    "публичное акционерное общество",
    "непубличное акционерное общество",
    "акционерное общество",
    "индивидуальный предприниматель",
    "государственное унитарное предприятие",
    "муниципальное унитарное предприятие",
    "производственный кооператив",
    "limited liability company",
    "joint stock company",
    "joint-stock company",
)
_SHORT_FORMS = frozenset({
    "ooo", "oao", "ao", "zao", "pao", "nao", "ip", "gup", "mup", "fgup", "pk",
    "llc", "jsc", "ojsc", "cjsc", "pjsc", "ltd", "inc", "co", "corp", "gmbh", "ag",
})
_PLACE_WORDS = frozenset({
    "raion", "rayon", "r", "n", "rn", "gorod", "g", "gorodskoy", "gorodskoi", "okrug", "go",
    "munitsipalnyy", "munitsipalnyi", "mr", "district", "city", "oblast", "obl", "selo",
    "poselok", "pos",
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
_LONG_RE = re.compile("|".join(re.escape(f) for f in _LONG_FORMS))
# Latin spellings people use for the same sounds, folded to one form.
_LATIN_FOLD = (("yy", "y"), ("iy", "y"), ("ij", "y"), ("yi", "y"), ("ei", "ey"), ("ai", "ay"),
               ("oi", "oy"), ("ui", "uy"), ("kh", "h"), ("x", "ks"), ("w", "v"),
               ("ja", "ya"), ("ju", "yu"), ("zh", "j"))


def transliterate(text: str) -> str:
    """Cyrillic letters to Latin (a simple GOST-like scheme); other text unchanged.

    Examples
    --------
    >>> transliterate("агротехмаш")
    'agrotekhmash'
    """
    return text.lower().translate(_TRANSLIT_TABLE)


def _fold(words: list[str]) -> str:
    text = " ".join(words)
    before = None
    while before != text:  # to a fixed point, so that normalising twice changes nothing
        before = text
        for a, b in _LATIN_FOLD:
            text = text.replace(a, b)
    return text


def normalize_name(name: str) -> str:
    """A company name reduced for comparison.

    Examples
    --------
    >>> normalize_name('ООО «Агротехмаш»') == normalize_name('Agrotekhmash LLC')
    True
    >>> normalize_name('АО "Липецкий литейный завод"')
    'lipetsky liteyny zavod'
    """
    low = name.lower().replace("ё", "е")
    low = _LONG_RE.sub(" ", low)
    words = _NON_WORD.sub(" ", transliterate(low)).split()
    kept = [w for w in words if w not in _SHORT_FORMS]
    if not kept:  # the name is nothing but a legal form: keep it as it is
        kept = words
    return _fold(kept)


@lru_cache(maxsize=8192)  # a load has a few hundred municipalities and 10⁵ companies
def normalize_place(place: str | None) -> str:
    """A municipality reduced for blocking: ``'Липецкий р-н'`` = ``'Lipetsky district'``."""
    if not place:
        return ""
    words = _NON_WORD.sub(" ", transliterate(place.replace("ё", "е"))).split()
    kept = [w for w in words if w not in _PLACE_WORDS] or words
    return _fold(kept)


def derive_company_id(inn: str | None, ogrn: str | None, name: str | None) -> str:
    """An id for a company row without one: from its INN, else its OGRN, else its name."""
    if inn:
        return f"inn-{inn}"
    if ogrn:
        return f"ogrn-{ogrn}"
    slug = normalize_name(name or "").replace(" ", "-")[:80]
    return f"name-{slug or 'unnamed'}"


@dataclass
class Candidate:
    """One company record taking part in resolution."""

    company: Company
    from_store: bool = False
    file: str | None = None
    row: int | None = None
    norm: str = ""
    block: str = ""

    def __post_init__(self) -> None:
        if not self.norm:
            self.norm = normalize_name(self.company.name)
        if not self.block:
            self.block = normalize_place(self.company.municipality)


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


class _Groups:
    """Union–find whose root is always the earliest index; tracks each group's INNs."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.parent = list(range(len(candidates)))
        self.inns: dict[int, set[str]] = {
            i: ({c.company.inn} if c.company.inn else set()) for i, c in enumerate(candidates)}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def compatible(self, i: int, j: int) -> bool:
        return len(self.inns[self.find(i)] | self.inns[self.find(j)]) <= 1

    def union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        keep, gone = min(ri, rj), max(ri, rj)
        self.parent[gone] = keep
        self.inns[keep] |= self.inns.pop(gone)
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
        if groups.compatible(i, j):
            groups.union(i, j)
            res.merges.append(MergeEdge(j, i, f"same {label} {value}", 100.0))
        else:
            res.review.append(ReviewEdge(
                j, i, f"same {label} {value} but different INNs — never merged", 100.0))


def _same_name(candidates: Sequence[Candidate], groups: _Groups, res: Resolution) -> None:
    """Identical names in one block whose INNs differ: never merged, shown for review."""
    first: dict[tuple[str, str], int] = {}
    for i, cand in enumerate(candidates):
        j = first.setdefault((cand.block, cand.norm), i)
        if j != i and groups.find(i) != groups.find(j) and not groups.compatible(i, j):
            where = cand.company.municipality or "no municipality"
            res.review.append(ReviewEdge(
                j, i, f"same name in {where} but different INNs — never merged", 100.0))


_DIGITS = re.compile(r"\d+")


def _fuzzy(candidates: Sequence[Candidate], groups: _Groups, res: Resolution,
           merge_at: float, review_at: float) -> None:
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, cand in enumerate(candidates):
        blocks[cand.block].append(i)
    seen_pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        queries = [i for i in members if not candidates[i].from_store
                   and not candidates[i].company.inn and not candidates[i].company.ogrn]
        for i in queries:
            choices = {j: candidates[j].norm for j in members
                       if j != i and groups.find(j) != groups.find(i)}
            if not choices:
                continue
            found = process.extract(candidates[i].norm, choices, scorer=fuzz.token_sort_ratio,
                                    score_cutoff=review_at, limit=5)
            for _text, score, j in found:
                pair = (min(i, j), max(i, j))
                if pair in seen_pairs or groups.find(i) == groups.find(j):
                    continue
                seen_pairs.add(pair)
                where = candidates[i].company.municipality or "no municipality"
                names = f"{candidates[j].company.name!r} ~ {candidates[i].company.name!r}"
                numbers_differ = _DIGITS.findall(candidates[i].norm) != _DIGITS.findall(
                    candidates[j].norm)  # "Завод №1" and "Завод №2" are two plants
                if score >= merge_at and groups.compatible(i, j) and not numbers_differ:
                    groups.union(i, j)
                    res.merges.append(MergeEdge(
                        pair[0], pair[1], f"similar name in {where}: {names}", round(score, 1)))
                else:
                    why = "" if score < merge_at else (
                        " (numbers differ)" if numbers_differ else " (different INNs)")
                    res.review.append(ReviewEdge(
                        pair[0], pair[1], f"similar name in {where}: {names}{why}",
                        round(score, 1)))


def resolve(candidates: Sequence[Candidate], *, merge_at: float = MERGE_AT,
            review_at: float = REVIEW_AT) -> Resolution:
    """Group candidates that are the same company.

    Parameters
    ----------
    candidates
        Store companies first, then the incoming ones in file order; candidates
        that share an id must already be one record.
    merge_at, review_at
        Name-similarity thresholds (0–100, ``token_sort_ratio`` on normalised
        names): merge at or above ``merge_at``; between the two, report for review.

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
    res = Resolution(groups=[])
    groups = _Groups(candidates)
    _exact(candidates, groups, "inn", "INN", res)
    _exact(candidates, groups, "ogrn", "OGRN", res)
    _same_name(candidates, groups, res)
    _fuzzy(candidates, groups, res, merge_at, review_at)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(candidates)):
        members[groups.find(i)].append(i)
    res.groups = [members[root] for root in sorted(members)]
    return res


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
