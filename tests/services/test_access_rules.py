"""Access rules found in review: who may report, replay, open on authority, record a subject."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from kt1.errors import (
    ForbiddenError,
    ScanIdConflictError,
    SubjectNotAllowedError,
    UnknownEnvelopeError,
    ValidationError,
)
from kt1.models.enums import Authority, Classification, EventKind, IncidentKind, ServiceClass
from kt1.services import custody
from kt1.services.context import Ctx
from kt1.services.incidents import report_incident
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def test_a_unit_that_never_dealt_with_an_envelope_cannot_open_an_incident_on_it(
        ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)  # BNV -> UBND-HCM, held at BNV
    before = snapshot()
    # UBND-HN may not see it: the same answer as a number that does not exist
    with pytest.raises(UnknownEnvelopeError):
        report_incident(ctx, network["vt_hn"], IncidentKind.DISCREPANCY, "thiếu 1 bì",
                        number=envelope.number)
    # UBND-HCM, its recipient, may see it but is no party to its current or next handover
    with pytest.raises(ForbiddenError):
        report_incident(ctx, network["vt_hcm"], IncidentKind.DISCREPANCY, "thiếu 1 bì",
                        number=envelope.number)
    assert snapshot() == before
    incident = report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE, "bì bị rách",
                               number=envelope.number)
    assert incident.sender_notified_at is None  # until someone of the sender opens it


def test_a_scan_id_replayed_by_another_person_is_a_conflict_not_a_replay(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    request = custody.HandoffRequest(
        number=envelope.number, kind=EventKind.ACCEPTED, scan_id=new_scan(),
        event_at=clock.tick(), giver=network["vt_bnv"], receiver=network["gd_hn"],
        receipt=pin(network["gd_hn"]), giver_receipt=pin(network["vt_bnv"]))
    custody.record_handoff(ctx, network["gd_hn"], request)
    before = snapshot()
    with pytest.raises(ScanIdConflictError):
        custody.record_handoff(ctx, network["gd2_hn"], request)
    assert snapshot() == before


def _arrived_for_named_person_without_account(ctx: Ctx, network: Network, clock: Clock,
                                              **kw: Any) -> Any:
    envelope = register(ctx, network, is_addressee_only=True, recipient_name="cv_hcm", **kw)
    carry(ctx, network, clock, envelope, until="arrived")
    return envelope


def test_without_an_account_the_addressee_is_matched_by_the_name_on_the_envelope(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = _arrived_for_named_person_without_account(ctx, network, clock)
    before = snapshot()
    with pytest.raises(ForbiddenError):
        custody.pass_to_addressee(ctx, network["vt_hcm"], envelope.number, network["bm_hcm"],
                                  pin(network["bm_hcm"]), new_scan(), clock.tick())
    assert snapshot() == before
    # the test network's full names are the upper-cased usernames: "CV_HCM"
    recorded = custody.pass_to_addressee(ctx, network["vt_hcm"], envelope.number,
                                         network["cv_hcm"], pin(network["cv_hcm"]), new_scan(),
                                         clock.tick())
    assert recorded.handoff.to_user_id == network["cv_hcm"].id


def test_an_authorised_person_needs_the_authorisation_written_down(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = _arrived_for_named_person_without_account(ctx, network, clock,
                                                         service=ServiceClass.FLASH)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        custody.pass_to_addressee(ctx, network["vt_hcm"], envelope.number, network["bm_hcm"],
                                  pin(network["bm_hcm"]), new_scan(), clock.tick(),
                                  authority=Authority.AUTHORISED)
    assert exc.value.details["field"] == "note"
    assert snapshot() == before
    recorded = custody.pass_to_addressee(
        ctx, network["vt_hcm"], envelope.number, network["bm_hcm"], pin(network["bm_hcm"]),
        new_scan(), clock.tick(), authority=Authority.AUTHORISED,
        note="Giấy ủy quyền số 12/UQ ngày 20/11/2026")
    assert recorded.handoff.authority is Authority.AUTHORISED


def test_a_backdated_registration_cannot_record_a_subject_the_rule_of_today_forbids(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    before = snapshot()
    with pytest.raises(SubjectNotAllowedError):
        register(ctx, network, classification=Classification.TOP_SECRET,
                 subject="Kế hoạch", subject_approved_by="Đồng chí Giám đốc",
                 event_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC))
    assert snapshot() == before
