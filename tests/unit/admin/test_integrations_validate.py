"""The deep-link templates an admin may save (admin/integrations.validate): https with a host, no
whitespace, bounded, known placeholders only, the store named; an empty template removes the link."""

from __future__ import annotations

import pytest
from companyos.admin.integrations import MAX_TEMPLATE, validate
from companyos.domain.errors import InvalidPayload
from companyos.sources import deeplinks


def test_a_good_template_is_kept_and_renders_with_its_window():
    from datetime import UTC, datetime

    t = "https://grafana.example/explore?svc={{service}}&from={{start_ms}}&to={{end_ms}}"
    config = validate({"trace_system": "tempo", "trace_url_template": t, "log_url_template": "  "})
    assert config.trace_url_template == t and config.log_url_template is None
    start, end = datetime(2026, 6, 1, 10, tzinfo=UTC), datetime(2026, 6, 1, 11, tzinfo=UTC)
    href = deeplinks.render(t, start, end, service="api gateway")
    ms = int(start.timestamp()) * 1000, int(end.timestamp()) * 1000
    assert href == f"https://grafana.example/explore?svc=api%20gateway&from={ms[0]}&to={ms[1]}"


@pytest.mark.parametrize(
    ("template", "code"),
    [
        ("ftp://files.example/{{service}}", "template_not_https"),
        ("https://", "template_not_https"),
        ("//grafana.example/{{service}}", "template_not_https"),
        ("https://grafana.example/\n{{service}}", "invalid_url_template"),
        ("https://grafana.example/{{ services }}", "unknown_placeholder"),
        ("https://grafana.example/" + "x" * MAX_TEMPLATE, "template_too_long"),
    ],
)
def test_a_bad_template_is_refused_with_its_code(template, code):
    with pytest.raises(InvalidPayload) as err:
        validate({"log_system": "loki", "log_url_template": template})
    assert err.value.status == 422 and err.value.code == code
    assert err.value.details["path"] == "log_url_template"


def test_a_template_needs_its_store():
    with pytest.raises(InvalidPayload) as err:
        validate({"trace_url_template": "https://x.example/{{service}}"})
    assert err.value.code == "system_required" and err.value.details["path"] == "trace_system"
