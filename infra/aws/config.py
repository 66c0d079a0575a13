"""Per-environment settings of the AWS target, read from the `companyos` key of cdk.json's context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import aws_logs as logs
from companyos.adapters.config import Settings

EnvName = Literal["dev", "stg", "prod"]
ENVIRONMENTS: tuple[EnvName, ...] = ("dev", "stg", "prod")


def _default(field: str) -> Any:
    """The Settings default, so an environment that does not set a knob behaves like infra/local."""
    return Settings.model_fields[field].default


@dataclass(frozen=True)
class StageConfig:
    name: EnvName
    account: str | None  # None: account-agnostic (the deploying credentials decide)
    region: str
    prefix: str  # physical name prefix: tables, state machines, secrets, Cognito domain
    alert_emails: tuple[str, ...]
    cockpit_domain: str | None  # custom domain of the cockpit; None = the CloudFront domain
    certificate_arn: str | None  # ACM certificate (us-east-1) for cockpit_domain
    rate_limit: int  # API stage throttling, requests per second
    burst_limit: int
    log_retention: logs.RetentionDays
    retain_data: bool  # RETAIN tables, keys and buckets on stack deletion
    powertools_version: str  # AWS-managed Powertools layer, pinned to the pip version
    # Executive roll-up and board pack (docs/rollup in Settings): optional per environment.
    org_name: str = _default("org_name")
    strict_residency: bool = _default("strict_residency")
    board_pack_sync_max_rows: int = _default("board_pack_sync_max_rows")
    export_link_ttl_s: int = _default("export_link_ttl_s")
    # Tenants whose AWS costs are this environment's CUR 2.0 export (LAKE_CUR_TENANTS of kpi_run).
    cur_tenants: tuple[str, ...] = ()
    # ARN of a CLOUDFRONT-scope AWS WAF web ACL (made in us-east-1) for the distribution; None: no WAF.
    web_acl_arn: str | None = None
    # Alert subscriber records (JSON, infra/aws/subscribers.py) whose e-mail / SMS channels get SNS
    # subscriptions with their filter policies; relative to the repository root. None: no such file.
    alert_subscribers_file: str | None = None

    @property
    def webhook_secret_prefix(self) -> str:
        return f"{self.prefix}/webhooks"

    @classmethod
    def from_context(cls, name: EnvName, companyos: dict[str, Any]) -> StageConfig:
        env = companyos["environments"][name]
        return cls(
            name=name,
            account=env.get("account") or None,
            region=env["region"],
            prefix=env["prefix"],
            alert_emails=tuple(env.get("alertEmails") or ()),
            cockpit_domain=env.get("cockpitDomain") or None,
            certificate_arn=env.get("certificateArn") or None,
            rate_limit=int(env["throttle"]["rateLimit"]),
            burst_limit=int(env["throttle"]["burstLimit"]),
            log_retention=logs.RetentionDays[env["logRetention"]],
            retain_data=bool(env["retainData"]),
            powertools_version=companyos["powertoolsVersion"],
            org_name=env.get("orgName") or _default("org_name"),
            strict_residency=bool(env.get("strictResidency", _default("strict_residency"))),
            board_pack_sync_max_rows=int(
                env.get("boardPackSyncMaxRows", _default("board_pack_sync_max_rows"))
            ),
            export_link_ttl_s=int(env.get("exportLinkTtlSeconds", _default("export_link_ttl_s"))),
            cur_tenants=tuple(env.get("curTenants") or ()),
            web_acl_arn=env.get("webAclArn") or None,
            alert_subscribers_file=env.get("alertSubscribersFile") or None,
        )
