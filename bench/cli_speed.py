"""Benchmark: what a ``coopgraph`` call costs before it starts working.

Times, each ``--runs`` times (default 9), in fresh processes, interleaved so that
load on the machine hits every variant alike:

- ``baseline``: ``python -c pass`` (the interpreter alone);
- ``help``: ``coopgraph --help`` as shipped (commands imported on use);
- ``help_eager``: the same help after importing every command module up front — what
  ``--help`` cost before the lazy loading (the earlier ``register_all``);
- ``cold_help``: ``coopgraph --help`` with an empty bytecode cache (``PYTHONPYCACHEPREFIX``
  pointing at a new directory each run), the first call after an install or upgrade;
- ``command_help``: ``coopgraph gaps --help`` (imports one command and its engines).

Prints JSON lines: the machine, then one summary per variant (median, min, max in
seconds, and the median's ratio to the baseline).

Run from the repository root: ``.venv/bin/python bench/cli_speed.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

EAGER = ("import importlib, sys\nfrom coopgraph.api.cli import app\n"
         "from coopgraph.api.commands import COMMAND_MODULES\n"
         "for n in COMMAND_MODULES: importlib.import_module('coopgraph.api.commands.' + n)\n"
         "sys.argv = ['coopgraph', '--help']\napp()\n")
LAZY = "import sys\nfrom coopgraph.api.cli import app\nsys.argv = ['coopgraph', '--help']\napp()\n"
ONE = ("import sys\nfrom coopgraph.api.cli import app\n"
       "sys.argv = ['coopgraph', 'gaps', '--help']\napp()\n")


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def _run(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    env = {**os.environ, "COOPGRAPH_LANG": "en"}
    _emit({"machine": platform.platform(), "python": platform.python_version(),
           "cpus": os.cpu_count(), "load": os.getloadavg()})
    for code in (LAZY, EAGER, ONE):  # warm the bytecode cache once
        _run(code, env)
    times: dict[str, list[float]] = {k: [] for k in
                                     ("baseline", "help", "help_eager", "cold_help",
                                      "command_help")}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            times["baseline"].append(_run("pass", env))
            times["help"].append(_run(LAZY, env))
            times["help_eager"].append(_run(EAGER, env))
            times["command_help"].append(_run(ONE, env))
            cold = {**env, "PYTHONPYCACHEPREFIX": str(Path(tmp) / f"cold{i}")}
            times["cold_help"].append(_run(LAZY, cold))
    base = statistics.median(times["baseline"])
    for name, values in times.items():
        med = statistics.median(values)
        _emit({"variant": name, "runs": len(values), "median_s": round(med, 3),
               "min_s": round(min(values), 3), "max_s": round(max(values), 3),
               "x_baseline": round(med / base, 1)})
    _emit({"load_after": os.getloadavg()})


if __name__ == "__main__":
    main()
