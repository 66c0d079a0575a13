"""Silences: list, create and expire (Alertmanager-style), audited. Who acts on alerts may silence
them (`alerts:ack`); everyone who sees alerts sees the silences (`alerts:view`). A silence is never
deleted: expiring it ends it now, so the audit trail and the inbox keep why alerts were muted."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts.context import audit
from companyos.domain.alert_silences import Silence, SilenceIn
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import Conflict, InvalidPayload


def _view(s: Silence, now: datetime) -> dict[str, Any]:
    return {**s.model_dump(mode="json"), "state": s.state_at(now)}


def list_silences(principal: Principal, tenant_id: str, now: datetime) -> dict[str, Any]:
    authorize(principal, "alerts:view", tenant_id)
    found = sorted(AlertRepo(tenant_id).silences(), key=lambda s: s.starts_at, reverse=True)
    return {"tenant": tenant_id, "silences": [_view(s, now) for s in found]}


def create(principal: Principal, tenant_id: str, body: SilenceIn, now: datetime) -> dict[str, Any]:
    role = authorize(principal, "alerts:ack", tenant_id)
    starts = body.starts_at or now
    if body.ends_at <= now:
        raise InvalidPayload(
            "ends_at is in the past: the silence would never apply",
            code="invalid_window",
            details={"path": "ends_at"},
        )
    try:
        silence = Silence(
            silence_id=secrets.token_hex(8),
            matchers=body.matchers,
            starts_at=starts,
            ends_at=body.ends_at,
            reason=body.reason,
            author=principal.email,
            created_at=now,
        )
    except ValueError as exc:  # the window (end before start, longer than the maximum)
        raise InvalidPayload(
            str(exc).splitlines()[-1], code="invalid_window", details={"path": "ends_at"}
        ) from exc
    AlertRepo(tenant_id).put_silence(silence)
    audit(
        tenant_id, principal.email, role, "alert.silence_created", None,
        reason=body.reason, silence_id=silence.silence_id, matchers=body.matchers,
        starts_at=starts.isoformat(), ends_at=body.ends_at.isoformat(),
    )  # fmt: skip
    return _view(silence, now)


def expire(principal: Principal, tenant_id: str, silence_id: str, now: datetime) -> dict[str, Any]:
    role = authorize(principal, "alerts:ack", tenant_id)
    repo = AlertRepo(tenant_id)
    silence = repo.silence(silence_id)  # 404 silence_not_found
    if silence.state_at(now) == "expired":
        raise Conflict(f"silence '{silence_id}' has expired already", code="silence_expired")
    ended = silence.model_copy(update={"expired_at": now, "expired_by": principal.email})
    repo.put_silence(ended)
    audit(tenant_id, principal.email, role, "alert.silence_expired", None, silence_id=silence_id)
    return _view(ended, now)
