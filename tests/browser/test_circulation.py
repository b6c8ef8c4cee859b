"""Internal circulation in Debian's chromium (docs/rules.md rule A7): the recipient's registry
clerk registers an envelope that arrived, submits it to the head for direction, the head
gives it to an officer for handling, the officer returns it to the registry; each receiver
signs with their PIN at the giver's screen, and the envelope's page shows each holder in
turn and the internal steps in Vietnamese. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from typing import Any

from kt1.services.context import Ctx
from tests.browser.test_day import Person, Shots, people  # noqa: F401  (the fixture)
from tests.conftest import PIN, Clock, Network
from tests.journey import carry, register


def holder_on_envelope_page(person: Person, number: str) -> str:
    person.go(f"/clerk/envelopes/{number}")
    return person.text("dl.facts")


def pass_on(person: Person, number: str, purpose: str, receiver: str, note: str = "") -> None:
    """On the held page, "Chuyển" for ``number``: purpose, colleague, note, their PIN."""
    person.go("/clerk/held/")
    assert number in person.text("#held")
    with person.page.expect_navigation():
        person.page.click(f"#held-{number} a.button")
    page = person.page
    page.select_option("#purpose", purpose)
    page.select_option("#receiver", receiver)
    if note:
        page.fill("#note", note)
    page.fill("#pin", PIN)
    person.submit("#circulate-form")


def test_registry_head_officer_registry_each_signed_in_the_browser(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    envelope = register(ctx, network, document_number="91/CV-BNV")
    carry(ctx, network, clock, envelope, until="delivered")
    number = envelope.number
    ctx.session.commit()  # and touch nothing after: an open SQLite transaction locks writers
    shot = Shots("circulation")

    # 1. The recipient's registry clerk registers it on arrival, then submits it to the head.
    clerk = people("vt_hcm")
    clerk.go("/clerk/incoming")
    clerk.page.fill("textarea[name=numbers]", number)
    clerk.submit("main form.card")
    assert "đã vào sổ đến số" in clerk.text(".results")
    shot(clerk, "registered-on-arrival")
    with clerk.page.expect_navigation():
        clerk.page.click(".results a:has-text('Trình lãnh đạo')")
    assert clerk.page.input_value("#purpose") == "circulated_for_direction"
    clerk.page.select_option("#receiver", "head_hcm")
    clerk.page.fill("#note", "Kính trình đồng chí cho ý kiến chỉ đạo")
    clerk.submit("#circulate-form")
    assert "Người nhận phải nhập mã PIN" in clerk.text()  # not without the head's PIN
    clerk.page.select_option("#receiver", "head_hcm")
    clerk.page.fill("#pin", PIN)
    clerk.submit("#circulate-form")
    assert "Đã chuyển bưu gửi" in clerk.flash() and "/clerk/incoming" in clerk.page.url
    assert "HEAD_HCM" in holder_on_envelope_page(clerk, number)
    shot(clerk, "with-the-head")

    # 2. The head gives it to an officer for handling, with the direction as a note.
    head = people("head_hcm")
    pass_on(head, number, "circulated_for_handling", "cv_hcm",
            note="Giao đ/c Ngọc chủ trì, báo cáo trước 05/12")
    assert "Đã chuyển bưu gửi" in head.flash()
    assert "Bạn không giữ bưu gửi, tài liệu nào" in head.text()
    assert "CV_HCM" in holder_on_envelope_page(head, number)
    shot(head, "with-the-officer")

    # 3. The officer returns it to the registry.
    officer = people("cv_hcm")
    pass_on(officer, number, "circulated_to_registry", "vt_hcm")
    assert "Đã chuyển bưu gửi" in officer.flash()
    assert "VT_HCM" in holder_on_envelope_page(officer, number)

    clerk.go("/clerk/held/")
    assert number in clerk.text("#held")
    timeline = holder_on_envelope_page(clerk, number) and clerk.text("table.chain")
    for step in ("Vào sổ đến", "Trình lãnh đạo cho ý kiến chỉ đạo", "Giao xử lý", "Trả văn thư",
                 "Giao đ/c Ngọc chủ trì, báo cáo trước 05/12"):
        assert step in timeline, step
    shot(clerk, "back-at-the-registry")
    for person in (clerk, head, officer):
        assert not person.outside() and not person.csp_violations()


def test_a_pass_sent_again_from_a_second_tab_says_already_received(
        people: Any, ctx: Ctx, network: Network, clock: Clock) -> None:  # noqa: F811
    """The same pass sent from a second tab (or the badge scanned twice): the colleague
    already holds it from this very pass; "Đã nhận rồi", not a refusal, nothing written."""
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="arrived")
    number = envelope.number
    ctx.session.commit()  # and touch nothing after: an open SQLite transaction locks writers
    shot = Shots("circulation-again")

    clerk = people("vt_hcm")
    second = clerk.page.context.new_page()
    second.set_default_timeout(20_000)
    for page in (clerk.page, second):
        page.goto(f"{clerk.origin}/clerk/held/{number}")
        page.select_option("#purpose", "circulated_for_handling")
        page.select_option("#receiver", "cv_hcm")
        page.fill("#pin", PIN)
    clerk.submit("#circulate-form")
    assert "Đã chuyển bưu gửi" in clerk.flash()
    tab = Person(name="vt_hcm (2)", page=second, origin=clerk.origin)
    for width, height in ((1366, 900), (412, 915)):
        second.set_viewport_size({"width": width, "height": height})
        if width == 1366:
            tab.submit("#circulate-form")
        else:
            second.reload()  # the answer again, on the phone: still nothing written
        found = tab.text("#already-received")
        assert "Đã nhận rồi" in found and "CV_HCM (cv_hcm) đang giữ" in found, found
        assert second.locator(".flash.error").count() == 0
        shot(tab, f"already-received-{width}")
    assert "CV_HCM" in holder_on_envelope_page(clerk, number)
    clerk.go(f"/clerk/envelopes/{number}")
    assert clerk.text("table.chain").count("Giao xử lý") == 1
    assert not clerk.outside() and not clerk.csp_violations()
