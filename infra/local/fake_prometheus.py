"""A local stand-in for a Prometheus server's HTTP API (`/api/v1/query`, `/api/v1/query_range`),
answering in Prometheus' own response format: the demo pulls from it through the real connector, and
tests point the connector at it with their own answers (real fixture bytes, error envelopes, delays).

`DemoSeries` generates deterministic per-service series for the demo tenants' PromQL: SLO good/total
request counts per window, availability, p95/p99 latency, and CPU and memory utilisation (usage over
the container limits, a ratio); with a `fake_traffic.Traffic`, per-endpoint counts and histogram
buckets and service-graph edges too.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.local.fake_traffic import Traffic

# (path, params) -> (HTTP status, body bytes, delay before answering in seconds)
Responder = Callable[[str, dict[str, str]], tuple[int, bytes, float]]


def success(result_type: str, result: list[dict[str, Any]]) -> bytes:
    return json.dumps({"status": "success", "data": {"resultType": result_type, "result": result}}).encode()


def error(error_type: str, message: str) -> bytes:
    return json.dumps({"status": "error", "errorType": error_type, "error": message}).encode()


@dataclass
class FakePrometheus:
    responder: Responder
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FakePrometheus:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, params: dict[str, str]) -> None:
                path = urllib.parse.urlsplit(self.path).path
                fake.requests.append((path, params))
                status, body, delay = fake.responder(path, params)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer to

            def do_GET(self) -> None:
                self._answer(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name="fake-prometheus").start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()


# ---------------------------------------------------------------------------- demo series


@dataclass(frozen=True)
class ServiceProfile:
    service: str
    rps: float  # mean requests per second
    error_ratio: float  # mean share of bad requests
    p95_ms: float
    cpu: float  # mean CPU usage / limit, 0..1
    memory: float = 0.5  # mean memory working set / limit, 0..1


class DemoSeries:
    """Answers the demo PromQL (matched by the metric name it reads) with per-service series.
    Values are a deterministic function of (service, metric, timestamp), so a re-pull sees the
    same numbers; an occasional bad hour (error burst) makes the SLO and burn rate move."""

    def __init__(self, services: list[ServiceProfile], traffic: Traffic | None = None) -> None:
        self.services = services
        self.traffic = traffic  # endpoint and service-graph series (fake_traffic)

    def _noise(self, *parts: object) -> random.Random:
        return random.Random("|".join(str(p) for p in parts))

    def _bad_share(self, p: ServiceProfile, hour: int) -> float:
        rng = self._noise(p.service, "burst", hour)
        burst = rng.random() < 0.01  # ~1 incident-like hour in 100
        return min(0.5, p.error_ratio * (25 if burst else rng.uniform(0.3, 1.7)))

    def _window_counts(self, p: ServiceProfile, end: int, seconds: int) -> tuple[float, float]:
        total = bad = 0.0
        for h in range((end - seconds) // 3600, end // 3600):
            diurnal = 1 + 0.4 * math.sin((h % 24) / 24 * 2 * math.pi)
            n = p.rps * 3600 * diurnal * self._noise(p.service, "rps", h).uniform(0.9, 1.1)
            total += n
            bad += n * self._bad_share(p, h)
        return round(total), round(bad)

    def value(self, promql: str, p: ServiceProfile, t: int) -> float:
        window = 86400 if "[1d]" in promql else 3600
        total, bad = self._window_counts(p, t, window)
        rng = self._noise(p.service, promql, t)
        if "slo_requests_good" in promql or "code!~" in promql:
            return total - bad
        if "slo_requests_total" in promql or ("http_requests_total" in promql and "sum by" in promql):
            return total
        if "up{" in promql or "avg_over_time(up" in promql:
            return 1.0 if bad / max(total, 1) < 0.2 else round(rng.uniform(0.95, 0.99), 4)
        if "0.99" in promql:
            return round(p.p95_ms * 1.8 * rng.uniform(0.9, 1.3) / 1000, 4)
        if "0.95" in promql:
            return round(p.p95_ms * rng.uniform(0.85, 1.25) / 1000, 4)
        if "memory" in promql:  # memory moves slowly: little noise around the mean
            return round(min(0.99, p.memory * rng.uniform(0.95, 1.05)), 4)
        if "cpu" in promql:
            return round(min(0.98, p.cpu * rng.uniform(0.8, 1.2)), 4)
        return 0.0

    def _counts(self, service: str, t: int, seconds: int) -> tuple[float, float]:
        p = next((p for p in self.services if p.service == service), None)
        return (0.0, 0.0) if p is None else self._window_counts(p, t, seconds)

    def series(self, promql: str, t: int) -> list[tuple[dict[str, str], float]]:
        """Every series of the PromQL at time t: (labels, value)."""
        if self.traffic and self.traffic.handles(promql):
            window = 86400 if "[1d]" in promql else 3600
            return self.traffic.series(promql, t, window, self._counts)
        return [({"service": p.service}, self.value(promql, p, t)) for p in self.services]

    def __call__(self, path: str, params: dict[str, str]) -> tuple[int, bytes, float]:
        promql = params.get("query", "")
        if not promql:
            return 400, error("bad_data", 'invalid parameter "query": empty query'), 0.0
        if path == "/api/v1/query":
            t = int(float(params.get("time") or time.time()))
            result = [{"metric": labels, "value": [t, _fmt(v)]} for labels, v in self.series(promql, t)]
            return 200, success("vector", result), 0.0
        if path == "/api/v1/query_range":
            start, end = int(float(params["start"])), int(float(params["end"]))
            step = int(params["step"].rstrip("s"))
            by_series: dict[str, dict[str, Any]] = {}
            for t in range(start, end + 1, step):
                for labels, v in self.series(promql, t):
                    key = json.dumps(labels, sort_keys=True)
                    by_series.setdefault(key, {"metric": labels, "values": []})["values"].append([t, _fmt(v)])
            return 200, success("matrix", list(by_series.values())), 0.0
        return 404, error("not_found", f"unknown path {path}"), 0.0


def _fmt(value: float) -> str:
    """Prometheus writes sample values as strings in Go's float format."""
    return str(int(value)) if float(value).is_integer() else repr(value)
