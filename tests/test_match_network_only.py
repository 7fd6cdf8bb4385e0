"""Ranking on a network with nothing but supply links picks the network-only profile."""

from __future__ import annotations

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.factors import DEFAULT_PROFILE, NETWORK_ONLY_PROFILE, resolve_profile
from coopgraph.queries.match import rank_buyers
from coopgraph.queries.projection import Projection


def _network(extra: dict[EntityKind, list[dict]] | None = None) -> Projection:
    # s1 and s2 share buyers b1, b2; s2 also sells to b3 — so b3 is s1's natural new buyer.
    links = [("s1", "b1"), ("s1", "b2"), ("s2", "b1"), ("s2", "b2"), ("s2", "b3"),
             ("s3", "b4")]
    ids = sorted({c for link in links for c in link})
    tables = {
        EntityKind.COMPANY: [{"id": c, "name": c, "roles": []} for c in ids],
        EntityKind.CATEGORY: [{"code": "part", "name_ru": "деталь"}],
        EntityKind.SUPPLY: [{"supplier_id": s, "buyer_id": b, "category": "part"}
                            for s, b in links],
        **(extra or {}),
    }
    return Projection.from_snapshot(Snapshot(1, tables))


def test_network_only_data_uses_the_network_profile_and_finds_the_cf_buyer():
    proj = _network()
    assert resolve_profile(None, proj) is NETWORK_ONLY_PROFILE
    result = rank_buyers(proj, "s1", k=3)
    ids = [c.company_id for c in result.candidates]
    assert ids[0] == "b3"
    assert "b1" not in ids and "b2" not in ids  # existing links are excluded


def test_side_information_keeps_the_default_profile_and_a_named_profile_wins():
    proj = _network({EntityKind.CAPABILITY: [{"company_id": "s1", "category": "part"}]})
    assert resolve_profile(None, proj) is DEFAULT_PROFILE
    assert resolve_profile("network", proj) is NETWORK_ONLY_PROFILE
    assert resolve_profile(None) is DEFAULT_PROFILE
