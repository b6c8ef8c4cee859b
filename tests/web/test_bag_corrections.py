"""The counter's bag page: take an envelope out of an open bag (with a reason), and the
warning, with a reason to override it, for an envelope the bag's route does not serve."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from kt1.models import Envelope, Handoff
from kt1.models.enums import EnvelopeStatus, EventKind
from kt1.services import bagging, custody
from kt1.services.context import Ctx
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register
from tests.web.test_counter import accepted, count, now, page, reload


def open_bag_with(ctx: Ctx, net: Network, *envelopes: Envelope) -> str:
    bag = bagging.open_bag(ctx, net["gd_hn"], "BC-HCM", new_scan()).bag.number
    for e in envelopes:
        bagging.add_to_bag(ctx, net["gd_hn"], bag, e.number, new_scan(), now())
    return bag


def test_the_bag_page_takes_an_envelope_out_with_a_reason(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    wrong, right = accepted(ctx, network), accepted(ctx, network)
    bag = open_bag_with(ctx, network, wrong, right)
    b = signed_in("gd_hn")
    shown = page(b.get(f"/counter/bags/{bag}"))
    assert "Lấy ra" in shown and 'name="x-reason"' in shown

    before = count(ctx, Handoff)
    blank = b.post(f"/counter/bags/{bag}/remove", {"x-number": wrong.number, "x-reason": ""})
    assert blank.status_code == 422
    assert "Hãy ghi lý do lấy bưu gửi ra khỏi túi." in page(blank)
    assert count(ctx, Handoff) == before

    done = b.post(f"/counter/bags/{bag}/remove", {"x-number": wrong.number,
                                                  "x-reason": "Nhầm túi"})
    assert done.status_code == 303
    after = page(b.get(f"/counter/bags/{bag}"))
    assert f"Đã lấy bưu gửi {wrong.number} ra khỏi túi {bag}." in after
    assert "Bảng kê túi (1 bưu gửi)" in after
    env = reload(ctx, wrong)
    assert env.status is EnvelopeStatus.ACCEPTED and env.bag_id is None
    link = ctx.session.execute(select(Handoff).where(
        Handoff.envelope_id == wrong.id).order_by(Handoff.seq.desc()).limit(1)).scalar_one()
    assert link.kind is EventKind.UNBAGGED and link.note == "Nhầm túi"

    # not in this bag (any more): a refusal on the same page, nothing written
    before = count(ctx, Handoff)
    again = b.post(f"/counter/bags/{bag}/remove", {"x-number": wrong.number,
                                                   "x-reason": "Nhầm"})
    assert again.status_code == 409
    assert f"Bưu gửi {wrong.number} không có trong túi {bag}." in page(again)
    assert count(ctx, Handoff) == before

    # sealed: no button any more, and a forged post is refused
    bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-9", new_scan(), now())
    sealed = page(b.get(f"/counter/bags/{bag}"))
    assert 'name="x-reason"' not in sealed
    late = b.post(f"/counter/bags/{bag}/remove", {"x-number": right.number, "x-reason": "x"})
    assert late.status_code == 409
    assert f"Túi {bag} đang ở trạng thái" in page(late)
    assert count(ctx, Handoff) == before + 1  # the sealing only


def test_an_envelope_off_the_route_is_warned_and_goes_in_only_with_a_reason(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    for_hanoi = accepted(ctx, network, recipient="UBND-HN")
    bag = open_bag_with(ctx, network)
    b = signed_in("gd_hn")
    listed = page(b.get(f"/counter/bags/{bag}"))
    assert for_hanoi.number in listed and "không đúng tuyến" in listed  # warned before

    before = count(ctx, Handoff)
    warned = b.post(f"/counter/bags/{bag}/add", {"a-numbers": for_hanoi.number})
    assert warned.status_code == 409
    body = page(warned)
    assert "UBND thành phố Hà Nội" in body and "Bưu cục KT1 TP Hồ Chí Minh" in body
    assert "route_mismatch" in body and 'name="a-route_override"' in body
    assert count(ctx, Handoff) == before

    done = b.post(f"/counter/bags/{bag}/add", {"a-numbers": for_hanoi.number,
                                               "a-route_override": "Chuyển tiếp qua HCM"})
    assert done.status_code == 200
    assert "đã cho vào túi" in page(done)
    link = ctx.session.execute(select(Handoff).where(
        Handoff.envelope_id == for_hanoi.id, Handoff.kind == EventKind.BAGGED)).scalar_one()
    assert link.note == "route_override: Chuyển tiếp qua HCM"


def test_the_registry_clerk_voids_a_pass_to_the_wrong_person_from_the_envelope_page(
        signed_in: Any, ctx: Ctx, network: Network, app: Flask) -> None:
    """The journey is written hours back (the stages take minutes each); the window is
    set to four hours for it (VOID_WINDOW_MINUTES)."""
    clock = Clock()
    clock.now = now() - timedelta(hours=3)
    ctx.now = clock
    app.config["VOID_WINDOW_MINUTES"] = 240
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="arrived")
    custody.pass_to_addressee(ctx, network["vt_hcm"], env.number, network["cv_hcm"],
                              pin(network["cv_hcm"]), new_scan(), clock.tick(1))
    b = signed_in("vt_hcm")
    shown = page(b.get(f"/clerk/envelopes/{env.number}"))
    assert "Hủy lần quét này" in shown

    before = count(ctx, Handoff)
    blank = b.post(f"/clerk/envelopes/{env.number}/void", {"v-reason": ""})
    assert blank.status_code == 422 and "Hãy ghi lý do hủy lần quét." in page(blank)
    assert count(ctx, Handoff) == before
    done = b.post(f"/clerk/envelopes/{env.number}/void", {"v-reason": "Nhầm người nhận"})
    assert done.status_code == 303, page(done)
    after = page(b.get(f"/clerk/envelopes/{env.number}"))
    assert f"Đã hủy lần quét cuối của bưu gửi {env.number}." in after
    assert "Hủy lần quét nhầm" in after  # the chain shows the void
    found = reload(ctx, env)
    assert found.status is EnvelopeStatus.ARRIVED
    assert found.holder_user_id == network["vt_hcm"].id
    # a void is not voided again
    again = b.post(f"/clerk/envelopes/{env.number}/void", {"v-reason": "x"})
    assert again.status_code == 409
    assert "Không thể hủy lần quét cuối" in page(again)
