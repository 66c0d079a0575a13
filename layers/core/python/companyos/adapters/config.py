"""Runtime configuration: pydantic-settings models validated once at cold start.

Logic receives a `Settings` object; only `Settings.from_env()` reads the environment. Each field is
declared once, with the name of its environment variable as its alias: `from_env` reads the
variables by alias (pydantic-settings' environment source over the given mapping), `to_env` writes
them back. Constructing `Settings(...)` explicitly (CDK, infra/local, tests) never reads the
environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

Environment = Literal["dev", "stg", "prod", "local"]
# variables whose empty value means "not set" (as the AWS SDK reads AWS_REGION)
_EMPTY_IS_UNSET = frozenset({"AWS_REGION", "ORG_NAME"})


class _EnvSettings(BaseSettings):
    """Explicit values only; `_read` is the one place an environment is read."""

    model_config = SettingsConfigDict(case_sensitive=True, populate_by_name=True, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of `os.environ`."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping: dict[str, str | None] = {k: v for k, v in env.items() if v or k not in _EMPTY_IS_UNSET}
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._mapping


def _read(model: type[BaseSettings], env: Mapping[str, str]) -> dict[str, Any]:
    return _MappingSource(model, env)()


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TableNames(BaseModel):
    """The stage's DynamoDB tables (read from TABLE_* by alias)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    catalog: str = Field(alias="TABLE_CATALOG")
    signals: str = Field(alias="TABLE_SIGNALS")
    kpi_log: str = Field(alias="TABLE_KPI_LOG")
    scores: str = Field(alias="TABLE_SCORES")
    audit: str = Field(alias="TABLE_AUDIT")
    idempotency: str = Field(alias="TABLE_IDEMPOTENCY")


class Settings(_EnvSettings):
    environment: Environment = Field(alias="COMPANYOS_ENV")
    region: str = Field(
        validation_alias=AliasChoices("region", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="set by the Lambda runtime (AWS_REGION), never written by to_env",
    )
    tables: TableNames
    kpi_run_state_machine_arn: str = Field(
        default="",
        alias="KPI_RUN_STATE_MACHINE_ARN",
        description="empty where the function never starts runs",
    )
    alerts_topic_arn: str = Field(default="", alias="ALERTS_TOPIC_ARN")
    alerts_dlq_url: str = Field(
        default="", alias="ALERTS_DLQ_URL", description="SQS queue of alert messages SNS did not accept"
    )
    escalation_state_machine_arn: str = Field(default="", alias="ESCALATION_STATE_MACHINE_ARN")
    approval_state_machine_arn: str = Field(
        default="",
        alias="APPROVAL_STATE_MACHINE_ARN",
        description="the approval state machine (admin API: start requests, settle tokens)",
    )
    audit_signing_key_id: str = Field(
        default="",
        alias="AUDIT_SIGNING_KEY_ID",
        description="KMS asymmetric ECC_NIST_P256 SIGN_VERIFY key that signs audit digests",
    )
    webhook_secret_prefix: str = Field(
        alias="WEBHOOK_SECRET_PREFIX",
        description="Secrets Manager prefix; a (tenant, source) secret is <prefix>/<tenant>/<source>",
    )
    max_webhook_bytes: int = Field(default=1_000_000, alias="MAX_WEBHOOK_BYTES")
    cockpit_url: str = Field(default="", alias="COCKPIT_URL")
    # Executive roll-up and board pack (issue #8, docs/rollup.md)
    org_name: str = Field(default="CompanyOS", alias="ORG_NAME")
    strict_residency: bool = Field(
        default=False,
        alias="STRICT_RESIDENCY",
        description="skip tenants outside the caller's home region in the roll-up",
    )
    reports_bucket: str = Field(default="", alias="REPORTS_BUCKET")
    exports_topic_arn: str = Field(default="", alias="EXPORTS_TOPIC_ARN")
    board_pack_state_machine_arn: str = Field(default="", alias="BOARD_PACK_STATE_MACHINE_ARN")
    board_pack_sync_max_rows: int = Field(
        default=400,
        alias="BOARD_PACK_SYNC_MAX_ROWS",
        description="tenants x appendix rows above which the board pack is rendered async",
    )
    export_link_ttl_s: int = Field(default=86400, ge=60, le=604800, alias="EXPORT_LINK_TTL_S")

    @field_validator("strict_residency", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        """An environment flag is on for 1 / true / yes (any case), off for anything else."""
        return value.strip().lower() in ("1", "true", "yes") if isinstance(value, str) else value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        return cls(**_read(cls, e), tables=TableNames.model_validate(e))

    def to_env(self) -> dict[str, str]:
        """The inverse of from_env: what CDK and infra/local put into a function's environment."""
        own = self.model_dump(by_alias=True, exclude={"region", "tables"})
        first = {"COMPANYOS_ENV": own.pop("COMPANYOS_ENV"), **self.tables.model_dump(by_alias=True)}
        return {k: _env_value(v) for k, v in (first | own).items()}


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
