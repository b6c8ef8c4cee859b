"""Bad input gets a clear error and writes nothing (issue 2, "Bad input").

Every test drives the real services on a real database, asserts the error's stable slug,
and compares every row of every table before and after the refused call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt1.errors import (
    AcknowledgementInvalidError,
    AcknowledgementMissingError,
    BagAlreadySealedError,
    BagStateError,
    CheckDigitError,
    DiscrepancyOpenError,
    EnvelopeInBagError,
    EscortRequiredError,
    EventOrderError,
    EventTimeBackwardsError,
    EventTimeFutureError,
    ForbiddenError,
    KT1Error,
    NotCurrentHolderError,
    ReportRequiredError,
    SealMismatchError,
    SubjectApprovalRequiredError,
    SubjectNotAllowedError,
    TrackerRequiredError,
    UnknownEnvelopeError,
    UnknownUnitError,
    ValidationError,
    WrongUnitError,
)
from kt1.models import Envelope
from kt1.models.enums import (
    AckMethod,
    Classification,
    EventKind,
    IncidentKind,
    SealState,
    ServiceClass,
)
from kt1.services import bagging, custody
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.handover import prepare_sheet
from kt1.services.identifiers import format_number
from kt1.services.incidents import report_incident
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def refused(snapshot: Snapshot, error: type[KT1Error], slug: str,
            call: Callable[[], object]) -> KT1Error:
    """Run ``call``, expect ``error`` with ``slug``, and prove no row changed."""
    before = snapshot()
    with pytest.raises(error) as exc:
        call()
    assert exc.value.slug == slug
    assert exc.value.to_dict()["error"] == slug
    assert snapshot() == before
    return exc.value


def accept(ctx: Ctx, net: Network, number: str, event_at: datetime, **kw: Any) -> object:
    """The counter clerk gd_hn accepts ``number`` from vt_bnv (overridable)."""
    clerk = kw.pop("clerk", net["gd_hn"])
    giver = kw.pop("giver", net["vt_bnv"])
    receipt = kw.pop("receipt", pin(clerk))
    kw.setdefault("giver_receipt", pin(giver))
    return custody.accept_at_counter(ctx, clerk, number, giver, receipt,
                                     kw.pop("scan_id", new_scan()), event_at, **kw)


@pytest.fixture
def envelope(ctx: Ctx, network: Network, clock: Clock) -> Envelope:
    """A Tối mật envelope just registered at BNV, held by the registry clerk vt_bnv."""
    return register(ctx, network)


# ------------------------------------------------------------------------- numbers


def test_a_number_with_a_wrong_check_digit_is_refused_and_nothing_is_written(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    good = envelope.number
    bad = good[:10] + str((int(good[10]) + 1) % 10) + good[11:]
    err = refused(snapshot, CheckDigitError, "check_digit_invalid",
                  lambda: accept(ctx, network, bad, clock.tick()))
    assert err.details == {"number": bad}


def test_an_unknown_number_is_refused_and_nothing_is_written(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    s = ctx.settings
    unknown = format_number(s.service_letters, 99_999_990, s.country_code)
    err = refused(snapshot, UnknownEnvelopeError, "unknown_envelope",
                  lambda: accept(ctx, network, unknown, clock.tick()))
    assert err.status == 404


def test_a_malformed_scan_id_is_refused_and_nothing_is_written(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: accept(ctx, network, envelope.number, clock.tick(), scan_id="a b"))
    assert err.details["field"] == "scan_id"


# ------------------------------------------------------------------ who holds it


def test_a_handoff_from_someone_who_does_not_hold_the_envelope_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    # head_bnv works in the same unit as the holder vt_bnv, but does not hold it. The post
    # office has not been shown the envelope: it answers as for a number that does not exist.
    refused(snapshot, UnknownEnvelopeError, "unknown_envelope",
            lambda: accept(ctx, network, envelope.number, clock.tick(),
                           giver=network["head_bnv"]))
    # Once BNV lists it on a handover sheet for BC-HN, the office may see it and is told why.
    prepare_sheet(ctx, network["vt_bnv"], [envelope.number], "BC-HN")
    err = refused(snapshot, NotCurrentHolderError, "not_current_holder",
                  lambda: accept(ctx, network, envelope.number, clock.tick(),
                                 giver=network["head_bnv"]))
    assert err.details["giver"] == "head_bnv"
    assert err.details["holder"] == "vt_bnv@BNV"


def test_a_courier_cannot_deliver_an_envelope_still_at_the_counter(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="accepted")
    refused(snapshot, NotCurrentHolderError, "not_current_holder",
            lambda: custody.deliver(ctx, network["bt_hn"], envelope.number,
                                    network["vt_hcm"], pin(network["vt_hcm"]), new_scan(),
                                    clock.tick()))


def test_an_event_of_ones_own_is_refused_for_someone_other_than_the_holder(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="delivered")
    # cv_hcm works at the recipient unit but vt_hcm signed for the envelope.
    refused(snapshot, NotCurrentHolderError, "not_current_holder",
            lambda: custody.register_arrival(ctx, network["cv_hcm"], envelope.number,
                                             new_scan(), clock.tick()))


# ------------------------------------------------------------------ acknowledgement


def test_a_handoff_without_the_receivers_acknowledgement_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    refused(snapshot, AcknowledgementMissingError, "acknowledgement_missing",
            lambda: accept(ctx, network, envelope.number, clock.tick(), receipt=None))


def test_an_acknowledgement_signed_by_someone_other_than_the_receiver_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    refused(snapshot, AcknowledgementInvalidError, "acknowledgement_invalid",
            lambda: accept(ctx, network, envelope.number, clock.tick(),
                           receipt=pin(network["gd2_hn"])))


@pytest.mark.parametrize(("method", "secret", "reference"), [
    (AckMethod.PIN, "0000", None),
    (AckMethod.PIN, "", None),
    (AckMethod.BADGE, "B000000000000000000000000", None),
])
def test_an_acknowledgement_with_a_wrong_secret_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope, snapshot: Snapshot,
        method: AckMethod, secret: str | None, reference: str | None) -> None:
    receipt = Receipt(user=network["gd_hn"], method=method, secret=secret,
                      reference=reference)
    refused(snapshot, AcknowledgementInvalidError, "acknowledgement_invalid",
            lambda: accept(ctx, network, envelope.number, clock.tick(), receipt=receipt))


def test_the_receivers_badge_is_a_valid_acknowledgement(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope) -> None:
    # The control for the refusals above: the same call with the right secret is accepted.
    receipt = Receipt(user=network["gd_hn"], method=AckMethod.BADGE,
                      secret=network.badges["gd_hn"])
    recorded = accept(ctx, network, envelope.number, clock.tick(), receipt=receipt)
    assert isinstance(recorded, custody.Recorded)
    assert recorded.handoff.ack_method is AckMethod.BADGE
    assert recorded.handoff.ack_user_id == network["gd_hn"].id


# ------------------------------------------------------------------------- bags


def test_a_bag_seal_number_that_differs_from_the_recorded_one_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="dispatched", seal="NP-000123")["bag"]
    err = refused(snapshot, SealMismatchError, "seal_mismatch",
                  lambda: bagging.receive_bag(ctx, network["gd_hcm"], bag, network["bt_hn"],
                                              "NP-000124", pin(network["gd_hcm"]),
                                              new_scan(), clock.tick(60),
                                              courier_receipt=pin(network["bt_hn"])))
    assert "NP-000123" not in err.message  # the recorded number is not given away


def test_a_confirmed_seal_anomaly_without_a_report_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="dispatched")["bag"]
    refused(snapshot, ReportRequiredError, "report_required",
            lambda: bagging.receive_bag(ctx, network["gd_hcm"], bag, network["bt_hn"],
                                        "NP-000999", pin(network["gd_hcm"]), new_scan(),
                                        clock.tick(60), seal_state=SealState.BROKEN,
                                        courier_receipt=pin(network["bt_hn"])))


def test_a_second_seal_on_a_bag_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="sealed", seal="NP-000123")["bag"]
    err = refused(snapshot, BagAlreadySealedError, "bag_already_sealed",
                  lambda: bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-000777",
                                           new_scan(), clock.tick(), tracker_id="GPS-1"))
    assert err.details == {"bag": bag, "seal_number": "NP-000123"}


def test_an_envelope_cannot_be_added_to_a_second_bag(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    first = carry(ctx, network, clock, envelope, until="bagged")["bag"]
    second = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    assert second != first
    err = refused(snapshot, EnvelopeInBagError, "envelope_in_bag",
                  lambda: bagging.add_to_bag(ctx, network["gd_hn"], second, envelope.number,
                                             new_scan(), clock.tick()))
    assert err.details == {"number": envelope.number, "bag": first}


def test_a_bagged_envelope_cannot_be_handed_over_on_its_own(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="sealed")
    refused(snapshot, EnvelopeInBagError, "envelope_in_bag",
            lambda: custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
                number=envelope.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
                event_at=clock.tick(), giver=network["gd_hn"], receiver=network["bt_hn"],
                receipt=pin(network["bt_hn"]))))


def test_a_bag_holding_a_top_secret_item_cannot_be_sealed_without_a_tracker(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    secret = register(ctx, network, classification=Classification.TOP_SECRET)
    bag = carry(ctx, network, clock, secret, until="bagged")["bag"]
    refused(snapshot, TrackerRequiredError, "tracker_required",
            lambda: bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-000123", new_scan(),
                                     clock.tick(), tracker_id=None))


def test_a_bag_of_lesser_items_may_be_sealed_without_a_tracker(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope) -> None:
    bag = carry(ctx, network, clock, envelope, until="bagged")["bag"]
    result = bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-000123", new_scan(),
                              clock.tick(), tracker_id=None)
    assert result.bag.tracker_id is None and result.bag.seal_number == "NP-000123"


def test_a_bag_on_a_non_dedicated_vehicle_without_an_escort_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="sealed")["bag"]
    refused(snapshot, EscortRequiredError, "escort_required",
            lambda: bagging.dispatch_bag(ctx, network["gd_hn"], bag, network["bt_hn"],
                                         pin(network["bt_hn"]), new_scan(), clock.tick(),
                                         vehicle="51B-99999", is_dedicated_vehicle=False,
                                         escort_name="  "))


def test_an_unsealed_bag_cannot_be_dispatched(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="bagged")["bag"]
    refused(snapshot, BagStateError, "bag_state_invalid",
            lambda: bagging.dispatch_bag(ctx, network["gd_hn"], bag, network["bt_hn"],
                                         pin(network["bt_hn"]), new_scan(), clock.tick(),
                                         vehicle="29A-12345", is_dedicated_vehicle=True))


# ------------------------------------------------------------------------- time


def test_an_event_time_in_the_future_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    skew = ctx.settings.max_clock_skew
    refused(snapshot, EventTimeFutureError, "event_time_future",
            lambda: accept(ctx, network, envelope.number,
                           clock.now + skew + timedelta(seconds=1)))


def test_a_device_clock_a_little_ahead_within_the_allowed_skew_is_accepted(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope) -> None:
    at = clock.now + ctx.settings.max_clock_skew
    recorded = accept(ctx, network, envelope.number, at)
    assert isinstance(recorded, custody.Recorded)
    assert recorded.handoff.event_at == at


def test_a_registration_dated_in_the_future_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    refused(snapshot, EventTimeFutureError, "event_time_future",
            lambda: register(ctx, network, event_at=clock.now + timedelta(hours=1)))


def test_an_event_time_before_the_previous_event_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    registered_at = clock.now
    clock.tick(30)
    refused(snapshot, EventTimeBackwardsError, "event_time_backwards",
            lambda: accept(ctx, network, envelope.number,
                           registered_at - timedelta(microseconds=1)))


def test_a_bag_event_before_the_last_event_of_any_envelope_inside_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="bagged")["bag"]
    bagged_at = clock.now
    clock.tick(30)
    refused(snapshot, EventTimeBackwardsError, "event_time_backwards",
            lambda: bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-1", new_scan(),
                                     bagged_at - timedelta(minutes=1), tracker_id="GPS-1"))


def test_an_event_time_without_a_time_zone_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    naive = clock.tick().replace(tzinfo=None)
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: accept(ctx, network, envelope.number, naive))
    assert err.details["field"] == "event_at"


def test_a_timed_registration_with_a_naive_event_time_is_refused_not_crashed(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: register(ctx, network, service=ServiceClass.TIMED,
                                   agreed_at=clock.now + timedelta(days=1),
                                   event_at=clock.now.replace(tzinfo=None)))
    assert err.details["field"] == "event_at"


# ----------------------------------------------------------------- units and roles


def test_a_user_of_a_third_unit_cannot_record_a_handoff_between_two_others(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    # BC-HCM never saw the envelope: the same answer as a number that does not exist.
    refused(snapshot, UnknownEnvelopeError, "unknown_envelope",
            lambda: custody.record_handoff(ctx, network["gd_hcm"], custody.HandoffRequest(
                number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
                event_at=clock.tick(), giver=network["vt_bnv"],
                receiver=network["gd_hn"], receipt=pin(network["gd_hn"]))))
    # A unit that may see it (the sender's own) still cannot record a handoff between two
    # others: cv_hcm is of a third unit, but the envelope is addressed to UBND-HCM.
    err = refused(snapshot, WrongUnitError, "wrong_unit",
                  lambda: custody.record_handoff(ctx, network["cv_hcm"], custody.HandoffRequest(
                      number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
                      event_at=clock.tick(), giver=network["vt_bnv"],
                      receiver=network["gd_hn"], receipt=pin(network["gd_hn"]),
                      giver_receipt=pin(network["vt_bnv"]))))
    assert err.details["username"] == "cv_hcm"


def test_an_envelope_cannot_be_delivered_to_a_clerk_of_another_agency(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="out_for_delivery")
    err = refused(snapshot, WrongUnitError, "wrong_unit",
                  lambda: custody.deliver(ctx, network["bt_hcm"], envelope.number,
                                          network["vt_hn"], pin(network["vt_hn"]),
                                          new_scan(), clock.tick()))
    assert err.details == {"username": "vt_hn", "unit": "UBND-HCM"}


def test_a_clerk_of_another_unit_cannot_register_an_arrival(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="delivered")
    # UBND-HN is neither sender nor recipient: it may not even learn that the number exists.
    refused(snapshot, UnknownEnvelopeError, "unknown_envelope",
            lambda: custody.register_arrival(ctx, network["vt_hn"], envelope.number,
                                             new_scan(), clock.tick()))
    # The sender's clerk may see it, but registers no arrival of an envelope it sent.
    refused(snapshot, WrongUnitError, "wrong_unit",
            lambda: custody.register_arrival(ctx, network["vt_bnv"], envelope.number,
                                             new_scan(), clock.tick()))


def test_a_counter_clerk_of_another_post_office_cannot_dispatch_its_bag(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    bag = carry(ctx, network, clock, envelope, until="sealed")["bag"]
    refused(snapshot, WrongUnitError, "wrong_unit",
            lambda: bagging.dispatch_bag(ctx, network["gd_hcm"], bag, network["bt_hn"],
                                         pin(network["bt_hn"]), new_scan(), clock.tick(),
                                         vehicle="29A-12345", is_dedicated_vehicle=True))


def test_a_counter_clerk_of_another_post_office_cannot_add_to_its_bag(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="accepted")
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    refused(snapshot, WrongUnitError, "wrong_unit",
            lambda: bagging.add_to_bag(ctx, network["gd_hcm"], bag, envelope.number,
                                       new_scan(), clock.tick()))


@pytest.mark.parametrize("who", ["gd_hn", "bt_hn", "bm_bnv", "admin"])
def test_only_a_registry_clerk_registers_an_envelope(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot, who: str) -> None:
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: register(ctx, network, clerk=who))


@pytest.mark.parametrize("who", ["admin", "bm_bnv"])
def test_administrators_and_security_officers_do_not_move_envelopes(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope, snapshot: Snapshot,
        who: str) -> None:
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: custody.record_handoff(ctx, network[who], custody.HandoffRequest(
                number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
                event_at=clock.tick(), giver=network["vt_bnv"],
                receiver=network["gd_hn"], receipt=pin(network["gd_hn"]))))


def test_a_courier_cannot_accept_an_envelope_at_the_counter(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: accept(ctx, network, envelope.number, clock.tick(),
                           clerk=network["bt_hn"]))


def test_an_inactive_receiver_cannot_sign(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    network["gd2_hn"].is_active = False
    ctx.session.commit()
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: custody.record_handoff(ctx, network["vt_bnv"], custody.HandoffRequest(
                number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
                event_at=clock.tick(), giver=network["vt_bnv"],
                receiver=network["gd2_hn"], receipt=pin(network["gd2_hn"]))))


def test_an_inactive_user_cannot_record_a_handoff(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    network["gd_hn"].is_active = False
    ctx.session.commit()
    refused(snapshot, ForbiddenError, "forbidden",
            lambda: accept(ctx, network, envelope.number, clock.tick()))


# ---------------------------------------------------------------------- fields


@pytest.mark.parametrize(("field", "value"), [
    ("classification", "ultra_secret"),
    ("classification", "Tuyệt mật"),
    ("service", "express"),
    ("urgency", "whenever"),
])
def test_an_unknown_classification_service_or_urgency_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot, field: str,
        value: str) -> None:
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: register(ctx, network, **{field: value}))
    assert err.details["field"] == field
    assert "top_secret" in err.message or "standard" in err.message or "normal" in err.message


@pytest.mark.parametrize(("field", "value"), [
    ("document_number", "1" * 65),
    ("recipient_name", "Nguyễn " * 20),
    ("document_number", "15/KH\x00-BNV"),
    ("document_number", "15/KH-BNV\x1b[2J"),
    ("recipient_name", "Nguyễn Văn A\u202egnắt"),  # right-to-left override hides text
    ("recipient_name", "Nguyễn\u200bVăn A"),  # zero-width space
])
def test_an_over_long_or_control_character_registration_field_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot, field: str,
        value: str) -> None:
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: register(ctx, network, **{field: value}))
    assert err.details["field"] == field
    assert value not in err.message  # only the field name goes into the message


@pytest.mark.parametrize(("field", "value"), [
    ("location", "x" * 201),
    ("device", "d" * 65),
    ("note", "ghi chú\u0007"),
    ("location", "Quầy 1\r\nQuầy 2"),
])
def test_an_over_long_or_control_character_handoff_field_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope, snapshot: Snapshot,
        field: str, value: str) -> None:
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: accept(ctx, network, envelope.number, clock.tick(),
                                 **{field: value}))
    assert err.details["field"] == field


def test_the_longest_allowed_handoff_field_is_accepted(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope) -> None:
    recorded = accept(ctx, network, envelope.number, clock.tick(), location="ầ" * 200)
    assert isinstance(recorded, custody.Recorded)
    assert recorded.handoff.location == "ầ" * 200


def test_an_unknown_recipient_unit_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    refused(snapshot, UnknownUnitError, "unknown_unit",
            lambda: register(ctx, network, recipient="NOWHERE"))


def test_a_post_office_cannot_be_the_recipient_of_an_envelope(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: register(ctx, network, recipient="BC-HCM"))
    assert err.details["field"] == "recipient_unit"


# -------------------------------------------------------------------- order and rules


def test_an_event_out_of_order_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    # Registering an arrival of an envelope that has not even left the sender.
    err = refused(snapshot, EventOrderError, "event_out_of_order",
                  lambda: custody.register_arrival(ctx, network["vt_bnv"], envelope.number,
                                                   new_scan(), clock.tick()))
    assert err.details == {"kind": "registered_incoming", "status": "registered"}


def test_a_delivery_that_skips_going_out_for_delivery_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="accepted")
    refused(snapshot, EventOrderError, "event_out_of_order",
            lambda: custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
                number=envelope.number, kind=EventKind.DELIVERED, scan_id=new_scan(),
                event_at=clock.tick(), giver=network["gd_hn"], receiver=network["vt_hcm"],
                receipt=pin(network["vt_hcm"]))))


def test_a_bag_event_sent_as_a_single_handoff_is_refused(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    carry(ctx, network, clock, envelope, until="accepted")
    err = refused(snapshot, ValidationError, "invalid_field",
                  lambda: custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
                      number=envelope.number, kind=EventKind.BAGGED, scan_id=new_scan(),
                      event_at=clock.tick())))
    assert err.details["field"] == "kind"


def test_a_receipt_is_refused_while_a_discrepancy_is_open(
        ctx: Ctx, network: Network, clock: Clock, envelope: Envelope,
        snapshot: Snapshot) -> None:
    # The counter clerk counts before signing and finds the copies short (rule 6); the agency
    # listed the envelope for BC-HN, which makes the office a party to its next handover.
    prepare_sheet(ctx, network["vt_bnv"], [envelope.number], "BC-HN")
    report_incident(ctx, network["gd_hn"], IncidentKind.DISCREPANCY,
                    "Bảng kê ghi 2 bản, nhận 1 bản", number=envelope.number)
    refused(snapshot, DiscrepancyOpenError, "discrepancy_open",
            lambda: accept(ctx, network, envelope.number, clock.tick()))


def test_a_top_secret_subject_is_not_recorded_under_the_2026_decree(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    assert clock.now.date() > datetime(2026, 3, 1, tzinfo=UTC).date()
    err = refused(snapshot, SubjectNotAllowedError, "subject_not_allowed",
                  lambda: register(ctx, network, classification=Classification.TOP_SECRET,
                                   subject="Phương án tác chiến", subject_approved_by="Bộ trưởng"))
    assert "Phương án" not in err.message and "Phương án" not in err.message_local


def test_a_top_secret_subject_needs_the_classifiers_approval_under_the_2020_decree(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    clock.now = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    refused(snapshot, SubjectApprovalRequiredError, "subject_approval_required",
            lambda: register(ctx, network, classification=Classification.TOP_SECRET,
                             subject="Phương án tác chiến"))
