"""The board-pack PDF from a roll-up document: pages, numbers per page, watermark, filename."""

from __future__ import annotations

import io
from datetime import timedelta

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
