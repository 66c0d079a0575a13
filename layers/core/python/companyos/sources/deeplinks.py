"""A tenant's trace and log deep links: URL templates for its trace store (Grafana Tempo, AWS X-Ray)
and log store (Grafana Loki, CloudWatch Logs Insights), stored as the tenant's `deeplinks` connector
in the catalog beside the Prometheus one (sources/prom_config.py).

A template is the store's own URL with placeholders `{{name}}` (double braces, so the single braces
of a Grafana Explore JSON state and the `$` escapes of AWS console URLs stay as they are):
`service`, `route`, `incident_id` and the window `start` / `end` (RFC 3339, UTC), `start_ms` /
`end_ms` (Unix milliseconds), `start_s` / `end_s` (Unix seconds). Values are URL-encoded on the way
in. An unknown placeholder is refused when the template is saved, never at click time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator

from companyos.adapters.repos import Catalog

SOURCE = "deeplinks"
PLACEHOLDERS = frozenset(
    {"service", "route", "incident_id", "start", "end", "start_ms", "end_ms", "start_s", "end_s"}
)
TOKEN = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
TRACE_SYSTEMS = {"tempo": "Grafana Tempo", "xray": "AWS X-Ray"}
LOG_SYSTEMS = {"loki": "Grafana Loki", "cloudwatch": "CloudWatch Logs Insights"}
NO_TRACE_LINK = "No trace link configured — set a Tempo/X-Ray URL template in Admin → Integrations"
NO_LOG_LINK = (
    "No log link configured — set a Loki/CloudWatch Logs Insights URL template in Admin → Integrations"
)


def _template(value: str | None) -> str | None:
    if value is None:
        return None
    unknown = sorted(set(TOKEN.findall(value)) - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown placeholders {unknown}; allowed: {sorted(PLACEHOLDERS)}")
    return value


class DeepLinks(BaseModel):
    """The catalog item `CONNECTOR#deeplinks`: one trace and one log URL template, each optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trace_system: Literal["tempo", "xray"] | None = None
    trace_url_template: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=4000)
    log_system: Literal["loki", "cloudwatch"] | None = None
    log_url_template: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=4000)

    _check = field_validator("trace_url_template", "log_url_template")(_template)


def render(template: str, start: datetime, end: datetime, **values: str | None) -> str:
    """The template with its placeholders filled (URL-encoded); a value not given is empty."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    window = {
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
        "start_ms": str(int(start.timestamp() * 1000)),
        "end_ms": str(int(end.timestamp() * 1000)),
        "start_s": str(int(start.timestamp())),
        "end_s": str(int(end.timestamp())),
    }
    filled = {**window, **{k: v or "" for k, v in values.items()}}
    return TOKEN.sub(lambda m: quote(filled.get(m.group(1), ""), safe=""), template)


def links(
    config: DeepLinks | None, start: datetime, end: datetime, label: str, **values: str | None
) -> dict[str, dict[str, object]]:
    """`{"traces": block, "logs": block}`: each a link over [start, end] or the plain reason none is
    configured (`available: false`)."""
    out: dict[str, dict[str, object]] = {}
    c = config or DeepLinks()
    for key, system, template, names, missing in (
        ("traces", c.trace_system, c.trace_url_template, TRACE_SYSTEMS, NO_TRACE_LINK),
        ("logs", c.log_system, c.log_url_template, LOG_SYSTEMS, NO_LOG_LINK),
    ):
        if not template:
            out[key] = {"available": False, "reason": missing, "items": []}
            continue
        item = {
            "label": f"{label} in {names.get(system or '', 'the configured store')}",
            "href": render(template, start, end, **values),
            "system": system,
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        out[key] = {"available": True, "reason": None, "items": [item]}
    return out


def save_config(tenant_id: str, config: DeepLinks) -> None:
    Catalog().tenant(tenant_id).put_connector(SOURCE, config.model_dump())


def load_config(tenant_id: str) -> DeepLinks | None:
    data = Catalog().tenant(tenant_id).connector(SOURCE)
    return None if data is None else DeepLinks.model_validate(data)
