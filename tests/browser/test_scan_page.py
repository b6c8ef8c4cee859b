"""The /scan/ page in a real chromium: keyboard-wedge scans, refusals, and offline scans that
arrive on the server exactly once."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from kt1.models import Envelope, Handoff, Scan
from kt1.models.enums import EventKind
from kt1.services import bagging, custody
from kt1.services.context import Ctx
from kt1.services.devices import add_device
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SERVED, Tab, set_up_device
from tests.conftest import PIN, Network, pin
from tests.journey import register

SCANNER_DELAY_MS = 8  # a keyboard-wedge scanner: a few ms between keys
HUMAN_DELAY_MS = 140  # a person typing


def envelopes(ctx: Ctx, network: Network, n: int) -> list[str]:
    """``n`` envelopes registered at BNV an hour ago, ready for the Hà Nội counter."""
    numbers = [register(ctx, network, event_at=datetime.now(UTC) - timedelta(hours=1)).number
               for _ in range(n)]
    ctx.session.commit()
    return numbers


def device(ctx: Ctx, unit: str = "BC-HN") -> str:
    _device, token = add_device(ctx, None, f"quay-{unit.lower()}", unit)
    ctx.session.commit()
    return token


def counter_ready(tab: Tab, token: str, giver_pin: str = PIN) -> None:
    """Set up as gd_hn accepting from vt_bnv, who identifies with his PIN, signed with
    gd_hn's PIN."""
    set_up_device(tab, token, "gd_hn")
    page = tab.page
    page.click("button.mode[data-mode='accepted']")
    page.fill("#giver-input", "vt_bnv")
    page.press("#giver-input", "Enter")
    if giver_pin:
        page.fill("#giver-pin-input", giver_pin)
    page.fill("#pin-input", PIN)
    page.press("#pin-input", "Enter")  # back to the code field


#: The number of the last answer shown (``#result[data-seq]``) when each page's last scan
#: was typed: ``result`` waits for an answer past it, the answer to that very scan.
_ASKED: dict[int, int] = {}


def shown_seq(tab: Tab) -> int:
    return int(tab.page.get_attribute("#result", "data-seq") or 0)


def scan(tab: Tab, code: str, delay: int = SCANNER_DELAY_MS, end: str = "Enter") -> None:
    """Type ``code`` into the code field as a scanner (or a person) would. The field has
    the focus already: the page gives it back after every other field (at once, or on the
    next turn of the event loop after a change), never later."""
    page = tab.page
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'code-input'", timeout=2000)
    _ASKED[id(page)] = shown_seq(tab)
    page.keyboard.type(code, delay=delay)
    page.keyboard.press(end)


def result(tab: Tab, state: str) -> dict[str, str]:
    """The answer to the last scan (or, with no scan waiting for one, the answer shown once
    it is in ``state``), which must be in ``state``.

    After a scan this waits for an answer newer than the one on screen when the scan was
    typed, whatever its state, then checks the state: an earlier answer that happens to be
    in the same state (a badge's green before the envelope's) is never taken for it, and a
    wrong answer fails at once with its words instead of waiting out the timeout."""
    page = tab.page
    before = _ASKED.pop(id(page), None)
    if before is None:
        page.wait_for_selector(f"#result[data-state='{state}']")
    else:
        page.wait_for_function(
            "n => +document.getElementById('result').getAttribute('data-seq') > n", arg=before)
    shown = {"state": page.get_attribute("#result", "data-state") or "",
             "title": page.inner_text("#result-title"),
             "detail": page.inner_text("#result-detail")}
    assert shown["state"] == state, shown
    return shown


def handoffs(ctx: Ctx, number: str) -> list[Any]:
    """The envelope's chain as stored now, as plain copies (each handoff's columns, and its
    ``from_user`` and ``to_user`` with their ``username``), the session rolled back.

    Copies, because on SQLite every transaction begins IMMEDIATE (it takes the write lock,
    kt1/database.py): a row read here and touched again after the rollback would quietly
    open a transaction holding the lock while the test goes on driving the page; the live
    server's next write would wait out its busy timeout (10 s), longer than the page waits
    for an answer (8 s): the scan is queued, and a test waiting for its green answer times
    out at 15 s. That was the timeout seen once."""
    ctx.session.rollback()
    envelope = ctx.session.execute(select(Envelope).where(Envelope.number == number)).scalar_one()
    rows = list(ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope.id).order_by(Handoff.seq)
    ).scalars())
    copies = []
    for h in rows:
        fields = {c.key: getattr(h, c.key) for c in sa_inspect(Handoff).column_attrs}
        for who in ("from_user", "to_user"):
            user = getattr(h, who)
            fields[who] = SimpleNamespace(username=user.username) if user else None
        copies.append(SimpleNamespace(**fields))
    ctx.session.rollback()
    return copies


