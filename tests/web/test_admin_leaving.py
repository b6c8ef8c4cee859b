"""The administrator's user page (issue 11): what a user holds, "Bàn giao tất cả cho …" with
the receiver's PIN or badge, then the handover record and its PDF; locking, moving and
changing the role are refused with the Vietnamese message while anything is held (a forged
form too) and nothing is written; they work once it is handed over."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from kt1.models import Envelope, User
from kt1.services.context import Ctx
from tests.conftest import PIN, Network
from tests.journey import register
from tests.web.pdf import get_pdf, pdf_text
from tests.years import handover_record_year

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
HOLDS = "vt_bnv đang giữ 1 bưu gửi, 0 túi thư và 0 bảng kê giao chưa ký nhận"


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def user(ctx: Ctx, username: str) -> User:
    ctx.session.rollback()
    return ctx.session.execute(select(User).where(User.username == username)).unique(
    ).scalar_one()


def test_the_user_page_shows_holdings_and_refuses_lock_move_and_role_change(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    env = register(ctx, network, document_number="77/KH-BNV", subject="SUBJECT-SECRET-PLAN-42")
    b = signed_in("admin")
    listed = page(b.get("/admin/users?q=vt_bnv"))
    assert 'href="/admin/users/vt_bnv"' in listed
    shown = page(b.get("/admin/users/vt_bnv"))
    assert env.number in shown and "Bàn giao tất cả cho …" in shown
    assert "SUBJECT-SECRET" not in shown
    choices = re.search(r'<select[^>]*name="receiver".*?</select>', shown, re.S)
    assert choices and 'value="head_bnv"' in choices.group(0)
    assert "vt_hn" not in choices.group(0) and "bm_bnv" not in choices.group(0)

    before = snapshot()
    locked = b.post("/admin/users/vt_bnv/deactivate")
    assert locked.status_code == 303 and locked.headers["Location"] == "/admin/users/vt_bnv"
    assert HOLDS in page(b.get("/admin/users/vt_bnv"))
    moved = b.post("/admin/users/vt_bnv/move", {"unit": "UBND-HN", "role": "registry_clerk"})
    assert moved.status_code == 409 and HOLDS in page(moved)
    b.get("/admin/users/vt_bnv")
    role = b.post("/admin/users/vt_bnv/move", {"unit": "BNV", "role": "security_officer"})
    assert role.status_code == 409 and HOLDS in page(role)
    # a forged form: without its CSRF token, and with one but bypassing the page
    forged = b.post("/admin/users/vt_bnv/deactivate", csrf=False)
    assert forged.status_code == 400
    b.get("/admin/users")
    assert b.post("/admin/users/vt_bnv/deactivate").status_code == 303
    assert snapshot() == before
    assert user(ctx, "vt_bnv").is_active


def test_a_wrong_pin_or_a_receiver_not_offered_is_refused_and_nothing_is_written(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    register(ctx, network)
    b = signed_in("admin")
    b.get("/admin/users/vt_bnv")
    before = snapshot()
    wrong = b.post("/admin/users/vt_bnv/handover", {"receiver": "head_bnv",
                                                    "receiver_pin": "0000"})
    assert wrong.status_code == 422
    assert "Xác nhận của người nhận không đúng." in page(wrong)
    other = b.post("/admin/users/vt_bnv/handover", {"receiver": "vt_hn", "receiver_pin": PIN})
    assert other.status_code == 422 and "Lựa chọn không hợp lệ." in page(other)
    empty = b.post("/admin/users/vt_bnv/handover", {"receiver": "head_bnv"})
    assert empty.status_code == 422
    assert "Người nhận phải nhập mã PIN hoặc quét thẻ nhân viên." in page(empty)
    assert snapshot() == before


def test_hand_over_all_gives_the_record_and_its_pdf_then_lock_and_move_work(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    env = register(ctx, network, document_number="77/KH-BNV", subject="SUBJECT-SECRET-PLAN-42")
    clerk = signed_in("vt_bnv")
    b = signed_in("admin")
    b.get("/admin/users/vt_bnv")
    done = b.post("/admin/users/vt_bnv/handover", {
        "receiver": "head_bnv", "receiver_pin": network.badges["head_bnv"]})
    assert done.status_code == 303
    number = done.headers["Location"].rsplit("/", 1)[-1]
    assert number == f"BBG-BNV-{handover_record_year(ctx.session, number)}-00001"
    assert done.headers["Location"] == f"/admin/handover-records/{number}"
    record = page(b.get(done.headers["Location"]))
    assert f"Đã bàn giao: biên bản {number}." in record
    assert env.number in record and "Quẹt thẻ" in record and "SUBJECT-SECRET" not in record
    assert f'href="/admin/handover-records/{number}.pdf"' in record
    pdf = get_pdf(b, f"/admin/handover-records/{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    body = pdf.get_data()
    text = pdf_text(body)
    assert env.number.encode() in text and number.encode() in text
    assert b"SUBJECT-SECRET" not in body and b"SUBJECT-SECRET" not in text
    assert get_pdf(b, f"/admin/handover-records/{number[:-1]}9.pdf").status_code == 404
    ctx.session.rollback()
    held = ctx.session.execute(select(Envelope).where(Envelope.number == env.number)).scalar_one()
    assert held.holder_user_id == network["head_bnv"].id

    timeline = page(signed_in("bm_bnv").get(f"/officer/envelopes/{env.number}"))
    assert "<td>Bàn giao</td>" in timeline
    shown = page(b.get("/admin/users/vt_bnv"))
    assert "Người này không giữ bưu gửi, túi thư hay bảng kê giao nào." in shown
    assert number in shown
    moved = b.post("/admin/users/vt_bnv/move", {"unit": "UBND-HN", "role": "registry_clerk"})
    assert moved.status_code == 303
    assert "Đã lưu: vt_bnv làm Văn thư tại UBND-HN" in page(b.get(moved.headers["Location"]))
    assert user(ctx, "vt_bnv").unit.code == "UBND-HN"
    assert clerk.get("/clerk/").status_code == 302  # their session ended with the move
    assert b.post("/admin/users/vt_bnv/deactivate").status_code == 303
    assert not user(ctx, "vt_bnv").is_active


def test_a_move_to_a_unit_of_another_kind_is_refused_next_to_the_unit(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    b.get("/admin/users/vt_hn")
    wrong = b.post("/admin/users/vt_hn/move", {"unit": "BC-HN", "role": "registry_clerk"})
    assert wrong.status_code == 422
    assert "Vai trò registry_clerk không làm việc tại BC-HN (post_office)." in page(wrong)
    assert user(ctx, "vt_hn").unit.code == "UBND-HN"
    assert b.get("/admin/users/nobody").status_code == 404


def test_no_api_route_touches_user_accounts(app: Any) -> None:
    """Accounts are deactivated or moved only on the administrator's pages and at the
    console (both refuse while the user holds anything): the scanner API has no such route."""
    from kt1 import api

    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(api.PREFIX):
            assert "user" not in rule.rule and "account" not in rule.rule, rule.rule


def test_the_user_page_speaks_english_when_asked(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    register(ctx, network)
    b = signed_in("admin")
    b.get("/admin/users/vt_bnv")
    b.post("/language", {"lang": "en", "next": "/admin/users/vt_bnv"})
    body = page(b.get("/admin/users/vt_bnv"))
    assert "1 envelope(s), 0 bag(s), 0 open handover sheet(s)." in body
    assert "Hand everything over to …" in body and "Move to another unit" in body
