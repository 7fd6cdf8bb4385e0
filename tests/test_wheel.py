"""The installed product, proven outside the checkout: what a user gets from ``pip install``.

The module builds the sdist and, from that sdist, the wheel (``python -m build``, as a
release would), installs the wheel into a fresh virtual environment in a temporary
folder — its dependencies come from the package index, not from the test venv — and,
from another temporary folder, runs what a user runs: ``coopgraph --version``,
``python -m coopgraph --version``, ``coopgraph ingest --sample``, ``coopgraph stats
--json`` and ``coopgraph demo`` until ``/health`` and ``/`` answer. Only installed files
are used: the checkout is on no ``sys.path`` there, and every CoopGraph module those
commands load is checked to come from the venv's site-packages.

It also reads the wheel: no tests, no data but what the product reads (the analysts'
Cypher, the dashboard's files, the sample cluster's CSVs), every source module shipped,
and nothing installed outside the one ``coopgraph`` namespace.

It takes about a minute and a half (most of it installing the dependencies); it is part
of ``make test`` and so of ``.ci/run``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.browser import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("graph", "ingest", "queries", "api")
# The top-level names the wheel installs (only the namespace, after the namespace rewrite).
TOP_LEVEL = {"coopgraph"}
# The product's own data files, by folder: everything else in the wheel is Python.
DATA_SUFFIXES = {"queries": {".cypher"}, "graph": {".cypher", ".csv", ".md"},
                 "ingest": {".csv", ".md"},
                 "api": {".html", ".js", ".css", ".svg", ".json"}, "data": {".csv"}}


@dataclass(frozen=True)
class Installed:
    """A wheel installed into a fresh venv, and the empty folder to run it from."""

    wheel: Path
    sdist: Path
    venv: Path
    workdir: Path
    env: Mapping[str, str]
    seconds: Mapping[str, float]

    @property
    def coopgraph(self) -> str:
        return str(self.venv / "bin" / "coopgraph")

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=self.workdir, env=dict(self.env), text=True,
                              capture_output=True, timeout=timeout, check=False)


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a user who never saw the checkout: no PYTHONPATH, no settings."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
            "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY",
            "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    # pip's cache stays where it is (a second run need not download again); the rest of
    # the user's home is a temporary one, so the demo's per-user directory is too.
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "share"), PIP_CACHE_DIR=cache,
               PIP_DISABLE_PIP_VERSION_CHECK="1", COLUMNS="200", PYTHONNOUSERSITE="1")
    return env


def _timed(seconds: dict[str, float], name: str, cmd: list[str], **kwargs: object) -> None:
    start = time.monotonic()
    proc = subprocess.run(cmd, text=True, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]
    seconds[name] = time.monotonic() - start
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build sdist → wheel, install the wheel into a fresh venv; the timings on the side."""
    base = tmp_path_factory.mktemp("wheel")
    home, workdir, dist = base / "home", base / "work", base / "dist"
    for folder in (home, workdir):
        folder.mkdir()
    env = _clean_env(home)
    seconds: dict[str, float] = {}
    _timed(seconds, "build", [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
           env=env, cwd=base)
    (wheel,) = dist.glob("coopgraph-*.whl")
    (sdist,) = dist.glob("coopgraph-*.tar.gz")
    venv = base / "venv"
    _timed(seconds, "venv", [sys.executable, "-m", "venv", str(venv)], cwd=base)
    _timed(seconds, "install", [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                                str(wheel)], env=env, cwd=workdir)
    print(f"\nwheel check timings (s): {json.dumps({k: round(v, 1) for k, v in seconds.items()})}")
    return Installed(wheel, sdist, venv, workdir, env, seconds)


# --- the wheel's contents ----------------------------------------------------------------


def _source_of(member: str) -> str:
    """The repository path a wheel member was built from (the namespace mapped back)."""
    parts = member.split("/")
    if parts[0] == "coopgraph" and len(parts) > 2 and parts[1] in (*FOLDERS, "data"):
        return "/".join(parts[1:])
    return member


def _package_files(folder: str) -> set[str]:
    """The files of ``folder`` a wheel should carry: its modules and its own data."""
    found = set()
    for path in (ROOT / folder).rglob("*"):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if path.suffix == ".py" or path.suffix in DATA_SUFFIXES.get(folder, set()):
            found.add(path.relative_to(ROOT).as_posix())
    return found


def test_the_wheel_holds_the_product_and_nothing_else(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        members = [m for m in wheel.namelist() if ".dist-info/" not in m]
    assert {m.split("/")[0] for m in members} == TOP_LEVEL
    assert not [m for m in members if re.search(r"(^|/)(tests?|conftest)(/|\.py$|_)", m)]
    shipped = {_source_of(m) for m in members}
    expected = set().union(*(_package_files(folder) for folder in (*FOLDERS, "coopgraph")))
    from coopgraph.ingest.sample import SAMPLE_FILE_NAMES

    expected |= {"data/__init__.py",
                 *(f"data/sample/{name}" for name in SAMPLE_FILE_NAMES.values())}
    expected |= {"coopgraph/py.typed"}
    assert sorted(shipped - expected) == [], "files in the wheel the product does not need"
    assert sorted(expected - shipped) == [], "files of the product missing from the wheel"


def test_the_sdist_builds_the_wheel_and_leaves_the_tests_out(installed: Installed) -> None:
    import tarfile

    with tarfile.open(installed.sdist) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    assert "setup.py" in names and "pyproject.toml" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "tools/"))]


# --- the installed commands, from a folder far from the checkout -------------------------


