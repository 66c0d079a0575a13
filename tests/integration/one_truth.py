"""What the consistency test (test_one_truth.py) reads and how it compares it.

`gather` reads, through the real HTTP API, what the users of the two demo tenants can see for every
period: each persona's dashboard (read by the demo user of that role), the score breakdown, the
drill-down of every KPI and every service those dashboards link to, the service map, the runs the
numbers cite as evidence, the platform roll-up and the board-pack PDF (its text, via pypdf). The
checks below are pure: they take that `World` and return findings, one line each
("tenant period page/panel/item: what"), so a failing test lists every contradiction at once.

Nothing here asks the product how to judge: bands come from the score floors written out below
(docs/health-model.md: 90 / 80 / 60 / 40, coverage caps at 80 % and 50 %), a KPI value is judged
against the dictionary's target and critical threshold (the pack is data, read with
`load_dictionary`), and every count is recounted from the items listed.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from tests.conftest import Client

PERIODS = ("7d", "28d", "90d", "365d")
BANDS = ("excellent", "healthy", "attention", "warning", "critical", "unknown")
LABELS = {b: b.capitalize() for b in BANDS}
GOOD = ("excellent", "healthy")
BAD = ("warning", "critical")
THREE_WAY = ("HEALTHY", "ATTENTION", "CRITICAL", "UNKNOWN")
PLATFORM_ADMIN = "platform@companyos.demo"
# persona → the role whose demo user reads it (a tenant without that user: any member who may)
PERSONA_ROLE = {"ceo": "ceo", "cto": "cto", "ciso": "ciso", "ops": "head_ops", "product": "head_product"}
# docs/health-model.md §5: lower-inclusive floors of the five bands
FLOORS = ((90.0, "excellent"), (80.0, "healthy"), (60.0, "attention"), (40.0, "warning"))
FULL_COVERAGE, MIN_COVERAGE = 0.8, 0.5  # partial (at most Attention) below 80 %, Unknown below 50 %
WORKERS = 3  # concurrent reads: the local front door is threaded, the machine is small
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
NOT_MEASURED = re.compile(
    r"\d{4}-\d{2}-\d{2}(T[\d:.]+)?([+-]\d{2}:\d{2}|Z)?"  # a date or a time
    r"|\bP[1-5]\b"  # an incident priority
    r"|\b(in the last|over|in) \d+ days\b|\(\d+d\)"  # the period itself
)
Q = "?tenant={t}&period={p}"


# ------------------------------------------------------------------------------ reading


@dataclass
class World:
    tenants: dict[str, str] = field(default_factory=dict)  # id -> name
    personas: dict[str, list[str]] = field(default_factory=dict)
    dashboards: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    breakdowns: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    kpi_drills: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    service_maps: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    service_drills: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (tenant, run id)
    rollups: dict[str, dict[str, Any]] = field(default_factory=dict)
    pdfs: dict[str, list[str]] = field(default_factory=dict)  # period -> text of each page
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    timings: list[tuple[float, str]] = field(default_factory=list)  # (seconds, path) of each read


def walk(doc: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict in a JSON document with its path (`panels[3].items[0]`)."""
    if isinstance(doc, dict):
        yield path, doc
        for k, v in doc.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from walk(v, f"{path}[{i}]")


def _drill_ids(docs: list[dict[str, Any]], kind: str) -> list[str]:
    return sorted(
        {
            str(d["drill"]["id"])
            for doc in docs
            for _, d in walk(doc)
            if isinstance(d.get("drill"), dict) and d["drill"].get("kind") == kind and d["drill"].get("id")
        }
    )


class Reader:
    """GETs as the demo users, a few at a time; a failed read is recorded in `world.errors`."""

    def __init__(self, client: Client, base: str, w: World) -> None:
        self.client, self.base, self.w = client, base, w
        self.tokens: dict[str, str] = {}
        self.lock = threading.Lock()

    def token(self, user: str) -> str:
        with self.lock:
            if user not in self.tokens:
                self.tokens[user] = self.client.login(user)
            self.w.requests += 1
            return self.tokens[user]

    def get(self, path: str, user: str) -> dict[str, Any] | None:
        bearer = self.token(user)
        started = time.monotonic()
        try:
            reply = self.client.request("GET", path, token=bearer)
        except OSError as err:  # a timeout: reported with the other errors, not a crash of the read
            self.w.errors.append(f"GET {path} as {user}: {err!r} after {time.monotonic() - started:.0f} s")
            return None
        self.w.timings.append((time.monotonic() - started, path))
        if reply.status != 200 or not isinstance(reply.body, dict):
            self.w.errors.append(f"GET {path} as {user}: {reply.status} {str(reply.body)[:200]}")
            return None
        return reply.body

    def all(self, jobs: dict[Any, tuple[str, str]]) -> dict[Any, dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = {k: pool.submit(self.get, path, user) for k, (path, user) in jobs.items()}
        return {k: doc for k, f in futures.items() if (doc := f.result()) is not None}

    def pdf(self, period: str) -> list[str] | None:
        import pypdf

        req = urllib.request.Request(
            self.base + "/api/platform/executive/exports",
            data=json.dumps({"period": period, "purpose": "one-truth consistency test"}).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token(PLATFORM_ADMIN)}",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                body = bytes(resp.read())
        except (urllib.error.HTTPError, OSError) as err:
            self.w.errors.append(f"POST board pack {period}: {err!r}")
            return None
        if not body.startswith(b"%PDF"):
            self.w.errors.append(f"POST board pack {period}: not a PDF: {body[:200]!r}")
            return None
        return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(body)).pages]


def _readers(r: Reader, demo_users: dict[str, list[tuple[str, str]]]) -> dict[tuple[str, str], str]:
    """(tenant, persona) → the demo user who reads it: the persona's own role where the tenant has
    that user, else the first member who may open it (`/api/me` lists the personas of a role)."""
    reader: dict[tuple[str, str], str] = {}
    for tenant, users in demo_users.items():
        for email, role in users:
            for t in (r.get("/api/me", email) or {}).get("tenants", []):
                if t["id"] != tenant:
                    continue
                r.w.tenants[tenant] = t["name"]
                for persona in t.get("personas", []):
                    if (tenant, persona) not in reader or PERSONA_ROLE.get(persona) == role:
                        reader[(tenant, persona)] = email
        r.w.personas[tenant] = sorted({p for (t, p) in reader if t == tenant})
    return reader


def _drill_jobs(w: World, any_user: dict[str, str]) -> dict[Any, tuple[str, str]]:
    """The drill-downs recompute their lower levels from the stored signals on every read (seconds
    each), so they are read for some periods, rotating through the four: each KPI's drill-down for
    one period, each service's for two, the service map for the 7-day window. The score breakdown
    (precomputed) is read for every period."""
    jobs: dict[Any, tuple[str, str]] = {}
    for t, user in any_user.items():
        mine = [d for (tt, _, _), d in w.dashboards.items() if tt == t]
        for i, kpi_id in enumerate(_drill_ids(mine, "kpi")):
            p = PERIODS[i % len(PERIODS)]
            jobs[("kpi", t, p, kpi_id)] = (f"/api/drill/kpi/{kpi_id}" + Q.format(t=t, p=p), user)
        for i, svc in enumerate(_drill_ids(mine, "service")):
            for p in (PERIODS[i % len(PERIODS)], PERIODS[(i + 2) % len(PERIODS)]):
                jobs[("service", t, p, svc)] = (f"/api/drill/service/{svc}" + Q.format(t=t, p=p), user)
        jobs[("services", t, "7d")] = ("/api/drill/services" + Q.format(t=t, p="7d"), user)
        for p in PERIODS:
            jobs[("breakdown", t, p)] = ("/api/scores/breakdown" + Q.format(t=t, p=p), user)
    return jobs


