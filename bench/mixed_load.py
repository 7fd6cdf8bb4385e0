"""Mixed read/write load over loopback: rankings while writers write, before and after.

In one run, for each mode, on the same store directory (embedded) or Neo4j:

1. starts ``uvicorn coopgraph.api.main:create_app --factory`` (one worker, auth off,
   127.0.0.1 only) with the mode's settings:

   * ``before`` — ``COOPGRAPH_PROJECTION_INCREMENTAL=0`` and
     ``COOPGRAPH_PROJECTION_WAIT=600``: every write is followed by a full
     rebuild that readers wait for (what the API did before the change log);
   * ``after`` — the defaults: the projection is patched from the change log,
     a rebuild runs in the background while readers are answered from the
     previous projection;

2. sends a bounded mix — ``--reads`` ``GET /match/buyers?k=10`` from
   ``--readers`` threads and ``--writes`` writes from one writer thread (80 %
   a capability's capacity ``PUT``, 10 % a new supply link ``POST``, 10 % a new
   company ``POST``, which needs a rebuild) — and stops at ``--time-limit``
   seconds whatever is left;
3. prints one JSON line per mode: requests/s, p50/p99 of reads and of writes,
   errors, and how many distinct revisions the reads were answered at
   (``X-CoopGraph-Revision``).

Traffic goes to 127.0.0.1 only; the counts and the time are bounded.

Usage: ``.venv/bin/python bench/mixed_load.py --data /tmp/gen20k [--store embedded]``;
``--store-dir`` (embedded) or ``--neo4j-json`` (a running Neo4j) use a store ingested
beforehand, so that the ingest does not run inside the benchmark lock.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.graph.schema import EntityKind  # noqa: E402
from coopgraph.graph.store import GraphStore  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402

MODES = {
    "before": {"COOPGRAPH_PROJECTION_INCREMENTAL": "false", "COOPGRAPH_PROJECTION_WAIT": "600"},
    "after": {},
}


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "coopgraph.api.main:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def _run_mode(name: str, env: dict[str, str], args: argparse.Namespace,
              suppliers: list[str], caps: list[dict[str, Any]], companies: list[str],
              categories: list[str]) -> None:
    port = _free_port()
    server = _serve(env, port)
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(args.seed)
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    if client.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            started = time.perf_counter()
            first = client.get("/match/buyers", params={"supplier": suppliers[0], "k": 10})
            warm_s = time.perf_counter() - started
            assert first.status_code == 200, first.text
        reads: list[float] = []
        writes: list[float] = []
        errors: list[str] = []
        revisions: set[int] = set()
        stop_at = time.monotonic() + args.time_limit
        read_budget = iter(range(args.reads))
        lock = threading.Lock()

        def reader(seed: int) -> None:
            r = random.Random(seed)
            with httpx.Client(base_url=base, timeout=120) as client:
                while time.monotonic() < stop_at:
                    with lock:
                        if next(read_budget, None) is None:
                            return
                    t0 = time.perf_counter()
                    got = client.get("/match/buyers",
                                     params={"supplier": r.choice(suppliers), "k": 10})
                    elapsed = time.perf_counter() - t0
                    with lock:
                        if got.status_code != 200:
                            errors.append(f"read {got.status_code}")
                            continue
                        reads.append(elapsed)
                        revisions.add(int(got.headers.get("x-coopgraph-revision", -1)))

        def writer() -> None:
            with httpx.Client(base_url=base, timeout=120) as client:
                for i in range(args.writes):
                    if time.monotonic() >= stop_at:
                        return
                    roll = rng.random()
                    if roll < 0.8:
                        row = dict(rng.choice(caps))
                        row["capacity_per_year"] = float(rng.randint(1, 100_000))
                        path = f"/capabilities/{row['company_id']}/{row['category']}"
                        request = ("PUT", path, row)
                    elif roll < 0.9:
                        request = ("POST", "/supplies", {
                            "supplier_id": rng.choice(companies),
                            "buyer_id": rng.choice(companies),
                            "category": rng.choice(categories), "volume_per_year": 10.0})
                    else:
                        request = ("POST", "/companies", {  # new in every run (pid)
                            "id": f"bench-{name}-{os.getpid()}-{i}", "name": f"Bench {i}",
                            "roles": ["supplier"]})
                    t0 = time.perf_counter()
                    got = client.request(request[0], request[1], json=request[2])
                    elapsed = time.perf_counter() - t0
                    if got.status_code >= 300:
                        errors.append(f"write {got.status_code}: {got.text[:100]}")
                        continue
                    writes.append(elapsed)
                    time.sleep(args.write_pause)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
        threads.append(threading.Thread(target=writer))
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        _emit(what="mixed load", mode=name, store=args.store, wall_s=round(wall, 1),
              first_request_s=round(warm_s, 2),
              requests=len(reads) + len(writes), requests_per_s=round(
                  (len(reads) + len(writes)) / wall, 1),
              reads=len(reads), read_p50_ms=_pct(reads, 0.5), read_p99_ms=_pct(reads, 0.99),
              read_max_ms=_pct(reads, 1.0),
              read_mean_ms=round(1000 * statistics.mean(reads), 1) if reads else None,
              writes=len(writes), write_p50_ms=_pct(writes, 0.5),
              write_p99_ms=_pct(writes, 0.99), errors=len(errors), error_sample=errors[:3],
              revisions_answered=len(revisions),
              stopped_by_time_limit=wall >= args.time_limit - 1,
              load_average=os.getloadavg()[0])
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a generated set (CSV files)")
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--reads", type=int, default=1500)
    parser.add_argument("--writes", type=int, default=250)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--write-pause", type=float, default=0.05)
    parser.add_argument("--time-limit", type=float, default=300)
    parser.add_argument("--modes", default="before,after")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store-dir", help="an embedded store of --data ingested beforehand "
                        "(copied; the run then skips the ingest)")
    parser.add_argument("--neo4j-json", help="a JSON file {uri, user, password} of a running "
                        "Neo4j holding --data already (the run skips the ingest)")
    args = parser.parse_args()
    _emit(what="machine", cpus=os.cpu_count(), load_average=os.getloadavg()[0])
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COOPGRAPH_AUTH": "off", "COOPGRAPH_HOST": "127.0.0.1",
               "COOPGRAPH_STORE": args.store, "COOPGRAPH_DATA_DIR": str(Path(tmp) / "store"),
               "COOPGRAPH_JOBS_DIR": str(Path(tmp) / "jobs")}
        store: GraphStore
        if args.store == "embedded":
            if args.store_dir:  # ingested beforehand (outside the benchmark lock): a copy
                shutil.copytree(args.store_dir, Path(tmp) / "store")
            store = EmbeddedStore(Path(tmp) / "store")
        else:
            from coopgraph.graph.neo4j_store import Neo4jStore

            if args.neo4j_json:  # a running Neo4j, ingested beforehand
                where = json.loads(Path(args.neo4j_json).read_text())
            else:
                from tests.neo4j_server import start_neo4j

                server = start_neo4j()
                where = {"uri": server.uri, "user": server.user, "password": server.password}
            env.update(NEO4J_URI=where["uri"], NEO4J_USER=where["user"],
                       NEO4J_PASSWORD=where["password"])
            store = Neo4jStore(where["uri"], user=where["user"], password=where["password"])
        try:
            started = time.perf_counter()
            if not (args.store_dir or args.neo4j_json):
                ingest_paths(store, args.data)
            snap = store.snapshot()
            _emit(what="ingest" if not (args.store_dir or args.neo4j_json) else "prepared",
                  seconds=round(time.perf_counter() - started, 1),
                  rows=sum(len(v) for v in snap.tables.values()))
            caps = snap.rows(EntityKind.CAPABILITY)
            suppliers = sorted({str(r["company_id"]) for r in caps})
            companies = [str(r["id"]) for r in snap.rows(EntityKind.COMPANY)]
            categories = [str(r["code"]) for r in snap.rows(EntityKind.CATEGORY)]
            del snap
            store.close()
            for name in args.modes.split(","):
                _run_mode(name, {**env, **MODES[name]}, args, suppliers, caps, companies,
                          categories)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
