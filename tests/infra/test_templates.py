"""Template checks beside cdk-nag: cfn-lint and checkov over the synthesized dev, stg and prod templates.

cfn-lint (.cfnlintrc) must report nothing; checkov (.checkov.yaml, `--framework cloudformation`) must
report no failure: what the stack does not meet is skipped per check and resource with its reason in the
resource's Metadata (infra/aws/checkov.py). A new finding fails here, named by check, stage, logical id
and construct path. Every IAM statement on Resource '*' must hold exactly one reviewed action set
(infra/aws/reasons.py STAR_ACTIONS), the set cdk-nag's IAM5 `Resource::*` acknowledgement names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnResource

from infra.aws.reasons import STAR_ACTIONS

pytestmark = pytest.mark.infra

Synth = Any  # conftest.Synth
ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "stg", "prod")


def _tool(name: str) -> str | None:
    """The tool next to this interpreter (the project venv), else on PATH; `$CHECKOV`/`$CFN_LINT` win."""
    override = os.environ.get(name.upper().replace("-", "_"))
    return override or shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


@pytest.fixture(scope="module")
def template_dir(synth: Synth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    for env in ENVS:
        (out / f"{env}.json").write_text(json.dumps(synth.templates[env], indent=1))
    return out


def _paths(synth: Synth, env: str) -> dict[str, str]:
    """Logical id -> construct path below the stack, to name a finding the way infra/aws names it."""
    stack = synth.stages[env].stack
    prefix = stack.node.path + "/"
    return {
        stack.resolve(stack.get_logical_id(c)): c.node.path.removeprefix(prefix)
        for c in stack.node.find_all()
        if isinstance(c, CfnResource)
    }


def _json_of(command: list[str]) -> Any:
    """Run a checker (it exits non-zero on findings) and parse its JSON report."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


def test_cfn_lint_reports_nothing_on_any_stage(synth: Synth, template_dir: Path) -> None:
    cfn_lint = _tool("cfn-lint")
    assert cfn_lint, "cfn-lint is in the dev extra (pyproject.toml): run make install"
    regions = sorted({synth.stages[env].config.region for env in ENVS})
    files = [str(template_dir / f"{env}.json") for env in ENVS]
    config = ["--config-file", str(ROOT / ".cfnlintrc"), "--format", "json"]
    matches = _json_of([cfn_lint, *config, "--regions", *regions, "--", *files])
    found = [f"{Path(m['Filename']).stem}: {m['Level']} {m['Rule']['Id']} {m['Message']}" for m in matches]
    assert not found, "cfn-lint findings:\n" + "\n".join(found)


def _checkov_reports(template_dir: Path) -> list[dict[str, Any]]:
    checkov = _tool("checkov")
    if not checkov:
        pytest.skip("checkov is not installed in this environment (see docs/decisions.md #17)")
    config = ["--config-file", str(ROOT / ".checkov.yaml")]
    parsed = _json_of([checkov, *config, "--directory", str(template_dir)])
    reports = parsed if isinstance(parsed, list) else [parsed]
    assert [r.get("check_type") for r in reports] == ["cloudformation"], str(parsed)[:500]
    return reports


def _env(check: dict[str, Any]) -> str:
    return Path(check["file_path"]).stem


def test_checkov_finds_no_failure_outside_the_skips(synth: Synth, template_dir: Path) -> None:
    results = _checkov_reports(template_dir)[0]["results"]
    paths = {env: _paths(synth, env) for env in ENVS}
    failed = [
        f"{_env(c)}: {c['check_id']} ({c['check_name']}) on {c['resource']} = "
        f"{paths[_env(c)].get(c['resource'].split('.', 1)[-1], '?')}"
        for c in results["failed_checks"]
    ]
    assert not failed, "checkov failures (fix, or skip in infra/aws/checkov.py with a reason):\n" + "\n".join(
        failed
    )
    skipped = results["skipped_checks"]
    assert skipped, "the skips of infra/aws/checkov.py did not reach checkov"
    unexplained = [c for c in skipped if len(c["check_result"].get("suppress_comment") or "") < 40]
    assert not unexplained, [(c["check_id"], c["resource"]) for c in unexplained]
    for env in ENVS:  # every stage is scanned and passes most checks
        assert any(_env(c) == env for c in results["passed_checks"]), env


def test_checkov_skips_are_written_per_check_and_resource(synth: Synth) -> None:
    """The Metadata checkov reads: one entry per check and resource, each with its reason."""
    for env in ENVS:
        for logical, resource in synth.templates[env]["Resources"].items():
            entries = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            ids = [e["id"] for e in entries]
            assert len(ids) == len(set(ids)), (env, logical, ids)
            assert all(e["id"].startswith("CKV_AWS_") and len(e["comment"]) >= 40 for e in entries)


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    props = resource["Properties"]
    if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
        return list(props["PolicyDocument"]["Statement"])
    if resource["Type"] == "AWS::IAM::Role":
        return [s for p in props.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    return []


def test_every_star_resource_statement_holds_a_reviewed_action_set(synth: Synth) -> None:
    for env in ENVS:
        per_policy: dict[str, set[str]] = {}
        for logical, resource in synth.templates[env]["Resources"].items():
            for statement in _statements(resource):
                resources = statement["Resource"]
                if "*" in ([resources] if isinstance(resources, str) else resources):
                    action = statement["Action"]
                    actions = [action] if isinstance(action, str) else action
                    per_policy.setdefault(logical, set()).update(actions)
        assert per_policy, env
        unreviewed = {k: sorted(v) for k, v in per_policy.items() if frozenset(v) not in STAR_ACTIONS}
        assert not unreviewed, f"{env}: actions on Resource '*' nobody reviewed: {unreviewed}"


def test_a_new_star_statement_fails_the_iam5_acknowledgement() -> None:
    """IAM5 `Resource::*` names no action: nag acknowledges it only for the reviewed action set."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam

    from infra.aws import nag
    from infra.aws.reasons import FUNCTION_XRAY

    stack = Stack(App(), "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=sorted(FUNCTION_XRAY), resources=["*"]))
    nag._ack_star(stack, role, role, FUNCTION_XRAY)  # the reviewed set: acknowledged
    role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=["*"]))
    with pytest.raises(ValueError, match=r"s3:PutObject"):
        nag._ack_star(stack, role, role, FUNCTION_XRAY)


def test_waf_and_tls_skips_hold_only_in_stages_without_them(synth: Synth) -> None:
    from dataclasses import replace

    from infra.aws import checkov

    config = synth.stages["prod"].config
    ids = {s.check for s in checkov.skips(config)}
    assert {"CKV_AWS_68", "CKV_AWS_174"} <= ids  # no web ACL, no custom domain in cdk.json today
    armed = replace(
        config,
        web_acl_arn="arn:aws:wafv2:us-east-1:111122223333:global/webacl/cockpit/abc",
        cockpit_domain="cockpit.example.com",
        certificate_arn="arn:aws:acm:us-east-1:111122223333:certificate/abc",
    )
    assert not {"CKV_AWS_68", "CKV_AWS_174"} & {s.check for s in checkov.skips(armed)}
