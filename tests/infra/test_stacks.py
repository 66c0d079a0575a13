"""CloudFormation assertions on the synthesized app: one synth per session (conftest.synth)."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from companyos.adapters.config import Settings, TableNames, table_names
from companyos.adapters.models import TABLES, describe
from companyos.alerts.topology import DLQ_RETENTION_S
from companyos.topology import FUNCTIONS, PULL_SCHEDULES, SCHEDULES, STATE_MACHINES, route_owner

from infra.aws import pdf_layer

pytestmark = pytest.mark.infra

Synth = Any  # conftest.Synth: templates, resources(env, type), outdir
ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "stg", "prod")
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS-managed cache policy
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS-managed: gzip + Brotli on
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


def test_api_gateway_refuses_in_the_error_schema_of_the_specs(synth: Synth) -> None:
    # the authorizer's 401 (no / bad token) and API Gateway's other refusals answer {code, message}
    # like the handlers (docs/cockpit-api.md), not API Gateway's {"message": ...}
    for env in ENVS:
        answers = synth.resources(env, "AWS::ApiGateway::GatewayResponse").values()
        by_type = {r["Properties"]["ResponseType"]: r["Properties"]["ResponseTemplates"] for r in answers}
        assert {"UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(by_type)
        template = json.loads(
            by_type["UNAUTHORIZED"]["application/json"].replace("$context.error.messageString", '"x"')
        )
        assert template == {"code": "unauthenticated", "message": "x"}


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
    symmetric = [
        k for k in keys if k["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
    ]
    assert len(symmetric) == len(keys) - 1  # all but the audit signing key (asymmetric keys cannot rotate)
    assert all(k["Properties"]["EnableKeyRotation"] is True for k in symmetric)


def test_audit_signing_key_is_asymmetric_p256_sign_verify(synth: Synth) -> None:
    (logical, key), *rest = [
        (k, r) for k, r in synth.resources("dev", "AWS::KMS::Key").items() if "KeySpec" in r["Properties"]
    ]
    assert not rest
    assert key["Properties"]["KeySpec"] == "ECC_NIST_P256"
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    aliases = synth.resources("dev", "AWS::KMS::Alias").values()
    assert {
        "AliasName": "alias/companyos-dev-audit-signing",
        "TargetKeyId": {"Fn::GetAtt": [logical, "Arn"]},
    } in [a["Properties"] for a in aliases]
    assert {k["DeletionPolicy"] for k in synth.resources("prod", "AWS::KMS::Key").values()} == {"Retain"}


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
    assert len(props["Layers"]) == (4 if spec.renders_pdf else 3)
    assert {"Ref": _powertools_parameter(synth)} in props["Layers"]
    assert "Ref" in props["LoggingConfig"]["LogGroup"]
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["TracingConfig"] == {"Mode": "Active"}


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


# ---------------------------------------------------------------- board-pack layer (reportlab + Pillow)

LAMBDA_TARGET = pdf_layer.Target.for_lambda("python3.14", "arm64")
ELF_MACHINE_AARCH64 = 183  # e_machine of an AArch64 ELF object


def _board_pack_layer(synth: Synth) -> Path:
    (folder,) = {p.parent.parent.resolve() for p in synth.outdir.glob("asset.*/python/PIL")}
    return folder


def test_board_pack_layer_pins_are_the_tested_versions() -> None:
    # The layer ships the versions the board-pack tests ran with (pyproject's pinned `reports` extra).
    pinned = pdf_layer.pins()
    assert set(pinned) == {"reportlab", "pillow", "charset-normalizer"}
    assert pinned == {name: version(name) for name in pinned}


def test_board_pack_layer_holds_reportlab_and_an_aarch64_pillow(synth: Synth) -> None:
    python = _board_pack_layer(synth) / "python"
    # Pillow's extension for CPython 3.14 on aarch64: the file name, its ELF header and the wheel's tags
    imaging = python / "PIL/_imaging.cpython-314-aarch64-linux-gnu.so"
    assert imaging.is_file()
    header = imaging.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64
    (wheel,) = python.glob(f"pillow-{version('pillow')}.dist-info/WHEEL")
    tags = [line.removeprefix("Tag: ") for line in wheel.read_text().splitlines() if line.startswith("Tag: ")]
    assert tags and all(re.fullmatch(r"cp314-cp314-manylinux_2_\d+_aarch64", tag) for tag in tags), tags
    # reportlab (pure Python) and its charset detector, and nothing built for another machine or Python
    assert (python / "reportlab/pdfgen/canvas.py").is_file()
    assert (python / f"reportlab-{version('reportlab')}.dist-info").is_dir()
    assert (python / "charset_normalizer/__init__.py").is_file()
    extensions = [p.name for p in python.rglob("*.so")]
    assert extensions and all("cpython-314-aarch64-linux-gnu" in n for n in extensions if ".cpython-" in n)
    assert not list(python.rglob("__pycache__")) and not (python / "bin").exists()


def test_board_pack_layer_holds_every_dependency_of_what_it_ships(synth: Synth) -> None:
    from packaging.metadata import Metadata
    from packaging.utils import canonicalize_name

    # Given the layer's distributions (fetched with --no-deps, so the pins must be the whole closure)
    python = _board_pack_layer(synth) / "python"
    shipped = {}
    for info in python.glob("*.dist-info"):
        meta = Metadata.from_email((info / "METADATA").read_text(), validate=False)
        shipped[canonicalize_name(meta.name)] = meta
    assert set(shipped) == set(pdf_layer.pins())
    # Then every requirement that applies on the Lambda (CPython 3.14, Linux aarch64) is shipped, in range
    lambda_env = {"python_version": "3.14", "platform_machine": "aarch64", "sys_platform": "linux"}
    lambda_env["extra"] = ""
    for meta in shipped.values():
        for req in meta.requires_dist or []:
            if req.marker and not req.marker.evaluate(lambda_env):
                continue
            dependency = shipped.get(canonicalize_name(req.name))
            assert dependency, f"{meta.name} needs {req}: not in the layer"
            assert req.specifier.contains(str(dependency.version)), f"{meta.name} needs {req}"


def test_only_the_board_pack_function_gets_the_board_pack_layer(synth: Synth) -> None:
    assert [spec.name for spec in FUNCTIONS if spec.renders_pdf] == ["board_pack"]
    for env in ENVS:
        (logical, layer), *others = [
            (k, r)
            for k, r in synth.resources(env, "AWS::Lambda::LayerVersion").items()
            if r["Properties"]["Description"].startswith("Board-pack PDF deps (arm64)")
        ]
        assert not others, env
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.14"]
        holders = [
            fn["Properties"]["Description"]
            for fn in synth.resources(env, "AWS::Lambda::Function").values()
            if {"Ref": logical} in fn["Properties"].get("Layers", [])
        ]
        assert holders == [next(f.description for f in FUNCTIONS if f.name == "board_pack")], env


def _runtime_standin(target: pdf_layer.Target) -> Path:
    """What the Lambda runtime (boto3) and the AWS-managed Powertools layer (`[all]`) put on the path,
    installed for `target` once into the layer cache."""
    pins = [f"aws-lambda-powertools[all]=={version('aws-lambda-powertools')}", f"boto3=={version('boto3')}"]
    folder = pdf_layer.CACHE / f"runtime-{target.machine}-{target.python_version}-{'-'.join(sorted(pins))}"
    if not folder.is_dir():
        work = folder.with_name(folder.name + f".{os.getpid()}")
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--only-binary=:all:"),
                *(arg for platform in target.platforms for arg in ("--platform", platform)),
                *("--python-version", target.python_version),
                *("--implementation", target.implementation, "--target", str(work), *pins),
            ],
            check=True,
            timeout=600,
        )
        work.rename(folder)
    return folder


def board_pack_imports(synth: Synth, python: str, layer: Path, runtime: Path) -> subprocess.CompletedProcess:
    """Import the board_pack handler as Lambda would: `python -I -S` (no site-packages at all) with only
    the function folder, the core layer, the deps layer, the board-pack layer's `python/` and the
    runtime stand-in on sys.path, Pillow's extension and reportlab's canvas loaded."""
    (deps,) = [p for p in synth.outdir.glob("asset.*/python") if (p / "pynamodb").is_dir()]
    paths = [ROOT / "functions/board_pack", ROOT / "layers/core/python", deps, layer, runtime]
    script = (
        "import sys; sys.path[:0] = sys.argv[1:]\n"
        "import app, PIL._imaging, reportlab.pdfgen.canvas\n"
        "assert callable(app.handler)\n"
        "assert not any('site-packages' in p for p in sys.path), sys.path\n"
        "from companyos.reports import board_pack\n"
        "print(PIL._imaging.__file__, board_pack.__name__)\n"
    )
    env = Settings(
        environment="dev",
        region="eu-west-1",
        tables=TableNames(**table_names("p").model_dump()),
        webhook_secret_prefix="p",
    ).to_env()
    env |= {"AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_SERVICE_NAME": "board_pack"}
    return subprocess.run(
        [python, "-I", "-S", "-c", script, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / "functions/board_pack",
        timeout=120,
        check=False,
    )


def test_board_pack_function_imports_with_its_layers_on_aarch64(synth: Synth) -> None:
    if platform.machine().lower() not in {"aarch64", "arm64"}:
        pytest.skip(f"the layer is for aarch64 and this machine is {platform.machine()}: it cannot load it")
    python = shutil.which(f"python{LAMBDA_TARGET.python_version}")
    if python is None:
        pytest.skip(f"no python{LAMBDA_TARGET.python_version} (the Lambda runtime's) on PATH")
    layer = _board_pack_layer(synth) / "python"
    result = board_pack_imports(synth, python, layer, _runtime_standin(LAMBDA_TARGET))
    assert result.returncode == 0, result.stderr
    assert "aarch64-linux-gnu" in result.stdout


def test_board_pack_layer_fetch_failure_fails_synth_or_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no registry (pip told to use no index and no configuration) and an empty cache
    offline = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""}
    # Then the fetch fails with what to do about it
    with pytest.raises(pdf_layer.LayerFetchError, match=pdf_layer.SKIP_ENV) as raised:
        pdf_layer.layer_folder(LAMBDA_TARGET, skip=False, cache=tmp_path, env=offline)
    assert "pip exited" in str(raised.value)
    assert not any(tmp_path.iterdir())  # no half-filled folder left to be taken for a cache
    # And with the skip flag, no fetch: None, and the synth output says the board pack will not import
    assert pdf_layer.layer_folder(LAMBDA_TARGET, skip=True, cache=tmp_path, env=offline) is None
    assert "WILL NOT IMPORT IN AWS" in capsys.readouterr().err


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_function_environment_follows_settings(synth: Synth, spec: Any) -> None:
    env = _function(synth, spec.name)[1]["Properties"]["Environment"]["Variables"]
    every = Settings(
        environment="dev",
        region="x",
        tables=TableNames(**table_names("p").model_dump()),
        webhook_secret_prefix="p",
    ).to_env()
    assert set(every) <= set(env)  # the full Settings map: a new field cannot be forgotten here
    assert env["COMPANYOS_ENV"] == "dev"
    assert env["WEBHOOK_SECRET_PREFIX"] == "companyos-dev/webhooks"
    assert {k for k in env if k.startswith("TABLE_")} == {f"TABLE_{t.upper()}" for t in TABLES}
    for var, machine in (
        ("KPI_RUN_STATE_MACHINE_ARN", "kpi-run"),
        ("ESCALATION_STATE_MACHINE_ARN", "escalation"),
        ("APPROVAL_STATE_MACHINE_ARN", "approval"),
        ("BOARD_PACK_STATE_MACHINE_ARN", "board-pack"),
    ):
        assert f":stateMachine:companyos-dev-{machine}" in json.dumps(env[var])
    refs = {var: json.dumps(env[var]) for var in every}
    assert '"AlertsAlertsTopic' in refs["ALERTS_TOPIC_ARN"]
    assert refs["ALERTS_DLQ_URL"].startswith('{"Ref": "AlertsDeadLetters')  # a queue's Ref is its URL
    assert '"ReportsBucket' in refs["REPORTS_BUCKET"]
    assert '"ReportsExportsTopic' in refs["EXPORTS_TOPIC_ARN"]
    # Only the sealer (signs) and the verifiers get the key id; request-path writers only put records.
    assert ('"AuditSigningKey' in refs["AUDIT_SIGNING_KEY_ID"]) is bool(spec.audit_key)
    assert spec.audit_key or env["AUDIT_SIGNING_KEY_ID"] == ""
    assert env["ORG_NAME"] == "CompanyOS"
    assert env["EXPORT_LINK_TTL_S"] == "86400"
    assert env["BOARD_PACK_SYNC_MAX_ROWS"] == "400"
    assert env["STRICT_RESIDENCY"] == "false"


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
    assert ("states:SendTaskSuccess" in actions) is bool(spec.settles_state_machines)
    assert ("states:StopExecution" in actions) is bool(spec.stops_state_machines)
    assert ("sns:Publish" in actions) is spec.publishes_alerts
    to_alerts_dlq = [
        s for s in statements if "sqs:SendMessage" in _actions(s) and "AlertsDeadLetters" in json.dumps(s)
    ]
    # the publisher's fallback; the notifier's dead-letter queue (failed SNS invocations)
    assert bool(to_alerts_dlq) is (spec.publishes_alerts or spec.subscribes_alerts)
    subscription_actions = {a for a in actions if "Subscri" in a or a == "sns:Unsubscribe"}
    assert bool(subscription_actions) is spec.manages_subscriptions
    assert ("kms:Sign" in actions) is (spec.audit_key == "sign")  # the sealer only (#17)
    assert ("kms:Verify" in actions) is bool(spec.audit_key)
    assert ("s3:GetObject" in actions) is bool(spec.reports_bucket or spec.queries_lake)
    assert ("s3:PutObject" in actions) is (spec.reports_bucket == "write" or spec.queries_lake)
    assert ("athena:StartQueryExecution" in actions) is spec.queries_lake
    assert not any(a.startswith("glue:") for a in actions) or spec.queries_lake
    assert not any(a.endswith("*") for a in actions if not a.startswith("xray:"))
    assert "dynamodb:Scan" not in actions


def _statement_for(synth: Synth, function: str, action: str) -> dict[str, Any]:
    statements = _role_statements(synth, _function(synth, function)[1]["Properties"])
    (statement,) = [s for s in statements if action in _actions(s)]
    return statement


@pytest.mark.parametrize("spec", [f for f in FUNCTIONS if f.stops_state_machines], ids=lambda s: s.name)
def test_stop_execution_is_scoped_to_the_machines_executions(synth: Synth, spec: Any) -> None:
    resource = json.dumps(_statement_for(synth, spec.name, "states:StopExecution")["Resource"])
    for machine in spec.stops_state_machines:
        assert f":execution:companyos-dev-{machine.replace('_', '-')}:*" in resource


@pytest.mark.parametrize("spec", [f for f in FUNCTIONS if f.publishes_alerts], ids=lambda s: s.name)
def test_alert_publishers_may_dead_letter_to_the_alerts_dlq_only(synth: Synth, spec: Any) -> None:
    statements = _role_statements(synth, _function(synth, spec.name)[1]["Properties"])
    (statement,) = [s for s in statements if "sqs:SendMessage" in _actions(s)]
    assert _actions(statement) == ["sqs:SendMessage"]
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("AlertsDeadLetters")


def test_the_sealer_is_the_only_signer_of_the_audit_digests(synth: Synth) -> None:
    assert [f.name for f in FUNCTIONS if f.audit_key == "sign"] == ["audit_sealer"]
    statement = _statement_for(synth, "audit_sealer", "kms:Sign")
    assert sorted(_actions(statement)) == ["kms:GetPublicKey", "kms:Sign", "kms:Verify"]
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("AuditSigningKey")


@pytest.mark.parametrize("spec", [f for f in FUNCTIONS if f.audit_key == "verify"], ids=lambda s: s.name)
def test_audit_verifiers_may_verify_but_not_sign(synth: Synth, spec: Any) -> None:
    statement = _statement_for(synth, spec.name, "kms:Verify")
    assert sorted(_actions(statement)) == ["kms:GetPublicKey", "kms:Verify"]
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("AuditSigningKey")


def test_the_audit_stream_feeds_the_sealer_in_filtered_bisected_batches_with_a_failure_queue(
    synth: Synth,
) -> None:
    (table,) = [
        r for k, r in synth.resources("dev", "AWS::DynamoDB::Table").items() if k.startswith("DataAuditTable")
    ]
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    (mapping,) = synth.resources("dev", "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionName"]["Ref"] == _function(synth, "audit_sealer")[0]
    assert "DataAuditTable" in json.dumps(props["EventSourceArn"])
    assert props["BisectBatchOnFunctionError"] is True and props["MaximumRetryAttempts"] == 5
    assert props["ParallelizationFactor"] == 1 and props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == 100 and props["MaximumBatchingWindowInSeconds"] == 60
    assert "AuditSigningSealerStreamFailures" in json.dumps(props["DestinationConfig"])
    (pattern,) = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "REC#"}]}}}}


@pytest.mark.parametrize("spec", [f for f in FUNCTIONS if f.settles_state_machines], ids=lambda s: s.name)
def test_task_tokens_are_settled_on_the_named_machines(synth: Synth, spec: Any) -> None:
    statement = _statement_for(synth, spec.name, "states:SendTaskSuccess")
    assert "states:SendTaskFailure" in _actions(statement)
    resource = json.dumps(statement["Resource"])
    for machine in spec.settles_state_machines:
        assert f":stateMachine:companyos-dev-{machine.replace('_', '-')}" in resource


def test_reports_bucket_grant_is_objects_under_exports_only(synth: Synth) -> None:
    for spec in [f for f in FUNCTIONS if f.reports_bucket]:
        statement = _statement_for(synth, spec.name, "s3:GetObject")
        resource = json.dumps(statement["Resource"])
        assert '"ReportsBucket' in resource and resource.endswith('"/exports/*"]]}')


def test_webhook_secrets_are_granted_on_the_prefix_only(synth: Synth) -> None:
    statements = _role_statements(synth, _function(synth, "ingest")[1]["Properties"])
    (secrets,) = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert json.dumps(secrets["Resource"]).endswith(':secret:companyos-dev/webhooks/*"]]}')


@pytest.mark.parametrize("name", ["scheduler", *(p.function for p in PULL_SCHEDULES)])
def test_schedule_target_has_an_encrypted_dead_letter_queue(synth: Synth, name: str) -> None:
    _, fn = _function(synth, name)
    queue = fn["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    key = synth.templates["dev"]["Resources"][queue]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert key.startswith("DataKey")  # the customer-managed data key
    # Lambda sends the failed event with the function's role: it needs a data key of that key.
    statements = _role_statements(synth, fn["Properties"])
    key_arn = {"Fn::GetAtt": [key, "Arn"]}
    assert any(
        {"kms:GenerateDataKey", "kms:Decrypt"} <= set(_actions(s)) and s["Resource"] == key_arn
        for s in statements
    )


@pytest.mark.parametrize("env", ENVS)
def test_every_log_group_is_encrypted_with_the_logs_key(synth: Synth, env: str) -> None:
    groups = synth.resources(env, "AWS::Logs::LogGroup")
    assert len(groups) == len(FUNCTIONS) + len(STATE_MACHINES) + 2  # + API access logs, deploy logs
    keys = {g["Properties"]["KmsKeyId"]["Fn::GetAtt"][0] for g in groups.values()}
    (key,) = keys
    assert key.startswith("LogsKey")
    policy = synth.templates[env]["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in policy if s["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}]
    assert "kms:GenerateDataKey" in logs["Action"]
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]


def test_access_log_bucket_is_versioned(synth: Synth) -> None:
    (logs,) = [b for k, b in synth.resources("dev", "AWS::S3::Bucket").items() if k.startswith("AccessLogs")]
    assert logs["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = logs["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 365
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


# ---------------------------------------------------------------- API


def test_proxy_route_uses_the_cognito_authorizer(dev: Template, synth: Synth) -> None:
    dev.has_resource_properties("AWS::ApiGateway::Authorizer", {"Type": "COGNITO_USER_POOLS"})
    (authorizer,) = synth.resources("dev", "AWS::ApiGateway::Authorizer")
    (proxy,) = [k for k, path in _resource_paths(synth).items() if path == "/api/{proxy+}"]
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


def _resource_paths(synth: Synth) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource -> its full path."""
    resources = synth.resources("dev", "AWS::ApiGateway::Resource")

    def path(logical: str) -> str:
        props = resources[logical]["Properties"]
        parent = props["ParentId"].get("Ref")
        return (path(parent) if parent else "") + "/" + props["PathPart"]

    return {logical: path(logical) for logical in resources}


