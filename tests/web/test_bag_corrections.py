"""The counter's bag page: take an envelope out of an open bag (with a reason), and the
warning, with a reason to override it, for an envelope the bag's route does not serve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kt1.models import Envelope, Handoff
from kt1.models.enums import EnvelopeStatus, EventKind
from kt1.services import bagging
from kt1.services.context import Ctx
from tests.conftest import Network, new_scan
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
