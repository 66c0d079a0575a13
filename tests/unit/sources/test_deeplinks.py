"""Trace and log deep links from a tenant's URL templates (sources/deeplinks.py): placeholders
filled and URL-encoded, unknown placeholders and non-https URLs refused when saved, and the plain
reason when a tenant has none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from companyos.sources import deeplinks
from companyos.sources.deeplinks import DeepLinks
from pydantic import ValidationError

START, END = datetime(2026, 3, 10, 11, 30, tzinfo=UTC), datetime(2026, 3, 10, 13, tzinfo=UTC)
# Grafana Explore keeps its state as JSON in `left`: single braces stay, `{{...}}` are ours
TEMPO = (
    'https://grafana.example.com/explore?left={"datasource":"tempo","queries":[{"queryType":"traceql",'
    '"query":"{{service}}"}],"range":{"from":"{{start_ms}}","to":"{{end_ms}}"}}'
)
XRAY = "https://console.aws.amazon.com/xray/home#/traces?timeRange={{start}}~{{end}}&filter=service(%22{{service}}%22)"


def test_a_tempo_template_gets_the_service_and_window_in_milliseconds():
    url = deeplinks.render(TEMPO, START, END, service="payments api")
    assert '"query":"payments%20api"' in url
    assert f'"from":"{int(START.timestamp() * 1000)}","to":"{int(END.timestamp() * 1000)}"' in url
    assert url.startswith('https://grafana.example.com/explore?left={"datasource":"tempo"')


def test_an_xray_template_gets_rfc3339_times_url_encoded():
    url = deeplinks.render(XRAY, START, END, service="api")
    assert "timeRange=2026-03-10T11%3A30%3A00Z~2026-03-10T13%3A00%3A00Z" in url
    assert "service(%22api%22)" in url


def test_links_without_a_template_say_how_to_configure_one():
    out = deeplinks.links(None, START, END, "api", service="api")
    assert out["traces"] == {"available": False, "reason": deeplinks.NO_TRACE_LINK, "items": []}
    assert out["logs"]["available"] is False and "Loki/CloudWatch" in out["logs"]["reason"]
    assert "Not built yet" not in out["traces"]["reason"]


def test_links_with_a_template_carry_the_window_and_the_system():
    config = DeepLinks(trace_system="xray", trace_url_template=XRAY)
    out = deeplinks.links(config, START, END, "api around incident 7", service="api")
    (item,) = out["traces"]["items"]
    assert item["system"] == "xray" and "AWS X-Ray" in item["label"]
    assert item["start"] == START.isoformat() and item["href"].startswith("https://console.aws.amazon.com/")
    assert out["logs"]["available"] is False  # only traces configured


@pytest.mark.parametrize(
    "bad",
    [
        {"trace_url_template": "https://tempo.example.com/?q={{trace_id}}"},  # unknown placeholder
        {"log_url_template": "http://loki.example.com/?q={{service}}"},  # not https
        {"log_url_template": "javascript:alert(1)"},
        {"trace_system": "jaeger"},
        {"extra": "x"},
    ],
)
def test_a_bad_template_is_refused_when_saved(bad):
    with pytest.raises(ValidationError):
        DeepLinks.model_validate(bad)
