"""Custody on leaving or moving (issue 11): a person who holds anything is not deactivated,
moved or given another role until it is handed over to a colleague of the same unit and role
family, who signs with their PIN or badge; the hand-over writes one ``handed_over`` link per
envelope, moves bags and open sheets, and a numbered record, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from kt1.errors import KT1Error
from kt1.models import Bag, Envelope, Handoff, HandoverSheet
from kt1.models.enums import AckMethod, EnvelopeStatus, EventKind, Role
from kt1.models.leaving import RecordItemKind
from kt1.services import custody, directory, handover, leaving
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.verify import verify
from kt1.web.leaving_paper import handover_record_pdf
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register
from tests.web.pdf import pdf_text

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def refused(slug: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> KT1Error:
    with pytest.raises(KT1Error) as info:
        fn(*args, **kw)
    assert info.value.slug == slug, info.value
    return info.value


def findings(ctx: Ctx, *numbers: str) -> dict[str, list[str]]:
    ctx.session.rollback()
    return {r.number: [f.code for f in r.findings] for r in verify(ctx, list(numbers))}


def test_holdings_list_envelopes_bags_and_open_sheets(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    first, second = register(ctx, network), register(ctx, network)
    handover.prepare_sheet(ctx, network["vt_bnv"], [second.number], "BC-HN")
    held = leaving.holdings(ctx, "vt_bnv")
    assert [e.number for e in held.envelopes] == [first.number, second.number]
    assert held.counts() == {"envelopes": 2, "bags": 0, "sheets": 1}
    assert leaving.holdings(ctx, "head_bnv").empty


def test_a_holder_is_neither_deactivated_nor_moved_nor_given_another_role(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    register(ctx, network)
    register(ctx, network)
    admin = network["admin"]
    before = snapshot()
    error = refused("user_holds_items", directory.set_user_active, ctx, admin, "vt_bnv", False)
    assert "vt_bnv đang giữ 2 bưu gửi, 0 túi thư và 0 bảng kê giao" in error.message_local
    assert "15/KH-BNV" not in error.message_local and "15/KH-BNV" not in error.message
    refused("user_holds_items", directory.set_user_active, ctx, None, "vt_bnv", False)
    refused("user_holds_items", directory.move_user, ctx, admin, "vt_bnv", "UBND-HN")
    refused("user_holds_items", directory.change_role, ctx, admin, "vt_bnv",
            Role.SECURITY_OFFICER)
    assert snapshot() == before


def test_hand_over_all_then_deactivate_and_verify_is_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    loose = register(ctx, network)
    at_counter = register(ctx, network)
    carry(ctx, network, clock, at_counter, until="accepted")  # held by gd_hn
    clock.tick()
    record = leaving.hand_over_all(ctx, network["admin"], "vt_bnv", "head_bnv",
                                   pin(network["head_bnv"]))
    assert record.number == "BBG-BNV-2026-00001"
    assert record.giver.username == "vt_bnv" and record.receiver.username == "head_bnv"
    assert record.ack_method is AckMethod.PIN
    assert [(i.kind, i.envelope.number if i.envelope else None) for i in record.items] == [
        (RecordItemKind.ENVELOPE, loose.number)]
    ctx.session.rollback()
    env = ctx.session.execute(select(Envelope).where(Envelope.number == loose.number)).scalar_one()
    assert env.holder_user_id == network["head_bnv"].id
    assert env.status is EnvelopeStatus.REGISTERED  # the stage does not change
    link = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == env.id)
                               .order_by(Handoff.seq.desc()).limit(1)).scalar_one()
    assert link.kind is EventKind.HANDED_OVER and link.note == record.number
    assert (link.from_user_id, link.to_user_id, link.ack_user_id) == (
        network["vt_bnv"].id, network["head_bnv"].id, network["head_bnv"].id)
    assert link.recorded_by_id == network["admin"].id and link.ack_method is AckMethod.PIN

    directory.set_user_active(ctx, network["admin"], "vt_bnv", False)
    assert findings(ctx, loose.number, at_counter.number) == {
        loose.number: [], at_counter.number: []}
    # the new holder goes on as usual: the counter accepts from them
    custody.accept_at_counter(ctx, network["gd_hn"], loose.number, network["head_bnv"],
                              pin(network["gd_hn"]), new_scan(), clock.tick(),
                              giver_receipt=pin(network["head_bnv"]))
    assert findings(ctx, loose.number) == {loose.number: []}
    # the unit's next record takes the next number
    directory.set_user_active(ctx, network["admin"], "vt_bnv", True)
    register(ctx, network, clerk="head_bnv")
    clock.tick()
    again = leaving.hand_over_all(ctx, None, "head_bnv", "vt_bnv", pin(network["vt_bnv"]))
    assert again.number == "BBG-BNV-2026-00002"


def test_an_open_sheet_moves_to_the_receiver_and_the_counter_signs_it_from_them(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [env.number], "BC-HN")
    record = leaving.hand_over_all(ctx, None, "vt_bnv", "head_bnv",
                                   Receipt(user=network["head_bnv"], method=AckMethod.BADGE,
                                           secret=network.badges["head_bnv"]))
    assert record.recorded_by_id is None and record.ack_method is AckMethod.BADGE
    assert [i.kind for i in record.items] == [RecordItemKind.ENVELOPE, RecordItemKind.SHEET]
    text = pdf_text(handover_record_pdf(record, clock.now))
    assert env.number.encode() in text and sheet.number.encode() in text
    ctx.session.rollback()
    assert ctx.session.get(HandoverSheet, sheet.id).giver_id == network["head_bnv"].id
    assert leaving.holdings(ctx, "vt_bnv").empty
    clock.tick()
    signed = handover.sign_sheet(ctx, network["gd_hn"], sheet.number, [env.number])
    assert [e.number for e in signed.accepted] == [env.number]
    assert findings(ctx, env.number) == {env.number: []}


@pytest.mark.parametrize("until", ["bagged", "dispatched"])
def test_a_bag_and_every_envelope_in_it_go_to_the_colleague(
        ctx: Ctx, network: Network, clock: Clock, until: str) -> None:
    env = register(ctx, network)
    out = carry(ctx, network, clock, env, until=until)
    holder = "gd_hn" if until == "bagged" else "bt_hn"
    to = "bt_hn" if until == "bagged" else "gd2_hn"
    clock.tick()
    record = leaving.hand_over_all(ctx, network["admin"], holder, to, pin(network[to]))
    assert [(i.kind, i.bag.number if i.bag else None) for i in record.items] == [
        (RecordItemKind.ENVELOPE, out["bag"]), (RecordItemKind.BAG, out["bag"])]
    text = pdf_text(handover_record_pdf(record, clock.now))
    assert env.number.encode() in text and out["bag"].encode() in text
    ctx.session.rollback()
    bag = ctx.session.execute(select(Bag).where(Bag.number == out["bag"])).scalar_one()
    assert bag.holder_user_id == network[to].id
    link = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == env.id)
                               .order_by(Handoff.seq.desc()).limit(1)).scalar_one()
    assert link.kind is EventKind.HANDED_OVER and link.bag_id == bag.id
    assert leaving.holdings(ctx, holder).empty
    directory.set_user_active(ctx, network["admin"], holder, False)
    assert findings(ctx, env.number) == {env.number: []}


@pytest.mark.parametrize(("to", "slug", "words"), [
    ("vt_hn", "wrong_unit", "Người dùng vt_hn không thuộc đơn vị BNV."),
    ("vt_bnv", "handed_to_self", "Người giao và người nhận phải là hai người khác nhau."),
    ("bm_bnv", "handover_role_family", "bm_bnv (security_officer) không cùng nhóm vai trò"),
    ("gd_hn", "wrong_unit", "Người dùng gd_hn không thuộc đơn vị BNV."),
])
def test_a_hand_over_to_the_wrong_person_is_refused_and_writes_nothing(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot, to: str, slug: str,
        words: str) -> None:
    register(ctx, network)
    before = snapshot()
    error = refused(slug, leaving.hand_over_all, ctx, network["admin"], "vt_bnv", to,
                    pin(network[to]))
    assert words in error.message_local
    assert snapshot() == before


def test_a_hand_over_to_an_inactive_colleague_or_with_a_wrong_pin_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    register(ctx, network)
    head = network["head_bnv"]
    wrong = Receipt(user=head, method=AckMethod.PIN, secret="0000")
    before = snapshot()
    error = refused("acknowledgement_invalid", leaving.hand_over_all, ctx, network["admin"],
                    "vt_bnv", "head_bnv", wrong)
    assert error.message_local == "Xác nhận của người nhận không đúng."
    refused("acknowledgement_missing", leaving.hand_over_all, ctx, None, "vt_bnv", "head_bnv",
            None)
    # a receipt of someone else, or signed by session, is not the receiver's PIN or badge
    refused("acknowledgement_invalid", leaving.hand_over_all, ctx, None, "vt_bnv", "head_bnv",
            pin(network["vt_bnv"]))
    refused("acknowledgement_invalid", leaving.hand_over_all, ctx, None, "vt_bnv", "head_bnv",
            Receipt(user=head, method=AckMethod.SESSION))
    refused("forbidden", leaving.hand_over_all, ctx, network["vt_bnv"], "vt_bnv", "head_bnv",
            pin(head))
    refused("nothing_to_hand_over", leaving.hand_over_all, ctx, None, "head_bnv", "vt_bnv",
            pin(network["vt_bnv"]))
    assert snapshot() == before
    directory.set_user_active(ctx, network["admin"], "head_bnv", False)
    before = snapshot()
    error = refused("handover_receiver_inactive", leaving.hand_over_all, ctx, None, "vt_bnv",
                    "head_bnv", pin(head))
    assert "Tài khoản head_bnv đã bị khóa" in error.message_local
    assert snapshot() == before


def test_the_last_registry_clerk_of_a_unit_holding_envelopes_is_not_moved(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="arrived")  # held by vt_hcm
    custody.pass_to_addressee(ctx, network["vt_hcm"], env.number, network["bm_hcm"],
                              pin(network["bm_hcm"]), new_scan(), clock.tick())
    admin = network["admin"]
    directory.set_user_active(ctx, admin, "head_hcm", False)
    directory.move_user(ctx, admin, "cv_hcm", "UBND-HN")
    before = snapshot()
    error = refused("last_custodian", directory.move_user, ctx, admin, "vt_hcm", "BNV")
    assert "vt_hcm là registry_clerk cuối cùng còn làm việc của UBND-HCM" in error.message_local
    assert "1 bưu gửi" in error.message_local
    refused("last_custodian", directory.change_role, ctx, admin, "vt_hcm",
            Role.SECURITY_OFFICER)
    refused("last_custodian", directory.set_user_active, ctx, admin, "vt_hcm", False)
    assert snapshot() == before
    # another clerk arrives: now vt_hcm may go
    directory.move_user(ctx, admin, "cv_hcm", "UBND-HCM")
    moved = directory.move_user(ctx, admin, "vt_hcm", "BNV")
    assert moved.unit.code == "BNV"


def test_moving_a_user_ends_their_sessions_and_keeps_role_and_unit_kinds_together(
        ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    admin = network["admin"]
    user = network["vt_hn"]
    epoch = user.session_epoch
    refused("role_unit_mismatch", directory.move_user, ctx, admin, "vt_hn", "BC-HN")
    moved = directory.move_user(ctx, admin, "vt_hn", "BC-HN", role="courier")
    assert (moved.unit.code, moved.role) == ("BC-HN", Role.COURIER)
    assert moved.session_epoch == epoch + 1
    moved = directory.change_role(ctx, admin, "vt_hn", Role.COUNTER_CLERK)
    assert moved.role is Role.COUNTER_CLERK and moved.session_epoch == epoch + 2
    before = snapshot()
    refused("role_unit_mismatch", directory.change_role, ctx, admin, "vt_hn",
            Role.REGISTRY_CLERK)
    refused("unknown_unit", directory.move_user, ctx, admin, "vt_hn", "NOPE")
    refused("forbidden", directory.move_user, ctx, network["vt_bnv"], "vt_hn", "BNV")
    refused("invalid_field", directory.change_role, ctx, admin, "admin", Role.COURIER)
    assert snapshot() == before
    head = directory.move_user(ctx, None, "head_bnv", "UBND-HN")
    assert not head.is_unit_head


def test_what_a_deactivated_account_still_holds_is_handed_over_and_verify_clears(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """An account closed before deactivation was refused (docs/rules.md, rule A6) still has
    its holdings handed over: the finding goes away."""
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="accepted")  # held by gd_hn
    network["gd_hn"].is_active = False
    ctx.session.commit()
    assert findings(ctx, env.number) == {env.number: ["held_by_inactive_user"]}
    clock.tick()
    record = leaving.hand_over_all(ctx, None, "gd_hn", "bt_hn", pin(network["bt_hn"]))
    assert [i.envelope.number for i in record.items if i.envelope] == [env.number]
    assert findings(ctx, env.number) == {env.number: []}


def test_internal_sheets_naming_the_leaving_person_are_cancelled_by_the_hand_over(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """A paper receipt may not name a sheet whose giver or receiver has left (rule A8)."""
    from kt1.models.handover import SheetStatus
    from kt1.services import sheets

    mine = register(ctx, network)
    theirs = register(ctx, network)
    leaving.hand_over_all(ctx, network["admin"], "vt_bnv", "head_bnv", pin(network["head_bnv"]))
    given = sheets.prepare_internal_sheet(ctx, network["head_bnv"], "vt_bnv", [mine.number])
    ctx.session.commit()
    # head_bnv now leaves in turn: the sheet they made out to vt_bnv goes with them
    leaving.hand_over_all(ctx, network["admin"], "head_bnv", "vt_bnv", pin(network["vt_bnv"]))
    ctx.session.refresh(given)
    assert given.status is SheetStatus.CANCELLED and given.cancelled_at is not None
    held = {e.number for e in leaving.holdings(ctx, "vt_bnv").envelopes}
    assert {mine.number, theirs.number} <= held
    assert findings(ctx, mine.number, theirs.number) == {mine.number: [], theirs.number: []}
