"""Concurrent load on the local front door and its reconciliation with DynamoDB (#17).

Writers POST signed webhooks — GitHub `push` (X-Hub-Signature-256, a unique X-GitHub-Delivery) and
PagerDuty v3 `incident.resolved` (X-PagerDuty-Signature v1, a unique `event.id`, PagerDuty's delivery
id) built from the real fixtures — and a share of deliberate replays: the exact bytes and headers of a
delivery some writer already had answered. Readers GET a dashboard and the service map. Every answer
is kept (status, body, seconds), then `reconcile` compares the answers with what DynamoDB holds:
each delivery answered "stored" has exactly one delivery marker, the signals it said it stored, one
audit record; a replay is answered "duplicate" and stores nothing; no delivery answered 2xx is lost.

Used by the `make test` smoke (tests/integration/test_ingest_load.py: a few seconds, correctness only)
and the benchmark (tests/bench/test_bench_ingest_load.py: 60 s, 1 vs 20 writers, timings judged).
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import real_fixture

# what the writers' payloads store: push.json has one commit, an incident event is one incident signal
KINDS = {"github": "commit", "pagerduty": "incident"}
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LoadTenant:
    tenant_id: str
    secrets: dict[str, str]  # source -> webhook secret
    reader_token: str


@dataclass(frozen=True)
class Delivery:
    source: str
    delivery_id: str
    tenant_id: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    kind: str  # "write" / "replay" / "read"
    delivery: Delivery | None
    status: int  # 0: no HTTP answer (timeout, connection refused)
    body: Any
    seconds: float
    started: float


@dataclass
class LoadResult:
    writers: int
    readers: int
    duration_s: float
    answers: list[Answer] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Answer]:
        return [a for a in self.answers if a.kind in kinds]

    def errors(self) -> list[Answer]:
        """Answers that are not what the request should get: a write not 200 stored / 202 duplicate
        (or ignored), a read not 200."""
        ok = {"write": (200, 202), "replay": (202,), "read": (200,)}
        return [a for a in self.answers if a.status not in ok[a.kind]]

    def figures(self, prefix: str = "") -> dict[str, float | int | str]:
        posts = self.of("write", "replay")
        answered = [a for a in posts if a.status in (200, 202)]
        reads = self.of("read")
        return {
            f"{prefix}posts": len(posts),
            f"{prefix}posts_per_s": round(len(answered) / self.duration_s, 2),
            f"{prefix}stored": sum(1 for a in posts if a.status == 200),
            f"{prefix}replays": len(self.of("replay")),
            f"{prefix}post_p50_s": round(percentile([a.seconds for a in posts], 50), 3),
            f"{prefix}post_p95_s": round(percentile([a.seconds for a in posts], 95), 3),
            f"{prefix}reads": len(reads),
            f"{prefix}read_p95_s": round(percentile([a.seconds for a in reads], 95), 3),
            f"{prefix}errors": len(self.errors()),
            f"{prefix}error_codes": self.error_codes(),
        }

    def error_codes(self) -> str:
        """The errors by status and `code`, e.g. "409 audit_contention x17" ("" without errors)."""
        codes = Counter(
            f"{a.status} {a.body.get('code') if isinstance(a.body, dict) else 'no_answer'}"
            for a in self.errors()
        )
        return ", ".join(f"{k} x{n}" for k, n in codes.most_common())


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile (0 when there are no values)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# ------------------------------------------------------------------------------------ payloads


def _hmac(secret: str, body: bytes) -> str:
    from companyos.sources.base import hmac_sha256_hex

    return hmac_sha256_hex(secret, body)


def github_push(tenant: LoadTenant) -> Delivery:
    """The real push fixture, as GitHub redelivers it: same body, a new delivery GUID."""
    body = real_fixture("github/push.json")
    delivery_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/load",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": "sha256=" + _hmac(tenant.secrets["github"], body),
    }
    return Delivery("github", delivery_id, tenant.tenant_id, body, headers)


def pagerduty_incident(tenant: LoadTenant) -> Delivery:
    """The real incident.resolved event with a new event id (PagerDuty's id of the delivery)."""
    doc = json.loads(real_fixture("pagerduty/incident.resolved.json"))
    doc["event"]["id"] = delivery_id = uuid.uuid4().hex[:26].upper()
    body = json.dumps(doc).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PagerDuty-Signature": "v1=" + _hmac(tenant.secrets["pagerduty"], body),
    }
    return Delivery("pagerduty", delivery_id, tenant.tenant_id, body, headers)


# ------------------------------------------------------------------------------------ load


