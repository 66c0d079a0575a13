"""Cost: the CUR 2.0 lake (S3), its Glue table with partition projection, and an Athena workgroup."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.aws.buckets import secure_bucket
from infra.aws.config import StageConfig

CUR_PREFIX = "cur2"
CUR_EXPORT = "companyos"
CUR_TABLE = "cur2"  # the table the cost contracts' SQL reads (runs/packs/cost-contracts-v1.yaml)
RESULTS_PREFIX = "results"  # Athena query results, under the workgroup's output location
# Core CUR 2.0 columns with the Glue types the AWS CID framework declares for its `cur2` table
# (awslabs/cid-data-collection-framework, data-exports-aggregation.yaml). Columns the CID table leaves
# untyped are omitted rather than guessed; the Parquet files carry more columns than listed here.
CUR2_COLUMNS: tuple[tuple[str, str], ...] = (
    ("bill_bill_type", "string"),
    ("bill_billing_entity", "string"),
    ("bill_billing_period_start_date", "timestamp"),
    ("bill_billing_period_end_date", "timestamp"),
    ("bill_invoice_id", "string"),
    ("bill_payer_account_id", "string"),
    ("bill_payer_account_name", "string"),
    ("identity_line_item_id", "string"),
    ("identity_time_interval", "string"),
    ("line_item_availability_zone", "string"),
    ("line_item_legal_entity", "string"),
    ("line_item_line_item_description", "string"),
    ("line_item_line_item_type", "string"),
    ("line_item_operation", "string"),
    ("line_item_product_code", "string"),
    ("line_item_resource_id", "string"),
    ("line_item_unblended_cost", "double"),
    ("line_item_usage_account_id", "string"),
    ("line_item_usage_account_name", "string"),
    ("line_item_usage_amount", "double"),
    ("line_item_usage_start_date", "timestamp"),
    ("line_item_usage_end_date", "timestamp"),
    ("line_item_usage_type", "string"),
    ("pricing_public_on_demand_cost", "double"),
    ("pricing_term", "string"),
    ("pricing_unit", "string"),
    ("product", "map<string,string>"),
    ("product_product_family", "string"),
    ("product_servicecode", "string"),
    ("product_instance_type", "string"),
    ("reservation_effective_cost", "double"),
    ("reservation_reservation_a_r_n", "string"),
    ("savings_plan_savings_plan_a_r_n", "string"),
    ("savings_plan_savings_plan_effective_cost", "double"),
    ("split_line_item_split_cost", "double"),
    ("resource_tags", "map<string,string>"),
    ("cost_category", "map<string,string>"),
    ("discount", "map<string,double>"),
)


class Cost(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, log_bucket: s3.IBucket) -> None:
        super().__init__(scope, id)
        self.cur_bucket = secure_bucket(self, "CurBucket", log_bucket=log_bucket, log_prefix="cur/")
        self._allow_data_exports()
        self.results_bucket = secure_bucket(
            self, "AthenaResults", log_bucket=log_bucket, log_prefix="athena/"
        )
        self.results_bucket.add_lifecycle_rule(
            expiration=Duration.days(30), noncurrent_version_expiration=Duration.days(1)
        )

        self.database_name = f"{config.prefix.replace('-', '_')}_cost"
        self.workgroup_name = f"{config.prefix}-cost"
        self.output_location = f"s3://{self.results_bucket.bucket_name}/{RESULTS_PREFIX}/"
        database = self._database()
        self.table = self._cur2_table()
        self.table.add_resource_dependency(database)
        self.workgroup = self._workgroup()

    def _allow_data_exports(self) -> None:
        """AWS Data Exports delivers CUR 2.0 Parquet into the CUR bucket."""
        stack = Stack.of(self)
        self.cur_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[
                    iam.ServicePrincipal("bcm-data-exports.amazonaws.com"),
                    iam.ServicePrincipal("billingreports.amazonaws.com"),
                ],
                actions=["s3:PutObject", "s3:GetBucketPolicy"],
                resources=[self.cur_bucket.bucket_arn, self.cur_bucket.arn_for_objects(f"{CUR_PREFIX}/*")],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": [
                            f"arn:{stack.partition}:cur:us-east-1:{stack.account}:definition/*",
                            f"arn:{stack.partition}:bcm-data-exports:us-east-1:{stack.account}:export/*",
                        ],
                    },
                },
            )
        )

    def _database(self) -> glue.CfnDatabase:
        stack = Stack.of(self)
        return glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="CompanyOS cost data (CUR 2.0)"
            ),
        )

    def _cur2_table(self) -> glue.CfnTable:
        """The CUR 2.0 export as a Glue table, one partition per billing period (partition projection)."""
        stack = Stack.of(self)
        location = f"s3://{self.cur_bucket.bucket_name}/{CUR_PREFIX}/{CUR_EXPORT}/data"
        return glue.CfnTable(
            self,
            "Cur2Table",
            catalog_id=stack.account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=CUR_TABLE,
                description="AWS Data Exports CUR 2.0, Parquet, one partition per billing period",
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name="billing_period", type="string")],
                parameters={
                    "classification": "parquet",
                    "EXTERNAL": "TRUE",
                    "projection.enabled": "true",
                    "projection.billing_period.type": "date",
                    "projection.billing_period.format": "yyyy-MM",
                    "projection.billing_period.range": "2023-01,NOW",
                    "projection.billing_period.interval": "1",
                    "projection.billing_period.interval.unit": "MONTHS",
                    "storage.location.template": location + "/BILLING_PERIOD=${billing_period}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location + "/",
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    ),
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in CUR2_COLUMNS],
                ),
            ),
        )

    def _workgroup(self) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.workgroup_name,
            description="CompanyOS cost queries over CUR 2.0",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=10 * 1024**3,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.output_location,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    def lake_environment(self, tenants: tuple[str, ...]) -> dict[str, str]:
        """LAKE_* settings of a function that queries the lake (`companyos.adapters.lake.LakeSettings`)."""
        return {
            "LAKE_ENGINE": "athena",
            "LAKE_ATHENA_DATABASE": self.database_name,
            "LAKE_ATHENA_WORKGROUP": self.workgroup_name,
            "LAKE_ATHENA_OUTPUT": self.output_location,
            "LAKE_CUR_TENANTS": ",".join(tenants),
        }

    def grant_query(self, role: iam.IRole) -> None:
        """Least privilege for CUR queries through the workgroup: Athena on this workgroup only; Glue
        reads of this database and its tables; the CUR export read (objects under its prefix); query
        results written and read under the results prefix. Both buckets are SSE-S3: no KMS grant."""
        stack = Stack.of(self)
        workgroup = stack.format_arn(
            service="athena", resource="workgroup", resource_name=self.workgroup_name
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
                resources=[workgroup],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
                    stack.format_arn(
                        service="glue", resource="table", resource_name=f"{self.database_name}/{CUR_TABLE}"
                    ),
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket"],
                resources=[self.cur_bucket.bucket_arn, self.results_bucket.bucket_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.cur_bucket.arn_for_objects(f"{CUR_PREFIX}/*")]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[self.results_bucket.arn_for_objects(f"{RESULTS_PREFIX}/*")],
            )
        )