def no_outside_requests_and_no_csp_violation(tab: Tab) -> None:
    assert tab.requests, "the page made no request at all?"
    assert tab.outside_requests() == []
    assert not [m for m in tab.console if "Content Security Policy" in m or "Refused to" in m]


def test_a_scan_at_scanner_speed_ending_in_enter_is_recorded_and_shown_green(
        ctx: Ctx, network: Network, tab: Tab) -> None:
    (number,) = envelopes(ctx, network, 1)
    counter_ready(tab, device(ctx))
    scan(tab, number)
    shown = result(tab, "ok")
    assert number in shown["title"] and "Đã ghi nhận" in shown["title"]
    assert "dấu B" in shown["detail"]
    assert tab.page.inner_text("#count") == "1"
    chain = handoffs(ctx, number)
    assert [h.kind for h in chain] == [EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED]
    accepted = chain[1]
    assert accepted.note == ""  # read by a scanner, not keyed in by hand
    assert accepted.device.startswith("quay-")
    # the code field has the focus again, ready for the next envelope
    assert tab.page.evaluate("document.activeElement.id") == "code-input"
    tab.shot("scan-accepted")
    no_outside_requests_and_no_csp_violation(tab)


def test_a_code_typed_by_hand_ends_at_tab_and_is_recorded_as_keyed_in(
        ctx: Ctx, network: Network, tab: Tab) -> None:
    (number,) = envelopes(ctx, network, 1)
    counter_ready(tab, device(ctx))
    scan(tab, number, delay=HUMAN_DELAY_MS, end="Tab")
    result(tab, "ok")
    assert handoffs(ctx, number)[1].note == "nhập tay"
    assert "nhập tay" in tab.page.inner_text("#recent")
    assert tab.page.evaluate("document.activeElement.id") == "code-input"


def test_a_wrong_check_digit_is_refused_in_red_with_the_reason_and_nothing_is_written(
        ctx: Ctx, network: Network, tab: Tab,
        snapshot: Any) -> None:
    (number,) = envelopes(ctx, network, 1)
    counter_ready(tab, device(ctx))
    wrong = number[:10] + str((int(number[10]) + 1) % 10) + number[11:]
    before = snapshot()
    scan(tab, wrong)
    shown = result(tab, "refused")
    assert "Sai số kiểm tra" in shown["detail"]
    assert wrong in shown["title"]
    assert tab.page.inner_text("#count") == "0"
    tab.shot("scan-refused-check-digit")
    assert snapshot() == before


def test_the_server_s_refusal_is_shown_with_its_vietnamese_reason(
        ctx: Ctx, network: Network, tab: Tab, snapshot: Any) -> None:
    counter_ready(tab, device(ctx))
    before = snapshot()
    scan(tab, "KT999999995VN")  # a valid number that was never issued
    shown = result(tab, "refused")
    assert "Không tìm thấy bưu gửi số KT999999995VN" in shown["detail"]
    assert snapshot() == before


def test_stray_control_characters_around_a_scan_are_stripped(
        ctx: Ctx, network: Network, tab: Tab) -> None:
    (number,) = envelopes(ctx, network, 1)
    counter_ready(tab, device(ctx))
    # STX ... ETX around the data, as some scanners are configured; then CR
    tab.page.keyboard.insert_text(f"\x02 {number.lower()}\x1d\x03")
    tab.page.keyboard.press("Enter")
    result(tab, "ok")
    assert len(handoffs(ctx, number)) == 2


