"""Webhook ingestion logic: size limit → signature → decode → parse → map → store once → start runs.

Report uploads (Trivy, Snyk, Gitleaks) are snapshots: their findings are compared with the stored
finding state (`plan_report`) and only the transitions (opened / reopened / fixed) become signals.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from companyos.adapters import idempotency
from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.repos import Catalog, FindingState, SignalStore, StateWrite, StoredSignal
from companyos.domain import clock
from companyos.domain.errors import MalformedBody, NotFound, PayloadTooLarge
from companyos.ingest_runs import RunStarter
from companyos.ingest_runs import start_event_runs as _start_event_runs
from companyos.runs import product_rollup
from companyos.sources import registry, shape
from companyos.sources.base import ParsedDelivery, ReportSnapshot, Signal, Source, WebhookRequest

SecretsLookup = Callable[[str, str], Sequence[str]]  # (tenant, source) -> active secrets
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    status: str  # stored / duplicate / ignored
    delivery_id: str
    event: str
    signals: int
    unmapped: list[str]
    reason: str | None = None
    runs_started: list[str] | None = None
    report: dict[str, Any] | None = None  # report uploads: opened / reopened / fixed / open counts

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _signal_id(source: str, delivery_id: str, s: Signal, index: int) -> str:
    """Deterministic: a fact's from the source's own id of it (any delivery of it is the same
    signal), any other signal's from its delivery and place in it."""
    ident = (
        f"{source}|fact|{s.kind}|{s.entity}|{s.key}" if s.fact else f"{source}|{delivery_id}|{s.key}|{index}"
    )
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def _tenant_exists(tenant_id: str) -> bool:
    try:
        Catalog().get_tenant(tenant_id)
    except NotFound:
        return False
    return True


def ingest(
    tenant_id: str,
    source_name: str,
    request: WebhookRequest,
    *,
    max_bytes: int,
    secrets: SecretsLookup,
    start_run: RunStarter,
) -> IngestResult:
    if len(request.body) > max_bytes:
        raise PayloadTooLarge(f"body of {len(request.body)} bytes exceeds the {max_bytes}-byte limit")
    source = registry.get(source_name)
    # An unknown tenant has no secret: its answer is the wrong-signature 401, word for word, so the
    # public endpoint does not tell which tenant ids exist (and no secret is looked up for it).
    active = secrets(tenant_id, source_name) if _tenant_exists(tenant_id) else []
    source.verify(request, active)  # over the bytes as sent (maybe gzip)
    # a source may accept more once inflated (coverage reports: XML compresses ~10x)
    inflated = max(max_bytes, getattr(source, "max_decoded_bytes", 0))
    parsed = shape.parse(source, decode_body(request, inflated), clock.now())
    if parsed.snapshot is None and not parsed.signals:
        return IngestResult("ignored", parsed.delivery_id, parsed.event, 0, [], parsed.ignored_reason)
    delivery = {"tenant_id": tenant_id, "source": source_name, "delivery_id": parsed.delivery_id}
    try:
        answer = _store_once()(delivery=delivery, source=source, parsed=parsed, start_run=start_run)
    except idempotency.AlreadyInProgress:  # the same delivery right now: the delivery marker decides
        answer = _store(delivery=delivery, source=source, parsed=parsed, start_run=start_run)
    return IngestResult(**answer)


def answer_verification(
    tenant_id: str, source_name: str, request: WebhookRequest, *, secrets: SecretsLookup
) -> dict[str, str]:
    """A sender's one-time endpoint verification (Okta event hooks: a GET with a challenge header),
    authenticated exactly like a delivery; nothing is read from a body and nothing is stored."""
    source = registry.get(source_name)
    answer = getattr(source, "answer_verification", None)
    if answer is None:
        raise NotFound(
            f"source {source_name!r} has no verification handshake: deliveries are POSTed",
            code="no_verification_handshake",
        )
    active = secrets(tenant_id, source_name) if _tenant_exists(tenant_id) else []
    source.verify(WebhookRequest(request.headers, b""), active)
    result: dict[str, str] = answer(request)
    return result


