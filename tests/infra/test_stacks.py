"""CloudFormation assertions on the synthesized app: one synth per session (conftest.synth)."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from companyos.config import table_names
from companyos.store.models import TABLES, describe
from companyos.topology import FUNCTIONS, SCHEDULES, STATE_MACHINES

pytestmark = pytest.mark.infra

Synth = Any  # conftest.Synth: templates, resources(env, type), outdir
ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "stg", "prod")
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS-managed cache policy
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS-managed origin request policy


@pytest.fixture(scope="module")
def dev(synth: Synth) -> Template:
    return Template.from_json(synth.templates["dev"])


def _by_name(synth: Synth, type_: str, key: str, value: str, env: str = "dev") -> tuple[str, dict[str, Any]]:
    matches = [(k, r) for k, r in synth.resources(env, type_).items() if r["Properties"].get(key) == value]
    assert len(matches) == 1, f"{type_} with {key}={value}: {len(matches)}"
    return matches[0]


def _function(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    spec = next(f for f in FUNCTIONS if f.name == name)
    return _by_name(synth, "AWS::Lambda::Function", "Description", spec.description)


def _role_statements(synth: Synth, function_props: dict[str, Any]) -> list[dict[str, Any]]:
    role = function_props["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synth.resources("dev", "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


# ---------------------------------------------------------------- stages and cdk-nag


def test_every_stage_synthesizes_with_its_own_names(synth: Synth) -> None:
    assert set(synth.templates) == set(ENVS)
    for env in ENVS:
        names = {r["Properties"]["TableName"] for r in synth.resources(env, "AWS::DynamoDB::Table").values()}
        assert names == set(table_names(f"companyos-{env}").model_dump().values())


def test_stage_throttling_comes_from_cdk_json(synth: Synth) -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]["companyos"]["environments"]
    for env in ENVS:
        (stage,) = synth.resources(env, "AWS::ApiGateway::Stage").values()
        (settings,) = stage["Properties"]["MethodSettings"]
        assert settings["ThrottlingRateLimit"] == context[env]["throttle"]["rateLimit"]
        assert settings["ThrottlingBurstLimit"] == context[env]["throttle"]["burstLimit"]


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    # Given the app synthesized with AwsSolutions + Serverless checks (a finding would have failed synth)
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    # Then no plugin reports any violation, warnings included
    assert all(not plugin.get("violations") for plugin in report["pluginReports"]), report


def test_cdk_nag_is_wired_to_fail_synth(tmp_path: Any) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from infra.aws.nag import apply_checks

    # Given a bucket with no access logs, no SSL enforcement, under the same checks
    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Bad"), "Bucket")
    apply_checks(app)
    # Then synth fails
    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        app.synth()


# ---------------------------------------------------------------- data


@pytest.mark.parametrize("logical", list(TABLES))
def test_table_matches_its_pynamodb_model(synth: Synth, logical: str) -> None:
    spec = describe(logical)
    _, table = _by_name(
        synth, "AWS::DynamoDB::Table", "TableName", getattr(table_names("companyos-dev"), logical)
    )
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert "Fn::GetAtt" in props["SSESpecification"]["KMSMasterKeyId"]
    expected_keys = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
    if spec.sort_key:
        expected_keys.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
    assert props["KeySchema"] == expected_keys
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    for key in (
        spec.partition_key,
        spec.sort_key,
        *(k for i in spec.indexes for k in (i.partition_key, i.sort_key)),
    ):
        if key:
            assert types[key.name] == key.type
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i.name for i in spec.indexes}
    for index in spec.indexes:
        assert indexes[index.name]["KeySchema"][0] == {
            "AttributeName": index.partition_key.name,
            "KeyType": "HASH",
        }


def test_keys_rotate(synth: Synth) -> None:
    keys = synth.resources("dev", "AWS::KMS::Key").values()
    assert keys and all(k["Properties"]["EnableKeyRotation"] is True for k in keys)


def test_data_is_retained_outside_dev(synth: Synth) -> None:
    for env, policy in (("dev", "Delete"), ("prod", "Retain")):
        tables = synth.resources(env, "AWS::DynamoDB::Table").values()
        assert {t["DeletionPolicy"] for t in tables} == {policy}


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_function_runtime_layers_and_logging(synth: Synth, spec: Any) -> None:
    _, fn = _function(synth, spec.name)
    props = fn["Properties"]
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "app.handler"
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    assert len(props["Layers"]) == 3
    assert {"Ref": _powertools_parameter(synth)} in props["Layers"]
    assert "Ref" in props["LoggingConfig"]["LogGroup"]
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    tracing = props.get("TracingConfig", {}).get("Mode")
    assert tracing == (None if spec.name == "read_api" else "Active")


def _powertools_parameter(synth: Synth) -> str:
    installed = version("aws-lambda-powertools")
    path = f"/aws/service/powertools/python/arm64/python3.14/{installed}"
    (name,) = [k for k, p in synth.templates["dev"]["Parameters"].items() if p.get("Default") == path]
    return name


def test_deps_layer_holds_the_pure_python_dependencies(synth: Synth) -> None:
    layers = [p for p in synth.outdir.glob("asset.*/python") if (p / "pynamodb").is_dir()]
    assert layers, "deps layer asset not bundled"
    names = {p.name for p in layers[0].iterdir()}
    assert {"pynamodb", "yaml"} <= names
    assert not list(layers[0].rglob("*.so"))


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_function_environment_follows_settings(synth: Synth, spec: Any) -> None:
    env = _function(synth, spec.name)[1]["Properties"]["Environment"]["Variables"]
    assert env["COMPANYOS_ENV"] == "dev"
    assert env["WEBHOOK_SECRET_PREFIX"] == "companyos-dev/webhooks"
    assert {k for k in env if k.startswith("TABLE_")} == {f"TABLE_{t.upper()}" for t in TABLES}
    starts_runs = "kpi_run" in spec.starts_state_machines
    assert ("companyos-dev-kpi-run" in json.dumps(env["KPI_RUN_STATE_MACHINE_ARN"])) is starts_runs
    assert (env["ALERTS_TOPIC_ARN"] != "") is spec.publishes_alerts


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_function_role_is_least_privilege(synth: Synth, spec: Any) -> None:
    statements = _role_statements(synth, _function(synth, spec.name)[1]["Properties"])
    granted: dict[str, set[str]] = {}
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            for logical in TABLES:
                if f"Data{logical.title().replace('_', '')}Table" in json.dumps(resource):
                    granted.setdefault(logical, set()).update(_actions(statement))
    assert set(granted) == set(spec.tables)
    for logical, access in spec.tables.items():
        assert ("dynamodb:PutItem" in granted[logical]) is (access == "write")
        assert "dynamodb:Query" in granted[logical]
        assert "dynamodb:Scan" not in granted[logical]
    actions = {a for s in statements for a in _actions(s)}
    assert ("secretsmanager:GetSecretValue" in actions) is spec.reads_webhook_secrets
    assert ("states:StartExecution" in actions) is bool(spec.starts_state_machines)
    assert ("sns:Publish" in actions) is spec.publishes_alerts
    assert not any(a.endswith("*") for a in actions if not a.startswith("xray:"))


def test_webhook_secrets_are_granted_on_the_prefix_only(synth: Synth) -> None:
    statements = _role_statements(synth, _function(synth, "ingest")[1]["Properties"])
    (secrets,) = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert json.dumps(secrets["Resource"]).endswith(':secret:companyos-dev/webhooks/*"]]}')


def test_schedule_target_has_an_encrypted_dead_letter_queue(synth: Synth) -> None:
    _, fn = _function(synth, "scheduler")
    queue = fn["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    assert synth.templates["dev"]["Resources"][queue]["Properties"]["SqsManagedSseEnabled"] is True


# ---------------------------------------------------------------- API


def test_proxy_route_uses_the_cognito_authorizer(dev: Template, synth: Synth) -> None:
    dev.has_resource_properties("AWS::ApiGateway::Authorizer", {"Type": "COGNITO_USER_POOLS"})
    (authorizer,) = synth.resources("dev", "AWS::ApiGateway::Authorizer")
    resources = synth.resources("dev", "AWS::ApiGateway::Resource")
    (proxy,) = [k for k, r in resources.items() if r["Properties"]["PathPart"] == "{proxy+}"]
    dev.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "ResourceId": {"Ref": proxy},
            "HttpMethod": "ANY",
            "AuthorizationType": "COGNITO_USER_POOLS",
            "AuthorizerId": {"Ref": authorizer},
            "RequestValidatorId": Match.any_value(),
            "Integration": Match.object_like({"Type": "AWS_PROXY"}),
        },
    )


def test_every_route_goes_to_its_function(synth: Synth) -> None:
    methods = synth.resources("dev", "AWS::ApiGateway::Method").values()
    targets = {
        (m["Properties"]["HttpMethod"], m["Properties"]["AuthorizationType"]): json.dumps(
            m["Properties"]["Integration"]
        )
        for m in methods
    }
    ingest, _ = _function(synth, "ingest")
    read_api, _ = _function(synth, "read_api")
    assert ingest in targets[("POST", "NONE")]
    assert read_api in targets[("ANY", "COGNITO_USER_POOLS")]
    assert len(targets) == 2


def test_public_webhook_route_has_no_authorizer(synth: Synth) -> None:
    resources = synth.resources("dev", "AWS::ApiGateway::Resource")
    (source,) = [k for k, r in resources.items() if r["Properties"]["PathPart"] == "{source}"]
    (method,) = [
        m
        for m in synth.resources("dev", "AWS::ApiGateway::Method").values()
        if m["Properties"]["ResourceId"] == {"Ref": source}
    ]
    assert method["Properties"]["HttpMethod"] == "POST"
    assert method["Properties"]["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in method["Properties"]
    assert method["Properties"]["RequestParameters"] == {"method.request.path.source": True}


def test_request_validator_access_logs_and_tracing(dev: Template, synth: Synth) -> None:
    dev.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestParameters": True, "ValidateRequestBody": True}
    )
    (stage,) = synth.resources("dev", "AWS::ApiGateway::Stage").values()
    access = stage["Properties"]["AccessLogSetting"]
    assert ":log-group:" in json.dumps(access["DestinationArn"])
    assert set(json.loads(access["Format"])) >= {"requestId", "ip", "status", "resourcePath", "user"}
    assert stage["Properties"]["TracingEnabled"] is True
    assert stage["Properties"]["MethodSettings"][0]["DataTraceEnabled"] is False


def test_user_pool_and_pkce_web_client(dev: Template) -> None:
    dev.has_resource_properties(
        "AWS::Cognito::UserPool",
        {"MfaConfiguration": "ON", "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}},
    )
    dev.has_resource_properties("AWS::Cognito::UserPoolDomain", {"Domain": "companyos-dev-auth"})
    dev.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": Match.array_with(["openid"]),
            "CallbackURLs": [Match.any_value()],
        },
    )


def test_memberships_claim_is_readable_but_never_writable_by_users(synth: Synth) -> None:
    # Given the user pool's custom attribute carrying {tenant: role}
    pool = next(iter(synth.resources("dev", "AWS::Cognito::UserPool").values()))["Properties"]
    assert {
        "Name": "memberships",
        "AttributeDataType": "String",
        "Mutable": True,
        "StringAttributeConstraints": {"MaxLength": "2048"},
    } in pool["Schema"]
    # Then the web client reads it into the ID token, and a user can never write it (self-promotion)
    client = next(iter(synth.resources("dev", "AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert "custom:memberships" in client["ReadAttributes"]
    assert not any(a.startswith("custom:") for a in client["WriteAttributes"])


# ---------------------------------------------------------------- pipeline


@pytest.mark.parametrize("spec", STATE_MACHINES, ids=lambda s: s.name)
def test_state_machine_substitutes_every_placeholder(synth: Synth, spec: Any) -> None:
    _, machine = _by_name(
        synth,
        "AWS::StepFunctions::StateMachine",
        "StateMachineName",
        f"companyos-dev-{spec.name.replace('_', '-')}",
    )
    props = machine["Properties"]
    asl = (ROOT / "statemachines" / f"{spec.name}.asl.json").read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", asl))
    assert placeholders == set(props["DefinitionSubstitutions"])  # nothing left unsubstituted
    for placeholder, function in spec.functions.items():
        logical, _ = _function(synth, function)
        assert props["DefinitionSubstitutions"][placeholder] == {"Fn::GetAtt": [logical, "Arn"]}
    # The uploaded ASL keeps ${...} for CloudFormation to fill: every one of them has a substitution.
    uploaded = json.dumps(_definition(synth, props))
    assert set(re.findall(r"\$\{(\w+)\}", uploaded)) <= set(props["DefinitionSubstitutions"])
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}


def _definition(synth: Synth, props: dict[str, Any]) -> dict[str, Any]:
    """The ASL asset CDK uploads (DefinitionS3Location), read from the cloud assembly."""
    key = props["DefinitionS3Location"]["Key"]
    return json.loads((synth.outdir / f"asset.{key}").read_text())


def test_state_machine_role_invokes_only_its_functions(synth: Synth) -> None:
    for spec in STATE_MACHINES:
        _, machine = _by_name(
            synth,
            "AWS::StepFunctions::StateMachine",
            "StateMachineName",
            f"companyos-dev-{spec.name.replace('_', '-')}",
        )
        statements = _role_statements(synth, {"Role": machine["Properties"]["RoleArn"]})
        (invoke,) = [s for s in statements if "lambda:InvokeFunction" in _actions(s)]
        expected = [
            {"Fn::GetAtt": [_function(synth, f)[0], "Arn"]} for f in sorted(set(spec.functions.values()))
        ]
        resources = invoke["Resource"] if isinstance(invoke["Resource"], list) else [invoke["Resource"]]
        assert sorted(map(json.dumps, resources)) == sorted(map(json.dumps, expected))


@pytest.mark.parametrize("spec", SCHEDULES, ids=lambda s: s.name)
def test_schedule_targets_the_scheduler_function(synth: Synth, spec: Any) -> None:
    _, schedule = _by_name(synth, "AWS::Scheduler::Schedule", "Name", f"companyos-dev-{spec.name}")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == spec.expression
    assert props["State"] == "ENABLED"
    scheduler, _ = _function(synth, "scheduler")
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [scheduler, "Arn"]}
    assert json.loads(props["Target"]["Input"]) == {"schedule_class": spec.schedule_class}
    assert "RoleArn" in props["Target"]


# ---------------------------------------------------------------- alerts


def test_alerts_topic_is_encrypted_and_ssl_only(dev: Template) -> None:
    dev.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    dev.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


# ---------------------------------------------------------------- web


def test_cloudfront_serves_the_bucket_through_oac_and_api_at_same_origin(synth: Synth) -> None:
    (distribution,) = synth.resources("dev", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "ResponseHeadersPolicyId" in config["DefaultCacheBehavior"]
    s3_origin = next(o for o in config["Origins"] if "S3OriginConfig" in o)
    assert "OriginAccessControlId" in s3_origin
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/api/*"
    assert api["ViewerProtocolPolicy"] == "https-only"
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert "POST" in api["AllowedMethods"]
    api_origin = next(o for o in config["Origins"] if o["Id"] == api["TargetOriginId"])
    assert "execute-api" in json.dumps(api_origin["DomainName"])
    assert "OriginPath" in api_origin  # /<stage name>, split off the API URL by CloudFormation
    assert "Logging" in config


def test_security_headers_policy(dev: Template) -> None:
    dev.has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": Match.object_like(
                {
                    "SecurityHeadersConfig": Match.object_like(
                        {
                            "ContentSecurityPolicy": Match.object_like({"Override": True}),
                            "StrictTransportSecurity": Match.object_like(
                                {"AccessControlMaxAgeSec": 31536000}
                            ),
                            "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        }
                    )
                }
            )
        },
    )


def test_web_is_deployed_with_a_generated_config_json(synth: Synth) -> None:
    (deployment,) = synth.resources("dev", "Custom::CDKBucketDeployment").values()
    assert len(deployment["Properties"]["SourceObjectKeys"]) == 2
    assert "DistributionId" in deployment["Properties"]
    # config.json holds deploy-time values as markers the deployment handler replaces with JSON strings
    markers = {k: json.dumps(v) for m in deployment["Properties"]["SourceMarkers"] for k, v in m.items()}
    configs = [p.read_text() for p in synth.outdir.glob("asset.*/config.json")]
    raw = next(c for c in configs if '"environment":"dev"' in c)
    config = json.loads(re.sub(r"<<marker:0xbaba:\d+>>", lambda m: json.dumps(m.group(0)), raw))
    assert config["apiBase"] == "/api"
    assert config["auth"]["mode"] == "cognito"
    assert config["auth"]["region"] == "eu-west-1"
    assert "amazoncognito.com" in markers[config["auth"]["domain"]]
    assert "WebClient" in markers[config["auth"]["clientId"]]
    assert "WebDistribution" in markers[config["auth"]["redirectUri"]]


def test_buckets_are_private_encrypted_and_ssl_only(synth: Synth) -> None:
    buckets = synth.resources("dev", "AWS::S3::Bucket")
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert "BucketEncryption" in props
    logged = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    assert len(logged) == len(buckets) - 1  # all but the access-log bucket itself
    policies = json.dumps(list(synth.resources("dev", "AWS::S3::BucketPolicy").values()))
    assert policies.count('"aws:SecureTransport": "false"') >= len(buckets)


# ---------------------------------------------------------------- cost


def test_athena_workgroup_enforces_encrypted_results(dev: Template) -> None:
    dev.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "EnforceWorkGroupConfiguration": True,
                    "ResultConfiguration": Match.object_like(
                        {"EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
                    ),
                }
            )
        },
    )


def test_cur2_table_uses_partition_projection(synth: Synth) -> None:
    (table,) = synth.resources("dev", "AWS::Glue::Table").values()
    table_input = table["Properties"]["TableInput"]
    params = table_input["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.billing_period.type"] == "date"
    assert params["projection.billing_period.format"] == "yyyy-MM"
    assert "${billing_period}" in json.dumps(params["storage.location.template"])
    assert table_input["PartitionKeys"] == [{"Name": "billing_period", "Type": "string"}]
    columns = {c["Name"]: c["Type"] for c in table_input["StorageDescriptor"]["Columns"]}
    assert columns["line_item_unblended_cost"] == "double"
    assert columns["line_item_usage_start_date"] == "timestamp"
    assert columns["resource_tags"] == "map<string,string>"
    assert columns["product"] == "map<string,string>"
    assert "ParquetHiveSerDe" in table_input["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
