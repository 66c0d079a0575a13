"""The Prometheus HTTP API's answers: the JSON envelope (`status`, `data.resultType`, `data.result`,
or `status: error` with `errorType`) parsed into samples, and the errors a query can end with
(`retryable` when the endpoint, not the query, failed)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class PrometheusError(Exception):
    """A failed query. `retryable`: worth another attempt (the endpoint, not the query, failed)."""

    RETRYABLE_TYPES = frozenset({"timeout", "unavailable", "internal"})

    def __init__(self, error_type: str, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message = error_type, message
        self.retryable = error_type in self.RETRYABLE_TYPES if retryable is None else retryable


class CircuitOpen(PrometheusError):
    def __init__(self, url: str, retry_in_s: float) -> None:
        message = f"{url} failed repeatedly; next trial in {retry_in_s:.0f}s"
        super().__init__("circuit_open", message, retryable=False)


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    at: datetime
    value: float | None  # None for NaN / ±Inf (kept as value_raw)
    raw: str


@dataclass(frozen=True)
class PromResult:
    result_type: str  # vector / matrix / scalar / string
    samples: list[Sample]
    warnings: list[str] = field(default_factory=list)


def _point(pair: Any, labels: dict[str, str]) -> Sample:
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int | float)):
        raise PrometheusError("bad_response", f'a sample must be [<unix time>, "<value>"], got {pair!r}')
    raw = str(pair[1])
    try:
        number: float | None = float(raw)
    except ValueError as exc:
        raise PrometheusError("bad_response", f"sample value {raw!r} is not a number") from exc
    if number is not None and not math.isfinite(number):
        number = None
    return Sample(labels, datetime.fromtimestamp(float(pair[0]), UTC), number, raw)


def parse_response(body: bytes) -> PromResult:
    """Parse the API's JSON envelope (`status`, `data.resultType`, `data.result`; or `status: error`
    with `errorType` and `error`). Raises PrometheusError for the error envelope and bad bodies."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PrometheusError("bad_response", f"not JSON: {exc}", retryable=True) from exc
    if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
        raise PrometheusError("bad_response", "no 'status' in the response", retryable=True)
    warnings = [str(w) for w in doc.get("warnings") or []]
    if doc["status"] == "error":
        raise PrometheusError(str(doc.get("errorType") or "unknown"), str(doc.get("error") or ""))
    data = doc.get("data") or {}
    rtype, result = data.get("resultType"), data.get("result")
    samples: list[Sample] = []
    if rtype == "vector" and isinstance(result, list):
        samples = [_point(r.get("value"), dict(r.get("metric") or {})) for r in result]
    elif rtype == "matrix" and isinstance(result, list):
        samples = [_point(p, dict(r.get("metric") or {})) for r in result for p in r.get("values") or []]
    elif rtype == "scalar":
        samples = [_point(result, {})]
    elif rtype != "string":
        raise PrometheusError("bad_response", f"unknown resultType {rtype!r}")
    return PromResult(str(rtype), samples, warnings)