def _call(url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except OSError as err:  # timeout, refused, reset: no answer at all
        return 0, repr(err)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:200]


class _Load:
    def __init__(self, base: str, tenants: list[LoadTenant], deadline: float, replay_share: float) -> None:
        self.base, self.tenants, self.deadline, self.replay_share = base, tenants, deadline, replay_share
        self.answers: list[Answer] = []
        self.answered: list[Delivery] = []  # deliveries some writer has an answer for (replayable)
        self.lock = threading.Lock()

    def _keep(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)
            if answer.kind == "write" and answer.status in (200, 202) and answer.delivery:
                self.answered.append(answer.delivery)

    def _post(self, kind: str, d: Delivery) -> None:
        url = f"{self.base}/api/ingest/{d.source}?tenant={d.tenant_id}"
        started = time.monotonic()
        status, body = _call(url, d.body, d.headers)
        self._keep(Answer(kind, d, status, body, time.monotonic() - started, started))

    def writer(self, index: int) -> None:
        rng = random.Random(index)
        tenant = self.tenants[index % len(self.tenants)]
        every = max(1, round(1 / self.replay_share)) if self.replay_share else 0
        n = 0
        while time.monotonic() < self.deadline:
            with self.lock:
                pool = list(self.answered)
            n += 1
            if pool and every and n % every == 0:  # any writer's answered delivery, sent again
                self._post("replay", rng.choice(pool))
            else:
                make = github_push if (n + index) % 2 == 0 else pagerduty_incident
                self._post("write", make(tenant))

    def reader(self, index: int) -> None:
        tenant = self.tenants[index % len(self.tenants)]
        paths = [
            f"/api/dashboards/cto?tenant={tenant.tenant_id}&period=7d",
            f"/api/drill/services?tenant={tenant.tenant_id}&period=90d",
        ]
        headers = {"Authorization": f"Bearer {tenant.reader_token}"}
        n = index
        while time.monotonic() < self.deadline:
            started = time.monotonic()
            status, body = _call(self.base + paths[n % len(paths)], None, headers)
            self._keep(Answer("read", None, status, body, time.monotonic() - started, started))
            n += 1


def run_load(
    base: str,
    tenants: list[LoadTenant],
    *,
    writers: int,
    readers: int,
    duration_s: float,
    replay_share: float = 0.2,
) -> LoadResult:
    """`writers` + `readers` threads against the front door for `duration_s` (a request running at
    the deadline is waited for and counted)."""
    started = time.monotonic()
    load = _Load(base, tenants, started + duration_s, replay_share)
    threads = [threading.Thread(target=load.writer, args=(i,), daemon=True) for i in range(writers)]
    threads += [threading.Thread(target=load.reader, args=(i,), daemon=True) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration_s + 2 * TIMEOUT_S)
    elapsed = max(duration_s, max((a.started + a.seconds for a in load.answers), default=0) - started)
    return LoadResult(writers, readers, elapsed, sorted(load.answers, key=lambda a: a.started))


# ------------------------------------------------------------------------------------ reconciliation


def stored_markers(tenant_id: str) -> Counter[str]:
    """Delivery markers in the signals table (`<tenant>#delivery`, sk `<source>#<delivery id>`),
    counted per `<source>#<delivery id>`."""
    from companyos.adapters.models import SignalItem

    return Counter(str(i.sk) for i in SignalItem.query(f"{tenant_id}#delivery"))


def stored_signals(tenant_id: str) -> Counter[str]:
    """Signal items of the writers' kinds, counted per `<source>#<delivery id>`."""
    from companyos.adapters.models import SignalItem

    found: Counter[str] = Counter()
    for kind in set(KINDS.values()):
        for i in SignalItem.query(f"{tenant_id}#{kind}"):
            found[f"{i.source}#{i.delivery_id}"] += 1
    return found


def audit_records(tenant_id: str) -> Counter[str]:
    """Audit records of stored webhook deliveries, counted per `<source>#<delivery id>`: every
    `signals.ingest` event of the tenant's trail, sealed into the chain or still pending sealing
    (#17: the record commits in the delivery's own transaction; the sealer chains it later), each
    with actor `webhook:<source>` and target = the delivery id."""
    from companyos.adapters.audit import AuditTrail

    found: Counter[str] = Counter()
    for event in AuditTrail(tenant_id).events():
        if event.get("action") == "signals.ingest":
            found[f"{str(event.get('actor', '')).removeprefix('webhook:')}#{event.get('target')}"] += 1
    return found


