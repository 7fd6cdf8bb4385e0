"""Capabilities inferred from OKVED codes, and look-ups by OKVED2/OKPD2 code.

OKVED2 (activities) and OKPD2 (products) share their class structure: a company
registered for OKVED 24.51 (casting of iron) can plausibly make categories coded
OKPD2 24.51 (iron castings). :func:`registry_fit` is that link for a whole
projection — company × category, ``REGISTRY_MAIN`` when the company's *main*
activity has the category's class, ``REGISTRY_EXTRA`` when an additional one does.

It is the weakest evidence of a capability there is: the ranking scores it below
a taxonomy relative (:data:`queries.factors.FIT_VALUES`), says where it came from
("по ОКВЭД 24.51 — Литье чугуна"), never gives it free capacity (no capability
record exists: capacity is unknown, and chains and gaps do not count it), and
``MatchFilters(registry=False)`` drops it.

>>> code_class("24.51.2")
'24.51'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from coopgraph.graph.classifiers import code_class, is_code, okpd2_name, okved_name
from coopgraph.graph.errors import InvalidQuery
from coopgraph.queries.projection import Projection

__all__ = [
    "REGISTRY_EXTRA",
    "REGISTRY_MAIN",
    "CodeMatches",
    "RegistryAgreement",
    "code_class",
    "find_by_code",
    "registry_agreement",
    "registry_evidence",
    "registry_fit",
    "registry_rows",
]

REGISTRY_MAIN = 2  # the company's main OKVED has the category's OKPD2 class
REGISTRY_EXTRA = 1  # one of its additional OKVED codes has it


def _category_classes(proj: Projection) -> dict[str, list[int]]:
    """OKPD2 class → the categories coded in it (categories without OKPD2 left out)."""
    by_class: dict[str, list[int]] = {}
    for j, row in enumerate(proj.category_rows):
        okpd2 = row.get("okpd2")
        if okpd2:
            key = code_class(str(okpd2))
            if "." in key:  # a class (24.51), not a bare division (24)
                by_class.setdefault(key, []).append(j)
    return by_class


def registry_fit(proj: Projection) -> sp.csr_matrix:
    """company × category (int8): ``REGISTRY_MAIN``, ``REGISTRY_EXTRA`` or nothing.

    Built once per projection and kept in ``proj.extra`` (a patched projection
    carries it over, its changed companies' rows recomputed: ``queries.projection_delta``).
    """
    found = proj.extra.get("registry_fit")
    if found is not None:
        return found
    matrix = registry_rows(proj, range(len(proj.company_ids)))
    proj.extra["registry_fit"] = matrix
    return matrix


def registry_rows(proj: Projection, companies: Iterable[int]) -> sp.csr_matrix:
    """The rows of :func:`registry_fit` for ``companies`` (in that order), computed afresh."""
    by_class = _category_classes(proj)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[int] = []
    n_rows = 0
    for r, i in enumerate(companies):
        n_rows += 1
        best: dict[int, int] = {}
        for position, code in enumerate(proj.company_okved[i]):
            strength = REGISTRY_MAIN if position == 0 else REGISTRY_EXTRA
            for j in by_class.get(code_class(code), ()):
                if best.get(j, 0) < strength:
                    best[j] = strength
        for j, strength in sorted(best.items()):
            rows.append(r)
            cols.append(j)
            vals.append(strength)
    return sp.csr_matrix((np.array(vals, dtype=np.int8), (rows, cols)),
                         shape=(n_rows, len(proj.category_codes)))


def registry_evidence(proj: Projection, company: int, category: int) -> tuple[str, str] | None:
    """(OKVED code, its name) behind the registry fit of ``company`` for ``category``, or None.

    The main code when it matches, else the first additional one that does.
    """
    okpd2 = proj.category_rows[category].get("okpd2")
    if not okpd2:
        return None
    key = code_class(str(okpd2))
    for code in proj.company_okved[company]:
        if code_class(code) == key:
            return code, okved_name(code) or okved_name(key) or ""
    return None


@dataclass(frozen=True)
class CodeMatches:
    """What one OKVED2/OKPD2 code finds: its names, companies and categories of its class."""

    code: str
    okved_name: str | None
    okpd2_name: str | None
    companies: list[tuple[str, str, str, bool]]  # (id, name, OKVED code, is it the main one)
    categories: list[tuple[str, str, str]]  # (code, Russian name, OKPD2 code)


def find_by_code(proj: Projection, code: str) -> CodeMatches:
    """Companies whose OKVED codes and categories whose OKPD2 code fall under ``code``.

    A code of a class or finer (``24.51``, ``24.51.2``) matches by prefix: a company
    registered for 24.51.1 is found by 24.51, and by 24.51.1, but not by 24.51.2.

    Raises
    ------
    InvalidQuery
        ``code`` is not an OKVED2/OKPD2 code.
    """
    code = code.strip()
    if not is_code(code):
        raise InvalidQuery(f"{code!r} is not an OKVED2/OKPD2 code (e.g. 24.51 or 28.30.59)")

    def under(other: str) -> bool:
        return other == code or other.startswith(code + ".") or code.startswith(other + ".")

    companies = []
    for i, codes in enumerate(proj.company_okved):
        hit = next((c for c in codes if c == code or c.startswith(code + ".")), None)
        if hit is not None:
            companies.append((proj.company_ids[i], proj.company_names[i], hit, hit == codes[0]))
    categories = [(proj.category_codes[j], str(row.get("name_ru", "")), str(row["okpd2"]))
                  for j, row in enumerate(proj.category_rows)
                  if row.get("okpd2") and under(str(row["okpd2"]))]
    companies.sort(key=lambda t: (not t[3], t[0]))
    return CodeMatches(code, okved_name(code), okpd2_name(code), companies, categories)


@dataclass(frozen=True)
class RegistryAgreement:
    """Registry evidence beside what companies declared (see :func:`registry_agreement`)."""

    companies: int  # with OKVED codes and at least one declared category that has an OKPD2 code
    declared: int  # their declared (company, category) pairs, categories with an OKPD2 code
    predicted: int  # their (company, category) pairs with registry evidence
    hits: int  # pairs both declared and with registry evidence
    silent: int  # companies with OKVED codes that declared no capability and no process
    silent_pairs: int  # (company, category) candidates registry evidence gives those

    @property
    def recall(self) -> float:
        """Share of declared pairs registry evidence finds (0 when nothing is declared)."""
        return self.hits / self.declared if self.declared else 0.0

    @property
    def precision(self) -> float:
        """Share of registry-evidence pairs that are declared (0 when none is predicted)."""
        return self.hits / self.predicted if self.predicted else 0.0


def registry_agreement(proj: Projection) -> RegistryAgreement:
    """Registry evidence against declared capabilities, over the companies that have both.

    Recall: of the categories a company declared (those with an OKPD2 code), the share its
    OKVED codes also point to; precision: of the categories its OKVED codes point to, the
    share it declared. Companies that declared nothing (no capability, no process) are
    what registry evidence is for: ``silent`` counts them and ``silent_pairs`` the
    candidate categories it gives them.
    """
    fit = registry_fit(proj).tocsr()
    has_okpd2 = np.array([bool(r.get("okpd2")) for r in proj.category_rows], dtype=bool)
    declared: dict[int, set[int]] = {}
    for i, j in zip(proj.cap_company.tolist(), proj.cap_category.tolist(), strict=True):
        if has_okpd2[j]:
            declared.setdefault(int(i), set()).add(int(j))
    with_caps = set(proj.cap_company.tolist())
    with_procs = set(np.flatnonzero(np.diff(proj.company_process.tocsr().indptr)).tolist())
    companies = n_declared = n_predicted = hits = silent = silent_pairs = 0
    for i, codes in enumerate(proj.company_okved):
        if not codes:
            continue
        predicted = set(fit.indices[fit.indptr[i]:fit.indptr[i + 1]].tolist())
        if i not in with_caps and i not in with_procs:
            silent += 1
            silent_pairs += len(predicted)
        truth = declared.get(i)
        if not truth:
            continue
        companies += 1
        n_declared += len(truth)
        n_predicted += len(predicted)
        hits += len(truth & predicted)
    return RegistryAgreement(companies, n_declared, n_predicted, hits, silent, silent_pairs)
