"""Ingest throughput and memory: the generated national-scale set into both stores,
beside Neo4j's own ``LOAD CSV`` of the same rows (every kind), in one run.

1. The data: ``coopgraph generate --companies N --seed S`` into ``--data`` (reused
   when it already holds a generated set).
2. Embedded store: ``ingest_paths`` of the whole directory into a fresh store on
   disk (journal fsynced per batch), in a child process — rows/s end to end
   (reading, validation, resolution, writing), wall time, and the child's peak
   RSS (its own ``ru_maxrss``); ``--repeat`` runs, the median shown.
3. ``LOAD CSV``: a fresh server with the store's constraints and indexes, every CSV
   of the set in its import directory, then :data:`SAME_ROWS` — one ``LOAD CSV WITH
   HEADERS … CALL { … } IN TRANSACTIONS OF 10000 ROWS`` MERGE per kind, nodes first,
   then relationships, the same keys — ``--passes`` times (pass 1 into the empty
   database, later passes into the filled one) — rows/s per pass, and the node and
   relationship counts per label/type, to set beside the ingest's.
4. Neo4j, transactional: a fresh test server, the same ingest through
   :class:`~graph.neo4j_store.Neo4jStore` in a child process (MERGE-ing every
   relationship, the default), ``--passes`` times into the same database; with
   ``--creates`` also once CREATE-ing the relationships a load chunk finds new
   (``load_creates``) — rows/s, the Python side's peak RSS and the counts.
5. Neo4j, bulk (``coopgraph ingest --bulk``): the pipeline into memory, the
   importer's CSV files, ``neo4j-admin database import full`` (the launcher's
   ``AdminTool``) into a fresh home — rows/s; then the server started on it and the
   store opened (constraints and indexes built, ``db.awaitIndexes``), timed apart.

``--change SHARE`` (with ``--passes 2`` or more): the last pass loads, both ways, a copy
of the set in which that share of the rows of each file with a value to change
(:data:`CHANGEABLE`, picked by a hash of the line) has that value moved by one, every
other line byte for byte the same — an incremental load of partly changed rows into the
filled database, rather than the very same rows again (``--passes 3 --change 0.3``: pass
2 the same rows again, pass 3 the changed copy).

``--heap``/``--pagecache-mb`` set the Neo4j servers' (and the importer's) memory:
``--heap=-Xmx2g --pagecache-mb 1024`` is docker-compose.yml's deployment.

Output: JSON lines on stdout (the first describes the machine), then a Markdown
table. Usage::

    .venv/bin/python bench/ingest.py [--companies 100000] [--seed 42]
        [--data /tmp/gen100k] [--repeat 3] [--skip-neo4j] [--no-bulk]
        [--heap=-Xmx2g] [--pagecache-mb 1024] [--passes 2] [--change 0.3] [--creates]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 10_000
CAPABILITIES = "capabilities.csv"
# The same rows as our ingest, every kind, as idiomatic ``LOAD CSV`` MERGEs: nodes first,
# then the reference relationships the store draws from node properties, then one
# statement per relationship kind (the store's ``_key``: the key fields joined by "|",
# none of the generated keys holds a "|" or "\"). Values come only from the CSV lines;
# list columns are split on "|"; numbers stay the CSV's strings (the baseline does no
# typing, which can only make it faster than the store's validated, typed rows).
_TX = "} IN TRANSACTIONS OF 10000 ROWS"
_STAMP = "source: $source, row: linenumber(), ingested_at: $now"


def _node(file: str, label: str, key: str, lists: tuple[str, ...] = ()) -> tuple[str, str]:
    splits = "".join(f", n.{c} = CASE WHEN line.{c} IS NULL THEN [] "
                     f"ELSE split(line.{c}, '|') END" for c in lists)
    return file, (f"LOAD CSV WITH HEADERS FROM 'file:///{file}' AS line CALL {{ WITH line "
                  f"MERGE (n:{label} {{{key}: line.{key}}}) "
                  f"SET n = line, n += {{{_STAMP}}}{splits} {_TX}")


def _rel(file: str, rel: str, start: str, end: str, key: tuple[str, ...],
         where: str = "") -> tuple[str, str]:
    (s_label, s_prop, s_col), (e_label, e_prop, e_col) = (
        part.split(":") for part in (start, end))
    joined = " + '|' + ".join(f"coalesce(line.{k}, '')" for k in key)
    return file, (f"LOAD CSV WITH HEADERS FROM 'file:///{file}' AS line "
                  f"WITH line{' WHERE ' + where if where else ''} CALL {{ WITH line "
                  f"MATCH (a:{s_label} {{{s_prop}: line.{s_col}}}) "
                  f"MATCH (b:{e_label} {{{e_prop}: line.{e_col}}}) "
                  f"MERGE (a)-[r:{rel} {{_key: {joined}}}]->(b) "
                  f"SET r = line, r += {{{_STAMP}, _key: {joined}}} {_TX}")


SAME_ROWS: tuple[tuple[str, str], ...] = (
    _node("processes.csv", "Process", "code"),
    _node("categories.csv", "Category", "code", ("processes", "synonyms")),
    _node("certifications.csv", "Certification", "code"),
    _node("clusters.csv", "Cluster", "id"),
    _node("companies.csv", "Company", "id", ("roles", "okved")),
    _node("products.csv", "Product", "id"),
    # reference relationships drawn from node properties (CHILD_OF, NEEDS_PROCESS, MAKES)
    ("categories.csv", "LOAD CSV WITH HEADERS FROM 'file:///categories.csv' AS line "
     "WITH line WHERE line.parent IS NOT NULL CALL { WITH line "
     "MATCH (n:Category {code: line.code}) MATCH (m:Category {code: line.parent}) "
     "MERGE (n)-[:CHILD_OF]->(m) " + _TX),
    ("categories.csv", "LOAD CSV WITH HEADERS FROM 'file:///categories.csv' AS line "
     "WITH line WHERE line.processes IS NOT NULL CALL { WITH line "
     "MATCH (n:Category {code: line.code}) UNWIND split(line.processes, '|') AS t "
     "MATCH (m:Process {code: t}) MERGE (n)-[:NEEDS_PROCESS]->(m) " + _TX),
    ("products.csv", "LOAD CSV WITH HEADERS FROM 'file:///products.csv' AS line "
     "WITH line WHERE line.maker_id IS NOT NULL CALL { WITH line "
     "MATCH (n:Product {id: line.id}) MATCH (m:Company {id: line.maker_id}) "
     "MERGE (m)-[:MAKES]->(n) " + _TX),
    _rel("memberships.csv", "MEMBER_OF", "Company:id:company_id", "Cluster:id:cluster_id",
         ("company_id", "cluster_id")),
    _rel("bom.csv", "REQUIRES", "Product:id:parent", "Category:code:child",
         ("parent_kind", "parent", "child"),
         "coalesce(line.parent_kind, 'product') = 'product'"),
    _rel("bom.csv", "REQUIRES", "Category:code:parent", "Category:code:child",
         ("parent_kind", "parent", "child"), "line.parent_kind = 'category'"),
    _rel("capabilities.csv", "CAN_SUPPLY", "Company:id:company_id", "Category:code:category",
         ("company_id", "category")),
    _rel("held_certifications.csv", "HOLDS", "Company:id:company_id",
         "Certification:code:cert", ("company_id", "cert")),
    _rel("company_processes.csv", "HAS_PROCESS", "Company:id:company_id",
         "Process:code:process", ("company_id", "process")),
    _rel("supplies.csv", "SUPPLIES", "Company:id:supplier_id", "Company:id:buyer_id",
         ("supplier_id", "buyer_id", "category")),
    _rel("imports.csv", "IMPORTS", "Company:id:company_id", "Category:code:category",
         ("company_id", "category", "country")),
    _rel("needs.csv", "NEEDS", "Company:id:company_id", "Category:code:category",
         ("company_id", "category")),
)


# ``--change``: the value changed in each file that has one (never a key column); the
# other files (processes, categories, certifications, clusters, memberships, company
# processes, held certifications) are loaded again unchanged.
CHANGEABLE = {"bom.csv": "qty", "capabilities.csv": "unit_price", "companies.csv": "employees",
              "imports.csv": "volume_per_year", "needs.csv": "qty_per_year",
              "products.csv": "annual_volume", "supplies.csv": "volume_per_year"}


def _bumped(value: str) -> str | None:
    """``value`` moved by one (an integer stays an integer), or None (empty, not a number)."""
    try:
        return str(int(value) + 1)
    except ValueError:
        pass
    try:
        return f"{float(value) + 1:.2f}"
    except ValueError:
        return None


def changed_set(data: Path, share: float, out: Path) -> dict[str, int]:
    """Copy the set's CSVs to ``out``, ``share`` of the rows of each :data:`CHANGEABLE` file
    (those whose line hashes below it) with that value moved by one; rows changed per file."""
    out.mkdir(parents=True, exist_ok=True)
    changed: dict[str, int] = {}
    for path in sorted(data.glob("*.csv")):
        column = CHANGEABLE.get(path.name)
        if column is None:
            shutil.copy(path, out / path.name)
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        index = next(csv.reader([lines[0]])).index(column)
        count = 0
        for i, line in enumerate(lines[1:], start=1):
            if zlib.crc32(line.encode()) % 10_000 >= share * 10_000:
                continue
            cells = next(csv.reader([line]))
            bumped = _bumped(cells[index]) if index < len(cells) else None
            if bumped is None:
                continue
            cells[index] = bumped
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow(cells)
            lines[i] = text.getvalue()
            count += 1
        (out / path.name).write_text("".join(lines), encoding="utf-8")
        changed[path.name] = count
    return changed


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _machine() -> dict[str, Any]:
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True,
                              timeout=30).stderr.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        java = None
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"what": "machine", "cpus": os.cpu_count(), "memory_gib": round(mem_gib, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "java": java, "load_average": [round(x, 2) for x in os.getloadavg()]}


# --- the child: one ingest, measured from inside --------------------------------------


def _child_bulk(args: argparse.Namespace) -> None:
    """``coopgraph ingest --bulk``'s path, timed: pipeline, importer CSVs, neo4j-admin;
    then the server started on the imported home and the store opened (constraints)."""
    from coopgraph.graph.neo4j_store import Neo4jStore
    from coopgraph.ingest.bulk import bulk_ingest
    from tests.neo4j_server import neo4j_admin_command, start_neo4j

    home = Path(args.store_dir) / "home"
    started = time.perf_counter()
    result = bulk_ingest([args.data], Path(args.store_dir) / "import",
                         admin=neo4j_admin_command(args.heap), home=home)
    wall = time.perf_counter() - started
    done = [line for line in result.output.splitlines() if "IMPORT DONE" in line]
    server = start_neo4j(home=home, heap=args.heap, page_cache_mb=args.pagecache_mb)
    try:
        opened = time.perf_counter()
        store = Neo4jStore(server.uri, user=server.user, password=server.password)
        store._query("CALL db.awaitIndexes(3600)")
        open_s = time.perf_counter() - opened
        counts = store.stats()
        store.close()
    finally:
        server.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    read = result.report.total("read")
    print(json.dumps({"read": read, "loaded": result.report.total("loaded"),
                      "rejected": result.report.total("rejected"), "wall_s": round(wall, 3),
                      "rows_per_s": round(read / wall), "importer": done[0].strip() if done else "",
                      "open_and_index_s": round(open_s, 3),
                      "rows_per_s_with_indexes": round(read / (wall + open_s)),
                      "peak_rss_mib": round(usage.ru_maxrss / 1024), "stored": sum(counts.values()),
                      "python_cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "files": {}}))


def _child(args: argparse.Namespace) -> None:
    from coopgraph.ingest.pipeline import ingest_paths

    if args.child == "bulk":
        _child_bulk(args)
        return
    if args.child == "embedded":
        from coopgraph.graph.embedded import EmbeddedStore

        store: Any = EmbeddedStore(args.store_dir)
    else:
        from coopgraph.graph.neo4j_store import Neo4jStore

        Neo4jStore.load_creates = not args.merge_only
        keep = os.environ.get("COOPGRAPH_BENCH_KEEP_LOGS")
        if keep:
            _time_store_calls(Neo4jStore, Path(keep))
        store = Neo4jStore(args.uri, user=args.user, password=args.password,
                           batch_size=BATCH)
    started = time.perf_counter()
    report = ingest_paths(store, [args.data])
    wall = time.perf_counter() - started
    again = []  # later passes: the same set into the store the first one filled
    passes = args.passes if args.child == "neo4j" else 1
    for number in range(1, passes):
        t0 = time.perf_counter()
        last = number == passes - 1
        more = ingest_paths(store, [args.again_data if last and args.again_data else args.data])
        seconds = time.perf_counter() - t0
        again.append({"wall_s": round(seconds, 3), "read": more.total("read"),
                      "loaded": more.total("loaded"), "unchanged": more.total("unchanged"),
                      "rows_per_s": round(more.total("read") / seconds),
                      "files_s": {f.file: round(f.seconds, 3) for f in more.files}})
    counts = store.stats()
    graph: dict[str, Any] = {}
    if args.child == "neo4j":  # what it wrote, to set beside LOAD CSV's counts
        graph["relationships"] = {r["t"]: r["n"] for r in store._query(
            "MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS n ORDER BY t")}
        graph["nodes"] = {r["l"]: r["n"] for r in store._query(
            "MATCH (n) RETURN labels(n)[0] AS l, count(n) AS n ORDER BY l")}
    store.close()
    files = {f.file: {"read": f.read, "seconds": round(f.seconds, 3),
                      "rows_per_s": round(f.rows_per_s)} for f in report.files}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    maxrss_mib = usage.ru_maxrss / 1024
    print(json.dumps({"read": report.total("read"), "loaded": report.total("loaded"),
                      "rejected": report.total("rejected"), "wall_s": round(wall, 3),
                      "rows_per_s": round(report.total("read") / wall),
                      "peak_rss_mib": round(maxrss_mib), "stored": sum(counts.values()),
                      "python_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                      "files": files, "again": again, **graph}))


def _time_store_calls(cls: Any, keep: Path) -> None:
    """Log each store round trip a load makes that takes over 0.3 s (its method, the
    kind or load it served, seconds and wall-clock time) to ``keep/timings.log``."""
    keep.mkdir(parents=True, exist_ok=True)
    log = keep / "timings.log"

    def timed(name: str) -> None:
        original = getattr(cls, name)

        def wrapper(self: Any, *a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(self, *a, **kw)
            finally:
                took = time.perf_counter() - t0
                if took > 0.3:
                    what = (getattr(a[0], "__qualname__", None) or str(a[0]))[:40] if a else ""
                    what += f" [{threading.current_thread().name}]"
                    with log.open("a", encoding="utf-8") as out:
                        out.write(f"{time.strftime('%H:%M:%S')} {name} {what} {took:.2f}s\n")

        setattr(cls, name, wrapper)

    for name in ("fetch", "stats", "_write_tx", "_query", "_stage", "_commit_load",
                 "_begin_load", "_read"):
        timed(name)


def _run_child(kind: str, data: Path, **extra: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind,
               "--data", str(data)]
    for name, value in extra.items():
        flag = f"--{name.replace('_', '-')}"
        command.append(f"{flag}={value}" if value else flag)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} ingest failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the parent ------------------------------------------------------------------------


def _data(args: argparse.Namespace) -> Path:
    data = Path(args.data)
    if (data / "companies.csv").exists() and (data / CAPABILITIES).exists():
        _emit(what="data", path=str(data), generated=False)
    else:
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "coopgraph"), "generate",
                        "--companies", str(args.companies), "--seed", str(args.seed),
                        "--out", str(data)], check=True, stdout=subprocess.DEVNULL)
        _emit(what="data", path=str(data), generated=True,
              seconds=round(time.perf_counter() - started, 1))
    rows = {p.name: sum(1 for _ in p.open(encoding="utf-8")) - 1
            for p in sorted(data.glob("*.csv"))}
    _emit(what="rows", total=sum(rows.values()), files=rows)
    return data


def _load_csv(data: Path, args: argparse.Namespace, again: Path | None = None
              ) -> dict[str, Any]:
    """A fresh server with the store's constraints and indexes (``Neo4jStore`` creates
    them), every CSV of the set in its import directory, then :data:`SAME_ROWS` — every
    kind our ingest writes — ``--passes`` times: pass 1 into the empty database, later
    passes into the database the earlier ones filled (every row already there)."""
    import datetime as dt

    from coopgraph.graph.neo4j_store import Neo4jStore
    from tests.neo4j_server import start_neo4j

    rows = sum(sum(1 for _ in p.open(encoding="utf-8")) - 1 for p in data.glob("*.csv"))
    with tempfile.TemporaryDirectory(prefix="coopgraph-loadcsv-") as tmp:
        import_dir = Path(tmp) / "import"
        import_dir.mkdir()
        for path in data.glob("*.csv"):
            shutil.copy(path, import_dir / path.name)
        if again is not None:  # --change: the later passes read the changed copy
            shutil.copytree(again, import_dir / "changed")
        server = start_neo4j(import_dir=import_dir, heap=args.heap,
                             page_cache_mb=args.pagecache_mb)
        try:
            store = Neo4jStore(server.uri, user=server.user, password=server.password,
                               batch_size=BATCH)  # creates the same constraints and indexes
            driver = store._driver
            passes = []
            for number in range(args.passes):
                changed = again is not None and number == args.passes - 1
                prefix = "file:///changed/" if changed else "file:///"
                now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
                per_file: dict[str, float] = {}
                started = time.perf_counter()
                with driver.session(database=store.database) as session:
                    for file, query in SAME_ROWS:
                        t0 = time.perf_counter()
                        session.run(query.replace("file:///", prefix),
                                    {"now": now, "source": file}).consume()
                        per_file[file] = round(per_file.get(file, 0)
                                               + time.perf_counter() - t0, 3)
                seconds = time.perf_counter() - started
                passes.append({"seconds": round(seconds, 3),
                               "rows_per_s": round(rows / seconds), "per_file_s": per_file})
            records, _, _ = driver.execute_query(
                "MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS n ORDER BY t",
                database_=store.database)
            rels = {r["t"]: r["n"] for r in records}
            records, _, _ = driver.execute_query(
                "MATCH (n) RETURN labels(n)[0] AS l, count(n) AS n ORDER BY l",
                database_=store.database)
            nodes = {r["l"]: r["n"] for r in records}
            store.close()
            return {"rows": rows, "passes": passes, "relationships": rels, "nodes": nodes,
                    "seconds": passes[0]["seconds"], "rows_per_s": passes[0]["rows_per_s"]}
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default="/tmp/gen100k")
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="embedded runs (median shown)")
    parser.add_argument("--heap", default="-Xmx1500m", help="Neo4j's JVM heap option "
                        "(docker-compose.yml: -Xmx2g)")
    parser.add_argument("--pagecache-mb", type=int, default=512,
                        help="Neo4j's page cache (docker-compose.yml: 1024)")
    parser.add_argument("--no-bulk", action="store_true", help="skip the bulk import")
    parser.add_argument("--creates", action="store_true", help="also run the transactional "
                        "ingest with load_creates (CREATE new relationships)")
    parser.add_argument("--passes", type=int, default=1, help="Neo4j transactional and "
                        "LOAD CSV: load the set this many times into one database (pass 1: "
                        "empty; later passes: pre-filled with every row)")
    parser.add_argument("--change", type=float, default=0.0, help="the last pass loads a "
                        "copy of the set with this share of the rows of each file with a "
                        "value to change changed (both ways)")
    parser.add_argument("--again-data", help=argparse.SUPPRESS)
    parser.add_argument("--merge-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["embedded", "neo4j", "bulk"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--store-dir", help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    _emit(**_machine())
    data = _data(args)
    results: dict[str, dict[str, Any]] = {}
    runs = []
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="coopgraph-bench-ingest-") as tmp:
            result = _run_child("embedded", data, store_dir=str(Path(tmp) / "store"))
        _emit(what="ingest", store="embedded", run=run + 1, load_average=os.getloadavg()[0],
              **result)
        runs.append(result)
    if runs:
        runs.sort(key=lambda r: r["wall_s"])
        results["embedded"] = runs[len(runs) // 2]  # the median run
        results["embedded"]["runs"] = [r["rows_per_s"] for r in runs]

    if not args.skip_neo4j:
        from tests.neo4j_server import start_neo4j

        again: Path | None = None
        extra: dict[str, str] = {}
        if args.change and args.passes > 1:
            again = Path(tempfile.mkdtemp(prefix="coopgraph-bench-changed-"))
            changed = changed_set(data, args.change, again)
            _emit(what="changed", share=args.change, total=sum(changed.values()),
                  files=changed)
            extra["again_data"] = str(again)
        results["load_csv"] = _load_csv(data, args, again)
        _emit(what="load_csv", load_average=os.getloadavg()[0], heap=args.heap,
              pagecache_mb=args.pagecache_mb, **results["load_csv"])
        paths = [("neo4j (MERGE, the default)", True)]
        if args.creates:
            paths.append(("neo4j (CREATE new relationships)", False))
        for name, merge_only in paths:
            keep = os.environ.get("COOPGRAPH_BENCH_KEEP_LOGS")
            gc_log = (f"-Xlog:gc*,safepoint:file={Path(keep).resolve()}/"
                      f"{int(time.time())}-gc.log:time,uptime,level",) if keep else ()
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
            server = start_neo4j(heap=args.heap, page_cache_mb=args.pagecache_mb,
                                 extra_jvm_options=gc_log)
            try:
                results[name] = _run_child("neo4j", data, uri=server.uri, user=server.user,
                                           password=server.password, passes=str(args.passes),
                                           **extra,
                                           **({"merge_only": ""} if merge_only else {}))
            finally:
                if keep:  # the server's query log (every query, with its time), for a look
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    for log in (server.temp_dir / "home" / "logs").glob("*.log"):
                        shutil.copy(log, Path(keep) / f"{int(time.time())}-{log.name}")
                server.stop()
            _emit(what="ingest", store=name, load_average=os.getloadavg()[0], heap=args.heap,
                  pagecache_mb=args.pagecache_mb, **results[name])
        if again is not None:
            shutil.rmtree(again, ignore_errors=True)
        if not args.no_bulk:
            with tempfile.TemporaryDirectory(prefix="coopgraph-bench-bulk-") as tmp:
                results["neo4j bulk import (--bulk)"] = _run_child(
                    "bulk", data, store_dir=tmp, heap=args.heap,
                    pagecache_mb=str(args.pagecache_mb))
            _emit(what="ingest", store="bulk", load_average=os.getloadavg()[0],
                  heap=args.heap, pagecache_mb=args.pagecache_mb,
                  **results["neo4j bulk import (--bulk)"])

    print()
    print("| run | rows | wall s | rows/s | capabilities.csv rows/s | peak RSS (Python) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in results:
        if name != "load_csv":
            r = results[name]
            caps = f'{r["files"][CAPABILITIES]["rows_per_s"]:,}' \
                if CAPABILITIES in r["files"] else "–"
            shown = f" (median of {len(r['runs'])}: {', '.join(f'{x:,}' for x in r['runs'])})" \
                if "runs" in r else ""
            print(f"| ingest → {name}{shown} | {r['read']:,} | {r['wall_s']} | "
                  f"{r['rows_per_s']:,} | {caps} | {r['peak_rss_mib']:,} MiB |")
    if "load_csv" in results:
        r = results["load_csv"]
        print(f"| Neo4j LOAD CSV (every kind, the same rows) | {r['rows']:,} | {r['seconds']} | "
              f"{r['rows_per_s']:,} | – | – |")
        ours = results.get("neo4j (MERGE, the default)")
        for i, p in enumerate(r["passes"]):
            if ours is None:
                break
            mine = ours if i == 0 else ours["again"][i - 1]
            state = "empty" if i == 0 else (
                f"pre-filled, {args.change:.0%} of changeable rows changed"
                if args.change and i == len(r["passes"]) - 1 else "pre-filled, the same rows")
            print(f"| pass {i + 1} ({state}): ingest "
                  f"{mine['rows_per_s']:,} rows/s vs LOAD CSV {p['rows_per_s']:,} rows/s | "
                  f"ratio {mine['rows_per_s'] / p['rows_per_s']:.2f}× | | | | |")


if __name__ == "__main__":
    main()
