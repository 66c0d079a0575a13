"""Board-pack exports: synchronous under the threshold, else a Step Functions job that renders the
PDF into S3 and mails a time-limited link through SNS (docs/rollup.md).

Threshold: tenants in scope x appendix rows per tenant (`rows_per_tenant`) against
`Settings.board_pack_sync_max_rows`. The request is answered before any snapshot is read when it
goes async: the scope comes from the tenant index alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from companyos.adapters.aws import aws
from companyos.adapters.config import Settings
from companyos.adapters.inventory_repo import ExportJobs
from companyos.domain import clock
from companyos.domain.auth import Principal
from companyos.domain.errors import DomainError, NotFound
from companyos.reports import board_pack
from companyos.rollup.domains import rows_per_tenant
from companyos.rollup.executive import audit, executive, parse_period, resolve_scope

EXPORT_ACTION = "platform:export"
STATUS_PATH = "/api/platform/executive/exports/{job_id}"


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default="28d", description="7d | 28d | 90d | 365d | custom")
    start: date | None = None
    end: date | None = None
    purpose: str = Field(default="board pack", min_length=1, max_length=200)


@dataclass(frozen=True)
class PdfFile:
    filename: str
    body: bytes


class ExportUnavailable(DomainError):
    status = 503
    code = "export_unavailable"


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _rollup(
    principal: Principal, req: ExportRequest, s: Settings, home_region: str, request_id: str, now: datetime
) -> dict[str, Any]:
    return executive(
        principal,
        period=req.period,
        start=_iso(req.start),
        end=_iso(req.end),
        purpose=req.purpose,
        home_region=home_region,
        strict_residency=s.strict_residency,
        org_name=s.org_name,
        request_id=request_id,
        action=EXPORT_ACTION,
        now=now,
    )


def request_export(
    principal: Principal,
    req: ExportRequest,
    s: Settings,
    *,
    home_region: str,
    request_id: str = "",
    now: datetime | None = None,
) -> PdfFile | dict[str, Any]:
    """A PdfFile (sync) or the queued job (async: the caller answers 202)."""
    now = now or clock.now()
    scope = resolve_scope(principal, home_region, s.strict_residency)
    parse_period(req.period, _iso(req.start), _iso(req.end), now.date())
    rows = len(scope.tenants) * rows_per_tenant()
    if rows <= s.board_pack_sync_max_rows:
        rollup = _rollup(principal, req, s, home_region, request_id, now)
        body = board_pack.render(rollup, email=principal.email or principal.sub, exported_at=now)
        return PdfFile(board_pack.filename(now), body)
    if not (s.board_pack_state_machine_arn and s.reports_bucket and s.exports_topic_arn):
        raise ExportUnavailable("asynchronous exports are not configured in this deployment")
    jobs = ExportJobs()
    job_id = jobs.new_id()
    job = jobs.create(
        job_id,
        {
            "requested_by": {
                "sub": principal.sub,
                "email": principal.email,
                "memberships": dict(principal.memberships),
            },
            "request": req.model_dump(mode="json"),
            "home_region": home_region,
            "tenants": len(scope.tenants),
            "rows": rows,
            "threshold": s.board_pack_sync_max_rows,
        },
    )
    audit(
        principal,
        "platform:export_requested",
        req.purpose,
        scope,
        {"job_id": job_id, "rows": rows, "mode": "async"},
        request_id,
    )
    aws().sfn.start_execution(
        stateMachineArn=s.board_pack_state_machine_arn,
        name=job_id,
        input=json.dumps({"job_id": job_id, "topic_arn": s.exports_topic_arn}),
    )
    return job_view(job, s)


def job_view(job: dict[str, Any], s: Settings, *, with_link: bool = False) -> dict[str, Any]:
    view = {
        "job_id": job["job_id"],
        "status": job["status"],
        "created_at": job["created_at"],
        "updated_at": job.get("updated_at"),
        "tenants": job.get("tenants"),
        "rows": job.get("rows"),
        "filename": job.get("filename"),
        "status_url": STATUS_PATH.format(job_id=job["job_id"]),
        "error": job.get("error"),
        "download_url": None,
        "expires_at": None,
    }
    if with_link and job["status"] == "ready":
        view["download_url"], view["expires_at"] = presign(s, job["bucket"], job["key"], job["filename"])
    return view


def job_status(principal: Principal, job_id: str, s: Settings) -> dict[str, Any]:
    """Only the requester sees a job (anyone else gets the same 404 as for a missing job)."""
    job = ExportJobs().get(job_id)
    if job["requested_by"]["sub"] != principal.sub:
        raise NotFound(f"export job '{job_id}' does not exist", code="export_not_found")
    return job_view(job, s, with_link=True)


def presign(
    s: Settings, bucket: str, key: str, filename: str, now: datetime | None = None
) -> tuple[str, str]:
    now = now or clock.now()
    # SigV4 query signing: X-Amz-Expires caps the link's life (at most 7 days)
    url = aws().s3_presign.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
        ExpiresIn=s.export_link_ttl_s,
    )
    return url, (now + timedelta(seconds=s.export_link_ttl_s)).isoformat()


# ---------------------------------------------------------------- Step Functions steps


class StepEvent(BaseModel):
    """The board_pack state machine's task input."""

    step: Literal["render", "complete", "fail"]
    job_id: str = Field(min_length=1)
    error: Any = None


