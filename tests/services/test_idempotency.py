"""A scan id is used once: an exact replay returns the stored result and writes nothing;
the same id with different content is refused (issue 2, "Services")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kt1.errors import AcknowledgementMissingError, ScanIdConflictError
from kt1.models import Envelope, Handoff, Scan
from kt1.models.enums import EventKind, Urgency
from kt1.services import bagging, custody
from kt1.services.context import Ctx
from kt1.services.registration import EnvelopeDraft, register_envelope
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import PROVENANCE, carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def conflict(snapshot: Snapshot, call: Callable[[], object]) -> None:
    before = snapshot()
    with pytest.raises(ScanIdConflictError) as exc:
        call()
    assert exc.value.slug == "scan_id_conflict"
    assert snapshot() == before


def handoff_count(ctx: Ctx) -> int:
    return int(ctx.session.execute(select(func.count()).select_from(Handoff)).scalar_one())


# ------------------------------------------------------------------------ handoffs


def test_replaying_a_handoff_scan_returns_the_stored_handoff_and_writes_nothing(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    req = custody.HandoffRequest(
        number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["vt_bnv"], receiver=network["gd_hn"],
        receipt=pin(network["gd_hn"]), giver_receipt=pin(network["vt_bnv"]),
        location="Quầy 3", device="PDA-07")
    first = custody.record_handoff(ctx, network["gd_hn"], req)
    assert first.replayed is False
    first_id, first_hash = first.handoff.id, first.handoff.hash

    before = snapshot()
    clock.tick(10)  # the device resends later, e.g. after a lost reply
    again = custody.record_handoff(ctx, network["gd_hn"], replace(req))
    assert again.replayed is True
    assert again.handoff.id == first_id and again.handoff.hash == first_hash
    assert again.envelope.id == envelope.id
    assert snapshot() == before


def test_a_replay_with_the_number_typed_in_lower_case_is_still_a_replay(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    scan_id, at = new_scan(), clock.tick()
    custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                              pin(network["gd_hn"]), scan_id, at,
                              giver_receipt=pin(network["vt_bnv"]))
    before = snapshot()
    again = custody.accept_at_counter(ctx, network["gd_hn"], f" {envelope.number.lower()} ",
                                      network["vt_bnv"], pin(network["gd_hn"]), scan_id, at,
                                      giver_receipt=pin(network["vt_bnv"]))
    assert again.replayed is True
    assert snapshot() == before


@pytest.mark.parametrize("change", ["event_at", "receiver", "location", "number"])
def test_the_same_handoff_scan_id_with_different_content_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot, change: str) -> None:
    envelope = register(ctx, network)
    other = register(ctx, network, document_number="16/KH-BNV")
    req = custody.HandoffRequest(
        number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["vt_bnv"], receiver=network["gd_hn"],
        receipt=pin(network["gd_hn"]), giver_receipt=pin(network["vt_bnv"]))
    custody.record_handoff(ctx, network["gd_hn"], req)
    changed = {
        "event_at": replace(req, event_at=req.event_at + timedelta(seconds=1)),
        "receiver": replace(req, receiver=network["gd2_hn"], receipt=pin(network["gd2_hn"])),
        "location": replace(req, location="Quầy 4"),
        "number": replace(req, number=other.number),
    }[change]
    actor = network["gd2_hn"] if change == "receiver" else network["gd_hn"]
    conflict(snapshot, lambda: custody.record_handoff(ctx, actor, changed))


def test_a_refused_scan_leaves_its_id_free_for_a_corrected_retry(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    scan_id, at = new_scan(), clock.tick()
    with pytest.raises(AcknowledgementMissingError):
        custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                                  None, scan_id, at,
                                  giver_receipt=pin(network["vt_bnv"]))  # type: ignore[arg-type]
    assert ctx.session.get(Scan, scan_id) is None
    retried = custody.accept_at_counter(ctx, network["gd_hn"], envelope.number,
                                        network["vt_bnv"], pin(network["gd_hn"]), scan_id, at,
                                        giver_receipt=pin(network["vt_bnv"]))
    assert retried.replayed is False
    assert retried.handoff.scan_id == scan_id


# ---------------------------------------------------------------------------- bags


def test_replaying_an_add_to_bag_scan_returns_the_stored_link_and_writes_nothing(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="accepted")
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    scan_id, at = new_scan(), clock.tick()
    first = bagging.add_to_bag(ctx, network["gd_hn"], bag, envelope.number, scan_id, at)
    assert first.replayed is False
    ids = [h.id for h in first.handoffs]

    before = snapshot()
    again = bagging.add_to_bag(ctx, network["gd_hn"], bag, envelope.number, scan_id, at)
    assert again.replayed is True
    assert [h.id for h in again.handoffs] == ids
    assert again.bag.number == bag
    assert snapshot() == before


def test_the_same_add_to_bag_scan_id_for_another_envelope_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    one = register(ctx, network)
    two = register(ctx, network, document_number="16/KH-BNV")
    carry(ctx, network, clock, one, until="accepted")
    carry(ctx, network, clock, two, until="accepted")
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    scan_id, at = new_scan(), clock.tick()
    bagging.add_to_bag(ctx, network["gd_hn"], bag, one.number, scan_id, at)
    conflict(snapshot, lambda: bagging.add_to_bag(ctx, network["gd_hn"], bag, two.number,
                                                  scan_id, at))


def test_replaying_a_seal_scan_after_the_bag_is_sealed_is_a_replay_not_a_second_seal(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    bag = carry(ctx, network, clock, envelope, until="bagged")["bag"]
    scan_id, at = new_scan(), clock.tick()
    first = bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-000123", scan_id, at,
                             tracker_id="GPS-1")
    before = snapshot()
    again = bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-000123", scan_id, at,
                             tracker_id="GPS-1")
    assert again.replayed is True
    assert [h.id for h in again.handoffs] == [h.id for h in first.handoffs]
    assert snapshot() == before
    conflict(snapshot, lambda: bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-000124",
                                                scan_id, at, tracker_id="GPS-1"))


def test_replaying_an_open_bag_scan_returns_the_same_bag(
        ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    scan_id = new_scan()
    first = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", scan_id)
    before = snapshot()
    again = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", scan_id)
    assert again.replayed is True and again.bag.id == first.bag.id
    assert snapshot() == before


def test_replaying_a_bag_receipt_with_a_seal_anomaly_returns_the_same_incident(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    bag = carry(ctx, network, clock, envelope, until="dispatched")["bag"]
    args = (ctx, network["gd_hcm"], bag, network["bt_hn"], "NP-000999",
            pin(network["gd_hcm"]), new_scan(), clock.tick(60))
    kw: dict[str, Any] = {"seal_state": "broken", "incident_report": "Dây niêm bị cắt",
                          "courier_receipt": pin(network["bt_hn"])}
    first = bagging.receive_bag(*args, **kw)
    assert first.incident is not None
    before = snapshot()
    again = bagging.receive_bag(*args, **kw)
    assert again.replayed is True
    assert again.incident is not None and again.incident.id == first.incident.id
    assert snapshot() == before


def test_a_scan_id_used_for_a_handoff_cannot_be_reused_for_a_bag_operation(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    scan_id = new_scan()
    custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                              pin(network["gd_hn"]), scan_id, clock.tick(),
                              giver_receipt=pin(network["vt_bnv"]))
    conflict(snapshot, lambda: bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", scan_id))


# -------------------------------------------------------------------- registration


def _draft(**kw: Any) -> EnvelopeDraft:
    base: dict[str, Any] = {
        "classification": "secret", "recipient_unit_code": "UBND-HCM",
        "document_number": "15/KH-BNV", "recipient_name": "Trần Thị B", "copies": 2,
        "scan_id": "reg-0001-abcdef", **PROVENANCE,
    }
    return EnvelopeDraft(**{**base, **kw})


def test_replaying_a_registration_returns_the_same_envelope_and_writes_nothing(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    first = register_envelope(ctx, network["vt_bnv"], _draft())
    before = snapshot()
    again = register_envelope(ctx, network["vt_bnv"], _draft())
    assert again.id == first.id and again.number == first.number
    assert snapshot() == before


@pytest.mark.parametrize("change", [
    {"copies": 3},
    {"recipient_name": "Lê Văn C"},
    {"urgency": Urgency.VERY_URGENT},
    {"is_addressee_only": True},
    {"document_number": "16/KH-BNV"},
    {"subject": "Kế hoạch kiểm tra định kỳ"},
    {"signer_name": "Lê Văn Ký"},
    {"signer_title": "Phó Chánh Văn phòng"},
    {"classification_basis": "Khoản 3 Điều 1"},
    {"drafter_name": None, "drafter_username": "bm_bnv"},
])
def test_the_same_registration_scan_id_with_different_content_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot,
        change: dict[str, Any]) -> None:
    register_envelope(ctx, network["vt_bnv"], _draft())
    conflict(snapshot, lambda: register_envelope(ctx, network["vt_bnv"], _draft(**change)))
    count = ctx.session.execute(select(func.count()).select_from(Envelope)).scalar_one()
    assert count == 1
