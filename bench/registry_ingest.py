"""Registry ingest: throughput and memory of the FNS-register readers, with baselines in one run.

1. The data: a synthetic SME-register XML of ``--records`` records
   (:func:`ingest.registry_synth.write_synthetic_sme`; reused when present), and the
   same rows as a CSV in CoopGraph's companies format (id, name, inn, ogrn, region,
   municipality, okved).
2. Each case runs in a child process (peak RSS is the child's own ``ru_maxrss``):

   * ``xml read`` — :func:`ingest.registry.read_registry` over the whole file;
   * ``csv read (baseline)`` — ``csv.reader`` over the same rows as CSV: the floor
     any reader of these rows pays;
   * ``fill --only-inn`` — :func:`ingest.registry_fill.fill_from_registry` of the
     whole file into a fresh embedded store, keeping ``--members`` INNs spread over
     the file (the members-list use: read everything, load a few);
   * at ``--small`` records (a second file): ``fill (all)`` — every record into a
     fresh embedded store — beside ``csv ingest (baseline)``, the project's own
     ``ingest_paths`` of the same companies as CSV into a fresh embedded store.

   rows/s counts records read. ``--repeat`` runs per case, the median shown.

Output: JSON lines on stdout (the first describes the machine), then a Markdown
table. Usage::

    .venv/bin/python bench/registry_ingest.py [--records 1000000] [--small 100000]
        [--members 1000] [--repeat 3] [--data /tmp/registry-bench]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _prepare(data: Path, n: int) -> tuple[Path, Path]:
    from coopgraph.ingest.registry import RegistryRecord, read_registry
    from coopgraph.ingest.registry_synth import write_synthetic_sme

    xml, table = data / f"sme-{n}.xml", data / f"companies-{n}.csv"
    if not xml.exists():
        write_synthetic_sme(xml.with_suffix(".tmp"), n).rename(xml)
    if not table.exists():
        with table.with_suffix(".tmp").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "name", "inn", "ogrn", "region", "municipality", "okved"])
            for r in read_registry(xml):
                if isinstance(r, RegistryRecord):
                    w.writerow([f"inn-{r.inn}", r.name, r.inn, r.ogrn or "", r.region or "",
                                r.municipality or "", "|".join(r.okved)])
        table.with_suffix(".tmp").rename(table)
    return xml, table


def _child(case: str, path: str, members: int, records: int) -> dict[str, Any]:
    """One measurement, in this (child) process."""
    started = time.perf_counter()
    rows = 0
    extra: dict[str, Any] = {}
    if case == "xml read":
        from coopgraph.ingest.registry import RegistryRecord, read_registry

        rows = sum(1 for r in read_registry(path) if isinstance(r, RegistryRecord))
    elif case == "csv read (baseline)":
        with open(path, encoding="utf-8", newline="") as f:
            rows = sum(1 for _ in csv.reader(f)) - 1
    else:
        from coopgraph.graph.embedded import EmbeddedStore

        with tempfile.TemporaryDirectory() as tmp:
            store = EmbeddedStore(Path(tmp) / "store")
            try:
                if case == "csv ingest (baseline)":
                    from coopgraph.ingest.pipeline import ingest_paths

                    report = ingest_paths(store, [path])
                    rows = report.total("read")
                    extra = {"loaded": report.total("loaded")}
                else:
                    from coopgraph.ingest.registry_fill import fill_from_registry
                    from coopgraph.ingest.registry_synth import synthetic_inn

                    wanted = None
                    if case == "fill --only-inn":
                        step = max(1, records // members)
                        wanted = {synthetic_inn(i) for i in range(0, records, step)}
                    fill = fill_from_registry(store, [path], only_inn=wanted)
                    rows = fill.read
                    extra = {"loaded": fill.created, "rejected": fill.rejected}
            finally:
                store.close()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "rows": rows, "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds), "peak_rss_mb": round(peak_mb), **extra}


def _run(case: str, path: Path, members: int, records: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, str(path), str(members), str(records)],
        check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir())
                        / "coopgraph-registry-bench")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, path, members, records = args.child
        print(json.dumps(_child(case, path, int(members), int(records)), ensure_ascii=False))
        return
    args.data.mkdir(parents=True, exist_ok=True)
    print(json.dumps({"machine": platform.node(), "python": platform.python_version(),
                      "cpus": os.cpu_count(), "load": os.getloadavg(),
                      "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
    big_xml, big_csv = _prepare(args.data, args.records)
    small_xml, small_csv = _prepare(args.data, args.small)
    cases = [("xml read", big_xml, args.records), ("csv read (baseline)", big_csv, args.records),
             ("fill --only-inn", big_xml, args.records),
             ("fill (all)", small_xml, args.small),
             ("csv ingest (baseline)", small_csv, args.small)]
    table = []
    for case, path, n in cases:
        runs = []
        for _ in range(args.repeat):
            result = _run(case, path, args.members, n)
            print(json.dumps(result, ensure_ascii=False), flush=True)
            runs.append(result)
        table.append({**runs[0], "rows_per_s": round(statistics.median(
            r["rows_per_s"] for r in runs)), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "seconds": round(statistics.median(r["seconds"] for r in runs), 2)})
    print("\n| case | records | median s | median rows/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for r in table:
        print(f"| {r['case']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_s']:,} | "
              f"{r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
