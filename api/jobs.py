"""Ingest jobs: uploaded files loaded on a background thread, their status kept in the store.

What one job leaves where:

- in the store (the internal kinds of :mod:`graph.schema`): the job's status,
  progress and report (``ingest_job``), and every rejected row in chunks of
  :data:`REJECTS_CHUNK` rows (``ingest_rejects``). Every API replica over the same
  store answers ``GET /ingest/{id}`` and ``/rejects`` for any job, whichever
  replica runs it. Rejects are chunked records rather than a file so that the
  same code serves the embedded store and Neo4j (a replica in another container
  cannot read the runner's disk).
- on the disk of the replica that received the upload (``<jobs dir>/<job id>/``)::

      lock          held (flock) by the process that runs the job until it ends
      input/        the uploaded files, under their own (sanitised) names
      rejects/      what the ingest pipeline writes about rejected rows

Jobs run one at a time per process: they write to the same store, and the store
serialises writes anyway.

A job's load is atomic (:meth:`graph.store.GraphStore.load`, with the job's id as
the load id). A job that is ``queued`` or ``running`` in the store while its
process is gone (``kill -9``, a crash, a power cut) is reported as
``interrupted``, with how to resume. Its process is known to be gone when the
job's directory is on this machine and nobody holds its ``lock``, or else when
its heartbeat (``heartbeat_at``, renewed every ``heartbeat`` seconds by the
running process) is older than ``stale_after`` seconds. This is checked for every
job at start-up (:meth:`JobRunner.recover`) and whenever one is read. Errors
never show server paths.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fcntl
import importlib
import io
import json
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from coopgraph.api.problems import NotImplementedYet
from coopgraph.api.schemas import IngestJob
from coopgraph.graph.errors import CoopGraphError, InvalidQuery, NotFound
from coopgraph.graph.i18n import Lang
from coopgraph.graph.messages import Msg
from coopgraph.graph.models import MAX_LIST, Record, ServerIngestJob, ServerRejects
from coopgraph.graph.safe_output import csv_rows
from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore

__all__ = ["INTERRUPTED", "JOB_ID_PATTERN", "REJECTS_CHUNK", "JobRunner", "public_message",
           "safe_filename"]

log = logging.getLogger("coopgraph.api.jobs")
JOB_ID_PATTERN = r"^[0-9a-f]{12}$"
_UNSAFE = re.compile(r"[^\w.\-() ]+", re.UNICODE)
# An absolute POSIX path of two parts or more (not a URL's //host, not "a/b").
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s/'\"`,;:()<>|]+/)+[^\s/'\"`,;:()<>|]*")
INTERRUPTED = ("the server stopped while this job was {status}. Its load is all-or-nothing: "
               "the store holds none of it, or all of it if the load had committed (or begun "
               "to) before the stop. To resume, upload the same files again: loading the same "
               "files twice duplicates nothing")


def public_message(message: str, job_dir: Path) -> str:
    """``message`` without server paths: uploaded files by their names, other paths by
    their last part."""
    text = message
    for base in (job_dir / "input", job_dir):
        for form in (str(base), str(base.resolve())):
            text = text.replace(form + os.sep, "")
            text = text.replace(form, "the upload" if base.name == "input" else "the job")
    return _SERVER_PATH.sub(lambda m: Path(m.group(0)).name or "…", text)


def safe_filename(name: str | None) -> str:
    """The base name of an uploaded file, without path parts or odd characters."""
    base = Path((name or "").replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base:
        raise InvalidQuery(f"the uploaded file name {name!r} is not usable")
    return base[:200]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _plain(value: Any) -> Any:
    """A report (pydantic model, dataclass, tuples…) as JSON-compatible data."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


_ERROR_KEY = "failed_with"  # the stored report of a failed job: its reason's code and params

_REJECT_KEYS = ("file", "row", "column", "reason", "code", "params")


def _reject_row(item: Any) -> list[Any]:
    """One reject as ``[file, row, column, reason, code, params]`` whatever shape the report
    gives it (``code`` and ``params`` say the reason in any language: graph.messages)."""
    if isinstance(item, list | tuple):
        row = [*item[:6], *[""] * (4 - len(item[:4]))]
    elif isinstance(item, dict):
        row = [item.get(k, "") for k in _REJECT_KEYS]
    else:
        row = [getattr(item, k, "") for k in _REJECT_KEYS]
    if len(row) > 4 and row[4]:
        return [*row[:4], row[4], _plain((row[5] if len(row) > 5 else None) or {})]
    return row[:4]