def _methods_by_path(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    paths = _resource_paths(synth)
    return {
        (m["Properties"]["HttpMethod"], paths[m["Properties"]["ResourceId"]["Ref"]]): m["Properties"]
        for m in synth.resources("dev", "AWS::ApiGateway::Method").values()
    }


def _integrated_function(synth: Synth, method: dict[str, Any]) -> str:
    uri = json.dumps(method["Integration"]["Uri"])
    (name,) = [f.name for f in FUNCTIONS if f'"{_function(synth, f.name)[0]}"' in uri]
    return name


def test_every_route_goes_to_its_function(synth: Synth) -> None:
    methods = _methods_by_path(synth)
    public = {tuple(r.split(" ", 1)): f.name for f in FUNCTIONS for r in f.public_routes}
    for (verb, path), method in methods.items():
        if (verb, path) in public:
            assert method["AuthorizationType"] == "NONE"
            assert _integrated_function(synth, method) == public[(verb, path)]
            continue
        # Everything else is authorized and owned by the longest matching prefix (topology.route_owner).
        assert verb == "ANY" and method["AuthorizationType"] == "COGNITO_USER_POOLS", path
        assert "AuthorizerId" in method
        probe = path.replace("/{proxy+}", "/x")
        assert _integrated_function(synth, method) == route_owner(probe), path
    for spec in FUNCTIONS:
        for prefix in spec.api_prefixes:
            assert ("ANY", prefix) in methods and ("ANY", prefix + "/{proxy+}") in methods
    # A resource made only as a parent of a nested prefix still routes (no fall-back to the parent proxy).
    assert _integrated_function(synth, methods[("ANY", "/api/platform/executive/{proxy+}")]) == "rollup_api"
    assert _integrated_function(synth, methods[("ANY", "/api/platform/executive/exports")]) == "board_pack"
    assert _integrated_function(synth, methods[("ANY", "/api/{proxy+}")]) == "read_api"


def test_binary_media_types_let_gzip_and_pdf_bodies_through(synth: Synth) -> None:
    (api,) = synth.resources("dev", "AWS::ApiGateway::RestApi").values()
    # */*: OPA posts gzip with Content-Type application/json, so only a wildcard keeps its bytes intact.
    assert api["Properties"]["BinaryMediaTypes"] == ["*/*"]
    # No API Gateway payload compression: with it on, API Gateway inflates gzip request bodies before
    # ingest checks the signatures over them; the handlers compress their answers instead (#19).
    assert "MinimumCompressionSize" not in api["Properties"]


def test_public_webhook_routes_have_no_authorizer(synth: Synth) -> None:
    """POST: the deliveries; GET: a sender's one-time verification (Okta event hooks)."""
    resources = synth.resources("dev", "AWS::ApiGateway::Resource")
    (source,) = [k for k, r in resources.items() if r["Properties"]["PathPart"] == "{source}"]
    methods = [
        m
        for m in synth.resources("dev", "AWS::ApiGateway::Method").values()
        if m["Properties"]["ResourceId"] == {"Ref": source}
    ]
    assert sorted(m["Properties"]["HttpMethod"] for m in methods) == ["GET", "POST"]
    for method in methods:
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
    # the KPI run logs its errors only, without execution data (its record is the run log, #19)
    expected = ("ERROR", False) if spec.name == "kpi_run" else ("ALL", True)
    logging = props["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == expected
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


def test_board_pack_machine_publishes_to_the_exports_topic_only(synth: Synth) -> None:
    for spec in STATE_MACHINES:
        _, machine = _by_name(
            synth,
            "AWS::StepFunctions::StateMachine",
            "StateMachineName",
            f"companyos-dev-{spec.name.replace('_', '-')}",
        )
        statements = _role_statements(synth, {"Role": machine["Properties"]["RoleArn"]})
        published = json.dumps([s["Resource"] for s in statements if "sns:Publish" in _actions(s)])
        assert ('"ReportsExportsTopic' in published) is spec.publishes_exports
        assert ('"AlertsAlertsTopic' in published) is bool(spec.topics)


@pytest.mark.parametrize("spec", PULL_SCHEDULES, ids=lambda s: s.name)
def test_pull_schedule_invokes_its_connector_with_every_tenant(synth: Synth, spec: Any) -> None:
    _, schedule = _by_name(synth, "AWS::Scheduler::Schedule", "Name", f"companyos-dev-{spec.name}")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == spec.expression
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [_function(synth, spec.function)[0], "Arn"]}
    assert json.loads(props["Target"]["Input"]) == {}
    role = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    invoke = [
        s
        for s in _role_statements(synth, {"Role": {"Fn::GetAtt": [role, "Arn"]}})
        if "lambda:InvokeFunction" in _actions(s)
    ]
    assert _function(synth, spec.function)[0] in json.dumps(invoke)


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


def _ssl_only(policy: dict[str, Any]) -> bool:
    return '"aws:SecureTransport": "false"' in json.dumps(policy)


def test_alerts_dlq_is_kms_encrypted_ssl_only_and_fed_by_sns(synth: Synth) -> None:
    logical, queue = _by_name(synth, "AWS::SQS::Queue", "QueueName", "companyos-dev-alerts-dlq")
    props = queue["Properties"]
    assert props["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("AlertsKey")
    assert props["MessageRetentionPeriod"] == DLQ_RETENTION_S
    (policy,) = [
        p
        for p in synth.resources("dev", "AWS::SQS::QueuePolicy").values()
        if {"Ref": logical} in p["Properties"]["Queues"]
    ]
    assert _ssl_only(policy)
    (from_sns,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "sns.amazonaws.com"}
    ]
    assert from_sns["Action"] == "sqs:SendMessage"
    assert "AlertsAlertsTopic" in json.dumps(from_sns["Condition"]["ArnEquals"]["aws:SourceArn"])
    # SNS encrypts what it redrives with the queue's key, so the key policy lets SNS (this account) use it.
    key = synth.templates["dev"]["Resources"][props["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    (sns_use,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "sns.amazonaws.com"}
    ]
    assert sorted(_actions(sns_use)) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_alert_email_subscriptions_redrive_to_the_dlq(synth: Synth) -> None:
    # No stage configures e-mails in cdk.json; build one that does to check the redrive policy.
    from aws_cdk import App, Stack

    from infra.aws.alerts import Alerts

    stack = Stack(App(), "T")
    Alerts(stack, "Alerts", prefix="t", emails=("cto@example.com",), retain=False)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "RedrivePolicy": {"deadLetterTargetArn": Match.any_value()}},
    )


