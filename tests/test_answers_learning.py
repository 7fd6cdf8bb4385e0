"""Issue 13 item 4: answered requests are labelled data for ``evaluate`` and ``fit`` (both stores).

The sample carries two declined supply requests; each test agrees one more (rq-0002,
m-borona asks m-disk for discs, recorded as a supply link) so that both labels occur.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.queries.answers import answers_from, before_answers
from coopgraph.queries.evaluate import answers_precision
from coopgraph.queries.match import rank_buyers
from coopgraph.queries.projection import Projection
from coopgraph.queries.requests import get_request, move
from tests.test_fit_cli import _env, _run


def _sample_with_an_agreement(store: GraphStore) -> None:
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    ingest_paths(store, [SAMPLE_DIR])
    r = get_request(store, "rq-0002")
    r = move(store, "rq-0002", "in_talks", version=r.version)
    move(store, "rq-0002", "agreed", version=r.version, agreed_on=dt.date(2026, 1, 10),
         record_supply=True)


def test_answers_are_read_as_labelled_pairs_and_precision_counts_them(store: GraphStore) -> None:
    _sample_with_an_agreement(store)
    snap = store.snapshot()
    answers = answers_from(snap)
    # supply requests only: the agreed R&D request (rq-0005) and open/expired ones are no label
    assert {(a.supplier_id, a.buyer_id, a.agreed) for a in answers} == {
        ("m-disk", "m-borona", True), ("m-krepezh", "m-kosilka", False),
        ("s-elets-elektronika", "m-kombain", False)}
    # the agreement recorded its supply link; the "before" graph does not have it
    assert any(r["supplier_id"] == "m-disk" and r["buyer_id"] == "m-borona"
               for r in snap.rows(EntityKind.SUPPLY))
    before = before_answers(snap, answers, -1)
    proj = Projection.from_snapshot(before)
    assert not any(r["supplier_id"] == "m-disk" and r["buyer_id"] == "m-borona"
                   for r in before.rows(EntityKind.SUPPLY))
    # precision@k against the engine's own lists on that graph, counted independently
    k = 5
    report = answers_precision(snap, k=k)
    assert report is not None and (report.n_agreed, report.n_declined) == (1, 2)
    in_top = {a.agreed: 0 for a in answers}
    for a in answers:
        listed = [c.company_id for c in rank_buyers(proj, a.supplier_id, k=k).candidates]
        in_top[a.agreed] += a.buyer_id in listed
    assert (report.agreed_in_top_k, report.declined_in_top_k) == (in_top[True], in_top[False])
    shown = in_top[True] + in_top[False]
    assert report.precision_at_k == (round(in_top[True] / shown, 4) if shown else None)
    # with k past every company, every answered pair is in: precision = the base rate
    everything = answers_precision(snap, k=10_000)
    assert everything is not None and everything.precision_at_k == everything.base_rate == 0.3333
    assert everything.mrr_agreed is not None and 0 < everything.mrr_agreed <= 1


def test_evaluate_reports_and_fit_uses_the_answers(store, tmp_path, monkeypatch, request) -> None:
    _sample_with_an_agreement(store)
    data_dir = tmp_path / "store" if store.kind == "embedded" \
        else tmp_path / "data"
    if store.kind == "embedded":
        store.close()
    _env(monkeypatch, store, data_dir, request)
    result = _run("evaluate", "--split", "random", "--seeds", "1", "--max-queries", "10",
                  "--json", "--answers-k", "10")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["answers"]
    assert (got["n_agreed"], got["n_declined"], got["k"]) == (1, 2, 10)
    assert got["agreed_in_top_k"] + got["declined_in_top_k"] <= 3
    table = _run("evaluate", "--split", "random", "--seeds", "1", "--max-queries", "10")
    assert table.exit_code == 0 and "precision@10 of agreed" in table.output
    plain = _run("fit", "--json", "--folds", "1", "--max-queries", "40")
    with_answers = _run("fit", "--json", "--folds", "1", "--max-queries", "40", "--use-answers")
    assert plain.exit_code == 0 and with_answers.exit_code == 0, with_answers.output
    a, b = json.loads(plain.stdout)["result"], json.loads(with_answers.stdout)["result"]
    assert (a["n_answers_agreed"], a["n_answers_declined"]) == (0, 0)
    assert (b["n_answers_agreed"], b["n_answers_declined"]) == (1, 2)
    # the answers are one more term of the objective: the default's score moves with them
    assert not np.isclose(a["default_cv_mrr"], b["default_cv_mrr"])
    if not b["used_default"]:
        assert "answered requests" in b["reason"]


@pytest.mark.parametrize("direction", ["buyers", "suppliers"])
def test_no_answers_means_no_section(direction: str) -> None:
    from coopgraph.graph.embedded import EmbeddedStore
    from coopgraph.ingest.pipeline import ingest_paths
    from coopgraph.ingest.sample import SAMPLE_DIR

    store = EmbeddedStore(None)
    ingest_paths(store, [SAMPLE_DIR])
    snap = store.snapshot()
    tables = dict(snap.tables)
    tables[EntityKind.COOP_REQUEST] = []
    from coopgraph.graph.store import Snapshot

    assert answers_precision(Snapshot(snap.revision, tables),
                             direction=direction) is None  # type: ignore[arg-type]
