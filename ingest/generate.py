"""The scale generator: a synthetic country of N companies in the sample's file formats.

``generate(out_dir, companies=N, seed=S)`` writes the same CSV files as
``data/sample/`` (see :data:`ingest.sample.FILE_NAMES`) with a realistic
structure, so that ingest, the stores and the analytics can be measured at
national scale (10⁵ companies, about 10⁶ capability and supply rows):

- geography: companies sit around real Russian cities (weighted by size) with
  a few kilometres of jitter, with the city's region and an INN of that region;
- heavy tails: how many categories a supplier declares is Pareto-distributed,
  and buyers are picked by preferential attachment, so a few suppliers and a
  few OEMs have very many links while the median company has one or two;
- structure: the taxonomy of :mod:`ingest.taxonomy`; OEMs make products built
  from the product templates (quantities and lines varied); suppliers supply
  only categories they declare, to OEMs whose BOMs need them or to makers of
  assemblies that contain them; regional clusters with members; imports of
  thinly supplied categories; a few explicit needs.

Rows are streamed to the files as they are made; only small per-company and
per-category indexes stay in memory. The same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.schema import EntityKind
from coopgraph.ingest import taxonomy
from coopgraph.ingest.sample import (
    CITIES,
    FILE_NAMES,
    MUNICIPALITIES,
    City,
    columns,
    format_cell,
    make_inn,
)

__all__ = ["FORMATS", "GenerateReport", "generate"]

FORMATS = ("csv",)
_K = EntityKind
# the company columns a registry fills (okved_main, okved, registry_source, registry_date):
# empty in a generated set
_NO_REGISTRY = ("",) * (len(columns(_K.COMPANY)) - columns(_K.COMPANY).index("okved_main"))

# Roles and their shares among generated companies.
_ROLE_SHARES = (("supplier", 0.895), ("oem", 0.06), ("service", 0.02), ("dealer", 0.015),
                ("finance", 0.006), ("university", 0.004))
_COUNTRIES = (("China", 45), ("Germany", 12), ("Belarus", 12), ("Italy", 8), ("Turkey", 8),
              ("India", 5), ("Kazakhstan", 4), ("Denmark", 3), ("Japan", 3))
_FORMS = (("ООО", 78), ("АО", 12), ("ПАО", 2), ("ИП", 5), ("ЗАО", 3))
_WORDS = ("Техмаш", "Агродеталь", "Металлпром", "Литмаш", "Гидропривод", "Механика",
          "Промкомплект", "Стальконструкция", "Прецизион", "Автокомпонент", "Энергомаш",
          "Полимер", "Электропривод", "Станкосервис", "Агрокомплект", "Профиль", "Привод")
_CERTS = (("ISO9001", 0.45), ("GOST_R", 0.12), ("ISO14001", 0.08), ("IATF16949", 0.04),
          ("ISO3834", 0.05), ("TR_TS_010", 0.05), ("PP719", 0.03))
_EPOCH = dt.date(2015, 1, 1).toordinal()
_DAYS = dt.date(2025, 12, 31).toordinal() - _EPOCH


@dataclass
class GenerateReport:
    """What :func:`generate` wrote: rows per file, time taken and where."""

    out_dir: Path
    companies: int
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """All data rows written (headers excluded)."""
        return sum(self.rows.values())

    @property
    def capability_and_supply_rows(self) -> int:
        """The capability and supply rows: the graph's bulk."""
        return self.rows.get(FILE_NAMES[_K.CAPABILITY], 0) + self.rows.get(FILE_NAMES[_K.SUPPLY], 0)


class _Sink:
    """One open CSV writer per kind, counting rows."""

    def __init__(self, out_dir: Path, stack: ExitStack) -> None:
        self.writers: dict[EntityKind, Any] = {}
        self.counts: dict[EntityKind, int] = {}
        for kind, name in FILE_NAMES.items():
            handle: IO[str] = stack.enter_context(
                (out_dir / name).open("w", encoding="utf-8", newline=""))
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns(kind))
            self.writers[kind] = writer
            self.counts[kind] = 0

    def row(self, kind: EntityKind, cells: Sequence[Any]) -> None:
        self.writers[kind].writerow(cells)
        self.counts[kind] += 1


class _Progress:
    """A rich progress bar when asked for, otherwise nothing."""

    def __init__(self, bar: Any | None) -> None:
        self.bar = bar
        self.task: Any = None

    def phase(self, name: str, total: int) -> None:
        if self.bar is not None:
            self.finish()
            self.task = self.bar.add_task(name, total=total)

    def finish(self) -> None:
        """Mark the current phase complete."""
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[self.task].total)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, n)


