"""Monthly finance figures (`POST /api/ingest/finance`), signed like our other uploads
(`X-CompanyOS-Signature: sha256=<hex>`), as JSON (`formats.FinanceBatch`, schema in
docs/schemas/finance.json) or CSV (`Content-Type: text/csv`, or a body starting with the header):

    period,currency,as_of,item,name,amount
    2026-05,USD,2026-06-03T10:00:00Z,revenue,,120000
    2026-05,USD,2026-06-03T10:00:00Z,cogs,Customer support,8000
    2026-05,USD,2026-06-03T10:00:00Z,sales_marketing,Paid search,21000
    2026-05,USD,2026-06-03T10:00:00Z,new_customers,,6

`item` is revenue (at most one row a month, optional), cogs (one row per line), sales_marketing
(rows summed) or new_customers (one row). Each month becomes one `finance_month` signal at the
month's first instant, keyed by the period; a later upload of the same month (a newer `as_of`)
replaces it in the KPI runs (runs/formulas_finance.py), nothing is summed twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from companyos.domain.errors import InvalidPayload
from companyos.sources import formats
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    load_json,
    own_delivery_id,
    verify_companyos_signature,
)

CSV_COLUMNS = ("period", "currency", "as_of", "item", "name", "amount")
CSV_ITEMS = ("revenue", "cogs", "sales_marketing", "new_customers")


def _is_csv(request: WebhookRequest) -> bool:
    ctype = (request.header("Content-Type") or "").lower()
    return "csv" in ctype or request.body.lstrip()[:7].lower() == b"period,"


def _amount(raw: str, line: int) -> float:
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidPayload(
            f"line {line}: amount '{raw}' is not a number", details={"path": f"line {line}.amount"}
        ) from exc


def _month_of(rows: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
    """One period's CSV rows → the JSON month object (validated by the model afterwards)."""
    first_line, first = rows[0]
    month: dict[str, Any] = {
        "period": first["period"],
        "currency": first["currency"],
        "as_of": first["as_of"],
    }
    cogs: list[dict[str, Any]] = []
    sales = 0.0
    for line, row in rows:
        item, amount = row["item"], _amount(row["amount"], line)
        if (row["currency"], row["as_of"]) != (month["currency"], month["as_of"]):
            raise InvalidPayload(
                f"line {line}: every row of {month['period']} needs the same currency and as_of",
                details={"path": f"line {line}"},
            )
        if item == "cogs":
            cogs.append({"name": row["name"] or f"line {line}", "amount": amount})
        elif item == "sales_marketing":
            sales += amount
        elif item in month:
            raise InvalidPayload(f"line {line}: a second '{item}' row for {month['period']}",
                                 details={"path": f"line {line}.item"})  # fmt: skip
        elif item == "new_customers":
            month[item] = int(amount) if amount.is_integer() else amount
        else:
            month[item] = amount
    month["cogs"] = cogs
    month["sales_marketing"] = sales if any(r["item"] == "sales_marketing" for _, r in rows) else None
    if month["sales_marketing"] is None:
        raise InvalidPayload(f"line {first_line}: {month['period']} has no sales_marketing row",
                             details={"path": f"line {first_line}.item"})  # fmt: skip
    return month


def parse_csv(body: bytes) -> dict[str, Any]:
    """The CSV form → the JSON form `{"months": [...]}`."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidPayload("the CSV is not UTF-8", details={"path": ""}) from exc
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise InvalidPayload(
            f"the CSV header must be {','.join(CSV_COLUMNS)}", details={"path": "line 1"}, code="invalid_csv"
        )
    periods: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise InvalidPayload(
                f"line {line}: needs {len(CSV_COLUMNS)} fields", details={"path": f"line {line}"}
            )
        row = {k: (v or "").strip() for k, v in row.items()}
        if row["item"] not in CSV_ITEMS:
            raise InvalidPayload(f"line {line}: item must be one of {', '.join(CSV_ITEMS)}",
                                 details={"path": f"line {line}.item"})  # fmt: skip
        periods.setdefault(row["period"], []).append((line, row))
    if not periods:
        raise InvalidPayload("the CSV has no rows", details={"path": "line 2"})
    return {"months": [_month_of(rows) for rows in periods.values()]}


def month_signal(m: formats.FinanceMonth) -> Signal:
    year, month = (int(p) for p in m.period.split("-"))
    cogs = [{"name": c.name, "amount": c.amount} for c in m.cogs]
    attrs = {
        "period": m.period,
        "currency": m.currency,
        "as_of": m.as_of.astimezone(UTC).isoformat(),
        "revenue": m.revenue,
        "cogs_lines": cogs,
        "cogs_total": round(sum(c.amount for c in m.cogs), 6),
        "sales_marketing": m.sales_marketing,
        "new_customers": m.new_customers,
    }
    return Signal("finance_month", datetime(year, month, 1, tzinfo=UTC), None, attrs, key=m.period)


class FinanceSource:
    name = "finance"
    retention_days = 800

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_companyos_signature(request, secrets)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = parse_csv(request.body) if _is_csv(request) else load_json(request.body)
        try:
            batch = formats.FinanceBatch.model_validate(doc)
        except ValidationError as exc:
            raise formats.invalid(exc) from exc
        periods = [m.period for m in batch.months]
        if len(set(periods)) != len(periods):
            raise InvalidPayload("a month appears twice in one upload", details={"path": "months"})
        return ParsedDelivery(
            "finance_month", own_delivery_id(request), [month_signal(m) for m in batch.months]
        )
