"""Corrections without rewriting history (issue 13, item 2): an envelope put into the wrong
bag is taken out again while the bag is open, and an envelope for a place the bag does not
go to needs a reason to go in (docs/rules.md, rule 8).

Nothing is deleted: taking out writes an ``unbagged`` link, the manifest line stays marked
taken out, and ``verify`` finds the chain clean.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kt1.errors import KT1Error
from kt1.models import Bag, Envelope, Handoff, ManifestLine
from kt1.models.enums import BagStatus, EnvelopeStatus, EventKind
from kt1.services import bagging, custody
from kt1.services.context import Ctx
from kt1.services.verify import verify
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def refused(snapshot: Snapshot, slug: str, call: Callable[[], object]) -> KT1Error:
    before = snapshot()
    with pytest.raises(KT1Error) as exc:
        call()
    assert exc.value.slug == slug, exc.value.slug
    assert snapshot() == before
    return exc.value


def clean(ctx: Ctx, number: str) -> None:
    ctx.session.rollback()
    reports = list(verify(ctx, [number]))
    assert len(reports) == 1
    assert reports[0].findings == [], reports[0].findings


def kinds(ctx: Ctx, envelope: Envelope) -> list[EventKind]:
    ctx.session.refresh(envelope)
    return [h.kind for h in custody.timeline(ctx, envelope)]


def open_bag(ctx: Ctx, net: Network, clerk: str = "gd_hn", to: str = "BC-HCM") -> str:
    return bagging.open_bag(ctx, net[clerk], to, new_scan()).bag.number


def bagged(ctx: Ctx, net: Network, clock: Clock, **kw: Any) -> tuple[Envelope, str]:
    """An envelope for UBND-HCM accepted at BC-HN and put into an open bag for BC-HCM."""
    env = register(ctx, net, **kw)
    carry(ctx, net, clock, env, until="accepted")
    bag = open_bag(ctx, net)
    bagging.add_to_bag(ctx, net["gd_hn"], bag, env.number, new_scan(), clock.tick())
    return env, bag


# ------------------------------------------------------------------ taking out of a bag


def test_an_envelope_taken_out_of_an_open_bag_is_accepted_again_and_verifies_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env, bag = bagged(ctx, network, clock)
    other = register(ctx, network)
    carry(ctx, network, clock, other, until="accepted")
    bagging.add_to_bag(ctx, network["gd_hn"], bag, other.number, new_scan(), clock.tick())

    result = bagging.remove_from_bag(ctx, network["gd_hn"], bag, env.number, new_scan(),
                                     clock.tick(), reason="Nhầm túi")
    assert [h.kind for h in result.handoffs] == [EventKind.UNBAGGED]
    assert result.handoffs[0].note == "Nhầm túi"
    ctx.session.refresh(env)
    assert env.status is EnvelopeStatus.ACCEPTED and env.bag_id is None
    assert env.holder_user_id == network["gd_hn"].id
    assert kinds(ctx, env) == [EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED,
                               EventKind.BAGGED, EventKind.UNBAGGED]
    found = bagging.get_bag(ctx, bag)
    ctx.session.refresh(found)
    assert [line.envelope_id for line in found.lines] == [other.id]  # the manifest
    kept = ctx.session.execute(select(ManifestLine).where(
        ManifestLine.envelope_id == env.id)).scalar_one()
    assert kept.removed_at is not None  # never deleted
    clean(ctx, env.number)

    # the rest of the bag goes on as usual; the envelope taken out goes in another bag
    bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-1", new_scan(), clock.tick(),
                     tracker_id="GPS-1")
    second = open_bag(ctx, network)
    bagging.add_to_bag(ctx, network["gd_hn"], second, env.number, new_scan(), clock.tick())
    bagging.seal_bag(ctx, network["gd_hn"], second, "NP-2", new_scan(), clock.tick(),
                     tracker_id="GPS-2")
    clean(ctx, env.number)
    clean(ctx, other.number)


def test_put_back_into_the_same_bag_it_is_listed_again_and_travels_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env, bag = bagged(ctx, network, clock)
    bagging.remove_from_bag(ctx, network["gd_hn"], bag, env.number, new_scan(), clock.tick(),
                            reason="Quét nhầm")
    bagging.add_to_bag(ctx, network["gd_hn"], bag, env.number, new_scan(), clock.tick())
    found = bagging.get_bag(ctx, bag)
    ctx.session.refresh(found)
    assert [line.envelope_id for line in found.lines] == [env.id]
    gd, bt, hcm = network["gd_hn"], network["bt_hn"], network["gd_hcm"]
    bagging.seal_bag(ctx, gd, bag, "NP-3", new_scan(), clock.tick(), tracker_id="GPS-3")
    bagging.dispatch_bag(ctx, gd, bag, bt, pin(bt), new_scan(), clock.tick(),
                         vehicle="29A-1", is_dedicated_vehicle=True)
    bagging.receive_bag(ctx, hcm, bag, bt, "NP-3", pin(hcm), new_scan(), clock.tick(60),
                        courier_receipt=pin(bt))
    opened = bagging.open_bag_contents(ctx, hcm, bag, [env.number], new_scan(), clock.tick())
    assert opened.missing == [] and opened.extra == []
    clean(ctx, env.number)


def test_taken_out_after_an_opening_on_the_way_it_is_at_the_office_again(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """An envelope that came to BC-HCM by mistake (for Hà Nội), put in a bag back to BC-HN,
    and taken out again: it is at the office, as it was before that bagging."""
    env = register(ctx, network, recipient="UBND-HN")
    carry(ctx, network, clock, env, until="accepted")
    gd, bt, hcm = network["gd_hn"], network["bt_hn"], network["gd_hcm"]
    bag = open_bag(ctx, network)
    bagging.add_to_bag(ctx, gd, bag, env.number, new_scan(), clock.tick(),
                       route_override="Theo chỉ đạo chuyển qua TP HCM")
    bagging.seal_bag(ctx, gd, bag, "NP-4", new_scan(), clock.tick(), tracker_id="GPS-4")
    bagging.dispatch_bag(ctx, gd, bag, bt, pin(bt), new_scan(), clock.tick(),
                         vehicle="29A-1", is_dedicated_vehicle=True)
    bagging.receive_bag(ctx, hcm, bag, bt, "NP-4", pin(hcm), new_scan(), clock.tick(60),
                        courier_receipt=pin(bt))
    bagging.open_bag_contents(ctx, hcm, bag, [env.number], new_scan(), clock.tick())
    back = open_bag(ctx, network, "gd_hcm", "BC-HN")
    bagging.add_to_bag(ctx, hcm, back, env.number, new_scan(), clock.tick())  # on its route
    bagging.remove_from_bag(ctx, hcm, back, env.number, new_scan(), clock.tick(),
                            reason="Chờ chuyến sau")
    ctx.session.refresh(env)
    assert env.status is EnvelopeStatus.AT_OFFICE and env.bag_id is None
    clean(ctx, env.number)


def test_a_replayed_removal_returns_the_same_link(ctx: Ctx, network: Network,
                                                  clock: Clock) -> None:
    env, bag = bagged(ctx, network, clock)
    scan, at = new_scan(), clock.tick()
    first = bagging.remove_from_bag(ctx, network["gd_hn"], bag, env.number, scan, at,
                                    reason="Nhầm")
    again = bagging.remove_from_bag(ctx, network["gd_hn"], bag, env.number, scan, at,
                                    reason="Nhầm")
    assert again.replayed and [h.id for h in again.handoffs] == [h.id for h in first.handoffs]


def test_removal_refusals_write_nothing(ctx: Ctx, network: Network, clock: Clock,
                                       snapshot: Snapshot) -> None:
    env, bag = bagged(ctx, network, clock)
    loose = register(ctx, network)
    carry(ctx, network, clock, loose, until="accepted")
    gd = network["gd_hn"]

    def remove(actor: str, number: str, bag_number: str = bag, reason: str = "Nhầm") -> Any:
        return lambda: bagging.remove_from_bag(ctx, network[actor], bag_number, number,
                                               new_scan(), clock.tick(), reason=reason)

    refused(snapshot, "envelope_not_in_bag", remove("gd_hn", loose.number))
    refused(snapshot, "invalid_field", remove("gd_hn", env.number, reason="  "))
    refused(snapshot, "unknown_bag", remove("gd_hn", env.number, "BC-HN-000000-999"))
    # another unit: the bag (and its envelope) answer as numbers that do not exist
    refused(snapshot, "unknown_bag", remove("vt_bnv", env.number))
    refused(snapshot, "unknown_bag", remove("vt_hcm", env.number))
    # the destination office sees the bag coming, but it is not the one making it up
    refused(snapshot, "wrong_unit", remove("gd_hcm", env.number))
    # an envelope this office has never seen is unknown, even in its own bag's request
    never = register(ctx, network, clerk="vt_hcm", recipient="BNV")
    refused(snapshot, "unknown_envelope", remove("gd_hn", never.number))
    # another clerk of the office does not hold it
    refused(snapshot, "not_current_holder", remove("gd2_hn", env.number))
    # once sealed, the bag is closed for the whole trip
    bagging.seal_bag(ctx, gd, bag, "NP-5", new_scan(), clock.tick(), tracker_id="GPS-5")
    refused(snapshot, "bag_state_invalid", remove("gd_hn", env.number))
    bagging.dispatch_bag(ctx, gd, bag, network["bt_hn"], pin(network["bt_hn"]), new_scan(),
                         clock.tick(), vehicle="29A-1", is_dedicated_vehicle=True)
    ctx.session.expire_all()
    refused(snapshot, "unknown_bag", remove("vt_bnv", env.number))
    exc = refused(snapshot, "bag_state_invalid", remove("gd_hn", env.number))
    assert exc.status == 409
    # in words the clerk uses, not the stored values (in_transit, remove)
    assert exc.message_local == (f"Túi {bag} đang ở trạng thái đang vận chuyển; không thể "
                                 "lấy bưu gửi ra khỏi túi.")
    assert exc.message == f"Bag {bag} is in_transit; cannot remove."


def test_another_unit_cannot_read_the_bag(ctx: Ctx, network: Network, clock: Clock) -> None:
    _, bag = bagged(ctx, network, clock)
    for unit in ("BNV", "UBND-HCM"):
        unit_id = network[{"BNV": "vt_bnv", "UBND-HCM": "vt_hcm"}[unit]].unit_id
        with pytest.raises(KT1Error) as exc:
            bagging.get_bag(ctx, bag, seen_by=unit_id)
        assert exc.value.slug == "unknown_bag"


def test_the_verifier_flags_a_forged_unbagging_from_a_sealed_bag(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """The rules judge an ``unbagged`` link after the sealing as out of order."""
    from kt1.services.rules.custody import stage_order
    from kt1.services.rules.facts import ChainState, World, link_from

    st = ChainState(length=4, status=b"bag_sealed", in_bag=b"1")
    ln = link_from({"kind": EventKind.UNBAGGED, "bag_id": 1})
    found = stage_order(st, ln, None, World())
    assert found is not None and found.code == "event_out_of_order"


# ------------------------------------------------------------------ the routing check


def test_an_envelope_for_a_place_off_the_bags_route_is_refused_naming_both(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    env = register(ctx, network, recipient="UBND-HN")
    carry(ctx, network, clock, env, until="accepted")
    bag = open_bag(ctx, network)
    exc = refused(snapshot, "route_mismatch", lambda: bagging.add_to_bag(
        ctx, network["gd_hn"], bag, env.number, new_scan(), clock.tick()))
    text = exc.message_local
    assert "Bưu cục KT1 TP Hồ Chí Minh" in text and bag in text and env.number in text
    unit = ctx.session.execute(select(Envelope).where(Envelope.id == env.id)).scalar_one()
    assert unit.recipient_unit.name in text
    assert exc.status == 409
    # a blank reason is no override
    refused(snapshot, "route_mismatch", lambda: bagging.add_to_bag(
        ctx, network["gd_hn"], bag, env.number, new_scan(), clock.tick(),
        route_override="   "))


def test_with_a_reason_it_goes_in_and_the_reason_is_in_the_chain(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network, recipient="UBND-HN")
    carry(ctx, network, clock, env, until="accepted")
    bag = open_bag(ctx, network)
    result = bagging.add_to_bag(ctx, network["gd_hn"], bag, env.number, new_scan(),
                                clock.tick(), route_override="Chuyển tiếp qua TP HCM")
    assert result.handoffs[0].note == "route_override: Chuyển tiếp qua TP HCM"
    stored = ctx.session.execute(select(Handoff).where(
        Handoff.envelope_id == env.id, Handoff.kind == EventKind.BAGGED)).scalar_one()
    assert stored.note.endswith("Chuyển tiếp qua TP HCM")
    clean(ctx, env.number)


def test_an_envelope_on_the_route_needs_no_reason_and_notes_nothing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env, bag = bagged(ctx, network, clock)
    link = ctx.session.execute(select(Handoff).where(
        Handoff.envelope_id == env.id, Handoff.kind == EventKind.BAGGED)).scalar_one()
    assert link.note == ""
    assert ctx.session.execute(select(Bag.status).where(Bag.number == bag)).scalar_one() \
        is BagStatus.OPEN


# ------------------------------------------------------------------ voiding a scan


def out_for_delivery(ctx: Ctx, net: Network, clock: Clock) -> Envelope:
    """At BC-HCM, handed by gd_hcm to the courier bt_hcm (recorded by gd_hcm)."""
    env = register(ctx, net)
    carry(ctx, net, clock, env, until="out_for_delivery")
    return env


def test_the_operator_voids_a_scan_and_the_envelope_is_back_as_it_was(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = out_for_delivery(ctx, network, clock)
    clock.tick(3)
    done = custody.void_last_scan(ctx, network["gd_hcm"], env.number, "Giao nhầm bưu tá",
                                  new_scan())
    link = done.handoff
    assert link.kind is EventKind.VOIDED and link.note.endswith("Giao nhầm bưu tá")
    assert link.from_user_id == network["bt_hcm"].id and link.to_user_id == network["gd_hcm"].id
    ctx.session.refresh(env)
    assert env.status is EnvelopeStatus.AT_OFFICE
    assert env.holder_user_id == network["gd_hcm"].id
    assert kinds(ctx, env)[-2:] == [EventKind.OUT_FOR_DELIVERY, EventKind.VOIDED]
    clean(ctx, env.number)
    # the chain goes on from the restored state: out again, with the right courier
    custody.record_handoff(ctx, network["gd_hcm"], custody.HandoffRequest(
        number=env.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["gd_hcm"], receiver=network["bt_hcm"],
        receipt=pin(network["bt_hcm"])))
    clean(ctx, env.number)


def test_void_refusals_write_nothing(ctx: Ctx, network: Network, clock: Clock,
                                    snapshot: Snapshot) -> None:
    env = out_for_delivery(ctx, network, clock)

    def void(actor: str, number: str = env.number, reason: str = "Nhầm") -> Any:
        return lambda: custody.void_last_scan(ctx, network[actor], number, reason,
                                              new_scan())

    refused(snapshot, "invalid_field", void("gd_hcm", reason=" "))
    refused(snapshot, "void_not_allowed", void("bt_hcm"))  # not its operator
    refused(snapshot, "void_not_allowed", void("gd_hn"))  # BC-HN handled it, not this scan
    refused(snapshot, "unknown_envelope", void("vt_hn"))  # another unit: as unknown
    refused(snapshot, "forbidden", void("bm_bnv"))  # an officer records no scan
    accepted_only = register(ctx, network)
    carry(ctx, network, clock, accepted_only, until="accepted")
    refused(snapshot, "void_not_allowed", void("gd_hn", accepted_only.number))  # a milestone
    clock.tick(11)  # the default window is 10 minutes
    exc = refused(snapshot, "void_window_passed", void("gd_hcm"))
    assert "10 phút" in exc.message_local


def test_the_window_is_a_setting(ctx: Ctx, network: Network, clock: Clock) -> None:
    import dataclasses

    env = out_for_delivery(ctx, network, clock)
    ctx.settings = dataclasses.replace(ctx.settings, void_window=timedelta(minutes=30))
    clock.tick(25)
    custody.void_last_scan(ctx, network["gd_hcm"], env.number, "Nhầm", new_scan())
    clean(ctx, env.number)


def test_a_void_that_does_not_restore_the_holder_is_a_finding() -> None:
    from kt1.services.rules.custody import void_restores
    from kt1.services.rules.facts import ChainState, World, link_from

    st = ChainState(length=9, status=b"out_for_delivery", last_kind=b"out_for_delivery",
                    prev_status=b"at_office", prev_holder_unit=b"5", prev_holder_user=b"7",
                    holder_unit=b"5", holder_user=b"8")
    right = link_from({"kind": EventKind.VOIDED, "to_unit_id": 5, "to_user_id": 7})
    assert void_restores(st, right, None, World()) is None
    wrong = link_from({"kind": EventKind.VOIDED, "to_unit_id": 5, "to_user_id": 9})
    assert void_restores(st, wrong, None, World()).code == "void_invalid"
    st.last_kind = b"delivered"
    assert void_restores(st, right, None, World()).code == "void_invalid"