REJECTS_CHUNK = 5_000  # rejected rows per stored chunk (a few hundred KB of JSON)
REPORT_REJECTS = 200  # rejected rows kept in the job's report itself (the dashboard's table)


def _to_record(job: IngestJob, *, heartbeat: dt.datetime | None, chunks: int | None
               ) -> ServerIngestJob:
    data = job.model_dump(exclude={"report", "error_code", "error_params"})
    report = json.dumps(job.report, ensure_ascii=False) if job.report is not None else None
    if job.error_code and job.report is None:  # a failed job keeps its reason's code here
        report = json.dumps({_ERROR_KEY: {"code": job.error_code,
                                          "params": job.error_params or {}}},
                            ensure_ascii=False)
    return ServerIngestJob(**data, report=report, heartbeat_at=heartbeat, chunks=chunks,
                           source="api")


def _from_record(record: Record) -> tuple[IngestJob, ServerIngestJob]:
    assert isinstance(record, ServerIngestJob)
    report = json.loads(record.report) if record.report else None
    coded: dict[str, Any] = {}
    if isinstance(report, dict) and set(report) == {_ERROR_KEY}:
        error = report[_ERROR_KEY]
        coded = {"error_code": error.get("code"), "error_params": error.get("params")}
        report = None
    job = IngestJob(**coded, id=record.id, status=record.status, files=record.files,
                    progress=record.progress, created_at=record.created_at,
                    finished_at=record.finished_at, ok=record.ok, rejected=record.rejected,
                    error=record.error,
                    report=report)
    return job, record


