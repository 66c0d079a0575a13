"""The demo's coverage reports are what the tools write: each parses as its format, with the lines
the demo drew (covered = lines with hits)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from companyos.sources import registry

from infra.local import demo_coverage
from tests.unit.sources.helpers import request

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("fmt", ["cobertura", "lcov", "jacoco"])
def test_each_demo_report_parses_as_its_format_with_the_drawn_lines(fmt):
    files = demo_coverage._files("acme/api", fmt, 0.7, random.Random(7))
    body = demo_coverage.report(fmt, files, AT, "api")
    (s,) = registry.get("coverage").parse(request(body, X_CompanyOS_Target="acme/api")).signals
    assert s.attributes["format"] == fmt
    assert s.attributes["lines_valid"] == sum(len(h) for _, h in files)
    assert s.attributes["lines_covered"] == sum(1 for _, hits in files for h in hits if h)
    if fmt != "lcov":
        assert s.occurred_at == AT
