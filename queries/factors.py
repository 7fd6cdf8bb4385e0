"""Scoring factors of a potential link (supplier, buyer, category) and the weight profiles.

Each factor maps a raw quantity to a value in 0..1 (1 = best), vectorised over
all candidate pairs of a query at once; the score of a pair is
``Σ weight_f × value_f``. A :class:`WeightProfile` names the weights; callers
may pass their own (``rank_buyers(..., profile=WeightProfile(...))``) and
``coopgraph evaluate --fit`` fits one from historical links.

The factors (``FACTORS``, in the order they are reported):

========== =================================================================
capability declared (or supplied today) 1.0, inferred from held processes
           0.6 (every process the category needs is held: concrete
           evidence), a taxonomy relative 0.5 (a guess), registry evidence —
           the category's OKPD2 class is the company's main OKVED class 0.4,
           an additional one 0.3 (:mod:`queries.registry`) — none 0
demand     evidence the buyer wants the category: an explicit need 1.0;
           buying it today from n other suppliers 1 − 0.3·0.5^(n−1)
           (0.7, 0.85, 0.93…); an import 0.75; only a BOM 0.6; none 0
capacity   free capacity / demand, capped at 1 (unknown either side: 0.5)
distance   exp(−km / 300): a logistics-cost proxy; beyond the buyer's
           own max distance 0 (unknown coordinates: 0.5)
certs      share of the buyer's required certifications the supplier holds,
           not expired (nothing required: 1)
import     the buyer imports the category today (import substitution)
cluster    both are members of one cluster (subsidy-eligible; raises the
           cluster's intra-cluster purchasing KPI)
network    collaborative-filtering score over supplier → its buyers → their
           other suppliers → their buyers (:mod:`queries.network`; the degree
           penalty, RP3β and a recency half-life are the profile's
           ``network_norm``, ``beta``, ``half_life_days``), divided by the
           largest score of any candidate (not of a current partner): the
           strongest new partner has 1, shown as "signal 100 of 100" with the
           companies behind it named
relation   the buyer already buys other categories from the supplier
lead_time  1 / (1 + days / 30) (unknown: 0.5)
popularity the partner's standing in the category today (per-category
           preferential attachment): log(1 + its links in the category) /
           log(1 + the category's largest) — for a buyer, how many
           suppliers sell it the category; for a supplier, how many buyers
           it sells the category to. Heavy-tailed buyer–supplier networks
           grow this way: the busy get busier
activity   how much of the querying company's own trade is in the pair's
           category: its links in the category / its links in its busiest
           category (a supplier finds new buyers where it already sells
           most; a buyer adds suppliers where it already buys most)
========== =================================================================

``DEFAULT_PROFILE``'s weights were fitted by :func:`queries.evaluate.fit_profile`
(coordinate search over a weight grid on the mean MRR of three inner random
folds, 300 queries each) on *all* links of a generated network with seed 2
(``coopgraph generate --companies 3000 --seed 2``) — deliberately not the sample
cluster nor the seed-1 set whose scores BENCHMARKS.md reports, so those scores
are out of sample. What the fit found: whether the supplier can make the
category (capability fit), evidence that the buyer wants it (demand) and how
much of the supplier's own trade is in the category (activity) carry most of
the ranking; the shared cluster, the CF path, lead time, certificates and the
buyer's popularity in the category order close candidates. Re-fit on your own
data with ``coopgraph fit`` (stored, used by ``coopgraph match``), or measure a
fit out of sample with ``coopgraph evaluate --fit``; ``bench/fit_default.py``
re-fits from uniform weights on the seed-2 set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from coopgraph.graph.confidentiality import ENOUGH, SHORT, capacity_bands
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.i18n import Lang, count, number, percent
from coopgraph.queries.candidates import match_index
from coopgraph.queries.network import FallbackDegree, tune_walk
from coopgraph.queries.projection import Projection

__all__ = [
    "DEFAULT_PROFILE",
    "FACTORS",
    "FACTOR_INDEX",
    "FIT_CODES",
    "FIT_VALUES",
    "NETWORK_ONLY_PROFILE",
    "PROFILES",
    "UNKNOWN",
    "WeightProfile",
    "capacity_value",
    "default_weights",
    "distance_value",
    "explain",
    "lead_time_value",
    "network_sentence",
    "resolve_profile",
    "weights_from",
]

FACTORS: tuple[str, ...] = (
    "capability", "demand", "capacity", "distance", "certs", "import", "cluster",
    "network", "relation", "lead_time", "popularity", "activity",
)
#: each factor's column in a ``pairs × FACTORS`` matrix and in a weight vector
FACTOR_INDEX: dict[str, int] = {name: i for i, name in enumerate(FACTORS)}

#: capability-fit value per fit kind
FIT_VALUES: dict[str, float] = {
    "declared": 1.0, "supplied": 1.0, "inferred": 0.6, "related": 0.5,
    "registry_main": 0.4, "registry_extra": 0.3, "network": 0.0,
}
#: fit kinds in the integer coding used inside the engine's arrays
FIT_CODES: tuple[str, ...] = ("network", "registry_extra", "registry_main", "related", "inferred",
                               "supplied", "declared")

DISTANCE_SCALE_KM = 300.0
LEAD_TIME_SCALE_DAYS = 30.0
UNKNOWN = 0.5  # the value of a factor whose inputs are not known


class WeightProfile(BaseModel):
    """A named set of factor weights (non-negative; factors not named weigh 0)."""

    model_config = ConfigDict(frozen=True)

    name: str
    weights: dict[str, float]
    description: str = ""
    #: the network walk's degree penalty per step: 1/deg or 1/log(2 + deg)
    network_norm: Literal["degree", "log"] = "degree"
    #: RP3β popularity exponent: the network score is divided by the candidate's degree^β
    beta: float = Field(default=0.0, ge=0.0, le=2.0)
    #: links weigh 2^(−age/half-life) in the network walk (age from ``since``); None = all 1
    half_life_days: float | None = Field(default=None, gt=0)
    #: the degree that orders the popularity fallback (:func:`queries.match.fallback_scores`):
    #: on the side ranked, or buying and selling together
    fallback_degree: FallbackDegree = "side"

    @field_validator("weights")
    @classmethod
    def _known_nonnegative(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(FACTORS))
        if unknown:
            raise ValueError(f"unknown factor(s) {unknown}; known: {', '.join(FACTORS)}")
        bad = [f for f, w in weights.items() if not np.isfinite(w) or w < 0]
        if bad:
            raise ValueError(f"weights must be finite and >= 0: {bad}")
        return weights

    def vector(self) -> np.ndarray:
        """The weights in ``FACTORS`` order."""
        return np.array([float(self.weights.get(f, 0.0)) for f in FACTORS])

    def with_weights(self, name: str, weights: Mapping[str, float]) -> WeightProfile:
        """A copy with other weights (used by the fitter)."""
        return self.model_copy(update={"name": name, "weights": dict(weights)})

    def network_params(self) -> dict[str, Any]:
        """The network walk's keyword arguments (:func:`queries.network.cf_buyers`)."""
        return {"beta": self.beta, "norm": self.network_norm,
                "half_life_days": self.half_life_days}