def gather(client: Client, base: str, demo_users: dict[str, list[tuple[str, str]]]) -> World:
    """Read everything (under 200 requests). `demo_users`: tenant → [(email, role)]."""
    w = World()
    r = Reader(client, base, w)
    reader = _readers(r, demo_users)
    w.dashboards = r.all(
        {
            (t, p, persona): (f"/api/dashboards/{persona}" + Q.format(t=t, p=p), reader[(t, persona)])
            for t in w.tenants
            for p in PERIODS
            for persona in w.personas[t]
        }
    )
    any_user = {t: reader[(t, w.personas[t][0])] for t in w.tenants}
    stores: dict[str, dict[Any, dict[str, Any]]] = {
        "breakdown": w.breakdowns,
        "services": w.service_maps,
        "kpi": w.kpi_drills,
        "service": w.service_drills,
    }
    for key, doc in r.all(_drill_jobs(w, any_user)).items():
        stores[key[0]][key[1:]] = doc
    cited = {
        (t, str(d["evidence"]["run_id"]))
        for (t, _, _), doc in [*w.dashboards.items(), *w.kpi_drills.items()]
        for _, d in walk(doc)
        if isinstance(d.get("evidence"), dict) and d["evidence"].get("run_id")
    }
    w.runs = r.all({(t, rid): (f"/api/runs/{rid}?tenant={t}", any_user[t]) for t, rid in sorted(cited)})
    w.rollups = r.all({p: (f"/api/platform/executive?period={p}", PLATFORM_ADMIN) for p in PERIODS})
    for p in PERIODS:
        if (pages := r.pdf(p)) is not None:
            w.pdfs[p] = pages
    return w


# ------------------------------------------------------------------------------ small rules


def is_num(v: Any) -> TypeGuard[float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def band_of(score: float | None) -> str:
    if score is None:
        return "unknown"
    return next((b for floor, b in FLOORS if score >= floor), "critical")


def capped(band: str, coverage: float | None) -> str:
    """docs/health-model.md, "coverage is part of the answer"."""
    if coverage is None:
        return band
    if coverage < MIN_COVERAGE - 1e-9:
        return "unknown"
    if coverage < FULL_COVERAGE - 1e-9 and band in GOOD:
        return "attention"
    return band


def shown_number(text: Any) -> tuple[float, float] | None:
    """The first number of a display text and half a unit of its last digit ("7.4%" → 7.4 ± 0.05)."""
    m = NUMBER.search(text) if isinstance(text, str) else None
    if not m:
        return None
    raw = m.group(0).replace(",", "")
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    return float(raw), 0.5 * 10**-decimals + 1e-9


def has_digit(text: Any) -> bool:
    """Whether a text shows a measured number (dates, priorities and the period do not count)."""
    return isinstance(text, str) and any(c.isdigit() for c in NOT_MEASURED.sub("", text))


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if is_num(v) else repr(v)


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _summary_text(panel: dict[str, Any]) -> str | None:
    summary = panel.get("summary")
    if isinstance(summary, dict):
        return " ".join(str(summary.get(k) or "") for k in ("label", "detail"))
    return summary if isinstance(summary, str) else None


# ------------------------------------------------------------------------------ appearances


@dataclass(frozen=True)
class Seen:
    where: str
    value: Any
    tol: float = 0.0  # absolute tolerance of a number read back from a display text


def _same(a: Seen, b: Seen) -> bool:
    if is_num(a.value) and is_num(b.value):
        return abs(a.value - b.value) <= max(a.tol, b.tol, 1e-6 * max(1.0, abs(a.value)))
    if isinstance(a.value, str) and isinstance(b.value, str):
        return a.value.lower() == b.value.lower()
    return bool(a.value == b.value)


class Facts:
    """Every appearance of one thing's field: (tenant, period, thing) → field → [Seen]."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], dict[str, list[Seen]]] = defaultdict(lambda: defaultdict(list))

    def add(self, key: tuple[str, str, str], field_: str, where: str, value: Any, tol: float = 0.0) -> None:
        seen = Seen(where, value, tol)
        if seen not in self.seen[key][field_]:
            self.seen[key][field_].append(seen)

    def contradictions(self) -> list[str]:
        out = []
        for (tenant, period, thing), fields in sorted(self.seen.items()):
            for f, seen in sorted(fields.items()):
                groups: list[list[Seen]] = []
                for s in seen:
                    group = next((g for g in groups if _same(g[0], s)), None)
                    if group is None:
                        groups.append([s])
                    else:
                        group.append(s)
                if len(groups) > 1:
                    shown = "; ".join(
                        f"{_fmt(g[0].value)} at " + ", ".join(x.where for x in g[:6]) + (" …" * (len(g) > 6))
                        for g in groups
                    )
                    out.append(f"{tenant} {period} {thing}: {f} differs: {shown}")
        return out


def kpi_of(obj: dict[str, Any]) -> str | None:
    """The KPI an object shows, when it shows a KPI's own value: it names the KPI (`kpi_id`, or a
    drill-down to the KPI) and no narrower entity (a per-service or per-severity row of a KPI breaks
    it down and has its own value)."""
    drill = _dict(obj.get("drill"))
    kpi_id = obj.get("kpi_id") or (drill.get("id") if drill.get("kind") == "kpi" else None)
    if not kpi_id or any(k in obj for k in ("service", "severity", "resource", "group", "cells")):
        return None
    return str(kpi_id) if obj.get("id") in (None, kpi_id, f"kpi:{kpi_id}") else None


def panel_objects(dash: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, panel, object) for every item of every panel and each panel's summary object."""
    persona = dash.get("persona")
    for panel in dash.get("panels") or []:
        for i, item in enumerate(panel.get("items") or []):
            if isinstance(item, dict):
                yield f"{persona}/{panel['id']}/{item.get('id', i)}", panel, item
        if isinstance(panel.get("summary"), dict):
            yield f"{persona}/{panel['id']}/summary", panel, panel["summary"]


def _kpi_seen(
    facts: Facts, t: str, p: str, kpi_id: str, where: str, obj: dict[str, Any], status: str
) -> None:
    key = (t, p, f"kpi:{kpi_id}")
    facts.add(key, "value", where, obj.get("value"))
    if status in obj:
        facts.add(key, "status", where, obj.get(status))
    if obj.get("level") is not None:
        facts.add(key, "level", where, obj["level"])
    if is_num(obj.get("value")) and (num := shown_number(obj.get("display"))):
        facts.add(key, "value", f"{where}.display {obj['display']!r}", num[0], num[1])


