"""The ``coopgraph match`` commands: ranked, explained partners for a supplier or a buyer.

``coopgraph match buyers --supplier ID`` lists who could buy what a supplier
makes; ``coopgraph match suppliers --buyer ID`` lists who could make what a
buyer needs. A readable table by default, the full result (every factor, its
value and its sentence in Russian and English) with ``--json``. Unknown ids and
nonsense filters exit with code 2 and one line of explanation.

As the API's ``/match``, a ranking is lowered by the company's declined requests,
and a lowered candidate's first reason says so (:mod:`queries.feedback`).
"""

from __future__ import annotations

import typer
from rich.table import Table

from coopgraph.api.console import console, friendly_errors, lang, print_json, store_from_settings
from coopgraph.graph.i18n import Lang, number
from coopgraph.graph.settings import load_settings
from coopgraph.graph.store import GraphStore
from coopgraph.queries.candidates import DEFERRED_FIELDS, match_index
from coopgraph.queries.factors import WeightProfile
from coopgraph.queries.feedback import declined_requests, declines_of, rank_with_declines
from coopgraph.queries.match import rank_buyers, rank_suppliers
from coopgraph.queries.profiles import load_profile
from coopgraph.queries.projection import Projection
from coopgraph.queries.projection_disk import DiskProjection
from coopgraph.queries.results import MatchFilters, MatchResult

__all__ = ["register", "render"]

match_app = typer.Typer(help="Rank potential cooperation partners, with reasons.",
                        no_args_is_help=True)


def _filters(max_distance: float | None, region: str | None, cluster_only: bool,
             cluster: str | None, certs: list[str] | None,
             min_free_capacity: float | None, no_registry: bool = False) -> MatchFilters:
    return MatchFilters(
        max_distance_km=max_distance, region=region,
        cluster_only=cluster if cluster is not None else (True if cluster_only else None),
        required_certs=list(certs or []), min_free_capacity=min_free_capacity,
        registry=not no_registry)


def _profile(name: str | None, direction: str) -> WeightProfile | str | None:
    """``--profile``, else the profile ``coopgraph fit`` stored for this direction, else None."""
    if name is not None:
        return name
    stored = load_profile(load_settings().data_dir)
    if stored is not None and stored.direction == direction:
        return stored.profile
    return None


_FIT = {"declared": ("заявлено", "declared"), "supplied": ("уже поставляет", "supplies it"),
        "related": ("родственная категория", "related category"),
        "inferred": ("по процессам", "by processes"), "network": ("по сети", "via the network")}
_SOURCE = {"demand": ("спрос", "demand"), "network": ("только сеть", "network only"),
           "popular_in_category": ("известные в категориях компании",
                                   "popular in the company's categories"),
           "popular_in_region": ("известные в регионе", "popular in region"),
           "popular": ("известные", "popular")}


def render(result: MatchResult, *, english: bool = False) -> Table:
    """A rich table of a ranking: rank, company, category, score, top reasons."""
    ru = not english
    lg: Lang = "ru" if ru else "en"
    what = ("покупатели" if ru else "buyers") if result.direction == "buyers" else (
        "поставщики" if ru else "suppliers")
    title = (f"{'Возможные' if ru else 'Potential'} {what}: {result.company_name} — "
             + (f"{len(result.candidates)} из {number(result.n_candidates, lg)}, "
                f"профиль {result.profile}" if ru else
                f"{len(result.candidates)} of {number(result.n_candidates, lg)}, "
                f"profile {result.profile}"))
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("компания" if ru else "company")
    table.add_column("категория" if ru else "category")
    table.add_column("соответствие" if ru else "fit")
    table.add_column("оценка, 0–100" if ru else "score, 0–100", justify="right")
    table.add_column("источник" if ru else "source")
    table.add_column("км" if ru else "km", justify="right")
    table.add_column("главные причины" if ru else "top reasons")
    for c in result.candidates:
        reasons = c.reasons_en if english else c.reasons_ru
        # a popularity filler fits by nothing (the note says so): no "via the network" beside it
        fit = "—" if c.source.startswith("popular") \
            else _FIT.get(c.fit, (c.fit, c.fit))[0 if ru else 1]
        source = _SOURCE.get(c.source, (c.source, c.source))[0 if ru else 1]
        table.add_row(str(c.rank), c.company_name, c.category_name or "—", fit,
                      number(c.relative_score, lg), source,
                      "—" if c.distance_km is None else
                      "<1" if c.distance_km < 1 else number(c.distance_km, lg),
                      "; ".join(reasons))
    return table


