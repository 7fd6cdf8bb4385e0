"""``POST /ingest`` (multipart upload of one or more files), then the job's status and rejects.

Admins only start jobs (a file may carry any company's data); admins and
analysts read job reports. The upload size limit is ``COOPGRAPH_UPLOAD_LIMIT``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from coopgraph.api.deps import AdminDep, AnalystDep
from coopgraph.api.jobs import JOB_ID_PATTERN, JobRunner
from coopgraph.api.problems import PROBLEM_RESPONSES
from coopgraph.api.schemas import IngestJob
from coopgraph.graph.i18n import Lang, parse_lang

__all__ = ["router"]

router = APIRouter(prefix="/ingest", tags=["ingest"],
                   responses={**PROBLEM_RESPONSES, 413: PROBLEM_RESPONSES[422] | {
                       "description": "Upload too large"}})

_JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN, description="The job's id")]


_LangQuery = Annotated[str | None, Query(
    pattern="^(ru|en)$", description="The language of the reasons and warnings (ru or en); "
    "without it, the request's Accept-Language, else the report as stored (English)")]


def report_lang(request: Request, lang: str | None) -> Lang | None:
    """``?lang=``, else the first language of ``Accept-Language`` that CoopGraph speaks."""
    if lang:
        return parse_lang(lang)
    for part in request.headers.get("accept-language", "").split(","):
        found = parse_lang(part.split(";")[0].strip())
        if found is not None:
            return found
    return None


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
def ingest_job(principal: AnalystDep, request: Request, job_id: _JobId,
               lang: _LangQuery = None) -> IngestJob:
    """The job's status and, once done, its report (counts per file, rejects, review pairs).

    Every reject, merge or review note and warning has a stable ``code`` and ``params``;
    its ``reason`` (a warning's text) is said in ``lang`` / ``Accept-Language``."""
    job = _runner(request).get(job_id)
    chosen = report_lang(request, lang)
    if chosen is not None and job.error_code:
        from coopgraph.graph.messages import CATALOGUE, render_code

        if job.error_code in CATALOGUE:
            job = job.model_copy(update={"error": render_code(
                job.error_code, job.error_params or {}, chosen)})
    if chosen is None or job.report is None:
        return job
    from coopgraph.ingest.report import localize_json

    return job.model_copy(update={"report": localize_json(job.report, chosen)})


@router.get("/{job_id}/rejects", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "Rejected rows"}})
def ingest_rejects(principal: AnalystDep, request: Request, job_id: _JobId,
                   lang: _LangQuery = None) -> Response:
    """Every rejected row of the job as CSV: file, row, column, reason (in ``lang`` /
    ``Accept-Language``), code."""
    return Response(_runner(request).rejects_csv(job_id, report_lang(request, lang)),
                    media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="rejects-{job_id}.csv"'})
