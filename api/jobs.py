"""Ingest jobs: uploaded files saved to a job directory and loaded on a background thread.

Layout of one job (``<jobs dir>/<job id>/``)::

    job.json      the job's status and, when done, its ingest report
    input/        the uploaded files, under their own (sanitised) names
    rejects/      what the ingest pipeline writes about rejected rows
    rejects.csv   every rejected row: file, row, column, reason

The status lives on disk, not in memory, so any API worker (``--workers 2``)
can answer for a job another worker runs. Jobs run one at a time per worker:
they write to the same store, and the store serialises writes anyway.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
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

from api.problems import NotImplementedYet
from api.schemas import IngestJob
from graph.errors import CoopGraphError, InvalidQuery, NotFound
from graph.safe_output import csv_rows
from graph.store import GraphStore

__all__ = ["JOB_ID_PATTERN", "JobRunner", "safe_filename"]

log = logging.getLogger("coopgraph.api.jobs")
JOB_ID_PATTERN = r"^[0-9a-f]{12}$"
_UNSAFE = re.compile(r"[^\w.\-() ]+", re.UNICODE)


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
        try:
            importlib.import_module("ingest.pipeline")
        except ModuleNotFoundError as exc:
            if exc.name not in ("ingest", "ingest.pipeline"):
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
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        job = IngestJob(id=job_id, status="queued", files=names, created_at=_now())
        self._save(job)
        self._executor.submit(self._run, job_id)
        return job

    def _run(self, job_id: str) -> None:
        job = self.get(job_id)
        job_dir = self._dir(job_id)
        self._save(job.model_copy(update={"status": "running"}))
        try:
            from ingest.pipeline import ingest_paths

            report = ingest_paths(self._store(), [job_dir / "input"],
                                  rejects_dir=job_dir / "rejects")
            rejects = [_reject_row(r) for r in getattr(report, "rejects", [])]
            with open(job_dir / "rejects.csv", "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["file", "row", "column", "reason"])
                writer.writerows(csv_rows(rejects))  # a member's text is no formula
            plain = _plain(report)
            if isinstance(plain, dict):  # server paths are no business of the client
                plain.pop("rejects_dir", None)
                plain.pop("report_files", None)
            job = job.model_copy(update={
                "status": "done", "finished_at": _now(), "ok": bool(getattr(report, "ok", False)),
                "rejected": len(rejects),
                "report": plain if isinstance(plain, dict) else {"report": plain},
            })
        except ImportError as exc:
            job = job.model_copy(update={
                "status": "failed", "finished_at": _now(),
                "error": f"the ingest pipeline is not available in this installation ({exc})"})
        except CoopGraphError as exc:
            job = job.model_copy(update={"status": "failed", "finished_at": _now(),
                                         "error": str(exc)})
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
