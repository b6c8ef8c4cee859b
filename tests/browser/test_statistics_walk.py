"""The issue's acceptance walk in Debian's chromium: "a security officer produces the
statistics, downloads the PDF, and the PDF's text (pdftotext) holds the expected counts".

BNV registered three documents in the last days: one (Tối mật) went to the post office, one
(Tuyệt mật, Hỏa tốc) stays and was copied once, one (Mật) was declassified then destroyed.
The security officer opens "Thống kê BMNN" from the menu, enters the period, produces it
(tables, two inline SVG charts, nothing loaded from outside, no CSP violation), and
downloads the report: the cover, the totals and the signature block are in its text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kt1.models.enums import Classification, EventKind, ServiceClass
from kt1.services import custody
from kt1.services.context import Ctx
from kt1.services.subjects import local_date
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Clock, Network, new_scan, pdf_text, pin
from tests.journey import register
from tests.services.test_statistics import life_event, make_copy

#: held, sent, received, copied, declassified, destroyed
EXPECTED = ["2", "3", "0", "1", "1", "1"]


def test_the_officer_produces_the_statistics_and_downloads_the_report(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    clock.now = datetime.now(UTC) - timedelta(days=2)  # the pages run on the real clock
    first = local_date(clock.now) - timedelta(days=20)
    last = local_date(datetime.now(UTC))
    gone = register(ctx, network, classification=Classification.SECRET)
    kept = register(ctx, network, classification=Classification.TOP_SECRET,
                    service=ServiceClass.FLASH)
    ended = register(ctx, network, classification=Classification.CONFIDENTIAL)
    custody.accept_at_counter(ctx, network["gd_hn"], gone.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), clock.tick(),
                              giver_receipt=pin(network["vt_bnv"]))
    make_copy(ctx, network, kept, 1, 1)
    life_event(ctx, network, clock, ended, EventKind.DECLASSIFIED)
    life_event(ctx, network, clock, ended, EventKind.DESTROYED)
    ctx.session.commit()  # and touch nothing more: an open SQLite transaction locks
    shot = Shots("statistics-walk")

    officer = people("bm_bnv")
    officer.go("/")
    officer.page.click("nav >> text=Thống kê BMNN")
    officer.page.wait_for_selector("#statistics-form")
    assert officer.page.input_value("input[name=unit]") == "BNV"
    officer.page.fill("input[name=date_from]", first.isoformat())
    officer.page.fill("input[name=date_to]", last.isoformat())
    officer.submit("#statistics-form", "#produce")
    totals = officer.page.locator("#by-class tr.total td").all_inner_texts()
    assert totals == EXPECTED, totals
    assert officer.page.locator("#chart-by-class rect.bar").count() == 24
    assert officer.page.locator("#chart-by-month polyline").count() == 6
    assert officer.text("#stat-incidents").startswith("0")
    assert officer.outside() == [] and officer.csp_violations() == []
    shot(officer, "statistics")

    link = officer.page.locator("#export-pdf")
    assert link.inner_text() == "Tải báo cáo PDF (in, ký)"
    with officer.page.expect_download() as download:
        link.click()
    path = download.value.path()
    with open(path, "rb") as f:
        body = f.read()
    assert body.startswith(b"%PDF-")
    text = pdf_text(body)
    assert "BÁO CÁO THỐNG KÊ BÍ MẬT NHÀ NƯỚC" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert f"từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}" in text
    assert "NGƯỜI LẬP BIỂU" in text and "THỦ TRƯỞNG CƠ QUAN" in text
    rows = [line.split() for line in text.splitlines() if "Tổng cộng" in line]
    assert rows[0][-6:] == EXPECTED and rows[1][-6:] == EXPECTED, rows
    secret = next(line.split() for line in text.splitlines() if "Tuyệt mật (A)" in line)
    assert secret[-6:] == ["2", "1", "0", "1", "0", "0"]
