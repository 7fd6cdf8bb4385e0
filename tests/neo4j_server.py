"""Start a real Neo4j 5.26 Community server on 127.0.0.1 for tests and benchmarks.

No Docker: the server is an embedded Neo4j DBMS with its Bolt connector enabled, run by the
tiny Java program in ``tools/neo4j-launcher`` (artifacts from Maven Central).

* :func:`launcher_build` compiles the launcher and writes its classpath to
  ``tools/neo4j-launcher/target/classpath.txt`` with ``mvn -B -q``. The first call downloads
  Neo4j's jars into ``~/.m2`` (the install step); later calls skip Maven entirely while
  ``target/classes`` and ``classpath.txt`` are newer than ``pom.xml`` and the Java source
  and every jar on the classpath is still in ``~/.m2``.
* :func:`start_neo4j` builds if needed, then starts ``java -Xmx1500m ... coopgraph.Neo4jLauncher``
  with a fresh data directory in a temp dir, auth disabled, HTTP off, Bolt on 127.0.0.1 (port
  0: the server binds a free port itself and reports it, so there is no port race) and
  ``server.directories.import`` set to ``import_dir`` so that
  ``LOAD CSV ... FROM 'file:///name.csv'`` reads ``import_dir / 'name.csv'``.
* The server's stdin is a pipe held open by this process: when this process dies the pipe
  closes and the launcher shuts the DBMS down, so no orphan server is left behind.

Run ``python -m tests.neo4j_server`` (from the repository root) for a smoke test: build,
start, ``RETURN 1`` and a ``LOAD CSV`` through the official driver, stop.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER_DIR = REPO_ROOT / "tools" / "neo4j-launcher"
POM = LAUNCHER_DIR / "pom.xml"
JAVA_SOURCES = LAUNCHER_DIR / "src" / "main" / "java"
TARGET_DIR = LAUNCHER_DIR / "target"
CLASSES_DIR = TARGET_DIR / "classes"
MAIN_CLASS = "coopgraph.Neo4jLauncher"
MAIN_CLASS_FILE = CLASSES_DIR / "coopgraph" / "Neo4jLauncher.class"
CLASSPATH_FILE = TARGET_DIR / "classpath.txt"

READY_PREFIX = "COOPGRAPH_NEO4J_READY "
NEO4J_USER = "neo4j"
NEO4J_PASSWORD = "neo4j-test-password"  # ignored: auth is disabled, but drivers send it

HEAP = "-Xmx1500m"
PAGE_CACHE_MB = 512
# The JVM options Neo4j's own launcher uses that matter here (minus pre-touching the heap,
# which only slows start-up).
JVM_OPTIONS: tuple[str, ...] = (
    HEAP,
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)

BUILD_TIMEOUT = 1800.0  # seconds; a cold ~/.m2 downloads ~200 jars (~150 MB)
LOG_TAIL_LINES = 60
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # Maven 3.8 emits colour resets even with -B


class Neo4jUnavailable(Exception):
    """A real Neo4j cannot be had here; ``str(exc)`` says why (with log tails)."""


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    kept = _ANSI.sub("", text).rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept) or "    (empty)"


def _file_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError as exc:
        return f"    (cannot read {path}: {exc})"


def _as_text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise Neo4jUnavailable("`java` (17+) is not on PATH and JAVA_HOME is not set")
    return java


def _mvn() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise Neo4jUnavailable("`mvn` (Maven) is not on PATH: it is needed once to build "
                               "tools/neo4j-launcher")
    return mvn


def _classpath_entries() -> list[str]:
    return [e for e in CLASSPATH_FILE.read_text().strip().split(os.pathsep) if e]


def _build_is_fresh() -> bool:
    """True when the compiled launcher and its classpath are newer than every input."""
    try:
        outputs = min(MAIN_CLASS_FILE.stat().st_mtime, CLASSPATH_FILE.stat().st_mtime)
        inputs = [POM, *JAVA_SOURCES.rglob("*.java")]
        newest_input = max(p.stat().st_mtime for p in inputs)
        if outputs <= newest_input:
            return False
        entries = _classpath_entries()
    except (OSError, ValueError):
        return False
    # ~/.m2 may have been wiped since: then Maven has to fetch the jars again.
    return bool(entries) and all(os.path.exists(e) for e in entries)


def launcher_build(*, timeout: float = BUILD_TIMEOUT) -> None:
    """Compile ``tools/neo4j-launcher`` and write its classpath, unless already up to date.

    Safe to call from several processes at once (a file lock serialises the builds).
    Raises :class:`Neo4jUnavailable` when Java or Maven is missing or the build fails.
    """
    _java()
    if _build_is_fresh():
        return
    mvn = _mvn()
    lock_path = Path(tempfile.gettempdir()) / "coopgraph-neo4j-launcher-build.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _build_is_fresh():  # another process built it while we waited
            return
        # A stale classpath must never survive a failed build.
        with contextlib.suppress(FileNotFoundError):
            CLASSPATH_FILE.unlink()
        cmd = [mvn, "-B", "-q", "-f", str(POM), "package", "dependency:build-classpath",
               f"-Dmdep.outputFile={CLASSPATH_FILE}"]
        try:
            done = subprocess.run(cmd, cwd=LAUNCHER_DIR, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            text = _as_text(exc.stdout) + _as_text(exc.stderr)
            raise Neo4jUnavailable(
                f"building the Neo4j launcher took more than {timeout:.0f}s "
                f"({' '.join(cmd)}); Maven's output ends with:\n{_tail(text)}") from exc
        if done.returncode == 0 and MAIN_CLASS_FILE.exists():
            # javac may skip an up-to-date class (e.g. only pom.xml changed): mark it fresh.
            os.utime(MAIN_CLASS_FILE)
        if done.returncode != 0 or not _build_is_fresh():
            raise Neo4jUnavailable(
                f"building the Neo4j launcher failed (exit {done.returncode}): {' '.join(cmd)}\n"
                f"Maven's output ends with:\n{_tail(done.stdout + done.stderr)}")


class Neo4jServer:
    """A running Neo4j started by :func:`start_neo4j`; stop it with :meth:`stop` (or ``with``)."""

    uri: str
    user: str
    password: str
    import_dir: Path
    startup_seconds: float

    def __init__(self, *, process: subprocess.Popen[bytes], uri: str, import_dir: Path,
                 startup_seconds: float, temp_dir: Path, log_path: Path,
                 reader: threading.Thread) -> None:
        self.uri = uri
        self.user = NEO4J_USER
        self.password = NEO4J_PASSWORD
        self.import_dir = import_dir
        self.startup_seconds = startup_seconds
        self.temp_dir = temp_dir
        self.log_path = log_path
        self.process = process
        self._reader = reader
        self._stopped = False
        atexit.register(self.stop)

    @property
    def port(self) -> int:
        return int(self.uri.rsplit(":", 1)[1])

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (clean shutdown), wait up to ``timeout`` s, then kill; remove the temp dir."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        _terminate(self.process, timeout)
        self._reader.join(timeout=5)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> Neo4jServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else f"pid {self.process.pid}"
        return f"Neo4jServer({self.uri}, {state}, import_dir={self.import_dir})"


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


def _read_stdout(process: subprocess.Popen[bytes], log_path: Path, ready: list[str],
                 ready_event: threading.Event) -> None:
    """Copy the server's stdout to the log, noting the READY line; drains until EOF."""
    assert process.stdout is not None
    with log_path.open("ab", buffering=0) as log:
        for raw in process.stdout:
            log.write(raw)
            line = raw.decode(errors="replace").strip()
            if line.startswith(READY_PREFIX) and not ready_event.is_set():
                ready.append(line[len(READY_PREFIX):].strip())
                ready_event.set()
    ready_event.set()  # EOF: wake the waiter, which then sees the process has exited


