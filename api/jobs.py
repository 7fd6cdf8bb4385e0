"""Ingest jobs: uploaded files saved to a job directory and loaded on a background thread.

Layout of one job (``<jobs dir>/<job id>/``)::

    job.json      the job's status and, when done, its ingest report
    lock          held (flock) by the worker that queued the job until the job ends
    input/        the uploaded files, under their own (sanitised) names
    rejects/      what the ingest pipeline writes about rejected rows
    rejects.csv   every rejected row: file, row, column, reason

The status lives on disk, not in memory, so any API worker (``--workers 2``)
can answer for a job another worker runs. Jobs run one at a time per worker:
they write to the same store, and the store serialises writes anyway.

A job's load is atomic (:meth:`graph.store.GraphStore.load`, with the job's id as
the load id). A job that is ``queued`` or ``running`` on disk while nobody holds
its ``lock`` belonged to a process that died (``kill -9``, a crash, a power cut):
it is reported as ``interrupted``, with how to resume — at start-up for every
such job, and whenever one is read. Errors never show server paths.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fcntl
import importlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from coopgraph.api.problems import NotImplementedYet
from coopgraph.api.schemas import IngestJob
from coopgraph.graph.errors import CoopGraphError, InvalidQuery, NotFound
from coopgraph.graph.safe_output import csv_rows
from coopgraph.graph.store import GraphStore

__all__ = ["INTERRUPTED", "JOB_ID_PATTERN", "JobRunner", "public_message", "safe_filename"]

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


def _reject_row(item: Any) -> list[Any]:
    """One reject as ``[file, row, column, reason]`` whatever shape the report gives it."""
    if isinstance(item, list | tuple):
        return [*item[:4], *[""] * (4 - len(item[:4]))]
    if isinstance(item, dict):
        return [item.get(k, "") for k in ("file", "row", "column", "reason")]
    return [getattr(item, k, "") for k in ("file", "row", "column", "reason")]


class JobRunner:
    """Creates job directories, runs ingest in the background, reads job status back."""

    def __init__(self, jobs_dir: Path, store: Callable[[], GraphStore]) -> None:
        self.jobs_dir = Path(jobs_dir)
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._locks: dict[str, IO[bytes]] = {}  # job id → its lock file, held until it ends
        self.recover()

    def recover(self) -> list[str]:
        """Mark every job whose process is gone ``interrupted``; their ids."""
        if not self.jobs_dir.is_dir():
            return []
        found = []
        for job_dir in sorted(self.jobs_dir.iterdir()):
            if not re.match(JOB_ID_PATTERN, job_dir.name):
                continue
            try:
                job = self.get(job_dir.name)
            except (NotFound, ValueError):
                continue  # a job directory half made, or not a job
            if job.status == "interrupted":
                found.append(job.id)
        return found

    def _if_orphaned(self, job: IngestJob) -> IngestJob:
        """``job``, marked ``interrupted`` when no live process holds its lock any more."""
        if job.id in self._locks:
            return job
        try:
            handle = open(self._dir(job.id) / "lock", "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return self._interrupt(job)  # made before jobs had locks
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return job  # its worker is alive
            # Read it again under the lock: its worker may have finished it meanwhile.
            job = self._read(job.id)
            return self._interrupt(job) if job.status in ("queued", "running") else job

    def _interrupt(self, job: IngestJob) -> IngestJob:
        """Record that ``job`` died with its process; the job as now stored."""
        job = job.model_copy(update={
            "status": "interrupted", "finished_at": _now(),
            "error": INTERRUPTED.format(status=job.status)})
        self._save(job)
        log.warning("ingest job %s was %s when its process died; marked interrupted",
                    job.id, job.status)
        return job

    def _dir(self, job_id: str) -> Path:
        if not re.match(JOB_ID_PATTERN, job_id):
            raise NotFound(f"no ingest job {job_id!r}")
        return self.jobs_dir / job_id

    def _save(self, job: IngestJob) -> None:
        path = self._dir(job.id) / "job.json"
        tmp = path.with_name("job.json.tmp")
        tmp.write_text(job.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def get(self, job_id: str) -> IngestJob:
        """The job's current status; :class:`NotFound` when there is no such job."""
        job = self._read(job_id)
        if job.status in ("queued", "running"):
            job = self._if_orphaned(job)
        return job

    def _read(self, job_id: str) -> IngestJob:
        path = self._dir(job_id) / "job.json"
        try:
            return IngestJob.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no ingest job {job_id!r}") from None

    def rejects_file(self, job_id: str) -> Path:
        """The job's rejects CSV; :class:`NotFound` until the job has finished."""
        job = self.get(job_id)
        path = self._dir(job_id) / "rejects.csv"
        if job.status != "done" or not path.exists():
            raise NotFound(f"ingest job {job_id!r} has no rejects report yet "
                           f"(status: {job.status})")
        return path

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
                if safe in names:
                    raise InvalidQuery(f"two uploaded files are named {safe!r}")
                with open(input_dir / safe, "wb") as out:
                    shutil.copyfileobj(handle, out, 1 << 20)
                names.append(safe)
            if not names:
                raise InvalidQuery("upload at least one file (multipart field 'files')")
        except BaseException:
            self._release(job_id)
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        job = IngestJob(id=job_id, status="queued", files=names, created_at=_now())
        self._save(job)
        try:
            self._executor.submit(self._run, job_id)
        except BaseException:
            self._release(job_id)
            raise
        return job

    def _hold(self, job_id: str) -> None:
        """Take the job's lock for as long as this process has the job (released by _run)."""
        handle = open(self._dir(job_id) / "lock", "ab")  # noqa: SIM115 - held until the job ends
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._locks[job_id] = handle

    def _release(self, job_id: str) -> None:
        handle = self._locks.pop(job_id, None)
        if handle is not None:
            handle.close()

    def _run(self, job_id: str) -> None:
        try:
            self._run_job(job_id)
        finally:
            self._release(job_id)  # after the final status is on disk

    def _run_job(self, job_id: str) -> None:
        job = self.get(job_id)
        job_dir = self._dir(job_id)
        self._save(job.model_copy(update={"status": "running"}))
        try:
            from coopgraph.ingest.pipeline import ingest_paths

            report = ingest_paths(self._store(), [job_dir / "input"],
                                  rejects_dir=job_dir / "rejects", load_id=job_id)
            rejects = [_reject_row(r) for r in getattr(report, "rejects", [])]
            with open(job_dir / "rejects.csv", "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["file", "row", "column", "reason"])
                writer.writerows(csv_rows(rejects))  # a member's text is no formula
            plain = _plain(report)
            if isinstance(plain, dict):  # server paths are no business of the client
                plain.pop("rejects_dir", None)
                plain.pop("report_files", None)
                plain["warnings"] = [public_message(str(w), job_dir)
                                     for w in plain.get("warnings") or []]
            job = job.model_copy(update={
                "status": "done", "finished_at": _now(), "ok": bool(getattr(report, "ok", False)),
                "rejected": len(rejects),
                "report": plain if isinstance(plain, dict) else {"report": plain},
            })
        except ImportError as exc:
            job = job.model_copy(update={
                "status": "failed", "finished_at": _now(),
                "error": "the ingest pipeline is not available in this installation "
                         f"({public_message(str(exc), job_dir)})"})
        except CoopGraphError as exc:
            job = job.model_copy(update={"status": "failed", "finished_at": _now(),
                                         "error": public_message(str(exc), job_dir)})
        except Exception as exc:  # a job must end with a status, whatever happened
            log.exception("ingest job %s failed", job_id)
            job = job.model_copy(update={"status": "failed", "finished_at": _now(),
                                         "error": f"internal error ({type(exc).__name__})"})
        self._save(job)

    def wait(self, timeout: float | None = None) -> None:
        """Block until queued jobs have run (tests and the demo)."""
        self._executor.submit(lambda: None).result(timeout=timeout)

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish."""
        self._executor.shutdown(wait=False)
