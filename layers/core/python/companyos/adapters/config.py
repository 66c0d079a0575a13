"""Runtime configuration: a pydantic model validated once at cold start.

Logic receives a `Settings` object; only `Settings.from_env()` reads the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

Environment = Literal["dev", "stg", "prod", "local"]


class TableNames(BaseModel):
    catalog: str
    signals: str
    kpi_log: str
    scores: str
    audit: str
    idempotency: str


class Settings(BaseModel):
    environment: Environment
    region: str
    tables: TableNames
    kpi_run_state_machine_arn: str = Field(
        default="", description="empty where the function never starts runs"
    )
    alerts_topic_arn: str = ""
    alerts_dlq_url: str = Field(default="", description="SQS queue of alert messages SNS did not accept")
    escalation_state_machine_arn: str = ""
    approval_state_machine_arn: str = Field(
        default="", description="the approval state machine (admin API: start requests, settle tokens)"
    )
    audit_signing_key_id: str = Field(
        default="", description="KMS asymmetric ECC_NIST_P256 SIGN_VERIFY key that signs audit digests"
    )
    webhook_secret_prefix: str = Field(
        description="Secrets Manager prefix; a (tenant, source) secret is <prefix>/<tenant>/<source>"
    )
    max_webhook_bytes: int = 1_000_000
    cockpit_url: str = ""
    # Executive roll-up and board pack (issue #8, docs/rollup.md)
    org_name: str = "CompanyOS"
    strict_residency: bool = Field(
        default=False, description="skip tenants outside the caller's home region in the roll-up"
    )
    reports_bucket: str = ""
    exports_topic_arn: str = ""
    board_pack_state_machine_arn: str = ""
    board_pack_sync_max_rows: int = Field(
        default=400, description="tenants x appendix rows above which the board pack is rendered async"
    )
    export_link_ttl_s: int = Field(default=86400, ge=60, le=604800)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        return cls(
            environment=e["COMPANYOS_ENV"],
            region=e.get("AWS_REGION") or e["AWS_DEFAULT_REGION"],
            tables=TableNames(
                catalog=e["TABLE_CATALOG"],
                signals=e["TABLE_SIGNALS"],
                kpi_log=e["TABLE_KPI_LOG"],
                scores=e["TABLE_SCORES"],
                audit=e["TABLE_AUDIT"],
                idempotency=e["TABLE_IDEMPOTENCY"],
            ),
            kpi_run_state_machine_arn=e.get("KPI_RUN_STATE_MACHINE_ARN", ""),
            alerts_topic_arn=e.get("ALERTS_TOPIC_ARN", ""),
            alerts_dlq_url=e.get("ALERTS_DLQ_URL", ""),
            escalation_state_machine_arn=e.get("ESCALATION_STATE_MACHINE_ARN", ""),
            approval_state_machine_arn=e.get("APPROVAL_STATE_MACHINE_ARN", ""),
            audit_signing_key_id=e.get("AUDIT_SIGNING_KEY_ID", ""),
            webhook_secret_prefix=e["WEBHOOK_SECRET_PREFIX"],
            max_webhook_bytes=int(e.get("MAX_WEBHOOK_BYTES", "1000000")),
            cockpit_url=e.get("COCKPIT_URL", ""),
            org_name=e.get("ORG_NAME") or "CompanyOS",
            strict_residency=e.get("STRICT_RESIDENCY", "false").lower() in ("1", "true", "yes"),
            reports_bucket=e.get("REPORTS_BUCKET", ""),
            exports_topic_arn=e.get("EXPORTS_TOPIC_ARN", ""),
            board_pack_state_machine_arn=e.get("BOARD_PACK_STATE_MACHINE_ARN", ""),
            board_pack_sync_max_rows=int(e.get("BOARD_PACK_SYNC_MAX_ROWS", "400")),
            export_link_ttl_s=int(e.get("EXPORT_LINK_TTL_S", "86400")),
        )

    def to_env(self) -> dict[str, str]:
        """The inverse of from_env: what CDK and infra/local put into a function's environment."""
        return {
            "COMPANYOS_ENV": self.environment,
            "TABLE_CATALOG": self.tables.catalog,
            "TABLE_SIGNALS": self.tables.signals,
            "TABLE_KPI_LOG": self.tables.kpi_log,
            "TABLE_SCORES": self.tables.scores,
            "TABLE_AUDIT": self.tables.audit,
            "TABLE_IDEMPOTENCY": self.tables.idempotency,
            "KPI_RUN_STATE_MACHINE_ARN": self.kpi_run_state_machine_arn,
            "ALERTS_TOPIC_ARN": self.alerts_topic_arn,
            "ALERTS_DLQ_URL": self.alerts_dlq_url,
            "ESCALATION_STATE_MACHINE_ARN": self.escalation_state_machine_arn,
            "APPROVAL_STATE_MACHINE_ARN": self.approval_state_machine_arn,
            "AUDIT_SIGNING_KEY_ID": self.audit_signing_key_id,
            "WEBHOOK_SECRET_PREFIX": self.webhook_secret_prefix,
            "MAX_WEBHOOK_BYTES": str(self.max_webhook_bytes),
            "COCKPIT_URL": self.cockpit_url,
            "ORG_NAME": self.org_name,
            "STRICT_RESIDENCY": "true" if self.strict_residency else "false",
            "REPORTS_BUCKET": self.reports_bucket,
            "EXPORTS_TOPIC_ARN": self.exports_topic_arn,
            "BOARD_PACK_STATE_MACHINE_ARN": self.board_pack_state_machine_arn,
            "BOARD_PACK_SYNC_MAX_ROWS": str(self.board_pack_sync_max_rows),
            "EXPORT_LINK_TTL_S": str(self.export_link_ttl_s),
        }


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Cold-start settings of the running function (cached; tests call `settings.cache_clear()`)."""
    return Settings.from_env()


def table_names(prefix: str) -> TableNames:
    return TableNames(
        catalog=f"{prefix}-catalog",
        signals=f"{prefix}-signals",
        kpi_log=f"{prefix}-kpi-log",
        scores=f"{prefix}-scores",
        audit=f"{prefix}-audit",
        idempotency=f"{prefix}-idempotency",
    )