def _warm(projection: Projection) -> None:
    """Build what a ranking needs (the match index, the registry fit) before the projection
    is kept on disk, so that the next command finds it built."""
    if len(projection.cap_company):
        rank_buyers(projection, projection.company_ids[int(projection.cap_company[0])], k=1)
        # the column-major copies a ranking of suppliers reads are built on first read (a
        # server's writes skip them while nobody reads them); a kept projection holds them
        # built, or every `match --buyer` would build them again
        index = match_index(projection)
        for name in DEFERRED_FIELDS:
            getattr(index, name)


def projection_for_match(store: GraphStore) -> Projection:
    """The store's projection, from the disk cache when it is current (warm between calls)."""
    return DiskProjection(store, warm=_warm).get()


def _show(result: MatchResult, as_json: bool, english: bool) -> None:
    if as_json:
        print_json(result.model_dump(mode="json"))
    elif not result.candidates:
        why = (result.note_en if english else result.note_ru) or (
            "no candidate" if english else "нет кандидатов")
        console.print(f"{'Нет кандидатов для' if not english else 'No candidates for'} "
                      f"{result.company_name}: {why}.", highlight=False)
    else:
        console.print(render(result, english=english))
        note = result.note_en if english else result.note_ru
        if note:
            console.print(f"[yellow]{note}[/]")


@match_app.command("buyers")
def buyers(
    supplier: str = typer.Option(..., "--supplier", "-s", help="The supplier's company id"),
    category: str | None = typer.Option(None, "--category", "-c", help="Only this category"),
    k: int = typer.Option(10, "--k", "-k", help="How many candidates"),
    max_distance: float | None = typer.Option(None, "--max-distance", help="Max distance, km"),
    region: str | None = typer.Option(None, "--region", help="Only buyers in this region"),
    cluster_only: bool = typer.Option(False, "--cluster-only",
                                      help="Only buyers sharing a cluster with the supplier"),
    cluster: str | None = typer.Option(None, "--cluster", help="Only members of this cluster"),
    no_registry: bool = typer.Option(False, "--no-registry", help="Leave out capabilities "
                                     "inferred only from OKVED codes (registry evidence)"),
    profile: str | None = typer.Option(None, "--profile", help="Weight profile name (default: "
                                       "the one `coopgraph fit` stored, else automatic)"),
    english: bool = typer.Option(False, "--en", help="Reasons in English (as --lang en)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Who could buy what SUPPLIER makes — ranked, with reasons."""
    english = english or lang() == "en"
    with store_from_settings(as_json=as_json, lazy=True) as store, friendly_errors():
        proj = projection_for_match(store)
        result = rank_with_declines(lambda n: rank_buyers(
            proj, supplier, k=n, category=category, profile=_profile(profile, "buyers"),
            filters=_filters(max_distance, region, cluster_only, cluster, None, None,
                             no_registry)),
            k, declines_of(declined_requests(store, supplier), supplier))
    _show(result, as_json, english)


@match_app.command("suppliers")
def suppliers(
    buyer: str = typer.Option(..., "--buyer", "-b", help="The buyer's company id"),
    category: str | None = typer.Option(None, "--category", "-c", help="Only this category"),
    product: str | None = typer.Option(None, "--product", "-p",
                                       help="Only the categories of this product's BOM"),
    k: int = typer.Option(10, "--k", "-k", help="How many candidates"),
    max_distance: float | None = typer.Option(None, "--max-distance", help="Max distance, km"),
    region: str | None = typer.Option(None, "--region", help="Only suppliers in this region"),
    cluster_only: bool = typer.Option(False, "--cluster-only",
                                      help="Only suppliers sharing a cluster with the buyer"),
    cluster: str | None = typer.Option(None, "--cluster", help="Only members of this cluster"),
    cert: list[str] | None = typer.Option(None, "--cert",
                                          help="Required certification (repeatable)"),
    min_free_capacity: float | None = typer.Option(None, "--min-free-capacity",
                                                   help="Minimum free yearly capacity"),
    no_registry: bool = typer.Option(False, "--no-registry", help="Leave out capabilities "
                                     "inferred only from OKVED codes (registry evidence)"),
    profile: str | None = typer.Option(None, "--profile", help="Weight profile name (default: "
                                       "the one `coopgraph fit` stored, else automatic)"),
    english: bool = typer.Option(False, "--en", help="Reasons in English (as --lang en)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Who could make what BUYER needs — ranked, with reasons."""
    english = english or lang() == "en"
    with store_from_settings(as_json=as_json, lazy=True) as store, friendly_errors():
        proj = projection_for_match(store)
        result = rank_with_declines(lambda n: rank_suppliers(
            proj, buyer, k=n, category=category, product=product,
            profile=_profile(profile, "suppliers"),
            filters=_filters(max_distance, region, cluster_only, cluster, cert,
                             min_free_capacity, no_registry)),
            k, declines_of(declined_requests(store, buyer), buyer))
    _show(result, as_json, english)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to ``app``."""
    app.add_typer(match_app, name="match")
