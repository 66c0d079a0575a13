"""Local resources of the board-pack export (issue #8): the reports bucket and the exports topic."""

from __future__ import annotations

import boto3
from companyos.adapters.config import Settings


def provision_reports(settings: Settings, state_machines: dict[str, str], prefix: str) -> Settings:
    """Create the reports bucket and exports topic; the settings the functions need to use them."""
    bucket = f"{prefix}-reports"
    boto3.client("s3").create_bucket(Bucket=bucket)
    topic_arn = boto3.client("sns").create_topic(Name=f"{prefix}-exports")["TopicArn"]
    return settings.model_copy(
        update={
            "reports_bucket": bucket,
            "exports_topic_arn": topic_arn,
            "board_pack_state_machine_arn": state_machines.get("board_pack", ""),
        }
    )
