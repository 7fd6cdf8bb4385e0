"""What a cooperation request costs: a versioned move, and the projection afterwards.

In one run, on the sample cluster in an in-memory embedded store:

* ``move``: one request move (``queries.requests.move``: read, check, versioned
  write) beside the baseline ``upsert``: the same record written with a plain
  ``store.upsert`` — milliseconds, the median of ``--repeat`` runs;
* ``projection_after``: ``ProjectionCache.get()`` right after a request move (a
  workflow kind: the analytic revision stays, nothing is rebuilt) beside the
  baseline: right after a tie is written (an analytic kind) — milliseconds,
  medians, and their ratio;
* ``tie_patch``: ``ProjectionCache.get()`` right after a tie is written, patched by
  the projection delta, beside the baseline: the same write in a cache that always
  rebuilds (``incremental=False``).

Output: JSON lines on stdout, the first one describing the machine.

Usage: ``.venv/bin/python bench/request_workflow.py [--repeat 21]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopgraph.graph.embedded import EmbeddedStore  # noqa: E402
from coopgraph.graph.models import Tie  # noqa: E402
from coopgraph.ingest.pipeline import ingest_paths  # noqa: E402
from coopgraph.ingest.sample import SAMPLE_DIR  # noqa: E402
from coopgraph.queries import requests as wf  # noqa: E402
from coopgraph.queries.projection import ProjectionCache  # noqa: E402


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    _emit(machine=platform.machine(), python=platform.python_version(),
          cpus=os.cpu_count(), system=platform.platform())
    store = EmbeddedStore(None)
    assert ingest_paths(store, [SAMPLE_DIR]).ok
    cache = ProjectionCache(store)
    cache.get()
    moves, plain, after_move, after_tie = [], [], [], []
    for i in range(args.repeat):
        request = wf.open_request(store, wf.RequestDraft(
            from_id="m-borona", to_id="m-disk", category="till.disc", volume_per_year=100))
        start = time.perf_counter()
        moved = wf.move(store, request.id, "sent", version=1)
        moves.append(_ms(start))
        start = time.perf_counter()
        store.upsert([moved])
        plain.append(_ms(start))
        start = time.perf_counter()
        cache.get()
        after_move.append(_ms(start))
        store.upsert([Tie(company_id="m-fond", partner_id="m-disk", tie_type="training",
                          since=dt.date(2026, 1, 1) + dt.timedelta(days=i))])
        start = time.perf_counter()
        cache.get()
        after_tie.append(_ms(start))
    rebuild = ProjectionCache(store, incremental=False)
    rebuild.get()
    patched_ms, rebuilt_ms = [], []
    for i in range(args.repeat):
        for which, times in ((cache, patched_ms), (rebuild, rebuilt_ms)):
            store.upsert([Tie(company_id="m-fond", partner_id="m-disk", tie_type="training",
                              since=dt.date(2027, 1, 1) + dt.timedelta(days=i),
                              contract=f"{len(times)}")])
            other = rebuild if which is cache else cache
            other.get()  # the other cache catches up outside the timing
            start = time.perf_counter()
            which.get()
            times.append(_ms(start))
    med = statistics.median
    _emit(bench="move", unit="ms", median=round(med(moves), 3),
          baseline_upsert=round(med(plain), 3), ratio=round(med(moves) / med(plain), 2),
          repeat=args.repeat)
    _emit(bench="projection_after", unit="ms", after_request_move=round(med(after_move), 3),
          baseline_after_tie=round(med(after_tie), 3),
          ratio=round(med(after_tie) / max(med(after_move), 1e-6), 1), repeat=args.repeat)
    _emit(bench="tie_patch", unit="ms", patched=round(med(patched_ms), 3),
          baseline_rebuild=round(med(rebuilt_ms), 3),
          ratio=round(med(rebuilt_ms) / max(med(patched_ms), 1e-6), 1),
          deltas=cache.deltas, builds=cache.builds, repeat=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