# A delivery is the same delivery when (tenant, source, delivery id) are: the sender's id (GitHub's
# X-GitHub-Delivery, X-CompanyOS-Delivery) or the parser's digest of the body. Only signed, parsed
# deliveries get here. A replay answers "duplicate" from the first answer (Powertools Idempotency);
# the delivery marker written in the same transaction as the signals stays what makes the write
# happen once (a replay after the record expired, a crash between the write and the record).
_ONCE_KEY = "[tenant_id, source, delivery_id]"
_ONCE_FOR_S = 86400


def _replayed(response: Any, idempotent_data: Any) -> Any:
    """A replay of a stored delivery answers "duplicate" (as the delivery marker would), from the
    first answer; an ignored (stale report) or duplicate answer is answered again as it was."""
    if not isinstance(response, dict) or response.get("status") != "stored":
        return response
    return _duplicate_answer(response["delivery_id"], response["event"], list(response.get("unmapped") or []))


_ONCE_CONFIG = idempotency.config(_ONCE_KEY, expires_after_s=_ONCE_FOR_S, on_replay=_replayed)


def bind_invocation(context: Any) -> None:
    """The Lambda context of the running invocation: an interrupted ingest's in-progress record
    expires with the invocation, so the sender's retry is not refused as "already in progress"."""
    _ONCE_CONFIG.register_lambda_context(context)


@cache
def _store_once() -> Callable[..., dict[str, Any]]:
    """`_store`, once per delivery (built on first use: the persistence layer reads the settings)."""
    once: Callable[..., dict[str, Any]] = idempotency.idempotent_function(
        _store,
        data_keyword_argument="delivery",
        config=_ONCE_CONFIG,
        persistence_store=idempotency.persistence("ingest"),
    )
    return once


def _store(
    *, delivery: dict[str, str], source: Source, parsed: ParsedDelivery, start_run: RunStarter
) -> dict[str, Any]:
    """Map, store the delivery once with its audit record, start the runs; the answer as a dict."""
    tenant_id, source_name = delivery["tenant_id"], delivery["source"]
    mapping = Catalog().tenant(tenant_id).source_map(source_name)
    store = SignalStore(tenant_id)
    report: dict[str, Any] | None = None
    writes: list[StateWrite] = []
    if parsed.snapshot is not None:
        if store.delivery_seen(source_name, parsed.delivery_id):
            snap = parsed.snapshot  # its transitions are the finding states this delivery changed
            states = store.finding_states(snap.scanner, snap.scopes)
            kinds = {st.kind for st in states if st.changed_by == parsed.delivery_id}
            unmapped_scopes = sorted(set(snap.scopes) - set(mapping))
            return _stored_before(tenant_id, source_name, parsed, kinds, unmapped_scopes, start_run)
        current = store.finding_states(parsed.snapshot.scanner, parsed.snapshot.scopes)
        plan = plan_report(parsed.snapshot, parsed.signals, current, parsed.delivery_id, mapping)
        if plan.stale_reason:
            stale = IngestResult("ignored", parsed.delivery_id, parsed.event, 0, [], plan.stale_reason)
            return stale.to_dict()
        signals, writes, report = plan.signals, plan.writes, plan.counts
        unmapped_entities = set(parsed.snapshot.scopes)
    else:
        signals = parsed.signals
        unmapped_entities = {s.entity for s in signals if s.entity}
    stored = [
        _stored(source_name, parsed.delivery_id, s, i if parsed.snapshot is None else 0, mapping)
        for i, s in enumerate(signals)
    ]
    unmapped = sorted(e for e in unmapped_entities if e not in mapping)
    record = AuditTrail(tenant_id).record(
        AuditEvent(
            actor=f"webhook:{source_name}",
            role="source",
            action="signals.ingest",
            target=parsed.delivery_id,
            details={"event": parsed.event, "signals": len(stored), "unmapped": unmapped}
            | ({"report": report} if report else {}),
        )
    )
    # the audit record commits in the delivery's (last) transaction: both are stored, or neither (#17)
    if not store.put_delivery_chunked(
        source_name, parsed.delivery_id, stored, source.retention_days, writes, audit=record
    ):
        return _stored_before(tenant_id, source_name, parsed, {s.kind for s in stored}, unmapped, start_run)
    live = clock.now() - timedelta(days=product_rollup.GRACE_DAYS)  # not a backfill of history
    if any(s.kind in product_rollup.ACTIVITY_KINDS and s.occurred_at >= live for s in stored):
        _roll_up_product(tenant_id)
    runs = _start_event_runs(tenant_id, source_name, parsed.delivery_id, {s.kind for s in stored}, start_run)
    return IngestResult(
        "stored", parsed.delivery_id, parsed.event, len(stored), unmapped, runs_started=runs, report=report
    ).to_dict()


