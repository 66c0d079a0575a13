"""The CISO's "Compliance controls" panel: the rows the delivered compliance_score run carries
(runs/rows_compliance.py) as a table, one row per framework (pass rate judged on the KPI's own
thresholds, as the roll-up does) with its control chips (`CC6.1 ●`, `AC-2 ⚠`), each chip a
drill-down to the control; headed by the KPI's delivered value."""

from __future__ import annotations

from typing import Any

from companyos.domain import inventory as inv
from companyos.domain import verdict
from companyos.domain.layouts import Panel
from companyos.views.panels.context import Ctx, drill
from companyos.views.panels.stored import with_kpi

KPI = "compliance_score"
MARKS = {"pass": "●", "fail": "⚠", "not_evaluated": "○"}  # the chip's mark, beside its status word
COLUMNS = [
    {"key": "framework", "label": "Framework"},
    {"key": "pass_rate", "label": "Pass rate", "numeric": True},
    {"key": "controls", "label": "Controls", "numeric": True},
    {"key": "failing", "label": "Failing", "numeric": True},
    {"key": "chips", "label": "Controls (failing first)", "chips": True},
]


def control_drill_id(framework: str, control_id: str) -> str:
    return f"{framework}::{control_id}"


def _chip(framework: str, chip: dict[str, Any]) -> dict[str, Any]:
    status = str(chip.get("status"))
    return {
        "text": f"{chip['control_id']} {MARKS.get(status, '○')}",
        "control_id": chip["control_id"],
        "result": status,
        "status": verdict.control(status).value,
        "failing_checks": chip.get("failing_checks", 0),
        "drill": drill("control", control_drill_id(framework, str(chip["control_id"]))),
    }


def _row(item: dict[str, Any], evidence: Any) -> dict[str, Any]:
    rate = item.get("pass_rate")
    chips = [_chip(item["id"], c) for c in item.get("chips", [])]
    more = int(item.get("controls", 0)) + int(item.get("not_evaluated", 0)) - len(chips)
    return {
        "id": item["id"],
        "label": inv.framework_label(item["id"]),
        "value": rate,
        "display": f"{rate:.1f}%" if rate is not None else "Unknown",
        "status": verdict.kpi_band(KPI, rate).value,
        "cells": {
            "framework": inv.framework_label(item["id"]),
            "pass_rate": f"{rate:.1f}%" if rate is not None else None,
            "controls": str(item.get("controls", 0)),
            "failing": str(item.get("failing", 0)),
            "chips": " ".join(c["text"] for c in chips) + (f" +{more}" if more > 0 else ""),
        },
        "chips": chips,
        "controls": item.get("controls", 0),
        "passing": item.get("passing", 0),
        "failing": item.get("failing", 0),
        "evidence": evidence,
    }


def compliance(panel: Panel, ctx: Ctx) -> dict[str, Any]:
    body = with_kpi(KPI)(panel, ctx)
    if body.get("kind") == "not_built":
        return body
    rows = [_row(i, i.get("evidence") or body.get("evidence")) for i in body.get("items", [])]
    shown, total = len(rows), int(body.get("frameworks_total", len(rows)))
    return {
        "columns": COLUMNS,
        "items": rows,
        "summary": body["summary"],
        "as_of": body.get("as_of"),
        "reports": body.get("reports", []),
        "failing_controls": [
            {**c, "drill": drill("control", control_drill_id(c["framework"], c["control_id"]))}
            for c in body.get("failing_controls", [])
        ],
        "more_frameworks": total - shown,
        "evidence": body.get("evidence"),
    }
