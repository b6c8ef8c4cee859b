"""The "chuyển người có tên" mode (hand to the person named on the envelope) on a 412×915
phone: the registry clerk of the receiving agency scans, the addressee signs with his PIN,
the handoff is recorded, and the answer is on the screen, not below it."""

from __future__ import annotations

from typing import Any

from kt1.models.enums import EventKind
from kt1.services.context import Ctx
from tests.browser.conftest import set_up_device
from tests.browser.test_scan_mobile import in_viewport, phone, shot  # noqa: F401 (fixture)
from tests.browser.test_scan_page import device, handoffs, result, scan
from tests.conftest import PIN, Network
from tests.journey import carry, register


def test_handing_an_envelope_to_the_named_person_on_the_phone(
        ctx: Ctx, network: Network, phone: Any, clock: Any, snapshot: Any) -> None:  # noqa: F811
    envelope = register(ctx, network, recipient_name="Nguyễn Văn Chuyên",
                        event_at=clock.tick())
    carry(ctx, network, clock, envelope, until="arrived")
    ctx.session.commit()
    number = envelope.number

    set_up_device(phone, device(ctx, "UBND-HCM"), "vt_hcm")
    page = phone.page
    page.click("button.mode[data-mode='passed_to_addressee']")
    assert page.get_attribute("button.mode[data-mode='passed_to_addressee']",
                              "aria-pressed") == "true"
    assert page.is_visible("#addressee-input") and page.is_visible("#pin-input")
    assert page.inner_text("#receipt-who") == "người có tên nhận"
    for hidden in ("#giver-input", "#courier-input", "#clerk-input", "#bag-input"):
        assert page.is_hidden(hidden), hidden

    # no addressee yet: refused on the phone, nothing sent
    before = snapshot()
    scan(phone, number)
    refused = result(phone, "refused")
    assert "Chưa nhập người có tên" in refused["detail"]
    in_viewport(phone)
    assert snapshot() == before

    page.fill("#addressee-input", "cv_hcm")
    page.press("#addressee-input", "Enter")
    page.fill("#pin-input", PIN)
    page.press("#pin-input", "Enter")
    scan(phone, number)
    shown = result(phone, "ok")
    assert shown["title"] == f"Đã ghi nhận: {number}"
    assert "Chuyển người có tên" in shown["detail"]
    in_viewport(phone)
    shot(phone, "scan-phone-addressee-flash")
    page.wait_for_selector("#result:not(.flash)", timeout=6000)
    in_viewport(phone)  # settled as the bar at the bottom, still on the screen
    shot(phone, "scan-phone-addressee")
    last = handoffs(ctx, number)[-1]
    assert last.kind is EventKind.PASSED_TO_ADDRESSEE
    assert last.from_user.username == "vt_hcm" and last.to_user.username == "cv_hcm"
    assert last.ack_method == "pin"
    ctx.session.rollback()
