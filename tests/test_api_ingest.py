"""``POST /ingest``: uploads, the size limit, the job's status and its rejects report."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest

from coopgraph.graph.schema import EntityKind
from coopgraph.graph.store import GraphStore
from tests.api_support import ApiCase, assert_problem, make_case

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> ApiCase:
    return make_case(store, tmp_path, seed=False, upload_limit=64 * 1024)


def _wait(api: ApiCase, job_id: str) -> dict[str, Any]:
    api.app.state.jobs.wait(timeout=120)
    deadline = time.monotonic() + 30
    while True:
        job = api.get(f"/ingest/{job_id}").json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def _upload(api: ApiCase, *files: tuple[str, bytes]) -> Any:
    return api.post("/ingest", files=[("files", (n, data, "text/csv")) for n, data in files])


def test_upload_loads_files_and_reports_rejects(api: ApiCase, store: GraphStore) -> None:
    companies = ("id,name,inn\n"
                 "a1,Альфа,4823006703\n"
                 "a2,Бета,7707083894\n").encode()
    clusters = b"id,name\nk1,Cluster\n"
    response = _upload(api, ("companies.csv", companies), ("clusters.csv", clusters))
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running", "done")
    assert job["files"] == ["companies.csv", "clusters.csv"]

    job = _wait(api, job["id"])
    assert job["status"] == "done", job
    assert job["ok"] is False and job["rejected"] == 1
    assert "rejects_dir" not in job["report"]
    assert store.exists(EntityKind.COMPANY, "a1") and store.exists(EntityKind.CLUSTER, "k1")
    assert not store.exists(EntityKind.COMPANY, "a2")

    rejects = api.get(f"/ingest/{job['id']}/rejects")
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(rejects.text)))
    assert len(rows) == 1 and rows[0]["column"] == "inn"
    assert "check digit" in rows[0]["reason"]


def test_sample_dataset_uploads_without_rejects(api: ApiCase, store: GraphStore) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(SAMPLE.glob("*.csv"))]
    api.app.state.settings.upload_limit = 10 << 20
    response = _upload(api, *files)
    assert response.status_code == 202, response.text
    job = _wait(api, response.json()["id"])
    assert job["status"] == "done" and job["ok"] is True and job["rejected"] == 0, job
    assert store.stats()["company"] > 0


def test_oversized_upload_is_413_with_the_limit(api: ApiCase) -> None:
    big = b"id,name\n" + b"x,y\n" * 20_000
    body = assert_problem(_upload(api, ("companies.csv", big)), 413, slug="upload-too-large")
    assert body["limit"] == 64 * 1024
    assert "65536 bytes" in body["detail"] and "COOPGRAPH_UPLOAD_LIMIT" in body["detail"]
    assert not any((api.app.state.jobs.jobs_dir).glob("*/input/*"))


def test_streamed_upload_past_the_limit_is_413(api: ApiCase) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 4096

    response = api.client.post(
        "/ingest", headers={**api.h("admin"),
                            "content-type": "multipart/form-data; boundary=zzz"},
        content=chunks())
    assert_problem(response, 413, slug="upload-too-large")


def test_upload_without_files_is_422(api: ApiCase) -> None:
    body = assert_problem(api.post("/ingest"), 422, slug="validation")
    assert body["errors"][0]["field"] == "files"


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "a/b/companies.csv"])
def test_uploaded_names_cannot_escape_the_job(api: ApiCase, name: str) -> None:
    response = _upload(api, (name, b"id,name\nq,Q\n"))
    assert response.status_code == 202, response.text
    job = response.json()
    assert "/" not in job["files"][0] and ".." not in job["files"][0]
    assert (api.app.state.jobs.jobs_dir / job["id"] / "input" / job["files"][0]).exists()
    _wait(api, job["id"])


def test_unknown_job_is_404(api: ApiCase) -> None:
    assert_problem(api.get("/ingest/0123456789ab"), 404, contains="0123456789ab")
    assert_problem(api.get("/ingest/0123456789ab/rejects"), 404)
    assert_problem(api.get("/ingest/..%2F..%2Fetc"), 404)
    assert_problem(api.get("/ingest/not-a-job"), 422)
