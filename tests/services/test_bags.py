"""Bags (túi thư), seal anomalies, manifest discrepancies, and addressee-only envelopes.

docs/rules.md, rules 6, 7, 8 and 10, through the real services on every backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from kt1.errors import (
    BagStateError,
    DiscrepancyOpenError,
    ForbiddenError,
    KT1Error,
    ValidationError,
    WrongUnitError,
)
from kt1.models import Bag, Envelope, Handoff, Incident, ManifestLine
from kt1.models.enums import (
    Authority,
    BagStatus,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    IncidentStatus,
    SealState,
    ServiceClass,
    Urgency,
)
from kt1.services import bagging, custody
from kt1.services.chain import canonical, envelope_identity, link_hash
from kt1.services.context import Ctx
from kt1.services.incidents import open_incidents, resolve_incident
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def refused(snapshot: Snapshot, error: type[KT1Error], slug: str,
            call: Callable[[], object]) -> KT1Error:
    before = snapshot()
    with pytest.raises(error) as exc:
        call()
    assert exc.value.slug == slug
    assert snapshot() == before
    return exc.value


def assert_chain_intact(ctx: Ctx, envelope: Envelope) -> list[Handoff]:
    """Seqs 0..n-1, each link hashing its content and the previous hash."""
    ctx.session.refresh(envelope)
    chain = custody.timeline(ctx, envelope)
    assert [h.seq for h in chain] == list(range(len(chain)))
    prev = "0" * 64
    for h in chain:
        identity = envelope_identity(envelope) if h.seq == 0 else None
        assert h.prev_hash == prev
        assert h.hash == link_hash(prev, canonical(h, identity))
        prev = h.hash
    assert envelope.last_hash == prev and envelope.chain_length == len(chain)
    for before, after in itertools.pairwise(chain):
        assert after.event_at >= before.event_at
    return chain


def bag_of(ctx: Ctx, net: Network, clock: Clock, *envelopes: Envelope,
           seal: str = "NP-000123") -> str:
    """Accept ``envelopes`` at BC-HN, bag, seal and dispatch them to BC-HCM."""
    for e in envelopes:
        carry(ctx, net, clock, e, until="accepted")
    gd = net["gd_hn"]
    bag = bagging.open_bag(ctx, gd, "BC-HCM", new_scan()).bag.number
    for e in envelopes:
        bagging.add_to_bag(ctx, gd, bag, e.number, new_scan(), clock.tick())
    bagging.seal_bag(ctx, gd, bag, seal, new_scan(), clock.tick(), tracker_id="GPS-7")
    bagging.dispatch_bag(ctx, gd, bag, net["bt_hn"], pin(net["bt_hn"]), new_scan(),
                         clock.tick(), vehicle="29A-12345", is_dedicated_vehicle=True)
    return bag


def receive(ctx: Ctx, net: Network, clock: Clock, bag: str, seal: str = "NP-000123",
            **kw: Any) -> bagging.BagResult:
    return bagging.receive_bag(ctx, net["gd_hcm"], bag, net["bt_hn"], seal,
                               pin(net["gd_hcm"]), new_scan(), clock.tick(60), **kw,
                               courier_receipt=pin(net["bt_hn"]))


# --------------------------------------------------------------- chains through bags


def test_every_bag_handoff_appears_in_the_chain_of_every_envelope_in_the_bag(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    one = register(ctx, network)
    two = register(ctx, network, document_number="16/KH-BNV", recipient="UBND-HCM")
    bag = bag_of(ctx, network, clock, one, two)
    receive(ctx, network, clock, bag)
    opened = bagging.open_bag_contents(ctx, network["gd_hcm"], bag, [one.number, two.number],
                                       new_scan(), clock.tick())
    assert opened.incident is None and opened.missing == [] and opened.extra == []
    bag_id = ctx.session.execute(select(Bag.id).where(Bag.number == bag)).scalar_one()

    bag_links: dict[int, list[Handoff]] = {}
    for e in (one, two):
        chain = assert_chain_intact(ctx, e)
        assert [h.kind for h in chain] == [
            EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED, EventKind.BAGGED,
            EventKind.BAG_SEALED, EventKind.DISPATCHED, EventKind.BAG_RECEIVED,
            EventKind.BAG_OPENED,
        ]
        bag_links[e.id] = [h for h in chain if h.bag_id is not None]
        assert [h.kind for h in bag_links[e.id]] == [
            EventKind.BAGGED, EventKind.BAG_SEALED, EventKind.DISPATCHED,
            EventKind.BAG_RECEIVED, EventKind.BAG_OPENED,
        ]
        assert all(h.bag_id == bag_id for h in bag_links[e.id])
        assert e.bag_id is None and e.status is EnvelopeStatus.AT_OFFICE
        assert e.holder_user_id == network["gd_hcm"].id

    # Bagging is one scan per envelope; every later bag event is one scan for the whole bag.
    a, b = bag_links[one.id], bag_links[two.id]
    assert a[0].scan_id != b[0].scan_id
    for ha, hb in zip(a[1:], b[1:], strict=True):
        assert ha.scan_id == hb.scan_id and ha.kind == hb.kind
        assert ha.event_at == hb.event_at and ha.count == hb.count == 2
        assert (ha.from_user_id, ha.to_user_id) == (hb.from_user_id, hb.to_user_id)
    dispatched = a[2]
    assert dispatched.to_user_id == network["bt_hn"].id
    assert dispatched.ack_user_id == network["bt_hn"].id
    assert dispatched.seal_number == "NP-000123"
    assert a[3].from_user_id == network["bt_hn"].id and a[3].seal_state is SealState.INTACT


def test_while_in_a_bag_the_envelopes_holder_follows_the_bag(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    bag = bag_of(ctx, network, clock, envelope)
    ctx.session.refresh(envelope)
    assert envelope.status is EnvelopeStatus.IN_TRANSIT
    assert envelope.holder_user_id == network["bt_hn"].id
    row = ctx.session.execute(select(Bag).where(Bag.number == bag)).scalar_one()
    assert row.holder_user_id == network["bt_hn"].id and row.status is BagStatus.IN_TRANSIT


# ------------------------------------------------------------------ seal anomalies


def test_a_confirmed_broken_seal_opens_a_seal_anomaly_incident(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    one = register(ctx, network)
    two = register(ctx, network, document_number="16/KH-BNV")
    bag = bag_of(ctx, network, clock, one, two, seal="NP-000123")
    result = receive(ctx, network, clock, bag, seal="NP-000123",
                     seal_state=SealState.BROKEN,
                     incident_report="Dây niêm phong bị cắt, buộc lại bằng dây khác")

    incident = result.incident
    assert incident is not None
    assert incident.kind is IncidentKind.SEAL_ANOMALY
    assert incident.status is IncidentStatus.OPEN
    assert incident.report == "Dây niêm phong bị cắt, buộc lại bằng dây khác"
    assert incident.bag_id == result.bag.id
    assert incident.unit_id == network["gd_hcm"].unit_id
    assert incident.reported_by_id == network["gd_hcm"].id
    # told to the head and the sender only when they open it (tests/services/test_incident_inbox.py)
    assert incident.head_notified_at is None and incident.sender_notified_at is None
    assert incident.details["seal_state"] == "broken"
    assert sorted(incident.details["numbers"]) == sorted([one.number, two.number])
    assert incident.handoff_id is not None
    assert [i.id for i in open_incidents(ctx, network["gd_hcm"].unit_id)] == [incident.id]

    # The anomaly is in the custody record of both envelopes, and the bag was received.
    for e in (one, two):
        last = assert_chain_intact(ctx, e)[-1]
        assert last.kind is EventKind.BAG_RECEIVED
        assert last.seal_state is SealState.BROKEN and last.seal_number == "NP-000123"
    assert result.bag.status is BagStatus.RECEIVED


def test_a_confirmed_mismatched_seal_number_is_received_with_an_incident(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    bag = bag_of(ctx, network, clock, envelope, seal="NP-000123")
    result = receive(ctx, network, clock, bag, seal="NP-000321",
                     seal_state=SealState.MISMATCHED,
                     incident_report="Số niêm phong trên túi khác bảng kê")
    assert result.incident is not None
    assert result.incident.kind is IncidentKind.SEAL_ANOMALY
    assert result.incident.details["seal_seen"] == "NP-000321"
    last = custody.timeline(ctx, envelope)[-1]
    assert last.seal_state is SealState.MISMATCHED and last.seal_number == "NP-000321"


def test_a_single_envelope_handed_over_with_a_broken_seal_opens_an_incident(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="out_for_delivery")
    recorded = custody.deliver(ctx, network["bt_hcm"], envelope.number, network["vt_hcm"],
                               pin(network["vt_hcm"]), new_scan(), clock.tick(),
                               seal_state=SealState.BROKEN,
                               incident_report="Bì ngoài rách một góc")
    incidents = open_incidents(ctx)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.kind is IncidentKind.SEAL_ANOMALY
    assert incident.envelope_id == envelope.id
    assert incident.handoff_id == recorded.handoff.id
    assert incident.head_notified_at is None and incident.acknowledged_at is None
    assert recorded.handoff.seal_state is SealState.BROKEN


def test_an_intact_seal_opens_no_incident(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    bag = bag_of(ctx, network, clock, envelope)
    result = receive(ctx, network, clock, bag)
    assert result.incident is None
    assert open_incidents(ctx) == []


# -------------------------------------------------------------------- discrepancies


def test_a_missing_envelope_at_bag_opening_opens_a_discrepancy_that_blocks_its_receipt(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    found = register(ctx, network)
    lost = register(ctx, network, document_number="16/KH-BNV")
    bag = bag_of(ctx, network, clock, found, lost)
    receive(ctx, network, clock, bag)
    gd = network["gd_hcm"]

    opened = bagging.open_bag_contents(ctx, gd, bag, [found.number], new_scan(), clock.tick())
    assert opened.missing == [lost.number] and opened.extra == []
    incident = opened.incident
    assert incident is not None
    assert incident.kind is IncidentKind.DISCREPANCY
    assert incident.status is IncidentStatus.OPEN
    assert incident.details == {"missing": [lost.number], "extra": []}
    assert incident.head_notified_at is None and incident.acknowledged_at is None
    incident_id = incident.id
    lines = {line.envelope_id: line.found_at_opening
             for line in ctx.session.execute(select(ManifestLine)).scalars()}
    assert lines == {found.id: True, lost.id: False}

    # The missing envelope stays recorded in the bag, with the counter clerk.
    ctx.session.refresh(lost)
    assert lost.bag_id == opened.bag.id and lost.status is EnvelopeStatus.BAG_RECEIVED

    # It turns up; its receipt cannot be signed while the discrepancy is open (rule 6) ...
    refused(snapshot, DiscrepancyOpenError, "discrepancy_open",
            lambda: bagging.open_bag_contents(ctx, gd, bag, [lost.number], new_scan(),
                                              clock.tick()))

    # ... and the envelope that was found travels on meanwhile.
    custody.record_handoff(ctx, gd, custody.HandoffRequest(
        number=found.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=clock.tick(), giver=gd, receiver=network["bt_hcm"],
        receipt=pin(network["bt_hcm"])))

    # Once the discrepancy is settled, the late envelope comes out of the bag.
    resolved = resolve_incident(ctx, gd, incident_id, "Bưu gửi bị kẹt trong lớp lót túi")
    assert resolved.status is IncidentStatus.RESOLVED and resolved.resolved_by_id == gd.id
    late = bagging.open_bag_contents(ctx, gd, bag, [lost.number], new_scan(), clock.tick())
    assert late.incident is None and late.missing == []
    ctx.session.refresh(lost)
    assert lost.bag_id is None and lost.status is EnvelopeStatus.AT_OFFICE
    assert assert_chain_intact(ctx, lost)[-1].kind is EventKind.BAG_OPENED
    line = ctx.session.execute(
        select(ManifestLine).where(ManifestLine.envelope_id == lost.id)).scalar_one()
    assert line.found_at_opening is True


def test_an_emptied_bag_cannot_be_opened_again(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    bag = bag_of(ctx, network, clock, envelope)
    receive(ctx, network, clock, bag)
    bagging.open_bag_contents(ctx, network["gd_hcm"], bag, [envelope.number], new_scan(),
                              clock.tick())
    refused(snapshot, BagStateError, "bag_state_invalid",
            lambda: bagging.open_bag_contents(ctx, network["gd_hcm"], bag,
                                              [envelope.number], new_scan(), clock.tick()))


def test_an_envelope_not_on_the_manifest_found_in_a_bag_opens_a_discrepancy(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    listed = register(ctx, network)
    stray = register(ctx, network, document_number="99/CV-BNV")
    bag = bag_of(ctx, network, clock, listed)
    receive(ctx, network, clock, bag)
    opened = bagging.open_bag_contents(ctx, network["gd_hcm"], bag,
                                       [listed.number, stray.number], new_scan(), clock.tick())
    assert opened.missing == [] and opened.extra == [stray.number]
    assert opened.incident is not None
    assert opened.incident.kind is IncidentKind.DISCREPANCY
    assert opened.incident.details == {"missing": [], "extra": [stray.number]}
    # The stray envelope's own chain is untouched by this bag.
    assert [h.kind for h in custody.timeline(ctx, stray)] == [EventKind.REGISTERED_OUTGOING]


def test_only_the_destination_office_opens_a_bag(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    bag = bag_of(ctx, network, clock, envelope)
    # The bag stops at its origin office on the way (received back there by gd_hn).
    bagging.receive_bag(ctx, network["gd_hn"], bag, network["bt_hn"], "NP-000123",
                        pin(network["gd_hn"]), new_scan(), clock.tick(),
                        courier_receipt=pin(network["bt_hn"]))
    refused(snapshot, WrongUnitError, "wrong_unit",
            lambda: bagging.open_bag_contents(ctx, network["gd_hn"], bag, [envelope.number],
                                              new_scan(), clock.tick()))


def test_a_resolved_incident_cannot_be_resolved_twice_nor_by_another_unit(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    lost = register(ctx, network, document_number="16/KH-BNV")
    bag = bag_of(ctx, network, clock, envelope, lost)
    receive(ctx, network, clock, bag)
    opened = bagging.open_bag_contents(ctx, network["gd_hcm"], bag, [envelope.number],
                                       new_scan(), clock.tick())
    assert opened.incident is not None
    incident_id = opened.incident.id
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: resolve_incident(ctx, network["gd_hn"], incident_id, "không thuộc đơn vị"))
    resolve_incident(ctx, network["gd_hcm"], incident_id, "Đã đối chiếu")
    refused(snapshot, ValidationError, "invalid_field",
            lambda: resolve_incident(ctx, network["gd_hcm"], incident_id, "lần hai"))
    assert ctx.session.get(Incident, incident_id).status is IncidentStatus.RESOLVED


# ------------------------------------------------------------ addressee-only (rule 10)


def addressee_only(ctx: Ctx, net: Network, clock: Clock, **kw: Any) -> Envelope:
    """An envelope for cv_hcm only, carried until the recipient unit registered it."""
    envelope = register(ctx, net, is_addressee_only=True, recipient_username="cv_hcm", **kw)
    carry(ctx, net, clock, envelope, until="arrived")
    return envelope


def pass_on(ctx: Ctx, net: Network, clock: Clock, envelope: Envelope, to: str,
            authority: Authority = Authority.ADDRESSEE) -> custody.Recorded:
    return custody.pass_to_addressee(ctx, net["vt_hcm"], envelope.number, net[to],
                                     pin(net[to]), new_scan(), clock.tick(), authority=authority)


def test_an_addressee_only_envelope_is_passed_to_the_named_addressee(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = addressee_only(ctx, network, clock)
    assert envelope.recipient_name == "CV_HCM"  # filled in from the named user
    recorded = pass_on(ctx, network, clock, envelope, "cv_hcm")
    assert recorded.handoff.kind is EventKind.PASSED_TO_ADDRESSEE
    assert recorded.handoff.authority is Authority.ADDRESSEE
    assert recorded.handoff.to_user_id == network["cv_hcm"].id
    assert recorded.envelope.status is EnvelopeStatus.WITH_ADDRESSEE
    assert_chain_intact(ctx, recorded.envelope)


@pytest.mark.parametrize("who", ["bm_hcm", "head_hcm"])
def test_an_addressee_only_envelope_is_refused_to_anyone_but_the_addressee(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot, who: str) -> None:
    envelope = addressee_only(ctx, network, clock)
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: pass_on(ctx, network, clock, envelope, who))


@pytest.mark.parametrize("authority", [Authority.HEAD_OF_UNIT, Authority.AUTHORISED])
def test_the_head_of_unit_may_take_an_addressee_only_envelope_only_when_it_is_hoa_toc(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot,
        authority: Authority) -> None:
    standard = addressee_only(ctx, network, clock, document_number="20/KH-BNV")
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: pass_on(ctx, network, clock, standard, "head_hcm", authority))


@pytest.mark.parametrize("flash", [{"service": ServiceClass.FLASH},
                                   {"urgency": Urgency.FLASH}])
def test_a_hoa_toc_addressee_only_envelope_may_go_to_the_head_of_unit(
        ctx: Ctx, network: Network, clock: Clock, flash: dict[str, Any]) -> None:
    envelope = addressee_only(ctx, network, clock, **flash)
    recorded = pass_on(ctx, network, clock, envelope, "head_hcm", Authority.HEAD_OF_UNIT)
    assert recorded.handoff.authority is Authority.HEAD_OF_UNIT
    assert recorded.handoff.to_user_id == network["head_hcm"].id


def test_a_hoa_toc_addressee_only_envelope_goes_to_the_head_only_if_they_are_the_head(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = addressee_only(ctx, network, clock, service=ServiceClass.FLASH)
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: pass_on(ctx, network, clock, envelope, "bm_hcm", Authority.HEAD_OF_UNIT))


def test_an_addressee_only_envelope_is_never_passed_outside_the_recipient_unit(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = addressee_only(ctx, network, clock, service=ServiceClass.FLASH)
    refused(snapshot, WrongUnitError, "wrong_unit",
            lambda: pass_on(ctx, network, clock, envelope, "head_bnv", Authority.HEAD_OF_UNIT))


def test_an_ordinary_envelope_may_be_passed_to_anyone_in_the_recipient_unit(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope, until="arrived")
    recorded = pass_on(ctx, network, clock, envelope, "bm_hcm")
    assert recorded.handoff.to_user_id == network["bm_hcm"].id
