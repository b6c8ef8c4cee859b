"""The registry clerk's pages: each works end to end for its role, and every route refuses
the signed-out, the wrong role, another unit's rows and a form without its CSRF token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kt1.models import Envelope, Handoff, Incident, User
from kt1.models.enums import (
    AckMethod,
    Classification,
    EnvelopeStatus,
    EventKind,
    ServiceClass,
)
from kt1.models.handover import HandoverSheet, SheetStatus
from kt1.services import custody, handover, printing
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from printers import captured
from tests.conftest import PIN, Network, new_scan, pin
from tests.journey import PROVENANCE, register
from tests.web.conftest import Browser
from tests.web.pdf import get_pdf, pdf_text


def now() -> datetime:
    return datetime.now(UTC)


def count(ctx: Ctx, model: Any) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(model)).scalar_one())


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def add_printer(ctx: Ctx, uri: str | None = None) -> str:
    name = f"quay-{uuid.uuid4().hex[:8]}"
    printing.add_printer(ctx, None, name, uri or f"memory://{name}", workstation="van-thu-1")
    return name


def delivered_to_hn(ctx: Ctx, net: Network, **kw: Any) -> Envelope:
    """BNV -> UBND-HN (same province, no bag): registered, accepted, out with the courier."""
    envelope = register(ctx, net, recipient="UBND-HN", **kw)
    custody.accept_at_counter(ctx, net["gd_hn"], envelope.number, net["vt_bnv"],
                              pin(net["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(net["vt_bnv"]))
    custody.record_handoff(ctx, net["gd_hn"], custody.HandoffRequest(
        number=envelope.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=now(), receiver=net["bt_hn"], receipt=pin(net["bt_hn"])))
    return envelope


# --------------------------------------------------------------------------- registering


def register_form(**kw: Any) -> dict[str, Any]:
    form = {"recipient_unit": "UBND-HCM", "classification": "secret", "service": "standard",
            "urgency": "normal", "document_number": "15/KH-BNV", "copies": "2",
            "recipient_name": "", "recipient_username": "", "document_date": "2026-11-20",
            "recall_by": "", "subject": "", "subject_approved_by": "", "agreed_at": "",
            "drafter_username": "", **PROVENANCE}
    form.update(kw)
    return form


def test_a_clerk_registers_a_secret_envelope_and_lands_on_its_page(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    form_page = page(b.get("/clerk/envelopes/new"))
    assert "Đăng ký bưu gửi đi" in form_page and "UBND TP Hồ Chí Minh" in form_page
    assert "Bộ Nội vụ</option>" not in form_page  # not to itself
    response = b.post("/clerk/envelopes/new", register_form(
        is_addressee_only="y", recipient_name="Nguyễn Văn A", urgency="urgent"))
    assert response.status_code == 303, page(response)
    envelope = ctx.session.execute(select(Envelope)).unique().scalar_one()
    assert response.headers["Location"] == f"/clerk/envelopes/{envelope.number}"
    assert (envelope.classification, envelope.mark, envelope.copies) == (
        Classification.SECRET, "B", 2)
    assert envelope.is_addressee_only and envelope.recipient_name == "Nguyễn Văn A"
    shown = page(b.get(response.headers["Location"]))
    assert envelope.number in shown and "Đã vào sổ đi số" in shown
    assert "Vào sổ đi" in shown  # the first link of the chain


def test_a_timed_envelope_is_registered_with_its_agreed_time_in_vietnam_time(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    agreed = (now() + timedelta(days=2)).astimezone(UTC) + timedelta(hours=7)
    response = b.post("/clerk/envelopes/new", register_form(
        service="timed", agreed_at=agreed.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 303, page(response)
    envelope = ctx.session.execute(select(Envelope)).unique().scalar_one()
    assert envelope.service is ServiceClass.TIMED and envelope.agreed_at is not None
    assert abs((envelope.agreed_at + timedelta(hours=7)).replace(tzinfo=None)
               - agreed.replace(tzinfo=None, second=0, microsecond=0)) < timedelta(minutes=1)


def test_a_wrong_registration_is_refused_in_vietnamese_keeping_what_was_typed(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    response = b.post("/clerk/envelopes/new", register_form(
        document_number="", service="timed", copies="0", recipient_name="Trần Thị B",
        is_addressee_only="y"))
    assert response.status_code == 422
    body = page(response)
    assert "Hãy nhập số, ký hiệu văn bản" in body
    assert "Bưu gửi Hẹn giờ cần thời điểm hẹn." in body
    assert "Số bản từ 1 đến 999." in body
    assert 'value="Trần Thị B"' in body
    assert '<option selected value="UBND-HCM">' in body
    assert count(ctx, Envelope) == 0


def test_the_subject_field_follows_the_dated_rule_and_a_top_secret_subject_is_refused(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    form_page = page(b.get("/clerk/envelopes/new"))
    assert "&#34;top_secret&#34;: &#34;forbidden&#34;" in form_page or \
        '"top_secret": "forbidden"' in form_page
    assert 'name="subject"' in form_page  # allowed for Tối mật and Mật, hidden by script
    response = b.post("/clerk/envelopes/new", register_form(
        classification="top_secret", subject="Kế hoạch XYZ"))
    assert response.status_code == 422
    assert "Không được ghi trích yếu cho bưu gửi Tuyệt mật" in page(response)
    assert count(ctx, Envelope) == 0
    ok = b.post("/clerk/envelopes/new", register_form(subject="Kế hoạch XYZ"))
    assert ok.status_code == 303
    envelope = ctx.session.execute(select(Envelope)).unique().scalar_one()
    assert envelope.has_subject
    assert "Kế hoạch XYZ" not in page(b.get(ok.headers["Location"]))


# --------------------------------------------------------------------------- printing


def test_the_label_prints_on_the_chosen_printer_and_a_reprint_needs_a_reason(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)
    name = add_printer(ctx)
    b = signed_in("vt_bnv")
    shown = page(b.get(f"/clerk/envelopes/{envelope.number}"))
    assert name in shown and "In nhãn" in shown
    url = f"/clerk/envelopes/{envelope.number}/label"
    first = b.post(url, {"printer": name, "reason": ""})
    assert first.status_code == 303
    done = page(b.get(first.headers["Location"]))
    assert f"Đã in nhãn {envelope.number} trên máy in {name}" in done
    assert len(captured(name)) == 1
    again = b.post(url, {"printer": name, "reason": ""})
    assert again.status_code == 422
    assert "muốn in lại phải ghi lý do" in page(again)
    assert len(captured(name)) == 1
    reprint = b.post(url, {"printer": name, "reason": "Nhãn bị nhòe"})
    assert reprint.status_code == 303
    history = page(b.get(reprint.headers["Location"]))
    assert "Nhãn bị nhòe" in history and "In lại nhãn" in history
    assert len(captured(name)) == 2


def test_a_printer_that_is_off_is_named_and_the_job_kept_for_retry(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)
    name = add_printer(ctx, "escpos+tcp://127.0.0.1:9?timeout=0.5")
    b = signed_in("vt_bnv")
    b.get(f"/clerk/envelopes/{envelope.number}")
    response = b.post(f"/clerk/envelopes/{envelope.number}/label", {"printer": name})
    assert response.status_code == 303
    shown = page(b.get(response.headers["Location"]))
    assert f"Máy in {name} đang tắt hoặc không phản hồi" in shown
    assert "Chờ in" in shown  # the stored job, in the print history


def test_the_print_form_says_so_when_no_printer_is_declared(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)
    shown = page(signed_in("vt_bnv").get(f"/clerk/envelopes/{envelope.number}"))
    assert "Chưa có máy in nào được khai báo" in shown


# --------------------------------------------------------------------------- outgoing register


def test_the_outgoing_register_is_paginated_and_searchable_by_number(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    numbers = [register(ctx, network, document_number=f"{i}/CV-BNV").number
               for i in range(1, 28)]
    register(ctx, network, clerk="vt_hn", document_number="9/CV-HN")  # another unit's
    b = signed_in("vt_bnv")
    first = page(b.get("/clerk/outgoing"))
    assert "Trang 1 / 2" in first and "27 dòng" in first
    assert numbers[0] in first and numbers[26] not in first
    assert "9/CV-HN" not in first
    second = page(b.get("/clerk/outgoing?page=2"))
    assert numbers[26] in second and numbers[0] not in second
    found = page(b.get(f"/clerk/outgoing?q={numbers[4]}"))
    assert numbers[4] in found and numbers[5] not in found
    by_document = page(b.get("/clerk/outgoing?q=13/CV"))
    assert numbers[12] in by_document and numbers[11] not in by_document
    nothing = page(b.get("/clerk/outgoing?q=ZZZ"))
    assert "Không có bưu gửi nào có số hiệu hoặc số văn bản chứa" in nothing
    empty = page(b.get("/clerk/outgoing?year=2001"))
    assert "Sổ đi năm 2001 chưa có dòng nào." in empty


def test_the_outgoing_register_pdf_is_a_pdf_page_to_sign_without_any_subject(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    secret = register(ctx, network, document_number="77/KH-BNV",
                      subject="SUBJECT-SECRET-PLAN-42")
    custody.accept_at_counter(ctx, network["gd_hn"], secret.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(network["vt_bnv"]))
    b = signed_in("vt_bnv")
    response = get_pdf(b, "/clerk/outgoing/register.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF")
    text = pdf_text(body)
    assert secret.number.encode() in text and b"77/KH-BNV" in text
    assert b"GD_HN" in text  # the counter clerk who signed for it
    assert b"SUBJECT-SECRET" not in body and b"SUBJECT-SECRET" not in text


# --------------------------------------------------------------------------- handover


def test_a_batch_is_listed_on_a_handover_sheet_printed_to_sign_and_can_be_cancelled(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    one = register(ctx, network, subject="SUBJECT-ON-SHEET")
    two = register(ctx, network)
    three = register(ctx, network)
    b = signed_in("vt_bnv")
    listing = page(b.get("/clerk/handover"))
    assert one.number in listing and two.number in listing
    response = b.post("/clerk/handover", {"post_office": "BC-HN", "picked": [one.number],
                                          "scanned": f"{two.number}\n"})
    assert response.status_code == 303, page(response)
    sheet = ctx.session.execute(select(HandoverSheet)).unique().scalar_one()
    assert [line.envelope.number for line in sheet.lines] == [one.number, two.number]
    assert response.headers["Location"] == f"/clerk/handover/{sheet.number}"
    assert "In bảng kê" in page(b.get(response.headers["Location"]))
    pdf = get_pdf(b, f"/clerk/handover/{sheet.number}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    text = pdf_text(pdf.get_data())
    assert one.number.encode() in text and sheet.number.encode() in text
    assert b"SUBJECT-ON-SHEET" not in text
    assert one.number not in page(b.get("/clerk/handover"))  # already on an open sheet
    twice = b.post("/clerk/handover", {"post_office": "BC-HN", "scanned": one.number})
    assert twice.status_code == 409
    assert f"đã có trong bảng kê giao {sheet.number}" in page(twice)
    b.get(f"/clerk/handover/{sheet.number}")
    cancelled = b.post(f"/clerk/handover/{sheet.number}/cancel")
    assert cancelled.status_code == 303
    ctx.session.expire_all()
    assert ctx.session.get(HandoverSheet, sheet.id).status is SheetStatus.CANCELLED
    again = b.post("/clerk/handover", {"post_office": "BC-HN",
                                       "scanned": f"{one.number} {three.number}"})
    assert again.status_code == 303


def test_a_handover_without_any_envelope_is_refused_with_a_message(
        signed_in: Any, network: Network) -> None:
    b = signed_in("vt_bnv")
    assert "Bạn không giữ bưu gửi nào đang chờ giao" in page(b.get("/clerk/handover"))
    response = b.post("/clerk/handover", {"post_office": "BC-HN", "scanned": ""})
    assert response.status_code == 422
    assert "Hãy chọn hoặc quét ít nhất một bưu gửi." in page(response)


# --------------------------------------------------------------------------- incoming


def test_envelopes_are_scanned_into_the_incoming_register(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    first = delivered_to_hn(ctx, network)
    second = delivered_to_hn(ctx, network, is_addressee_only=True, recipient_username="bm_hn")
    bad = first.number[:-3] + ("1" if first.number[-3] != "1" else "2") + "VN"
    b = signed_in("vt_hn")
    waiting = page(b.get("/clerk/incoming"))
    assert first.number in waiting and "Đang đến đơn vị" in waiting
    assert '<option value="bt_hn">BT_HN (bt_hn)</option>' in waiting  # he holds them
    response = b.post("/clerk/incoming", {"numbers": f"{first.number}\n{second.number}\n{bad}",
                                          "courier": "bt_hn", "courier_pin": PIN})
    assert response.status_code == 200, page(response)
    body = page(response)
    assert "đã vào sổ đến số" in body and "đã ký nhận từ bưu tá" in body
    assert "Chỉ người có tên mới được bóc bì" in body
    assert "check_digit_invalid" in body or "unknown_envelope" in body
    ctx.session.expire_all()
    for number in (first.number, second.number):
        env = ctx.session.execute(select(Envelope).where(Envelope.number == number)
                                  ).unique().scalar_one()
        assert env.status is EnvelopeStatus.ARRIVED and env.incoming_seq is not None
    again = b.post("/clerk/incoming", {"numbers": first.number})
    assert again.status_code == 409
    assert "Sổ đăng ký văn bản mật đến" in page(b.get("/clerk/incoming"))


def test_an_addressee_only_envelope_is_passed_to_the_named_person_with_her_pin(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = delivered_to_hn(ctx, network, is_addressee_only=True,
                               recipient_username="bm_hn", recipient_name="")
    b = signed_in("vt_hn")
    b.get("/clerk/incoming")
    b.post("/clerk/incoming", {"numbers": envelope.number, "courier": "bt_hn",
                               "courier_pin": PIN})
    listing = page(b.get("/clerk/addressee"))
    assert envelope.number in listing
    chosen = page(b.get(f"/clerk/addressee?number={envelope.number}"))
    assert '<option selected value="bm_hn">' in chosen
    wrong = b.post("/clerk/addressee", {"number": envelope.number, "receiver": "bm_hn",
                                        "pin": "0000", "authority": "addressee", "note": ""})
    assert wrong.status_code == 422
    assert "Mã PIN không đúng" in page(wrong)
    other = b.post("/clerk/addressee", {"number": envelope.number, "receiver": "vt_hn",
                                        "pin": "2468", "authority": "addressee", "note": ""})
    assert other.status_code == 403
    assert "chỉ người có tên trên bì" in page(other)
    ok = b.post("/clerk/addressee", {"number": envelope.number, "receiver": "bm_hn",
                                     "pin": "2468", "authority": "addressee", "note": ""})
    assert ok.status_code == 303
    ctx.session.expire_all()
    env = ctx.session.get(Envelope, envelope.id)
    assert env.status is EnvelopeStatus.WITH_ADDRESSEE and env.holder_user.username == "bm_hn"
    assert "Không có bưu gửi nào chờ chuyển người có tên." in page(b.get("/clerk/addressee"))


def handoff_rows(ctx: Ctx, envelope: Envelope) -> list[Any]:
    ctx.session.expire_all()
    return list(ctx.session.execute(select(Handoff).where(Handoff.envelope_id == envelope.id)
                                    .order_by(Handoff.seq)).scalars())


@pytest.mark.parametrize("typed", ["0000", "badge of another"])
def test_a_wrong_courier_pin_or_badge_is_refused_on_its_field_and_nothing_is_written(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Any, typed: str) -> None:
    """Custody moves only with both sides present: a wrong PIN (or another's badge) writes
    nothing, not even the envelopes that were already delivered and need no courier."""
    carried = delivered_to_hn(ctx, network)
    delivered = delivered_to_hn(ctx, network)
    custody.deliver(ctx, network["bt_hn"], delivered.number, network["vt_hn"],
                    pin(network["vt_hn"]), new_scan(), now())
    if typed == "badge of another":
        typed = network.badges["bt_hcm"]
    b = signed_in("vt_hn")
    b.get("/clerk/incoming")
    before = snapshot()
    response = b.post("/clerk/incoming", {"numbers": f"{delivered.number}\n{carried.number}",
                                          "courier": "bt_hn", "courier_pin": typed})
    assert response.status_code == 422
    body = page(response)
    assert "Mã PIN hoặc thẻ nhân viên của bưu tá BT_HN không đúng: chưa ghi gì." in body
    assert "đã vào sổ đến số" not in body
    assert snapshot() == before


def test_an_envelope_the_courier_holds_is_refused_without_him_and_taken_with_his_badge(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Any) -> None:
    carried = delivered_to_hn(ctx, network)
    b = signed_in("vt_hn")
    b.get("/clerk/incoming")
    before = snapshot()
    alone = b.post("/clerk/incoming", {"numbers": carried.number})
    assert alone.status_code == 422
    body = page(alone)
    assert "Bưu gửi còn do bưu tá giữ: chọn bưu tá đang giao" in body
    assert "giver_identification_missing" in body
    assert "Có bưu gửi còn do bưu tá giữ: hãy chọn bưu tá đang giao." in body
    no_pin = b.post("/clerk/incoming", {"numbers": carried.number, "courier": "bt_hn"})
    assert no_pin.status_code == 422
    assert "Bưu tá phải nhập mã PIN hoặc quét thẻ nhân viên để giao bưu gửi." in page(no_pin)
    not_bringing = b.post("/clerk/incoming", {"numbers": carried.number, "courier": "bt_hcm",
                                              "courier_pin": PIN})
    assert not_bringing.status_code == 422 and "Lựa chọn không hợp lệ." in page(not_bringing)
    assert snapshot() == before
    taken = b.post("/clerk/incoming", {"numbers": carried.number, "courier": "bt_hn",
                                       "courier_pin": network.badges["bt_hn"]})
    assert taken.status_code == 200, page(taken)
    assert "đã ký nhận từ bưu tá" in page(taken)
    chain = handoff_rows(ctx, carried)
    assert [h.kind for h in chain[-2:]] == [EventKind.DELIVERED, EventKind.REGISTERED_INCOMING]
    assert chain[-2].from_user.username == "bt_hn" and chain[-2].to_user.username == "vt_hn"
    assert 'value="bt_hn"' not in page(b.get("/clerk/incoming"))  # he holds nothing more


def test_an_envelope_held_by_another_courier_names_who_holds_it(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    from kt1.services.directory import add_user

    add_user(ctx, None, "bt2_hn", "Trần Văn Bưu", "courier", "BC-HN", "mat-khau-dai-1",
             pin="1357")
    first = delivered_to_hn(ctx, network)
    second = register(ctx, network, recipient="UBND-HN")
    custody.accept_at_counter(ctx, network["gd_hn"], second.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(network["vt_bnv"]))
    bt2 = ctx.session.execute(select(User).where(User.username == "bt2_hn")).unique() \
        .scalar_one()
    custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
        number=second.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=now(), receiver=bt2,
        receipt=Receipt(user=bt2, method=AckMethod.PIN, secret="1357")))
    b = signed_in("vt_hn")
    shown = page(b.get("/clerk/incoming"))
    assert 'value="bt_hn"' in shown and 'value="bt2_hn"' in shown
    assert "Trần Văn Bưu (bt2_hn)" in shown  # who holds each envelope, in the list
    response = b.post("/clerk/incoming", {"numbers": f"{first.number}\n{second.number}",
                                          "courier": "bt_hn", "courier_pin": PIN})
    assert response.status_code == 200
    body = page(response)
    assert "Bưu gửi này do bưu tá Trần Văn Bưu (bt2_hn) giữ, không phải bưu tá đã chọn." in body
    assert handoff_rows(ctx, first)[-1].kind is EventKind.REGISTERED_INCOMING
    assert handoff_rows(ctx, second)[-1].kind is EventKind.OUT_FOR_DELIVERY


def test_the_clerk_home_counts_what_is_waiting(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    register(ctx, network)
    shown = page(signed_in("vt_bnv").get("/clerk/"))
    assert "bưu gửi chờ giao bưu cục" in shown
    nav = page(signed_in("vt_bnv").get("/"))
    assert "/clerk/handover" in nav and "/counter/" not in nav


# --------------------------------------------------------------------------- refusals

#: Every route of the clerk's blueprint: (method, path, form). ``{number}`` is an envelope
#: of BNV, ``{sheet}`` one of its handover sheets.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/clerk/", {}),
    ("GET", "/clerk/envelopes/new", {}),
    ("POST", "/clerk/envelopes/new", register_form(recipient_unit="UBND-HN")),
    ("GET", "/clerk/envelopes/{number}", {}),
    ("POST", "/clerk/envelopes/{number}/label", {"printer": "x"}),
    ("POST", "/clerk/envelopes/{number}/void", {"v-reason": "x"}),
    ("GET", "/clerk/envelopes/{number}/label.png", {}),
    ("GET", "/clerk/envelopes/{number}/label.pdf", {}),
    ("GET", "/clerk/outgoing", {}),
    ("GET", "/clerk/outgoing/register.pdf", {}),
    ("GET", "/clerk/outgoing/register.xlsx", {}),
    ("GET", "/clerk/incoming/register.pdf", {}),
    ("GET", "/clerk/incoming/register.xlsx", {}),
    ("GET", "/clerk/handover", {}),
    ("POST", "/clerk/handover", {"post_office": "BC-HN", "scanned": "{number}"}),
    ("GET", "/clerk/handover/{sheet}", {}),
    ("GET", "/clerk/handover/{sheet}/sheet.pdf", {}),
    ("POST", "/clerk/handover/{sheet}/cancel", {}),
    ("GET", "/clerk/incoming", {}),
    ("POST", "/clerk/incoming", {"numbers": "{number}"}),
    ("GET", "/clerk/addressee", {}),
    ("POST", "/clerk/addressee", {"number": "{number}", "receiver": "vt_hn", "pin": "2468",
                                  "authority": "addressee"}),
]


def fixtures_of(ctx: Ctx, network: Network) -> dict[str, str]:
    """A BNV envelope and a BNV handover sheet, for the routes that name one."""
    listed = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [listed.number], "BC-HN")
    loose = register(ctx, network, document_number="99/BNV-LOOSE")
    return {"number": loose.number, "sheet": sheet.number}


def fill(text: str, values: dict[str, str]) -> str:
    return text.format(**values)


def call(b: Browser, method: str, path: str, form: dict[str, Any], values: dict[str, str],
         csrf: bool = True) -> Any:
    url = fill(path, values)
    if method == "GET":
        return get_pdf(b, url) if url.endswith((".pdf", ".xlsx", ".png")) else b.get(url)
    return b.post(url, {k: fill(v, values) if isinstance(v, str) else v
                        for k, v in form.items()}, csrf=csrf)


def test_the_route_list_covers_every_route_of_the_blueprint(app: Flask) -> None:
    declared = {(m, p) for m, p, _f in ROUTES}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("clerk."):
            continue
        kind = "{sheet}" if rule.rule.startswith("/clerk/handover/") else "{number}"
        path = rule.rule.replace("<number>", kind)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in declared, f"{method} {rule.rule} has no refusal tests"
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "roles", None), f"{rule.endpoint} is not guarded by requires()"


def test_every_route_sends_a_signed_out_visitor_to_sign_in(
        browser: Browser, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(ctx, network)
    failures = []
    for method, path, form in ROUTES:
        response = call(browser, method, path, form, values)
        if response.status_code != 302 or not response.headers["Location"].startswith(
                "/login"):
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures


@pytest.mark.parametrize("username", ["gd_hn", "bt_hn", "bm_bnv", "admin"])
def test_every_route_is_forbidden_to_other_roles(
        signed_in: Any, ctx: Ctx, network: Network, username: str) -> None:
    values = fixtures_of(ctx, network)
    b = signed_in(username)
    before = count(ctx, Envelope), count(ctx, HandoverSheet)
    failures = []
    for method, path, form in ROUTES:
        response = call(b, method, path, form, values)
        if response.status_code != 403:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert (count(ctx, Envelope), count(ctx, HandoverSheet)) == before


def test_every_form_without_its_csrf_token_is_refused_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(ctx, network)
    b = signed_in("vt_bnv")
    b.get("/clerk/")
    before = count(ctx, Envelope), count(ctx, HandoverSheet), count(ctx, Incident)
    failures = []
    for method, path, form in ROUTES:
        if method != "POST":
            continue
        response = call(b, method, path, form, values, csrf=False)
        if response.status_code != 400:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert (count(ctx, Envelope), count(ctx, HandoverSheet), count(ctx, Incident)) == before
    ctx.session.expire_all()
    assert ctx.session.execute(select(HandoverSheet)).unique().scalar_one().status is (
        SheetStatus.OPEN)


NOT_FOUND = "Không tìm thấy bưu gửi số"
NO_SHEET = "Không tìm thấy bảng kê giao số"

#: What a registry clerk of another unit (UBND-HN) gets on each route, given BNV's rows:
#: the status, and the refusal he reads (lists must simply not show BNV's rows).
OTHER_UNIT: dict[tuple[str, str], tuple[int, str | None]] = {
    ("GET", "/clerk/"): (200, None),
    ("GET", "/clerk/envelopes/new"): (200, None),
    ("POST", "/clerk/envelopes/new"): (422, "Lựa chọn không hợp lệ."),  # not to itself
    ("GET", "/clerk/envelopes/{number}"): (404, "unknown_envelope"),
    ("POST", "/clerk/envelopes/{number}/label"): (404, "unknown_envelope"),
    ("POST", "/clerk/envelopes/{number}/void"): (404, "unknown_envelope"),
    ("GET", "/clerk/envelopes/{number}/label.png"): (404, "unknown_envelope"),
    ("GET", "/clerk/envelopes/{number}/label.pdf"): (404, "unknown_envelope"),
    ("GET", "/clerk/outgoing"): (200, None),
    ("GET", "/clerk/outgoing/register.pdf"): (200, None),
    ("GET", "/clerk/outgoing/register.xlsx"): (200, None),
    ("GET", "/clerk/incoming/register.pdf"): (200, None),
    ("GET", "/clerk/incoming/register.xlsx"): (200, None),
    ("GET", "/clerk/handover"): (200, None),
    ("POST", "/clerk/handover"): (404, NOT_FOUND),
    ("GET", "/clerk/handover/{sheet}"): (404, "unknown_sheet"),
    ("GET", "/clerk/handover/{sheet}/sheet.pdf"): (404, "unknown_sheet"),
    ("POST", "/clerk/handover/{sheet}/cancel"): (404, "unknown_sheet"),
    ("GET", "/clerk/incoming"): (200, None),
    ("POST", "/clerk/incoming"): (404, "unknown_envelope"),
    ("GET", "/clerk/addressee"): (200, None),
    ("POST", "/clerk/addressee"): (404, NOT_FOUND),
}


def test_another_units_envelopes_and_sheets_are_never_shown_or_touched(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(ctx, network)
    assert {(m, p) for m, p, _f in ROUTES} == set(OTHER_UNIT)
    b = signed_in("vt_hn")
    before = count(ctx, Envelope), count(ctx, HandoverSheet)
    failures = []
    for method, path, form in ROUTES:
        status, slug = OTHER_UNIT[(method, path)]
        response = call(b, method, path, form, values)
        body = response.get_data()
        if response.status_code != status:
            failures.append(f"{method} {path}: {response.status_code} (expected {status})")
        if slug and slug not in response.get_data(as_text=True):
            failures.append(f"{method} {path}: no {slug!r}")
        text = pdf_text(body) if body.startswith(b"%PDF") else body
        if status == 200 and (values["number"].encode() in text
                              or values["sheet"].encode() in text):
            failures.append(f"{method} {path}: shows BNV's rows")
    assert not failures
    assert (count(ctx, Envelope), count(ctx, HandoverSheet)) == before