def _subscriber(subscriber_id: str, channels: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A `companyos.domain.alert_subscribers.Subscriber` record as the records file holds it."""
    return {
        "subscriber_id": subscriber_id,
        "name": subscriber_id.title(),
        "email": f"{subscriber_id}@northwind.example",
        "channels": channels,
        "created_at": "2026-01-05T09:00:00Z",
        "created_by": "admin@northwind.example",
        "updated_at": "2026-01-05T09:00:00Z",
        "updated_by": "admin@northwind.example",
        **fields,
    }


SUBSCRIBERS = {
    "tenants": {
        "northwind": [
            _subscriber(
                "dana",
                [
                    {
                        "channel_id": "c1",
                        "type": "email",
                        "address": "dana@northwind.example",
                        "carries": ["email"],
                    },
                    {"channel_id": "c2", "type": "sms", "address": "+14155550123", "carries": ["sms"]},
                ],
                personas=["ops", "cto"],
                oncall=["sre_primary"],
                min_severity="high",
            ),
            _subscriber(
                "erin",
                [
                    {
                        "channel_id": "c1",
                        "type": "email",
                        "address": "ceo@northwind.example",
                        "carries": ["email"],
                    }
                ],
                personas=["ceo"],
            ),
            _subscriber(
                "frank",
                [
                    {
                        "channel_id": "c1",
                        "type": "email",
                        "address": "frank@northwind.example",
                        "carries": ["email"],
                    }
                ],
                personas=["ceo"],
                enabled=False,
            ),
        ]
    }
}


def _dev_config(tmp_path: Path, doc: Any) -> Any:
    from infra.aws.config import StageConfig

    path = tmp_path / "subscribers-dev.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    companyos = json.loads((ROOT / "cdk.json").read_text())["context"]["companyos"]
    companyos["environments"]["dev"]["alertSubscribersFile"] = str(path)
    return StageConfig.from_context("dev", companyos)


@pytest.fixture(scope="module")
def with_subscribers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The dev stage synthesized (cdk-nag on) with a subscriber records file."""
    from aws_cdk import App

    from infra.aws.nag import apply_checks
    from infra.aws.stage import CockpitStage

    tmp = tmp_path_factory.mktemp("subscribers")
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = App(outdir=str(tmp / "cdk.out"), context=context)
    stage = CockpitStage(app, _dev_config(tmp, SUBSCRIBERS))
    apply_checks(app)
    app.synth()  # raises on an unacknowledged cdk-nag finding
    template = stage.synth().get_stack_by_name(stage.stack.stack_name).template
    return json.loads(json.dumps(template))


def _subscriptions(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]


def _dlq_arn(template: dict[str, Any]) -> dict[str, Any]:
    (dlq,) = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::SQS::Queue" and r["Properties"].get("QueueName") == "companyos-dev-alerts-dlq"
    ]
    return {"Fn::GetAtt": [dlq, "Arn"]}