@contextmanager
def _progress(enabled: bool) -> Iterator[_Progress]:
    if not enabled:
        yield _Progress(None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns_ = (TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn())
    with Progress(*columns_) as bar:
        progress = _Progress(bar)
        yield progress
        progress.finish()


def _num(value: float) -> str:
    return format_cell(float(value))


def _money(value: float) -> str:
    """A price with at most two decimals, written like :func:`format_cell` would."""
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


class _Generator:
    def __init__(self, n: int, seed: int, sink: _Sink, progress: _Progress) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.sink = sink
        self.progress = progress
        cats = taxonomy.categories()
        self.cat_price = {c.code: c.unit_price or 100.0 for c in cats}
        self.cat_procs = {c.code: c.processes for c in cats}
        self.leaves = [c for c in taxonomy.leaf_codes()]
        # consumers of a category: assemblies whose recipe contains it
        self.parents_of: dict[str, list[str]] = {}
        for parent, lines in taxonomy.CATEGORY_BOM.items():
            for child, _qty in lines:
                self.parents_of.setdefault(child, []).append(parent)
        demand: dict[str, float] = {}
        for t in taxonomy.PRODUCT_TEMPLATES:
            for code, qty in taxonomy.expand(t.lines, multiplier=t.annual_volume).items():
                demand[code] = demand.get(code, 0.0) + qty * self.cat_price[code]
        # how often suppliers declare a leaf: by the value demanded, flattened
        self.leaf_cum = list(itertools.accumulate(
            1.0 + math.sqrt(demand.get(c, 0.0) / 1e6) for c in self.leaves))
        self.family: dict[str, list[str]] = {}
        for code in self.leaves:
            self.family.setdefault(code.split(".")[0], []).append(code)
        self.places: list[City] = [*CITIES, *MUNICIPALITIES]
        self.regions = sorted({c.region for c in self.places})
        self.region_index = {r: i for i, r in enumerate(self.regions)}
        # per company (index i): role code, region index; small arrays only
        self.role: list[str] = []
        self.region_of: list[int] = []
        self.ids: list[str] = []
        self.oems: list[int] = []
        self.serials: dict[str, int] = {}
        self.buyers: dict[str, list[int]] = {}  # category -> urn of buyer indexes
        self.declarers: dict[str, list[int]] = {}  # category -> suppliers declaring it
        self.declared: list[list[str]] = []

    # --- helpers
    def _date(self) -> str:
        return dt.date.fromordinal(_EPOCH + self.rng.randrange(_DAYS)).isoformat()

    def _birth(self, i: int) -> int:
        """Day (ordinal) company ``i`` enters the network: the cluster grows over time.

        Companies enter in index order, at an accelerating rate (the share that
        has entered by time t is (t / T)²), so the later a company, the later
        its links — and the suppliers' loop (index order) makes links in time.
        """
        return _EPOCH + int(_DAYS * math.sqrt(i / self.n) * 0.9)

    def _link_date(self, s: int, b: int) -> str:
        """A link starts once both ends exist, after an exponential delay (mean 180 days).

        With the buyers' urn (preferential attachment: each chosen buyer is
        appended again, so the recently chosen are the likelier) this is a
        growth process: time splits of generated data hold the newest
        companies' links, as on a real network, instead of a random sample.
        """
        start = max(self._birth(s), self._birth(b))
        day = start + int(self.rng.expovariate(1 / 180.0))
        return dt.date.fromordinal(min(day, _EPOCH + _DAYS)).isoformat()

    def _inn(self, city: City) -> str:
        serial = self.serials.get(city.region_code, 0)
        self.serials[city.region_code] = serial + 1
        return make_inn(city.region_code, 90 + serial // 100_000, serial % 100_000)

    def _ogrn(self, inn: str) -> str:
        body = f"1{self.rng.randint(2, 19):02d}{inn[:4]}{inn[4:9]}"
        return body + str(int(body) % 11 % 10)

    # --- steps
    def reference(self) -> None:
        s = self.sink
        for p in taxonomy.processes():
            s.row(_K.PROCESS, [p.code, p.name_ru, p.name_en])
        for c in taxonomy.certifications():
            s.row(_K.CERTIFICATION, [c.code, c.name])
        for cat in taxonomy.categories():
            s.row(_K.CATEGORY, [format_cell(getattr(cat, f)) for f in columns(_K.CATEGORY)])
        for line in taxonomy.bom_lines():
            s.row(_K.BOM_LINE, [line.parent, line.child, _num(line.qty), "category"])

    def companies(self) -> None:
        rng = self.rng
        self.progress.phase("companies", self.n)
        weights = [c.weight for c in self.places]
        places = rng.choices(self.places, weights, k=self.n)
        roles = [r for r, _ in _ROLE_SHARES]
        role_w = list(itertools.accumulate(w for _, w in _ROLE_SHARES))
        forms = [f for f, _ in _FORMS]
        form_w = list(itertools.accumulate(w for _, w in _FORMS))
        for i, city in enumerate(places):
            role = rng.choices(roles, cum_weights=role_w)[0]
            cid = f"g{i:07d}"
            inn = self._inn(city)
            form = rng.choices(forms, cum_weights=form_w)[0]
            employees = int(min(20_000, 5 * rng.paretovariate(1.1)))
            if role == "oem":
                employees = max(employees, 50)
            self.sink.row(_K.COMPANY, [
                cid, f"{form} «{rng.choice(_WORDS)} {city.name.split()[0]} {i}»", inn,
                self._ogrn(inn) if rng.random() < 0.85 else "", form, city.region, city.name,
                f"{city.lat + rng.gauss(0, 0.04):.4f}", f"{city.lon + rng.gauss(0, 0.06):.4f}",
                employees, role, *_NO_REGISTRY,
            ])
            self.ids.append(cid)
            self.role.append(role)
            self.region_of.append(self.region_index[city.region])
            if role == "oem":
                self.oems.append(i)
            held = [code for code, p in _CERTS if rng.random() < p]
            for code in held:
                until = (dt.date(2023, 1, 1) if rng.random() < 0.15 else dt.date(2026, 6, 1))
                until = until + dt.timedelta(days=rng.randrange(900))
                self.sink.row(_K.HELD_CERTIFICATION, [cid, code, until.isoformat()])
            if i % 1000 == 999:
                self.progress.advance(1000)
        self.progress.advance(self.n % 1000)

    def products(self) -> None:
        rng = self.rng
        self.progress.phase("products", len(self.oems))
        templates = taxonomy.PRODUCT_TEMPLATES
        pid = 0
        for i in self.oems:
            needed: dict[str, None] = {}
            for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1)):
                t = rng.choice(templates)
                product = f"p{pid:07d}"
                pid += 1
                volume = max(5, round(t.annual_volume * rng.lognormvariate(-1.5, 0.8)))
                price = round(t.unit_price * rng.uniform(0.7, 1.3), -3)
                self.sink.row(_K.PRODUCT, [product, f"{t.name_ru} {product.upper()}",
                                           self.ids[i], t.okpd2, volume, _num(price)])
                for child, qty in t.lines:
                    if rng.random() < 0.1:
                        continue
                    q = qty * rng.uniform(0.7, 1.3)
                    q = round(q) if qty >= 5 else round(q, 3)
                    self.sink.row(_K.BOM_LINE, [product, child, _num(max(q, 0.001)), "product"])
                    needed[child] = None
            for code in needed:
                self.buyers.setdefault(code, []).append(i)
            # thinly supplied, expensive lines are imported by some OEMs
            for code in needed:
                if rng.random() < 0.04:
                    country = rng.choices([c for c, _ in _COUNTRIES],
                                          [w for _, w in _COUNTRIES])[0]
                    self.sink.row(_K.IMPORT, [self.ids[i], code, country,
                                              rng.randint(10, 5000),
                                              _num(round(self.cat_price[code] * 1.3, 2))])
            if rng.random() < 0.3:
                code = rng.choice(list(needed))
                certs = "|".join(c for c, _ in _CERTS[:3] if rng.random() < 0.4)
                distance = rng.choice(("", "150", "300", "500", "1000"))
                self.sink.row(_K.NEED, [self.ids[i], code, rng.randint(50, 50_000), certs,
                                        distance])
            self.progress.advance()

    def capabilities(self) -> None:
        rng = self.rng
        self.progress.phase("capabilities", self.n)
        leaves, cum = self.leaves, self.leaf_cum
        price = self.cat_price
        for i, role in enumerate(self.role):
            declared: list[str] = []
            if role == "supplier" or (role == "oem" and rng.random() < 0.3):
                k = min(len(leaves), int(rng.paretovariate(1.5) * 1.8))
                # a specialised firm draws around one category family, a big one anywhere
                if k <= 6:
                    first = rng.choices(leaves, cum_weights=cum)[0]
                    family = self.family[first.split(".")[0]]
                    pool = family if len(family) >= k else leaves
                else:
                    pool = leaves
                declared = rng.sample(pool, max(1, k))
                procs: dict[str, None] = {}
                cid = self.ids[i]
                for code in declared:
                    value = rng.lognormvariate(16.5, 1.3)  # roubles a year
                    capacity = max(1, round(value / price[code]))
                    self.sink.row(_K.CAPABILITY, [
                        cid, code, capacity, rng.choice((7, 10, 14, 21, 30, 45, 60, 90)),
                        max(1, capacity // rng.choice((100, 200, 1000))),
                        _money(price[code] * rng.uniform(0.85, 1.2)),
                    ])
                    self.declarers.setdefault(code, []).append(i)
                    for p in self.cat_procs[code]:
                        procs[p] = None
                if rng.random() < 0.3:
                    procs[rng.choice(("painting", "assembly", "welding", "machining"))] = None
                for p in procs:
                    self.sink.row(_K.COMPANY_PROCESS, [cid, p])
            self.declared.append(declared)
            # makers of assemblies buy the parts of what they make
            for code in declared:
                for child, _qty in taxonomy.CATEGORY_BOM.get(code, ()):
                    self.buyers.setdefault(child, []).append(i)
            if i % 1000 == 999:
                self.progress.advance(1000)
        self.progress.advance(self.n % 1000)

    def supplies(self) -> None:
        rng = self.rng
        self.progress.phase("supplies", self.n)
        for i, declared in enumerate(self.declared):
            sid = self.ids[i]
            for code in declared:
                urn = self.buyers.get(code)
                if not urn:
                    continue
                m = int(rng.paretovariate(1.6) * 1.15) - 1
                if m <= 0:
                    continue
                chosen: dict[int, None] = {}
                for _ in range(3 * m):
                    if len(chosen) >= m:
                        break
                    b = urn[rng.randrange(len(urn))]
                    if b == i or b in chosen:
                        continue
                    chosen[b] = None
                    urn.append(b)  # preferential attachment: the chosen get likelier
                price = self.cat_price[code]
                for b in chosen:
                    volume = max(1, round(rng.lognormvariate(14.0, 1.4) / price))
                    self.sink.row(_K.SUPPLY, [sid, self.ids[b], code, volume,
                                              _money(price * rng.uniform(0.85, 1.2)),
                                              self._link_date(i, b)])
            if i % 1000 == 999:
                self.progress.advance(1000)
        self.progress.advance(self.n % 1000)

    def clusters(self) -> None:
        rng = self.rng
        by_region: dict[int, list[int]] = {}
        for i, region in enumerate(self.region_of):
            by_region.setdefault(region, []).append(i)
        ranked = sorted(by_region, key=lambda r: (-len(by_region[r]), r))
        n_clusters = max(1, min(len(ranked), self.n // 4000))
        for k, region in enumerate(ranked[:n_clusters]):
            name = self.regions[region]
            cluster_id = f"cl{k:03d}"
            self.sink.row(_K.CLUSTER, [cluster_id, f"Промышленный кластер: {name}", name,
                                       "0.2" if k % 5 else "0.1"])
            people = by_region[region]
            size = min(len(people), rng.randint(25, 80))
            for i in sorted(rng.sample(people, size)):
                since = dt.date(2016 + rng.randrange(9), 1 + rng.randrange(12), 1)
                self.sink.row(_K.MEMBERSHIP, [self.ids[i], cluster_id, since.isoformat()])


def generate(
    out_dir: str | Path,
    *,
    companies: int,
    seed: int = 0,
    fmt: str = "csv",
    progress: bool = False,
) -> GenerateReport:
    """Write a synthetic dataset of ``companies`` companies into ``out_dir``.

    Parameters
    ----------
    out_dir
        Directory to write into (created if needed); existing files of the
        same names are replaced.
    companies
        How many companies to make (at least 10). 100,000 gives about a
        million capability and supply rows.
    seed
        Random seed: the same seed and size give byte-identical files.
    fmt
        File format; only ``"csv"`` (the canonical ingest format) for now.
    progress
        Show a rich progress bar on the terminal.

    Returns
    -------
    GenerateReport
        Rows written per file and the time taken.

    Raises
    ------
    InvalidQuery
        When ``companies`` is below 10 or ``fmt`` is unknown.
    """
    if fmt not in FORMATS:
        raise InvalidQuery(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    if companies < 10:
        raise InvalidQuery(f"--companies must be at least 10, not {companies}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ExitStack() as stack, _progress(progress) as bar:
        sink = _Sink(out, stack)
        gen = _Generator(companies, seed, sink, bar)
        gen.reference()
        gen.companies()
        gen.products()
        gen.capabilities()
        gen.supplies()
        gen.clusters()
    report = GenerateReport(out_dir=out, companies=companies, seed=seed,
                            rows={FILE_NAMES[k]: n for k, n in sink.counts.items()},
                            seconds=time.perf_counter() - started)
    return report
