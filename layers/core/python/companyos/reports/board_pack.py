"""The board-pack PDF of an executive roll-up (reportlab): a cover page, one page per domain, and an
appendix with the raw numbers per tenant. Every page carries a watermark with the requesting user's
email and the export timestamp, so a leaked copy can be traced.

Pages = 1 (cover) + 6 (domains) + the appendix pages. A domain page lists at most
`MAX_CARDS_PER_PAGE` tenants worst-first (the rest are in the appendix), so it is always one page.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from reportlab.graphics.shapes import Drawing, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from companyos.rollup.domains import appendix_rows

MAX_CARDS_PER_PAGE = 22
STATUS_COLOURS = {
    "excellent": "#1b7f3b",
    "healthy": "#2e9d4f",
    "attention": "#c9a400",
    "warning": "#d9730d",
    "critical": "#c62828",
    "unknown": "#8a8f98",
}
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#5f6b7a")
RULE = colors.HexColor("#d5dbe3")
HEADER_BG = colors.HexColor("#eef1f6")


def filename(exported_at: datetime) -> str:
    return f"companyos-executive-{exported_at.strftime('%Y%m%d')}.pdf"


def watermark_text(email: str, exported_at: datetime) -> str:
    return f"Exported by {email} at {exported_at.strftime('%Y-%m-%d %H:%M:%S UTC')}"


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=28, leading=34, textColor=INK),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base["Normal"], fontSize=14, leading=20, textColor=MUTED
        ),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontSize=20, leading=24, textColor=INK),
        "body": ParagraphStyle("body", parent=base["Normal"], fontSize=10, leading=14, textColor=INK),
        "small": ParagraphStyle("small", parent=base["Normal"], fontSize=8, leading=10, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontSize=8, leading=10, textColor=INK),
    }


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fmt_delta(delta: float | None) -> str:
    if delta is None:
        return "n/a"
    return f"{delta:+.2f}".rstrip("0").rstrip(".") if delta else "0"


def _sparkline(series: Sequence[Mapping[str, Any]], width: float = 160, height: float = 36) -> Drawing:
    d = Drawing(width, height)
    values = [p.get("v") for p in series]
    known = [(i, v) for i, v in enumerate(values) if isinstance(v, int | float)]
    if len(known) < 2:
        d.add(String(0, height / 2 - 3, "no trend data", fontSize=7, fillColor=MUTED))
        return d
    lo, hi = min(v for _, v in known), max(v for _, v in known)
    span = (hi - lo) or 1.0
    step = width / max(1, len(values) - 1)
    points: list[float] = []
    for i, v in known:
        points += [i * step, 2 + (height - 4) * (v - lo) / span]
    d.add(PolyLine(points, strokeColor=colors.HexColor("#3366cc"), strokeWidth=1.2))
    return d


def _table(
    rows: list[list[Any]], widths: list[float], status_col: int | None = None, statuses: Sequence[str] = ()
) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if status_col is not None:
        for r, status in enumerate(statuses, 1):
            colour = colors.HexColor(STATUS_COLOURS.get(status, STATUS_COLOURS["unknown"]))
            style.append(("TEXTCOLOR", (status_col, r), (status_col, r), colour))
    t.setStyle(TableStyle(style))
    return t


def _period_text(period: Mapping[str, Any]) -> str:
    label = "Custom range" if period["key"] == "custom" else f"Rolling {period['days']} days"
    return f"{label}: {period['start']} to {period['end']} (snapshot window {period['window']})"


def _cover(
    rollup: Mapping[str, Any], s: dict[str, ParagraphStyle], email: str, exported_at: datetime
) -> list[Any]:
    scope = rollup["scope"]
    skipped = ", ".join(f"{x['name']} ({x['reason']})" for x in scope["skipped"]) or "none"
    story: list[Any] = [
        Spacer(1, 50 * mm),
        Paragraph(_esc(rollup["org"]["name"]), s["title"]),
        Paragraph("Executive board pack", s["subtitle"]),
        Spacer(1, 8 * mm),
        Paragraph(f"Period: {_esc(_period_text(rollup['period']))}", s["body"]),
        Paragraph(f"Tenants in scope: {len(scope['tenants'])}", s["body"]),
        Paragraph(f"Skipped: {_esc(skipped)}", s["body"]),
        Paragraph(f"Requested by {_esc(email)} at {exported_at.strftime('%Y-%m-%d %H:%M UTC')}", s["body"]),
        Spacer(1, 6 * mm),
        Paragraph(
            "All values come from end-of-day snapshots (KPI snapshots and inventory snapshots), not live "
            "data; each tenant's snapshot timestamp is listed in the appendix. Unknown means the evidence "
            "is missing, with the reason; it is never counted as healthy.",
            s["small"],
        ),
    ]
    if rollup["period"].get("note"):
        story.append(Paragraph(_esc(rollup["period"]["note"]), s["small"]))
    story.append(PageBreak())
    return story


def _domain_page(d: Mapping[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    story: list[Any] = [
        Paragraph(_esc(d["name"]), s["h1"]),
        Paragraph(_esc(d["description"]), s["small"]),
        Spacer(1, 3 * mm),
        Paragraph(
            f"Org value: <b>{_esc(d['display'])}</b> &nbsp; "
            f"change vs previous period: {_fmt_delta(d['delta'])} &nbsp; status: {_esc(d['status'])}",
            s["body"],
        ),
    ]
    if d.get("reason"):
        story.append(Paragraph(f"Reason: {_esc(d['reason'])}", s["small"]))
    story += [_sparkline(d["series"]), Spacer(1, 2 * mm)]
    metrics = [["Metric", "Org value", "Previous", "Change", "Status", "Tenants known"]]
    for m in d["metrics"]:
        prev = "n/a" if m["previous"] is None else f"{m['previous']:g}"
        metrics.append(
            [m["name"], m["display"], prev, _fmt_delta(m["delta"]), m["status"], str(m["tenants_known"])]
        )
    story += [
        _table(
            metrics,
            [52 * mm, 28 * mm, 24 * mm, 22 * mm, 22 * mm, 24 * mm],
            4,
            [m["status"] for m in d["metrics"]],
        ),
        Spacer(1, 4 * mm),
        Paragraph("Tenants, worst first", s["body"]),
    ]
    cards = d["tenants"][:MAX_CARDS_PER_PAGE]
    rows = [["#", "Tenant", "Value", "Change", "Status", "Trend", "Snapshot (UTC)"]]
    for c in cards:
        chevron = "DROP > 5 pts" if c.get("chevron") else ""
        at = (c["snapshot"]["computed_at"] or "none")[:16].replace("T", " ")
        rows.append(
            [
                str(c["rank"]),
                c["tenant"]["name"],
                c["display"],
                _fmt_delta(c["delta"]),
                c["status"],
                chevron,
                at,
            ]
        )
    story.append(
        _table(
            rows,
            [8 * mm, 50 * mm, 26 * mm, 20 * mm, 20 * mm, 22 * mm, 30 * mm],
            4,
            [c["status"] for c in cards],
        )
    )
    more = len(d["tenants"]) - len(cards)
    if more > 0:
        story.append(Paragraph(f"... and {more} more tenants: see the appendix.", s["small"]))
    story.append(PageBreak())
    return story


def _appendix(rollup: Mapping[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    rows = [["Tenant", "Domain", "Metric", "Value", "Previous", "Change", "Status", "Snapshot (UTC)"]]
    data = appendix_rows(rollup["domains"])
    for r in data:
        prev = "n/a" if r["previous"] is None else f"{r['previous']:g}"
        at = (r["snapshot_at"] or "none")[:16].replace("T", " ")
        rows.append(
            [
                r["tenant"],
                r["domain"],
                r["metric"],
                r["display"],
                prev,
                _fmt_delta(r["delta"]),
                r["status"],
                at,
            ]
        )
    story: list[Any] = [
        Paragraph("Appendix: raw numbers per tenant", s["h1"]),
        Paragraph(
            "One row per tenant, domain and metric, from the same snapshots as the domain pages.", s["small"]
        ),
        Spacer(1, 2 * mm),
    ]
    if len(rows) == 1:
        story.append(Paragraph("No tenant in scope.", s["body"]))
    else:
        story.append(
            _table(
                rows,
                [34 * mm, 26 * mm, 32 * mm, 20 * mm, 16 * mm, 16 * mm, 16 * mm, 26 * mm],
                6,
                [r["status"] for r in data],
            )
        )
    return story


def render(rollup: Mapping[str, Any], *, email: str, exported_at: datetime) -> bytes:
    """The board pack of one roll-up response, watermarked for `email` at `exported_at`."""
    s = _styles()
    mark = watermark_text(email, exported_at)
    buf = io.BytesIO()

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 22)
        canvas.setFillColor(colors.HexColor("#e3e7ee"))
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, mark)
        canvas.restoreState()
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(15 * mm, 10 * mm, f"{rollup['org']['name']} executive board pack | {mark}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        title=f"{rollup['org']['name']} executive board pack",
        author=email,
        subject=_period_text(rollup["period"]),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    story = _cover(rollup, s, email, exported_at)
    for d in rollup["domains"]:
        story += _domain_page(d, s)
    story += _appendix(rollup, s)
    doc.build(story)
    return buf.getvalue()