def test_scanned_staff_badges_identify_the_giver_then_sign_the_receipt(
        ctx: Ctx, network: Network, tab: Tab, snapshot: Any) -> None:
    """Both sides present: the first badge of the batch is the giver's, the second the
    counter clerk's own receipt; without either, nothing is sent."""
    (number,) = envelopes(ctx, network, 1)
    set_up_device(tab, device(ctx), "gd_hn")
    page = tab.page
    page.click("button.mode[data-mode='accepted']")
    page.fill("#giver-input", "vt_bnv")
    page.press("#giver-input", "Enter")
    before = snapshot()
    scan(tab, number)
    assert "Người giao chưa xác nhận" in result(tab, "refused")["detail"]
    scan(tab, network.badges["vt_bnv"])
    assert "thẻ nhân viên của người giao" in result(tab, "ok")["title"]
    assert page.inner_text("#giver-badge-state") == "Đã quét thẻ ✓"
    assert page.inner_text("#badge-state") == "Chưa quét thẻ"
    scan(tab, number)
    assert "chưa ký nhận" in result(tab, "refused")["detail"]
    assert snapshot() == before
    scan(tab, network.badges["gd_hn"])
    assert result(tab, "ok")["title"] == "Đã nhận thẻ nhân viên"
    assert page.inner_text("#badge-state") == "Đã quét thẻ ✓"
    scan(tab, number)
    # the badge's answer was green too: wait for the envelope's own
    page.wait_for_selector(f"#result[data-state='ok'] >> text={number}")
    accepted = handoffs(ctx, number)[1]
    assert accepted.ack_method == "badge"
    assert accepted.from_user.username == "vt_bnv" and accepted.to_user.username == "gd_hn"
    scan(tab, network.badges["bt_hn"])  # a third badge: the batch is complete
    assert "Kết thúc lượt" in result(tab, "refused")["detail"]
    page.fill("#giver-input", "head_bnv")  # another giver identifies again
    page.press("#giver-input", "Enter")
    assert page.inner_text("#giver-badge-state") == "Chưa quét thẻ"
    tab.shot("scan-both-badges")


def test_a_wrong_giver_pin_is_refused_and_nothing_is_written(
        ctx: Ctx, network: Network, tab: Tab, snapshot: Any) -> None:
    """An office that never saw the item answers as for an unknown number (least privilege),
    with a hint; an item on a handover sheet for it is refused precisely, and the wrong PIN
    is not kept for the next envelopes."""
    from kt1.services import handover

    loose, listed = envelopes(ctx, network, 2)
    handover.prepare_sheet(ctx, network["vt_bnv"], [listed], "BC-HN")
    ctx.session.commit()
    counter_ready(tab, device(ctx), giver_pin="0000")
    before = snapshot()
    scan(tab, loose)
    shown = result(tab, "refused")
    assert f"Không tìm thấy bưu gửi số {loose}" in shown["detail"]
    assert "mã PIN hoặc thẻ của người giao" in shown["detail"]
    scan(tab, listed)
    page = tab.page
    page.wait_for_selector(f"#result[data-state='refused'] >> text={listed}")
    assert "Xác nhận của người giao không đúng." in result(tab, "refused")["detail"]
    assert page.input_value("#giver-pin-input") == ""
    assert snapshot() == before
    page.fill("#giver-pin-input", PIN)
    page.press("#giver-pin-input", "Enter")
    scan(tab, loose)
    page.wait_for_selector(f"#result[data-state='ok'] >> text={loose}")
    assert [h.kind for h in handoffs(ctx, loose)] == [EventKind.REGISTERED_OUTGOING,
                                                      EventKind.ACCEPTED]


