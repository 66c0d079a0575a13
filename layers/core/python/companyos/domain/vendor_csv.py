"""The vendor register's CSV import: every row validated before anything is written.

Header (line 1, any order): `vendor_id,name,tier` required; `owner,last_review,review_interval_days,
status` optional (empty cell = the field's default). One vendor per line; `last_review` is an ISO
date (yyyy-mm-dd). A file with any bad row is refused as a whole: 422 `invalid_rows` whose
`details.rows` lists each bad row's line number (the header is line 1), field, code and message.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from companyos.domain.errors import InvalidPayload, MalformedBody, PayloadTooLarge
from companyos.domain.inventory import VendorIn

REQUIRED = ("vendor_id", "name", "tier")
OPTIONAL = ("owner", "last_review", "review_interval_days", "status")
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 100  # one DynamoDB transaction (TransactWriteItems holds 100 writes): all or nothing
MAX_BYTES = 256 * 1024
ROW_ERRORS_SHOWN = 50


def _code(err: dict[str, Any]) -> tuple[str, str]:
    field = str(err["loc"][0]) if err.get("loc") else "row"
    kind = str(err.get("type", ""))
    if kind == "missing":
        return field, f"missing_{field}"
    if field == "last_review":
        return field, "invalid_date"
    return field, f"invalid_{field}"


def _header(reader: Any) -> list[str]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InvalidPayload("the CSV is empty: no header line", code="empty_csv", details={"path": "line 1"})
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise InvalidPayload(
            f"the header must have {', '.join(REQUIRED)} and may have {', '.join(OPTIONAL)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else ""),
            code="invalid_header",
            details={"path": "line 1", "unknown": unknown, "missing": missing},
        )
    reader.fieldnames = header  # the cells by the trimmed column names
    return header


def _problem(line: int, field: str | None, code: str, message: str) -> dict[str, Any]:
    return {"row": line, "field": field, "code": code, "message": message}


def _vendor(line: int, raw: dict[str, Any], header: list[str]) -> VendorIn | list[dict[str, Any]]:
    """One row as a vendor, or its problems."""
    if raw.get("_extra") is not None or any(raw.get(h) is None for h in header):
        return [_problem(line, None, "wrong_column_count", "the row's cells do not match the header")]
    cells = {k: (v or "").strip() for k, v in raw.items() if k != "_extra"}
    empty = [k for k in REQUIRED if not cells.get(k)]
    if empty:
        return [_problem(line, k, f"missing_{k}", "a value is required") for k in empty]
    try:
        return VendorIn.model_validate({k: v for k, v in cells.items() if v != "" or k in REQUIRED})
    except ValidationError as exc:
        return [_problem(line, *_code(dict(err)), err["msg"]) for err in exc.errors()]


def _rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="_extra", restval=None)
    header = _header(reader)
    try:
        rows = [(reader.line_num, raw) for raw in reader]  # line_num: the row's (last) line in the file
    except csv.Error as exc:
        raise MalformedBody(f"the CSV does not parse: {exc}", code="malformed_csv") from exc
    if len(rows) > MAX_ROWS:
        raise InvalidPayload(
            f"{len(rows)} rows: one import takes at most {MAX_ROWS} (split the file)",
            code="too_many_rows",
            details={"rows": len(rows), "max_rows": MAX_ROWS},
        )
    return header, rows


def parse_vendor_csv(body: bytes) -> list[VendorIn]:
    """The file's vendors, or InvalidPayload listing every bad row (nothing is half-read)."""
    if len(body) > MAX_BYTES:
        raise PayloadTooLarge(f"the CSV is larger than {MAX_BYTES} bytes", code="csv_too_large")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody("the CSV must be UTF-8 text", code="invalid_encoding") from exc
    header, rows = _rows(text)
    vendors: list[VendorIn] = []
    problems: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        vendor = _vendor(line, raw, header)
        if isinstance(vendor, list):
            problems.extend(vendor)
        elif vendor.vendor_id in seen:
            message = f"vendor_id '{vendor.vendor_id}' is also on line {seen[vendor.vendor_id]}"
            problems.append(_problem(line, "vendor_id", "duplicate_vendor", message))
        else:
            seen[vendor.vendor_id] = line
            vendors.append(vendor)
    if problems:
        bad = sorted({p["row"] for p in problems})
        raise InvalidPayload(
            f"{len(bad)} of {len(rows)} rows are invalid (lines {', '.join(map(str, bad[:10]))}"
            f"{'…' if len(bad) > 10 else ''}); nothing was imported",
            code="invalid_rows",
            details={"rows": problems[:ROW_ERRORS_SHOWN], "invalid_rows": len(bad), "total_rows": len(rows)},
        )
    if not vendors:
        raise InvalidPayload("the CSV has a header but no vendor rows", code="empty_csv")
    return vendors