def _run_seen(facts: Facts, t: str, p: str, kpi_id: str, run: dict[str, Any]) -> None:
    rid = _dict(run.get("run")).get("run_id")
    delivery = _dict(run.get("delivery"))
    window = _dict(_dict(delivery.get("values")).get(p))
    facts.add((t, p, f"kpi:{kpi_id}"), "value", f"run {rid} delivery.values[{p}]", window.get("value"))
    verdict = delivery.get("verdict")
    if isinstance(verdict, str) and window.get("time_range") == delivery.get("time_range"):
        # the run's own verdict on the window it reports: a band, or a DORA performance level
        kind = "status" if verdict.lower() in BANDS else "level"
        facts.add((t, p, f"kpi:{kpi_id}"), kind, f"run {rid} delivery.verdict", verdict)


def _slo_rows_seen(
    facts: Facts, t: str, p: str, where: str, panel: dict[str, Any], obj: dict[str, Any]
) -> None:
    head = _dict(panel.get("summary")).get("kpi_id")
    svc = obj.get("service") or (obj.get("id") if head == "error_budget_burn_rate" else None)
    if not svc or head not in ("slo_attainment", "error_budget_burn_rate"):
        return
    key = (t, p, f"slo:{svc}")
    if head == "error_budget_burn_rate":
        facts.add(key, "burn_rate", where, obj.get("value"))
        return
    facts.add(key, "attainment", where, obj.get("value"))
    for k in ("budget_left", "burn_rate"):
        if k in obj:
            facts.add(key, k, where, obj.get(k))


def _open_incidents_seen(facts: Facts, t: str, p: str, dash: dict[str, Any]) -> None:
    key = (t, p, "open_incidents")
    for panel in dash.get("panels") or []:
        where = f"{dash.get('persona')}/{panel['id']}"
        summary = panel.get("summary")
        m = re.search(r"(\d+) open", summary) if isinstance(summary, str) else None
        if panel["id"] == "incidents" and m:
            facts.add(key, "value", f"{where}.summary {summary!r}", int(m.group(1)))
        for item in panel.get("items") or []:
            if isinstance(item, dict) and item.get("id") == "active_incidents":
                facts.add(key, "value", f"{where}/active_incidents", item.get("value"))


def _health_seen(facts: Facts, t: str, p: str, dash: dict[str, Any]) -> None:
    h = _dict(dash.get("health"))
    where = f"{dash.get('persona')}/health"
    for f, k in (("value", "score"), ("status", "status"), ("known_weight", "known_weight")):
        facts.add((t, p, "composite"), f, where, h.get(k))
        for d in h.get("dimensions") or []:
            facts.add((t, p, f"dimension:{d['id']}"), f, f"{where}.dimensions", d.get(k))


def _dashboard_seen(facts: Facts, w: World, t: str, p: str, dash: dict[str, Any]) -> None:
    _health_seen(facts, t, p, dash)
    for where, panel, obj in panel_objects(dash):
        if kpi_id := kpi_of(obj):
            _kpi_seen(facts, t, p, kpi_id, where, obj, "status")
            run = w.runs.get((t, str(_dict(obj.get("evidence")).get("run_id"))))
            if run and is_num(obj.get("value")):
                _run_seen(facts, t, p, kpi_id, run)
        drill = _dict(obj.get("drill"))
        dim_id = str(obj.get("id", "")).removeprefix("dimension:")
        if dim_id and drill.get("kind") == "score" and drill.get("id") == dim_id:
            facts.add((t, p, f"dimension:{dim_id}"), "value", where, obj.get("value"))
            facts.add((t, p, f"dimension:{dim_id}"), "status", where, obj.get("status"))
        if panel.get("kind") == "status" and drill.get("kind") == "service":
            facts.add((t, p, f"service:{drill['id']}"), "status", where, obj.get("status"))
        _slo_rows_seen(facts, t, p, where, panel, obj)
    for panel in dash.get("panels") or []:
        if panel.get("kind") == "distribution" and is_num(panel.get("nps")):
            facts.add(
                (t, p, "kpi:nps_score"), "value", f"{dash.get('persona')}/{panel['id']}.nps", panel["nps"]
            )
    _open_incidents_seen(facts, t, p, dash)


def _breakdown_seen(facts: Facts, t: str, p: str, bd: dict[str, Any]) -> None:
    tree = _dict(bd.get("breakdown"))
    comp = _dict(tree.get("composite"))
    nodes = [("composite", "score breakdown header", comp)] if comp else []
    nodes += [(f"dimension:{d['dimension']}", "score breakdown", d) for d in comp.get("dimensions") or []]
    for thing, where, node in nodes:
        facts.add((t, p, thing), "value", where, node.get("score"))
        facts.add((t, p, thing), "status", where, node.get("band"))
        facts.add((t, p, thing), "known_weight", where, node.get("known_weight"))
    for path, obj in walk(tree):
        if obj.get("kpi_id") and "band" in obj:
            _kpi_seen(facts, t, p, obj["kpi_id"], f"score breakdown {path}", obj, "band")


def _drills_seen(facts: Facts, w: World) -> None:
    for (t, p, kpi_id), doc in w.kpi_drills.items():
        if isinstance(doc.get("kpi"), dict):
            _kpi_seen(facts, t, p, kpi_id, f"drill/kpi/{kpi_id}", doc["kpi"], "status")
    for (t, p), doc in w.service_maps.items():
        for item in doc.get("items") or []:
            facts.add((t, p, f"service:{item.get('id')}"), "status", "drill/services", item.get("status"))
    for (t, p, svc), doc in w.service_drills.items():
        slo = _dict(doc.get("slo"))
        if slo.get("available"):
            for k in ("attainment", "budget_left", "burn_rate"):
                facts.add((t, p, f"slo:{svc}"), k, f"drill/service/{svc}.slo", slo.get(k))


def _rollup_seen(facts: Facts, w: World) -> None:
    for p, rollup in w.rollups.items():
        for where, t, kpi_id, cell, status in rollup_kpi_cells(rollup):
            key = (t, p, f"kpi:{kpi_id}")
            facts.add(key, "value", where, cell.get("value"))
            facts.add(key, "status", where, status)
            if is_num(cell.get("value")) and (num := shown_number(cell.get("display"))):
                facts.add(key, "value", f"{where}.display {cell['display']!r}", num[0], num[1])
        for where, t, kpi_id, shown, status in pdf_kpi_rows(rollup, w.pdfs.get(p) or []):
            key = (t, p, f"kpi:{kpi_id}")
            if shown is not None:
                facts.add(key, "value", where, shown[0], shown[1])
            if status is not None:
                facts.add(key, "status", where, status)


def collect(w: World) -> Facts:
    """Every appearance of every KPI, dimension, the composite, each service and each service's SLO."""
    facts = Facts()
    for (t, p, _), dash in w.dashboards.items():
        _dashboard_seen(facts, w, t, p, dash)
    for (t, p), bd in w.breakdowns.items():
        _breakdown_seen(facts, t, p, bd)
    _drills_seen(facts, w)
    _rollup_seen(facts, w)
    return facts


# ------------------------------------------------------------------------------ roll-up and PDF


def rollup_kpi_cells(rollup: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any], Any]]:
    """(where, tenant, kpi_id, cell, status shown beside its value) of every tenant card metric that
    is a KPI, and of each card's headline (its value is shown with the card's status)."""
    for d in rollup.get("domains") or []:
        for card in d.get("tenants") or []:
            t, metrics = card["tenant"]["id"], _dict(card.get("metrics"))
            for m_id, cell in metrics.items():
                if cell.get("kpi_id"):
                    yield f"rollup {d['id']}/{t}/{m_id}", t, cell["kpi_id"], cell, cell.get("status")
            head = _dict(metrics.get(card.get("headline")))
            if head.get("kpi_id"):
                shown = {"value": card.get("value"), "display": card.get("display")}
                # the headline value is shown with its own band; the card's verdict is its worst metric
                status = card.get("headline_status") or card.get("status")
                yield f"rollup {d['id']}/{t} card headline", t, head["kpi_id"], shown, status


