"""The board-pack PDF of an executive roll-up (reportlab): a cover page, one page per domain, and an
appendix with the raw numbers per tenant. Every page carries a watermark with the requesting user's
email and the export timestamp, so a leaked copy can be traced.

Pages = 1 (cover) + 6 (domains) + the appendix pages. A domain page lists at most
`MAX_CARDS_PER_PAGE` tenants worst-first (the rest are in the appendix), so it is always one page.

Every status on it is the roll-up's own verdict (companyos.domain.verdict, judged once in
companyos.rollup.domains), printed with the same word as the roll-up page (`Band.label`) and the
cockpit's colour for that band: the PDF agrees with the page number for number, band for band.
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

from companyos.domain import verdict
from companyos.domain.verdict import Band
from companyos.rollup.domains import appendix_rows, display

MAX_CARDS_PER_PAGE = 12  # a tenant row may wrap to three lines (its partial note)
# The cockpit's status colour tokens (web/css/status.css --excellent … --unknown; a unit test holds
# them equal), so a band has one colour on the page and on paper.
STATUS_COLOURS = {
    Band.EXCELLENT: "#0b6b47",
    Band.HEALTHY: "#1e7b34",
    Band.ATTENTION: "#7a5d00",
    Band.WARNING: "#a84a00",
    Band.CRITICAL: "#b3261e",
    Band.UNKNOWN: "#5f6673",
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


def word(status: object) -> str:
    """A status as the roll-up page prints it: the band's label ("Critical"); anything else Unknown."""
    return verdict.parse(status).label


def _hex(status: object) -> str:
    return STATUS_COLOURS[verdict.parse(status)]


def _coloured(markup: str, status: object) -> str:
    return f'<font color="{_hex(status)}">{markup}</font>'


def _judged(display: str, status: object) -> str:
    """A value in its band's colour with the band's word beside it (paragraph markup)."""
    return _coloured(f"<b>{_esc(display)}</b> {word(status)}", status)


def _why(item: Mapping[str, Any]) -> str:
    """What decides a verdict: the worst metric, or the coverage; nothing measured, the reason."""
    if not item.get("coverage") and item.get("reason"):
        return str(item["reason"])
    parts = []
    by = item.get("decided_by")
    # the headline decides it: its value and word are printed already
    if (
        by
        and by.get("metric") != item.get("headline")
        and verdict.parse(by.get("status")) is not Band.UNKNOWN
    ):
        parts.append(f"worst: {by['name']} {by['display']}")
    if item.get("partial"):
        parts.append(str(item["partial"]))
    return "; ".join(parts)


def _table(
    rows: list[list[Any]],
    widths: list[float],
    status_cols: Sequence[int] = (),
    statuses: Sequence[Sequence[str]] = (),
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
    for r, row_statuses in enumerate(statuses, 1):
        for col, status in zip(status_cols, row_statuses, strict=True):
            style.append(("TEXTCOLOR", (col, r), (col, r), colors.HexColor(_hex(status))))
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
            "is missing, with the reason; it is never counted as Healthy.",
            s["small"],
        ),
    ]
    if rollup["period"].get("note"):
        story.append(Paragraph(_esc(rollup["period"]["note"]), s["small"]))
    story.append(PageBreak())
    return story


def _domain_page(d: Mapping[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    head = next((m for m in d["metrics"] if m["id"] == d["headline"]), None)
    story: list[Any] = [
        Paragraph(_esc(d["name"]), s["h1"]),
        Paragraph(_esc(d["description"]), s["small"]),
        Spacer(1, 3 * mm),
        Paragraph(
            "Org verdict: "
            + _coloured(f"<b>{word(d['status'])}</b>", d["status"])
            + (f" &nbsp; ({_esc(_why(d))})" if _why(d) else ""),
            s["body"],
        ),
        Paragraph(
            f"{_esc(head['name'] if head else 'Org value')}: {_judged(d['display'], d['headline_status'])}"
            f" &nbsp; change vs previous period: {_fmt_delta(d['delta'])}",
            s["body"],
        ),
    ]
    if d.get("reason"):
        story.append(Paragraph(f"Reason: {_esc(d['reason'])}", s["small"]))
    story += [_sparkline(d["series"]), Spacer(1, 2 * mm)]
    metrics = [["Metric", "Org value", "Status", "Previous", "Change", "Tenants known"]]
    for m in d["metrics"]:
        prev = "n/a" if m["previous"] is None else display(m["previous"], m["unit"])
        metrics.append(
            [
                Paragraph(_esc(m["name"]), s["cell"]),  # long framework names wrap inside the column
                m["display"],
                word(m["status"]),
                prev,
                _fmt_delta(m["delta"]),
                str(m["tenants_known"]),
            ]
        )
    story += [
        _table(
            metrics,
            [52 * mm, 32 * mm, 22 * mm, 22 * mm, 20 * mm, 24 * mm],
            (1, 2),
            [(m["status"], m["status"]) for m in d["metrics"]],
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"Tenants, worst first: {_esc(_counts(d))}", s["body"]),
    ]
    cards = d["tenants"][:MAX_CARDS_PER_PAGE]
    head_name = head["name"] if head else "Value"
    head_cell = Paragraph(f"<b>{_esc(head_name)}</b>", s["cell"])
    rows: list[list[Any]] = [
        ["#", "Tenant", "Verdict", head_cell, "Status", "Change", "Why", "Snapshot (UTC)"]
    ]
    for c in cards:
        why = "; ".join(x for x in (_why(c), "DROP > 5 pts" if c.get("chevron") else "") if x)
        at = (c["snapshot"]["computed_at"] or "none")[:16].replace("T", " ")
        rows.append(
            [
                str(c["rank"]),
                Paragraph(_esc(c["tenant"]["name"]), s["cell"]),
                word(c["status"]),
                c["display"],
                word(c["headline_status"]),
                _fmt_delta(c["delta"]),
                Paragraph(_esc(why), s["cell"]),
                at,
            ]
        )
    story.append(
        _table(
            rows,
            [7 * mm, 30 * mm, 17 * mm, 22 * mm, 17 * mm, 13 * mm, 51 * mm, 25 * mm],
            (2, 3, 4),
            [(c["status"], c["headline_status"], c["headline_status"]) for c in cards],
        )
    )
    more = len(d["tenants"]) - len(cards)
    if more > 0:
        story.append(Paragraph(f"... and {more} more tenants: see the appendix.", s["small"]))
    story.append(PageBreak())
    return story


def _counts(d: Mapping[str, Any]) -> str:
    counts = d.get("tenant_status") or {}
    return " · ".join(f"{n} {word(status)}" for status, n in counts.items()) or "none in scope"


def _appendix(rollup: Mapping[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    rows = [["Tenant", "Domain", "Metric", "Value", "Previous", "Change", "Status", "Snapshot (UTC)"]]
    data = appendix_rows(rollup["domains"])
    for r in data:
        prev = r.get("previous_display") or ("n/a" if r["previous"] is None else f"{r['previous']:g}")
        at = (r["snapshot_at"] or "none")[:16].replace("T", " ")
        rows.append(
            [
                r["tenant"],
                r["domain"],
                r["metric"],
                r["display"],
                prev,
                _fmt_delta(r["delta"]),
                word(r["status"]),
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
                [28 * mm, 24 * mm, 42 * mm, 24 * mm, 16 * mm, 14 * mm, 16 * mm, 24 * mm],
                (3, 6),
                [(r["status"], r["status"]) for r in data],
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
