"""Rows of the product KPI runs: features and the engagement funnel (feature_adoption_rate), NPS
buckets (nps_score). See runs/rows.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from companyos.domain import retention, verdict
from companyos.runs.rows import (
    MAX_ROWS,
    RowsContext,
    Signal,
    Signals,
    _ev,
    _in,
    _parts,
    _pct,
    _unavailable,
    evidence_of,
    register,
    window_start,
)

NPS_CATEGORIES = (
    ("detractor", "Detractors (0-6)"),
    ("passive", "Passives (7-8)"),
    ("promoter", "Promoters (9-10)"),
)
ACTIVITY_KINDS = ("product_session", "product_active", "feature_used", "flag_evaluation")


def _users(rows: Iterable[Signal]) -> set[str]:
    return {str(s.attributes["user_id"]) for s in rows if s.attributes.get("user_id")}


def telemetry_window(days: int) -> tuple[int, str]:
    """Raw product telemetry (analytics events, flag evaluations) is kept 30 days: a longer period's
    per-feature table and funnel cover the last 30 days and say so (the KPI tiles read the daily
    rollup for longer windows)."""
    rule = retention.of_kind("product_active")
    raw_days = rule.days if rule else days
    if days <= raw_days:
        return days, f"in {days} days"
    return raw_days, f"in the last {raw_days} days (raw product telemetry is kept {raw_days} days)"


def flag_enabled(s: Signal) -> bool:
    """A flag evaluation served the feature: a boolean flag's `true`, else a non-default variation."""
    value = s.attributes.get("value")
    return value if isinstance(value, bool) else s.attributes.get("is_default") is False


def _features_entry(activity: dict[str, list[Signal]], days: int, now: datetime) -> dict[str, Any]:
    """Per feature: analytics adoption (its users / active users); per flag without usage events: the
    spec's flag adoption ratio (evaluations that served the feature / all its evaluations)."""
    days, span = telemetry_window(days)
    since = window_start(now, days)
    used = _in(activity["feature_used"], since)
    flags = _in(activity["flag_evaluation"], since)
    if not used and not flags:
        return _unavailable(f"no feature_used events or flag evaluations ingested {span}")
    active_rows = _in(activity["product_active"], since) + _in(activity["product_session"], since)
    active = _users(active_rows) | _users(used)
    by_feature: dict[str, list[Signal]] = {}
    for s in used:
        by_feature.setdefault(str(s.attributes.get("feature") or "?"), []).append(s)
    by_flag: dict[str, list[Signal]] = {}
    for s in flags:
        by_flag.setdefault(str(s.attributes.get("flag") or s.entity or "?"), []).append(s)
    items: list[dict[str, Any]] = []
    for name in sorted(set(by_feature) | set(by_flag)):
        f_rows, g_rows = by_feature.get(name, []), by_flag.get(name, [])
        users = _users(f_rows)
        on = sum(1 for s in g_rows if flag_enabled(s))
        flag_share = 100.0 * on / len(g_rows) if g_rows else None
        usage = 100.0 * len(users) / len(active) if active and f_rows else None
        adoption = usage if f_rows else flag_share
        contexts = {s.attributes.get("context_hash") for s in g_rows if s.attributes.get("context_hash")}
        served = {s.attributes.get("context_hash") for s in g_rows if flag_enabled(s)} - {None}
        parts = _parts("feature_used", f_rows) + _parts("flag_evaluation", g_rows)
        if active_rows and f_rows:
            parts += _parts("product_active", _in(activity["product_active"], since))
        items.append(
            {
                "id": name,
                "cells": {
                    "feature": name,
                    "users": str(len(users)) if f_rows else f"{len(served)} of {len(contexts)} evaluated",
                    "adoption": _pct(adoption),
                    "events": str(len(f_rows)) if f_rows else "—",
                    "evaluations": str(len(g_rows)) if g_rows else "—",
                    "flag_on": _pct(flag_share) if g_rows else "—",
                },
                "value": adoption,
                "basis": "usage" if f_rows else "flag",
                "users": len(users),
                "active_users": len(active),
                "events": len(f_rows),
                "flag_evaluations": len(g_rows),
                "flag_contexts": len(contexts),
                "flag_served_contexts": len(served),
                "flag_non_default_share": round(flag_share, 1) if flag_share is not None else None,
                "status": verdict.kpi_band("feature_adoption_rate", adoption),
                "reason": None if f_rows else "flag adoption: evaluations that served the feature / all"
                " evaluations (no feature_used events for it)",
                "evidence": evidence_of(parts, days),
            }
        )  # fmt: skip
    items.sort(key=lambda i: (-float(i["value"] if i["value"] is not None else -1), str(i["id"])))
    return {
        "available": True,
        "window_days": days,
        "active_users": len(active),
        "columns": [
            {"key": "feature", "label": "Feature"},
            {"key": "users", "label": "Users", "numeric": True},
            {"key": "adoption", "label": "Adoption", "numeric": True},
            {"key": "events", "label": "Uses", "numeric": True},
            {"key": "evaluations", "label": "Flag evaluations", "numeric": True},
            {"key": "flag_on", "label": "Flag served on", "numeric": True},
        ],
        "items": items[:MAX_ROWS],
        "summary": f"{len(by_feature)} features used by {len(_users(used))} of {len(active)} active users"
        f", {len(by_flag)} flags evaluated {span}",
        "evidence": evidence_of(_parts("feature_used", used) + _parts("flag_evaluation", flags), days),
    }


