"""Load test of ``GET /match/buyers`` over loopback: throughput and latency at 2 workers.

What it does, in one run:

1. opens the store the environment names (``COOPGRAPH_STORE``,
   ``COOPGRAPH_DATA_DIR``, ``NEO4J_*``) — or ``--data-dir`` for an embedded
   store — and samples ``--suppliers`` supplier ids with a fixed seed;
2. creates an analyst key in a temporary keys file;
3. starts ``uvicorn api.main:create_app --factory --workers 2`` on a free
   loopback port, waits for ``/ready``, and warms both workers up (each builds
   its own projection and match index on its first request);
4. drives ``GET /match/buyers?supplier=<id>&k=10`` in rotation with ``wrk``
   (Debian's package; preferred, it costs the server little CPU) or, without
   it, a bounded asyncio httpx client (``--tool httpx``);
5. prints one JSON line: requests/s, latency p50/p90/p99 (ms), errors, the
   server's CPU time per request (both workers, from ``/proc``) and wrk's, the
   1-minute load average, and the settings, then stops the server. The CPU
   figures do not depend on what else shares the machine: 2 cores divided by
   (server + wrk CPU per request) bounds the throughput of a quiet machine.

Target (issue 6): ≥ 300 requests/s with p99 ≤ 100 ms on the generated
100k-company graph. To produce that graph::

    .venv/bin/coopgraph generate --companies 100000 --seed 42 --out var/bench100k/files
    COOPGRAPH_DATA_DIR=var/bench100k/store .venv/bin/coopgraph ingest var/bench100k/files
    .venv/bin/python bench/api_match.py --data-dir var/bench100k/store

Usage: ``.venv/bin/python bench/api_match.py [--data-dir DIR] [--workers 2]
[--connections 32] [--duration 30] [--tool auto|wrk|httpx] [--requests 5000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.api.keys import KeysFile  # noqa: E402
from coopgraph.graph.factory import open_store  # noqa: E402
from coopgraph.graph.schema import EntityKind  # noqa: E402
from coopgraph.graph.settings import load_settings  # noqa: E402


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sample_suppliers(n: int, seed: int) -> tuple[list[str], dict[str, Any]]:
    """Supplier ids that declare at least one capability, sampled with ``seed``."""
    with open_store(load_settings()) as store:
        stats = store.stats()
        ids = sorted({str(c.model_dump()["company_id"])
                      for c in store.iter_all(EntityKind.CAPABILITY)})
    if not ids:
        raise SystemExit("the store holds no capabilities: load the generated graph first")
    rng = random.Random(seed)
    return (rng.sample(ids, min(n, len(ids))), stats)


def _start_server(port: int, workers: int, env: dict[str, str],
                  log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "coopgraph.api.main:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
           "--log-level", "warning", "--no-access-log"]
    handle = open(log, "wb")  # noqa: SIM115 - kept open for the server's lifetime
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}; see its log")
        try:
            if httpx.get(f"{base}/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not ready within {timeout:.0f}s")


async def _drive(base: str, key: str, paths: list[str], total: int, concurrency: int,
                 timeout: float) -> tuple[list[float], int, float]:
    """Send ``total`` requests over ``concurrency`` connections; (latencies s, errors, wall s)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    reasons: dict[str, int] = {}
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, limits=limits,
                                 timeout=timeout) as client:
        async def worker() -> None:
            nonlocal errors
            for i in counter:
                start = time.perf_counter()
                try:
                    response = await client.get(paths[i % len(paths)])
                    ok = response.status_code == 200
                    reason = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, reason = False, f"{type(exc).__name__}: {exc}"
                latencies.append(time.perf_counter() - start)
                if not ok:
                    errors += 1
                    reasons[reason] = reasons.get(reason, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    for reason, count in reasons.items():
        sys.stderr.write(f"{count} × {reason}\n")
    return latencies, errors, wall


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


_WRK_LUA = """
local paths = {%s}
local i = 0
wrk.headers["X-API-Key"] = "%s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def _wrk_ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def _group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp … utime stime
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_wrk(base: str, key: str, paths: list[str], duration: int, connections: int,
             threads: int, workdir: Path) -> dict[str, Any]:
    script = workdir / "match.lua"
    script.write_text(_WRK_LUA % (", ".join(json.dumps(p) for p in paths), key))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
         "--timeout", "10s", "-s", str(script), base],
        capture_output=True, text=True, check=True).stdout
    pct = dict(re.findall(r"^\s+(\d+)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock_err = re.search(r"Socket errors:.*", out)
    return {
        "tool": "wrk", "requests": total, "rps": round(rps, 1),
        "p50_ms": round(_wrk_ms(pct.get("50", "")), 2),
        "p90_ms": round(_wrk_ms(pct.get("90", "")), 2),
        "p99_ms": round(_wrk_ms(pct.get("99", "")), 2),
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sock_err.group(0) if sock_err else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="An embedded store holding the graph")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=30, help="wrk: seconds of load")
    parser.add_argument("--requests", type=int, default=5000, help="httpx: requests to send")
    parser.add_argument("--tool", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--suppliers", type=int, default=1000,
                        help="Distinct suppliers queried in rotation")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    args = parser.parse_args()

    if args.data_dir is not None:
        os.environ["COOPGRAPH_STORE"] = "embedded"
        os.environ["COOPGRAPH_DATA_DIR"] = str(args.data_dir.resolve())
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "httpx"

    suppliers, stats = _sample_suppliers(args.suppliers, args.seed)
    paths = [f"/match/buyers?supplier={s}&k={args.k}" for s in suppliers]

    with tempfile.TemporaryDirectory(prefix="coopgraph-bench-") as tmp:
        workdir = Path(tmp)
        # a keys file in the former format: the server migrates it into its store
        key = KeysFile(workdir / "keys.json").create("analyst", name="bench")[1]
        env = {**os.environ, "COOPGRAPH_KEYS_FILE": str(workdir / "keys.json"),
               "COOPGRAPH_JOBS_DIR": str(workdir / "jobs"), "COOPGRAPH_AUTH": "on",
               "COOPGRAPH_HOST": "127.0.0.1", "PYTHONPATH": str(ROOT)}
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = workdir / "server.log"
        started = time.perf_counter()
        proc = _start_server(port, args.workers, env, log)
        try:
            _wait_ready(base, proc, args.ready_timeout)
            ready_s = time.perf_counter() - started
            # Warm-up: every worker builds its projection and match index on its first
            # /match call (seconds). Rounds of fresh connections (each round's new
            # connections land on workers at random) until one whole round is fast:
            # then no worker is still building, and none builds during the measurement.
            warm_started = time.perf_counter()
            rounds = 0
            while True:
                rounds += 1
                lat, errors, _ = asyncio.run(_drive(base, key, paths[:50], 8 * args.workers,
                                                    4 * args.workers, args.ready_timeout))
                if errors:
                    sys.stderr.write(log.read_text(errors="replace")[-3000:])
                    raise SystemExit(f"{errors} warm-up requests failed")
                if max(lat) < 0.5 and rounds >= 3:
                    break
                if time.perf_counter() - warm_started > args.ready_timeout:
                    raise SystemExit("the workers did not warm up")
            warmup_s = time.perf_counter() - warm_started
            server_cpu = _group_cpu_s(proc.pid)
            client_cpu = _children_cpu_s()
            if tool == "wrk":
                result = _run_wrk(base, key, paths, args.duration, args.connections,
                                  args.threads, workdir)
            else:
                lat, errors, wall = asyncio.run(_drive(base, key, paths, args.requests,
                                                       args.connections, 30.0))
                result = {
                    "tool": "httpx", "requests": len(lat), "rps": round(len(lat) / wall, 1),
                    "p50_ms": round(statistics.median(lat) * 1e3, 2),
                    "p90_ms": round(_percentile(lat, 90) * 1e3, 2),
                    "p99_ms": round(_percentile(lat, 99) * 1e3, 2), "errors": errors,
                }
            # CPU per request, independent of what else shares the machine: what
            # the throughput of a dedicated machine would be bounded by
            served = max(result["requests"], 1)
            result["server_cpu_ms_per_req"] = round(
                (_group_cpu_s(proc.pid) - server_cpu) * 1e3 / served, 2)
            if tool == "wrk":
                result["wrk_cpu_ms_per_req"] = round(
                    (_children_cpu_s() - client_cpu) * 1e3 / served, 2)
            result["load_avg_1m"] = round(os.getloadavg()[0], 2)
        finally:
            _stop_server(proc)

    _emit(bench="api_match", endpoint="GET /match/buyers", workers=args.workers,
          connections=args.connections, suppliers=len(suppliers), k=args.k,
          companies=stats.get("company"), capabilities=stats.get("capability"),
          supplies=stats.get("supply"), store=os.environ.get("COOPGRAPH_STORE", "embedded"),
          startup_s=round(ready_s, 1), warmup_s=round(warmup_s, 1), warmup_rounds=rounds,
          **result,
          target_met=bool(result["rps"] >= 300 and result["p99_ms"] <= 100
                          and not result["errors"]))


if __name__ == "__main__":
    main()