def test_version_and_python_dash_m(installed: Installed) -> None:
    text = (ROOT / "coopgraph" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert match
    for cmd in ([installed.coopgraph, "--version"], [installed.python, "-m", "coopgraph",
                                                     "--version"]):
        proc = installed.run(*cmd)
        assert (proc.returncode, proc.stdout.strip()) == (0, f"coopgraph {match.group(1)}"), \
            proc.stderr


def test_ingest_sample_then_stats_from_an_empty_folder(installed: Installed) -> None:
    data = installed.workdir / "store"
    env = {**installed.env, "COOPGRAPH_DATA_DIR": str(data)}
    ingest = subprocess.run([installed.coopgraph, "ingest", "--sample", "--json"],
                            cwd=installed.workdir, env=env, text=True, capture_output=True,
                            timeout=300, check=False)
    assert ingest.returncode == 0, ingest.stdout[-2000:] + ingest.stderr[-2000:]
    stats = subprocess.run([installed.coopgraph, "stats", "--json"], cwd=installed.workdir,
                           env=env, text=True, capture_output=True, timeout=120, check=False)
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)["counts"]
    # the answer from the checkout's CSVs, read here without CoopGraph
    for kind, name in (("company", "companies.csv"), ("supply", "supplies.csv"),
                       ("category", "categories.csv")):
        with (ROOT / "data" / "sample" / name).open(encoding="utf-8", newline="") as f:
            rows = sum(1 for _ in csv.DictReader(f))
        assert counts[kind] == rows, (kind, counts)


def test_only_installed_files_are_used(installed: Installed) -> None:
    """Every CoopGraph module the CLI, the app and the sample load is in site-packages."""
    script = (
        "import importlib.metadata as md, json, sys\n"
        "top = {f.parts[0] for f in md.files('coopgraph') or ()\n"
        "       if f.parts[0] != '..' and '.dist-info' not in str(f)}\n"
        "import coopgraph.api.cli\n"
        "from coopgraph.api.main import create_app\n"
        "from coopgraph.ingest.sample import sample_dir\n"
        "create_app\n"
        "print(json.dumps({'path': sys.path, 'sample': str(sample_dir()), 'top': sorted(top),\n"
        "  'modules': {n: getattr(m, '__file__', None) for n, m in list(sys.modules.items())\n"
        "              if n.split('.')[0] in top}}))\n"
    )
    proc = installed.run(installed.python, "-c", script)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert sorted(seen["top"]) == sorted(TOP_LEVEL)
    assert not [p for p in seen["path"] if p and Path(p).resolve() == ROOT]
    site = (installed.venv / "lib").resolve()
    outside = {name: file for name, file in seen["modules"].items()
               if file is None or site not in Path(file).resolve().parents}
    assert not outside, f"modules not loaded from the installed wheel: {outside}"
    assert len(seen["modules"]) > 20
    assert site in Path(seen["sample"]).resolve().parents


def test_the_demo_runs_from_anywhere_into_a_per_user_directory(installed: Installed) -> None:
    port = free_port()
    proc = subprocess.Popen([installed.coopgraph, "demo", "--no-browser", "--port", str(port)],
                            cwd=installed.workdir, env=dict(installed.env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in _lines_until(proc.stdout, "API docs:", deadline=time.monotonic() + 180):
            lines.append(line)
        output = "".join(lines)
        user_dir = Path(installed.env["XDG_DATA_HOME"]) / "coopgraph" / "demo"
        assert str(user_dir) in output, output
        base = f"http://127.0.0.1:{port}"
        health = _get_when_up(base + "/health")
        assert health.status_code == 200, health.text
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        script = httpx.get(base + "/ui/app.js", timeout=10)
        assert script.status_code == 200
        assert any(user_dir.iterdir()), "the demo's store is not in the per-user directory"
        assert not any(installed.workdir.glob("var")), "the demo wrote into the current folder"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _lines_until(stream: object, marker: str, *, deadline: float) -> Iterator[str]:
    readline = stream.readline  # type: ignore[attr-defined]
    while time.monotonic() < deadline:
        line = readline()
        if not line:
            raise AssertionError("the demo stopped before printing its address")
        yield line
        if line.startswith(marker):
            return
    raise AssertionError("the demo printed no address in time")


def _get_when_up(url: str) -> httpx.Response:
    for _ in range(150):  # the address is printed just before uvicorn binds
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


# --- the Docker image, read (no Docker engine here): built from the wheel, non-root ------


def _stages(dockerfile: str) -> list[list[str]]:
    stages: list[list[str]] = []
    for line in dockerfile.replace("\\\n", " ").splitlines():
        words = line.split()
        if words and words[0] == "FROM":
            stages.append([])
        if words and stages and not line.lstrip().startswith("#"):
            stages[-1].append(line.strip())
    return stages


def test_the_dockerfile_builds_the_same_wheel_from_what_it_copies(
    installed: Installed, tmp_path: Path
) -> None:
    """Replays the build stage's COPY lines into an empty folder and builds there."""
    import shutil

    stages = _stages((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert len(stages) >= 2, "the image is to be multi-stage"
    context = tmp_path / "context"
    for line in stages[0]:
        words = line.split()
        if words[0] != "COPY":
            continue
        assert not words[1].startswith("--from"), line
        *sources, dest = words[1:]
        target = context / dest.removeprefix("./").rstrip("/")
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)
    dist = tmp_path / "dist"
    _timed({}, "docker build stage", [sys.executable, "-m", "build", "--outdir", str(dist),
                                      str(context)], env=dict(installed.env), cwd=tmp_path)
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as a, zipfile.ZipFile(installed.wheel) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())

    runtime = stages[-1]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    copies = [line for line in runtime if line.startswith("COPY ")]
    assert copies and all("--from=" in line for line in copies), \
        "the runtime stage takes only what the install stage built, no source files"