def _funnel_entry(activity: dict[str, list[Signal]], days: int, now: datetime) -> dict[str, Any]:
    """Distinct users: had a session → were active → used a feature (each step within the previous)."""
    days, span = telemetry_window(days)
    since = window_start(now, days)
    sessions = _in(activity["product_session"], since)
    if not sessions:
        return _unavailable(f"no product sessions ingested {span}")
    active_rows = _in(activity["product_active"], since)
    used_rows = _in(activity["feature_used"], since)
    s_users = _users(sessions)
    a_users = _users(active_rows) & s_users
    f_users = _users(used_rows) & a_users
    steps = (
        ("sessions", "Started a session", s_users, "product_session", sessions),
        ("active", "Active", a_users, "product_active", active_rows),
        ("feature_used", "Used a feature", f_users, "feature_used", used_rows),
    )
    top = len(s_users)
    items = [
        {
            "id": sid,
            "label": label,
            "value": len(users),
            "share": round(100.0 * len(users) / top, 1) if top else None,
            "display": f"{len(users):,} users",
            "evidence": _ev(kind, rows, days),
        }
        for sid, label, users, kind, rows in steps
    ]
    return {
        "available": True,
        "window_days": days,
        "items": items,
        "summary": f"distinct users {span}; each step counts users of the step before",
        "evidence": evidence_of(
            _parts("product_session", sessions) + _parts("product_active", active_rows)
            + _parts("feature_used", used_rows), days),
    }  # fmt: skip


def _nps_entry(nps_signals: list[Signal], days: int, now: datetime) -> dict[str, Any]:
    rows = _in(nps_signals, window_start(now, days))
    if not rows:
        return _unavailable(f"no NPS survey responses ingested in the last {days} days")
    total = len(rows)
    by_cat: dict[str, list[Signal]] = {c: [] for c, _ in NPS_CATEGORIES}
    for s in rows:
        a = s.attributes
        cat = a.get("category")
        if cat not in by_cat and a.get("score") is not None:
            score = float(a["score"])
            cat = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        by_cat.setdefault(str(cat), []).append(s)
    items = [
        {
            "id": cat,
            "label": label,
            "value": len(by_cat[cat]),
            "share": round(100.0 * len(by_cat[cat]) / total, 1),
            "display": f"{len(by_cat[cat])} ({100.0 * len(by_cat[cat]) / total:.0f}%)",
            "evidence": _ev("nps_response", by_cat[cat], days),
        }
        for cat, label in NPS_CATEGORIES
    ]
    nps = 100.0 * (len(by_cat["promoter"]) - len(by_cat["detractor"])) / total
    return {
        "available": True,
        "window_days": days,
        "responses": total,
        "nps": nps,  # as the nps_score run computes it (the page rounds)
        "items": items,
        "summary": f"NPS {nps:+.0f} from {total} responses in {days} days",
        "evidence": _ev("nps_response", rows, days),
    }


def _activity(signals: Signals) -> dict[str, list[Signal]]:
    return {k: list(signals.get(k, ())) for k in ACTIVITY_KINDS}


def _adoption_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    activity = _activity(signals)
    return {
        "features": _features_entry(activity, days, ctx.as_of),
        "funnel": _funnel_entry(activity, days, ctx.as_of),
    }


def _nps_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    return {"nps": _nps_entry(list(signals.get("nps_response", ())), days, ctx.as_of)}


register("feature_adoption_rate", _adoption_rows)
register("nps_score", _nps_rows)
