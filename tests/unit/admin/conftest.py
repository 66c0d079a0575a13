"""In-process AWS for the admin unit tests: moto's `mock_aws` (no server, no sockets).

moto keeps one set of backends per process, and `make test` runs a file's tests on whichever
xdist worker it lands on: the same process may hold the embedded local stack (a ThreadedMotoServer
over those same backends) for the integration tests. So this mock neither resets the backends when
it starts nor wipes them when it stops (moto's defaults): it creates its own `unit-*`
tables and deletes exactly those afterwards, and leaves every other table, topic or key alone."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest


@pytest.fixture(scope="package")
def aws() -> Iterator[str]:
    """Tables and an asymmetric signing key, once for the admin unit tests (tests use distinct keys
    and chains, so they do not see each other); yields the key id."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from in_process_aws(monkeypatch)


def in_process_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from companyos.adapters import audit
    from companyos.adapters.config import table_names
    from companyos.adapters.models import TABLES, bind_tables

    saved = {name: (m.Meta.table_name, getattr(m.Meta, "region", None)) for name, m in TABLES.items()}
    previous_signer = audit.current_signer()
    mock = mock_aws()
    mock.start(reset=False)  # the default reset would empty a local stack living in this process
    kms = boto3.client("kms", region_name="us-east-1")
    key = ""
    try:
        bind_tables(table_names("unit"), "us-east-1")
        for model in TABLES.values():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=False)  # moto: ACTIVE at once
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        audit.configure_signer(key, kms)
        yield str(key)
    finally:
        for model in TABLES.values():
            if model.exists():
                model.delete_table()
        if key:
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        mock.stop(remove_data=False)
        audit._signer = previous_signer
        for name, model in TABLES.items():
            model.Meta.table_name, region = saved[name]
            if region:
                model.Meta.region = region
            model._connection = None
