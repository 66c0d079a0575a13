"""Threat logs: AWS WAF web ACL logs (Kinesis Data Firehose HTTP endpoint delivery, or NDJSON /
an array of log records) and GuardDuty findings (EventBridge "GuardDuty Finding" events, native
findings, `GetFindings` answers, and Security Hub ASFF findings produced by GuardDuty).

WAF: one `waf_request` signal per request a rule acted on (BLOCK, COUNT, CAPTCHA, CHALLENGE);
requests the web ACL allowed by default are not threats and would dominate the volume, so they are
counted in the answer, not stored. GuardDuty: one `threat_finding` signal per finding observation
(id + updatedAt): severity band from GuardDuty's numeric severity, sample findings flagged.
ASFF findings of other products (Prowler, Inspector, ...) are not threats here and are skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from companyos.domain.errors import InvalidPayload, MalformedBody
from companyos.sources.base import ParsedDelivery, Signal, WebhookRequest, content_id, require, short_hash
from companyos.sources.log_common import (
    API_KEY_HEADER,
    as_object,
    epoch_ms,
    json_records,
    log_time,
    text,
    verify_shared_secret,
)

FIREHOSE_KEY = "X-Amz-Firehose-Access-Key"
FIREHOSE_REQUEST_ID = "X-Amz-Firehose-Request-Id"


class _ThreatSource:
    retention_days = 400
    headers: tuple[str, ...] = (API_KEY_HEADER, "Authorization")

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_shared_secret(request, self.headers, secrets)


# ---------------------------------------------------------------------------- AWS WAF

WAF_ACTED = {"BLOCK", "COUNT", "CAPTCHA", "CHALLENGE"}


def firehose_records(doc: dict[str, Any]) -> list[Any]:
    """A Firehose HTTP endpoint request: `records[].data` is base64 of one or more log lines."""
    records = require(doc, "records")
    if not isinstance(records, list):
        raise InvalidPayload("field 'records' must be a list", details={"path": "records"})
    out: list[Any] = []
    for i, rec in enumerate(records):
        data = require(as_object(rec, f"records.{i}", "Firehose record"), "data")
        try:
            raw = base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedBody(f"records.{i}.data is not base64: {exc}") from exc
        for line in raw.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise MalformedBody(f"records.{i}.data is not a JSON log line: {exc}") from exc
    return out


def _rule_group(log: dict[str, Any]) -> str | None:
    for group in log.get("ruleGroupList") or []:
        if isinstance(group, dict) and group.get("terminatingRule"):
            return text(group.get("ruleGroupId"))
    return None


class AwsWafSource(_ThreatSource):
    name = "aws_waf"
    headers = (FIREHOSE_KEY, API_KEY_HEADER, "Authorization")

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = json_records(request.body)
        if isinstance(doc, dict) and "records" in doc:
            logs = firehose_records(doc)
            delivery_id = request.header(FIREHOSE_REQUEST_ID) or text(doc.get("requestId"))
        else:
            logs = doc if isinstance(doc, list) else [doc]
            delivery_id = None
        signals, allowed = [], 0
        for i, raw in enumerate(logs):
            log = as_object(raw, i, "WAF log record")
            action = str(require(log, "action")).upper()
            at = epoch_ms(log.get("timestamp"), f"{i}.timestamp")
            if action not in WAF_ACTED:
                allowed += 1
                continue
            req = log.get("httpRequest") or {}
            acl = str(require(log, "webaclId"))
            request_id = text(req.get("requestId"))
            attrs = {
                "action": action,
                "blocked": action != "COUNT",
                "webacl": acl.rsplit("/webacl/", 1)[-1].split("/", 1)[0],
                "webacl_id": acl,
                "rule": text(log.get("terminatingRuleId")),
                "rule_type": text(log.get("terminatingRuleType")),
                "rule_group": _rule_group(log),
                "client_ip": text(req.get("clientIp")),
                "country": text(req.get("country")),
                "method": text(req.get("httpMethod")),
                "uri": text(req.get("uri")),
                "labels": [lb.get("name") for lb in log.get("labels") or [] if isinstance(lb, dict)],
                "request_id": request_id,
            }
            key = short_hash(acl, log.get("timestamp"), request_id, req.get("clientIp"), req.get("uri"), i)
            signals.append(Signal("waf_request", at, None, attrs, key=key))
        delivery_id = (delivery_id or content_id(request.body))[:128]
        if not signals:
            reason = f"no request a rule acted on ({allowed} allowed by the web ACL)"
            return ParsedDelivery("waf_log", delivery_id, ignored_reason=reason)
        return ParsedDelivery("waf_log", delivery_id, signals)


# ---------------------------------------------------------------------------- GuardDuty


# GuardDuty's severity bands (a finding's severity, not a status): 9.0-10.0 critical, 7.0-8.9 high,
# 4.0-6.9 medium, 1.0-3.9 low
GUARDDUTY_BANDS = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.0, "low"))


def severity_band(score: float) -> str:
    return next(band for floor, band in GUARDDUTY_BANDS if score >= floor or floor == 0.0)


def _native(f: dict[str, Any], path: str) -> Signal:
    service = f.get("service") or {}
    info = service.get("additionalInfo")
    info = info if isinstance(info, dict) else {}
    score = require(f, "severity")
    if isinstance(score, bool) or not isinstance(score, int | float):
        where = f"{path}.severity".lstrip(".")
        raise InvalidPayload(f"field '{where}' must be a number", details={"path": where})
    updated = log_time(f.get("updatedAt"), f"{path}.updatedAt")
    finding_id = str(require(f, "id"))
    attrs = {
        "finding_id": finding_id,
        "product": "guardduty",
        "type": str(require(f, "type")),
        "severity_score": float(score),
        "severity": severity_band(float(score)),
        "title": text(f.get("title")),
        "resource_type": text((f.get("resource") or {}).get("resourceType")),
        "account": text(f.get("accountId")),
        "region": text(f.get("region")),
        "first_seen": log_time(f.get("createdAt"), f"{path}.createdAt").isoformat()
        if f.get("createdAt")
        else None,
        "count": service.get("count"),
        "archived": bool(service.get("archived")),
        "sample": bool(info.get("sample")),
        "action_type": text((service.get("action") or {}).get("actionType")),
    }
    return Signal("threat_finding", updated, None, attrs, key=f"{finding_id}:{updated.isoformat()}")


ASFF_LABELS = ("critical", "high", "medium", "low")


def _is_guardduty_asff(f: dict[str, Any]) -> bool:
    product = str(f.get("ProductArn") or "")
    return product.endswith("/aws/guardduty") or any(
        str(k).startswith("aws/guardduty/") for k in (f.get("ProductFields") or {})
    )


def _asff(f: dict[str, Any], path: str) -> Signal:
    fields = f.get("ProductFields") or {}
    sev = require(f, "Severity")
    product_score = sev.get("Product")
    label = str(sev.get("Label") or "").lower()
    score = float(product_score) if isinstance(product_score, int | float) else None
    updated = log_time(f.get("UpdatedAt"), f"{path}.UpdatedAt")
    finding_id = str(require(f, "Id"))
    types = [str(t) for t in f.get("Types") or []]
    attrs = {
        "finding_id": finding_id,
        "product": "guardduty",
        "type": fields.get("aws/guardduty/service/type") or (types[0].rsplit("/", 1)[-1] if types else None),
        "severity_score": score,
        # ASFF's Label is the finding's band (the docs sample has Product 2 with Label MEDIUM)
        "severity": label if label in ASFF_LABELS else severity_band(score) if score is not None else "low",
        "title": text(f.get("Title")),
        "resource_type": text(((f.get("Resources") or [{}])[0] or {}).get("Type")),
        "account": text(f.get("AwsAccountId")),
        "region": text(f.get("Region")),
        "first_seen": log_time(f.get("CreatedAt"), f"{path}.CreatedAt").isoformat()
        if f.get("CreatedAt")
        else None,
        "count": fields.get("aws/guardduty/service/count"),
        "archived": str(fields.get("aws/guardduty/service/archived", "false")).lower() == "true",
        "sample": str(fields.get("aws/guardduty/service/additionalInfo/sample", "false")).lower() == "true",
        "action_type": fields.get("aws/guardduty/service/action/actionType"),
    }
    return Signal("threat_finding", updated, None, attrs, key=f"{finding_id}:{updated.isoformat()}")


def guardduty_findings(doc: Any) -> tuple[list[Any], str]:
    """The findings of a body and their path: an EventBridge event (`detail`, or Security Hub's
    `detail.findings`), `{"findings": [...]}` (GetFindings), `{"Findings": [...]}` (ASFF batch),
    an array of findings or events, or one finding."""
    if isinstance(doc, list):  # an array, or NDJSON lines: each a finding or a wrapper of findings
        return [f for d in doc for f in (guardduty_findings(d)[0] if _wrapper(d) else [d])], ""
    if not isinstance(doc, dict):
        raise InvalidPayload("a GuardDuty body is a JSON object or array", details={"path": ""})
    if "detail-type" in doc:
        detail = as_object(require(doc, "detail"), "detail", "EventBridge detail")
        if isinstance(detail.get("findings"), list):
            return detail["findings"], "detail.findings"
        return [detail], "detail"
    for key in ("findings", "Findings"):
        if isinstance(doc.get(key), list):
            return doc[key], key
    return [doc], ""


def _wrapper(doc: Any) -> bool:
    return isinstance(doc, dict) and (
        "detail-type" in doc or isinstance(doc.get("findings"), list) or isinstance(doc.get("Findings"), list)
    )


class GuardDutySource(_ThreatSource):
    name = "guardduty"

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        findings, prefix = guardduty_findings(json_records(request.body))
        signals, skipped = [], 0
        for i, raw in enumerate(findings):
            path = f"{prefix}.{i}".lstrip(".")
            f = as_object(raw, path, "finding")
            if "SchemaVersion" in f:  # ASFF
                if not _is_guardduty_asff(f):
                    skipped += 1
                    continue
                signals.append(_asff(f, path))
            else:
                signals.append(_native(f, path))
        delivery_id = content_id(request.body)
        if not signals:
            reason = f"no GuardDuty findings ({skipped} findings of other products)"
            return ParsedDelivery("finding", delivery_id, ignored_reason=reason)
        return ParsedDelivery("finding", delivery_id, signals)
