"""The board-pack PDF from a roll-up document: pages, numbers per page, watermark, filename."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from companyos.reports import board_pack
from companyos.rollup.domains import build_domains

from tests.unit.rollup.conftest import NOW, entry, period, posture, row, snapshot, tenant

pypdf = pytest.importorskip("pypdf", reason="pypdf (dev dependency) reads the PDF's text")


def rollup(n_tenants: int) -> dict:
    rows = []
    for i in range(n_tenants):
        snap = snapshot(
            change_failure_rate=entry(5.0 + i, 6.0 + i, score=90.0 - i),
            mttr=entry(30.0 + i, 35.0, score=80.0),
        )
        certs = [("api", NOW + timedelta(days=5 + i))]
        rows.append(row(tenant(f"t{i:02d}", f"Tenant {i:02d}"), snap, posture(certs=certs)))
    p = period()
    return {
        "org": {"name": "Acme Holdings"},
        "period": {**p.to_dict(), "note": None},
        "scope": {
            "tenants": [r.tenant.id for r in rows],
            "skipped": [{"name": "Old Co", "reason": "inactive"}],
        },
        "domains": build_domains(rows, p),
    }


def text_of(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("n_tenants", [1, 3, 30])
def test_cover_then_one_page_per_domain_then_the_appendix(n_tenants):
    doc = rollup(n_tenants)

    pages = text_of(board_pack.render(doc, email="pat@acme.test", exported_at=NOW))

    assert len(pages) >= 1 + 6 + 1
    assert "Acme Holdings" in pages[0] and "Rolling 28 days" in pages[0] and "Old Co (inactive)" in pages[0]
    for page, d in zip(pages[1:7], doc["domains"], strict=True):
        assert d["name"] in page and d["display"] in page
        shown = d["tenants"][: board_pack.MAX_CARDS_PER_PAGE]
        assert all(c["tenant"]["name"] in page for c in shown)
    assert all("Appendix" not in p for p in pages[:7]) and "Appendix" in pages[7]
    if n_tenants > board_pack.MAX_CARDS_PER_PAGE:
        assert "more tenants: see the appendix" in pages[1]
        assert "Tenant 29" in "".join(pages[7:])


def test_every_page_carries_the_watermark():
    pages = text_of(board_pack.render(rollup(2), email="pat@acme.test", exported_at=NOW))
    assert all("Exported by pat@acme.test at 2026-06-30 12:00:00 UTC" in p for p in pages)


def test_filename_carries_the_export_date():
    assert board_pack.filename(NOW) == "companyos-executive-20260630.pdf"


def test_a_roll_up_without_tenants_still_renders():
    doc = rollup(0)
    pages = text_of(board_pack.render(doc, email="pat@acme.test", exported_at=NOW))
    assert len(pages) == 8 and "No tenant in scope." in pages[7]


def test_status_colours_are_the_cockpits_colour_tokens():
    css = (Path(__file__).parents[3] / "web" / "css" / "status.css").read_text()  # the one token set
    tokens = dict(
        re.findall(r"--(excellent|healthy|attention|warning|critical|unknown):\s*(#[0-9a-fA-F]{6})", css)
    )
    assert {b.value: c for b, c in board_pack.STATUS_COLOURS.items()} == tokens


def lines_after(page: str, first: str, n: int) -> list[str]:
    lines = [x.strip() for x in page.splitlines()]
    i = lines.index(first)
    return lines[i + 1 : i + 1 + n]


def test_the_pdf_prints_the_rollups_verdicts_with_the_pages_words():
    from tests.unit.rollup.test_rollup_domains import dora, slo_row, slo_snapshot

    northwind = {
        **dora(4.0, "healthy", 84.0, mttr=entry(75.0, 70.0, score=0.0, status="critical")),
        **{
            "panels": slo_snapshot(
                slo_row("checkout", 99.95, 0.5, 0.5), slo_row("auth", 99.79, -1.128, 2.13)
            )["panels"]
        },
    }
    acme = {
        **dora(10.0, "attention", 60.0),
        "panels": slo_snapshot(slo_row("api", 99.93, 0.3, 0.7))["panels"],
    }
    rows = [row(tenant("n", "Northwind"), northwind), row(tenant("a", "Acme"), acme)]
    p = period()
    doc = {
        "org": {"name": "Acme Holdings"},
        "period": {**p.to_dict(), "note": None},
        "scope": {"tenants": ["n", "a"], "skipped": []},
        "domains": build_domains(rows, p),
    }

    pages = text_of(board_pack.render(doc, email="pat@acme.test", exported_at=NOW))

    dora_page, slo_page = pages[1], pages[3]
    # DORA: Northwind is Critical because of MTTR, while its 4.0 % change failure rate is Healthy
    assert lines_after(dora_page, "Northwind", 4) == ["Critical", "4.0%", "Healthy", "0"]
    assert "worst: MTTR 75 min" in dora_page
    # Acme: a 10 % change failure rate is Attention (score 60), its card too
    assert lines_after(dora_page, "Acme", 3) == ["Attention", "10.0%", "Attention"]
    # SLOs: objectives in budget, not attainment; a spent budget is Critical
    assert lines_after(slo_page, "Northwind", 3) == ["Critical", "1 of 2 in budget", "Critical"]
    assert lines_after(slo_page, "Acme", 3) == ["Healthy", "1 of 1 in budget", "Healthy"]
    assert (
        "Org verdict: Critical" in slo_page and "Objectives in budget: 2 of 3 in budget Critical" in slo_page
    )
    # no lower-case or foreign status word anywhere: the words are the page's (Band labels)
    for text in pages:
        assert not re.search(
            r"\b(critical|healthy|attention|warning|excellent|unknown)\b", text.replace("Unknown", "")
        )
