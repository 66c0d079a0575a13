"""Who is in scope (platform_admin tenants, inactive and residency skips) and which period is asked."""

from __future__ import annotations

from datetime import date

import pytest
from companyos.domain import inventory as inv
from companyos.domain.auth import Principal
from companyos.domain.errors import Forbidden, InvalidPayload
from companyos.rollup.executive import filter_scope, home_region_of, parse_period, platform_tenants

from tests.unit.rollup.conftest import NOW, TODAY, tenant

TENANTS = [
    tenant("nw", "Northwind", region="us-east-1"),
    tenant("gx", "Globex", region="eu-west-1"),
    tenant("old", "Old Co", active=False),
    tenant("other", "Not mine"),
]


def test_only_platform_admin_memberships_count():
    p = Principal("s", "a@b.c", {"nw": "platform_admin", "gx": "tenant_admin"})
    assert platform_tenants(p) == {"nw"}


@pytest.mark.parametrize("role", ["tenant_admin", "ceo", "cto", "ciso", "auditor", "head_ops"])
def test_everyone_else_is_refused_with_platform_admin_required(role):
    with pytest.raises(Forbidden) as err:
        platform_tenants(Principal("s", "a@b.c", {"nw": role}))
    assert err.value.code == "platform_admin_required" and err.value.status == 403


def test_inactive_tenants_are_skipped_with_the_reason():
    scope = filter_scope(TENANTS, {"nw", "gx", "old"}, "us-east-1", strict_residency=False)
    assert [t.id for t in scope.tenants] == ["gx", "nw"]  # by name
    assert scope.skipped == [{"id": "old", "name": "Old Co", "reason": "inactive"}]


def test_strict_residency_skips_other_regions_and_says_so():
    scope = filter_scope(TENANTS, {"nw", "gx", "old"}, "us-east-1", strict_residency=True)
    assert [t.id for t in scope.tenants] == ["nw"]
    residency = next(s for s in scope.skipped if s["reason"] == "residency")
    assert residency["id"] == "gx" and residency["home_region"] == "eu-west-1"
    assert "strict residency" in residency["message"]
    assert scope.to_dict()["strict_residency"] is True


def test_home_region_comes_from_the_claim_or_the_deployment():
    assert home_region_of({"custom:home_region": "eu-west-1"}, "us-east-1") == "eu-west-1"
    assert home_region_of({}, "us-east-1") == "us-east-1"
    assert home_region_of(None, "us-east-1") == "us-east-1"


@pytest.mark.parametrize("key,days", [("7d", 7), ("28d", 28), ("90d", 90), ("365d", 365)])
def test_standard_periods_end_today(key, days):
    p = parse_period(key, None, None, TODAY)
    assert (p.key, p.window, p.days, p.end) == (key, key, days, TODAY)
    assert (p.end - p.start).days == days - 1
    assert len(p.points()) == (days if days <= 28 else days // 7)


def test_default_period_is_28_days():
    assert parse_period(None, None, None, TODAY).key == "28d"


def test_custom_range_uses_the_smallest_covering_window():
    p = parse_period("custom", "2026-05-01", "2026-06-10", TODAY)
    assert (p.key, p.window, p.days, p.start, p.end) == (
        "custom",
        "90d",
        41,
        date(2026, 5, 1),
        date(2026, 6, 10),
    )


@pytest.mark.parametrize(
    "period,start,end",
    [
        ("13d", None, None),
        ("custom", "2026-06-01", None),
        (None, "2026-06-10", "2026-06-01"),  # ends before it starts
        (None, "2026-06-01", "2026-07-05"),  # ends in the future
        (None, "2024-01-01", "2026-06-01"),  # longer than a year
        (None, "June", "2026-06-01"),
    ],
)
def test_invalid_periods_are_422(period, start, end):
    with pytest.raises(InvalidPayload) as err:
        parse_period(period, start, end, TODAY)
    assert err.value.code == "invalid_period" and err.value.status == 422


def test_certificate_list_filter_matches_the_rollup_cells():
    from datetime import timedelta

    certs = [
        inv.Certificate(cert_id=i, common_name=i, not_after=NOW + timedelta(days=d), updated_at=NOW)
        for i, d in (("a", 3), ("b", 20), ("c", -1))
    ]
    assert [c.cert_id for c in inv.certificates_in_window(certs, 7, "expiring", NOW)] == ["a"]
    assert [c.cert_id for c in inv.certificates_in_window(certs, 30, "expiring", NOW)] == ["a", "b"]
    assert [c.cert_id for c in inv.certificates_in_window(certs, None, "expired", NOW)] == ["c"]
    assert len(inv.certificates_in_window(certs, None, None, NOW)) == 3
