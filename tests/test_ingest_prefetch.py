"""Reading ahead in a worker process (ingest.prefetch) changes nothing a load reports or stores.

The same files are loaded into fresh embedded stores once read in-process and once
through the worker (forced on below its size threshold), with malformed records,
rejected cells, unknown references, conflicting duplicates, rows only pydantic reads
and JSON/TSV tables among them: the reports (every reject with file, row, column and
reason), the rejects files and the stored records must be identical — also when the
worker stops in the middle of a table and the load reads the rest itself.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.schema import KINDS, to_props
from coopgraph.ingest import pipeline, prefetch
from coopgraph.ingest.generate import generate
from coopgraph.ingest.pipeline import ingest_paths
from coopgraph.ingest.report import IngestReport

MESSY = Path(__file__).parent / "data" / "messy"


def _dataset(root: Path) -> list[Path]:
    generated = root / "gen"
    generate(generated, companies=300, seed=11)
    with open(generated / "supplies.csv", "a", encoding="utf-8") as handle:
        handle.write("g0000001,g0000002,hay.knotter,12,100.5,2020-01-01,extra,cells\n")  # malformed
        handle.write("g0000001,nobody,hay.knotter,12,100.5,2020-01-01\n")  # unknown company
        handle.write("g0000003,g0000004,hay.knotter,-5,abc,2020-02-30\n")  # bad cells
        handle.write("g0000005,g0000006,hay.knotter,\"1 500,5\",7,05.12.2017\n")  # pydantic reads
        handle.write("g0000005,g0000006,hay.knotter,3,7,2017-12-05\n")  # conflicting duplicate
        handle.write("g0000007,g0000007,hay.knotter,3,7,2017-12-05\n")  # supplies itself
    with open(generated / "capabilities.csv", "a", encoding="utf-8") as handle:
        handle.write("g0000009,no.such.category,10,5,1,99\n")
        handle.write("g0000009,\"unclosed,10,5,1,99\n")  # a quote never closed
    messy = root / "messy"
    shutil.copytree(MESSY, messy)
    return [generated, messy]


def _load(paths: list[Path], store_dir: Path, rejects: Path) -> tuple[dict[str, Any], Any]:
    store = EmbeddedStore(store_dir)
    try:
        report = ingest_paths(store, paths, rejects_dir=rejects)
        records = {kind.value: sorted(
            (sorted((k, repr(v)) for k, v in to_props(r).items() if k != "ingested_at")
             for r in store.iter_all(kind)), key=repr) for kind in KINDS}
    finally:
        store.close()
    return _comparable(report), records


def _comparable(report: IngestReport) -> dict[str, Any]:
    data = report.model_dump()
    for name in ("seconds", "load_id", "rejects_dir", "report_files"):
        data.pop(name, None)
    for summary in data["files"]:
        summary.pop("seconds", None)
    return data


def _rejects_files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.iterdir())
            if p.name.endswith(".rejects.csv")}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many chunks the worker handed over (so a test knows it was used)."""
    taken = [0]
    original = prefetch.Prefetch.take

    def take(self: prefetch.Prefetch, position: int) -> Iterator[prefetch.Chunk]:
        for chunk in original(self, position):
            taken[0] += 1
            yield chunk

    monkeypatch.setattr(prefetch.Prefetch, "take", take)
    return taken


