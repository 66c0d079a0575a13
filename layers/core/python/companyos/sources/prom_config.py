"""A tenant's Prometheus connector: the endpoint and the PromQL queries whose samples become
signals (validated pydantic models), stored as the tenant's `prometheus` connector in the catalog."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from companyos.adapters.repos import Catalog

SOURCE = "prometheus"


class PromQuerySpec(BaseModel):
    """One PromQL query of a tenant's connector and what its samples become."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="e.g. slo_good, latency_p95")
    promql: str = Field(min_length=1, max_length=4000)
    kind: Literal["prom_sample", "slo_window", "prom_daily", "cert_expiry"] = Field(
        default="prom_sample",
        description="the signal kind of its samples; cert_expiry: NotAfter per certificate series "
        "(instant, at the pull) into the certificate inventory (`prom_certs`)",
    )
    mode: Literal["range", "instant"] = "range"
    step_s: int = Field(default=3600, ge=15, le=86400, description="evaluation step = alignment")
    window: str | None = Field(default=None, max_length=16, description="label, e.g. 1h; default: step")
    lookback_steps: int = Field(default=6, ge=1, le=2000, description="aligned timestamps per pull")
    service_label: str = "service"
    route_label: str | None = Field(
        default=None,
        max_length=64,
        description="the endpoint label (route, uri, handler): the signal's route",
    )
    kpi_id: str | None = None

    @property
    def window_label(self) -> str:
        if self.window:
            return self.window
        s = self.step_s
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if s % size == 0:
                return f"{s // size}{unit}"
        return f"{s}s"

    @property
    def promql_hash(self) -> str:
        return hashlib.sha256(self.promql.encode()).hexdigest()[:12]


class PrometheusConfig(BaseModel):
    """A tenant's Prometheus connector (catalog item `CONNECTOR#prometheus`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(pattern=r"^https?://[^\s]+$")
    timeout_s: float = Field(default=5.0, gt=0, le=30)
    max_attempts: int = Field(default=3, ge=1, le=6)
    lag_s: int = Field(default=60, ge=0, le=3600, description="only windows this old are complete")
    queries: tuple[PromQuerySpec, ...] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique_ids(self) -> PrometheusConfig:
        ids = [q.id for q in self.queries]
        if len(ids) != len(set(ids)):
            raise ValueError("query ids must be unique")
        return self


def save_config(tenant_id: str, config: PrometheusConfig) -> None:
    Catalog().tenant(tenant_id).put_connector(SOURCE, config.model_dump())


def load_config(tenant_id: str) -> PrometheusConfig | None:
    data = Catalog().tenant(tenant_id).connector(SOURCE)
    return None if data is None else PrometheusConfig.model_validate(data)