def test_subscriptions_and_filter_policies_come_from_the_subscriber_records(
    with_subscribers: dict[str, Any],
) -> None:
    # Given dana (ops + cto, high and above, on call for sre_primary; e-mail and SMS), erin (ceo, every
    # severity; e-mail) and frank (disabled)
    natives = [s for s in _subscriptions(with_subscribers) if s["Protocol"] in ("email", "sms")]
    found = sorted(
        (s["Protocol"], s["Endpoint"], json.dumps(s["FilterPolicy"], sort_keys=True)) for s in natives
    )
    # Then one subscription per native channel (SNS keeps one per endpoint and topic): an on-call
    # subscriber's alert and escalation policies under $or with the tenant in common; none for frank
    dana_alert = {"kind": ["alert"], "persona": ["cto", "ops"], "severity": ["critical", "high"]}
    dana_page = {"kind": ["escalation"], "target": ["sre_primary"]}
    expected = [
        (
            "email",
            "dana@northwind.example",
            {"tenant": ["northwind"], "$or": [{**dana_alert, "channel": ["email"]}, dana_page]},
        ),
        (
            "sms",
            "+14155550123",
            {"tenant": ["northwind"], "$or": [{**dana_alert, "channel": ["sms"]}, dana_page]},
        ),
        (
            "email",
            "ceo@northwind.example",
            {
                "kind": ["alert"],
                "tenant": ["northwind"],
                "persona": ["ceo"],
                "channel": ["email"],
                "severity": ["critical", "high", "warning", "medium", "info"],
            },
        ),
    ]
    assert found == sorted((p, e, json.dumps(f, sort_keys=True)) for p, e, f in expected)
    assert "frank@northwind.example" not in json.dumps(with_subscribers)
    # each on the alerts topic, matching message attributes, redriving to the alerts DLQ
    topic = next(
        k
        for k, r in with_subscribers["Resources"].items()
        if r["Type"] == "AWS::SNS::Topic" and k.startswith("AlertsAlertsTopic")
    )
    for s in natives:
        assert s["TopicArn"] == {"Ref": topic}
        assert s["FilterPolicyScope"] == "MessageAttributes"
        assert s["RedrivePolicy"] == {"deadLetterTargetArn": _dlq_arn(with_subscribers)}


