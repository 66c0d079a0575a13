"""Helpers of the source unit tests: a request around a real fixture's exact bytes."""

from __future__ import annotations

from companyos.sources import registry
from companyos.sources.base import ParsedDelivery, WebhookRequest

from tests.conftest import real_fixture


def request(body: bytes, **headers: str) -> WebhookRequest:
    return WebhookRequest({k.lower().replace("_", "-"): v for k, v in headers.items()}, body)


def parse(source: str, fixture: str, **headers: str) -> ParsedDelivery:
    return registry.get(source).parse(request(real_fixture(fixture), **headers))


def by(signals, attr: str) -> dict:
    """Count signals by one attribute."""
    counts: dict = {}
    for s in signals:
        counts[s.attributes[attr]] = counts.get(s.attributes[attr], 0) + 1
    return counts
