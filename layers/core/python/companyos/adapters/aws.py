"""The one way the use cases reach AWS APIs other than the DynamoDB tables (those are the pynamodb
models in `adapters.models`, bound once per cold start by `bind_tables`).

A function builds nothing itself: it asks `aws()` for the process-wide `AwsClients` (clients are
created on first use, so a handler that never publishes never pays for an SNS client), and tests or
infra/local hand a use case an `AwsClients(overrides={...})` with stubs. boto3 and botocore are
imported here and in the other adapters only (an import-linter contract, docs/architecture.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["AwsClients", "AwsError", "aws", "error_code", "set_aws"]

AwsError = (BotoCoreError, ClientError)  # what a call to AWS raises when AWS says no or is unreachable

_SERVICES = {
    "sfn": ("stepfunctions", None),
    "sns": ("sns", None),
    "sqs": ("sqs", None),
    "s3": ("s3", None),
    "s3_presign": ("s3", Config(signature_version="s3v4")),
    "kms": ("kms", None),
    "athena": ("athena", None),
}


@dataclass
class AwsClients:
    """Lazily created boto3 clients, one per service, shared by every use case of the process."""

    region: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    _made: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _client(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        with self._lock:
            if name not in self._made:
                service, config = _SERVICES[name]
                make: Any = boto3.client  # one call site for every service (the stubs overload per name)
                self._made[name] = make(service, region_name=self.region, config=config)
            return self._made[name]

    @property
    def sfn(self) -> Any:
        return self._client("sfn")

    @property
    def sns(self) -> Any:
        return self._client("sns")

    @property
    def sqs(self) -> Any:
        return self._client("sqs")

    @property
    def s3(self) -> Any:
        return self._client("s3")

    @property
    def s3_presign(self) -> Any:
        """S3 with SigV4 signing, for presigned download links."""
        return self._client("s3_presign")

    @property
    def kms(self) -> Any:
        return self._client("kms")

    @property
    def athena(self) -> Any:
        return self._client("athena")


_default: AwsClients | None = None
_default_lock = threading.Lock()


def aws() -> AwsClients:
    """The process-wide clients (region from the environment, as boto3 reads it)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = AwsClients()
        return _default


def set_aws(clients: AwsClients | None) -> None:
    """Replace the process-wide clients (tests, infra/local); None forgets them."""
    global _default
    with _default_lock:
        _default = clients


def error_code(exc: BaseException) -> str:
    """AWS's error code of a failed call (`ThrottlingException`, `ExecutionAlreadyExists`…), mapped by
    type: a ClientError carries it in its response; anything else is its class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__
