"""The /scan/ page on a 412×915 phone (and at 1366×900): the result of the last scan is in
sight whatever the viewport, a scanner's burst into the PIN box is a scan (recorded, not
left in the PIN box), a second scan of an envelope already received says so kindly, and
the code field's placeholder is not cut off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from kt1.models import Bag
from kt1.models.enums import EventKind
from kt1.services.context import Ctx
from tests.browser.conftest import ARTIFACTS, Tab, set_up_device
from tests.browser.test_scan_page import (
    counter_ready,
    device,
    envelopes,
    handoffs,
    no_outside_requests_and_no_csp_violation,
    result,
    scan,
)
from tests.conftest import PIN, Network
from tests.journey import carry, register

PHONE = {"width": 412, "height": 915}
LAPTOP = {"width": 1366, "height": 900}


def _tab(browser: Any, live_server: str, viewport: dict[str, int]) -> Iterator[Tab]:
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  viewport=viewport, service_workers="allow")
    page = context.new_page()
    page.set_default_timeout(15_000)
    t = Tab(page=page, context=context, origin=live_server)
    page.on("request", lambda r: t.requests.append(r.url))
    page.on("console", lambda m: t.console.append(f"{m.type}: {m.text}"))
    yield t
    context.close()


@pytest.fixture
def phone(browser: Any, live_server: str) -> Iterator[Tab]:
    yield from _tab(browser, live_server, PHONE)


@pytest.fixture
def laptop(browser: Any, live_server: str) -> Iterator[Tab]:
    yield from _tab(browser, live_server, LAPTOP)


def shot(tab: Tab, name: str) -> None:
    """What the screen shows (not the whole page: the result is fixed to the screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def in_viewport(tab: Tab, selector: str = "#result") -> dict[str, float]:
    box = tab.page.locator(selector).bounding_box()
    size = tab.page.viewport_size
    assert box is not None, f"{selector} is not displayed"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)
    assert box["height"] >= 60 and box["width"] >= size["width"] * 0.9, box
    return box


def flashed(tab: Tab) -> None:
    """Right after a scan the result fills the screen, then settles as a bar in sight."""
    page = tab.page
    assert page.evaluate("document.getElementById('result').classList.contains('flash')")
    box = in_viewport(tab)
    size = page.viewport_size
    assert box["height"] >= size["height"] * 0.95
    shot(tab, f"scan-{size['width']}-flash")
    page.wait_for_selector("#result:not(.flash)", timeout=6000)
    in_viewport(tab)


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_result_of_a_scan_fills_the_screen_then_stays_in_sight(
        ctx: Ctx, network: Network, request: pytest.FixtureRequest, size: str) -> None:
    tab: Tab = request.getfixturevalue(size)
    (number,) = envelopes(ctx, network, 1)
    counter_ready(tab, device(ctx))
    tab.page.evaluate("window.scrollTo(0, 0)")
    scan(tab, number)
    shown = result(tab, "ok")
    assert number in shown["title"]
    flashed(tab)
    shot(tab, f"scan-{size}-accepted")
    # scrolled to the top or to the bottom of a long page, the result is still in sight
    tab.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    in_viewport(tab)
    # the last envelope of the list is not hidden behind the bar
    last = tab.page.locator("#btn-end-batch").bounding_box()
    bar = tab.page.locator("#result").bounding_box()
    assert last is not None and bar is not None
    assert last["y"] + last["height"] <= bar["y"] + 1
    assert tab.page.evaluate("document.activeElement.id") == "code-input"
    no_outside_requests_and_no_csp_violation(tab)


def test_a_refusal_on_the_phone_is_in_sight_too(
        ctx: Ctx, network: Network, phone: Tab) -> None:
    counter_ready(phone, device(ctx))
    scan(phone, "KT999999995VN")
    assert "Không tìm thấy" in result(phone, "refused")["detail"]
    in_viewport(phone)
    shot(phone, "scan-phone-refused")


