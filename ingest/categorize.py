"""Capability text → taxonomy category, with a confidence.

People describe what they make in their own words — "литьё чугуна",
"механообработка валов", "hydraulic cylinders". :class:`CategoryIndex` maps
such text onto the taxonomy's categories (their ``name_ru``, ``name_en``,
``synonyms`` and code):

1. tokens are lemmatised — Russian words with pymorphy3 (``валов`` → ``вал``),
   English words with a light plural stemmer; stop words dropped;
2. each category text is scored against the query by weighted token overlap
   (IDF weights over the taxonomy, so a rare word like ``гидроцилиндр`` counts
   more than ``деталь``), where two tokens also match partly when they share a
   long prefix (``чугун``/``чугунный``) or are close by rapidfuzz;
3. confidence = (precision + 2·recall) / 3 — the category's words covered by
   the query matter most, since descriptions often add extra words.

Below ``accept_at`` a text is unmapped (the pipeline rejects the row and shows
the best guesses); below ``sure_at`` the mapping is kept but listed in the
report as low-confidence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

__all__ = ["ACCEPT_AT", "SURE_AT", "CategoryIndex", "CategoryMatch", "lemmas"]

ACCEPT_AT = 0.5
SURE_AT = 0.75

_WORD = re.compile(r"[0-9a-zа-я]+")
_STOP = frozenset({
    "и", "в", "во", "на", "с", "со", "из", "для", "по", "под", "к", "от", "до", "за", "а",
    "или", "the", "a", "an", "of", "for", "and", "or", "to", "from", "with", "in", "on",
    "изготовление", "производство", "поставка", "выпуск", "услуга", "работа",
    "manufacturing", "manufacture", "production", "supply", "making", "service",
})


# Words of the trade that name the same thing as the taxonomy's usual word.
_EQUIVALENT = {
    "литье": "отливка", "литой": "отливка", "ковка": "поковка", "кованый": "поковка",
    "сварка": "сварной", "сварочный": "сварной", "штампованный": "штамповка",
    "casting": "cast", "forging": "forge", "forged": "forge", "welding": "welded",
}


@lru_cache(maxsize=1)
def _morph() -> object:
    import pymorphy3  # slow to load (dictionaries): only when text must be mapped

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def _lemma(word: str) -> str:
    lemma = _raw_lemma(word)
    return _EQUIVALENT.get(lemma, lemma)


def _raw_lemma(word: str) -> str:
    if word.isascii():
        if word.isdigit() or len(word) <= 3:
            return word
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        if word.endswith(("ches", "shes", "sses", "xes")):
            return word[:-2]
        if word.endswith("s") and not word.endswith("ss"):
            return word[:-1]
        return word
    parsed = _morph().parse(word)  # type: ignore[attr-defined]
    return str(parsed[0].normal_form).replace("ё", "е") if parsed else word


def lemmas(text: str) -> list[str]:
    """The text's content words, lemmatised (order kept, duplicates dropped).

    Examples
    --------
    >>> lemmas("Литьё чугуна")
    ['отливка', 'чугун']
    >>> lemmas("hydraulic cylinders")
    ['hydraulic', 'cylinder']
    """
    out: list[str] = []
    for word in _WORD.findall(text.lower().replace("ё", "е")):
        lemma = _lemma(word)
        if lemma in _STOP or word in _STOP or lemma in out:
            continue
        out.append(lemma)
    return out


def _similar(a: str, b: str) -> float:
    if a == b:
        return 1.0
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    if prefix >= 4 and prefix >= 0.7 * min(len(a), len(b)):  # чугун/чугунный, not гидро-
        return 0.85
    if min(len(a), len(b)) >= 5:
        ratio = fuzz.ratio(a, b) / 100.0
        if ratio >= 0.8:
            return 0.9 * ratio
    return 0.0


@dataclass(frozen=True)
class CategoryMatch:
    """The best category for a text, its confidence (0–1) and the runners-up."""

    text: str
    code: str | None
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()

    def guesses(self) -> str:
        """The best guesses as ``'CODE 0.42, CODE2 0.31'`` (for a reject reason)."""
        shown = [(self.code, self.confidence)] if self.code else []
        shown += list(self.alternatives)
        return ", ".join(f"{c} {s:.2f}" for c, s in shown if c) or "none"


class CategoryIndex:
    """The categories' texts, lemmatised once, for mapping free text and names to codes.

    Parameters
    ----------
    categories
        ``(code, name_ru, name_en, synonyms)`` per category.
    """

    def __init__(self, categories: Iterable[tuple[str, str, str | None, list[str]]]) -> None:
        self._texts: list[tuple[str, list[str]]] = []  # (code, lemmas) per text
        # plain text -> (how it names the category: 0 code, 1 name, 2 synonym; code)
        self._by_name: dict[str, tuple[int, str]] = {}
        self.codes: set[str] = set()
        self._cache: dict[tuple[str, int], CategoryMatch] = {}
        self._idf: dict[str, float] | None = None
        self._idf_max = 1.0
        for code, name_ru, name_en, synonyms in categories:
            self.add(code, name_ru, name_en, synonyms)

    def add(self, code: str, name_ru: str | None, name_en: str | None,
            synonyms: Iterable[str] = ()) -> None:
        """Add (or extend) one category.

        A text that names several categories (a synonym of one is the name of another)
        maps to the one it names most directly — code, then name, then synonym — and then
        to the smallest code: never to whichever was added first, so that a load and its
        re-run (categories read from the load vs from the store) map a text the same way."""
        self.codes.add(code)
        for rank, text in ((0, code), (1, name_ru), (1, name_en), *((2, s) for s in synonyms)):
            if not text:
                continue
            key, claim = _plain(text), (rank, code)
            held = self._by_name.get(key)
            if held is None or claim < held:
                self._by_name[key] = claim
            if text != code:
                words = lemmas(text)
                if words:
                    self._texts.append((code, words))
        self._idf = None
        self._cache.clear()

    def __len__(self) -> int:
        return len(self.codes)

    def by_name(self, text: str) -> str | None:
        """The code whose code, name or synonym is exactly ``text`` (case-insensitive)."""
        found = self._by_name.get(_plain(text))
        return None if found is None else found[1]

    def _weights(self) -> dict[str, float]:
        if self._idf is None:
            df = Counter(w for _code, words in self._texts for w in set(words))
            n = max(len(self._texts), 1)
            self._idf = {w: math.log(1.0 + n / c) for w, c in df.items()}
            self._idf_max = math.log(1.0 + n)
        return self._idf

    def match(self, text: str, *, top: int = 3) -> CategoryMatch:
        """The best category for ``text`` with a confidence in [0, 1] and ``top - 1`` others."""
        exact = self.by_name(text)
        if exact is not None:
            return CategoryMatch(text, exact, 1.0)
        key = (text, top)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._score(text, top)
        return found

    def _score(self, text: str, top: int) -> CategoryMatch:
        query = lemmas(text)
        if not query or not self._texts:
            return CategoryMatch(text, None, 0.0)
        idf = self._weights()
        rare = self._idf_max
        best: dict[str, float] = {}
        q_weights = [idf.get(q, rare) for q in query]
        q_total = sum(q_weights)
        for code, words in self._texts:
            if best.get(code, 0.0) >= 1.0:
                continue
            t_weights = [idf.get(w, rare) for w in words]
            sims = [[_similar(q, w) for w in words] for q in query]
            precision = sum(qw * max(row) for qw, row in zip(q_weights, sims, strict=True))
            recall = sum(tw * max(sims[i][j] for i in range(len(query)))
                         for j, tw in enumerate(t_weights))
            p, r = precision / q_total, recall / sum(t_weights)
            score = (p + 2 * r) / 3
            if score > best.get(code, 0.0):
                best[code] = score
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        if not ranked or ranked[0][1] <= 0:
            return CategoryMatch(text, None, 0.0)
        code, score = ranked[0]
        others = tuple((c, round(s, 3)) for c, s in ranked[1:] if s > 0)
        return CategoryMatch(text, code, round(score, 3), others)


def _plain(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))
