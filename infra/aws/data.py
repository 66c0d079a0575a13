"""Data: one customer-managed KMS key and the DynamoDB tables, built from the pynamodb models."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from companyos.adapters.config import TableNames
from companyos.adapters.models import TABLES, KeySpec, describe
from constructs import Construct

_TYPES = {"S": ddb.AttributeType.STRING, "N": ddb.AttributeType.NUMBER}


def _attr(key: KeySpec | None) -> ddb.Attribute | None:
    return ddb.Attribute(name=key.name, type=_TYPES[key.type]) if key else None


class Data(Construct):
    """`tables[logical_name]` for every entry of `companyos.adapters.models.TABLES`."""

    def __init__(self, scope: Construct, id: str, *, names: TableNames, retain: bool) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.key = kms.Key(
            self,
            "Key",
            description="CompanyOS data at rest: DynamoDB tables, schedule targets' dead-letter queues",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        self.tables: dict[str, ddb.Table] = {}
        for logical in TABLES:
            spec = describe(logical)
            table = ddb.Table(
                self,
                f"{logical.title().replace('_', '')}Table",
                table_name=getattr(names, logical),
                partition_key=_attr(spec.partition_key),
                sort_key=_attr(spec.sort_key),
                billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
                encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=self.key,
                point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=spec.ttl_attribute,
                stream=ddb.StreamViewType(spec.stream) if spec.stream else None,
                deletion_protection=retain,
                removal_policy=removal,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attr(index.partition_key),
                    sort_key=_attr(index.sort_key),
                    projection_type=ddb.ProjectionType.ALL,
                )
            self.tables[logical] = table

    def index_names(self, logical: str) -> list[str]:
        return [index.name for index in describe(logical).indexes]