def neo4j_admin_command(heap: str = "-Xmx1g") -> list[str]:
    """``neo4j-admin`` from the launcher's classpath (Neo4j's own ``AdminTool``, with the
    import tool): run it with ``NEO4J_HOME`` (and ``NEO4J_CONF``) in the environment, as
    Neo4j's script would. Builds the launcher if needed."""
    launcher_build()
    classpath = os.pathsep.join([str(CLASSES_DIR), *_classpath_entries()])
    return [_java(), heap, *JVM_OPTIONS[1:], "-cp", classpath, "org.neo4j.cli.AdminTool"]


def start_neo4j(*, import_dir: Path | None = None, timeout: float = 600,
                port: int = 0, extra_jvm_options: Sequence[str] = (),
                home: Path | None = None, heap: str = HEAP,
                page_cache_mb: int = PAGE_CACHE_MB) -> Neo4jServer:
    """Build the launcher if needed and start a fresh, empty Neo4j 5.26 on 127.0.0.1.

    ``import_dir`` becomes ``server.directories.import`` (created if missing; default: a
    temp dir removed by :meth:`Neo4jServer.stop`), so files there are read by
    ``LOAD CSV WITH HEADERS FROM 'file:///name.csv'``. ``timeout`` bounds the server's
    start-up (not the Maven build). ``port=0`` lets the server bind a free port itself.
    ``home``: the DBMS home to use (kept after :meth:`Neo4jServer.stop`; e.g. one that
    :func:`neo4j_admin_command` imported into) instead of a fresh one. ``heap`` and
    ``page_cache_mb``: the JVM heap option and the page cache size.
    Raises :class:`Neo4jUnavailable` with the reason and the log's tail on any failure.
    """
    launcher_build()
    java = _java()
    classpath = os.pathsep.join([str(CLASSES_DIR), *_classpath_entries()])
    temp_dir = Path(tempfile.mkdtemp(prefix="coopgraph-neo4j-"))
    home = home.resolve() if home is not None else temp_dir / "home"
    import_path = (import_dir if import_dir is not None else temp_dir / "import").resolve()
    import_path.mkdir(parents=True, exist_ok=True)
    log_path = temp_dir / "neo4j.log"
    cmd = [java, heap, *JVM_OPTIONS[1:], *extra_jvm_options, "-cp", classpath, MAIN_CLASS,
           "--home", str(home), "--import", str(import_path), "--port", str(port),
           "--pagecache-mb", str(page_cache_mb)]

    ready: list[str] = []
    ready_event = threading.Event()
    started = time.monotonic()
    try:
        with log_path.open("ab") as err_log:
            process = subprocess.Popen(
                cmd, cwd=temp_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err_log, start_new_session=True)
    except OSError as exc:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise Neo4jUnavailable(f"cannot run {java}: {exc}") from exc
    reader = threading.Thread(target=_read_stdout, name="neo4j-stdout", daemon=True,
                              args=(process, log_path, ready, ready_event))
    reader.start()

    def fail(reason: str) -> Neo4jUnavailable:
        _terminate(process, 30)
        reader.join(timeout=5)
        message = f"{reason}\nserver log ({log_path}) ends with:\n{_file_tail(log_path)}"
        debug_log = home / "logs" / "debug.log"
        if debug_log.exists():
            message += f"\nNeo4j's debug.log ends with:\n{_file_tail(debug_log, 20)}"
        shutil.rmtree(temp_dir, ignore_errors=True)
        return Neo4jUnavailable(message)

    deadline = started + timeout
    try:
        while not ready:
            if process.poll() is not None:
                reader.join(timeout=5)
                if ready:
                    break
                raise fail(f"Neo4j exited with code {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise fail(f"Neo4j did not start within {timeout:.0f}s")
            ready_event.wait(0.2)
    except Neo4jUnavailable:
        raise
    except BaseException:  # KeyboardInterrupt and the like: no server left behind
        _terminate(process, 30)
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    startup_seconds = time.monotonic() - started
    if process.poll() is not None:  # READY, then died at once
        raise fail(f"Neo4j exited with code {process.returncode} right after start-up")
    return Neo4jServer(process=process, uri=ready[0], import_dir=import_path,
                       startup_seconds=startup_seconds, temp_dir=temp_dir, log_path=log_path,
                       reader=reader)


def main() -> int:
    """Smoke test: build, start, ``RETURN 1`` and a ``LOAD CSV``, stop."""
    from neo4j import GraphDatabase

    t0 = time.monotonic()
    try:
        launcher_build()
    except Neo4jUnavailable as exc:
        print(f"Neo4j unavailable: {exc}", file=sys.stderr)
        return 1
    print(f"launcher built (or up to date) in {time.monotonic() - t0:.1f}s")
    try:
        server = start_neo4j()
    except Neo4jUnavailable as exc:
        print(f"Neo4j unavailable: {exc}", file=sys.stderr)
        return 1
    with server:
        print(f"uri: {server.uri}")
        print(f"startup_seconds: {server.startup_seconds:.2f}")
        (server.import_dir / "smoke.csv").write_text("id,name\n1,alpha\n2,beta\n")
        with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one", database_="neo4j")
            print(f"RETURN 1 -> {records[0]['one']}")
            records, _, _ = driver.execute_query(
                "LOAD CSV WITH HEADERS FROM 'file:///smoke.csv' AS row RETURN count(*) AS n",
                database_="neo4j")
            print(f"LOAD CSV from {server.import_dir} -> {records[0]['n']} rows")
            records, _, _ = driver.execute_query("CALL dbms.components()", database_="neo4j")
            print(f"server: {records[0]['name']} {records[0]['versions']} {records[0]['edition']}")
        t1 = time.monotonic()
    print(f"stopped in {time.monotonic() - t1:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
