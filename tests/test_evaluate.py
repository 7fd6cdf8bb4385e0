"""The evaluation itself: split invariants, metrics by hand, the fast MRR against the ranks,
multi-seed intervals, and a split that cannot run never hiding the other."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.errors import InvalidQuery
from coopgraph.graph.models import Category, Company, Supply
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import Snapshot
from coopgraph.queries.baselines import BASELINES
from coopgraph.queries.candidates import match_index
from coopgraph.queries.evaluate import (
    _engine_scorer,
    _known,
    _metrics,
    _mrr_for,
    _prepare,
    _queries,
    _ranks,
    evaluate_seeds,
    split_links,
)
from coopgraph.queries.factors import DEFAULT_PROFILE, WeightProfile
from coopgraph.queries.projection import Projection


def _pairs(snapshot: Snapshot) -> set[tuple[str, str]]:
    return {(str(r["supplier_id"]), str(r["buyer_id"]))
            for r in snapshot.rows(EntityKind.SUPPLY)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_split_hides_whole_pairs_and_gets_a_fresh_revision(sample_snapshot, seed):
    sp_ = split_links(sample_snapshot, "random", 0.2, seed)
    train = _pairs(sp_.train)
    assert sp_.test_pairs and not set(sp_.test_pairs) & train, f"seed {seed}"
    assert train | set(sp_.test_pairs) == _pairs(sample_snapshot)
    assert sp_.train.revision != sample_snapshot.revision
    assert sp_.train.revision != split_links(sample_snapshot, "random", 0.2, seed).train.revision


def test_time_split_trains_only_on_links_up_to_the_cut(sample_snapshot):
    sp_ = split_links(sample_snapshot, "time", 0.2, 0)
    assert sp_.cut_date
    dates = [str(r["since"])[:10] for r in sp_.train.rows(EntityKind.SUPPLY) if r.get("since")]
    assert max(dates) <= sp_.cut_date
    assert not set(sp_.test_pairs) & _pairs(sp_.train)
    first: dict[tuple[str, str], str] = {}
    for r in sample_snapshot.rows(EntityKind.SUPPLY):
        p = (str(r["supplier_id"]), str(r["buyer_id"]))
        first[p] = min(first.get(p, "9999"), str(r["since"])[:10])
    assert all(first[p] > sp_.cut_date for p in sp_.test_pairs)


@pytest.mark.parametrize("kind", ["random", "time"])
def test_no_held_out_pair_reaches_a_training_feature(sample_snapshot, kind):
    """Network, 'buys it today' demand and 'supplied' capability come from training rows only."""
    sp_ = split_links(sample_snapshot, kind, 0.2, 0)
    proj = Projection.from_snapshot(sp_.train)
    ix = match_index(proj)
    for s_id, b_id in sp_.test_pairs:
        s, b = proj.company(s_id), proj.company(b_id)
        assert ix.A[s, b] == 0 and ix.AT[b, s] == 0
    # every SUPPLIED demand row and every 'supplied' capability has a training link behind it
    train = sp_.train.rows(EntityKind.SUPPLY)
    bought = {(proj.company(str(r["buyer_id"])), proj.category(str(r["category"]))) for r in train}
    sold = {(proj.company(str(r["supplier_id"])), proj.category(str(r["category"])))
            for r in train}
    supplied_rows = np.flatnonzero(ix.dem_flags[:-1] & 8)
    assert {(int(ix.dem_buyer[i]), int(ix.dem_cat[i])) for i in supplied_rows} == bought
    rows, cols = ix.sell.nonzero()
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == sold


def test_time_split_needs_real_dates():
    companies = [{"id": c, "name": c} for c in ("S1", "S2", "B1", "B2")]
    links = [("S1", "B1"), ("S2", "B1"), ("S2", "B2"), ("S1", "B2")] * 5
    snap = Snapshot(1, {EntityKind.COMPANY: companies,
                        EntityKind.CATEGORY: [{"code": "X", "name_ru": "X"}],
                        EntityKind.SUPPLY: [{"supplier_id": s, "buyer_id": b, "category": "X"}
                                            for s, b in set(links)]})
    with pytest.raises(InvalidQuery, match="real 'since' dates"):
        split_links(snap, "time", 0.2, 0)


def test_metrics_by_hand():
    m = _metrics(np.array([1.0, 2.0, 20.0, 60.0]))
    assert m.hits_at_10 == 0.5 and m.hits_at_50 == 0.75
    assert m.mrr == round((1 + 1 / 2 + 1 / 20 + 1 / 60) / 4, 4)
    assert m.ndcg_at_10 == round((1 + 1 / np.log2(3)) / 4, 4)


def test_ranks_count_ties_half_and_filter_known_partners():
    scores = np.array([5.0, 3.0, 3.0, 9.0, 1.0, 3.0])
    # query 0, known partner 3 (filtered out), targets 1 and 4
    ranks = _ranks(scores, 0, np.array([3]), np.array([1, 4]))
    # the negatives are 2 and 5 (both 3.0); target 1 (3.0) ties both: 1 + 0 + 2/2 = 2;
    # target 4 (1.0) has both above it: 1 + 2 = 3 (the other target never counts)
    assert ranks.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("weights", [None, {"capability": 1.0, "demand": 1.0},
                                     {"network": 1.0, "popularity": 0.3}])
def test_fast_mrr_agrees_with_the_ranks(sample_snapshot, weights):
    sp_ = split_links(sample_snapshot, "random", 0.2, 3)
    proj = Projection.from_snapshot(sp_.train)
    prof = DEFAULT_PROFILE if weights is None else WeightProfile(name="t", weights=weights)
    queries = _queries(proj, sp_.test_pairs, "buyers", 500, 0)
    scorer = _engine_scorer(proj, "buyers", prof)
    slow = np.concatenate([_ranks(scorer(q), q, _known(proj, q, "buyers"), t)
                           for q, t in queries.items()])
    fast = _mrr_for(_prepare(proj, queries, "buyers"), prof.vector())
    assert fast == pytest.approx(float(np.mean(1.0 / slow)), abs=1e-9)


def test_seeds_report_has_every_baseline_with_intervals(sample_snapshot):
    report = evaluate_seeds(sample_snapshot, split="random", seeds=5, max_queries=40)
    assert report.seeds == [0, 1, 2, 3, 4]
    assert set(report.methods) == {"engine", *BASELINES}
    for m in report.methods.values():
        for i in (m.hits_at_10, m.hits_at_50, m.mrr, m.ndcg_at_10):
            assert i.lo <= i.mean <= i.hi
    assert report.best_baseline in BASELINES
    gap = report.engine_minus_best.mrr
    expected = "wins" if gap.lo > 0 else "loses" if gap.hi < 0 else "level"
    assert report.verdict == expected


def test_a_split_that_cannot_run_does_not_discard_the_other(tmp_path, monkeypatch):
    companies = [{"id": f"C{i}", "name": f"C{i}"} for i in range(12)]
    rng = np.random.default_rng(0)
    links = {(f"C{int(a)}", f"C{int(b)}") for a, b in rng.integers(0, 12, size=(60, 2)) if a != b}
    store = EmbeddedStore(tmp_path / "store")
    store.upsert([*(Company(**c) for c in companies), Category(code="X", name_ru="X"),
                  *(Supply(supplier_id=s, buyer_id=b, category="X") for s, b in sorted(links))])
    store.close()
    monkeypatch.setenv("COOPGRAPH_STORE", "embedded")
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(app, ["evaluate", "--split", "both", "--seeds", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [r["split"] for r in out["reports"]] == ["random"]
    assert "real 'since' dates" in out["skipped"]["time"]


def _sparse_network(seed: int) -> Snapshot:
    """Links only, sparse: many held-out buyers are reached by no walk (the fallback ranks them)."""
    rng = np.random.default_rng(seed)
    rows = {(int(rng.integers(150)), int(rng.integers(300))) for _ in range(420)}
    return Snapshot(revision=1, tables={
        EntityKind.COMPANY: [{"id": f"c{i}", "name": f"c{i}", "roles": []} for i in range(450)],
        EntityKind.CATEGORY: [{"code": "X", "name_ru": "X"}],
        EntityKind.SUPPLY: [{"supplier_id": f"c{s}", "buyer_id": f"c{150 + b}", "category": "X"}
                            for s, b in sorted(rows)]})


def test_fast_mrr_agrees_with_the_ranks_when_the_fallback_ranks_non_candidates():
    sp_ = split_links(_sparse_network(4), "random", 0.2, 0)
    proj = Projection.from_snapshot(sp_.train)
    from coopgraph.queries.factors import resolve_profile

    prof = resolve_profile(None, proj)
    queries = _queries(proj, sp_.test_pairs, "buyers", 500, 0)
    scorer = _engine_scorer(proj, "buyers", prof)
    prep = _prepare(proj, queries, "buyers")
    assert (prep.target_group < 0).sum() > 10  # many targets are no candidate at all
    slow = np.concatenate([_ranks(scorer(q), q, _known(proj, q, "buyers"), t)
                           for q, t in queries.items()])
    # the fallback orders the non-candidates below the candidates, busiest buyer first (they
    # used to tie at the bottom): non-candidate targets of one query with different
    # fallback scores get different ranks, in that order
    from coopgraph.queries.match import fallback_scores

    ix = match_index(proj)
    compared = 0
    for q, targets in queries.items():
        out = scorer(q)
        fb = fallback_scores(ix, q, "buyers")
        cands = out >= 0
        lone = [t for t in targets.tolist() if not cands[t]]
        if len(lone) >= 2 and fb[lone[0]] != fb[lone[1]]:
            r = _ranks(out, q, _known(proj, q, "buyers"), np.array(lone[:2]))
            assert (r[0] < r[1]) == (fb[lone[0]] > fb[lone[1]])
            assert r.min() > cands.sum() - len(_known(proj, q, "buyers")) - len(targets)
            compared += 1
    assert compared >= 1
    assert _mrr_for(prep, prof.vector()) == pytest.approx(float(np.mean(1.0 / slow)), abs=1e-9)


def test_staged_fit_scores_fewer_weight_vectors_than_the_full_search(sample_snapshot):
    from coopgraph.queries.evaluate import fit_profile

    staged = fit_profile(sample_snapshot, folds=2, max_queries=60)
    full = fit_profile(sample_snapshot, folds=2, max_queries=60, search="full")
    assert 0 < staged.evaluations < full.evaluations / 2
    # both report every walk setting they tried, and neither keeps less than the default
    assert len(staged.tried) == len(full.tried) >= 4
    for got in (staged, full):
        assert got.cv_mrr >= got.default_cv_mrr