def test_the_notifier_takes_alert_and_escalation_messages_and_dead_letters_to_the_alerts_dlq(
    synth: Synth,
) -> None:
    template = synth.templates["dev"]
    notifier, fn = _function(synth, "alert_notifier")
    (subscription,) = [s for s in _subscriptions(template) if s["Protocol"] == "lambda"]
    assert subscription["Endpoint"] == {"Fn::GetAtt": [notifier, "Arn"]}
    assert subscription["FilterPolicy"] == {"kind": ["alert", "escalation"]}
    assert subscription["FilterPolicyScope"] == "MessageAttributes"
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": _dlq_arn(template)}
    # the topic may invoke it, and a failed invocation (after Lambda's retries) lands in the alerts DLQ
    (permission,) = [
        p["Properties"]
        for p in synth.resources("dev", "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [notifier, "Arn"]}
    ]
    assert permission["Principal"] == "sns.amazonaws.com"
    assert permission["SourceArn"] == subscription["TopicArn"]
    assert fn["Properties"]["DeadLetterConfig"] == {"TargetArn": _dlq_arn(template)}
    statements = _role_statements(synth, fn["Properties"])
    alerts_key = template["Resources"][_dlq_arn(template)["Fn::GetAtt"][0]]["Properties"]["KmsMasterKeyId"]
    assert any(
        sorted(_actions(s)) == ["kms:Decrypt", "kms:GenerateDataKey"] and s["Resource"] == alerts_key
        for s in statements
    )
    assert "sns:Publish" not in {a for s in statements for a in _actions(s)}


def test_the_subscriber_api_manages_subscriptions_of_the_alerts_topic_only(synth: Synth) -> None:
    assert [f.name for f in FUNCTIONS if f.manages_subscriptions] == ["alerts_api"]
    managing = {
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:SetSubscriptionAttributes",
        "sns:GetSubscriptionAttributes",
        "sns:ListSubscriptionsByTopic",
    }
    statements = _role_statements(synth, _function(synth, "alerts_api")[1]["Properties"])
    granting = [s for s in statements if managing & set(_actions(s))]
    assert managing <= {a for s in granting for a in _actions(s)}
    for statement in granting:  # (merged with sns:Publish, which has the same resource)
        assert statement["Resource"]["Ref"].startswith("AlertsAlertsTopic")  # a topic's Ref is its ARN


def test_the_subscriber_routes_go_to_the_alerts_api(synth: Synth) -> None:
    methods = _methods_by_path(synth)
    for prefix in ("/api/alert-subscribers", "/api/alert-notifications"):
        for path in (prefix, f"{prefix}/{{proxy+}}"):
            method = methods[("ANY", path)]
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
            assert _integrated_function(synth, method) == "alerts_api"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {
                "tenants": {
                    "northwind": [
                        _subscriber(
                            "gail",
                            [
                                {
                                    "channel_id": "c1",
                                    "type": "slack",
                                    "address": "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
                                    "carries": ["slack"],
                                }
                            ],
                            personas=["cto"],
                        )
                    ]
                }
            },
            r"tenant 'northwind' record 0 \(gail\): channel 'c1' is a slack channel.*add webhook channels "
            r"through the subscriber API",
        ),
        (
            {"tenants": {"northwind": [{"subscriber_id": "hal", "name": "Hal"}]}},
            r"tenant 'northwind' record 0 \(hal\): not a subscriber record: .*email",
        ),
        (
            {
                "tenants": {
                    "northwind": [
                        _subscriber(
                            "jo",
                            [
                                {
                                    "channel_id": "c1",
                                    "type": "email",
                                    "address": "jo@x.example",
                                    "carries": ["email"],
                                }
                            ],
                            personas=["cto", "ctoo"],
                        )
                    ]
                }
            },
            r"record 0 \(jo\): unknown persona 'ctoo'",
        ),
        ("{not json", r"line 1: not JSON"),
        ({"northwind": []}, r'top level: expected \{"tenants"'),
    ],
    ids=["webhook-channel", "malformed-record", "unknown-persona", "not-json", "no-tenants-key"],
)
def test_synth_refuses_a_subscriber_file_it_cannot_deploy(tmp_path: Path, doc: Any, message: str) -> None:
    from aws_cdk import App

    from infra.aws.stage import CockpitStage
    from infra.aws.subscribers import SubscribersFileError

    config = _dev_config(tmp_path, doc)
    with pytest.raises(SubscribersFileError, match=message) as refused:
        CockpitStage(App(outdir=str(tmp_path / "cdk.out")), config)
    assert "subscribers-dev.json" in str(refused.value)  # names the file


