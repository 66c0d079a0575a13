"""moto bugs the local stack works around (moto 5.2.5), each where AWS behaves otherwise:

1. SNS filter policies with `$or` counted as SNS counts them (`patch_moto_sns_or_policies`).
2. StopExecution of an execution that has just started (`patch_moto_sfn_stop_race`).
"""

from __future__ import annotations

from typing import Any


def patch_moto_sns_or_policies() -> None:
    """moto 5.2.5 counts a filter policy's combinations multiplying by nesting depth, so an `$or`
    of two small branches (a subscriber's alerts, or its on-call pages) is refused as "too complex".
    SNS expands `$or` and counts the sum of its branches (subscription-filter-policy-constraints):
    validate each expanded branch with moto's own checks, and the sum against SNS's 150."""
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend

    if getattr(SNSBackend, "_companyos_or_patched", False):
        return
    original = SNSBackend._validate_filter_policy

    def validate(self: Any, value: Any, scope: str | None) -> None:
        branches = value.get("$or") if isinstance(value, dict) and scope != "MessageBody" else None
        if not isinstance(branches, list) or not all(isinstance(b, dict) for b in branches):
            return original(self, value, scope)
        common = {k: v for k, v in value.items() if k != "$or"}
        total = 0
        for branch in branches:
            expanded = {**common, **branch}
            original(self, expanded, scope)
            n = 1
            for values in expanded.values():
                n *= len(values) if isinstance(values, list) else 1
            total += n
        if total > 150:
            raise SNSInvalidParameter("Invalid parameter: FilterPolicy: Filter policy is too complex")
        return None

    SNSBackend._validate_filter_policy = validate  # type: ignore[method-assign]
    SNSBackend._companyos_or_patched = True  # type: ignore[attr-defined]


def patch_moto_sfn_stop_race() -> None:
    """moto 5.2.5 builds an execution's environment on the execution's own thread, so a
    StopExecution right after StartExecution (an alert resolved while its escalation starts) finds
    `env` None and fails with AttributeError — Step Functions stops such an execution. Wait (up to
    2 s) for the thread to have built it."""
    import time

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if getattr(ExecutionWorker, "_companyos_stop_patched", False):
        return
    original = ExecutionWorker.stop

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        deadline = time.monotonic() + 2.0
        while self.env is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return original(self, stop_date, error, cause)

    ExecutionWorker.stop = stop  # type: ignore[method-assign]
    ExecutionWorker._companyos_stop_patched = True  # type: ignore[attr-defined]
