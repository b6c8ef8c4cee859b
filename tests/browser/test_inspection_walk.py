"""Issue 12's acceptance walk for the self-inspection report, in Debian's chromium: a security
officer of the unit produces the report for the year, reads each checklist item's count on
the screen, and downloads its PDF, whose text (pdftotext) holds the same counts. Screenshots
go to ``test-artifacts/``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from kt1.services.context import Ctx
from kt1.services.subjects import local_date
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Clock, Network, pdf_text
from tests.services.test_inspection import build

#: What the unit's data holds (tests/services/test_inspection.py, build): one of each.
EXPECTED = {"handover_unsigned": 1, "wrong_letter": 1, "copy_unapproved": 0,
            "protection_term_missing": 0, "held_by_leaver": 1, "delivery_overdue": 1,
            "arrival_unregistered": 0, "incident_open": 1, "incident_unacknowledged": 1}


def test_a_security_officer_produces_the_self_inspection_report_and_its_pdf(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    # The scenario ends about two days before the pages' real clock: the delivery and the
    # incident's acknowledgement are late by then.
    clock.now = datetime.now(UTC) - timedelta(days=12)
    began = local_date(clock.now)
    made = {key: value if isinstance(value, str) else value.number
            for key, value in build(ctx, network, clock).items()}
    ctx.session.commit()  # and touch nothing more: an open SQLite transaction locks
    shot = Shots("inspection-walk")

    officer = people("bm_bnv")
    officer.go("/")
    officer.page.click("nav >> text=Tự kiểm tra")
    assert "Đơn vị chưa có báo cáo tự kiểm tra nào." in officer.text()
    shot(officer, "empty")
    # the period starts on the scenario's first day: left blank it would start on 1 January
    # of the pages' year, after the scenario in its first days
    officer.page.fill("#run-form [name='day_from']", began.isoformat())
    officer.submit("#run-form")
    match = re.search(r"/reports/self-inspection/(TKT-BNV-\d{4}-001)$", officer.page.url)
    assert match, officer.page.url
    number = match.group(1)
    assert f"Đã lập báo cáo tự kiểm tra {number}." in officer.flash()
    for code, count in EXPECTED.items():
        assert officer.text(f"#item-{code} td.count") == str(count), code
    assert made["left"] in officer.text("#item-held_by_leaver")
    shot(officer, "report")

    link = officer.page.locator("#pdf")
    pdf = officer.page.request.get(officer.origin + str(link.get_attribute("href")))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert "BÁO CÁO TỰ KIỂM TRA CÔNG TÁC BẢO VỆ BÍ MẬT NHÀ NƯỚC" in text and number in text
    assert "Tổng cộng: 6 tồn tại ở 6 nội dung kiểm tra." in text
    rows = {code: line for line in text.splitlines() for code in EXPECTED
            if line.strip().startswith(str(list(EXPECTED).index(code) + 1) + " ")}
    for code, count in EXPECTED.items():
        assert re.search(rf"\s{count}\s", rows[code] + " "), (code, rows.get(code))
    assert made["sheet"] in text
    assert made["late"] in text and made["bad_letter"] in text