def test_synth_refuses_a_subscriber_too_wide_for_a_filter_policy(tmp_path: Path, monkeypatch: Any) -> None:
    # An e-mail or SMS channel has at most 8 personas x 1 channel x 5 severities = 40 combinations, under
    # SNS's 150, so the check is exercised with a lower limit.
    from companyos.domain import alert_subscribers

    from infra.aws.subscribers import SubscribersFileError, load

    monkeypatch.setattr(alert_subscribers, "MAX_COMBINATIONS", 4)
    ivy = _subscriber(
        "ivy",
        [{"channel_id": "c1", "type": "email", "address": "ivy@x.example", "carries": ["email"]}],
        personas=["cto"],
    )
    config = _dev_config(tmp_path, {"tenants": {"northwind": [ivy]}})
    with pytest.raises(
        SubscribersFileError, match=r"record 0 \(ivy\): the email channel's filter would have 5"
    ):
        load(Path(config.alert_subscribers_file))


def test_a_disabled_subscriber_gets_no_subscription(tmp_path: Path) -> None:
    from aws_cdk import App, Stack

    from infra.aws.alerts import Alerts
    from infra.aws.subscribers import load, native_subscriptions

    path = tmp_path / "subscribers.json"
    frank = SUBSCRIBERS["tenants"]["northwind"][2]
    path.write_text(json.dumps({"tenants": {"northwind": [frank]}}))
    subscriptions = native_subscriptions(load(path))
    assert subscriptions == []
    stack = Stack(App(), "T")
    Alerts(stack, "Alerts", prefix="t", emails=(), retain=False, subscribers=tuple(subscriptions))
    Template.from_stack(stack).resource_count_is("AWS::SNS::Subscription", 0)