def test_a_scanner_burst_into_the_pin_box_is_recorded_as_a_scan(
        ctx: Ctx, network: Network, phone: Tab) -> None:
    first, second = envelopes(ctx, network, 2)
    counter_ready(phone, device(ctx))
    page = phone.page
    # the clerk taps the PIN box again and types his PIN (no Enter) ...
    page.fill("#pin-input", "")
    page.click("#pin-input")
    page.keyboard.type(PIN, delay=140)
    assert page.evaluate("document.activeElement.id") == "pin-input"
    # ... and the next envelope is scanned while the PIN box has the focus
    page.keyboard.type(first, delay=8)
    page.keyboard.press("Enter")
    shown = result(phone, "ok")
    assert first in shown["title"]
    in_viewport(phone)
    assert page.input_value("#pin-input") == PIN  # the PIN is kept, the code is not in it
    assert page.evaluate("document.activeElement.id") == "code-input"
    chain = handoffs(ctx, first)
    assert [h.kind for h in chain] == [EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED]
    assert chain[1].to_user.username == "gd_hn" and chain[1].note == ""  # a scanner read it
    ctx.session.rollback()  # no read transaction left open on the live server's database
    # the giver's name field too: the burst is a scan, the name stays
    page.click("#giver-input")
    page.keyboard.type(second, delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#result[data-state='ok'] >> text={second}")
    assert page.input_value("#giver-input") == "vt_bnv"
    assert [h.kind for h in handoffs(ctx, second)][-1] is EventKind.ACCEPTED
    shot(phone, "scan-phone-wedge-into-pin")


def test_a_pin_typed_by_hand_and_entered_stays_a_pin(
        ctx: Ctx, network: Network, phone: Tab) -> None:
    counter_ready(phone, device(ctx))
    page = phone.page
    page.fill("#pin-input", "")
    page.click("#pin-input")
    page.keyboard.type(PIN, delay=140)
    page.keyboard.press("Enter")
    assert page.input_value("#pin-input") == PIN
    assert page.evaluate("document.activeElement.id") == "code-input"
    assert page.locator("#recent li").count() == 0


def test_scanning_an_envelope_already_received_says_so_kindly(
        ctx: Ctx, network: Network, phone: Tab, snapshot: Any) -> None:
    (number,) = envelopes(ctx, network, 1)
    counter_ready(phone, device(ctx))
    scan(phone, number)
    result(phone, "ok")
    before = snapshot()
    phone.page.wait_for_selector("#result:not(.flash)", timeout=6000)
    scan(phone, number)
    shown = result(phone, "already")
    assert shown["title"] == f"Đã nhận rồi: {number}"
    assert "Bạn đã nhận bưu gửi này từ trước" in shown["detail"]
    assert "không do" not in shown["detail"] and "Từ chối" not in shown["title"]
    in_viewport(phone)
    assert phone.page.inner_text("#count") == "1"  # the same envelope, counted once
    assert phone.page.locator("#recent li[data-state='already']").count() == 1
    assert snapshot() == before
    assert len(handoffs(ctx, number)) == 2
    shot(phone, "scan-phone-already-received")


def test_the_code_field_s_placeholder_fits_on_the_phone(
        ctx: Ctx, network: Network, phone: Tab) -> None:
    counter_ready(phone, device(ctx))
    fits = phone.page.evaluate("""() => {
        const input = document.getElementById('code-input');
        const style = getComputedStyle(input, '::placeholder');
        const canvas = document.createElement('canvas').getContext('2d');
        canvas.font = style.fontSize + ' ' + style.fontFamily;
        const inner = input.clientWidth - parseFloat(getComputedStyle(input).paddingLeft)
            - parseFloat(getComputedStyle(input).paddingRight);
        return [canvas.measureText(input.placeholder).width, inner];
    }""")
    assert fits[0] <= fits[1], fits


def test_a_failed_delivery_is_scanned_with_its_reason(
        ctx: Ctx, network: Network, phone: Tab, clock: Any) -> None:
    envelope = register(ctx, network, event_at=clock.tick())
    carry(ctx, network, clock, envelope, until="out_for_delivery")
    ctx.session.commit()
    number = envelope.number

    set_up_device(phone, device(ctx, "BC-HCM"), "bt_hcm")
    page = phone.page
    page.click("button.mode[data-mode='delivery_failed']")
    assert page.is_visible("#reason-input") and not page.is_visible("#pin-input")
    scan(phone, number)
    assert "Chưa chọn lý do" in result(phone, "refused")["detail"]
    page.select_option("#reason-input", "addressee_absent")
    assert page.evaluate("document.activeElement.id") == "code-input"  # back after the pick
    scan(phone, number)
    page.wait_for_selector(f"#result[data-state='ok'] >> text={number}")
    in_viewport(phone)
    last = handoffs(ctx, number)[-1]
    assert last.kind is EventKind.DELIVERY_FAILED and last.reason.value == "addressee_absent"
    ctx.session.rollback()
    shot(phone, "scan-phone-delivery-failed")


def test_a_bag_is_sealed_dispatched_received_and_opened_from_the_page(
        ctx: Ctx, network: Network, phone: Tab, laptop: Tab, clock: Any) -> None:
    envelope = register(ctx, network, event_at=clock.tick())
    bag_no = carry(ctx, network, clock, envelope, until="bagged")["bag"]
    number = envelope.number
    ctx.session.commit()

    def bag_status() -> str:
        ctx.session.rollback()
        status = str(ctx.session.execute(
            select(Bag.status).where(Bag.number == bag_no)).scalar_one())
        ctx.session.rollback()
        return status

    set_up_device(phone, device(ctx), "gd_hn")
    page = phone.page
    page.click("button.mode[data-mode='bag_sealed']")
    assert not page.is_visible("#btn-new-bag")
    scan(phone, bag_no)
    page.wait_for_selector(f"#result >> text=Túi {bag_no}")
    assert page.input_value("#bag-input") == bag_no
    page.fill("#seal-input", "NP-4455")
    page.click("#btn-bag-action")
    page.wait_for_selector(f"#result[data-state='ok'] >> text=Đã ghi nhận: túi {bag_no}")
    in_viewport(phone)
    page.click("button.mode[data-mode='dispatched']")
    page.fill("#bag-courier-input", "bt_hn")
    page.fill("#vehicle-input", "29A-12345")
    page.check("#dedicated-input")
    page.fill("#pin-input", PIN)
    page.click("#btn-bag-action")
    page.wait_for_selector(f"#result[data-state='ok'] >> text=Đã ghi nhận: túi {bag_no}")
    assert bag_status() == "in_transit"
    shot(phone, "scan-phone-bag-dispatched")

    set_up_device(laptop, device(ctx, "BC-HCM"), "gd_hcm")
    page = laptop.page
    page.click("button.mode[data-mode='bag_received']")
    scan(laptop, bag_no)
    page.fill("#bag-courier-input", "bt_hn")
    page.fill("#courier-pin-input", PIN)
    page.fill("#seal-input", "NP-4455")
    page.fill("#pin-input", PIN)
    page.click("#btn-bag-action")
    page.wait_for_selector(f"#result[data-state='ok'] >> text=Đã ghi nhận: túi {bag_no}")
    assert bag_status() == "received"
    page.click("button.mode[data-mode='bag_opened']")
    page.focus("#code-input")
    scan(laptop, number)
    page.wait_for_selector(f"#result[data-state='ok'] >> text=Đã đọc: {number}")
    assert page.inner_text("#opened-count") == "1"
    page.click("#btn-bag-action")
    page.wait_for_selector(f"#result[data-state='ok'] >> text=Đã ghi nhận: túi {bag_no}")
    assert bag_status() == "opened"
    in_viewport(laptop)
    shot(laptop, "scan-laptop-bag-opened")


def test_a_device_is_enrolled_by_scanning_its_qr_code(
        ctx: Ctx, network: Network, phone: Tab) -> None:
    """The token's QR code ("KT1-DEVICE:<token>") read by a scanner into the token field
    sets the device up; no 48 characters typed by hand. (The camera path reads the same
    text: it needs a real camera, so it is not driven here.)"""
    token = device(ctx)
    phone.open()
    page = phone.page
    assert page.is_visible("#btn-enrol-camera")
    page.focus("#token-input")
    page.keyboard.type("KT1-DEVICE:" + token, delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#operator-form:not([hidden])")
    assert page.evaluate("localStorage.getItem('kt1.scan.token')") == token
    shot(phone, "scan-phone-enrolled-by-qr")
