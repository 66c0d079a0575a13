"""The admin unit tests' in-process moto mock shares this process's moto backends with the
embedded local stack (both can run on one `make test` worker): it must leave that state alone."""

from __future__ import annotations

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.sns.models import sns_backends

from tests.unit.admin.conftest import in_process_aws


def test_the_admin_mock_keeps_what_a_local_stack_in_the_same_process_holds() -> None:
    sns = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    topic = sns.create_topic("companyos-local-alerts-sentinel")
    try:
        for _ in range(2):  # the package fixture is set up again whenever its package's files return
            with pytest.MonkeyPatch.context() as monkeypatch:
                session = in_process_aws(monkeypatch)
                assert next(session)  # the signing key id
                tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
                assert "unit-catalog" in tables
                session.close()
        assert topic.arn in sns.topics
        tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
        assert [n for n in tables if n.startswith("unit-")] == []  # it removed what it created
    finally:
        sns.delete_topic(topic.arn)
