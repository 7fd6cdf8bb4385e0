"""``coopgraph demo`` as a newcomer runs it: a fresh data directory, no Neo4j, a printed key.

Each test starts the real command in a subprocess on a free port, reads what it
prints, talks to the server it started, and stops it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser import free_port

pytestmark = pytest.mark.timeout(180)

COOPGRAPH = Path(sys.executable).with_name("coopgraph")


@contextmanager
def demo(data_dir: Path, *args: str) -> Iterator[tuple[str, str]]:
    """Run the demo until it prints the dashboard address; yield (address, output so far)."""
    env = {**os.environ, "COOPGRAPH_DATA_DIR": str(data_dir), "COOPGRAPH_STORE": "neo4j",
           "NEO4J_URI": "bolt://127.0.0.1:1", "COLUMNS": "200"}
    proc = subprocess.Popen([str(COOPGRAPH), "demo", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 90
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("API docs:"):
                match = re.search(r"Dashboard: (\S+)", "".join(lines))
                url = match.group(1) if match else None
                break
        output = "".join(lines)
        assert url, f"the demo printed no dashboard address:\n{output}"
        base = url.split("/?")[0].rstrip("/")
        for _ in range(100):  # the address is printed just before uvicorn binds
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_demo_loads_the_sample_serves_the_dashboard_and_prints_a_working_key(
    tmp_path: Path
) -> None:
    port = free_port()
    with demo(tmp_path / "data", "--port", str(port)) as (url, output):
        # COOPGRAPH_STORE=neo4j (unreachable) is ignored: the demo needs no database
        assert "embedded store" in output
        assert "companies.csv" in output and "rejected" in output
        assert url.startswith(f"http://127.0.0.1:{port}/?key=cg_")
        key = url.split("key=")[1]
        base = f"http://127.0.0.1:{port}"
        page = httpx.get(base + "/")
        assert page.status_code == 200 and "/ui/app.js" in page.text
        assert httpx.get(base + "/kpis").status_code == 401
        kpis = httpx.get(base + "/kpis", headers={"X-API-Key": key})
        assert kpis.status_code == 200
        assert len(kpis.json()["kpis"]) >= 3
        companies = httpx.get(base + "/companies", headers={"X-API-Key": key}).json()
        assert companies["total"] > 20


def test_a_second_run_reuses_the_data_and_revokes_the_old_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    with demo(data, "--port", str(port)) as (url, output):
        first_key = url.split("key=")[1]
        assert "Loaded the sample" in output
    with demo(data, "--port", str(port)) as (url, output):
        second_key = url.split("key=")[1]
        assert "Reusing the data" in output
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/companies", headers={"X-API-Key": second_key}).status_code == 200
        assert httpx.get(base + "/companies", headers={"X-API-Key": first_key}).status_code == 401
    with demo(data, "--port", str(port), "--reset") as (_, output):
        assert "Loaded the sample" in output


def test_no_auth_serves_without_keys_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    with demo(tmp_path / "data", "--port", str(port), "--no-auth") as (url, output):
        assert url == f"http://127.0.0.1:{port}/"
        assert "Auth is off" in output
        assert httpx.get(f"http://127.0.0.1:{port}/kpis").status_code == 200


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(COOPGRAPH), "demo", "--no-browser", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "COOPGRAPH_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