@pytest.fixture
def normalised(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many company names the worker normalised — waited for, so that it does
    (a load never waits: on a small load the worker is not that far yet)."""
    names = [0]
    original = prefetch.Prefetch.norms

    def norms(self: prefetch.Prefetch) -> dict[str, str]:
        deadline = time.monotonic() + 60
        while not self._names and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # the worker's first batch of names
        found = original(self)
        names[0] += len(found)
        return found

    monkeypatch.setattr(prefetch.Prefetch, "norms", norms)
    return names


def test_a_load_read_ahead_reports_and_stores_what_one_read_in_process_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int],
        normalised: list[int]) -> None:
    paths = _dataset(tmp_path)
    monkeypatch.setattr(pipeline, "CHUNK", 500)  # many chunks per table
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 62)
    here = _load(paths, tmp_path / "s1", tmp_path / "r1")
    assert counted[0] == 0
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    ahead = _load(paths, tmp_path / "s2", tmp_path / "r2")
    assert counted[0] > 20  # the worker read the streamed tables
    assert normalised[0] >= 300  # and normalised the company names (the same merges)
    assert here[0]["merges"] == ahead[0]["merges"] and here[0]["review"] == ahead[0]["review"]
    assert ahead[0]["rejects"] and ahead[0]["rejects"] == here[0]["rejects"]
    assert {r["code"] for r in here[0]["rejects"]} >= {"r.extra_cells", "r.unclosed_quote",
                                                      "ref.unknown", "dup.conflict"}
    assert ahead == here
    assert _rejects_files(tmp_path / "r2") == _rejects_files(tmp_path / "r1")
    # loaded again, through the worker and in-process: the same again
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 62)
    here_again = _load(paths, tmp_path / "s1", tmp_path / "r3")
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    again = _load(paths, tmp_path / "s2", tmp_path / "r4")
    assert again == here_again
    assert sum(f["unchanged"] for f in again[0]["files"]) > 0


def test_when_the_worker_stops_mid_table_the_load_reads_the_rest_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _dataset(tmp_path)
    monkeypatch.setattr(pipeline, "CHUNK", 500)
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 62)
    here = _load(paths, tmp_path / "s1", tmp_path / "r1")
    original = prefetch.Prefetch.take
    given: list[int] = []
    stopped: list[int] = []

    def take(self: prefetch.Prefetch, position: int) -> Iterator[prefetch.Chunk]:
        for n, chunk in enumerate(original(self, position)):
            if n == 3:  # the first table of more than three chunks, after three
                stopped.append(position)
                self.close()
                raise prefetch.Lost
            given.append(position)
            yield chunk

    monkeypatch.setattr(prefetch.Prefetch, "take", take)
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    ahead = _load(paths, tmp_path / "s2", tmp_path / "r2")
    assert stopped and given.count(stopped[0]) == 3 and max(given) == stopped[0]
    assert ahead == here
    assert _rejects_files(tmp_path / "r2") == _rejects_files(tmp_path / "r1")


def test_small_loads_and_single_cores_read_in_process(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _dataset(tmp_path)
    jobs, _warnings = pipeline.plan_tables(paths)
    assert prefetch.Prefetch.start(paths, jobs, 500) is None  # a few hundred KiB
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    monkeypatch.setattr(prefetch, "_cores", lambda: 1)
    assert prefetch.Prefetch.start(paths, jobs, 500) is None


def test_the_worker_sends_each_repeated_value_once_and_shares_give_the_same_objects(
        tmp_path: Path) -> None:
    # FastRows.dedupe (the worker's): same values and types, one object per value;
    # then the loading process's share gives what it gives to the columns as parsed
    from coopgraph.ingest.pipeline import plan_tables
    from coopgraph.ingest.validate import DEFER, FastRows

    jobs, _warnings = plan_tables(_dataset(tmp_path))
    deduped_any = False
    for job in jobs:
        fast = FastRows.for_columns(job.columns)
        if fast is None:
            continue
        cells = [values for _row, values in job.table.rows()]
        parsed, deduped = fast.parse(cells, None), fast.parse(cells, None)
        fast.dedupe(deduped)
        assert deduped.keys() == parsed.keys()
        for name, values in parsed.items():
            assert [(type(v), v) for v in deduped[name] if v is not DEFER] \
                == [(type(v), v) for v in values if v is not DEFER], (job.name, name)
            assert [i for i, v in enumerate(deduped[name]) if v is DEFER] \
                == [i for i, v in enumerate(values) if v is DEFER]
            hashable = [v for v in deduped[name] if not isinstance(v, list)]
            if len({id(v) for v in hashable}) < len({id(v) for v in values}):
                deduped_any = True
        canon_a: dict[Any, Any] = {}
        canon_b: dict[Any, Any] = {}
        fast.share(parsed, canon_a)
        fast.share(deduped, canon_b)
        for name, values in parsed.items():
            assert [(type(v), v) for v in deduped[name]] == [(type(v), v) for v in values]
            assert [v is canon_b.get(v) for v in deduped[name] if not isinstance(v, list)] \
                == [v is canon_a.get(v) for v in values if not isinstance(v, list)]
    assert deduped_any
