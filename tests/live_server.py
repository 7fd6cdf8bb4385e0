"""A real ``coopgraph serve`` process on loopback, over a store the test chose.

The fuzzing tests (and anything else that must see the server as a client does:
real HTTP, real workers, the store opened from the environment) start one with
:func:`live_server`. It binds 127.0.0.1 only, waits for ``/health`` and stops the
process (SIGINT, then SIGKILL) however the test ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["COOPGRAPH", "LiveServer", "free_port", "live_server", "store_env"]

COOPGRAPH = Path(sys.executable).with_name("coopgraph")


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def store_env(kind: str, *, data_dir: Path, neo4j: object | None = None) -> dict[str, str]:
    """The environment that points ``coopgraph`` at the embedded store or the test Neo4j."""
    if kind == "embedded":
        return {"COOPGRAPH_STORE": "embedded", "COOPGRAPH_DATA_DIR": str(data_dir)}
    assert neo4j is not None
    return {"COOPGRAPH_STORE": "neo4j", "COOPGRAPH_DATA_DIR": str(data_dir),
            "NEO4J_URI": str(neo4j.uri), "NEO4J_USER": str(neo4j.user),  # type: ignore[attr-defined]
            "NEO4J_PASSWORD": str(neo4j.password)}  # type: ignore[attr-defined]


@dataclass
class LiveServer:
    """A running server: its base URL, environment and log file."""

    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 60) -> str:
        """The end of the server's output (for assertion messages)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def live_server(env: Mapping[str, str], log: Path, *, timeout: float = 60) -> Iterator[LiveServer]:
    """Run ``coopgraph serve`` on a free loopback port until the block ends."""
    port = free_port()
    full_env = {**os.environ, **env, "COLUMNS": "200"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(COOPGRAPH), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=full_env)
    server = LiveServer(f"http://127.0.0.1:{port}", full_env, log, proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the server exited with {proc.returncode}:\n"
                                     + server.log_tail())
            try:
                if httpx.get(server.url + "/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not answer /health in time:\n"
                                     + server.log_tail())
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
