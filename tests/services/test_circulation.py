"""Internal circulation inside an agency (luân chuyển nội bộ, docs/rules.md rule A7):
signed handoffs between people of the unit that holds the document, judged by the write
path and reported by the verifier alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kt1.errors import (
    AcknowledgementMissingError,
    AddresseeFirstError,
    DirectionNeedsHeadError,
    EventOrderError,
    HandedToSelfError,
    KT1Error,
    WrongUnitError,
)
from kt1.models import Envelope
from kt1.models.enums import AckMethod, EnvelopeStatus, EventKind
from kt1.services import custody
from kt1.services.context import Ctx
from kt1.services.verify import verify
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def circulate(ctx: Ctx, net: Network, clock: Clock, number: str, kind: EventKind,
              giver: str, receiver: str, *, receipt: bool = True, note: str = ""
              ) -> custody.Recorded:
    return custody.record_handoff(ctx, net[giver], custody.HandoffRequest(
        number=number, kind=kind, scan_id=new_scan(), event_at=clock.tick(),
        giver=net[giver], receiver=net[receiver],
        receipt=pin(net[receiver]) if receipt else None, note=note))


def refused(snapshot: Snapshot, error: type[KT1Error], call: Callable[[], object]) -> KT1Error:
    before = snapshot()
    with pytest.raises(error) as exc:
        call()
    assert snapshot() == before
    return exc.value


def findings(ctx: Ctx, number: str) -> set[str]:
    ctx.session.rollback()
    (report,) = verify(ctx, [number])
    return {f.code for f in report.findings}


def test_after_the_incoming_register_the_document_goes_to_the_head_the_officer_and_back(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope)
    number = envelope.number
    steps = [(EventKind.CIRCULATED_FOR_DIRECTION, "vt_hcm", "head_hcm"),
             (EventKind.CIRCULATED_FOR_HANDLING, "head_hcm", "cv_hcm"),
             (EventKind.CIRCULATED_TO_REGISTRY, "cv_hcm", "vt_hcm")]
    for kind, giver, receiver in steps:
        note = "Giao đ/c Lan xử lý, báo cáo trước 05/12" if giver == "head_hcm" else ""
        done = circulate(ctx, network, clock, number, kind, giver, receiver, note=note)
        assert done.envelope.status is EnvelopeStatus.ARRIVED  # the stage does not change
        assert done.envelope.holder_user_id == network[receiver].id
        assert done.handoff.ack_user_id == network[receiver].id
    chain = custody.timeline(ctx, ctx.session.get(Envelope, envelope.id))  # type: ignore[arg-type]
    assert [h.kind for h in chain[-3:]] == [k for k, _, _ in steps]
    assert chain[-2].note.startswith("Giao đ/c Lan")
    assert findings(ctx, number) == set()


def test_the_sender_circulates_before_the_post_office_accepts(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    circulate(ctx, network, clock, envelope.number, EventKind.CIRCULATED_FOR_DIRECTION,
              "vt_bnv", "head_bnv")
    circulate(ctx, network, clock, envelope.number, EventKind.CIRCULATED_TO_REGISTRY,
              "head_bnv", "vt_bnv")
    carry(ctx, network, clock, ctx.session.get(Envelope, envelope.id),  # type: ignore[arg-type]
          until="accepted")
    assert findings(ctx, envelope.number) == set()


def test_circulation_refusals_write_nothing(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    number = envelope.number
    # before the incoming register the recipient's staff cannot circulate it
    carry(ctx, network, clock, envelope, until="delivered")
    refused(snapshot, EventOrderError, lambda: circulate(
        ctx, network, clock, number, EventKind.CIRCULATED_FOR_HANDLING, "vt_hcm", "cv_hcm"))
    custody.register_arrival(ctx, network["vt_hcm"], number, new_scan(), clock.tick())
    err = refused(snapshot, DirectionNeedsHeadError, lambda: circulate(
        ctx, network, clock, number, EventKind.CIRCULATED_FOR_DIRECTION, "vt_hcm", "cv_hcm"))
    assert err.slug == "direction_needs_head" and "cv_hcm" in err.message_local
    refused(snapshot, WrongUnitError, lambda: circulate(
        ctx, network, clock, number, EventKind.CIRCULATED_FOR_HANDLING, "vt_hcm", "vt_hn"))
    refused(snapshot, HandedToSelfError, lambda: circulate(
        ctx, network, clock, number, EventKind.CIRCULATED_FOR_HANDLING, "vt_hcm", "vt_hcm"))
    refused(snapshot, AcknowledgementMissingError, lambda: circulate(
        ctx, network, clock, number, EventKind.CIRCULATED_FOR_HANDLING, "vt_hcm", "cv_hcm",
        receipt=False))


def test_an_addressee_only_envelope_circulates_only_after_the_named_person_has_it(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network, recipient_username="cv_hcm", is_addressee_only=True)
    carry(ctx, network, clock, envelope)
    number = envelope.number
    refused(snapshot, AddresseeFirstError, lambda: circulate(
        ctx, network, clock, number, EventKind.CIRCULATED_FOR_DIRECTION, "vt_hcm", "head_hcm"))
    custody.pass_to_addressee(ctx, network["vt_hcm"], number, network["cv_hcm"],
                              pin(network["cv_hcm"]), new_scan(), clock.tick())
    circulate(ctx, network, clock, number, EventKind.CIRCULATED_FOR_DIRECTION,
              "cv_hcm", "head_hcm")
    assert findings(ctx, number) == set()


def test_the_verifier_reports_a_forged_circulation(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope)
    e = custody.load_envelope(ctx, envelope.number, lock=True)
    officer, clerk, other = network["cv_hcm"], network["vt_hcm"], network["vt_hn"]

    def forge(kind: EventKind, giver: Any, receiver: Any) -> None:
        # written past the write path's judgement (judged=True), as a forger would
        custody.append_link(ctx, e, custody.Link(
            kind=kind, scan_id=new_scan(), event_at=clock.tick(), recorded_by=giver,
            from_unit_id=giver.unit_id, from_user_id=giver.id, to_unit_id=receiver.unit_id,
            to_user_id=receiver.id, ack_user_id=receiver.id, ack_method=AckMethod.PIN),
            judged=True)

    forge(EventKind.CIRCULATED_FOR_DIRECTION, clerk, officer)  # not a head
    forge(EventKind.CIRCULATED_TO_REGISTRY, officer, officer)  # to oneself
    forge(EventKind.CIRCULATED_FOR_HANDLING, officer, other)  # out of the unit
    forge(EventKind.HANDED_OVER, other, clerk)  # a hand-over across units
    ctx.session.commit()
    assert {"direction_not_by_head", "circulated_to_self", "circulated_outside_unit",
            "handover_outside_unit"} <= findings(ctx, envelope.number)
