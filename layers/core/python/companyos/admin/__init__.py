"""The admin control plane (issue #9): catalog, versions, promotion, approvals, controls, lineage.

`is_paused` / `paused_kpis` / `maintenance` are the scheduler's and dashboards' view of pauses."""

from companyos.admin.catalog import is_paused, maintenance, paused_kpis

__all__ = ["is_paused", "maintenance", "paused_kpis"]
