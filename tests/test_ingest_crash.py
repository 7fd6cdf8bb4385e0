"""``kill -9`` during ``coopgraph ingest``: each store holds all of the load or none of it.

On each store (embedded, and the session's real Neo4j), a small generated *base*
set is loaded first; the *load* — a larger generated set that also changes the
base's companies — then runs in a CLI subprocess that is SIGKILLed at seeded
random moments (while rows are staged, while a Neo4j commit runs, after it
finished). After each kill the store, opened again, must hold exactly the base
(same stats, same snapshot hash) or exactly the full load; after the last kill
the CLI is run again without any repair in between: it must say what it found
(a rolled-back or completed load) and finish the load. References come from
uninterrupted runs of the same CLI. Seeds and kill moments are printed.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest

from coopgraph.graph.embedded import EmbeddedStore
from coopgraph.graph.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).with_name("coopgraph"))]
SEED = 20261129


def _digest(store: GraphStore) -> tuple[dict[str, int], str]:
    """(stats, a hash of the snapshot's tables): what "the same contents" means here."""
    tables = {kind.value: rows for kind, rows in store.snapshot().tables.items() if rows}
    blob = orjson.dumps(tables, option=orjson.OPT_SORT_KEYS)
    return store.stats(), hashlib.sha256(blob).hexdigest()


def _generate(out: Path, companies: int, seed: int) -> Path:
    if not out.exists():
        subprocess.run([*CLI, "generate", "--companies", str(companies), "--seed", str(seed),
                        "--out", str(out), "--quiet", "--json"], check=True, cwd=ROOT,
                       capture_output=True, env=_env({}))
    return out


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **extra}
    return env


def _ingest_cmd(data: Path, rejects: Path) -> list[str]:
    return [*CLI, "ingest", str(data), "--rejects-dir", str(rejects), "--json"]


