"""A tenant of the platform: the value the catalog stores and every use case is scoped by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    environment: str
    active: bool
    home_region: str
    dora_benchmark: str
    profile: str  # e.g. ops-heavy / admin-heavy (demo) — free text
