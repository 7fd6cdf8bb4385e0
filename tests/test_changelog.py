"""The change log: ordered, bounded, and honest about what it cannot tell."""

from __future__ import annotations

from coopgraph.graph.changelog import MAX_KEYS, Change, ChangeLog, merge_changes, touched_by_ops
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import EntityKind
from tests.graph_factories import full_graph

K = EntityKind


def _change(revision: int, *keys: str) -> Change:
    return Change.of(revision, {K.COMPANY: [(k,) for k in keys]})


def test_since_lists_the_changes_after_a_revision():
    log = ChangeLog(base=3)
    for rev in (4, 5, 6):
        log.record(_change(rev, f"c{rev}"))
    assert [c.revision for c in log.since(4) or []] == [5, 6]
    assert log.since(6) == []
    assert log.since(2) is None  # before the log began


def test_a_gap_or_a_full_change_resets_the_log():
    log = ChangeLog(base=0)
    log.record(_change(1, "a"))
    log.record(_change(3, "b"))  # revision 2 was never seen
    assert log.since(0) is None and log.since(1) is None
    assert log.since(3) == []
    log.record(Change.of(4, {}, full=True))
    assert log.since(3) is None


def test_trimmed_revisions_are_not_answered():
    log = ChangeLog(base=0, keep=3)
    for rev in range(1, 7):
        log.record(_change(rev, "x"))
    assert log.since(2) is None
    assert [c.revision for c in log.since(3) or []] == [4, 5, 6]


def test_a_huge_write_is_logged_as_full():
    ops = [["upsert", "company", [{"id": f"c{i}", "name": "n"} for i in range(MAX_KEYS + 1)]]]
    touched, full = touched_by_ops(ops)
    assert full and not touched
    assert Change.of(1, {K.COMPANY: [(str(i),) for i in range(MAX_KEYS + 1)]}).full


def test_json_round_trip_and_merge():
    change = Change.of(7, {K.SUPPLY: [("a", "b", "k")], K.COMPANY: [("a",)]})
    assert Change.from_json(7, change.to_json()) == change
    merged, full = merge_changes([change, _change(8, "z")])
    assert merged[K.COMPANY] == {("a",), ("z",)} and not full


def test_another_process_sees_the_writes_it_replays(tmp_path):
    writer = EmbeddedStore(tmp_path)
    reader = EmbeddedStore(tmp_path)
    start = reader.revision()
    writer.upsert(full_graph())
    changes = reader.changes_since(start)
    assert changes is not None and [c.revision for c in changes] == [writer.revision()]
    assert reader.analytic_revision() == writer.revision()
