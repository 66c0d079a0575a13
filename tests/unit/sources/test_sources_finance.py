"""The monthly finance upload (our own format, docs/sources.md "Finance"): JSON and CSV give the same
`finance_month` signal; bad input is a 422 naming the field or line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources import registry
from companyos.sources.base import hmac_sha256_hex

from tests.unit.sources.helpers import request

MONTH = {
    "period": "2026-05",
    "currency": "USD",
    "as_of": "2026-06-03T10:00:00Z",
    "revenue": 120000.0,
    "cogs": [{"name": "Customer support", "amount": 8000.0}, {"name": "Payment fees", "amount": 3500.5}],
    "sales_marketing": 30000.0,
    "new_customers": 6,
}
CSV = b"""period,currency,as_of,item,name,amount
2026-05,USD,2026-06-03T10:00:00Z,revenue,,120000
2026-05,USD,2026-06-03T10:00:00Z,cogs,Customer support,8000
2026-05,USD,2026-06-03T10:00:00Z,cogs,Payment fees,3500.5
2026-05,USD,2026-06-03T10:00:00Z,sales_marketing,Paid search,21000
2026-05,USD,2026-06-03T10:00:00Z,sales_marketing,Events,9000
2026-05,USD,2026-06-03T10:00:00Z,new_customers,,6
"""


def parse(body: bytes, **headers: str):
    return registry.get("finance").parse(request(body, **headers))


def test_a_json_month_is_one_finance_month_signal_on_the_months_first_instant():
    (s,) = parse(json.dumps({"months": [MONTH]}).encode()).signals
    assert (
        s.kind == "finance_month" and s.occurred_at == datetime(2026, 5, 1, tzinfo=UTC) and s.key == "2026-05"
    )
    a = s.attributes
    assert a["revenue"] == 120000.0 and a["cogs_total"] == 8000.0 + 3500.5
    assert a["cogs_lines"] == MONTH["cogs"] and a["sales_marketing"] == 30000.0 and a["new_customers"] == 6


def test_the_csv_form_gives_the_same_month_with_sales_rows_summed():
    for headers in ({"Content_Type": "text/csv"}, {}):
        (s,) = parse(CSV, **headers).signals
        (j,) = parse(json.dumps({"months": [MONTH]}).encode()).signals
        assert s.attributes == j.attributes


def test_revenue_is_optional():
    month = {k: v for k, v in MONTH.items() if k != "revenue"}
    (s,) = parse(json.dumps({"months": [month]}).encode()).signals
    assert s.attributes["revenue"] is None


def test_uploads_are_signed_like_our_other_formats():
    body = json.dumps({"months": [MONTH]}).encode()
    ok = request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("fin", body))
    registry.get("finance").verify(ok, ["fin"])
    with pytest.raises(SignatureInvalid):
        registry.get("finance").verify(ok, ["other"])


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"period": "2026-13"}, "months.0.period"),
        ({"sales_marketing": -1}, "months.0.sales_marketing"),
        ({"cogs": [{"name": "x", "amount": -5}]}, "months.0.cogs.0.amount"),
        ({"as_of": "2026-06-03T10:00:00"}, "months.0.as_of"),
        ({"currency": "usd"}, "months.0.currency"),
        ({"surprise": 1}, "months.0.surprise"),
    ],
)
def test_a_bad_json_field_is_422_with_its_path(change, path):
    with pytest.raises(InvalidPayload) as err:
        parse(json.dumps({"months": [MONTH | change]}).encode())
    assert err.value.status == 422 and err.value.details["path"] == path


def test_a_month_twice_in_one_upload_is_refused():
    with pytest.raises(InvalidPayload):
        parse(json.dumps({"months": [MONTH, MONTH]}).encode())


@pytest.mark.parametrize(
    ("csv", "where"),
    [
        (b"period,amount\n2026-05,1\n", "line 1"),
        (CSV.replace(b"cogs,Payment fees,3500.5", b"cogs,Payment fees,lots"), "line 4.amount"),
        (CSV.replace(b",new_customers,,6", b",bonus,,6"), "line 7.item"),
        (CSV + b"2026-05,USD,2026-06-03T10:00:00Z,revenue,,1\n", "line 8.item"),
        (
            b"period,currency,as_of,item,name,amount\n2026-05,USD,2026-06-03T10:00:00Z,revenue,,1\n",
            "line 2.item",
        ),
        (CSV + b"2026-05,USD\n", "line 8"),
    ],
)
def test_a_bad_csv_is_422_naming_the_line(csv, where):
    with pytest.raises(InvalidPayload) as err:
        parse(csv, Content_Type="text/csv")
    assert err.value.status == 422 and err.value.details["path"] == where