def _stored_before(
    tenant_id: str,
    source_name: str,
    parsed: ParsedDelivery,
    kinds: set[str],
    unmapped: list[str],
    start_run: RunStarter,
) -> dict[str, Any]:
    """A delivery already stored answers "duplicate" — and (re)starts its event runs: the sender's
    retry after a failure past the write (Step Functions refused the run, the answer was lost) must
    not leave the delivery stored but never computed. The run's execution name is the delivery's,
    so a run that did start is not started twice."""
    # the window of the delivery's first receipt: a run that did start is that window's, not repeated
    received = SignalStore(tenant_id).delivery_received_at(source_name, parsed.delivery_id)
    runs = _start_event_runs(tenant_id, source_name, parsed.delivery_id, kinds, start_run, at=received)
    return replace(_duplicate(parsed, unmapped), runs_started=runs or None).to_dict()


def _roll_up_product(tenant_id: str) -> None:
    """The first live analytics delivery of a UTC day rolls up the complete days (`product_daily`). The
    delivery is stored already: a failed roll-up is logged and retried by the next delivery."""
    try:
        product_rollup.roll_up(tenant_id)
    except Exception:  # the stored delivery must not turn into a retried 500
        logger.exception("product rollup failed", extra={"tenant_id": tenant_id})


def _duplicate(parsed: ParsedDelivery, unmapped: list[str]) -> IngestResult:
    return IngestResult(**_duplicate_answer(parsed.delivery_id, parsed.event, unmapped))


def _duplicate_answer(delivery_id: str, event: str, unmapped: list[str]) -> dict[str, Any]:
    return IngestResult(
        "duplicate", delivery_id, event, 0, unmapped, "this delivery was already ingested"
    ).to_dict()


def _stored(
    source: str, delivery_id: str, s: Signal, index: int, mapping: dict[str, dict[str, str]]
) -> StoredSignal:
    target = mapping.get(s.entity or "") or {}
    attributes = {**s.attributes, "domain": target.get("domain")}
    if s.entity and not target:
        attributes["unmapped"] = True  # kept and reported, never dropped
    return StoredSignal(
        kind=s.kind,
        source=source,
        signal_id=_signal_id(source, delivery_id, s, index),
        occurred_at=s.occurred_at,
        entity=s.entity,
        service=target.get("service"),
        delivery_id=delivery_id,
        attributes=attributes,
        fact=s.fact,
    )