def pdf_lines(pages: list[str]) -> list[list[str]]:
    return [[ln.strip() for ln in page.splitlines() if ln.strip()] for page in pages]


def _status_near(lines: list[str], start: int, span: int = 4) -> str | None:
    return next((ln for ln in lines[start : start + span] if ln.lower() in BANDS), None)


PdfRow = tuple[str, str, str, tuple[float, float] | None, str | None]


def _pdf_domain_rows(rollup: dict[str, Any], lines: list[list[str]]) -> Iterator[PdfRow]:
    """Each domain page's tenant rows (pypdf gives one table cell a line): the tenant's name, the
    card's verdict (its worst metric), then its headline value and that value's own status."""
    for d in rollup.get("domains") or []:
        page_no = next((i for i, page in enumerate(lines) if d["name"] in page), None)
        if page_no is None:
            continue
        page = lines[page_no]
        start = page.index("Tenants, worst first") if "Tenants, worst first" in page else 0
        for card in d.get("tenants") or []:
            head = _dict(_dict(card.get("metrics")).get(card.get("headline")))
            if not head.get("kpi_id"):
                continue
            t, name = card["tenant"]["id"], card["tenant"]["name"]
            where = f"PDF p{page_no + 1} {d['name']}/{name}"
            i = page.index(name, start) if name in page[start:] else None
            if i is None or i + 1 >= len(page):
                yield f"{where} (row not found)", t, head["kpi_id"], None, None
                continue
            # skip the card's verdict word: the headline value follows, then the value's own band
            j = i + 2 if page[i + 1].lower() in BANDS and i + 2 < len(page) else i + 1
            yield where, t, head["kpi_id"], shown_number(page[j]), _status_near(page, j + 1)


def _pdf_appendix_rows(rollup: dict[str, Any], lines: list[list[str]]) -> Iterator[PdfRow]:
    """The appendix rows: tenant, domain, metric, value, previous, change, status, snapshot."""
    flat = [ln for page in lines for ln in page]
    heads = [i for i, ln in enumerate(flat) if ln.startswith("Appendix")]
    appendix = flat[heads[0] :] if heads else []
    for d in rollup.get("domains") or []:
        names = {m["id"]: m["name"] for m in d.get("metrics") or []}
        for card in d.get("tenants") or []:
            t, tenant = card["tenant"]["id"], card["tenant"]["name"]
            for m_id, cell in _dict(card.get("metrics")).items():
                if not cell.get("kpi_id"):
                    continue
                cells = [tenant, d["name"], cell.get("label") or names.get(m_id, m_id)]
                where = f"PDF appendix {'/'.join(cells)}"
                row = next((i for i in range(len(appendix) - 3) if appendix[i : i + 3] == cells), None)
                if row is None:
                    yield f"{where} (row not found)", t, cell["kpi_id"], None, None
                    continue
                yield (
                    where,
                    t,
                    cell["kpi_id"],
                    shown_number(appendix[row + 3]),
                    _status_near(appendix, row + 4),
                )


def pdf_kpi_rows(rollup: dict[str, Any], pages: list[str]) -> Iterator[PdfRow]:
    """(where, tenant, kpi_id, number shown, status shown) of each KPI the board pack prints."""
    lines = pdf_lines(pages)
    yield from _pdf_domain_rows(rollup, lines)
    yield from _pdf_appendix_rows(rollup, lines)


# ------------------------------------------------------------------------------ merging findings

PAGE = re.compile(r"^(\S+ \S+) (ceo|cto|ciso|ops|product)/(.*)$", re.S)


def merge_personas(findings: list[str]) -> list[str]:
    """One line for a finding that several persona pages repeat (the same panel on the CTO and the
    Ops page): "northwind 7d cto+ops/platform/api: ..."."""
    merged: dict[tuple[str, str], list[str]] = {}
    plain = []
    for f in findings:
        if m := PAGE.match(f):
            merged.setdefault((m.group(1), m.group(3)), []).append(m.group(2))
        else:
            plain.append(f)
    out = [f"{head} {'+'.join(dict.fromkeys(ps))}/{rest}" for (head, rest), ps in merged.items()]
    return sorted(set(out + plain))


# ------------------------------------------------------------------------------ 1. one value, one band


def one_value_one_band(w: World) -> list[str]:
    """Each KPI / dimension / composite / service / service SLO shows one value, one band, one DORA
    level and one known weight everywhere it appears, and the run a tile cites is that KPI's."""
    out = collect(w).contradictions()
    for (t, p, _), dash in w.dashboards.items():
        for where, _, obj in panel_objects(dash):
            rid = _dict(obj.get("evidence")).get("run_id")
            cited = _dict(_dict(w.runs.get((t, str(rid)))).get("run"))
            if (kpi_id := kpi_of(obj)) and cited and cited.get("kpi_id") != kpi_id:
                out.append(f"{t} {p} {where}: cites run {rid} of KPI {cited.get('kpi_id')}")
    return merge_personas(out)


# ------------------------------------------------------------------------------ 2. vocabulary

STATUS_KEYS = ("status", "band")
# `status` fields that are not verdicts: a run's terminal status inside `evidence` (success / partial
# / failed: the run log's own vocabulary) and PagerDuty's state of an incident record in the service
# drill-down's raw incident list (triggered / acknowledged / resolved).
RAW_STATUS = (re.compile(r"(^|\.)evidence(\.|$)"), re.compile(r"^incidents\.items\[\d+\]$"))


def _vocabulary_in(doc: Any, where: str) -> list[str]:
    out = []
    for path, obj in walk(doc):
        raw = any(r.search(path) for r in RAW_STATUS)
        for k in STATUS_KEYS:
            if k in obj and not raw and obj[k] not in BANDS:
                out.append(f"{where} {path}.{k} = {obj[k]!r}: not one of {', '.join(BANDS)}")
        label = obj.get("label")
        if isinstance(label, str) and label.lower() in BANDS and label != LABELS[label.lower()]:
            out.append(f"{where} {path}.label = {label!r}: the label is {LABELS[label.lower()]!r}")
        out += [
            f"{where} {path}.{k} = {v!r}: a second (three-way) status vocabulary on a cockpit page"
            for k, v in obj.items()
            if k in ("three_way", "health_status") or (isinstance(v, str) and v in THREE_WAY)
        ]
    return out


def _pdf_vocabulary(p: str, pages: list[str]) -> list[str]:
    out = []
    for n, page in enumerate(pdf_lines(pages), 1):
        words = [ln for ln in page if ln.lower() in BANDS or ln in THREE_WAY]
        words += [m.group(1) for ln in page for m in re.finditer(r"status: (\w+)", ln)]
        wrong = sorted({x for x in words if x not in LABELS.values()})
        if wrong:
            counted = ", ".join(f"{x!r} x{words.count(x)}" for x in wrong)
            out.append(f"PDF {p} page {n}: status words that are not the six labels: {counted}")
    return out


