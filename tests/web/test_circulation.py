"""Internal circulation pages (luân chuyển nội bộ, docs/rules.md rule A7): "Tài liệu tôi đang
giữ" and its "Chuyển" form, the incoming register's "Chuyển", the timeline's words; every
refusal shows its Vietnamese message and writes nothing; another unit's number answers as
an unknown one; no form without its CSRF token."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from kt1.models.enums import AckMethod, EnvelopeStatus, EventKind
from kt1.services import custody
from kt1.services.context import Ctx
from kt1.services.identifiers import format_number
from kt1.services.verify import verify
from tests.conftest import PIN, Clock, Network, new_scan
from tests.journey import carry, register
from tests.web.conftest import Browser
from tests.years import RecentClock

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
DIRECTION = EventKind.CIRCULATED_FOR_DIRECTION.value
HANDLING = EventKind.CIRCULATED_FOR_HANDLING.value
REGISTRY = EventKind.CIRCULATED_TO_REGISTRY.value


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def arrived(ctx: Ctx, network: Network, clock: Clock, **kw: Any) -> str:
    """An envelope BNV -> UBND-HCM registered on arrival by vt_hcm, who holds it."""
    envelope = register(ctx, network, **kw)
    carry(ctx, network, clock, envelope)
    return envelope.number


def open_form(b: Browser, number: str, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    body = page(b.get(f"/clerk/held/{number}" + (f"?{query}" if query else "")))
    found = re.search(r'name="scan_id"[^>]*value="([^"]+)"', body) or re.search(
        r'value="([^"]+)"[^>]*name="scan_id"', body)
    assert found, body
    return found.group(1)


def send(b: Browser, number: str, purpose: str, receiver: str, secret: str | None = PIN,
         note: str = "", **extra: Any) -> Any:
    scan = open_form(b, number)
    form = {"purpose": purpose, "receiver": receiver, "pin": secret or "", "note": note,
            "scan_id": scan, "back": "held", **extra}
    return b.post(f"/clerk/held/{number}", form)


def holder(ctx: Ctx, number: str) -> str | None:
    ctx.session.rollback()
    ctx.session.expire_all()
    e = custody.load_envelope(ctx, number)
    return e.holder_user.username if e.holder_user else None


def test_the_held_page_shows_what_i_hold_with_chuyen_and_a_helpful_empty_state(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    number = arrived(ctx, network, clock, document_number="77/CV-BNV")
    officer = page(signed_in("cv_hcm").get("/clerk/held/"))
    assert "Tài liệu tôi đang giữ" in officer and "Bạn không giữ bưu gửi, tài liệu nào" in officer
    assert number not in officer
    clerk = signed_in("vt_hcm")
    body = page(clerk.get("/clerk/held/"))
    assert number in body and "77/CV-BNV" in body and "Bộ Nội vụ" in body
    assert "Đã vào sổ đến" in body and f'href="/clerk/held/{number}"' in body
    assert 'href="/clerk/held/"' in page(clerk.get("/clerk/"))  # in the navigation
    form = page(clerk.get(f"/clerk/held/{number}"))
    assert "Trình lãnh đạo cho ý kiến chỉ đạo" in form and "Giao xử lý" in form
    assert "Trả văn thư" in form
    # only colleagues of the unit, heads in their own group; never oneself, never others
    assert 'label="Lãnh đạo đơn vị"' in form and 'value="head_hcm"' in form
    assert 'value="cv_hcm"' in form
    assert 'value="vt_hcm"' not in form and 'value="vt_hn"' not in form
    assert 'value="bm_hcm"' not in form  # the security officer receives no circulation


def test_registry_to_head_to_officer_and_back_each_signed_at_the_givers_screen(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    number = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    r = send(clerk, number, DIRECTION, "head_hcm", note="Giao đ/c Ngọc xử lý, báo cáo 05/12")
    assert r.status_code == 303, page(r)
    assert r.headers["Location"] == "/clerk/held/"
    assert "Đã chuyển bưu gửi" in page(clerk.get("/clerk/held/"))
    assert holder(ctx, number) == "head_hcm"

    head = signed_in("head_hcm")
    assert number in page(head.get("/clerk/held/"))
    r = send(head, number, HANDLING, "cv_hcm", secret=network.badges["cv_hcm"])  # badge scan
    assert r.status_code == 303, page(r)
    assert holder(ctx, number) == "cv_hcm"

    officer = signed_in("cv_hcm")
    r = send(officer, number, REGISTRY, "vt_hcm", note="Đã xử lý xong, trả văn thư lưu")
    assert r.status_code == 303, page(r)
    assert holder(ctx, number) == "vt_hcm"

    envelope = custody.load_envelope(ctx, number)
    chain = custody.timeline(ctx, envelope)
    assert [(h.kind, h.to_user.username, h.ack_method) for h in chain[-3:]] == [
        (EventKind.CIRCULATED_FOR_DIRECTION, "head_hcm", AckMethod.PIN),
        (EventKind.CIRCULATED_FOR_HANDLING, "cv_hcm", AckMethod.BADGE),
        (EventKind.CIRCULATED_TO_REGISTRY, "vt_hcm", AckMethod.PIN)]
    assert envelope.status is EnvelopeStatus.ARRIVED
    clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the pages used the real clock
    (report,) = verify(ctx, [number])
    assert not report.findings
    timeline = page(clerk.get(f"/clerk/envelopes/{number}"))
    for word in ("Trình lãnh đạo cho ý kiến chỉ đạo", "Giao xử lý", "Trả văn thư",
                 "Giao đ/c Ngọc xử lý, báo cáo 05/12", "HEAD_HCM", "CV_HCM"):
        assert word in timeline, word
    officer_view = page(signed_in("bm_hcm").get(f"/officer/envelopes/{number}"))
    assert "Trình lãnh đạo cho ý kiến chỉ đạo" in officer_view


def test_the_incoming_register_offers_chuyen_for_what_the_clerk_holds(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    # the scan page shows the incoming register of the real clock's year: it arrived in it
    ctx.now = clock = RecentClock(events=10)
    number = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    body = page(clerk.get("/clerk/incoming"))
    assert f'href="/clerk/held/{number}?back=incoming"' in body
    scan = open_form(clerk, number, back="incoming")
    r = clerk.post(f"/clerk/held/{number}", {"purpose": DIRECTION, "receiver": "head_hcm",
                                             "pin": PIN, "scan_id": scan, "back": "incoming"})
    assert r.status_code == 303 and r.headers["Location"] == "/clerk/incoming", page(r)
    assert f'href="/clerk/held/{number}?back=incoming"' not in page(clerk.get("/clerk/incoming"))
    # the envelope page of a holder offers it too
    head = signed_in("head_hcm")
    assert f"/clerk/held/{number}?back=envelope" in page(head.get(f"/clerk/envelopes/{number}"))


def test_a_double_submission_replays_and_records_once(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    number = arrived(ctx, network, clock)
    length = custody.load_envelope(ctx, number).chain_length
    clerk = signed_in("vt_hcm")
    scan = open_form(clerk, number)
    form = {"purpose": HANDLING, "receiver": "cv_hcm", "pin": PIN, "scan_id": scan,
            "back": "held"}
    assert clerk.post(f"/clerk/held/{number}", form).status_code == 303
    assert clerk.post(f"/clerk/held/{number}", form).status_code == 303
    ctx.session.rollback()
    assert custody.load_envelope(ctx, number).chain_length == length + 1
    assert holder(ctx, number) == "cv_hcm"


@pytest.mark.parametrize(("receiver", "purpose", "secret", "message"), [
    ("cv_hcm", DIRECTION, PIN,
     "phải chuyển cho lãnh đạo đơn vị; cv_hcm không phải lãnh đạo đơn vị"),
    ("vt_hn", HANDLING, PIN, "Người dùng vt_hn không thuộc đơn vị UBND-HCM."),
    ("vt_hcm", HANDLING, PIN, "Người giao và người nhận phải là hai người khác nhau."),
    ("bm_hcm", HANDLING, PIN, "Bạn không có quyền thực hiện thao tác này."),
    ("head_hcm", DIRECTION, "", "Người nhận phải nhập mã PIN hoặc quét thẻ nhân viên"),
    ("head_hcm", DIRECTION, "9999", "Xác nhận của người nhận không đúng."),
    ("nobody", HANDLING, PIN, "Không tìm thấy người nhận này."),
])
def test_each_refusal_shows_its_vietnamese_message_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot,
        receiver: str, purpose: str, secret: str, message: str) -> None:
    number = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    before = snapshot()
    r = send(clerk, number, purpose, receiver, secret=secret)
    assert r.status_code in (403, 409, 422), r.status_code
    assert message in page(r)
    assert snapshot() == before


def test_an_addressee_only_envelope_goes_to_its_named_person_first(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    number = arrived(ctx, network, clock, recipient_username="cv_hcm", is_addressee_only=True)
    clerk = signed_in("vt_hcm")
    held = page(clerk.get("/clerk/held/"))
    assert f'href="/clerk/addressee?number={number}"' in held
    assert f'href="/clerk/held/{number}"' not in held
    assert "chuyển cho người có tên trước" in page(clerk.get(f"/clerk/held/{number}"))
    before = snapshot()
    r = clerk.post(f"/clerk/held/{number}", {"purpose": DIRECTION, "receiver": "head_hcm",
                                             "pin": PIN, "scan_id": new_scan()})
    assert r.status_code == 409 and "phải chuyển cho người có tên" in page(r)
    assert snapshot() == before


def test_the_sender_circulates_before_the_post_office_accepts(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number = register(ctx, network).number
    clerk = signed_in("vt_bnv")
    assert send(clerk, number, DIRECTION, "head_bnv").status_code == 303
    head = signed_in("head_bnv")
    assert send(head, number, REGISTRY, "vt_bnv").status_code == 303
    assert holder(ctx, number) == "vt_bnv"


def same(html: str, number: str) -> str:
    """A page with its number and its CSRF tokens (signed with the time) left out."""
    return re.sub(r'(csrf_token"[^>]*value=")[^"]*', r"\1", html).replace(number, "N")


def test_a_number_of_another_unit_answers_as_an_unknown_number(
        signed_in: Any, app: Flask, ctx: Ctx, network: Network, clock: Clock,
        snapshot: Snapshot) -> None:
    number = arrived(ctx, network, clock)
    s = app.config
    never = format_number(s["SERVICE_LETTERS"], 999_999, s["COUNTRY_CODE"])
    other = signed_in("vt_hn")
    before = snapshot()
    for n in (number, never):
        got = other.get(f"/clerk/held/{n}")
        posted = other.post(f"/clerk/held/{n}", {"purpose": HANDLING, "receiver": "vt_hn",
                                                 "pin": PIN, "scan_id": new_scan()})
        for r in (got, posted):
            assert r.status_code == 404 and "unknown_envelope" in page(r)
            assert same(page(r), n) == same(page(other.get(f"/clerk/held/{never}")), never)
    assert number not in page(other.get("/clerk/held/"))
    assert snapshot() == before


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    number = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    scan = open_form(clerk, number)
    before = snapshot()
    r = clerk.post(f"/clerk/held/{number}", {"purpose": DIRECTION, "receiver": "head_hcm",
                                             "pin": PIN, "scan_id": scan}, csrf=False)
    assert r.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("username", ["gd_hn", "bt_hn", "bm_bnv", "admin", None])
def test_other_roles_and_the_signed_out_cannot_open_the_pages(
        signed_in: Any, browser: Browser, ctx: Ctx, network: Network, clock: Clock,
        username: str | None) -> None:
    number = arrived(ctx, network, clock)
    b = signed_in(username) if username else browser
    for r in (b.get("/clerk/held/"), b.get(f"/clerk/held/{number}"),
              b.post(f"/clerk/held/{number}", {"purpose": HANDLING, "receiver": "cv_hcm",
                                               "pin": PIN, "scan_id": new_scan()})):
        if username:
            assert r.status_code == 403
        else:
            assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_the_timeline_names_every_internal_kind_in_vietnamese_and_english(
        app: Flask) -> None:
    from kt1.web.words import vi

    assert vi(EventKind.HANDED_OVER) == "Bàn giao"
    for kind in (EventKind.CIRCULATED_FOR_DIRECTION, EventKind.CIRCULATED_FOR_HANDLING,
                 EventKind.CIRCULATED_TO_REGISTRY, EventKind.HANDED_OVER):
        assert vi(kind) != kind.value



# --------------------------------------------------------------------------- a second scan


def test_a_pass_sent_again_says_already_received_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    """The same pass scanned again (a second tab, the badge scanned twice): the colleague
    already holds it from this very pass, "đã nhận rồi" (``already_received``), nothing is
    written; a pass to someone else is still refused as not held."""
    number = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    first, second = open_form(clerk, number), open_form(clerk, number)  # two tabs
    form = {"purpose": HANDLING, "receiver": "cv_hcm", "pin": PIN, "back": "held"}
    assert clerk.post(f"/clerk/held/{number}", {**form, "scan_id": first}).status_code == 303
    before = snapshot()
    again = clerk.post(f"/clerk/held/{number}", {**form, "scan_id": second})
    assert again.status_code == 200, page(again)
    body = page(again)
    assert 'id="already-received"' in body and 'data-slug="already_received"' in body
    assert "Đã nhận rồi" in body and "đã được ghi nhận rồi: CV_HCM (cv_hcm) đang giữ" in body
    assert "Bạn không giữ bưu gửi này" not in body
    assert snapshot() == before
    other = clerk.post(f"/clerk/held/{number}", {**form, "receiver": "head_hcm",
                                                 "scan_id": str(uuid.uuid4())})
    assert other.status_code == 409 and 'id="already-received"' not in page(other)
    assert holder(ctx, number) == "cv_hcm"
