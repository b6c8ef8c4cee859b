"""Copies as tracked items (issue 12 item 1; docs/domain.md §8, docs/rules.md P1 to P3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from kt1.errors import KT1Error
from kt1.models import CopyApprover, Envelope, Handoff
from kt1.models.enums import (
    CopyMethod,
    EnvelopeStatus,
    EventKind,
    Role,
    Secrecy,
)
from kt1.services.context import Ctx
from kt1.services.copies import (
    add_approver,
    copy_register,
    entitled_approvers,
    make_copies,
    remove_approver,
)
from kt1.services.identifiers import format_number
from kt1.services.verify import verify
from tests.conftest import Clock, Network, new_scan
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def refused(snapshot: Snapshot, slug: str, call: Callable[[], object]) -> KT1Error:
    """Run ``call``, expect a refusal with ``slug``, and prove no row changed."""
    before = snapshot()
    with pytest.raises(KT1Error) as exc:
        call()
    assert exc.value.slug == slug, exc.value.to_dict()
    assert exc.value.message_local and "{" not in exc.value.message_local
    assert snapshot() == before
    return exc.value


def codes_of(ctx: Ctx, number: str) -> list[str]:
    ctx.session.rollback()
    (report,) = verify(ctx, [number])
    return report.codes


def copy(ctx: Ctx, net: Network, number: str, **kw: Any) -> list[Envelope]:
    clerk = kw.pop("clerk", "vt_bnv")
    kw.setdefault("approved_by", "head_bnv")
    return make_copies(ctx, net[clerk], number, **kw)


# ------------------------------------------------------------------ the happy path


def test_three_copies_are_items_of_their_own_numbered_1_3_to_3_3(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network, document_number="15/KH-BNV",
                        document_date=date(2026, 11, 20))
    copies = copy(ctx, network, original.number, count=3, method="extract")
    assert [c.copy_label for c in copies] == ["Bản số 1/3", "Bản số 2/3", "Bản số 3/3"]
    assert len({c.number for c in copies} | {original.number}) == 4
    assert [c.copy_register_seq for c in copies] == [1, 2, 3]
    assert {c.copy_register_year for c in copies} == {2026}
    head = network["head_bnv"]
    for c in copies:
        assert c.copy_of_id == original.id
        assert c.copy_approved_by_id == head.id
        assert c.copy_approved_on == date(2026, 11, 23)  # today in Vietnam
        assert c.copy_method is CopyMethod.EXTRACT
        assert (c.classification, c.mark, c.layers) == (
            original.classification, original.mark, original.layers)
        assert (c.document_number, c.document_date) == ("15/KH-BNV", date(2026, 11, 20))
        assert (c.classified_on, c.protection_until) == (
            original.classified_on, original.protection_until)
        assert c.protection_until is not None
        assert c.recipient_unit.code == "UBND-HCM"  # the original's recipient
        assert c.sender_unit.code == "BNV" and c.status is EnvelopeStatus.REGISTERED
        assert c.holder_user_id == network["vt_bnv"].id
        assert c.subject_ciphertext is None
        assert (c.signer_name, c.classification_basis) == (
            original.signer_name, original.classification_basis)
        first = ctx.session.execute(select(Handoff).where(
            Handoff.envelope_id == c.id)).scalar_one()
        assert first.kind is EventKind.REGISTERED_OUTGOING
        assert first.to_user_id == network["vt_bnv"].id
    # each copy is in the outgoing register too, after the original
    assert [c.register_seq for c in copies] == [original.register_seq + k for k in (1, 2, 3)]
    for number in [original.number, *(c.number for c in copies)]:
        assert codes_of(ctx, number) == []


def test_copy_numbers_continue_across_approvals(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network)
    copy(ctx, network, original.number, count=3)
    later = copy(ctx, network, original.number, count=2)
    assert [c.copy_label for c in later] == ["Bản số 4/5", "Bản số 5/5"]
    assert [c.copy_register_seq for c in later] == [4, 5]
    # another document's copies start again at 1, the unit's register goes on
    other = copy(ctx, network, register(ctx, network).number)
    assert other[0].copy_label == "Bản số 1/1" and other[0].copy_register_seq == 6


def test_a_copy_numbered_on_paper_is_registered_with_its_number(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network)
    (first,) = copy(ctx, network, original.number, copy_no=1)
    assert first.copy_label == "Bản số 1/1"
    err = refused(snapshot, "copy_number_taken",
                  lambda: copy(ctx, network, original.number, copy_no=1))
    assert "Bản số 1" in err.message_local
    refused(snapshot, "copy_number_out_of_sequence",
            lambda: copy(ctx, network, original.number, copy_no=3))
    refused(snapshot, "invalid_field", lambda: copy(ctx, network, original.number, copy_no=0))
    (second,) = copy(ctx, network, original.number, copy_no=2)
    assert second.copy_label == "Bản số 2/2"


def test_a_received_document_is_copied_for_the_unit_itself(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network)
    carry(ctx, network, clock, original, until="arrived")
    (c,) = copy(ctx, network, original.number, clerk="cv_hcm", approved_by="head_hcm",
                recipient_name="Phòng Tổng hợp")
    assert c.recipient_unit.code == "UBND-HCM" and c.sender_unit.code == "UBND-HCM"
    assert c.recipient_name == "Phòng Tổng hợp"
    assert codes_of(ctx, c.number) == []
    # the BNV's clerk no longer holds it: as if it did not exist
    with pytest.raises(KT1Error) as exc:
        copy(ctx, network, original.number)
    assert exc.value.slug == "unknown_envelope"


def test_a_replay_returns_the_same_copies_and_other_content_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network)
    scan = new_scan()
    made = copy(ctx, network, original.number, count=2, scan_id=scan)
    clock.tick()
    again = copy(ctx, network, original.number, count=2, scan_id=scan)
    assert [c.number for c in again] == [c.number for c in made]
    assert ctx.session.execute(select(func.count()).select_from(Envelope).where(
        Envelope.copy_of_id == original.id)).scalar() == 2
    refused(snapshot, "scan_id_conflict",
            lambda: copy(ctx, network, original.number, count=3, scan_id=scan))


def test_a_copy_travels_like_any_envelope_and_verifies_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network)
    (c,) = copy(ctx, network, original.number)
    carry(ctx, network, clock, c, until="accepted")
    ctx.session.refresh(c)
    assert c.status is EnvelopeStatus.ACCEPTED and c.holder_unit.code == "BC-HN"
    assert codes_of(ctx, c.number) == []
    carry_rest = register(ctx, network)  # the rest of the way, on a fresh copy
    (c2,) = copy(ctx, network, carry_rest.number)
    carry(ctx, network, clock, c2)
    assert codes_of(ctx, c2.number) == []


def test_a_copy_edited_afterwards_breaks_its_chain(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network)
    copies = copy(ctx, network, original.number, count=2)
    ctx.session.execute(update(Envelope).where(Envelope.id == copies[1].id).values(copy_no=7))
    ctx.session.commit()
    assert "chain_hash_mismatch" in codes_of(ctx, copies[1].number)
    assert codes_of(ctx, copies[0].number) == []


# ------------------------------------------------------------------ refusals


def test_only_a_clerk_of_the_unit_holding_the_original_makes_copies(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network)
    never = format_number("KT", 99_999_990, "VN")
    nothing = refused(snapshot, "unknown_envelope",
                      lambda: copy(ctx, network, never, approved_by="head_bnv"))
    for clerk, approver in (("vt_hcm", "head_hcm"), ("vt_hn", "head_bnv"),
                            ("bm_bnv", "head_bnv"), ("gd_hn", "head_bnv")):
        err = refused(snapshot, "unknown_envelope", lambda c=clerk, a=approver: copy(
            ctx, network, original.number, clerk=c, approved_by=a))
        assert err.message_local == nothing.message_local.replace(never, original.number)
        assert err.status == nothing.status
    carry(ctx, network, clock, original, until="accepted")  # now at the post office
    refused(snapshot, "unknown_envelope", lambda: copy(ctx, network, original.number))


def test_a_destroyed_document_is_not_copied(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network)
    ctx.session.execute(update(Envelope).where(Envelope.id == original.id)
                        .values(secrecy=Secrecy.DESTROYED))
    ctx.session.commit()
    refused(snapshot, "original_destroyed", lambda: copy(ctx, network, original.number))
    ctx.session.execute(update(Envelope).where(Envelope.id == original.id)
                        .values(secrecy=Secrecy.PROTECTED, status=EnvelopeStatus.DESTROYED))
    ctx.session.commit()
    refused(snapshot, "original_destroyed", lambda: copy(ctx, network, original.number))


def test_a_document_marked_no_copies_refuses_them(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network, copy_forbidden=True)
    err = refused(snapshot, "copy_forbidden", lambda: copy(ctx, network, original.number))
    assert "Không được sao chụp" in err.message_local


def test_a_copy_of_a_copy_is_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    (c,) = copy(ctx, network, register(ctx, network).number)
    refused(snapshot, "copy_of_copy", lambda: copy(ctx, network, c.number))


def test_only_an_entitled_person_of_the_unit_approves(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network)
    for approver in ("vt_bnv", "bm_bnv", "head_hcm", "nobody", "admin"):
        err = refused(snapshot, "copy_approver_not_entitled", lambda a=approver: copy(
            ctx, network, original.number, approved_by=a))
        assert approver in err.message_local
    head = network["head_bnv"]
    head.is_active = False
    ctx.session.commit()
    refused(snapshot, "copy_approver_not_entitled",
            lambda: copy(ctx, network, original.number))
    head.is_active = True
    ctx.session.commit()
    # once the unit names its approvers, only they may allow copies, not its heads
    add_approver(ctx, None, "BNV", "bm_bnv")
    assert [u.username for u in entitled_approvers(ctx, network["vt_bnv"].unit_id)] == [
        "bm_bnv"]
    refused(snapshot, "copy_approver_not_entitled",
            lambda: copy(ctx, network, original.number))
    (c,) = copy(ctx, network, original.number, approved_by="bm_bnv")
    assert c.copy_approved_by_id == network["bm_bnv"].id
    remove_approver(ctx, None, "BNV", "bm_bnv")
    assert ctx.session.execute(select(func.count()).select_from(CopyApprover)).scalar() == 0
    copy(ctx, network, original.number)


def test_approvers_are_configured_by_an_administrator_for_people_of_the_unit(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    refused(snapshot, "forbidden", lambda: add_approver(ctx, network["vt_bnv"], "BNV", "vt_bnv"))
    refused(snapshot, "wrong_unit", lambda: add_approver(ctx, None, "BNV", "vt_hcm"))
    refused(snapshot, "unknown_unit", lambda: add_approver(ctx, None, "NOPE", "vt_bnv"))
    row = add_approver(ctx, network["admin"], "BNV", "vt_bnv")
    assert add_approver(ctx, None, "BNV", "vt_bnv").id == row.id
    refused(snapshot, "unknown_user", lambda: remove_approver(ctx, None, "BNV", "bm_bnv"))


def test_bad_counts_methods_and_dates_are_refused(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    original = register(ctx, network)
    for count in (0, 100, -1):
        err = refused(snapshot, "invalid_field",
                      lambda n=count: copy(ctx, network, original.number, count=n))
        assert err.details["field"] == "count"
    refused(snapshot, "invalid_field",
            lambda: copy(ctx, network, original.number, method="fax"))
    refused(snapshot, "invalid_field", lambda: copy(
        ctx, network, original.number, approved_on=date(2026, 11, 23) + timedelta(days=1)))
    refused(snapshot, "unknown_unit",
            lambda: copy(ctx, network, original.number, recipient_unit_code="NOPE"))
    refused(snapshot, "invalid_field",
            lambda: copy(ctx, network, original.number, recipient_unit_code="BC-HN"))


# ------------------------------------------------------------------ the copy register


def test_the_copy_register_lists_the_units_copies_and_only_to_its_people(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network)
    copy(ctx, network, original.number, count=2)
    unit, lines = copy_register(ctx, network["vt_bnv"])
    assert unit.code == "BNV"
    assert [(ln.register_no, ln.label) for ln in lines] == [
        ("1/2026", "Bản số 1/2"), ("2/2026", "Bản số 2/2")]
    assert lines[0].original is not None and lines[0].original.number == original.number
    assert lines[0].approver is not None and lines[0].approver.username == "head_bnv"
    assert lines[0].made_by is not None and lines[0].made_by.username == "vt_bnv"
    assert copy_register(ctx, network["bm_bnv"])[1] == lines
    assert copy_register(ctx, network["vt_hcm"])[1] == []
    with pytest.raises(KT1Error) as exc:
        copy_register(ctx, network["vt_hcm"], "BNV")
    assert exc.value.slug == "unknown_unit"
    with pytest.raises(KT1Error) as exc:
        copy_register(ctx, network["gd_hn"])
    assert exc.value.slug == "forbidden"
    assert len(copy_register(ctx, None, "BNV")[1]) == 2
    assert network["vt_bnv"].role is Role.REGISTRY_CLERK

