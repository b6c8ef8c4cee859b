"""Paper receipts bound to paper that exists (issue 11; docs/access.md, "both sides present";
docs/rules.md, rule A8).

A paper receipt for a handoff other than an acceptance names an internal handover sheet
(phiếu chuyển giao nội bộ) of the receiving unit, for the signer, printed, marked signed,
with the envelope's line ticked. Anything else is refused with nothing written, and the
verifier flags such a link when it is stored anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from kt1.errors import (
    ForbiddenError,
    KT1Error,
    PaperReceiptUnboundError,
    SheetStateError,
    UnknownSheetError,
    UnknownUserError,
    ValidationError,
)
from kt1.models import Envelope, Handoff
from kt1.models.enums import AckMethod, Authority, EventKind
from kt1.models.handover import SheetStatus
from kt1.models.paper import InternalSheet, SheetKind, SheetPrint
from kt1.services import custody, sheets
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.handover import prepare_sheet
from kt1.services.paper import note_print, paper_sheets
from kt1.services.verify import verify
from tests.conftest import Clock, Network, new_scan
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def arrived(ctx: Ctx, net: Network, clock: Clock, **kw: Any) -> Envelope:
    """An envelope BNV sent to UBND-HCM, entered in its incoming register (held by vt_hcm)."""
    envelope = register(ctx, net, **kw)
    carry(ctx, net, clock, envelope, until="arrived")
    return envelope


def signed_sheet(ctx: Ctx, net: Network, numbers: list[str], receiver: str = "cv_hcm",
                 tick: list[str] | None = None, giver: str = "vt_hcm") -> InternalSheet:
    sheet = sheets.prepare_internal_sheet(ctx, net[giver], receiver, numbers)
    note_print(ctx, net[giver], sheet)
    return sheets.mark_signed(ctx, net[receiver], sheet.number,
                              numbers if tick is None else tick)


def pass_on_paper(ctx: Ctx, net: Network, clock: Clock, number: str, reference: str,
                  receiver: str = "cv_hcm", actor: str = "vt_hcm") -> custody.Recorded:
    return custody.pass_to_addressee(
        ctx, net[actor], number, net[receiver],
        Receipt(user=net[receiver], method=AckMethod.PAPER, reference=reference),
        new_scan(), clock.tick(), authority=Authority.ADDRESSEE)


def refused(ctx: Ctx, snapshot: Snapshot, run: Callable[[], Any]) -> KT1Error:
    before = snapshot()
    with pytest.raises(KT1Error) as info:
        run()
    ctx.session.rollback()
    assert snapshot() == before, "a refused request wrote something"
    return info.value


def test_a_signed_and_ticked_internal_sheet_is_a_valid_paper_receipt(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = arrived(ctx, network, clock)
    sheet = signed_sheet(ctx, network, [envelope.number])
    assert sheet.status is SheetStatus.SIGNED and sheet.signed_by_id == network["cv_hcm"].id
    assert sheet.lines[0].ticked_at is not None
    recorded = pass_on_paper(ctx, network, clock, envelope.number, sheet.number.lower() + " ")
    assert recorded.handoff.ack_method is AckMethod.PAPER
    (report,) = verify(ctx, [envelope.number])
    assert report.status == "complete" and report.findings == [], report.to_dict()


def test_the_refusals_write_nothing_and_another_units_sheet_reads_as_none(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = arrived(ctx, network, clock)
    other = arrived(ctx, network, clock)
    number = envelope.number

    def attempt(reference: str, receiver: str = "cv_hcm") -> PaperReceiptUnboundError:
        exc = refused(ctx, snapshot, lambda: pass_on_paper(ctx, network, clock, number,
                                                           reference, receiver))
        assert isinstance(exc, PaperReceiptUnboundError), exc
        return exc

    # free text, and a number no sheet has
    nothing = attempt("xyz")
    assert nothing.slug == "paper_receipt_unbound" and nothing.details == {"why": "unknown"}
    assert "xyz" not in nothing.message and "xyz" not in nothing.message_local
    assert attempt("CG-UBND-HCM-2026-09999").to_dict() == nothing.to_dict()
    # a sheet of another unit: the same answer as a number that does not exist
    mine = register(ctx, network, clerk="vt_bnv", recipient="UBND-HN")
    foreign = sheets.prepare_internal_sheet(ctx, network["vt_bnv"], "head_bnv", [mine.number])
    note_print(ctx, network["vt_bnv"], foreign)
    sheets.mark_signed(ctx, network["head_bnv"], foreign.number, [mine.number])
    assert attempt(foreign.number).to_dict() == nothing.to_dict()
    # a post-office sheet (bảng kê giao) is no receipt for a handoff inside a unit
    outgoing = register(ctx, network, clerk="vt_hcm", recipient="BNV")
    post = prepare_sheet(ctx, network["vt_hcm"], [outgoing.number], "BC-HCM")
    assert attempt(post.number).details == {"why": "post_office_sheet"}
    # an unsigned sheet (printed, not yet marked)
    unsigned = sheets.prepare_internal_sheet(ctx, network["vt_hcm"], "cv_hcm", [number])
    note_print(ctx, network["vt_hcm"], unsigned)
    assert attempt(unsigned.number).details == {"why": "unsigned"}
    sheets.cancel_internal_sheet(ctx, network["vt_hcm"], unsigned.number)
    # a sheet that does not list the item
    elsewhere = signed_sheet(ctx, network, [other.number])
    assert attempt(elsewhere.number).details == {"why": "not_listed"}
    # a line not ticked
    both = signed_sheet(ctx, network, [number, other.number], tick=[other.number])
    assert attempt(both.number).details == {"why": "not_ticked"}
    # a sheet made out to someone else
    assert attempt(both.number, receiver="head_hcm").details == {"why": "other_receiver"}
    # ticked now: accepted
    sheets.mark_signed(ctx, network["vt_hcm"], both.number, [number])
    pass_on_paper(ctx, network, clock, number, both.number)


def test_the_api_messages_name_why_in_vietnamese() -> None:
    exc = PaperReceiptUnboundError(why="not_ticked")
    assert exc.to_dict()["error"] == "paper_receipt_unbound"
    assert "chưa được đánh dấu" in exc.message_local and "not ticked" in exc.message
    assert PaperReceiptUnboundError(why="anything").details == {"why": "unknown"}


def test_making_and_marking_a_sheet_is_for_the_unit_and_needs_a_print(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    envelope = arrived(ctx, network, clock)
    number = envelope.number
    # the receiver is of the same unit: another unit's user reads as unknown
    assert isinstance(refused(ctx, snapshot, lambda: sheets.prepare_internal_sheet(
        ctx, network["vt_hcm"], "vt_bnv", [number])), UnknownUserError)
    # only what the maker holds
    assert refused(ctx, snapshot, lambda: sheets.prepare_internal_sheet(
        ctx, network["cv_hcm"], "head_hcm", [number])).slug in (
        "not_current_holder", "unknown_envelope")
    sheet = sheets.prepare_internal_sheet(ctx, network["vt_hcm"], "cv_hcm", [number])
    # another unit does not see the sheet at all
    for user in ("vt_bnv", "bm_bnv", "gd_hcm"):
        exc = refused(ctx, snapshot, lambda u=user: sheets.mark_signed(
            ctx, network[u], sheet.number, [number]))
        assert isinstance(exc, UnknownSheetError), (user, exc)
        assert exc.to_dict() == UnknownSheetError(number=sheet.number).to_dict()
    # not printed yet: nothing to mark
    assert isinstance(refused(ctx, snapshot, lambda: sheets.mark_signed(
        ctx, network["cv_hcm"], sheet.number, [number])), SheetStateError)
    note_print(ctx, network["vt_hcm"], sheet)
    # a colleague who is neither the receiver nor a registry clerk
    assert isinstance(refused(ctx, snapshot, lambda: sheets.mark_signed(
        ctx, network["bm_hcm"], sheet.number, [number])), ForbiddenError)
    # a line that is not on the sheet
    stray = register(ctx, network, clerk="vt_hcm", recipient="BNV").number
    assert isinstance(refused(ctx, snapshot, lambda: sheets.mark_signed(
        ctx, network["cv_hcm"], sheet.number, [stray])), ValidationError)
    done = sheets.mark_signed(ctx, network["cv_hcm"], sheet.number, [number])
    assert done.status is SheetStatus.SIGNED


def test_every_print_is_recorded_with_the_items_listed_then(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = arrived(ctx, network, clock)
    sheet = sheets.prepare_internal_sheet(ctx, network["vt_hcm"], "cv_hcm", [envelope.number])
    note_print(ctx, network["vt_hcm"], sheet)
    clock.tick()
    note_print(ctx, network["cv_hcm"], sheet)
    prints = ctx.session.execute(select(SheetPrint).order_by(SheetPrint.id)).scalars().all()
    assert [(p.kind, p.sheet_number, p.printed_by_id, p.items) for p in prints] == [
        (SheetKind.INTERNAL, sheet.number, network["vt_hcm"].id, [envelope.number]),
        (SheetKind.INTERNAL, sheet.number, network["cv_hcm"].id, [envelope.number])]
    assert prints[0].printed_at < prints[1].printed_at


def test_pass_by_sheet_records_each_ticked_line_signed_on_paper(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    first, second = arrived(ctx, network, clock), arrived(ctx, network, clock)
    sheet = signed_sheet(ctx, network, [first.number, second.number], tick=[first.number])
    passed = sheets.pass_by_sheet(ctx, network["vt_hcm"], sheet.number)
    assert passed == [first.number]
    last = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == first.id)
                               .order_by(Handoff.seq.desc()).limit(1)).scalar_one()
    assert (last.kind, last.ack_method, last.ack_reference, last.to_user_id) == (
        EventKind.PASSED_TO_ADDRESSEE, AckMethod.PAPER, sheet.number, network["cv_hcm"].id)
    reports = {r.number: r for r in verify(ctx, [first.number, second.number])}
    assert reports[first.number].findings == []


def test_the_verifier_flags_a_stored_paper_link_bound_to_no_sheet(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = arrived(ctx, network, clock)
    sheet = signed_sheet(ctx, network, [envelope.number])
    pass_on_paper(ctx, network, clock, envelope.number, sheet.number)
    (clean,) = verify(ctx, [envelope.number])
    assert clean.findings == []
    # the sheet's tick is taken back behind the system's back: the link is no longer bound
    line = sheet.lines[0]
    line.ticked_at = None
    ctx.session.commit()
    (report,) = verify(ctx, [envelope.number])
    assert [(f.code, f.seq) for f in report.findings] == [("paper_receipt_unbound", 10)], (
        report.to_dict())
    assert report.status == "broken"


def test_a_paper_acceptance_names_the_post_office_sheet_and_verifies_clean(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    sheet = prepare_sheet(ctx, network["vt_bnv"], [envelope.number], "BC-HN")
    custody.accept_at_counter(
        ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
        Receipt(user=network["gd_hn"], method=AckMethod.PAPER, reference=sheet.number),
        new_scan(), clock.tick())
    (report,) = verify(ctx, [envelope.number])
    assert report.findings == [], report.to_dict()
    facts = paper_sheets(ctx.session, [sheet.number])[sheet.number]
    assert not facts.internal and facts.listed == {str(envelope.id).encode()}
