"""Alert state and per-tenant alert configuration, in the catalog table of the tenant.

pk=TENANT#<id>; sk=ALERT#<alert_id> (one item per alert identity, reused across episodes, so the
set is bounded by rules x label sets), ALERTCFG#TUNING (threshold/for/enabled per rule) and
ALERTCFG#ROUTES (escalation routes). Writes are guarded by the item version (optimistic locking):
a concurrent change raises Conflict (409 `version_conflict`), never a silent overwrite.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError

from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import CatalogItem
from companyos.domain import clock
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import EscalationRoutes, RuleTuning
from companyos.domain.alert_silences import Silence
from companyos.domain.errors import Conflict, NotFound

ALERT_PREFIX = "ALERT#"
TUNING_SK = "ALERTCFG#TUNING"
ROUTES_SK = "ALERTCFG#ROUTES"
SILENCE_PREFIX = "SILENCE#"
GROUP_PREFIX = "ALERTGROUP#"  # the grouping window of a rule and status (alerts/grouping.py)
PAUSE_PREFIX = "PAUSE#"  # the admin plane's KPI pauses (admin/catalog.py), read for maintenance


class AlertRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._pk = f"TENANT#{tenant_id}"
        self._versions: dict[str, int | None] = {}

    # ------------------------------------------------------------------ alerts

    def alerts(self) -> dict[str, Alert]:
        """Every alert identity of the tenant (one Query), remembering versions for `save`."""
        out = {}
        for item in CatalogItem.query(self._pk, CatalogItem.sk.startswith(ALERT_PREFIX)):
            alert = Alert.model_validate(item.data)
            self._versions[item.sk] = item.version
            out[alert.alert_id] = alert
        return out

    def get(self, alert_id: str) -> Alert:
        sk = ALERT_PREFIX + alert_id
        try:
            item = CatalogItem.get(self._pk, sk)
        except CatalogItem.DoesNotExist as exc:
            raise NotFound(
                f"alert '{alert_id}' does not exist in this tenant", code="alert_not_found"
            ) from exc
        self._versions[sk] = item.version
        return Alert.model_validate(item.data)

    def save(self, alert: Alert) -> None:
        """Write the alert if nobody changed it since this repository read it (or it is new)."""
        if alert.tenant_id != self.tenant_id:
            raise ValueError("an alert of another tenant")
        self._save(ALERT_PREFIX + alert.alert_id, "alert", alert.model_dump(mode="json"))

    def _save(self, sk: str, kind: str, data: dict[str, Any]) -> None:
        item = CatalogItem(pk=self._pk, sk=sk, kind=kind, data=data, updated_at=clock.now())
        version = self._versions.get(sk)
        if version is not None:
            item.version = version
        try:
            item.save()
        except PutError as exc:
            if is_condition_failure(exc):
                raise Conflict(f"{kind} was changed concurrently; retry", code="version_conflict") from exc
            raise
        self._versions[sk] = item.version

    # ------------------------------------------------------------------ configuration

    def _config(self, sk: str) -> dict[str, Any] | None:
        try:
            item = CatalogItem.get(self._pk, sk)
        except CatalogItem.DoesNotExist:
            self._versions[sk] = None
            return None
        self._versions[sk] = item.version
        return dict(item.data)

    def tunings(self) -> dict[str, RuleTuning]:
        data = self._config(TUNING_SK) or {}
        return {rule_id: RuleTuning.model_validate(t) for rule_id, t in data.items()}

    def put_tunings(self, tunings: dict[str, RuleTuning]) -> None:
        if TUNING_SK not in self._versions:
            self._config(TUNING_SK)
        data = {k: v.model_dump(exclude_none=True) for k, v in tunings.items()}
        self._save(TUNING_SK, "alert_tuning", data)

    # ------------------------------------------------------------------ silences and maintenance

    def silences(self) -> list[Silence]:
        """Every silence of the tenant, expired ones included (one Query)."""
        items = CatalogItem.query(self._pk, CatalogItem.sk.startswith(SILENCE_PREFIX))
        return [Silence.model_validate(i.data) for i in items]

    def put_silence(self, silence: Silence) -> None:
        """A new silence (its id is new) or a change of one read by `silence`."""
        self._save(SILENCE_PREFIX + silence.silence_id, "alert_silence", silence.model_dump(mode="json"))

    def silence(self, silence_id: str) -> Silence:
        sk = SILENCE_PREFIX + silence_id
        try:
            item = CatalogItem.get(self._pk, sk)
        except CatalogItem.DoesNotExist as exc:
            raise NotFound(f"silence '{silence_id}' does not exist", code="silence_not_found") from exc
        self._versions[sk] = item.version
        return Silence.model_validate(item.data)

    def pauses(self) -> list[dict[str, Any]]:
        """The tenant's KPI pauses as the admin plane stored them (kpi_id, scope, window, reason)."""
        return [dict(i.data) for i in CatalogItem.query(self._pk, CatalogItem.sk.startswith(PAUSE_PREFIX))]

    def routes(self) -> EscalationRoutes | None:
        data = self._config(ROUTES_SK)
        return EscalationRoutes.model_validate(data) if data is not None else None

    def put_routes(self, routes: EscalationRoutes) -> None:
        if ROUTES_SK not in self._versions:
            self._config(ROUTES_SK)
        self._save(ROUTES_SK, "alert_routes", routes.model_dump(mode="json"))

    # ------------------------------------------------------------------ grouping windows

    def group_window(self, rule_id: str, status: str) -> dict[str, Any] | None:
        """The (rule, status) grouping window as stored, remembering its version (strongly read)."""
        sk = f"{GROUP_PREFIX}{rule_id}#{status}"
        try:
            item = CatalogItem.get(self._pk, sk, consistent_read=True)
        except CatalogItem.DoesNotExist:
            self._versions[sk] = None
            return None
        self._versions[sk] = item.version
        return dict(item.data)

    def put_group_window(self, rule_id: str, status: str, data: dict[str, Any]) -> None:
        """Write the window read by `group_window` (Conflict when it changed meanwhile)."""
        self._save(f"{GROUP_PREFIX}{rule_id}#{status}", "alert_group", data)
