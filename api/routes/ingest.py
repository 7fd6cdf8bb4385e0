"""``POST /ingest`` (multipart upload of one or more files), then the job's status and rejects.

Admins only start jobs (a file may carry any company's data); admins and
analysts read job reports. The upload size limit is ``COOPGRAPH_UPLOAD_LIMIT``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import Response

from coopgraph.api.deps import AdminDep, AnalystDep
from coopgraph.api.jobs import JOB_ID_PATTERN, JobRunner
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.schemas import IngestJob

__all__ = ["router"]

router = APIRouter(prefix="/ingest", tags=["ingest"],
                   responses={**PROBLEM_RESPONSES, 413: PROBLEM_RESPONSES[422] | {
                       "description": "Upload too large"}})

_JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN, description="The job's id")]


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


@router.post("", response_model=IngestJob, status_code=202)
def start_ingest(
    principal: AdminDep,
    request: Request,
    files: Annotated[list[UploadFile], File(description="CSV, XLSX, JSON or JSONL files")],
) -> IngestJob:
    """Upload files and load them in the background; poll the returned job."""
    return _runner(request).submit((f.filename, f.file) for f in files)


@router.get("/{job_id}", response_model=IngestJob)
def ingest_job(principal: AnalystDep, request: Request, job_id: _JobId) -> IngestJob:
    """The job's status and, once done, its report (counts per file, rejects, review pairs)."""
    return _runner(request).get(job_id)


@router.get("/{job_id}/rejects", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "Rejected rows"}})
def ingest_rejects(principal: AnalystDep, request: Request, job_id: _JobId) -> Response:
    """Every rejected row of the job as CSV: file, row, column, reason."""
    return Response(_runner(request).rejects_csv(job_id), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="rejects-{job_id}.csv"'})