@dataclass(frozen=True)
class Reconciliation:
    stored_answers: int  # deliveries answered 200 "stored"
    twice_stored: list[str]  # deliveries answered "stored" more than once
    lost: list[str]  # answered "stored" (or duplicate of it) but no marker
    signal_mismatch: list[str]  # marker count or signal count differs from the stored answer
    audit_mismatch: list[str]  # not exactly one audit record per stored delivery (or one for another)
    replays_not_duplicate: list[str]  # a replay answered anything but 202 duplicate
    unanswered_stored: list[str]  # stored although every POST of it failed (a 5xx / 409 after the write)

    @property
    def ok(self) -> bool:
        return not (
            self.twice_stored
            or self.lost
            or self.signal_mismatch
            or self.audit_mismatch
            or self.replays_not_duplicate
            or self.unanswered_stored
        )

    def figures(self) -> dict[str, int]:
        return {
            "stored_answers": self.stored_answers,
            "twice_stored": len(self.twice_stored),
            "lost": len(self.lost),
            "signal_mismatch": len(self.signal_mismatch),
            "audit_mismatch": len(self.audit_mismatch),
            "replays_not_duplicate": len(self.replays_not_duplicate),
            "stored_without_answer": len(self.unanswered_stored),
        }


def reconcile(result: LoadResult, tenant_ids: Iterable[str]) -> Reconciliation:
    """The answers against DynamoDB (the tenants are the load's own: nothing else writes to them)."""
    markers: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    audits: Counter[str] = Counter()
    for t in tenant_ids:
        markers += stored_markers(t)
        signals += stored_signals(t)
        audits += audit_records(t)
    posts = result.of("write", "replay")
    key = {id(a): f"{a.delivery.source}#{a.delivery.delivery_id}" for a in posts if a.delivery}
    stored = Counter(key[id(a)] for a in posts if a.status == 200)
    said = {key[id(a)]: int((a.body or {}).get("signals", 0)) for a in posts if a.status == 200}
    answered = {key[id(a)] for a in posts if a.status in (200, 202)}
    posted = set(key.values())
    return Reconciliation(
        stored_answers=len(stored),
        twice_stored=sorted(k for k, n in stored.items() if n > 1),
        lost=sorted(k for k in answered if markers[k] != 1),
        signal_mismatch=sorted(k for k in stored if markers[k] != 1 or signals[k] != said[k]),
        audit_mismatch=sorted(k for k in posted | set(audits) if audits[k] != (1 if markers[k] else 0)),
        replays_not_duplicate=sorted(
            key[id(a)]
            for a in result.of("replay")
            if a.status != 202 or (a.body or {}).get("status") != "duplicate"
        ),
        unanswered_stored=sorted(k for k in posted - answered if markers[k]),
    )


# ------------------------------------------------------------------------------------ set-up


def load_tenant(local: Any, tenant_id: str) -> LoadTenant:
    """A tenant of its own for a load (its CTO reads), with GitHub and PagerDuty webhook secrets."""
    from tests.integration.conftest import make_tenant

    t = make_tenant(local, tenant_id, f"Load {tenant_id}")
    pagerduty = uuid.uuid4().hex
    local.stack.put_webhook_secret(tenant_id, "pagerduty", pagerduty)
    return LoadTenant(tenant_id, {"github": t.secret, "pagerduty": pagerduty}, t.cto_token)


def warm_up(base: str, tenant: LoadTenant, writers: int, readers: int) -> None:
    """As many requests at once as the load will make, once, not measured: each writer's and
    reader's execution environment of the front door is cold-started before the clock runs."""
    load = _Load(base, [tenant], time.monotonic() + TIMEOUT_S, 0.0)
    jobs = [
        lambda i=i: load._post("write", (github_push, pagerduty_incident)[i % 2](tenant))
        for i in range(writers)
    ]
    jobs += [
        lambda: _call(
            f"{base}/api/drill/services?tenant={tenant.tenant_id}&period=7d",
            None,
            {"Authorization": f"Bearer {tenant.reader_token}"},
        )
    ] * readers
    threads = [threading.Thread(target=job, daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * TIMEOUT_S)


def settle(local: Any, timeout_s: float = 600.0) -> int:
    """Wait until no KPI run execution (the ones the stored deliveries started) is running; how many
    ran in all."""
    import boto3

    sfn = boto3.client("stepfunctions")
    arn = local.stack.state_machines["kpi_run"]
    deadline = time.monotonic() + timeout_s
    while sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)["executions"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"KPI runs still running after {timeout_s:.0f}s")
        time.sleep(0.5)
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
    return sum(len(p["executions"]) for p in pages)