# ---------------------------------------------------------------- reports (board pack)


def test_reports_bucket_is_private_logged_and_expires_exports(synth: Synth) -> None:
    (logical, bucket), *rest = [
        (k, b) for k, b in synth.resources("dev", "AWS::S3::Bucket").items() if k.startswith("ReportsBucket")
    ]
    assert not rest
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse == {"SSEAlgorithm": "AES256"}  # presigned GETs need no KMS grant
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "reports/"
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "exports/" and rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == 30
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    (policy,) = [
        p
        for p in synth.resources("dev", "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical}
    ]
    assert _ssl_only(policy)
    assert bucket["DeletionPolicy"] == "Retain"


def test_exports_topic_is_kms_encrypted_and_ssl_only(synth: Synth) -> None:
    topics = {
        k: t for k, t in synth.resources("dev", "AWS::SNS::Topic").items() if k.startswith("ReportsExports")
    }
    ((logical, topic),) = topics.items()
    assert topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("ReportsExportsKey")
    (policy,) = [
        p
        for p in synth.resources("dev", "AWS::SNS::TopicPolicy").values()
        if {"Ref": logical} in p["Properties"]["Topics"]
    ]
    assert _ssl_only(policy)


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


def test_static_files_and_api_answers_reach_the_viewer_compressed(synth: Synth) -> None:
    """The site: CloudFront compresses at the edge (compress + CachingOptimized, whose gzip and Brotli
    settings are on). The API: its handlers gzip (CloudFront will not under CachingDisabled), so the
    viewer's Accept-Encoding must reach the origin (AllViewerExceptHostHeader forwards it) and the
    handlers' Content-Encoding comes back untouched."""
    (distribution,) = synth.resources("dev", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    site = config["DefaultCacheBehavior"]
    assert site["Compress"] is True and site["CachePolicyId"] == CACHING_OPTIMIZED
    (api,) = config["CacheBehaviors"]
    assert api["Compress"] is True
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST


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


# ---------------------------------------------------------------- lake (CUR 2.0 through Athena)

LAKE_FUNCTIONS = [f for f in FUNCTIONS if f.queries_lake]


def test_only_kpi_run_queries_the_lake() -> None:
    assert [f.name for f in LAKE_FUNCTIONS] == ["kpi_run"]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_lake_environment_names_the_cost_database_workgroup_and_results(synth: Synth, spec: Any) -> None:
    from companyos.adapters.lake import LakeSettings

    env = _function(synth, spec.name)[1]["Properties"]["Environment"]["Variables"]
    if not spec.queries_lake:
        assert not any(k.startswith("LAKE_") for k in env)
        return
    assert env["LAKE_ENGINE"] == "athena"
    assert env["LAKE_ATHENA_DATABASE"] == "companyos_dev_cost"
    assert env["LAKE_ATHENA_WORKGROUP"] == "companyos-dev-cost"
    assert env["LAKE_CUR_TENANTS"] == ""  # no tenant's costs are this stage's export unless configured
    (workgroup,) = synth.resources("dev", "AWS::Athena::WorkGroup").values()
    output = workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"]
    assert env["LAKE_ATHENA_OUTPUT"] == output and "AthenaResults" in json.dumps(output)
    (table,) = synth.resources("dev", "AWS::Glue::Table").values()
    assert table["Properties"]["TableInput"]["Name"] == "cur2"  # the table the cost contracts read
    settings = LakeSettings.from_env({k: v for k, v in env.items() if isinstance(v, str)})
    assert settings.engine == "athena" and settings.athena_workgroup == "companyos-dev-cost"


def test_cur_tenants_come_from_cdk_json(tmp_path: Any) -> None:
    from infra.aws.config import StageConfig

    ctx = json.loads((ROOT / "cdk.json").read_text())["context"]["companyos"]
    ctx["environments"]["dev"]["curTenants"] = ["northwind", "globex"]
    assert StageConfig.from_context("dev", ctx).cur_tenants == ("northwind", "globex")


def test_lake_grants_are_least_privilege(synth: Synth) -> None:
    statements = _role_statements(synth, _function(synth, "kpi_run")[1]["Properties"])
    by_action = {a: s for s in statements for a in _actions(s)}
    athena = by_action["athena:StartQueryExecution"]
    assert sorted(_actions(athena)) == [
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StartQueryExecution",
    ]
    assert json.dumps(athena["Resource"]).endswith(':workgroup/companyos-dev-cost"]]}')
    glue = by_action["glue:GetTable"]
    assert sorted(_actions(glue)) == ["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"]
    glue_resources = json.dumps(glue["Resource"])
    assert ':catalog"' in glue_resources and ":database/companyos_dev_cost" in glue_resources
    assert ":table/companyos_dev_cost/cur2" in glue_resources and "*" not in glue_resources
    s3_objects = [s for s in statements if "s3:GetObject" in _actions(s)]
    reads = {json.dumps(s["Resource"]): sorted(_actions(s)) for s in s3_objects}
    cur_read = [r for r in reads if "CostCurBucket" in r]
    results = [r for r in reads if "CostAthenaResults" in r]
    assert len(cur_read) == 1 and cur_read[0].endswith('"/cur2/*"]]}')
    assert reads[cur_read[0]] == ["s3:GetObject"]  # the export is read-only
    assert len(results) == 1 and results[0].endswith('"/results/*"]]}')
    assert "s3:PutObject" in reads[results[0]] and "s3:DeleteObject" not in reads[results[0]]
    assert not any(a.startswith("kms:") and "Cost" in json.dumps(s) for s in statements for a in _actions(s))
    # no other function may read the CUR export or run Athena queries
    for spec in FUNCTIONS:
        if spec.queries_lake:
            continue
        other = _role_statements(synth, _function(synth, spec.name)[1]["Properties"])
        assert "CostCurBucket" not in json.dumps(other) and "athena:" not in json.dumps(other), spec.name
