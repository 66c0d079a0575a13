"""Admin → Integrations: a tenant's trace and log deep-link templates (sources/deeplinks.py), read by
any member (`catalog:view`) and set by an admin (`admin:write`). A write is versioned (the stored
item's revision: `expected_revision` must be the one read, else 409 `version_conflict`) and is one
audit event on the tenant's chain with what changed, appended after the write succeeded.

A template is refused (422, nothing written) unless it is an `https://` URL with a host, without
whitespace, at most `MAX_TEMPLATE` characters, using only the allowed `{{placeholders}}`, with the
store it links to named (`trace_system` / `log_system`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from companyos.adapters.repos import Catalog
from companyos.admin.context import Ctx, audit, auth
from companyos.domain.errors import InvalidPayload
from companyos.sources import deeplinks

MAX_TEMPLATE = 4000
_KINDS = (
    ("trace", "trace_system", "trace_url_template", deeplinks.TRACE_SYSTEMS),
    ("log", "log_system", "log_url_template", deeplinks.LOG_SYSTEMS),
)


_NAMES = {
    "trace_url_template": "The trace URL template",
    "log_url_template": "The log URL template",
    "trace_system": "The trace store",
    "log_system": "The log store",
}


def _refuse(field: str, code: str, message: str) -> InvalidPayload:
    return InvalidPayload(message, code=code, details={"path": field})


def _check(field: str, template: str) -> None:
    name = _NAMES[field]
    if len(template) > MAX_TEMPLATE:
        raise _refuse(field, "template_too_long", f"{name} is longer than {MAX_TEMPLATE:,} characters")
    if any(c.isspace() for c in deeplinks.TOKEN.sub("", template)):  # `{{ service }}` may have them
        raise _refuse(field, "invalid_url_template", f"{name} must not contain spaces or line breaks")
    parts = urlsplit(template)
    if parts.scheme != "https" or not parts.hostname:
        raise _refuse(field, "template_not_https", f"{name} must be an https:// URL with a host")
    unknown = sorted(set(deeplinks.TOKEN.findall(template)) - deeplinks.PLACEHOLDERS)
    if unknown:
        allowed = ", ".join(f"{{{{{p}}}}}" for p in sorted(deeplinks.PLACEHOLDERS))
        raise InvalidPayload(
            f"{name} uses unknown placeholders {', '.join(unknown)}; allowed: {allowed}",
            code="unknown_placeholder",
            details={"path": field, "unknown": unknown, "allowed": sorted(deeplinks.PLACEHOLDERS)},
        )


def validate(values: dict[str, Any]) -> deeplinks.DeepLinks:
    """The configuration to store, or a 422 naming the field and what is wrong with it."""
    for _, system_field, template_field, _systems in _KINDS:
        template = (values.get(template_field) or "").strip() or None
        values[template_field] = template
        if template is None:
            continue
        _check(template_field, template)
        if not values.get(system_field):
            raise _refuse(
                system_field, "system_required", f"{system_field} is required with {template_field}"
            )
    return deeplinks.DeepLinks.model_validate(values)


def _view(ctx: Ctx) -> dict[str, Any]:
    data, revision, updated = Catalog().tenant(ctx.tenant_id).connector_item(deeplinks.SOURCE)
    config = deeplinks.DeepLinks.model_validate(data or {})
    return {
        "tenant": ctx.tenant_id,
        "deeplinks": config.model_dump(),
        "revision": revision,
        "updated_at": updated.isoformat() if updated else None,
        "placeholders": sorted(deeplinks.PLACEHOLDERS),
        "systems": {"trace": deeplinks.TRACE_SYSTEMS, "log": deeplinks.LOG_SYSTEMS},
        "max_length": MAX_TEMPLATE,
    }


def get_deeplinks(ctx: Ctx) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return _view(ctx)


def put_deeplinks(
    ctx: Ctx, values: dict[str, Any], expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    role = auth(ctx, "admin:write")
    config = validate(dict(values))
    catalog = Catalog().tenant(ctx.tenant_id)
    before, revision, _ = catalog.connector_item(deeplinks.SOURCE)
    if expected_revision is None:
        expected_revision = revision  # a blind write replaces what is there (still versioned)
    new_revision = catalog.put_connector_at(deeplinks.SOURCE, config.model_dump(), expected_revision)
    old = before or {}
    changes = {k: {"from": old.get(k), "to": v} for k, v in config.model_dump().items() if old.get(k) != v}
    audit(
        ctx,
        role,
        "integration.deeplinks.update",
        "integration:deeplinks",
        reason,
        revision=new_revision,
        changes=changes,
    )
    return _view(ctx)
