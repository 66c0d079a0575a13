"""Source plug-ins by the name used in `POST /api/ingest/{source}`."""

from __future__ import annotations

from companyos.errors import NotFound
from companyos.sources.base import Source
from companyos.sources.github import GitHubSource

SOURCES: dict[str, Source] = {s.name: s for s in (GitHubSource(),)}


def get(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError as exc:
        raise NotFound(f"unknown source '{name}'", code="unknown_source") from exc