def vocabulary(w: World) -> list[str]:
    """Every `status`/`band` field is a Band value, every band-word `label` the Band's label, no
    three-way status; every status word the PDF prints is one of the six labels."""
    docs: list[tuple[str, Any]] = [
        *((f"{t} {p} {persona}/", d) for (t, p, persona), d in w.dashboards.items()),
        *((f"{t} {p} score breakdown", d) for (t, p), d in w.breakdowns.items()),
        *((f"{t} {p} drill/kpi/{k}", d) for (t, p, k), d in w.kpi_drills.items()),
        *((f"{t} {p} drill/services", d) for (t, p), d in w.service_maps.items()),
        *((f"{t} {p} drill/service/{s}", d) for (t, p, s), d in w.service_drills.items()),
        *((f"rollup {p}", d) for p, d in w.rollups.items()),
    ]
    out = [f for where, doc in docs for f in _vocabulary_in(doc, where)]
    out += [f for p, pages in w.pdfs.items() for f in _pdf_vocabulary(p, pages)]
    return merge_personas(out)


# ------------------------------------------------------------------------------ 3. run ids


def _numbers_shown(obj: dict[str, Any]) -> list[str]:
    """What an object shows as numbers: a numeric `value` or `count`, else a `display` or table cell
    with a measured number in its text."""
    shown = [f"{k}={obj[k]:.6g}" for k in ("value", "count") if is_num(obj.get(k))]
    if not shown and has_digit(obj.get("display")):
        shown.append(f"display={obj['display']!r}")
    if not shown:
        shown = [f"cells.{k}={v!r}" for k, v in _dict(obj.get("cells")).items() if has_digit(v)][:1]
    return shown


def _run_id(ev: Any) -> str | None:
    return str(ev["run_id"]) if isinstance(ev, dict) and ev.get("run_id") else None


def _evidence_kind(ev: Any) -> str:
    if not isinstance(ev, dict):
        return "no evidence"
    srcs = ", ".join(str(s.get("object")) for s in ev.get("sources") or [] if isinstance(s, dict))
    return f"evidence type {ev.get('type')!r}" + (f" ({srcs})" if srcs else "")


def _unrun(where: str, obj: dict[str, Any], score_ok: bool = False) -> list[str]:
    shown, ev = _numbers_shown(obj), obj.get("evidence")
    if not shown or _run_id(ev) or (score_ok and _dict(ev).get("type") == "score"):
        return []
    return [f"{where}: shows {', '.join(shown)} with {_evidence_kind(ev)}, no run id"]


def _counts_cited(panel: dict[str, Any]) -> bool:
    """A summary that counts the panel's own rows (key risks: "13 risks from the 22 of 28 KPIs with
    data") citing the score breakdown, whose every row carries a run (or the breakdown) itself."""
    items = [i for i in panel.get("items") or [] if isinstance(i, dict)]
    cited = all(_run_id(i.get("evidence")) or _dict(i.get("evidence")).get("type") == "score" for i in items)
    return _dict(panel.get("evidence")).get("type") == "score" and cited


# The panels whose numbers no KPI run delivers yet, said plainly (docs/decisions.md "Why rows
# are delivered with runs"): OKR progress and the pending security reviews have no KPI in the
# health model; their rows cite the okr_progress / security_review signals they were folded from.
# Remove one from here when a KPI run delivers its rows.
NOT_FROM_RUNS = {
    "okrs": "no health-model KPI computes OKR progress yet",
    "reviews": "no health-model KPI measures the security review queue (docs/decisions.md #16, CISO)",
}


def _dashboard_run_ids(t: str, p: str, dash: dict[str, Any]) -> list[str]:
    out = [
        f
        for where, panel, obj in panel_objects(dash)
        if panel["id"] not in NOT_FROM_RUNS
        for f in _unrun(f"{t} {p} {where}", obj, True)
    ]
    for panel in dash.get("panels") or []:
        if panel["id"] in NOT_FROM_RUNS:
            continue
        text = _summary_text(panel)
        head = _dict(panel.get("summary")).get("evidence")
        if has_digit(text) and not (_run_id(panel.get("evidence")) or _run_id(head) or _counts_cited(panel)):
            out.append(
                f"{t} {p} {dash.get('persona')}/{panel['id']}: summary {text!r} with "
                f"{_evidence_kind(panel.get('evidence'))}, no run id"
            )
    return out


def _breakdown_run_ids(t: str, p: str, bd: dict[str, Any]) -> list[str]:
    cited = _dict(bd.get("evidence"))
    return [
        f"{t} {p} score breakdown {path} ({obj['kpi_id']}): scored value without a run id"
        for path, obj in walk(bd.get("breakdown") or {})
        if obj.get("kpi_id")
        and "band" in obj
        and is_num(obj.get("value"))
        and not _run_id(cited.get(obj["kpi_id"]))
    ]


def _drill_run_ids(w: World) -> list[str]:
    out = [
        f
        for (t, p, k), d in w.kpi_drills.items()
        for f in _unrun(f"{t} {p} drill/kpi/{k}.kpi", _dict(d.get("kpi")))
    ]
    for (t, p), doc in w.service_maps.items():
        out += [f for i in doc.get("items") or [] for f in _unrun(f"{t} {p} drill/services/{i.get('id')}", i)]
    for (t, p, s), doc in w.service_drills.items():
        slo, deps = _dict(doc.get("slo")), _dict(doc.get("deployments"))
        if slo.get("available") and is_num(slo.get("attainment")) and not _run_id(slo.get("evidence")):
            out.append(
                f"{t} {p} drill/service/{s}.slo: attainment {slo['attainment']:.6g} with "
                f"{_evidence_kind(slo.get('evidence'))}, no run id"
            )
        if is_num(deps.get("change_failure_pct")) and not _run_id(deps.get("evidence")):
            out.append(
                f"{t} {p} drill/service/{s}.deployments: change failure {deps['change_failure_pct']:.6g}% "
                "computed in the drill-down, no run id"
            )
    return out


# The roll-up domains counted from a tenant's inventory, not by a KPI run (executive-rollup.md:
# certificate health, vendor risk; docs/decisions.md #16): their cells cite the inventory snapshot,
# its time and the sources keeping its items (the ACM / Prometheus pull, the vendor register).
INVENTORY_DOMAINS = {"certificates": "certificate inventory", "vendors": "vendor register"}


def _cited(domain_id: str, cell: dict[str, Any], card: dict[str, Any]) -> bool:
    if _run_id(cell.get("evidence")) or _run_id(card.get("evidence")):
        return True
    ev = _dict(cell.get("evidence"))
    return domain_id in INVENTORY_DOMAINS and ev.get("type") == "inventory" and bool(ev.get("as_of"))


def _rollup_run_ids(p: str, rollup: dict[str, Any]) -> list[str]:
    return [
        f"rollup {p} {d['id']}/{card['tenant']['id']}/{m_id}: value {cell['value']:.6g} without a run id"
        for d in rollup.get("domains") or []
        for card in d.get("tenants") or []
        for m_id, cell in _dict(card.get("metrics")).items()
        if is_num(cell.get("value")) and not _cited(d["id"], cell, card)
    ]