def run_step(e: StepEvent, s: Settings) -> dict[str, Any]:
    if e.step == "render":
        return render_job(e.job_id, s)
    if e.step == "complete":
        return complete_job(e.job_id)
    return fail_job(e.job_id, e.error)


def render_job(job_id: str, s: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Render the job's PDF under the requester's authority (as authorized at request time), store it
    in S3 and return the notice the state machine publishes."""
    now = now or clock.now()
    jobs = ExportJobs()
    job = jobs.update(job_id, status="running")
    who = job["requested_by"]
    principal = Principal(sub=who["sub"], email=who["email"], memberships=who["memberships"])
    req = ExportRequest.model_validate(job["request"])
    rollup = _rollup(principal, req, s, job["home_region"], job_id, now)
    body = board_pack.render(rollup, email=principal.email or principal.sub, exported_at=now)
    name = board_pack.filename(now)
    key = f"exports/{job_id}/{name}"
    aws().s3.put_object(
        Bucket=s.reports_bucket,
        Key=key,
        Body=body,
        ContentType="application/pdf",
        ContentDisposition=f'attachment; filename="{name}"',
        Metadata={"requested-by": principal.email, "job-id": job_id},
    )
    url, expires_at = presign(s, s.reports_bucket, key, name, now)
    jobs.update(
        job_id,
        status="rendered",
        bucket=s.reports_bucket,
        key=key,
        filename=name,
        bytes=len(body),
        exported_at=now.isoformat(),
    )
    return {
        "job_id": job_id,
        "recipient": principal.email,
        "subject": f"{s.org_name} executive board pack is ready",
        "message": (
            f"Your executive board pack ({name}, {len(rollup['scope']['tenants'])} tenants, period "
            f"{rollup['period']['start']} to {rollup['period']['end']}) is ready.\n\n"
            f"Download (link valid until {expires_at}):\n{url}\n\n"
            f"If the link no longer works, get a fresh one (sign-in required):\n"
            f"{s.cockpit_url}/rollup.html#/exports/{job_id}"
        ),
        "download_url": url,
        "expires_at": expires_at,
    }


def complete_job(job_id: str) -> dict[str, Any]:
    return ExportJobs().update(job_id, status="ready", notified_at=clock.now().isoformat())


def fail_job(job_id: str, error: Any) -> dict[str, Any]:
    cause = error.get("Cause") or error.get("Error") if isinstance(error, dict) else str(error)
    return ExportJobs().update(job_id, status="failed", error=str(cause)[:500])