DEFAULT_PROFILE = WeightProfile(
    name="default",
    weights={
        "capability": 0.8, "demand": 0.8, "distance": 0.02, "certs": 0.1, "import": 0.05,
        "cluster": 0.2, "network": 0.1, "relation": 0.04, "lead_time": 0.1, "popularity": 0.1,
        "activity": 0.4,
    },
    description="Fitted by coordinate search on 3-fold inner MRR "
                "(coopgraph.queries.evaluate.fit_profile, seed 0) over the links of "
                "`coopgraph generate --companies 3000 --seed 2` — a set never used to report "
                "scores.",
)
NETWORK_ONLY_PROFILE = WeightProfile(
    name="network",
    weights={"network": 1.0, "relation": 0.1, "popularity": 0.001},
    description="Only the supply network: for data without capabilities or BOMs. Buyers "
                "the walk scores alike are ordered by their popularity in the category (weight "
                "0.001: it only reorders network signals within 0.1 % of the strongest).",
)
PROFILES: dict[str, WeightProfile] = {p.name: p for p in (DEFAULT_PROFILE, NETWORK_ONLY_PROFILE)}


def resolve_profile(profile: WeightProfile | str | None,
                    proj: Projection | None = None) -> WeightProfile:
    """The profile object for ``profile`` (a name, an object or ``None`` = automatic).

    ``None`` picks :data:`DEFAULT_PROFILE`, unless ``proj`` holds nothing but the
    supply network (no capabilities, bills of materials, needs or imports): then
    the side-information factors are the same for every candidate and only add
    noise, so :data:`NETWORK_ONLY_PROFILE` ranks by the network signal alone —
    with the walk's degree penalty and β chosen on this network's own links
    (:func:`queries.network.tune_walk`, once per match index; the profile's
    name says what was chosen). A network too small to tune keeps the
    profile's own setting.
    """
    if profile is None:
        if proj is not None and not has_side_information(proj):
            return _tuned_network_profile(proj)
        return DEFAULT_PROFILE
    if isinstance(profile, WeightProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise InvalidQuery(
            f"unknown weight profile {profile!r}; known: {', '.join(PROFILES)}") from None


#: how the automatic profile's name says which fallback order the tuning chose
_FALLBACK_NAMES: dict[str, str] = {"side": "", "both": ", fallback by both degrees",
                                   "flat": ", fallback by both degrees, no tiers"}


def _tuned_network_profile(proj: Projection) -> WeightProfile:
    """:data:`NETWORK_ONLY_PROFILE` with the walk tuned on ``proj`` (cached in its index)."""
    ix = match_index(proj)
    found = ix.cache.get("network_only_profile")
    if isinstance(found, WeightProfile):
        return found
    tuning = tune_walk(ix)
    prof = NETWORK_ONLY_PROFILE
    if tuning is not None:
        prof = NETWORK_ONLY_PROFILE.model_copy(update={
            "name": f"network (auto: {tuning.norm}, β {tuning.beta:g}"
                    f"{_FALLBACK_NAMES[tuning.fallback_degree]})",
            "network_norm": tuning.norm, "beta": tuning.beta,
            "fallback_degree": tuning.fallback_degree,
            "description": f"{NETWORK_ONLY_PROFILE.description} Walk chosen on this network's "
                           f"own links (inner MRR {tuning.mrr}, {tuning.n_queries} suppliers, "
                           f"{tuning.n_held_out} hidden pairs)."})
    ix.cache["network_only_profile"] = prof
    return prof


def has_side_information(proj: Projection) -> bool:
    """True when the projection knows more than who supplies whom."""
    return bool(len(proj.cap_company) or any(proj.product_bom) or any(proj.category_bom)
                or len(proj.need_company) or len(proj.imp_company))


# --- value functions (vectorised) -----------------------------------------------


def distance_value(km: np.ndarray, max_km: np.ndarray | None = None) -> np.ndarray:
    """exp(−km/300); 0 beyond the buyer's max distance; 0.5 where unknown."""
    value = np.exp(-np.asarray(km, dtype=float) / DISTANCE_SCALE_KM)
    if max_km is not None:
        value = np.where(np.isfinite(max_km) & (km > max_km), 0.0, value)
    return np.where(np.isfinite(km), value, UNKNOWN)


def lead_time_value(days: np.ndarray) -> np.ndarray:
    """1 / (1 + days/30); 0.5 where unknown."""
    days = np.asarray(days, dtype=float)
    return np.where(np.isfinite(days), 1.0 / (1.0 + np.maximum(days, 0) / LEAD_TIME_SCALE_DAYS),
                    UNKNOWN)


def capacity_value(free: np.ndarray, demand: np.ndarray, *, banded: bool = False) -> np.ndarray:
    """free / demand capped to 0..1; 0.5 when either is unknown (demand 0 = unknown).

    ``banded`` gives a member's view (:func:`graph.confidentiality.capacity_band`):
    1 when the free capacity covers the demand, 0 when it is short, 0.5 unknown —
    the ratio would give away the partner's figure to whoever knows its own.
    """
    free = np.asarray(free, dtype=float)
    demand = np.asarray(demand, dtype=float)
    known = np.isfinite(free) & np.isfinite(demand) & (demand > 0)
    if banded:
        return capacity_bands(free, demand)
    ratio = np.divide(free, demand, out=np.zeros_like(free), where=known)
    return np.where(known, np.clip(ratio, 0.0, 1.0), UNKNOWN)


# --- sentences -------------------------------------------------------------------

_FIT_TEXT = {
    "declared": ("заявленная компетенция по категории «{cat}»",
                 "declared capability in “{cat}”"),
    "supplied": ("уже поставляет «{cat}» другим покупателям",
                 "already supplies “{cat}” to other buyers"),
    "related": ("смежная категория таксономии («{cat}»), требует проверки",
                "a related category in the taxonomy (“{cat}”), to be confirmed"),
    "inferred": ("выведено: владеет всеми процессами для «{cat}»",
                 "inferred: holds every process “{cat}” needs"),
    "registry_main": ("по ОКВЭД {okved} — {okved_name} (основной вид деятельности по реестру), "
                      "требует проверки",
                      "by OKVED {okved} — {okved_name} (main activity in the registry), "
                      "to be confirmed"),
    "registry_extra": ("по ОКВЭД {okved} — {okved_name} (дополнительный вид деятельности по "
                       "реестру), требует проверки",
                       "by OKVED {okved} — {okved_name} (additional activity in the registry), "
                       "to be confirmed"),
    "network": ("нет данных о компетенции, только сигнал сети",
                "no capability data, network signal only"),
    # a popularity filler without a fit (queries.match._fallback): the source, as the CLI says
    "popular_in_category": ("нет данных о компетенции: запасной список — известные в категориях "
                            "компании", "no capability data: a popularity fallback — popular "
                            "in the company's categories"),
    "popular_in_region": ("нет данных о компетенции: запасной список — известные в регионе",
                          "no capability data: a popularity fallback — popular in region"),
    "popular": ("нет данных о компетенции: запасной список — известные",
                "no capability data: a popularity fallback — popular"),
}


_DEMAND_TEXT = {
    "need": ("явная потребность покупателя", "an explicit request by the buyer"),
    "supplied": ("покупатель уже закупает это у других", "the buyer buys it from others"),
    "import": ("покупатель импортирует эту категорию", "the buyer imports this category"),
    "bom": ("входит в спецификацию изделия покупателя", "in the BOM of the buyer's product"),
    "": ("нет данных о потребности", "no data on demand"),
}


def _num(x: float, lang: Lang = "ru") -> str:
    """A reason's figure in ``lang``'s style (CLDR: ``1 234``, ``0,73``; ``1,234``, ``0.73``)."""
    # math.isfinite, not np.isfinite: a ranking explains ~120 factors, and numpy's
    # scalar call costs about 20× more
    if not math.isfinite(x):
        return "?"
    return number(x, lang, 0 if abs(x) >= 100 else 1 if abs(x) >= 1 else 2)


def _both(x: float) -> tuple[str, str]:
    return _num(x, "ru"), _num(x, "en")


def _count(x: float) -> str:
    """A count of companies: a whole number without decimals."""
    return f"{x:.0f}" if float(x).is_integer() else _num(x)


def explain(name: str, value: float, raw: float | None, *, cat: str, cat_en: str | None = None,
            fit: str = "declared", demand_src: str = "", extra: float | None = None,
            qualitative: bool = False, peers: Sequence[str] = (), shared: Sequence[str] = (),
            direction: str = "buyers", okved: tuple[str, str] | None = None
            ) -> tuple[str, str]:
    """The (Russian, English) sentence explaining one factor's value for one pair.

    ``cat``/``cat_en`` are the category's Russian and English names, ``fit`` the
    fit kind, ``demand_src`` the strongest demand evidence (need, supplied,
    import, bom) and ``extra`` a second number the sentence needs (demand, or
    the number of required certificates). ``qualitative`` words a banded
    capacity factor (a member's view) without any figure: enough, short or unknown.
    ``peers``/``shared`` name the companies behind a network signal
    (:func:`network_sentence`); ``direction`` is the ranking's. ``okved`` is the
    (code, name) behind a registry fit (:func:`queries.registry.registry_evidence`).
    """
    r = float("nan") if raw is None else float(raw)
    if name == "capability":
        ru, en = _FIT_TEXT[fit]
        code, title = okved or ("?", "?")
        return (ru.format(cat=cat, okved=code, okved_name=title),
                en.format(cat=cat_en or cat, okved=code, okved_name=title))
    if name == "demand":
        ru, en = _DEMAND_TEXT.get(demand_src, _DEMAND_TEXT[""])
        if extra is not None and math.isfinite(extra) and extra > 0:
            return f"{ru}: ~{_num(extra, 'ru')} в год", f"{en}: ~{_num(extra, 'en')} a year"
        return ru, en
    if name == "capacity":
        if qualitative:
            if value == ENOUGH:
                return ("свободной мощности хватает на потребность",
                        "enough free capacity for the demand")
            if value == SHORT:
                return ("свободной мощности меньше потребности",
                        "free capacity is short of the demand")
            return ("свободная мощность или потребность неизвестна",
                    "free capacity or demand unknown")
        if value == UNKNOWN and not math.isfinite(r):
            return "свободная мощность неизвестна", "free capacity unknown"
        dem_ru, dem_en = ("?", "?") if extra is None else _both(extra)
        return (f"свободная мощность {_num(r, 'ru')} шт./год при потребности {dem_ru}",
                f"free capacity {_num(r, 'en')}/yr against demand {dem_en}")
    if name == "distance":
        if not math.isfinite(r):
            return "координаты неизвестны", "coordinates unknown"
        if value == 0.0:
            return (f"{_num(r, 'ru')} км — дальше, чем допускает покупатель",
                    f"{_num(r, 'en')} km — beyond the buyer's maximum distance")
        if r < 1.0:  # same town: "0 км" reads like a missing figure
            return ("в том же населённом пункте (меньше 1 км)",
                    "in the same town (under 1 km)")
        return (f"{_num(r, 'ru')} км: логистические издержки",
                f"{_num(r, 'en')} km: logistics cost")
    if name == "certs":
        if extra is None or extra == 0:
            return "сертификаты не требуются", "no certifications required"
        held, need = round(value * extra), round(extra)
        return (f"есть {held} из " + count(need, "ru", ("требуемого сертификата",
                                                      "требуемых сертификатов",
                                                      "требуемых сертификатов"), ("", "")),
                f"holds {held} of " + count(need, "en", ("", "", ""),
                                            ("required certification",
                                             "required certifications")))
    if name == "import":
        if value > 0:
            return ("замещение импорта: покупатель сейчас импортирует",
                    "import substitution: the buyer imports it today")
        return "не импортируется", "not imported"
    if name == "cluster":
        if value > 0:
            return ("оба участники кластера: субсидируемо, растёт доля закупок в кластере",
                    "both in the cluster: subsidy-eligible, raises the intra-cluster share")
        return "не в одном кластере", "not in the same cluster"
    if name == "network":
        if value > 0:
            return network_sentence(value, peers, shared, direction)
        return "нет общих партнёров в сети поставок", "no shared partners in the supply network"
    if name == "relation":
        if value > 0:
            return ("уже покупает у поставщика другие категории",
                    "already buys other categories from the supplier")
        return "прежних поставок нет", "no supply relationship yet"
    if name == "popularity":
        if value > 0 and math.isfinite(r) and cat == "—":  # no category: the fallback's degree
            return ("партнёр работает с " + count(r, "ru", ("компанией", "компаниями",
                                                            "компаниями"), ("", ""))
                    + ": один из самых связанных",
                    "the partner deals with " + count(r, "en", ("", "", ""),
                                                      ("company", "companies"))
                    + ": among the most connected")
        if value > 0 and math.isfinite(r):
            return (f"партнёр уже торгует «{cat}» с "
                    + count(r, "ru", ("контрагентом", "контрагентами", "контрагентами"),
                            ("", ""))
                    + ": один из самых активных в категории",
                    f"the partner already trades “{cat_en or cat}” with "
                    + count(r, "en", ("", "", ""), ("company", "companies"))
                    + ": among the category's most active")
        return ("партнёр пока не торгует этой категорией",
                "the partner does not trade this category yet")
    if name == "activity":
        if value > 0:
            return (f"торговля «{cat}» — {percent(value, 'ru')} от объёма своей основной "
                    "категории",
                    f"trade in “{cat_en or cat}” is {percent(value, 'en')} of its busiest "
                    "category's")
        return ("своих сделок по этой категории пока нет", "no own trade in this category yet")
    if name == "lead_time":
        if not math.isfinite(r):
            return "срок поставки неизвестен", "lead time unknown"
        return (f"срок поставки {_num(r, 'ru')} дн.",
                "lead time " + count(r, "en", ("", "", ""), ("day", "days")))
    raise InvalidQuery(f"unknown factor {name!r}")


def _names(names: Sequence[str], conj: str) -> str:
    quoted = list(names)
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + f" {conj} " + quoted[-1]


def _names_en(names: Sequence[str]) -> str:
    quoted = list(names)
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def network_sentence(value: float, peers: Sequence[str], shared: Sequence[str],
                     direction: str = "buyers") -> tuple[str, str]:
    """The (Russian, English) network reason, naming the companies behind it.

    ``value`` is the network factor (scaled over the candidates: 1 = the
    strongest signal of any candidate), shown 0–100; ``peers`` are up to three
    same-side companies that already deal with the candidate and ``shared`` the
    partners they share with the querying company — names only, no figures.

    Examples
    --------
    >>> network_sentence(0.5, ["Завод А", "Завод Б"], ["Комбайн В"])[1][:62]
    'Завод А and Завод Б, which also supply your buyer Комбайн В, s'
    """
    pct = round(100 * value)
    if not peers and shared:
        if direction == "buyers":
            return (f"поставщики ваших покупателей ({_names(shared, 'и')}) продают этому "
                    f"покупателю (сигнал сети {pct} из 100)",
                    f"suppliers of your buyers ({_names_en(shared)}) sell to this buyer "
                    f"(network signal {pct} of 100)")
        return (f"покупатели ваших поставщиков ({_names(shared, 'и')}) покупают у этого "
                f"поставщика (сигнал сети {pct} из 100)",
                f"buyers from your suppliers ({_names_en(shared)}) buy from this supplier "
                f"(network signal {pct} of 100)")
    if not peers:
        return (f"похожие компании работают с этим партнёром (сигнал сети {pct} из 100)",
                f"similar companies deal with this partner (network signal {pct} of 100)")
    plural = len(peers) > 1
    if direction == "buyers":
        ru_who = "вашему покупателю" if len(shared) == 1 else "вашим покупателям"
        en_who = "your buyer" if len(shared) == 1 else "your buyers"
        ru = (f"{_names(peers, 'и')}, {'которые' if plural else 'который'} тоже "
              f"{'поставляют' if plural else 'поставляет'} {ru_who} {_names(shared, 'и')}, "
              f"{'продают' if plural else 'продаёт'} этому покупателю (сигнал сети {pct} из 100)")
        en = (f"{_names_en(peers)}, which also {'supply' if plural else 'supplies'} {en_who} "
              f"{_names_en(shared)}, {'sell' if plural else 'sells'} to this buyer "
              f"(network signal {pct} of 100)")
    else:
        ru_who = "вашего поставщика" if len(shared) == 1 else "ваших поставщиков"
        en_who = "your supplier" if len(shared) == 1 else "your suppliers"
        ru = (f"{_names(peers, 'и')}, {'которые' if plural else 'который'} тоже "
              f"{'покупают' if plural else 'покупает'} у {ru_who} {_names(shared, 'и')}, "
              f"{'покупают' if plural else 'покупает'} у этого поставщика "
              f"(сигнал сети {pct} из 100)")
        en = (f"{_names_en(peers)}, which also {'buy' if plural else 'buys'} from {en_who} "
              f"{_names_en(shared)}, {'buy' if plural else 'buys'} from this supplier "
              f"(network signal {pct} of 100)")
    return ru, en


def weights_from(values: Mapping[str, float] | None) -> dict[str, float]:
    """A weights dict with every factor present (missing → 0)."""
    values = values or {}
    return {f: float(values.get(f, 0.0)) for f in FACTORS}


def default_weights() -> dict[str, float]:
    """A copy of the default profile's weights (every factor present)."""
    return weights_from(DEFAULT_PROFILE.weights)

