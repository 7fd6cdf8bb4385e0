"""The projection kept on disk between CLI calls (issue #12, fast CLI).

Used when warm, rebuilt after a write (the answer changes), ignored when damaged,
stale or from another code version — on both stores.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coopgraph.api.cli import app
from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.models import Company, ServerIngestJob, ServerKey
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from coopgraph.queries import projection_disk
from coopgraph.queries.candidates import DEFERRED_FIELDS
from coopgraph.queries.match import rank_buyers
from coopgraph.queries.projection import Projection
from coopgraph.queries.projection_delta import diff_projections
from coopgraph.queries.projection_disk import CACHE_FILE, DiskProjection
from tests.conftest import _load_sample


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user cache directory (Neo4j's caches) inside the test's directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def loaded(store: GraphStore, user_cache: Path) -> Iterator[GraphStore]:
    """The sample dataset in an empty store of each kind (written to: not sample_store)."""
    _load_sample(store)
    yield store


def _warm(projection: Projection) -> None:
    rank_buyers(projection, _supplier(projection), k=1)


def _supplier(projection: Projection) -> str:
    return projection.company_ids[int(projection.cap_company[0])]


def _cache_file(store: GraphStore) -> Path:
    directory = store.cache_dir()
    assert directory is not None
    return directory / CACHE_FILE


def test_a_warm_cache_answers_and_equals_the_build(loaded: GraphStore) -> None:
    first = DiskProjection(loaded, warm=_warm)
    built = first.get()
    assert (first.hit, first.written) == (False, True)
    assert _cache_file(loaded).is_file()
    assert _cache_file(loaded).stat().st_mode & 0o077 == 0  # private, like the store
    second = DiskProjection(loaded, warm=_warm)
    read = second.get()
    assert (second.hit, second.written) == (True, False)
    assert read is not built
    assert read.revision == built.revision == loaded.revision()
    assert diff_projections(built, read) == []
    assert "match_index" in read.extra  # the warm-up was kept: the next call needs no build
    supplier = _supplier(built)
    assert rank_buyers(read, supplier, k=10) == rank_buyers(built, supplier, k=10)


def test_a_write_makes_the_cache_stale_and_the_answer_changes(loaded: GraphStore) -> None:
    proj = DiskProjection(loaded, warm=_warm).get()
    supplier = _supplier(proj)
    before = rank_buyers(proj, supplier, k=10)
    assert before.candidates
    gone = before.candidates[0].company_id
    loaded.delete(EntityKind.COMPANY, [gone], cascade=True)
    again = DiskProjection(loaded, warm=_warm)
    after = rank_buyers(again.get(), supplier, k=10)
    assert (again.hit, again.written) == (False, True)
    assert gone not in {c.company_id for c in after.candidates}
    third = DiskProjection(loaded, warm=_warm)
    assert rank_buyers(third.get(), supplier, k=10) == after
    assert third.hit


def test_server_state_writes_leave_the_cache_current(loaded: GraphStore) -> None:
    """An ingest job's heartbeat and an API key move the store's revision, not its
    analytic one: the file stays current (read back, not rebuilt) — until a write an
    analytic reads."""
    first = DiskProjection(loaded, warm=_warm)
    built = first.get()
    now = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)
    for beat in range(2):
        loaded.upsert([ServerIngestJob(id="job-1", status="running", created_at=now,
                                       heartbeat_at=now + dt.timedelta(seconds=10 * beat))])
    loaded.upsert([ServerKey(id="key-1", role="analyst", hash="ab" * 32, created_at=now)])
    assert loaded.revision() == built.revision + 3
    assert loaded.analytic_revision() <= built.revision
    again = DiskProjection(loaded, warm=_warm)
    assert again.get().revision == built.revision
    assert (again.hit, again.written) == (True, False)
    loaded.upsert([Company(id="zz-analytic", name="Новая")])  # read by every analytic
    third = DiskProjection(loaded, warm=_warm)
    assert "zz-analytic" in third.get().company_ids
    assert (third.hit, third.written) == (False, True)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_a_damaged_cache_is_ignored_and_rebuilt(loaded: GraphStore, damage: str) -> None:
    built = DiskProjection(loaded, warm=_warm).get()
    path = _cache_file(loaded)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-100] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = bytearray(b"not a projection at all")
    path.write_bytes(bytes(data))
    again = DiskProjection(loaded, warm=_warm)
    read = again.get()
    assert (again.hit, again.written) == (False, True)
    assert diff_projections(built, read) == []
    assert DiskProjection(loaded).get() is not None
    assert path.read_bytes() != bytes(data)  # written again


def test_a_cache_from_another_code_version_is_ignored(loaded: GraphStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(projection_disk, "code_version", lambda: "an older coopgraph")
        DiskProjection(loaded).get()
    again = DiskProjection(loaded)
    again.get()
    assert (again.hit, again.written) == (False, True)


def test_a_cache_others_could_write_is_not_read(loaded: GraphStore) -> None:
    DiskProjection(loaded).get()
    os.chmod(_cache_file(loaded), 0o666)
    again = DiskProjection(loaded)
    again.get()
    assert not again.hit


def test_the_embedded_store_answers_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        _load_sample(store)
        built = DiskProjection(store, warm=_warm).get()
    lazy = EmbeddedStore(path, lazy=True)
    read = DiskProjection(lazy, warm=_warm)
    proj = read.get()
    assert read.hit
    assert diff_projections(built, proj) == []
    # a write by another process: the lazy store's revision sees it, the cache is stale
    with EmbeddedStore(path) as writer:
        writer.upsert([Company(id="new-co", name="ООО «Новая»", roles=["supplier"])])
    again = DiskProjection(EmbeddedStore(path, lazy=True))
    assert "new-co" in again.get().company_index
    assert not again.hit


def test_a_store_made_again_is_another_lineage(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.upsert([Company(id="a", name="A", roles=["supplier"])])
        DiskProjection(store).get()
        first = store.identity()
    for name in ("store.sqlite", "store.sqlite-wal", "store.sqlite-shm"):
        (path / name).unlink(missing_ok=True)
    with EmbeddedStore(path) as store:  # the same revision, other data
        store.upsert([Company(id="b", name="B", roles=["supplier"])])
        assert store.identity() != first
        again = DiskProjection(store)
        assert list(again.get().company_ids) == ["b"]
        assert not again.hit


def test_match_twice_in_the_cli_uses_the_cache(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        _load_sample(store)
        supplier = _supplier(DiskProjection(store).get())
    (path / CACHE_FILE).unlink()
    monkeypatch.setenv("COOPGRAPH_DATA_DIR", str(path))
    runner = CliRunner()
    args = ["--lang", "en", "match", "buyers", "--supplier", supplier, "--json"]
    cold = runner.invoke(app, args)
    assert cold.exit_code == 0, cold.output
    assert (path / CACHE_FILE).is_file()
    stamp = (path / CACHE_FILE).stat().st_mtime_ns
    warm = runner.invoke(app, args)
    assert warm.exit_code == 0, warm.output
    assert warm.output == cold.output
    assert (path / CACHE_FILE).stat().st_mtime_ns == stamp  # read, not written again
    with EmbeddedStore(path) as store:
        kept = DiskProjection(store)
        index = kept.get().extra["match_index"]
        assert kept.hit
    # kept with the column-major copies built: a CLI ranking of suppliers builds nothing
    assert all(index.computed(name) for name in DEFERRED_FIELDS)