def _run_ingest(data: Path, env: dict[str, str], rejects: Path) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(_ingest_cmd(data, rejects), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return time.monotonic() - started, proc.stdout + proc.stderr


class _Case:
    """How to reset, open and look into one store kind."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def open(self) -> GraphStore:
        raise NotImplementedError

    def reset_to_base(self) -> None:
        raise NotImplementedError

    def staged_loads(self) -> int:
        """Loads left staged in the store, counted without recovering them."""
        raise NotImplementedError

    def settle(self) -> float:
        """Wait until the store has finished whatever the killed process had sent it;
        how long that took."""
        return 0.0


class _EmbeddedCase(_Case):
    def __init__(self, tmp: Path) -> None:
        self.data = tmp / "store"
        self.base_copy = tmp / "base-store"
        super().__init__(_env({"COOPGRAPH_STORE": "embedded",
                               "COOPGRAPH_DATA_DIR": str(self.data)}))

    def open(self) -> GraphStore:
        return EmbeddedStore(self.data)

    def keep_base(self) -> None:
        shutil.copytree(self.data, self.base_copy)

    def reset_to_base(self) -> None:
        shutil.rmtree(self.data)
        shutil.copytree(self.base_copy, self.data)

    def staged_loads(self) -> int:
        database = self.data / "store.sqlite"
        if not database.exists():
            return 0
        with closing(sqlite3.connect(database)) as db:  # read only: no recovery
            return int(db.execute("SELECT count(*) FROM loads WHERE state IN "
                                  "('staged', 'direct')").fetchone()[0])


class _Neo4jCase(_Case):
    def __init__(self, server: Any, base: Path, rejects: Path) -> None:
        self.server = server
        self.base = base
        self.rejects = rejects
        super().__init__(_env({"COOPGRAPH_STORE": "neo4j", "NEO4J_URI": server.uri,
                               "NEO4J_USER": server.user, "NEO4J_PASSWORD": server.password,
                               "COOPGRAPH_BATCH_SIZE": "2000"}))

    def open(self) -> GraphStore:
        from coopgraph.graph.neo4j_store import Neo4jStore

        return Neo4jStore(self.server.uri, user=self.server.user,
                          password=self.server.password, batch_size=2000)

    def keep_base(self) -> None:
        pass

    def reset_to_base(self) -> None:
        with self.open() as store:
            store.clear()  # also drops staged loads
            assert store.count_all_nodes() == 0
        _run_ingest(self.base, self.env, self.rejects)

    def settle(self) -> float:
        """Wait until the server holds no transaction but this one; how long that took.

        A process killed after it sent its last query leaves the server running that
        transaction (and committing it, when the commit had been sent): the load then
        ends on the server a moment after its client died, all of it or nothing.
        """
        import neo4j

        began = time.monotonic()
        deadline = began + 120
        with neo4j.GraphDatabase.driver(self.server.uri, auth=(self.server.user,
                                                               self.server.password)) as driver:
            while True:
                records, _s, _k = driver.execute_query(
                    "SHOW TRANSACTIONS YIELD currentQuery WHERE NOT coalesce(currentQuery, '') "
                    "STARTS WITH 'SHOW TRANSACTIONS' RETURN count(*) AS n")
                if records[0]["n"] == 0:
                    return time.monotonic() - began
                assert time.monotonic() < deadline, "the killed load's transaction never ended"
                time.sleep(0.2)

    def staged_loads(self) -> int:
        import neo4j

        from coopgraph.graph import cypher

        with neo4j.GraphDatabase.driver(self.server.uri, auth=(self.server.user,
                                                               self.server.password)) as driver:
            records, _s, _k = driver.execute_query(
                f"MATCH (l:{cypher.LOAD_LABEL}) WHERE l.state IN ['staged', 'committing'] "
                "RETURN count(l) AS n")
        return int(records[0]["n"])


def _kill_rounds(case: _Case, tmp: Path, *, base: Path, load: Path, rounds: int,
                 budget: float, told: str = "an interrupted load") -> None:
    rejects = tmp / "rejects"
    # references: the base, then the whole load, both uninterrupted
    case.reset_to_base()
    with case.open() as store:
        before = _digest(store)
    duration, _out = _run_ingest(load, case.env, rejects)
    with case.open() as store:
        full = _digest(store)
    assert before != full and full[0]["company"] > before[0]["company"]
    rng = random.Random(SEED)
    print(f"seed={SEED}: an uninterrupted load takes {duration:.1f}s; "
          f"before={sum(before[0].values())} rows, full={sum(full[0].values())} rows")
    started = time.monotonic()
    outcomes: list[str] = []
    staged_at_last = 0
    for round_ in range(rounds):
        case.reset_to_base()
        moment = rng.uniform(0.1, 1.05) * duration
        proc = subprocess.Popen(_ingest_cmd(load, rejects), cwd=ROOT, env=case.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        killed = proc.returncode == -signal.SIGKILL
        settled = case.settle()
        # past the budget, stop — but only after two checked rounds (a slow machine)
        last = round_ == rounds - 1 or (len(outcomes) >= 2
                                        and time.monotonic() - started > budget)
        if last:
            staged_at_last = case.staged_loads()
            break
        with case.open() as store:
            got = _digest(store)
            recovered = "".join(f":{r.action}" for r in store.load_recoveries())
        state = "before" if got == before else "full" if got == full else "PARTIAL"
        outcomes.append(f"{moment:.2f}s:{'killed' if killed else 'finished'}{recovered}:{state}"
                        + (f":settled {settled:.1f}s" if settled >= 0.1 else ""))
        assert state != "PARTIAL", (
            f"seed={SEED} round={round_} killed at {moment:.2f}s: the store holds part of "
            f"the load: {got[0]} (before {before[0]}, full {full[0]})")
        if not killed:
            assert state == "full"
    print("rounds:", ", ".join(outcomes), f"; staged loads left by the last kill: "
          f"{staged_at_last} (the server settled {settled:.1f}s after it)")
    # the last kill is repaired by running the ingest again, nothing in between
    _seconds, output = _run_ingest(load, case.env, rejects)
    if staged_at_last:
        assert told in output, output[-2000:]
    with case.open() as store:
        assert _digest(store) == full
        assert case.staged_loads() == 0
    assert any("killed" in o for o in outcomes), outcomes


@pytest.mark.slow
def test_kill_9_during_cli_ingest_embedded(tmp_path_factory: pytest.TempPathFactory) -> None:
    gen = tmp_path_factory.getbasetemp() / "crash-gen"
    base = _generate(gen / "base", 400, SEED + 1)
    load = _generate(gen / "load-12k", 12_000, SEED)
    tmp = tmp_path_factory.mktemp("embedded-crash")
    case = _EmbeddedCase(tmp)
    _run_ingest(base, case.env, tmp / "rejects")
    case.keep_base()
    _kill_rounds(case, tmp, base=base, load=load, rounds=6, budget=45)


@pytest.mark.slow
def test_kill_9_during_a_first_cli_ingest_into_an_empty_store(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """A first load into an empty store is written straight into it in one transaction
    (``graph.sqlite_store._DirectLoad``): killed at any moment, the store is empty or full."""
    gen = tmp_path_factory.getbasetemp() / "crash-gen"
    load = _generate(gen / "load-12k", 12_000, SEED)
    tmp = tmp_path_factory.mktemp("embedded-empty-crash")
    case = _EmbeddedCase(tmp)
    EmbeddedStore(case.data).close()  # the base: a store with no record
    case.keep_base()
    # the last kill, if the load had begun, is told as a first load's
    _kill_rounds(case, tmp, base=load, load=load, rounds=4, budget=30,
                 told="into the empty store was rolled back")


@pytest.mark.slow
@pytest.mark.neo4j
def test_kill_9_during_cli_ingest_neo4j(tmp_path_factory: pytest.TempPathFactory,
                                        neo4j_store: GraphStore, neo4j_server: Any) -> None:
    gen = tmp_path_factory.getbasetemp() / "crash-gen"
    base = _generate(gen / "base", 400, SEED + 1)
    load = _generate(gen / "load-1000", 1_000, SEED)
    tmp = tmp_path_factory.mktemp("neo4j-crash")
    case = _Neo4jCase(neo4j_server, base, tmp / "rejects")
    _kill_rounds(case, tmp, base=base, load=load, rounds=6, budget=35)
    neo4j_store.clear()
