"""The issue's acceptance walk in Debian's chromium (docs/rules.md, rules A6 and A7):
"register on arrival → head → officer → back to registry, each signed; then the officer
leaves and hands over everything; the leaving officer's account is locked only after."

The recipient's registry clerk registers an envelope that arrived, submits it to the head
for direction, the head gives it to an officer, the officer returns it to the registry, each
receiver signing with their PIN; the registry gives it to the officer once more. Then the
administrator, on the officer's page, tries to lock the account (refused: the officer holds
the envelope), hands everything over to a colleague of the unit who types their PIN (the
handover record and its PDF), and locks the account. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from kt1.models import Envelope, User
from kt1.services.context import Ctx
from kt1.services.verify import verify
from tests.browser.test_circulation import holder_on_envelope_page, pass_on
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import PIN, Clock, Network
from tests.journey import carry, register
from tests.web.pdf import pdf_text


def test_circulate_then_the_officer_hands_everything_over_and_is_locked_after(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    # Delivered shortly before the pages (real clock) register it on arrival: on time.
    clock.now = datetime.now(UTC) - timedelta(hours=2)
    envelope = register(ctx, network, document_number="92/CV-BNV")
    carry(ctx, network, clock, envelope, until="delivered")
    number = envelope.number
    ctx.session.commit()  # and touch nothing until the end: an open SQLite transaction locks
    shot = Shots("leaving-walk")

    # 1. The recipient's registry clerk registers it on arrival and submits it to the head,
    #    who signs with her PIN on the clerk's screen.
    clerk = people("vt_hcm")
    clerk.go("/clerk/incoming")
    clerk.page.fill("textarea[name=numbers]", number)
    clerk.submit("main form.card")
    assert "đã vào sổ đến số" in clerk.text(".results")
    clerk.go("/clerk/held/")
    assert "Tài liệu tôi đang giữ" in clerk.text()
    pass_on(clerk, number, "circulated_for_direction", "head_hcm",
            note="Kính trình đồng chí cho ý kiến chỉ đạo")
    assert "Đã chuyển bưu gửi" in clerk.flash()
    assert "HEAD_HCM" in holder_on_envelope_page(clerk, number)
    shot(clerk, "with-the-head")

    # 2. The head gives it to the officer, who signs; 3. the officer returns it to the registry.
    head = people("head_hcm")
    pass_on(head, number, "circulated_for_handling", "cv_hcm", note="Giao đ/c Ngọc xử lý")
    assert "Đã chuyển bưu gửi" in head.flash()
    assert "CV_HCM" in holder_on_envelope_page(head, number)
    officer = people("cv_hcm")
    pass_on(officer, number, "circulated_to_registry", "vt_hcm")
    assert "Đã chuyển bưu gửi" in officer.flash()
    assert "Bạn không giữ bưu gửi, tài liệu nào" in officer.text()
    assert "VT_HCM" in holder_on_envelope_page(officer, number)
    shot(officer, "back-at-the-registry")

    # 4. The registry gives it to the officer once more: he holds it when he leaves.
    pass_on(clerk, number, "circulated_for_handling", "cv_hcm", note="Bổ sung hồ sơ")
    assert "Đã chuyển bưu gửi" in clerk.flash()
    officer.go("/clerk/held/")
    assert number in officer.text("#held")

    # 5. The administrator tries to lock the officer: refused, the account stays in use.
    admin = people("admin")
    admin.go("/admin/users/cv_hcm")
    assert "Đang dùng" in admin.text("#user-facts")
    holdings = admin.text("#holdings")
    assert number in holdings and "1 bưu gửi, 0 túi thư, 0 bảng kê giao chưa ký nhận" in holdings
    admin.submit("#lock form")
    assert "/admin/users/cv_hcm" in admin.page.url
    refusal = admin.flash()
    assert ("cv_hcm đang giữ 1 bưu gửi, 0 túi thư và 0 bảng kê giao chưa ký nhận: hãy bàn "
            "giao tất cả cho đồng nghiệp trước khi khóa tài khoản") in refusal, refusal
    assert "Đang dùng" in admin.text("#user-facts")
    assert admin.text("#lock button") == "Khóa"
    shot(admin, "lock-refused")

    # 6. "Bàn giao tất cả cho …" the registry clerk, who types her PIN: the handover record.
    assert "Bàn giao tất cả cho …" in admin.text("#holdings")
    admin.page.select_option("#handover-form select[name=receiver]", "vt_hcm")
    admin.submit("#handover-form")
    assert "Người nhận phải nhập mã PIN hoặc quét thẻ nhân viên" in admin.text()  # not without
    admin.page.select_option("#handover-form select[name=receiver]", "vt_hcm")
    admin.page.fill("#handover-form input[name=receiver_pin]", PIN)
    admin.submit("#handover-form")
    match = re.search(r"/admin/handover-records/([^/?]+)$", admin.page.url)
    assert match, admin.page.url
    record = match.group(1)
    assert f"Đã bàn giao: biên bản {record}." in admin.flash()
    assert f"Biên bản bàn giao {record}" in admin.text("h1")
    facts = admin.text("#record")
    assert "Bên giao: CV_HCM (cv_hcm)" in facts and "Bên nhận: VT_HCM (vt_hcm)" in facts
    assert number in admin.text("#record-items")
    shot(admin, "handover-record")

    link = admin.page.locator("#record-pdf")
    assert link.inner_text() == "Tải biên bản (PDF) để in và ký"
    pdf = admin.page.request.get(admin.origin + str(link.get_attribute("href")))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    body = pdf.body()
    assert body.startswith(b"%PDF-")
    assert number.encode() in pdf_text(body) and record.encode() in pdf_text(body)

    # 7. Now he holds nothing, and the lock goes through.
    admin.go("/admin/users/cv_hcm")
    assert "Người này không giữ bưu gửi, túi thư hay bảng kê giao nào" in admin.text("#holdings")
    assert record in admin.text("#records")
    admin.submit("#lock form")
    assert ("Đã khóa tài khoản cv_hcm; mọi phiên đăng nhập của người này đã kết thúc."
            in admin.flash())
    admin.go("/admin/users/cv_hcm")
    assert "Đã khóa" in admin.text("#user-facts")
    assert admin.text("#lock button") == "Mở lại"
    shot(admin, "locked-after")

    # The colleague holds it, with the hand-over on the envelope's page; the officer's
    # session ended with the lock.
    clerk.go("/clerk/held/")
    assert number in clerk.text("#held")
    assert "VT_HCM" in holder_on_envelope_page(clerk, number)
    assert "Bàn giao" in clerk.text("table.chain")
    officer.page.goto(officer.origin + "/clerk/held/")
    assert "/login" in officer.page.url

    # In the database: the officer inactive, the envelope with the colleague, verify clean.
    ctx.session.rollback()
    ctx.session.expire_all()
    cv = ctx.session.execute(select(User).where(User.username == "cv_hcm")).unique().scalar_one()
    vt = ctx.session.execute(select(User).where(User.username == "vt_hcm")).unique().scalar_one()
    held = ctx.session.execute(select(Envelope).where(Envelope.number == number)).unique() \
        .scalar_one()
    assert not cv.is_active
    assert held.holder_user_id == vt.id
    clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the pages used the real clock
    (report,) = verify(ctx, [number])
    assert report.number == number and not report.findings, report.findings
    for person in (clerk, head, officer, admin):
        assert not person.outside() and not person.csp_violations()