def decode_body(request: WebhookRequest, max_bytes: int) -> WebhookRequest:
    """`Content-Encoding: gzip` (OPA sends its decision logs that way): inflate, still within the limit."""
    encoding = (request.header("Content-Encoding") or "identity").strip().lower()
    if encoding in ("", "identity"):
        return request
    if encoding not in ("gzip", "x-gzip"):
        raise MalformedBody(f"Content-Encoding '{encoding}' is not supported (gzip or identity)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(request.body, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedBody(f"the gzip body cannot be decompressed: {exc}") from exc
    if len(body) > max_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the decompressed body exceeds the {max_bytes}-byte limit")
    if not inflater.eof:
        raise MalformedBody("the gzip body is truncated")
    return WebhookRequest(request.headers, body)


# ---------------------------------------------------------------------------- report snapshots


@dataclass(frozen=True)
class ReportPlan:
    signals: list[Signal]
    writes: list[StateWrite]
    counts: dict[str, Any]
    stale_reason: str | None = None


def plan_report(
    snapshot: ReportSnapshot,
    findings: Sequence[Signal],
    current: Sequence[FindingState],
    delivery_id: str,
    mapping: dict[str, dict[str, str]],
) -> ReportPlan:
    """Compare a report snapshot with the stored finding state of its scopes (pure).

    A finding not seen before is `opened` (first_seen = the report's time); one that was fixed and is
    back is `reopened` (first_seen kept from the first report); an open finding the report no longer
    contains is `fixed` (fixed_at = the report's time). Unchanged findings write nothing, so the same
    findings uploaded again never count twice. State already changed by this very delivery (a retried
    upload that was cut off half-way) is left alone, so a replay only writes what is missing."""
    by_key = {(st.scope, st.key): st for st in current}
    newest = max((st.changed_at for st in current if st.changed_by != delivery_id), default=None)
    if newest is not None and snapshot.taken_at < newest:
        reason = f"report taken at {snapshot.taken_at.isoformat()} is older than the state it would replace"
        return ReportPlan([], [], {}, stale_reason=reason)
    plan = ReportPlan([], [], {"opened": 0, "reopened": 0, "fixed": 0, "unchanged": 0})
    present = _plan_reported(plan, snapshot, findings, by_key, delivery_id, mapping)
    _plan_fixed(plan, snapshot.taken_at, current, present, delivery_id)
    plan.counts.update(
        scanner=snapshot.scanner,
        scopes=list(snapshot.scopes),
        taken_at=snapshot.taken_at.isoformat(),
        findings=len(findings),
        open=len(_open_after(by_key, plan.writes)),
    )
    return plan


def _plan_reported(
    plan: ReportPlan,
    snapshot: ReportSnapshot,
    findings: Sequence[Signal],
    by_key: dict[tuple[str, str], FindingState],
    delivery_id: str,
    mapping: dict[str, dict[str, str]],
) -> set[tuple[str, str]]:
    """The report's findings: new ones `opened`, fixed ones back `reopened`, open ones unchanged.
    Returns the (scope, key) of every finding the report contains."""
    at = snapshot.taken_at
    present = set()
    for f in findings:
        scope = str(f.attributes["scope"])
        present.add((scope, f.key))
        st = by_key.get((scope, f.key))
        if st is not None and (st.status == "open" or st.changed_by == delivery_id):
            plan.counts["unchanged"] += 1
            continue
        transition = "opened" if st is None else "reopened"
        first_seen = at if st is None else st.first_seen
        state = FindingState(
            snapshot.scanner,
            scope,
            f.key,
            f.kind,
            "open",
            first_seen,
            at,
            delivery_id,
            service=(mapping.get(scope) or {}).get("service"),
            attributes=dict(f.attributes),
        )
        plan.writes.append(StateWrite(state, None if st is None else st.changed_by))
        attrs = {
            **f.attributes,
            "status": "open",
            "transition": transition,
            "first_seen": first_seen.isoformat(),
        }
        plan.signals.append(Signal(f.kind, at, f.entity, attrs, key=f"{f.key}:{transition}:{delivery_id}"))
        plan.counts[transition] += 1
    return present


def _plan_fixed(
    plan: ReportPlan,
    at: datetime,
    current: Sequence[FindingState],
    present: set[tuple[str, str]],
    delivery_id: str,
) -> None:
    """Open findings the report no longer contains become `fixed` at the report's time."""
    for st in current:
        if st.status != "open" or (st.scope, st.key) in present or st.changed_by == delivery_id:
            continue
        fixed = replace(st, status="fixed", changed_at=at, changed_by=delivery_id, fixed_at=at)
        plan.writes.append(StateWrite(fixed, st.changed_by))
        attrs = {
            **st.attributes,
            "status": "fixed",
            "transition": "fixed",
            "first_seen": st.first_seen.isoformat(),
            "fixed_at": at.isoformat(),
            "open_for_s": (at - st.first_seen).total_seconds(),
        }
        plan.signals.append(Signal(st.kind, at, st.scope, attrs, key=f"{st.key}:fixed:{delivery_id}"))
        plan.counts["fixed"] += 1


def _open_after(
    by_key: dict[tuple[str, str], FindingState], writes: Sequence[StateWrite]
) -> set[tuple[str, str]]:
    """The (scope, key) of the findings open once the writes are applied."""
    open_after = {k for k, st in by_key.items() if st.status == "open"} - {
        (w.state.scope, w.state.key) for w in writes if w.state.status == "fixed"
    }
    return open_after | {(w.state.scope, w.state.key) for w in writes if w.state.status == "open"}


def secrets_from_value(raw: str) -> list[str]:
    """A stored secret is a plain string or JSON {"secrets": [current, previous]} for rotation."""
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        return [raw]
    if isinstance(doc, dict) and isinstance(doc.get("secrets"), list):
        return [str(s) for s in doc["secrets"] if s]
    return [raw]