def test_scans_taken_offline_survive_a_reload_and_reach_the_server_exactly_once(
        ctx: Ctx, network: Network, tab: Tab, client: FlaskClient) -> None:
    numbers = envelopes(ctx, network, 3)
    token = device(ctx)
    counter_ready(tab, token)
    page = tab.page
    # the service worker has the page and its assets before the network goes
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    tab.context.set_offline(True)
    page.wait_for_selector("#net-status[data-online='0']")
    for i, number in enumerate(numbers, 1):
        scan(tab, number)
        page.wait_for_selector(f"#pending[data-count='{i}']")
        assert "chờ gửi" in result(tab, "queued")["title"]
    assert page.inner_text("#count") == "3"
    for number in numbers:
        assert len(handoffs(ctx, number)) == 1  # nothing reached the server
    tab.shot("scan-offline-queued")

    asked = len(SERVED)
    page.reload()  # still offline: the service worker serves the page from its cache
    page.wait_for_selector("body[data-ready='1']")
    assert [p for p in SERVED[asked:] if not p.startswith("/api/")] == []
    page.wait_for_selector("#pending[data-count='3']")
    assert page.inner_text("#count") == "3"
    assert page.locator("#recent li[data-state='queued']").count() == 3
    queued = page.evaluate("KT1Queue.all()")
    assert [q["number"] for q in queued] == numbers
    assert all(re.fullmatch(r"[0-9a-f-]{36}", q["scan_id"]) for q in queued)
    assert all(q["body"]["event_at"].endswith("+07:00") for q in queued)
    # the giver identified at the counter: his PIN waits with the scan until it is sent
    assert all(q["body"]["giver_receipt"] == {"username": "vt_bnv", "method": "pin",
                                              "secret": PIN} for q in queued)

    # The first scan did reach the server once before (its answer was lost on the way
    # back): sending it again must count as sent, never as a second handoff.
    first = queued[0]["body"]
    lost = client.post("/api/v1/handoffs", data=json.dumps(first),
                       content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"})
    assert lost.status_code == 201, lost.get_data(as_text=True)
    ctx.session.rollback()

    tab.context.set_offline(False)
    page.wait_for_selector("#pending[data-count='0']", state="attached")
    assert page.is_hidden("#pending")
    shown = result(tab, "ok")
    assert "Đã gửi 3 lượt quét chờ" in shown["title"]
    for number in numbers:
        chain = handoffs(ctx, number)
        assert [h.kind for h in chain] == [EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED]
    scan_ids = {q["scan_id"] for q in queued}
    ctx.session.rollback()
    stored = ctx.session.execute(
        select(func.count()).select_from(Handoff).where(Handoff.scan_id.in_(scan_ids))
    ).scalar_one()
    assert stored == 3
    assert ctx.session.execute(
        select(func.count()).select_from(Scan).where(Scan.scan_id.in_(scan_ids))).scalar_one() == 3
    ctx.session.rollback()
    assert page.evaluate("KT1Queue.count()") == 0
    assert page.locator("#recent li[data-state='ok']").count() == 3
    assert "trùng, không ghi lại" in page.inner_text("#recent")  # the one sent twice
    tab.shot("scan-offline-synced")
    no_outside_requests_and_no_csp_violation(tab)


def test_the_page_has_no_inline_script_or_style_and_a_strict_policy(
        client: FlaskClient) -> None:
    response = client.get("/scan/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert "http://" not in html and "https://" not in html
    assert client.get("/scan").headers["Location"].endswith("/scan/")
    worker = client.get("/scan/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"


def y4m_with_barcode(path: Path, data: str, frames: int = 20) -> None:
    """A short video (YUV4MPEG2, what chromium's fake camera plays) of a Code 128 label."""
    from PIL import Image

    from kt1.labels.codes import draw_code128

    bars = draw_code128(data, module=3, height=160).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(bars, ((640 - bars.width) // 2, (480 - bars.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (320, 240)
    raw = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(raw)


def test_a_phone_camera_reads_the_barcode_through_the_vendored_decoder(
        ctx: Ctx, network: Network, playwright_driver: Any, live_server: str,
        tmp_path: Path) -> None:
    (number,) = envelopes(ctx, network, 1)
    token = device(ctx)
    video = tmp_path / "label.y4m"
    y4m_with_barcode(video, number)
    camera = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = camera.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                     viewport={"width": 412, "height": 915})
        page = context.new_page()
        page.set_default_timeout(20_000)
        tab = Tab(page=page, context=context, origin=live_server)
        page.on("request", lambda r: tab.requests.append(r.url))
        counter_ready(tab, token)
        page.click("#btn-camera")
        page.wait_for_selector("#camera:not([hidden])")
        shown = result(tab, "ok")
        assert number in shown["title"]
        tab.shot("scan-camera")
        page.click("#btn-camera-close")
        assert page.is_hidden("#camera")
        chain = handoffs(ctx, number)
        assert [h.kind for h in chain] == [EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED]
        assert chain[1].note == ""  # read by the camera, not keyed in
        assert any("zxing-library" in u for u in tab.requests)
        assert tab.outside_requests() == []
        context.close()
    finally:
        camera.close()


def test_a_bag_is_opened_and_filled_with_its_running_count_against_the_manifest(
        ctx: Ctx, network: Network, tab: Tab) -> None:
    numbers = envelopes(ctx, network, 2)
    at = datetime.now(UTC) - timedelta(minutes=30)
    for number in numbers:
        custody.accept_at_counter(ctx, network["gd_hn"], number, network["vt_bnv"],
                                  pin(network["gd_hn"]), str(uuid.uuid4()), at,
                                  giver_receipt=pin(network["vt_bnv"]))
    ctx.session.commit()
    set_up_device(tab, device(ctx), "gd_hn")
    page = tab.page
    page.click("button.mode[data-mode='bagged']")
    page.fill("#destination-input", "BC-HCM")
    page.fill("#expected-input", "2")
    page.press("#expected-input", "Enter")
    page.click("#btn-new-bag")
    opened = result(tab, "ok")
    bag = page.input_value("#bag-input")
    assert bag.startswith("BC-HN-") and bag in opened["title"]
    for i, number in enumerate(numbers, 1):
        scan(tab, number)
        page.wait_for_selector(f"#result[data-state='ok'] >> text={number}")
        assert page.inner_text("#count") == str(i)
    assert page.inner_text("#expected-of").strip() == "/ 2"
    assert page.get_attribute(".counter > span", "data-complete") == "yes"
    ctx.session.rollback()
    found = bagging.get_bag(ctx, bag)
    assert sorted(ctx.session.get(Envelope, line.envelope_id).number  # type: ignore[union-attr]
                  for line in found.lines) == sorted(numbers)
    ctx.session.rollback()


def test_the_giver_who_scans_needs_no_second_identification_to_hand_over_or_deliver(
        ctx: Ctx, network: Network, tab: Tab) -> None:
    """Out for delivery (the counter clerk gives) and delivery (the courier gives): the
    operator is the giver, so only the receiver signs."""
    number = register(ctx, network, recipient="UBND-HN",
                      event_at=datetime.now(UTC) - timedelta(hours=1)).number
    custody.accept_at_counter(ctx, network["gd_hn"], number, network["vt_bnv"],
                              pin(network["gd_hn"]), str(uuid.uuid4()),
                              datetime.now(UTC) - timedelta(minutes=30),
                              giver_receipt=pin(network["vt_bnv"]))
    ctx.session.commit()
    set_up_device(tab, device(ctx), "gd_hn")
    page = tab.page
    page.click("button.mode[data-mode='out_for_delivery']")
    assert page.is_hidden("#giver-pin-input")
    page.fill("#courier-input", "bt_hn")
    page.fill("#pin-input", PIN)
    page.press("#pin-input", "Enter")
    scan(tab, number)
    page.wait_for_selector(f"#result[data-state='ok'] >> text={number}")

    page.click("#btn-settings")
    page.select_option("#operator-select", "bt_hn")
    page.click("#operator-form button[type=submit]")
    page.wait_for_selector("#work:not([hidden])")
    page.click("button.mode[data-mode='delivered']")
    page.fill("#clerk-input", "vt_hcm")
    page.fill("#pin-input", PIN)
    page.press("#pin-input", "Enter")
    scan(tab, number)
    page.wait_for_selector(f"#result[data-state='refused'] >> text={number}")
    page.fill("#clerk-input", "vt_hn")  # the recipient's registry clerk
    page.press("#clerk-input", "Enter")
    page.fill("#pin-input", PIN)
    page.press("#pin-input", "Enter")
    scan(tab, number)
    page.wait_for_selector(f"#result[data-state='ok'] >> text={number}")
    chain = handoffs(ctx, number)
    assert [h.kind for h in chain] == [EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED,
                                       EventKind.OUT_FOR_DELIVERY, EventKind.DELIVERED]
    assert chain[3].from_user.username == "bt_hn" and chain[3].to_user.username == "vt_hn"


def test_an_envelope_whose_label_was_never_printed_is_accepted_with_a_warning(
        ctx: Ctx, network: Network, tab: Tab) -> None:
    """The counter's web page warns about a label never printed; so does the scanner,
    beside the green answer (recorded all the same). A label downloaded as a PDF counts."""
    from kt1.services import printing

    bare, labelled = envelopes(ctx, network, 2)
    printing.record_label_pdf(ctx, network["vt_bnv"], labelled, b"%PDF-1.4 test")
    counter_ready(tab, device(ctx))
    page = tab.page
    scan(tab, bare)
    shown = result(tab, "ok")
    assert bare in shown["title"] and "Đã ghi nhận" in shown["title"]
    assert page.get_attribute("#result", "data-warning") == "label_never_printed"
    assert page.is_visible("#result-warning")
    assert "chưa từng được in" in page.inner_text("#result-warning")
    assert "chưa từng được in" in page.inner_text(f"#recent li:has-text('{bare}')")
    assert [h.kind for h in handoffs(ctx, bare)] == [EventKind.REGISTERED_OUTGOING,
                                                    EventKind.ACCEPTED]
    tab.shot("scan-accepted-label-never-printed")
    page.wait_for_selector("#result:not(.flash)", timeout=6000)
    assert page.is_visible("#result-warning")  # still beside the answer in the bar
    scan(tab, labelled)
    shown = result(tab, "ok")
    assert labelled in shown["title"]
    assert page.get_attribute("#result", "data-warning") is None
    assert page.is_hidden("#result-warning")