def run_ids(w: World) -> list[str]:
    """No number lacks a run id.

    A number is shown by a panel item, a panel summary, a drill-down's KPI tile, service list, SLO
    block or deployment counts, and a roll-up card metric, when it has a numeric `value` or `count`,
    or a `display` / table cell with a measured number in its text (not a date, a priority or the
    period). Each needs `evidence.run_id`: the KPI run that delivered it, or delivered the breakdown
    row it belongs to. A health-model score (dimension, composite) may instead cite the score
    breakdown (`evidence.type == "score"`): the breakdown then lists the run of every KPI it scored
    (checked here too). A panel whose summary text shows a number needs a run id on the panel (its
    own or its summary's evidence). Raw source records in drill-downs (a deployment, an incident's
    timeline) are evidence themselves and carry signal ids. The board pack's numbers are checked
    against the runs' values by `one_value_one_band` (the PDF prints no ids).
    """
    out: list[str] = []
    for (t, p, _), dash in w.dashboards.items():
        out += _dashboard_run_ids(t, p, dash)
    for (t, p), bd in w.breakdowns.items():
        out += _breakdown_run_ids(t, p, bd)
    out += _drill_run_ids(w)
    for p, rollup in w.rollups.items():
        out += _rollup_run_ids(p, rollup)
    return merge_personas(out)


# ------------------------------------------------------------------------------ 4. contradictions


def judge(kpi_id: str, value: float, status: str) -> str | None:
    """Why `status` is wrong for `value` on the dictionary's thresholds (None when it is right):
    worse than critical is Critical, worse than target is below Healthy, meeting it is Healthy or
    Excellent."""
    from companyos.domain.kpis import UnknownKpiError, load_dictionary

    try:
        d = load_dictionary().get(kpi_id)
    except UnknownKpiError:
        return None
    if d.is_better(d.critical, value):
        want, ok = "Critical (worse than critical)", status == "critical"
    elif d.is_better(d.target, value):
        want, ok = "below Healthy (misses its target)", status in ("attention", "warning", "critical")
    else:
        want, ok = "Healthy or Excellent (meets its target)", status in GOOD
    if ok:
        return None
    return (
        f"{kpi_id} {value:.6g} is {status!r} but against target {d.target:g} / critical {d.critical:g} "
        f"({d.direction} is better) it is {want}"
    )


def _kpi_targets(facts: Facts) -> list[str]:
    out = []
    for (t, p, thing), fields in facts.seen.items():
        if not thing.startswith("kpi:"):
            continue
        values = {s.where: s.value for s in fields.get("value", []) if is_num(s.value) and not s.tol}
        for s in fields.get("status", []):
            v = values.get(s.where)
            status = s.value.lower() if isinstance(s.value, str) else "unknown"
            if (
                v is not None
                and status != "unknown"
                and (why := judge(thing.removeprefix("kpi:"), v, status))
            ):
                out.append(f"{t} {p} {s.where}: {why}")
    return out


def _rollup_org_targets(p: str, rollup: dict[str, Any]) -> list[str]:
    out = []
    for d in rollup.get("domains") or []:
        for m in d.get("metrics") or []:
            cells = [_dict(_dict(card.get("metrics")).get(m["id"])) for card in d.get("tenants") or []]
            kpi_id = next((c["kpi_id"] for c in cells if c.get("kpi_id")), None)
            if kpi_id and is_num(m.get("value")) and (why := judge(kpi_id, m["value"], m.get("status", ""))):
                out.append(f"rollup {p} {d['id']} org {m['id']}: {why}")
    return out