class JobRunner:
    """Saves uploads, runs ingest in the background, keeps and reads job status in the store.

    ``store`` opens (or returns) the store; it is called per use, so a store that is
    down makes the job routes answer 503 rather than stopping the app.
    """

    def __init__(self, jobs_dir: Path, store: Callable[[], GraphStore], *,
                 heartbeat: float = 10.0, stale_after: float = 60.0,
                 on_done: Callable[[], object] | None = None) -> None:
        if not 0 < heartbeat < stale_after:
            raise ValueError("the heartbeat must be positive and shorter than stale_after")
        self.jobs_dir = Path(jobs_dir)
        self._store = store
        self._on_done = on_done  # after each job (the app: the projection catches up)
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._locks: dict[str, IO[bytes]] = {}  # job id → its lock file, held until it ends
        self._mine: dict[str, IngestJob] = {}  # this process's unfinished jobs, as last saved
        self._mutex = threading.Lock()  # orders saves of _mine against the heartbeat
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # --- liveness ---------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Mark every job whose process is gone ``interrupted``; their ids."""
        found = []
        for record in list(self._store().iter_all(EntityKind.INGEST_JOB)):
            assert isinstance(record, ServerIngestJob)
            if record.status in ("queued", "running"):
                job = self._if_orphaned(*_from_record(record))
                if job.status == "interrupted":
                    found.append(job.id)
        return found

    def _if_orphaned(self, job: IngestJob, record: ServerIngestJob) -> IngestJob:
        """``job``, marked ``interrupted`` when no live process runs it any more."""
        if job.id in self._locks:
            return job  # ours, and alive
        lock = self._dir(job.id) / "lock"
        try:
            handle = open(lock, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            # run by another machine's replica (or made before jobs had locks): its heartbeat
            beat = record.heartbeat_at or record.created_at
            if (_now() - beat).total_seconds() <= self.stale_after:
                return job
            return self._interrupt(job)
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return job  # its process, on this machine, is alive
            # Read it again under the lock: its process may have finished it meanwhile.
            job, _ = self._read(job.id)
            return self._interrupt(job) if job.status in ("queued", "running") else job

    def _interrupt(self, job: IngestJob) -> IngestJob:
        """Record that ``job`` died with its process; the job as now stored."""
        was = job.status
        job = job.model_copy(update={
            "status": "interrupted", "finished_at": _now(), "progress": None,
            "error": INTERRUPTED.format(status=was)})
        self._store().upsert([_to_record(job, heartbeat=None, chunks=None)])
        log.warning("ingest job %s was %s when its process died; marked interrupted",
                    job.id, was)
        return job

    def _beating(self) -> None:
        """Renew the heartbeat of this process's unfinished jobs until :meth:`shutdown`."""
        while not self._stop.wait(self.heartbeat):
            with self._mutex:
                jobs = list(self._mine.values())
                try:
                    if jobs:
                        self._store().upsert([_to_record(j, heartbeat=_now(), chunks=None)
                                              for j in jobs])
                except Exception:  # a store that is down now: the next beat tries again
                    log.warning("could not renew the heartbeat of ingest jobs %s",
                                [j.id for j in jobs], exc_info=True)

    # --- status -----------------------------------------------------------------------

    def _dir(self, job_id: str) -> Path:
        if not re.match(JOB_ID_PATTERN, job_id):
            raise NotFound(f"no ingest job {job_id!r}")
        return self.jobs_dir / job_id

    def _save(self, job: IngestJob, *, chunks: int | None = None) -> None:
        with self._mutex:
            finished = job.status not in ("queued", "running")
            self._store().upsert([_to_record(job, heartbeat=_now(), chunks=chunks)])
            if finished:
                self._mine.pop(job.id, None)
            else:
                self._mine[job.id] = job

    def get(self, job_id: str) -> IngestJob:
        """The job's current status; :class:`NotFound` when there is no such job."""
        job, record = self._read(job_id)
        if job.status in ("queued", "running"):
            job = self._if_orphaned(job, record)
        return job

    def _read(self, job_id: str) -> tuple[IngestJob, ServerIngestJob]:
        self._dir(job_id)  # checks the id's form
        try:
            return _from_record(self._store().get(EntityKind.INGEST_JOB, job_id))
        except NotFound:
            raise NotFound(f"no ingest job {job_id!r}") from None

    def rejects_csv(self, job_id: str, lang: Lang | None = None) -> bytes:
        """The job's rejected rows as CSV (file, row, column, reason, code), the reasons
        in ``lang`` (as stored: English, when None); :class:`NotFound` until the job has
        finished."""
        job, record = self._read(job_id)
        if job.status != "done" or record.chunks is None:
            raise NotFound(f"ingest job {job_id!r} has no rejects report yet "
                           f"(status: {job.status})")
        store = self._store()
        chunks: list[ServerRejects] = []
        offset = 0
        while True:
            page = store.list(EntityKind.INGEST_REJECTS, filters={"job_id": job_id},
                              offset=offset, limit=100)
            chunks += [c for c in page.items if isinstance(c, ServerRejects)]
            offset += len(page.items)
            if offset >= page.total or not page.items:
                break
        if len(chunks) != record.chunks:  # pragma: no cover - written before the status
            raise NotFound(f"ingest job {job_id!r} has lost part of its rejects report")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["file", "row", "column", "reason", "code"])
        say = None
        if lang is not None:
            from coopgraph.ingest.report import localize_json

            def say(row: list[Any]) -> str:
                data = {"rejects": [dict(zip(_REJECT_KEYS, row, strict=False))]}
                return str(localize_json(data, lang)["rejects"][0]["reason"])

        for chunk in sorted(chunks, key=lambda c: c.n):
            rows = []
            for row in json.loads(chunk.rows):
                reason = say(row) if say is not None and len(row) > 4 else row[3]
                rows.append([*row[:3], reason, row[4] if len(row) > 4 else ""])
            writer.writerows(csv_rows(rows))  # a member's text is no formula
        return out.getvalue().encode("utf-8")

    # --- running ----------------------------------------------------------------------

    def submit(self, uploads: Iterable[tuple[str | None, IO[bytes]]]) -> IngestJob:
        """Save the uploaded files in a new job directory and queue the job."""
        pipeline = "coopgraph.ingest.pipeline"
        try:
            importlib.import_module(pipeline)
        except ModuleNotFoundError as exc:
            # missing: the pipeline or a package above it, not something it imports
            if exc.name is None or not (pipeline + ".").startswith(exc.name + "."):
                raise
            raise NotImplementedYet(
                "the ingest pipeline is not available in this installation") from None
        job_id = uuid.uuid4().hex[:12]
        job_dir = self.jobs_dir / job_id
        input_dir = job_dir / "input"
        self.jobs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # uploads are members' data
        input_dir.mkdir(parents=True)
        names: list[str] = []
        try:
            self._hold(job_id)
            for name, handle in uploads:
                safe = safe_filename(name)
                if len(names) >= MAX_LIST:
                    raise InvalidQuery(f"upload at most {MAX_LIST} files per job")
                if safe in names:
                    raise InvalidQuery(f"two uploaded files are named {safe!r}")
                with open(input_dir / safe, "wb") as out:
                    shutil.copyfileobj(handle, out, 1 << 20)
                names.append(safe)
            if not names:
                raise InvalidQuery("upload at least one file (multipart field 'files')")
            job = IngestJob(id=job_id, status="queued", files=names, created_at=_now(),
                            progress="files received")
            self._save(job)
        except BaseException:
            self._release(job_id)
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        self._start_beating()
        try:
            self._executor.submit(self._run, job_id)
        except BaseException:
            self._release(job_id)
            raise
        return job

    def _start_beating(self) -> None:
        with self._mutex:
            if self._beat is None:
                self._beat = threading.Thread(target=self._beating, name="ingest-heartbeat",
                                              daemon=True)
                self._beat.start()

    def _hold(self, job_id: str) -> None:
        """Take the job's lock for as long as this process has the job (released by _run)."""
        handle = open(self._dir(job_id) / "lock", "ab")  # noqa: SIM115 - held until the job ends
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._locks[job_id] = handle

    def _release(self, job_id: str) -> None:
        with self._mutex:
            self._mine.pop(job_id, None)
        handle = self._locks.pop(job_id, None)
        if handle is not None:
            handle.close()

    def _run(self, job_id: str) -> None:
        try:
            self._run_job(job_id)
        finally:
            self._release(job_id)  # after the final status is in the store
            if self._on_done is not None:
                try:
                    self._on_done()
                except Exception:  # an optimisation: the next reader pokes anyway
                    log.warning("after ingest job %s", job_id, exc_info=True)

    def _run_job(self, job_id: str) -> None:
        job = self._mine.get(job_id) or self.get(job_id)
        job_dir = self._dir(job_id)
        job = job.model_copy(update={"status": "running", "progress": "loading"})
        self._save(job)
        chunks: int | None = None
        try:
            from coopgraph.ingest.pipeline import ingest_paths

            report = ingest_paths(self._store(), [job_dir / "input"],
                                  rejects_dir=job_dir / "rejects", load_id=job_id)
            rejects = [_reject_row(r) for r in getattr(report, "rejects", [])]
            self._save(job.model_copy(update={"progress": "saving the rejects report"}))
            chunks = self._save_rejects(job_id, rejects)
            plain = _plain(report)
            if isinstance(plain, dict):  # server paths are no business of the client
                plain.pop("rejects_dir", None)
                plain.pop("report_files", None)
                plain["warnings"] = [public_message(str(w), job_dir)
                                     for w in plain.get("warnings") or []]
                if isinstance(plain.get("rejects"), list) and len(plain["rejects"]) > \
                        REPORT_REJECTS:  # all of them are in the rejects report (CSV)
                    plain["rejects"] = plain["rejects"][:REPORT_REJECTS]
                    plain["rejects_truncated"] = True
            job = job.model_copy(update={
                "status": "done", "finished_at": _now(), "progress": None,
                "ok": bool(getattr(report, "ok", False)), "rejected": len(rejects),
                "report": plain if isinstance(plain, dict) else {"report": plain},
            })
        except ImportError as exc:
            job = job.model_copy(update={
                "status": "failed", "finished_at": _now(), "progress": None,
                "error": "the ingest pipeline is not available in this installation "
                         f"({public_message(str(exc), job_dir)})"})
        except CoopGraphError as exc:
            reason = exc.args[0] if len(exc.args) == 1 else None
            coded: dict[str, Any] = {}
            if isinstance(reason, Msg):  # said again in the reader's language (route)
                coded = {"error_code": reason.code, "error_params": {
                    k: public_message(v, job_dir) if isinstance(v, str) else _plain(v)
                    for k, v in reason.params.items()}}
            job = job.model_copy(update={"status": "failed", "finished_at": _now(),
                                         "progress": None, **coded,
                                         "error": public_message(str(exc), job_dir)})
        except Exception as exc:  # a job must end with a status, whatever happened
            log.exception("ingest job %s failed", job_id)
            job = job.model_copy(update={"status": "failed", "finished_at": _now(),
                                         "progress": None,
                                         "error": f"internal error ({type(exc).__name__})"})
        try:
            self._save(job, chunks=chunks)
        except Exception:  # the store went away: the job reads interrupted once it is back
            log.exception("could not save the final status of ingest job %s", job_id)

    def _save_rejects(self, job_id: str, rejects: list[list[Any]]) -> int:
        """Store the rejected rows in chunks; how many chunks (zero rejects: none)."""
        store = self._store()
        chunks = [ServerRejects(id=f"{job_id}-{n}", job_id=job_id, n=n, source="api",
                                rows=json.dumps(_plain(rejects[i:i + REJECTS_CHUNK]),
                                                ensure_ascii=False))
                  for n, i in enumerate(range(0, len(rejects), REJECTS_CHUNK))]
        for i in range(0, len(chunks), 20):
            store.upsert(chunks[i:i + 20])
        return len(chunks)

    def wait(self, timeout: float | None = None) -> None:
        """Block until queued jobs have run (tests and the demo)."""
        self._executor.submit(lambda: None).result(timeout=timeout)

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish."""
        self._stop.set()
        self._executor.shutdown(wait=False)