def _slo_rows(dash: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rows (by service) of a dashboard's KPI-headed SLO table ("slo") and burn bars ("burn")."""
    rows: dict[str, dict[str, Any]] = {}
    for panel in dash.get("panels") or []:
        head = _dict(panel.get("summary")).get("kpi_id")
        for item in panel.get("items") or []:
            if head == "slo_attainment" and item.get("service"):
                rows.setdefault(item["service"], {})["slo"] = {**item, "objective": panel.get("objective")}
            if head == "error_budget_burn_rate" and item.get("id"):
                rows.setdefault(str(item.get("service") or item["id"]), {})["burn"] = item
    return rows


def _tenant_slo_rows(w: World, t: str, p: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for (tt, pp, _), dash in w.dashboards.items():
        if (tt, pp) == (t, p):
            for svc, r in _slo_rows(dash).items():
                rows.setdefault(svc, {}).update(r)
    return rows


def _open_blocking(w: World, t: str, p: str) -> dict[str, list[str]]:
    """Open P1/P2 incidents per service, from the incident timelines."""
    out: dict[str, list[str]] = defaultdict(list)
    for (tt, pp, _), dash in w.dashboards.items():
        for panel in dash.get("panels") or [] if (tt, pp) == (t, p) else []:
            for item in panel.get("items") or [] if panel["id"] == "incidents" else []:
                if item.get("state") not in ("resolved", None) and item.get("severity") in ("P1", "P2"):
                    out[str(item.get("service"))].append(str(item.get("id")))
    return out


def _slo_row_verdicts(t: str, p: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for svc, r in sorted(rows.items()):
        slo, burn = _dict(r.get("slo")), _dict(r.get("burn"))
        obj, att, left = slo.get("objective"), slo.get("value"), slo.get("budget_left")
        if is_num(att) and is_num(obj) and att < 100 * obj - 1e-9 and slo.get("status") in GOOD:
            out.append(
                f"{t} {p} SLO row {svc}: {att:.4f}% under the {100 * obj:g}% objective is {slo['status']!r}"
            )
        if is_num(left) and left <= 0 and slo.get("status") in GOOD:
            out.append(
                f"{t} {p} SLO row {svc}: error budget spent ({100 * left:.1f}% left) is {slo['status']!r}"
            )
        if is_num(burn.get("value")) and burn["value"] > 1.0 and burn.get("status") in GOOD:
            out.append(f"{t} {p} burn bar {svc}: burn {burn['value']:.2f}x > 1x is {burn['status']!r}")
    return out


def _says_operational(text: str) -> bool:
    """Whether a text claims services are operational ("All services operational", "3 of 4 services
    operational"), not that they are not ("1 of 4 services not operational: api")."""
    low = text.lower()
    return "operational" in low.replace("not operational", "")


def _status_panel_verdicts(
    where: str, panel: dict[str, Any], rows: dict[str, dict[str, Any]], blocking: dict[str, list[str]]
) -> list[str]:
    """A service card (or the panel's headline) that says Healthy / operational beside a Warning or
    Critical SLO row, or an open P1/P2, of the same service."""
    out = []
    bad_slo = {svc for svc, r in rows.items() if _dict(r.get("slo")).get("status") in BAD}
    items = [i for i in panel.get("items") or [] if isinstance(i, dict)]
    for item in items:
        svc = str(_dict(item.get("drill")).get("id") or item.get("id"))
        says = f"{item.get('status')!r} ({item.get('detail')})"
        if item.get("status") in GOOD or _says_operational(str(item.get("detail", ""))):
            if svc in bad_slo:
                out.append(f"{where}/{svc}: {says} beside its SLO row {rows[svc]['slo']['status']!r}")
            if blocking.get(svc):
                out.append(f"{where}/{svc}: {says} with open P1/P2 {blocking[svc]}")
    summary = _dict(panel.get("summary"))
    if _says_operational(_summary_text(panel) or "") or (
        panel["id"] == "platform" and summary.get("status") in GOOD
    ):
        named = {str(_dict(i.get("drill")).get("id") or i.get("id")) for i in items}
        worse = sorted((bad_slo & named) | {str(i.get("id")) for i in items if i.get("status") in BAD})
        if worse:
            out.append(
                f"{where}.summary: {summary.get('label')!r} ({summary.get('status')}) "
                f"while Warning/Critical: {', '.join(worse)}"
            )
    return out


def _service_verdicts(w: World, t: str, p: str) -> list[str]:
    rows, blocking = _tenant_slo_rows(w, t, p), _open_blocking(w, t, p)
    out = _slo_row_verdicts(t, p, rows)
    for (tt, pp, persona), dash in w.dashboards.items():
        for panel in dash.get("panels") or [] if (tt, pp) == (t, p) else []:
            if panel.get("kind") == "status":
                out += _status_panel_verdicts(f"{t} {p} {persona}/{panel['id']}", panel, rows, blocking)
    return out


def _rollup_slo_verdicts(w: World, t: str, p: str) -> list[str]:
    """The roll-up SLO domain: objectives in budget = the share of the tenant's SLOs whose error
    budget is not spent; the fastest burn = the fastest of its SLOs."""
    rows = [r["slo"] for r in _tenant_slo_rows(w, t, p).values() if r.get("slo")]
    cards = [
        _dict(card.get("metrics"))
        for d in _dict(w.rollups.get(p)).get("domains") or []
        if d["id"] == "slos"
        for card in d.get("tenants") or []
        if card["tenant"]["id"] == t
    ]
    if not rows or not cards:
        return []
    in_budget = sum(1 for r in rows if is_num(r.get("budget_left")) and r["budget_left"] > 0)
    share = 100.0 * in_budget / len(rows)
    fastest = max((r["burn_rate"] for r in rows if is_num(r.get("burn_rate"))), default=None)
    ib, fb = _dict(cards[0].get("objectives_in_budget")), _dict(cards[0].get("fastest_burn"))
    out = []
    if is_num(ib.get("value")) and abs(ib["value"] - share) > 0.05:
        out.append(
            f"rollup {p} slos/{t}: 'Objectives in budget' {ib.get('display')} ({ib.get('status')}) but "
            f"{in_budget} of {len(rows)} SLO rows have budget left ({share:.1f}%)"
        )
    if is_num(fb.get("value")) and fastest is not None and abs(fb["value"] - fastest) > 0.005:
        out.append(
            f"rollup {p} slos/{t}: 'Fastest burn' {fb.get('display')} but an SLO row burns {fastest:.2f}x"
        )
    return out


def _secret_key(item: dict[str, Any]) -> str:
    """One secret finding whatever its event: "aws-access-token in org/repo (deploy/config-0.env)"."""
    what = re.sub(r"^Secret \w+: ", "", str(item.get("title")))
    return f"{what} ({str(item.get('detail', '')).split(' · ')[0]})"


def _row_verdicts(panel: dict[str, Any]) -> list[str]:
    out = []
    items = [i for i in panel.get("items") or [] if isinstance(i, dict)]
    for i in items:
        text = " ".join(str(i.get(k) or "") for k in ("title", "detail", "label")).lower()
        spent = is_num(i.get("budget_left")) and i["budget_left"] <= 0
        if "in budget" in text and (spent or i.get("status") in BAD):
            out.append(f"{i.get('id')}: says 'in budget' with status {i.get('status')!r}")
        if (
            i.get("severity") == "critical"
            and is_num(i.get("open"))
            and i["open"] > 0
            and i.get("status") in GOOD
        ):
            out.append(f"{i.get('id')}: {i['open']} open critical finding(s) shown {i['status']!r}")
    secrets: dict[str, set[str]] = defaultdict(set)
    for i in items:
        if i.get("state") in ("open", "fixed") and str(i.get("title", "")).startswith("Secret"):
            secrets[_secret_key(i)].add(i["state"])
    out += [f"secret {k} is listed both open and fixed" for k, s in sorted(secrets.items()) if len(s) > 1]
    return out


def contradictions(w: World) -> list[str]:
    """'operational' / 'in budget' / Healthy never sit beside a Critical of the same thing, and a
    value that misses its target is never Healthy."""
    out = _kpi_targets(collect(w))
    for p, rollup in w.rollups.items():
        out += _rollup_org_targets(p, rollup)
    for t, p in itertools.product(w.tenants, PERIODS):
        out += _service_verdicts(w, t, p) + _rollup_slo_verdicts(w, t, p)
    for (t, p, persona), dash in w.dashboards.items():
        for panel in dash.get("panels") or []:
            out += [f"{t} {p} {persona}/{panel['id']}: {x}" for x in _row_verdicts(panel)]
    return merge_personas(out)


# ------------------------------------------------------------------------------ 5. counts


def _ints(pattern: str, text: Any) -> tuple[int, ...] | None:
    m = re.search(pattern, text) if isinstance(text, str) else None
    return tuple(int(g) for g in m.groups()) if m else None


Items = list[dict[str, Any]]


def _risk_count(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    n = _ints(r"(\d+) risks?\b", text.replace("risk(s)", "risks"))
    return [f"summary {text!r} but {len(items)} risks listed"] if n and n[0] != len(items) else []


def _services_meet(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    m, objective = _ints(r"(\d+) of (\d+) services meet", text), panel.get("objective")
    if not m or not is_num(objective):
        return []
    met = sum(1 for i in items if is_num(i.get("value")) and i["value"] >= 100 * objective - 1e-9)
    return (
        [f"summary {text!r} but {met} of {len(items)} rows meet the objective"]
        if m != (met, len(items))
        else []
    )


def _services_listed(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    m = _ints(r"^(\d+) services\b", text)
    return [f"summary {text!r} but {len(items)} services listed"] if m and m[0] != len(items) else []


def _busy_resources(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    m = _ints(r"(\d+) of (\d+) service resources at or above (\d+)%", text)
    if not m:
        return []
    busy = sum(1 for i in items if is_num(i.get("value")) and i["value"] >= m[2])
    if (m[0], m[1]) == (busy, len(items)):
        return []
    return [f"summary {text!r} but {busy} of {len(items)} resources are at or above {m[2]}%"]


def _key_results(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    m = _ints(r"(\d+) of (\d+) key results on track", text)
    on = sum(1 for i in items if i.get("status") in GOOD)
    return (
        [f"summary {text!r} but {on} of {len(items)} key results are Healthy"]
        if m and m != (on, len(items))
        else []
    )


def _vulns(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    m = _ints(r"(\d+) open vulnerabilities, (\d+) past their SLA", text)
    total = (sum(int(i.get("open") or 0) for i in items), sum(int(i.get("overdue") or 0) for i in items))
    if not m or m == total:
        return []
    return [f"summary {text!r} but the rows add up to {total[0]} open, {total[1]} past their SLA"]


def _funnel(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    if panel.get("kind") != "funnel" or not items:
        return []
    out, first = [], items[0].get("value")
    for prev, i in itertools.pairwise(items):
        if is_num(i.get("value")) and is_num(prev.get("value")) and i["value"] > prev["value"]:
            out.append(
                f"funnel step {i.get('id')}: {i['value']} users, more than the step before ({prev['value']})"
            )
    for i in items:
        if is_num(first) and first and is_num(i.get("value")) and is_num(i.get("share")):
            want = 100.0 * i["value"] / first
            if abs(i["share"] - want) > 0.051:
                out.append(
                    f"funnel step {i.get('id')}: share {i['share']}%, {i['value']} of {first} is {want:.1f}%"
                )
    return out


def _security_events(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    if "secrets_detected" not in panel:
        return []
    out = []
    open_ = {_secret_key(i) for i in items if i.get("state") == "open"}
    if panel["secrets_detected"] != len(open_):
        out.append(f"secrets_detected {panel['secrets_detected']} but {len(open_)} open secrets listed")
    n = _ints(r"(\d+) secret\(s\) detected", text)
    if n and n[0] != panel["secrets_detected"]:
        out.append(f"summary {text!r} but secrets_detected {panel['secrets_detected']}")
    denied = sum(int(i.get("count") or 0) for i in items if i.get("state") == "denied")
    n = _ints(r"(\d+) denied authorisation", text)
    if n and n[0] != denied:
        out.append(f"summary {text!r} but the listed denials add up to {denied}")
    return out


def _nps(panel: dict[str, Any], items: Items, text: str) -> list[str]:
    if panel.get("kind") != "distribution" or not items:
        return []
    out = []
    total = sum(i["value"] for i in items if is_num(i.get("value")))
    if is_num(panel.get("responses")) and panel["responses"] != total:
        out.append(f"responses {panel['responses']} but the buckets count {total}")
    if (m := _ints(r"from (\d+) responses", text)) and m[0] != total:
        out.append(f"summary {text!r} but the buckets count {total}")
    srcs = [s for s in _dict(panel.get("evidence")).get("sources") or [] if isinstance(s, dict)]
    if srcs and sum(int(s.get("count") or 0) for s in srcs) != total:
        out.append(
            f"evidence counts {sum(int(s.get('count') or 0) for s in srcs)} responses, the buckets {total}"
        )
    for i in items:
        if total and is_num(i.get("share")) and abs(i["share"] - 100.0 * i["value"] / total) > 0.051:
            out.append(f"bucket {i.get('id')}: share {i['share']}% but {i['value']} of {total}")
        for s in _dict(i.get("evidence")).get("sources") or []:
            if str(s.get("object", "")).startswith("?"):
                out.append(f"bucket {i.get('id')}: cites an unknown source {s.get('object')!r}")
    return out + _nps_score(panel, items, total)


def _nps_score(panel: dict[str, Any], items: Items, total: float) -> list[str]:
    by_id = {str(i.get("id")): i.get("value") for i in items}
    pro, det = by_id.get("promoter"), by_id.get("detractor")
    if not (total and is_num(panel.get("nps")) and is_num(pro) and is_num(det)):
        return []
    want = 100.0 * (pro - det) / total
    if abs(panel["nps"] - want) <= 0.5:
        return []
    return [f"NPS {panel['nps']} but ({pro} promoters - {det} detractors) / {total} is {want:+.1f}"]


COUNTS: tuple[Callable[[dict[str, Any], Items, str], list[str]], ...] = (
    _risk_count,
    _services_meet,
    _services_listed,
    _busy_resources,
    _key_results,
    _vulns,
    _funnel,
    _security_events,
    _nps,
)


def counts(w: World) -> list[str]:
    """Every count a panel states agrees with the items it lists and with its evidence."""
    out: list[str] = []
    for (t, p, persona), dash in w.dashboards.items():
        for panel in dash.get("panels") or []:
            items = [i for i in panel.get("items") or [] if isinstance(i, dict)]
            text = _summary_text(panel) or ""
            out += [
                f"{t} {p} {persona}/{panel['id']}: {x}" for rule in COUNTS for x in rule(panel, items, text)
            ]
    return merge_personas(out)


# ------------------------------------------------------------------------------ 6. health headline


def _coverage_verdicts(where: str, node: dict[str, Any]) -> list[str]:
    out = []
    score, kw, status = node.get("score"), node.get("known_weight"), node.get("status")
    want = capped(band_of(score), kw if is_num(kw) else None)
    if status != want:
        out.append(
            f"{where}: score {_fmt(score)} measured on {_fmt(kw)} of its weight is {status!r}, not {want!r}"
        )
    if is_num(kw) and kw < FULL_COVERAGE - 1e-9 and status in GOOD:
        out.append(f"{where}: {status!r} with only {100 * kw:.0f} % of its weight measured")
    says = str(node.get("partial") or node.get("reason") or "")
    if is_num(kw) and MIN_COVERAGE - 1e-9 <= kw < FULL_COVERAGE - 1e-9 and "partial" not in says:
        out.append(f"{where}: measured on {100 * kw:.0f} % of its weight but does not say 'partial'")
    return out


def _breakdown_sums(comp: dict[str, Any]) -> list[str]:
    """The breakdown's arithmetic, redone: an input adds effective weight x score points, a dimension
    scores the sum of what its inputs add, the composite the weighted mean of the known dimensions."""
    out = []
    for d in comp.get("dimensions") or []:
        total = 0.0
        for i in d.get("inputs") or []:
            added, weight, score = i.get("contribution"), i.get("effective_weight"), i.get("score")
            want = weight * score if is_num(weight) and is_num(score) else 0.0
            if is_num(added) and abs(added - want) > 0.01:
                out.append(
                    f"{d['dimension']}/{i['id']} adds {added:.2f}: {_fmt(weight)}x {_fmt(score)} = {want:.2f}"
                )
            total += added if is_num(added) else 0.0
        if is_num(d.get("score")) and abs(d["score"] - total) > 0.01:
            out.append(f"{d['dimension']}: score {d['score']:.2f} but its inputs add {total:.2f}")
    known = [(d["weight"], d["score"]) for d in comp.get("dimensions") or [] if is_num(d.get("score"))]
    if known and is_num(comp.get("score")):
        want = sum(wt * sc for wt, sc in known) / sum(wt for wt, _ in known)
        if abs(comp["score"] - want) > 0.01:
            out.append(
                f"composite: score {comp['score']:.2f} but the weighted mean of its dimensions is {want:.2f}"
            )
    return out


def health_headline(w: World) -> list[str]:
    """The health headline and every dimension: the band is the score's band after the coverage rule
    (measured on < 80 % of its weight: at most Attention and says "partial"; < 50 %: Unknown), the
    label is the band's, the breakdown header's known weight is the health's, and the breakdown's
    points add up."""
    out: list[str] = []
    for (t, p, persona), dash in w.dashboards.items():
        h, where = _dict(dash.get("health")), f"{t} {p} {persona}/health"
        out += _coverage_verdicts(where, h)
        for d in h.get("dimensions") or []:
            out += _coverage_verdicts(f"{where}.dimensions[{d.get('id')}]", d)
        if h.get("label") != LABELS.get(str(h.get("status"))):
            out.append(f"{where}: label {h.get('label')!r} for status {h.get('status')!r}")
        comp = _dict(_dict(_dict(w.breakdowns.get((t, p))).get("breakdown")).get("composite"))
        if comp and not _same(Seen("", comp.get("known_weight")), Seen("", h.get("known_weight"))):
            out.append(
                f"{where}: known weight {h.get('known_weight')}, breakdown header {comp.get('known_weight')}"
            )
    for (t, p), bd in w.breakdowns.items():
        comp = _dict(_dict(bd.get("breakdown")).get("composite"))
        out += [f"{t} {p} score breakdown {x}" for x in _breakdown_sums(comp)]
    return merge_personas(out)
